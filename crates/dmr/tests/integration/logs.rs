//! Logs go where the seed's go: LOG_DIR/combined.log and LOG_DIR/error.log, JSON lines,
//! with the request id on every line of a request.

use std::time::{Duration, Instant};

use crate::support::TestServer;

#[tokio::test]
async fn combined_log_has_json_lines_with_request_ids_and_error_log_exists() {
    let server = TestServer::start().await;
    let response = server
        .client
        .get(format!("{}/api/models/acme/User", server.base))
        .header("x-request-id", "req-test-42")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["x-request-id"],
        "req-test-42",
        "the id is echoed back"
    );

    let combined = server.log_dir().join("combined.log");
    let started = Instant::now();
    let line = loop {
        let text = std::fs::read_to_string(&combined).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains("model compiled")) {
            break line.to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no compile line in {text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let entry: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(entry["level"], "INFO");
    assert_eq!(entry["fields"]["tenant"], "acme");
    assert_eq!(entry["fields"]["model"], "User");
    assert_eq!(entry["span"]["request_id"], "req-test-42");
    assert!(server.log_dir().join("error.log").exists());
}
