//! Fail-safe: when a refresh fails because the store cannot be reached, the last good
//! compiled model keeps serving for the grace period.

use std::time::Duration;

use reqwest::StatusCode;

use crate::support::TestServer;

#[tokio::test]
async fn the_last_good_compile_serves_while_the_store_is_unreachable() {
    let server = TestServer::builder()
        .env("L1_CACHE_TTL", "200")
        .env("FAIL_SAFE_GRACE_MS", "60000")
        .env("SQLITE_BUSY_TIMEOUT_MS", "100")
        .env("TENANT_IDLE_TIMEOUT_MS", "100")
        .env("TENANT_IDLE_CHECK_INTERVAL_MS", "50")
        .start()
        .await;
    let (status, first) = server.get("/api/models/flaky/User").await;
    assert_eq!(status, StatusCode::OK);

    // The idle sweeper closes the tenant's store (and drops its L1 entry).
    let started = std::time::Instant::now();
    while server.stats().await["connections"]["totalConnections"] != 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the store was never closed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Now the file is locked by someone else: opening it again fails.
    let path = server.tenant_file("flaky");
    let lock = rusqlite::Connection::open(&path).unwrap();
    lock.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
        .unwrap();
    lock.execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;")
        .unwrap();

    let (status, served) = server.get("/api/models/flaky/User").await;
    assert_eq!(status, StatusCode::OK, "{served}");
    assert_eq!(served["fingerprint"], first["fingerprint"]);
    let stats = server.stats().await;
    assert_eq!(stats["registry"]["failSafeServed"], 1);
    assert!(server.logged("serving the last good compiled model").await);

    // A tenant with no good compile yet gets the store's 503.
    let other = server.tenant_file("never");
    let other_lock = rusqlite::Connection::open(&other).unwrap();
    other_lock
        .query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
        .unwrap();
    other_lock
        .execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;")
        .unwrap();
    let (status, body) = server.get("/api/models/never/User").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "store_unavailable");

    drop(lock);
    let (status, _) = server.get("/api/models/flaky/User").await;
    assert_eq!(status, StatusCode::OK);
}
