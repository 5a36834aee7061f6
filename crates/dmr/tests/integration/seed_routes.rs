//! Every seed route: status and JSON fields as the Node registry returns them
//! (PRODUCT.md, "Seed compatibility contract").

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::TestServer;

fn assert_fields(body: &Value, fields: &[&str]) {
    for field in fields {
        assert!(body.get(field).is_some(), "missing {field:?} in {body}");
    }
}

#[tokio::test]
async fn root_and_liveness() {
    let server = TestServer::start().await;

    let (status, body) = server.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert_fields(&body, &["name", "version", "status", "endpoints"]);
    assert_eq!(body["status"], "running");

    let (status, body) = server.get("/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_fields(
        &body,
        &["status", "timestamp", "uptime", "environment", "pid"],
    );
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["environment"], "test");
    assert_eq!(body["pid"], server.pid());
    assert!(body["uptime"].as_f64().unwrap() >= 0.0);
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn deep_health_and_schemas() {
    let server = TestServer::start().await;

    let (status, body) = server.get("/api/models/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["checks"]["cache"]["l1"]["status"], "healthy");
    assert_eq!(body["checks"]["cache"]["l2"]["status"], "disabled");
    assert!(body["checks"]["connections"].is_object());
    let backend = if crate::support::server::mongodb_run() {
        "mongodb"
    } else {
        "sqlite"
    };
    assert_eq!(body["checks"]["store"]["backend"], backend);

    let (status, body) = server.get("/api/models/schemas").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["count"], 3);
    assert_eq!(
        body["schemas"],
        serde_json::json!(["Order", "Product", "User"])
    );
}

#[tokio::test]
async fn tenant_models_compile_into_a_tenant_database_with_indexes() {
    let server = TestServer::start().await;

    let (status, body) = server.get("/api/models/acme").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_fields(&body, &["tenantId", "models", "count", "retrievalTime"]);
    assert_eq!(body["tenantId"], "acme");
    assert_eq!(body["count"], 3);
    assert_eq!(
        body["models"],
        serde_json::json!(["Order", "Product", "User"])
    );
    assert!(body["retrievalTime"].as_str().unwrap().ends_with("ms"));
    assert_eq!(body["failed"], serde_json::json!([]));

    let (status, body) = server.get("/api/models/acme/Product").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["tenantId"], "acme");
    assert_eq!(body["modelName"], "Product");
    assert_eq!(body["exists"], true);
    assert_eq!(body["collectionName"], "products");
    assert_eq!(body["databaseName"], "tenant_acme");

    // The tenant's own file, with one table per collection and the model's indexes.
    let db = rusqlite::Connection::open(server.tenant_file("acme")).unwrap();
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%$text%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(tables, ["orders", "products", "users"]);
    let unique_sql: String = db
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'users.email_1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        unique_sql.starts_with("CREATE UNIQUE INDEX"),
        "{unique_sql}"
    );
    let journal: String = db
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "wal");
}

#[tokio::test]
async fn unique_indexes_are_enforced_by_the_tenant_database() {
    let server = TestServer::start().await;
    let (status, _) = server.get("/api/models/acme/User").await;
    assert_eq!(status, StatusCode::OK);
    let db = rusqlite::Connection::open(server.tenant_file("acme")).unwrap();
    let insert = "INSERT INTO users (_id, doc) VALUES (?1, jsonb(?2))";
    db.execute(insert, ["a", r#"{"email":"x@y.z","username":"a"}"#])
        .unwrap();
    let duplicate = db.execute(insert, ["b", r#"{"email":"x@y.z","username":"b"}"#]);
    assert!(
        duplicate.unwrap_err().to_string().contains("UNIQUE"),
        "a second user with the same email is refused"
    );
}

#[tokio::test]
async fn test_operations_count_find_one_and_find_first_ten() {
    let server = TestServer::start().await;

    let (status, body) = server
        .post(
            "/api/models/shop/test",
            r#"{"modelName":"Product","operation":"count"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"tenantId":"shop","modelName":"Product","operation":"count","result":0})
    );

    let (_, body) = server
        .post(
            "/api/models/shop/test",
            r#"{"modelName":"Product","operation":"findOne"}"#,
        )
        .await;
    assert_eq!(body["result"], Value::Null);

    // Documents written straight into the tenant's file are what the operations read.
    let db = rusqlite::Connection::open(server.tenant_file("shop")).unwrap();
    for i in 0..12 {
        db.execute(
            "INSERT INTO products (_id, doc) VALUES (?1, jsonb(?2))",
            [
                format!("p{i:02}"),
                format!(r#"{{"_id":"p{i:02}","sku":"SKU-{i}"}}"#),
            ],
        )
        .unwrap();
    }

    let (_, body) = server
        .post(
            "/api/models/shop/test",
            r#"{"modelName":"Product","operation":"count"}"#,
        )
        .await;
    assert_eq!(body["result"], 12);
    let (_, body) = server
        .post(
            "/api/models/shop/test",
            r#"{"modelName":"Product","operation":"findOne"}"#,
        )
        .await;
    assert_eq!(body["result"]["sku"], "SKU-0");
    let (_, body) = server
        .post(
            "/api/models/shop/test",
            r#"{"modelName":"Product","operation":"find"}"#,
        )
        .await;
    let found = body["result"].as_array().unwrap();
    assert_eq!(found.len(), 10, "find returns the first 10");
    assert_eq!(found[9]["sku"], "SKU-9");

    // The seed's defaults: modelName User, operation count, also for an empty body.
    let (status, body) = server.post("/api/models/shop/test", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["modelName"].as_str(), body["operation"].as_str()),
        (Some("User"), Some("count"))
    );
}

#[tokio::test]
async fn cache_and_connection_routes() {
    let server = TestServer::start().await;
    server.get("/api/models/acme/User").await;

    let (status, body) = server.delete("/api/models/cache/acme").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        serde_json::json!({"message":"Cache invalidated successfully","tenantId":"acme"})
    );

    let (status, body) = server.delete("/api/models/cache").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        serde_json::json!({"message":"All cache entries invalidated successfully"})
    );

    let (status, body) = server.delete("/api/models/connection/acme").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["message"], "Connection closed successfully");
    assert_eq!(body["tenantId"], "acme");
    assert_eq!(body["closed"], true);
    assert_eq!(server.stats().await["connections"]["totalConnections"], 0);

    // Closed on demand, reopened on next use.
    let (status, body) = server
        .post("/api/models/acme/test", r#"{"operation":"count"}"#)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(server.stats().await["connections"]["totalConnections"], 1);
}

#[tokio::test]
async fn stats_have_the_seed_fields_and_count_l1_hits_as_l1() {
    let server = TestServer::start().await;
    for _ in 0..3 {
        let (status, _) = server.get("/api/models/acme/User").await;
        assert_eq!(status, StatusCode::OK);
    }
    let stats = server.stats().await;
    let registry = &stats["registry"];
    assert_fields(
        registry,
        &[
            "registeredSchemas",
            "schemas",
            "activeLocks",
            "cacheHits",
            "cacheMisses",
            "modelCreations",
            "errors",
        ],
    );
    assert_eq!(registry["registeredSchemas"], 3);
    assert_eq!(registry["modelCreations"], 1);
    assert_eq!(registry["cacheMisses"], 1);
    assert_eq!(
        registry["cacheHits"]["l1"], 2,
        "hits in L1 are counted as L1"
    );
    assert_eq!(registry["cacheHits"]["l2"], 0);
    assert_eq!(registry["activeLocks"], 0);
    assert_eq!(registry["latency"]["compile"]["samples"], 1);
    assert_eq!(registry["latency"]["load"]["samples"], 1);
    assert!(registry["latency"]["compile"]["maxMs"].as_f64().unwrap() > 0.0);

    assert_fields(&stats["cache"]["l1"], &["size", "maxSize"]);
    assert_eq!(stats["cache"]["l1"]["size"], 1);
    assert_eq!(stats["cache"]["l1"]["maxSize"], 500);
    assert_fields(&stats["cache"]["l2"], &["connected", "keyCount"]);
    assert_eq!(stats["cache"]["l2"]["connected"], false);

    let connections = &stats["connections"];
    assert_eq!(connections["totalConnections"], 1);
    let first = &connections["connections"][0];
    assert_fields(
        first,
        &["tenantId", "readyStateString", "lastUsed", "idleTime"],
    );
    assert_eq!(first["tenantId"], "acme");
    assert_eq!(first["readyStateString"], "connected");
}
