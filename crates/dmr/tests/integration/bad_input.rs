//! Bad input gets a 4xx JSON error in the seed's shape and touches nothing on disk.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::TestServer;

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    let error = &body["error"];
    assert_eq!(error["status"], expected.as_u16(), "{body}");
    assert_eq!(error["code"], code, "{body}");
    assert!(!error["message"].as_str().unwrap().is_empty());
    assert!(error["timestamp"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn bad_tenant_ids_are_400_on_every_tenant_route_and_create_nothing() {
    let server = TestServer::start().await;
    let too_long = "x".repeat(49);
    // (`..` itself never reaches us: HTTP clients resolve dot segments before sending.)
    let bad_ids = [
        "a.b",
        "a%20b",
        "a..b",
        "caf%C3%A9",
        "a$b",
        "a%2Fb",
        too_long.as_str(),
        "cache",
        "health",
    ];
    for id in bad_ids {
        let routes = [
            (Method::GET, format!("/api/models/{id}/User")),
            (Method::POST, format!("/api/models/{id}/test")),
            (Method::DELETE, format!("/api/models/cache/{id}")),
            (Method::DELETE, format!("/api/models/connection/{id}")),
        ];
        for (method, path) in routes {
            let (status, body) = server.request(method.clone(), &path, None).await;
            if id == "cache" && method != Method::DELETE {
                // `/api/models/cache/...` is the cache route, which only takes DELETE.
                assert_error(
                    status,
                    &body,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                );
                continue;
            }
            assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_tenant_id");
        }
        if !["cache", "health"].contains(&id) {
            let (status, body) = server.get(&format!("/api/models/{id}")).await;
            assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_tenant_id");
        }
    }
    assert_eq!(
        server
            .data_files()
            .iter()
            .filter(|f| f.starts_with("tenant_"))
            .count(),
        0,
        "{:?}",
        server.data_files()
    );
    assert_eq!(server.stats().await["connections"]["totalConnections"], 0);
}

#[tokio::test]
async fn unknown_and_malformed_model_names() {
    let server = TestServer::start().await;
    let (status, body) = server.get("/api/models/acme/Invoice").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "model_not_found");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Invoice")
    );

    let (status, body) = server.get("/api/models/acme/9lives").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_model_name");

    let (status, body) = server
        .post("/api/models/acme/test", r#"{"modelName":"Invoice"}"#)
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "model_not_found");

    assert!(
        !server.data_files().iter().any(|f| f.starts_with("tenant_")),
        "an unknown model provisions no tenant: {:?}",
        server.data_files()
    );
}

#[tokio::test]
async fn bad_test_bodies() {
    let server = TestServer::start().await;
    let cases = [
        (
            r#"{"modelName":"User","operation":"drop"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_operation",
        ),
        (
            r#"{"modelName":"User","operation":"#,
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        ("not json", StatusCode::BAD_REQUEST, "invalid_json"),
        (r#"[1,2]"#, StatusCode::BAD_REQUEST, "invalid_body"),
        (
            r#"{"modelName":42}"#,
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            r#"{"operation":["count"]}"#,
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            r#"{"modelName":"../etc"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_model_name",
        ),
    ];
    for (body_text, expected, code) in cases {
        let (status, body) = server.post("/api/models/acme/test", body_text).await;
        assert_error(status, &body, expected, code);
    }
    assert!(!server.data_files().iter().any(|f| f.starts_with("tenant_")));
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let server = TestServer::builder()
        .env("BODY_LIMIT_BYTES", "1024")
        .start()
        .await;
    let big = format!(r#"{{"modelName":"User","pad":"{}"}}"#, "x".repeat(4096));
    let (status, body) = server.post("/api/models/acme/test", &big).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let server = TestServer::start().await;
    let (status, body) = server.get("/nope").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "route_not_found");
    let (status, body) = server.get("/api/models/acme/User/extra").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "route_not_found");
    let (status, body) = server
        .request(Method::PUT, "/api/models/schemas", None)
        .await;
    assert_error(
        status,
        &body,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    let (status, body) = server.request(Method::DELETE, "/health", None).await;
    assert_error(
        status,
        &body,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
}
