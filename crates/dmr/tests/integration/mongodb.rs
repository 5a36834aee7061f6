//! The MongoDB store through the real binary, against a real MongoDB wire-protocol server
//! (SecantusDB): data shaped exactly as the Node registry leaves it, an outage under load,
//! the shared pool in stats and health, a tenant on a dedicated deployment. The generic
//! HTTP suites also run against MongoDB (`DMR_TEST_BACKEND=mongodb`, see scripts/test.sh).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mongodb::bson::{Bson, DateTime, Document, doc, oid::ObjectId};
use mongodb::options::IndexOptions;
use mongodb::{Client, IndexModel};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestServer;
use crate::support::services::SecantusServer;

async fn driver(server: &SecantusServer) -> Client {
    Client::with_uri_str(server.uri()).await.unwrap()
}

async fn serve(mongo: &SecantusServer) -> TestServer {
    TestServer::builder()
        .env("MONGODB_URI", mongo.uri())
        .env("MONGODB_POOL_SIZE", "7")
        .env("MONGODB_TIMEOUT_MS", "1500")
        .start()
        .await
}

/// What Mongoose 8 creates for the seed's User model (`autoIndex`): field-level indexes
/// in field order, then the schema-level ones, each with Mongoose's `background: true`.
fn mongoose_user_indexes() -> Vec<IndexModel> {
    let index = |keys: Document, name: &str, unique: bool| {
        #[allow(deprecated, reason = "Mongoose still sends it; the server ignores it")]
        let options = IndexOptions::builder()
            .name(name.to_owned())
            .unique(unique.then_some(true))
            .background(true)
            .build();
        IndexModel::builder().keys(keys).options(options).build()
    };
    vec![
        index(doc! {"email": 1}, "email_1", true),
        index(doc! {"username": 1}, "username_1", true),
        index(doc! {"role": 1}, "role_1", false),
        index(doc! {"isActive": 1}, "isActive_1", false),
        index(
            doc! {"email": 1, "isActive": 1},
            "email_1_isActive_1",
            false,
        ),
        index(doc! {"createdAt": -1}, "createdAt_-1", false),
    ]
}

fn node_user(n: i64, created: DateTime) -> Document {
    doc! {
        "_id": ObjectId::new(),
        "email": format!("node{n}@example.com"),
        "username": format!("node{n}"),
        "firstName": "Grace",
        "lastName": format!("H{n}"),
        "role": "user",
        "isActive": true,
        "lastLogin": Bson::Null,
        "metadata": {"source": "node", "visits": n},
        "createdAt": created,
        "updatedAt": created,
        "__v": 0,
    }
}

async fn index_names(client: &Client, db: &str, collection: &str) -> Vec<String> {
    let mut names = client
        .database(db)
        .collection::<Document>(collection)
        .list_index_names()
        .await
        .unwrap();
    names.sort();
    names
}

#[tokio::test]
async fn a_database_the_node_registry_left_is_served_as_it_is() {
    let mongo = SecantusServer::start().await;
    let client = driver(&mongo).await;
    let users = client
        .database("tenant_acme")
        .collection::<Document>("users");
    users.create_indexes(mongoose_user_indexes()).await.unwrap();
    let day = |d: i64| DateTime::from_millis(1_700_000_000_000 + d * 86_400_000);
    let written: Vec<Document> = (0..3).map(|n| node_user(n, day(n))).collect();
    users.insert_many(written.clone()).await.unwrap();
    let before = index_names(&client, "tenant_acme", "users").await;

    let server = serve(&mongo).await;
    let (status, model) = server
        .send(Method::GET, "/api/models/acme/User", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{model}");
    assert_eq!(model["indexErrors"], json!([]), "{model}");
    assert_eq!(
        index_names(&client, "tenant_acme", "users").await,
        before,
        "compiling found every index Mongoose made: none added, none duplicated"
    );

    // Node's documents read as the Node registry returns them.
    let first = &written[0];
    let id = first.get_object_id("_id").unwrap().to_hex();
    let (status, doc) = server
        .send(
            Method::GET,
            &format!("/api/models/acme/User/documents/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["_id"], json!(id));
    assert_eq!(doc["createdAt"], json!("2023-11-14T22:13:20.000Z"));
    assert_eq!(doc["lastLogin"], Value::Null);
    assert_eq!(doc["metadata"], json!({"source": "node", "visits": 0}));
    assert_eq!(doc["__v"], json!(0));
    assert_eq!(doc["fullName"], json!("Grace H0"));

    // Queries compare Dates as Dates.
    let (status, found) = server.send(Method::POST,
        "/api/models/acme/User/documents/query",
        Some(json!({"filter": {"createdAt": {"$gte": "2023-11-15T00:00:00.000Z"}}, "sort": {"createdAt": 1}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let emails: Vec<&str> = found["documents"]
        .as_array()
        .unwrap_or_else(|| panic!("{found}"))
        .iter()
        .map(|d| d["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["node1@example.com", "node2@example.com"]);

    // Ours read back through the driver exactly as Mongoose writes them.
    let (status, created) = server.send(Method::POST,
        "/api/models/acme/User/documents",
        Some(json!({"email": "  Ours@Example.com ", "username": "ours", "firstName": "A", "lastName": "B"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let oid = ObjectId::parse_str(created["_id"].as_str().unwrap()).unwrap();
    let raw = users
        .find_one(doc! {"_id": oid})
        .await
        .unwrap()
        .expect("stored with an ObjectId _id");
    assert_eq!(raw.get_str("email").unwrap(), "ours@example.com");
    assert!(
        matches!(raw.get("createdAt"), Some(Bson::DateTime(_))),
        "{raw}"
    );
    assert!(
        matches!(raw.get("updatedAt"), Some(Bson::DateTime(_))),
        "{raw}"
    );
    assert_eq!(raw.get("__v"), Some(&Bson::Int32(0)));
    assert_eq!(raw.get("isActive"), Some(&Bson::Boolean(true)));
    assert!(raw.get("fullName").is_none(), "virtuals are not stored");

    // A duplicate against Node's data is a 409 naming the field.
    let (status, dup) = server.send(Method::POST,
        "/api/models/acme/User/documents",
        Some(json!({"email": "node1@example.com", "username": "x", "firstName": "A", "lastName": "B"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{dup}");
    assert_eq!(dup["error"]["details"]["index"], json!("email_1"), "{dup}");

    // An update is a compare-and-set on `__v`, which counts writes (Mongoose's
    // optimisticConcurrency); Mongoose reads the result.
    let (status, updated) = server
        .send(
            Method::PATCH,
            &format!("/api/models/acme/User/documents/{id}"),
            Some(json!({"$set": {"role": "admin"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    let raw = users
        .find_one(doc! {"_id": first.get_object_id("_id").unwrap()})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raw.get_str("role").unwrap(), "admin");
    assert_eq!(raw.get("__v"), Some(&Bson::Int32(1)));
    assert_eq!(
        raw.get("createdAt"),
        first.get("createdAt"),
        "createdAt kept as a Date"
    );
}

/// Polls until `done`, failing with the server's output after a minute.
async fn wait_for(server: &TestServer, what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}; server output:\n{}",
            server.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_outage_is_503s_and_health_unhealthy_then_recovers_without_a_restart() {
    let mut mongo = SecantusServer::start().await;
    let server = Arc::new(serve(&mongo).await);
    let (status, created) = server
        .send(
            Method::POST,
            "/api/models/acme/User/documents",
            Some(json!({"email": "a@b.io", "username": "a", "firstName": "A", "lastName": "B"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let path = format!(
        "/api/models/acme/User/documents/{}",
        created["_id"].as_str().unwrap()
    );

    // Load: four clients reading the document in a loop, counting what they get.
    let ok = Arc::new(AtomicUsize::new(0));
    let unavailable = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (server, path) = (Arc::clone(&server), path.clone());
        let (ok, unavailable, stop) =
            (Arc::clone(&ok), Arc::clone(&unavailable), Arc::clone(&stop));
        clients.push(tokio::spawn(async move {
            let mut others = Vec::new();
            while stop.load(Ordering::Relaxed) == 0 {
                let response = server
                    .client
                    .get(format!("{}{path}", server.base))
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                let retry_after = response.headers().contains_key("retry-after");
                let body: Value = response.json().await.unwrap();
                match status {
                    StatusCode::OK => ok.fetch_add(1, Ordering::Relaxed),
                    StatusCode::SERVICE_UNAVAILABLE
                        if retry_after && body["error"]["code"] == "store_unavailable" =>
                    {
                        unavailable.fetch_add(1, Ordering::Relaxed)
                    }
                    _ => {
                        others.push((status, body));
                        0
                    }
                };
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            others
        }));
    }
    let served = Arc::clone(&ok);
    wait_for(&server, "reads before the outage", move || {
        served.load(Ordering::Relaxed) >= 5
    })
    .await;

    mongo.terminate().await;
    let refused = Arc::clone(&unavailable);
    wait_for(&server, "503s during the outage", move || {
        refused.load(Ordering::Relaxed) >= 5
    })
    .await;
    let (status, health) = server.send(Method::GET, "/api/models/health", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{health}");
    assert_eq!(health["status"], "unhealthy", "{health}");
    assert_eq!(health["checks"]["store"]["status"], "unhealthy", "{health}");

    mongo.restart().await;
    let before = ok.load(Ordering::Relaxed);
    let served = Arc::clone(&ok);
    wait_for(&server, "reads after the restart", move || {
        served.load(Ordering::Relaxed) >= before + 5
    })
    .await;
    stop.store(1, Ordering::Relaxed);
    for client in clients {
        let others = client.await.unwrap();
        assert!(
            others.is_empty(),
            "only 200s and 503s with Retry-After: {others:?}"
        );
    }
    let (status, health) = server.send(Method::GET, "/api/models/health", None).await;
    assert_eq!(
        (status, &health["status"]),
        (StatusCode::OK, &json!("healthy")),
        "{health}"
    );
    assert!(
        server.pid() > 0,
        "the same process served before, during and after"
    );
}

#[tokio::test]
async fn stats_and_health_report_the_shared_pool() {
    let mongo = SecantusServer::start().await;
    let server = serve(&mongo).await;
    for tenant in ["t1", "t2", "t3"] {
        let (status, body) = server
            .send(
                Method::GET,
                &format!("/api/models/{tenant}/User/documents"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let stats = server.stats().await;
    let pool = &stats["connections"]["pool"];
    assert_eq!(pool["maxSize"], 7, "{stats}");
    let open = pool["inUse"].as_u64().unwrap() + pool["idle"].as_u64().unwrap();
    assert!(
        (1..=7).contains(&open),
        "one shared pool, not one per tenant: {stats}"
    );
    assert_eq!(stats["connections"]["totalConnections"], 3, "{stats}");
    assert_eq!(stats["registry"]["backend"], "mongodb");
    let (_, health) = server.send(Method::GET, "/api/models/health", None).await;
    assert_eq!(health["checks"]["store"]["backend"], "mongodb", "{health}");
    assert_eq!(health["checks"]["store"]["pool"]["maxSize"], 7, "{health}");
}

#[tokio::test]
async fn text_search_on_a_server_without_text_indexes_is_a_clear_400() {
    let mongo = SecantusServer::start().await;
    let server = serve(&mongo).await;
    let (status, model) = server
        .send(Method::GET, "/api/models/acme/Product", None)
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the model is served without its text index: {model}"
    );
    assert_eq!(model["indexErrors"][0]["index"], "name_text", "{model}");
    let (status, body) = server
        .send(
            Method::POST,
            "/api/models/acme/Product/documents/query",
            Some(json!({"filter": {"$text": {"$search": "red"}}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "text_index_required", "{body}");
}

#[tokio::test]
async fn a_tenant_with_a_dedicated_uri_lives_on_its_own_deployment() {
    let shared = SecantusServer::start().await;
    let dedicated = SecantusServer::start().await;
    let control = driver(&shared).await;
    control
        .database("dmr_control")
        .collection::<Document>("tenants")
        .insert_one(doc! {
            "_id": "vip", "databaseName": "tenant_vip", "status": "active",
            "createdAt": DateTime::now(), "mongodbUri": dedicated.uri(),
        })
        .await
        .unwrap();
    let server = serve(&shared).await;
    let (status, body) = server
        .send(
            Method::POST,
            "/api/models/vip/User/documents",
            Some(json!({"email": "v@i.p", "username": "vip", "firstName": "V", "lastName": "P"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let count = |client: Client| async move {
        client
            .database("tenant_vip")
            .collection::<Document>("users")
            .count_documents(doc! {})
            .await
            .unwrap()
    };
    assert_eq!(
        count(driver(&dedicated).await).await,
        1,
        "written to the dedicated deployment"
    );
    assert_eq!(count(control).await, 0, "not to the shared one");
    let (status, body) = server
        .send(Method::DELETE, "/api/models/connection/vip", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
