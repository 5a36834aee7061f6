//! Documents over HTTP: every route, validation in Mongoose's shape, the query language,
//! limits, and each error case — against the real server and its SQLite files.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestServer;

const USERS: &str = "/api/models/acme/User/documents";
const PRODUCTS: &str = "/api/models/acme/Product/documents";

fn user(n: usize) -> Value {
    json!({
        "email": format!("  User{n}@Example.COM "),
        "username": format!("user{n}"),
        "firstName": "Ada",
        "lastName": format!("L{n}"),
        "role": if n.is_multiple_of(2) { "admin" } else { "user" },
        "metadata": {"n": n, "nested": {"any": [1, "x"]}},
    })
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
}

#[tokio::test]
async fn create_get_replace_update_delete() {
    let server = TestServer::start().await;
    let (status, created) = server.send(Method::POST, USERS, Some(user(1))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 24);
    assert_eq!(created["email"], "user1@example.com", "trim + lowercase");
    assert_eq!(created["role"], "user");
    assert_eq!(created["isActive"], true, "default");
    assert_eq!(created["lastLogin"], Value::Null, "default null");
    assert_eq!(created["__v"], 0);
    assert_eq!(created["fullName"], "Ada L1", "virtual on read");
    assert_eq!(created["createdAt"], created["updatedAt"]);
    assert!(created["createdAt"].as_str().unwrap().ends_with('Z'));

    let (status, got) = server.get(&format!("{USERS}/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, created);

    let mut replacement = user(1);
    replacement["firstName"] = json!("Grace");
    let (status, replaced) = server
        .send(Method::PUT, &format!("{USERS}/{id}"), Some(replacement))
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["_id"], id.as_str());
    assert_eq!(
        replaced["createdAt"], created["createdAt"],
        "createdAt kept"
    );
    assert_eq!(replaced["fullName"], "Grace L1");
    assert_eq!(replaced["__v"], 1, "__v counts writes");

    let (status, updated) = server
        .send(
            Method::PATCH,
            &format!("{USERS}/{id}"),
            Some(json!({"$set": {"lastName": "  Hopper "}, "$unset": {"lastLogin": ""}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["lastName"], "Hopper", "setters apply to updates");
    assert!(updated.get("lastLogin").is_none());
    assert_ne!(updated["updatedAt"], created["updatedAt"]);
    assert_eq!(updated["__v"], 2);
    let (_, read_back) = server.get(&format!("{USERS}/{id}")).await;
    assert_eq!(read_back["__v"], 2, "what was answered is what is stored");

    // A plain object is a $set.
    let (status, updated) = server
        .send(
            Method::PATCH,
            &format!("{USERS}/{id}"),
            Some(json!({"role": "moderator"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["role"], "moderator");

    let (status, body) = server.delete(&format!("{USERS}/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"deleted": true, "id": id}));
    let (status, body) = server.get(&format!("{USERS}/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "document_not_found");
    let (status, _) = server.delete(&format!("{USERS}/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn validation_errors_have_mongooses_shape_and_every_path() {
    let server = TestServer::start().await;
    let bad = json!({
        "email": "x@y.z",
        "role": "king",
        "isActive": "maybe",
        "lastLogin": "not a date",
    });
    let (status, body) = server.send(Method::POST, USERS, Some(bad)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_code(&body), "validation_failed");
    let details = &body["error"]["details"];
    assert_eq!(details["name"], "ValidationError");
    let errors = details["errors"].as_object().unwrap();
    for path in [
        "username",
        "firstName",
        "lastName",
        "role",
        "isActive",
        "lastLogin",
    ] {
        assert!(errors.contains_key(path), "{path} missing from {details}");
    }
    assert_eq!(errors["username"]["kind"], "required");
    assert_eq!(
        errors["username"]["message"],
        "Path `username` is required."
    );
    assert_eq!(errors["role"]["kind"], "enum");
    assert_eq!(errors["isActive"]["name"], "CastError");
    assert_eq!(errors["lastLogin"]["name"], "CastError");
    assert!(
        details["message"]
            .as_str()
            .unwrap()
            .starts_with("User validation failed: ")
    );

    // Updates are validated too (runValidators).
    let (_, created) = server.send(Method::POST, USERS, Some(user(2))).await;
    let id = created["_id"].as_str().unwrap();
    let (status, body) = server
        .send(
            Method::PATCH,
            &format!("{USERS}/{id}"),
            Some(json!({"$set": {"role": "king"}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["details"]["errors"]["role"]["kind"], "enum");
    let (status, body) = server
        .send(
            Method::PATCH,
            &format!("{USERS}/{id}"),
            Some(json!({"$inc": {"email": 1}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn unique_violations_are_409_naming_the_field() {
    let server = TestServer::start().await;
    let (status, _) = server.send(Method::POST, USERS, Some(user(1))).await;
    assert_eq!(status, StatusCode::CREATED);
    let mut same_email = user(2);
    same_email["email"] = json!("USER1@example.com");
    let (status, body) = server.send(Method::POST, USERS, Some(same_email)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "duplicate_key");
    assert_eq!(body["error"]["details"]["keyPattern"], json!(["email"]));
    assert_eq!(
        body["error"]["details"]["keyValue"],
        json!({"email": "user1@example.com"})
    );
    assert!(body["error"]["message"].as_str().unwrap().contains("email"));
}

#[tokio::test]
async fn queries_filter_sort_paginate_project_and_count() {
    let server = TestServer::start().await;
    for n in 0..12 {
        let (status, body) = server.send(Method::POST, USERS, Some(user(n))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let path = format!("{USERS}/query");
    let query = |body: Value| server.send(Method::POST, &path, Some(body));

    let (status, body) = query(
        json!({"filter": {"role": "admin"}, "sort": {"username": -1}, "limit": 3, "skip": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<&str> = body["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["username"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["user6", "user4", "user2"],
        "admins are even; sorted descending; skip 1"
    );

    let (_, body) = query(json!({"filter": {"$or": [{"username": "user3"}, {"metadata.n": {"$gte": 10}}]}, "projection": {"username": 1}})).await;
    let docs = body["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 3);
    assert_eq!(
        docs[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["_id", "username"],
        "{body}"
    );

    // Casting: the email filter goes through the setters, like Mongoose casts queries.
    let (_, body) = query(json!({"filter": {"email": " USER5@EXAMPLE.COM"}})).await;
    assert_eq!(body["count"], 1, "{body}");

    // GET with JSON in the query string.
    let filter = serde_json::to_string(&json!({"username": {"$in": ["user1", "user2"]}})).unwrap();
    let url = reqwest::Url::parse_with_params(
        &format!("{}{USERS}?limit=5", server.base),
        &[("filter", filter.as_str())],
    )
    .unwrap();
    let response = server.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["count"], 2);

    let url = reqwest::Url::parse_with_params(
        &format!("{}{USERS}/count", server.base),
        &[("filter", r#"{"role":"user"}"#)],
    )
    .unwrap();
    let response = server.client.get(url).send().await.unwrap();
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"count": 6}));
}

#[tokio::test]
async fn query_errors_are_400s_naming_the_problem() {
    let server = TestServer::builder()
        .env("MAX_PAGE_SIZE", "50")
        .env("DEFAULT_PAGE_SIZE", "20")
        .env("MAX_FILTER_DEPTH", "3")
        .start()
        .await;
    let path = format!("{USERS}/query");
    let query = |body: Value| server.send(Method::POST, &path, Some(body));
    for (body, code, needle) in [
        (
            json!({"filter": {"$where": "sleep(1)"}}),
            "invalid_query",
            "$where",
        ),
        (
            json!({"filter": {"$expr": {"$eq": [1, 1]}}}),
            "invalid_query",
            "$expr",
        ),
        (
            json!({"filter": {"$or": [{"$function": {}}]}}),
            "invalid_query",
            "$function",
        ),
        (
            json!({"filter": {"username": {"$bogus": 1}}}),
            "invalid_query",
            "$bogus",
        ),
        (
            json!({"filter": {"$and": [{"$and": [{"$and": [{"$and": [{"a": 1}]}]}]}]}}),
            "invalid_query",
            "deep",
        ),
        (json!({"limit": 51}), "limit_exceeded", "50"),
        (
            json!({"filter": {"$text": {"$search": "x"}}}),
            "text_index_required",
            "text index",
        ),
        (
            json!({"filter": {"isActive": "perhaps"}}),
            "validation_failed",
            "isActive",
        ),
        (json!({"sort": {"username": 2}}), "invalid_query", "sort"),
        (json!({"projection": {"a": 1, "b": 0}}), "invalid_query", ""),
        (json!({"filters": {}}), "invalid_body", "filters"),
    ] {
        let (status, response) = query(body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {response}");
        assert_eq!(error_code(&response), code, "{body} -> {response}");
        let message = response["error"]["message"]
            .as_str()
            .unwrap()
            .to_lowercase();
        assert!(
            message.contains(&needle.to_lowercase()),
            "{body}: {message:?} should mention {needle:?}"
        );
    }
    let (status, body) = server.get(&format!("{USERS}?filter=%7Bnope")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );
    let (status, body) = server.get(&format!("{USERS}?limit=ten")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_query")
    );
    let (status, body) = server.get(&format!("{USERS}?colour=red")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_query")
    );
    let (status, body) = server.get(&format!("{USERS}/not-an-id")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_document_id")
    );
    let (status, body) = server.send(Method::POST, USERS, Some(json!([1, 2]))).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_body")
    );
    let (status, body) = server.post(USERS, "{\"email\":").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );
    let (status, body) = server
        .send(
            Method::PATCH,
            &format!("{USERS}/{:024x}", 1),
            Some(json!({"$rename": {"a": "b"}})),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_query"),
        "{body}"
    );
    let (status, body) = server
        .send(
            Method::POST,
            "/api/models/acme/Invoice/documents",
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "model_not_found")
    );
}

#[tokio::test]
async fn text_search_on_products_and_bulk_insert() {
    let server = TestServer::start().await;
    let product = |sku: &str, name: &str| json!({"sku": sku, "name": name, "description": "d", "category": "c", "price": {"amount": 10}});
    let (status, body) = server.send(Method::POST,
        &format!("{PRODUCTS}/bulk"),
        Some(json!({"documents": [product("a1", "Red shoes"), product("a2", "Blue hat"), {"sku": "x"}, product("a1", "dup")]})),
    )
    .await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{body}");
    assert_eq!(
        (body["inserted"].as_u64(), body["failed"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(
        body["results"][0]["document"]["sku"], "A1",
        "uppercase setter"
    );
    assert_eq!(body["results"][2]["error"]["code"], "validation_failed");
    assert_eq!(body["results"][3]["error"]["code"], "duplicate_key");
    assert_eq!(
        body["results"][0]["document"]["availableQuantity"], 0,
        "virtual"
    );

    let (status, body) = server
        .send(
            Method::POST,
            &format!("{PRODUCTS}/query"),
            Some(json!({"filter": {"$text": {"$search": "shoes"}}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["count"], 1);
    assert_eq!(body["documents"][0]["name"], "Red shoes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_increments_lose_nothing() {
    let server = TestServer::start().await;
    let product = json!({"sku": "inc", "name": "n", "description": "d", "category": "c", "price": {"amount": 1}});
    let (_, created) = server.send(Method::POST, PRODUCTS, Some(product)).await;
    let url = format!("{PRODUCTS}/{}", created["_id"].as_str().unwrap());
    let updates = (0..50).map(|_| {
        server.send(
            Method::PATCH,
            &url,
            Some(json!({"$inc": {"inventory.quantity": 1}})),
        )
    });
    for (status, body) in futures_util::future::join_all(updates).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, doc) = server.get(&url).await;
    assert_eq!(doc["inventory"]["quantity"], 50);
}

#[tokio::test]
async fn an_indexed_query_uses_the_models_index() {
    let server = TestServer::start().await;
    server.send(Method::POST, USERS, Some(user(1))).await;
    let db = rusqlite::Connection::open(server.tenant_file("acme")).unwrap();
    let plan: String = db
        .query_row(
            "EXPLAIN QUERY PLAN SELECT json(doc) FROM users WHERE jsonb_extract(doc, '$.\"email\"') = ?1 ORDER BY rowid",
            ["user1@example.com"],
            |r| r.get(3),
        )
        .unwrap();
    assert!(plan.contains("users.email_1"), "{plan}");

    // A sorted page is read from the createdAt index in order, no sort step.
    let plan: Vec<String> = db
        .prepare(
            "EXPLAIN QUERY PLAN SELECT json(doc) FROM users WHERE 1 \
             ORDER BY jsonb_extract(doc, '$.\"createdAt\"') DESC, rowid LIMIT 10",
        )
        .unwrap()
        .query_map([], |r| r.get(3))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        plan.iter().any(|p| p.contains("users.createdAt_-1")),
        "{plan:?}"
    );
    assert!(!plan.iter().any(|p| p.contains("TEMP B-TREE")), "{plan:?}");
}

#[tokio::test]
async fn a_slow_request_is_a_408_and_a_huge_filter_a_400() {
    let server = TestServer::builder()
        .env("REQUEST_TIMEOUT_MS", "300")
        .env("SQLITE_BUSY_TIMEOUT_MS", "10000")
        .env("MAX_FILTER_NODES", "20")
        .start()
        .await;
    let big: Vec<u32> = (0..50).collect();
    let (status, body) = server
        .send(
            Method::POST,
            &format!("{USERS}/query"),
            Some(json!({"filter": {"username": {"$in": big}}})),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_query"),
        "{body}"
    );

    // Hold the tenant file's write lock: the compile waits on it past the request timeout.
    std::fs::create_dir_all(server.data_dir()).unwrap();
    let lock = rusqlite::Connection::open(server.tenant_file("slow")).unwrap();
    lock.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
        .unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let response = server
        .client
        .post(format!("{}/api/models/slow/User/documents", server.base))
        .header("content-type", "application/json")
        .body(user(1).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    // Answered at the edge, with Helmet's headers and the request id as every answer.
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(response.headers().contains_key("x-request-id"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "request_timeout");
    drop(lock);
}

#[tokio::test]
async fn documents_past_a_ttl_index_expire() {
    let models = tempfile::tempdir().unwrap();
    std::fs::write(
        models.path().join("Session.json"),
        r#"{"model": "Session", "collection": "sessions",
            "schema": {"token": {"type": "String", "required": true},
                       "lastSeen": {"type": "Date", "expires": 60}}}"#,
    )
    .unwrap();
    let server = TestServer::builder()
        .env("MODELS_DIR", models.path().to_str().unwrap())
        .env("TTL_SWEEP_INTERVAL_MS", "100")
        .start()
        .await;
    let sessions = "/api/models/acme/Session/documents";
    let stale = json!({"token": "old", "lastSeen": "2020-01-01T00:00:00Z"});
    let fresh = json!({"token": "new", "lastSeen": crate::support::now_iso()});
    let undated = json!({"token": "none"});
    for doc in [stale, fresh, undated] {
        let (status, body) = server.send(Method::POST, sessions, Some(doc)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let started = std::time::Instant::now();
    loop {
        let (_, body) = server.get(&format!("{sessions}/count")).await;
        if body["count"] == 2 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "never expired: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (_, body) = server
        .send(
            Method::POST,
            &format!("{sessions}/query"),
            Some(json!({"sort": {"token": 1}})),
        )
        .await;
    let tokens: Vec<&str> = body["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["token"].as_str().unwrap())
        .collect();
    assert_eq!(tokens, ["new", "none"], "the fresh and the undated stay");
}
