//! The connection manager over HTTP: idle tenants close by themselves, the number of open
//! tenants stays within MAX_OPEN_TENANTS, and a closed tenant reopens on next use.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::TestServer;

fn open_tenants(stats: &Value) -> Vec<String> {
    stats["connections"]["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["tenantId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn idle_tenant_stores_are_closed_by_the_sweeper() {
    let server = TestServer::builder()
        .env("TENANT_IDLE_TIMEOUT_MS", "300")
        .env("TENANT_IDLE_CHECK_INTERVAL_MS", "100")
        .start()
        .await;
    let (status, _) = server.get("/api/models/sleepy/User").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(open_tenants(&server.stats().await), ["sleepy"]);

    let started = Instant::now();
    while !open_tenants(&server.stats().await).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the idle tenant was never closed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(server.logged("closed idle tenant store").await);

    // Its cached models went with it: the next request compiles again and works.
    let (status, body) = server
        .post("/api/models/sleepy/test", r#"{"operation":"count"}"#)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(server.stats().await["registry"]["modelCreations"], 2);
}

#[tokio::test]
async fn open_tenants_are_bounded_least_recently_used_first() {
    let server = TestServer::builder()
        .env("MAX_OPEN_TENANTS", "2")
        .start()
        .await;
    for tenant in ["t1", "t2"] {
        server.get(&format!("/api/models/{tenant}/User")).await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    server.get("/api/models/t1/User").await; // t2 is now the least recently used
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (status, _) = server.get("/api/models/t3/User").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(open_tenants(&server.stats().await), ["t1", "t3"]);

    // t2 still works: it is reopened (and another tenant closed) on demand.
    let (status, body) = server
        .post("/api/models/t2/test", r#"{"operation":"find"}"#)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(open_tenants(&server.stats().await).len(), 2);
}
