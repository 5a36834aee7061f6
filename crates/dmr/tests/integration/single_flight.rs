//! Concurrent requests for a cold (tenant, model) compile it once.

use futures_util::future::join_all;
use reqwest::StatusCode;

use crate::support::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_cold_requests_over_http_compile_once() {
    let server = TestServer::start().await;
    let requests = (0..300).map(|_| server.get("/api/models/cold/Order"));
    for (status, body) in join_all(requests).await {
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["collectionName"], "orders");
    }
    let registry = &server.stats().await["registry"];
    assert_eq!(registry["modelCreations"], 1, "{registry}");
    assert_eq!(registry["errors"], 0);
}
