//! Connections a client holds open: a request head that never ends is cut at
//! `HEADERS_TIMEOUT_MS`, a quiet connection at `KEEP_ALIVE_TIMEOUT_MS`, and past
//! `MAX_CONNECTIONS` new ones wait until one closes, while fresh clients are still served.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::TestServer;

fn address(server: &TestServer) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// Reads until the peer closes (Ok) or `limit` passes (Err: still open).
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Result<(), ()> {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return Err(()),
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(()),
            // A 408 or the like before the close is fine; keep reading to the close.
            Ok(Ok(_)) => continue,
        }
    }
}

/// One keep-alive request on a raw connection; the response head's status.
async fn raw_get(stream: &mut TcpStream, path: &str) -> String {
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    // /health answers a small JSON body with Content-Length; read past the blank line
    // and the body it announces.
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("no response in 5 s")
            .unwrap();
        assert!(
            n > 0,
            "closed mid-response: {:?}",
            String::from_utf8_lossy(&response)
        );
        response.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&response);
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().unwrap())
                })
                .expect("a Content-Length");
            if response.len() >= end + 4 + length {
                return text.lines().next().unwrap().to_owned();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_request_heads_are_cut_at_the_headers_deadline_while_others_are_served() {
    const SLOW_CLIENTS: usize = 400;
    let server = TestServer::builder()
        .env("HEADERS_TIMEOUT_MS", "2000")
        // Off, so that only the header deadline can close the trickling connections.
        .env("KEEP_ALIVE_TIMEOUT_MS", "0")
        .start()
        .await;
    let address = address(&server);
    let started = Instant::now();
    let mut slow = Vec::with_capacity(SLOW_CLIENTS);
    for _ in 0..SLOW_CLIENTS {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n")
            .await
            .unwrap();
        slow.push((stream, Instant::now()));
    }
    // Each keeps sending a header line, as slowloris does, never the blank line.
    let trickle = tokio::spawn(async move {
        for round in 0..40 {
            tokio::time::sleep(Duration::from_millis(400)).await;
            let mut open = 0;
            for (stream, connected) in &mut slow {
                let line = format!("X-Slow-{round}: 1\r\n");
                if stream.write_all(line.as_bytes()).await.is_ok() {
                    open += 1;
                } else {
                    // Well before its deadline, none is closed (a write fails one
                    // write after the close, so this is at most 400 ms late).
                    let age = connected.elapsed();
                    assert!(
                        age > Duration::from_millis(1500),
                        "a slow head was closed {age:?} after connecting; HEADERS_TIMEOUT_MS is 2 s"
                    );
                }
            }
            if open == 0 {
                break;
            }
        }
        slow.into_iter()
            .map(|(stream, _)| stream)
            .collect::<Vec<_>>()
    });

    // Meanwhile a fresh client is served at once.
    let (status, body) = server.get("/health").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let mut slow = trickle.await.unwrap();
    let mut still_open = 0;
    for stream in &mut slow {
        if closed_within(stream, Duration::from_millis(100))
            .await
            .is_err()
        {
            still_open += 1;
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(
        still_open, 0,
        "{still_open} slow heads still open after {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(8),
        "the slow heads took {elapsed:?} to be closed; HEADERS_TIMEOUT_MS is 2 s"
    );
    let (status, _) = server.get("/health").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_quiet_connection_closes_at_the_keep_alive_timeout_and_a_used_one_stays() {
    let server = TestServer::builder()
        .env("KEEP_ALIVE_TIMEOUT_MS", "1000")
        .start()
        .await;
    let address = address(&server);

    // Used every 300 ms for 3 s: the same connection answers every request.
    let mut used = TcpStream::connect(&address).await.unwrap();
    let mut quiet = TcpStream::connect(&address).await.unwrap();
    assert!(raw_get(&mut quiet, "/health").await.contains(" 200 "));
    let quiet_since = Instant::now();
    let quiet_closed = tokio::spawn(async move {
        let closed = closed_within(&mut quiet, Duration::from_secs(5)).await;
        (closed, quiet_since.elapsed())
    });
    for _ in 0..10 {
        let status = raw_get(&mut used, "/health").await;
        assert!(status.contains(" 200 "), "{status}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (closed, after) = quiet_closed.await.unwrap();
    assert_eq!(
        closed,
        Ok(()),
        "the quiet connection is still open after 5 s"
    );
    assert!(
        after >= Duration::from_millis(900),
        "closed after {after:?}, before the 1 s keep-alive timeout"
    );

    // A fresh connection that sends nothing at all is quiet too.
    let mut silent = TcpStream::connect(&address).await.unwrap();
    assert_eq!(
        closed_within(&mut silent, Duration::from_secs(5)).await,
        Ok(()),
        "a connection that never sent a byte is still open"
    );
}

#[tokio::test]
async fn past_max_connections_a_new_one_waits_until_one_closes() {
    const MAX: usize = 16;
    let server = TestServer::builder()
        .env("MAX_CONNECTIONS", MAX.to_string())
        .env("KEEP_ALIVE_TIMEOUT_MS", "0")
        .env("HEADERS_TIMEOUT_MS", "0")
        .start()
        .await;
    let address = address(&server);
    let mut held = Vec::new();
    for _ in 0..MAX {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        // Served, so accepted: each holds one of the MAX slots.
        assert!(raw_get(&mut stream, "/health").await.contains(" 200 "));
        held.push(stream);
    }

    let mut waiting = TcpStream::connect(&address).await.unwrap();
    waiting
        .write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(
        tokio::time::timeout(Duration::from_millis(700), waiting.read(&mut buf))
            .await
            .is_err(),
        "answered with {MAX} connections already open"
    );

    drop(held.pop());
    let n = tokio::time::timeout(Duration::from_secs(5), waiting.read(&mut buf))
        .await
        .expect("still not served 5 s after a connection closed")
        .unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    assert!(
        server.logged("MAX_CONNECTIONS open").await,
        "{}",
        server.output()
    );
}
