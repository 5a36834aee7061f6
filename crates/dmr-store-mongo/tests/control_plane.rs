//! The control database as an earlier release left it: schema versions recorded before
//! they were numbered are numbered in the order they were recorded, and new ones follow.

use dmr_store::Backend;
use dmr_store_mongo::{MongoBackend, MongoConfig};
use dmr_test_services::SecantusServer;
use mongodb::bson::{DateTime, doc};

#[tokio::test]
async fn versions_from_before_the_numbers_are_numbered_in_recorded_order() {
    let server = SecantusServer::start().await;
    let client = mongodb::Client::with_uri_str(server.uri()).await.unwrap();
    let old = client
        .database("dmr_control")
        .collection::<mongodb::bson::Document>("schema_versions");
    let at = |ms: i64| DateTime::from_millis(ms);
    old.insert_many([
        doc! { "_id": "User:bbbb", "model": "User", "fingerprint": "bbbb",
        "definition": r#"{"v":2}"#, "recordedAt": at(2_000) },
        doc! { "_id": "User:aaaa", "model": "User", "fingerprint": "aaaa",
        "definition": r#"{"v":1}"#, "recordedAt": at(1_000) },
        doc! { "_id": "Order:cccc", "model": "Order", "fingerprint": "cccc",
        "definition": r#"{"v":1}"#, "recordedAt": at(3_000) },
    ])
    .await
    .unwrap();

    let backend = MongoBackend::connect(MongoConfig::new(server.uri()))
        .await
        .unwrap();
    let users = backend.schema_versions("User").await.unwrap();
    let numbered: Vec<(u32, &str)> = users
        .iter()
        .map(|v| (v.version, v.fingerprint.as_str()))
        .collect();
    assert_eq!(numbered, [(1, "aaaa"), (2, "bbbb")]);
    assert_eq!(users[0].accepted_at, "1970-01-01T00:00:01.000Z");
    assert!(
        backend
            .record_schema_version("User", "dddd", &serde_json::json!({"v": 3}))
            .await
            .unwrap()
    );
    assert_eq!(backend.schema_versions("User").await.unwrap()[2].version, 3);
    assert_eq!(
        backend.schema_versions("Order").await.unwrap()[0].version,
        1
    );
}
