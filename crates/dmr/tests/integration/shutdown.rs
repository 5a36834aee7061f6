//! SIGTERM stops new connections, lets every in-flight request finish, then exits 0.
//!
//! To have requests genuinely in flight at the signal, the test holds a write lock on the
//! tenant's SQLite file, so their compile waits on the busy timeout until the test lets go.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::StatusCode;

use crate::support::TestServer;

const IN_FLIGHT: usize = 50;

/// Creates the tenant's database file and takes its write lock.
fn lock_tenant_file(server: &TestServer, tenant: &str) -> rusqlite::Connection {
    let db = rusqlite::Connection::open(server.tenant_file(tenant)).unwrap();
    db.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
        .unwrap();
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    db
}

async fn wait_for_in_flight(server: &TestServer, expected: u64) {
    let started = Instant::now();
    loop {
        // The stats request counts itself.
        let in_flight = server.stats().await["http"]["inFlight"].as_u64().unwrap() - 1;
        if in_flight >= expected {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "only {in_flight} requests in flight"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_burst_fails_no_request() {
    let mut server = TestServer::builder()
        .env("SQLITE_BUSY_TIMEOUT_MS", "20000")
        .start()
        .await;
    let lock = lock_tenant_file(&server, "busy");

    let url = format!("{}/api/models/busy/User", server.base);
    let burst: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let (client, url) = (server.client.clone(), url.clone());
            tokio::spawn(async move {
                let response = client.get(url).send().await?;
                Ok::<_, reqwest::Error>((response.status(), response.text().await?))
            })
        })
        .collect();
    wait_for_in_flight(&server, IN_FLIGHT as u64).await;

    server.signal(libc::SIGTERM);
    let port = server
        .base
        .rsplit(':')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    let refused_since = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_ok()
    {
        assert!(
            refused_since.elapsed() < Duration::from_secs(5),
            "still accepting after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    drop(lock); // rolls back: the waiting compile proceeds
    for result in join_all(burst).await {
        let (status, body) = result.unwrap().expect("an in-flight request failed");
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(
        server.wait(Duration::from_secs(15)).await,
        Some(0),
        "{}",
        server.output()
    );
    assert!(
        server.output().contains("in-flight requests drained"),
        "{}",
        server.output()
    );
}

#[tokio::test]
async fn shutdown_waits_no_longer_than_its_timeout() {
    let mut server = TestServer::builder()
        .env("SQLITE_BUSY_TIMEOUT_MS", "30000")
        .env("SHUTDOWN_TIMEOUT_MS", "300")
        .start()
        .await;
    let _lock = lock_tenant_file(&server, "stuck");
    let url = format!("{}/api/models/stuck/User", server.base);
    let client = server.client.clone();
    let stuck = tokio::spawn(async move { client.get(url).send().await });
    wait_for_in_flight(&server, 1).await;

    let signalled = Instant::now();
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait(Duration::from_secs(10)).await, Some(0));
    assert!(
        signalled.elapsed() < Duration::from_secs(5),
        "exit took {:?}",
        signalled.elapsed()
    );
    assert!(
        server.output().contains("shutdown timeout reached"),
        "{}",
        server.output()
    );
    stuck.abort();
}

#[tokio::test]
async fn a_sigterm_during_start_up_is_a_clean_exit() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = TestServer::builder()
        .command(dir.path())
        .spawn()
        .expect("spawning dmr");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // The settings are logged once the signal handlers are in place, before the stores
    // open and anything is served.
    loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("no settings line within 30 s")
            .unwrap()
            .expect("dmr exited before logging its settings");
        if line.contains("configuration") {
            break;
        }
    }
    let pid = child.id().expect("dmr is running") as i32;
    // SAFETY: kill(2) on the child's pid, which the test owns and has not reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let drain = tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("dmr did not exit within 15 s of SIGTERM")
        .unwrap();
    drain.abort();
    assert_eq!(
        status.code(),
        Some(0),
        "killed by the signal rather than shut down"
    );
}
