//! Authentication and tenant isolation against the real server: the isolation matrix
//! (every route of `dmr_http::route_table()` x every kind of caller), the production
//! rule, the open development mode, keys kept out of the logs, and keys shared by two
//! instances of one data directory.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestServer;

const ADMIN: &str = "integration-admin-key-0123456789abcdefXYZ";
/// Well formed, never issued.
const WRONG: &str = "dmr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// The tenant every matrix path names.
const OWN: &str = "alpha";
const OTHER: &str = "beta";

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

/// One request with an optional key, sent as a bearer token or as `X-API-Key`.
async fn call(
    server: &TestServer,
    method: Method,
    path: &str,
    body: Option<&Value>,
    key: Option<&str>,
) -> Reply {
    static ALTERNATE: AtomicUsize = AtomicUsize::new(0);
    let mut request = server
        .client
        .request(method.clone(), format!("{}{path}", server.base));
    if let Some(key) = key {
        request = if ALTERNATE.fetch_add(1, Ordering::Relaxed).is_multiple_of(2) {
            request.bearer_auth(key)
        } else {
            request.header("x-api-key", key)
        };
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("request failed");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let plain = headers
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/"));
    // `/metrics` and the dashboard's files answer text; every other answer, refusals
    // included, is JSON.
    let body = if plain && status.is_success() {
        Value::String(text)
    } else {
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text:?}"))
    };
    Reply {
        status,
        headers,
        body,
    }
}

async fn issue(server: &TestServer, tenant: &str, key: &str) -> (String, String) {
    let reply = call(
        server,
        Method::POST,
        &format!("/api/admin/tenants/{tenant}/keys"),
        Some(&json!({"label": "test"})),
        Some(key),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    (
        reply.body["key"].as_str().unwrap().to_owned(),
        reply.body["id"].as_str().unwrap().to_owned(),
    )
}

async fn start_with_admin_key() -> TestServer {
    TestServer::builder()
        .env("ADMIN_API_KEY", ADMIN)
        .start()
        .await
}

fn user(n: usize) -> Value {
    json!({
        "email": format!("matrix{n}@example.com"),
        "username": format!("matrix{n}"),
        "firstName": "Ada",
        "lastName": format!("L{n}"),
    })
}

/// The callers of the matrix, in its column order: by the key each presents.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Nothing,
    Wrong,
    OtherTenant,
    OwnTenant,
    Admin,
}

const CALLERS: [Caller; 5] = [
    Caller::Nothing,
    Caller::Wrong,
    Caller::OtherTenant,
    Caller::OwnTenant,
    Caller::Admin,
];

/// Bodies the rows send; `n` makes unique values.
#[derive(Clone, Copy)]
enum Body {
    None,
    Test,
    User,
    Bulk,
    Query,
    Patch,
    KeyLabel,
}

impl Body {
    fn make(self, n: usize) -> Option<Value> {
        match self {
            Body::None => None,
            Body::Test => Some(json!({"modelName": "User", "operation": "count"})),
            Body::User => Some(user(n)),
            Body::Bulk => Some(json!({"documents": [user(n)]})),
            Body::Query => Some(json!({"filter": {}, "limit": 5})),
            Body::Patch => Some(json!({"firstName": "Patched"})),
            Body::KeyLabel => Some(json!({"label": "matrix"})),
        }
    }
}

/// What each caller gets: 401 without a valid key, 403 for a tenant key on an admin route,
/// 404 (the unknown-route answer) for a tenant key on another tenant's route.
const OPEN: [u16; 5] = [200, 200, 200, 200, 200];
const ADMIN_ONLY: [u16; 5] = [401, 401, 403, 403, 200];
const ANY_KEY: [u16; 5] = [401, 401, 200, 200, 200];
const TENANT: [u16; 5] = [401, 401, 404, 200, 200];
const TENANT_CREATE: [u16; 5] = [401, 401, 404, 201, 201];
const ADMIN_CREATE: [u16; 5] = [401, 401, 403, 403, 201];
/// `GET /api/models/:tenantId/test` is the model named `test`, which the shipped models
/// do not define: 404 `model_not_found` once the key is accepted.
const TENANT_NO_SUCH_MODEL: [u16; 5] = [401, 401, 404, 404, 404];

/// The isolation matrix: one row per route of the router, as `route_table()` names it.
const MATRIX: &[(&str, &str, Body, [u16; 5])] = &[
    ("GET", "/", Body::None, OPEN),
    ("GET", "/health", Body::None, OPEN),
    ("GET", "/api/models/health", Body::None, OPEN),
    ("GET", "/api/models/stats", Body::None, ADMIN_ONLY),
    ("GET", "/metrics", Body::None, ADMIN_ONLY),
    ("GET", "/dashboard", Body::None, OPEN),
    ("GET", "/dashboard.js", Body::None, OPEN),
    ("GET", "/dashboard.css", Body::None, OPEN),
    ("GET", "/api/models/schemas", Body::None, ANY_KEY),
    ("POST", "/api/models/schemas/reload", Body::None, ADMIN_ONLY),
    ("DELETE", "/api/models/cache", Body::None, ADMIN_ONLY),
    (
        "DELETE",
        "/api/models/cache/{tenant_id}",
        Body::None,
        ADMIN_ONLY,
    ),
    (
        "DELETE",
        "/api/models/connection/{tenant_id}",
        Body::None,
        ADMIN_ONLY,
    ),
    (
        "POST",
        "/api/admin/tenants/{tenant_id}/keys",
        Body::KeyLabel,
        ADMIN_CREATE,
    ),
    (
        "GET",
        "/api/admin/tenants/{tenant_id}/keys",
        Body::None,
        ADMIN_ONLY,
    ),
    (
        "DELETE",
        "/api/admin/tenants/{tenant_id}/keys/{key_id}",
        Body::None,
        ADMIN_ONLY,
    ),
    ("GET", "/api/models/{tenant_id}", Body::None, TENANT),
    ("POST", "/api/models/{tenant_id}/test", Body::Test, TENANT),
    (
        "GET",
        "/api/models/{tenant_id}/test",
        Body::None,
        TENANT_NO_SUCH_MODEL,
    ),
    (
        "GET",
        "/api/models/{tenant_id}/{model_name}",
        Body::None,
        TENANT,
    ),
    (
        "POST",
        "/api/models/{tenant_id}/{model_name}/documents",
        Body::User,
        TENANT_CREATE,
    ),
    (
        "GET",
        "/api/models/{tenant_id}/{model_name}/documents",
        Body::None,
        TENANT,
    ),
    (
        "POST",
        "/api/models/{tenant_id}/{model_name}/documents/bulk",
        Body::Bulk,
        TENANT_CREATE,
    ),
    (
        "POST",
        "/api/models/{tenant_id}/{model_name}/documents/query",
        Body::Query,
        TENANT,
    ),
    (
        "GET",
        "/api/models/{tenant_id}/{model_name}/documents/count",
        Body::None,
        TENANT,
    ),
    (
        "GET",
        "/api/models/{tenant_id}/{model_name}/documents/{id}",
        Body::None,
        TENANT,
    ),
    (
        "PUT",
        "/api/models/{tenant_id}/{model_name}/documents/{id}",
        Body::User,
        TENANT,
    ),
    (
        "PATCH",
        "/api/models/{tenant_id}/{model_name}/documents/{id}",
        Body::Patch,
        TENANT,
    ),
    (
        "DELETE",
        "/api/models/{tenant_id}/{model_name}/documents/{id}",
        Body::None,
        TENANT,
    ),
];

#[test]
fn the_matrix_covers_exactly_the_routes_of_the_router() {
    let routed: BTreeSet<(String, &str)> = dmr_http::route_table()
        .into_iter()
        .map(|r| (r.method.to_string(), r.path))
        .collect();
    let tested: BTreeSet<(String, &str)> = MATRIX
        .iter()
        .map(|(method, path, _, _)| ((*method).to_owned(), *path))
        .collect();
    let untested: Vec<_> = routed.difference(&tested).collect();
    let unknown: Vec<_> = tested.difference(&routed).collect();
    assert!(
        untested.is_empty(),
        "routes missing from the isolation matrix: {untested:?}"
    );
    assert!(unknown.is_empty(), "matrix rows for no route: {unknown:?}");
    assert_eq!(MATRIX.len(), routed.len(), "one row per route");
}

#[tokio::test]
async fn isolation_matrix_every_route_and_every_caller() {
    let server = start_with_admin_key().await;
    let (own_key, _) = issue(&server, OWN, ADMIN).await;
    let (other_key, _) = issue(&server, OTHER, ADMIN).await;
    let mut n = 0;
    let mut failures = Vec::new();

    for (method, template, body, expected) in MATRIX {
        let method: Method = method.parse().unwrap();
        for (caller, want) in CALLERS.iter().zip(expected) {
            n += 1;
            // Fresh targets for each request, so that one caller's success (a delete, a
            // revocation) cannot change the next caller's answer.
            let mut path = template
                .replace("{tenant_id}", OWN)
                .replace("{model_name}", "User");
            if path.contains("{id}") {
                let created = call(
                    &server,
                    Method::POST,
                    "/api/models/alpha/User/documents",
                    Some(&user(100_000 + n)),
                    Some(ADMIN),
                )
                .await;
                assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
                path = path.replace("{id}", created.body["_id"].as_str().unwrap());
            }
            if path.contains("{key_id}") {
                let (_, id) = issue(&server, OWN, ADMIN).await;
                path = path.replace("{key_id}", &id);
            }
            let key = match caller {
                Caller::Nothing => None,
                Caller::Wrong => Some(WRONG),
                Caller::OtherTenant => Some(other_key.as_str()),
                Caller::OwnTenant => Some(own_key.as_str()),
                Caller::Admin => Some(ADMIN),
            };
            let reply = call(&server, method.clone(), &path, body.make(n).as_ref(), key).await;
            if reply.status.as_u16() != *want {
                failures.push(format!(
                    "{method} {path} with {caller:?}: {} (expected {want}) {}",
                    reply.status, reply.body
                ));
                continue;
            }
            check_refusal_shape(&method, &path, *caller, &reply);
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Refusals carry the documented code; a 401 names the Bearer scheme; another tenant's
/// route answers exactly as an unknown route.
fn check_refusal_shape(method: &Method, path: &str, caller: Caller, reply: &Reply) {
    let code = reply.body["error"]["code"].as_str();
    match reply.status.as_u16() {
        401 => {
            assert_eq!(code, Some("unauthorized"), "{path} {caller:?}");
            let challenge = reply.headers[WWW_AUTHENTICATE].to_str().unwrap();
            assert!(challenge.starts_with("Bearer"), "{challenge}");
        }
        403 => assert_eq!(code, Some("forbidden"), "{path} {caller:?}"),
        // A key the route accepts, and a model no file defines (the model named `test`).
        404 if matches!(caller, Caller::OwnTenant | Caller::Admin) => {
            assert_eq!(code, Some("model_not_found"), "{path} {caller:?}");
        }
        404 => {
            assert_eq!(code, Some("route_not_found"), "{path} {caller:?}");
            assert_eq!(
                reply.body["error"]["message"],
                format!("Route not found: {method} {path}")
            );
        }
        _ => assert!(reply.status.is_success(), "{path} {caller:?}"),
    }
}

#[tokio::test]
async fn another_tenants_routes_answer_as_routes_that_do_not_exist() {
    let server = start_with_admin_key().await;
    let (beta_key, _) = issue(&server, OTHER, ADMIN).await;
    let (alpha_key, _) = issue(&server, OWN, ADMIN).await;
    // alpha exists (it has data); "ghost" has never been used.
    let made = call(
        &server,
        Method::POST,
        "/api/models/alpha/User/documents",
        Some(&user(1)),
        Some(&alpha_key),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED);

    let strip = |mut body: Value| {
        body["error"]["timestamp"] = Value::Null;
        body
    };
    let existing = call(
        &server,
        Method::GET,
        "/api/models/alpha/User",
        None,
        Some(&beta_key),
    )
    .await;
    let ghost = call(
        &server,
        Method::GET,
        "/api/models/ghost/User",
        None,
        Some(&beta_key),
    )
    .await;
    let no_route = call(
        &server,
        Method::GET,
        "/api/models/alpha/User/nothing/here",
        None,
        Some(&beta_key),
    )
    .await;
    for reply in [&existing, &ghost, &no_route] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        strip(existing.body).to_string().replace("alpha", "X"),
        strip(ghost.body.clone()).to_string().replace("ghost", "X"),
        "an existing tenant and an unused one are indistinguishable"
    );
    assert_eq!(
        strip(ghost.body)["error"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        strip(no_route.body)["error"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        "the same shape as an unknown route"
    );
    assert!(
        !server
            .data_files()
            .iter()
            .any(|f| f.starts_with("tenant_ghost")),
        "a refused probe creates nothing: {:?}",
        server.data_files()
    );

    // The tenant is read once, percent-decoded (RFC 3986: `%61` is `a`), by everything that
    // looks at it: the encoded spelling of alpha is alpha's route, for alpha's key only.
    let encoded = call(
        &server,
        Method::GET,
        "/api/models/%61lpha/User",
        None,
        Some(&alpha_key),
    )
    .await;
    assert_eq!(encoded.status, StatusCode::OK, "{}", encoded.body);
    assert_eq!(encoded.body["tenantId"], "alpha");
    let encoded = call(
        &server,
        Method::GET,
        "/api/models/%61lpha/User",
        None,
        Some(&beta_key),
    )
    .await;
    assert_eq!(encoded.status, StatusCode::NOT_FOUND);
    // A tenant key cannot list or revoke its own keys either: that is the admin's.
    let own_keys = call(
        &server,
        Method::GET,
        "/api/admin/tenants/alpha/keys",
        None,
        Some(&alpha_key),
    )
    .await;
    assert_eq!(own_keys.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn key_management_lists_without_keys_and_revokes() {
    let server = start_with_admin_key().await;
    let (key, id) = issue(&server, OWN, ADMIN).await;
    assert!(key.starts_with("dmr_") && key.len() == 47, "{key}");

    let listed = call(
        &server,
        Method::GET,
        "/api/admin/tenants/alpha/keys",
        None,
        Some(ADMIN),
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["count"], 1);
    let entry = &listed.body["keys"][0];
    assert_eq!(entry["id"], id.as_str());
    assert_eq!(entry["tenantId"], "alpha");
    assert_eq!(entry["label"], "test");
    assert!(entry["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(
        !listed.body.to_string().contains(&key),
        "a listing never shows a key"
    );
    assert!(entry.get("hash").is_none(), "nor its hash");

    let bad_label = call(
        &server,
        Method::POST,
        "/api/admin/tenants/alpha/keys",
        Some(&json!({"label": "x".repeat(101)})),
        Some(ADMIN),
    )
    .await;
    assert_eq!(bad_label.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_label.body["error"]["code"], "invalid_body");
    let bad_tenant = call(
        &server,
        Method::POST,
        "/api/admin/tenants/no.dots/keys",
        None,
        Some(ADMIN),
    )
    .await;
    assert_eq!(bad_tenant.body["error"]["code"], "invalid_tenant_id");

    let path = format!("/api/admin/tenants/alpha/keys/{id}");
    let wrong_tenant = call(
        &server,
        Method::DELETE,
        &format!("/api/admin/tenants/beta/keys/{id}"),
        None,
        Some(ADMIN),
    )
    .await;
    assert_eq!(wrong_tenant.status, StatusCode::NOT_FOUND);
    assert_eq!(wrong_tenant.body["error"]["code"], "api_key_not_found");
    let used = call(&server, Method::GET, "/api/models/alpha", None, Some(&key)).await;
    assert_eq!(used.status, StatusCode::OK, "still valid");

    let revoked = call(&server, Method::DELETE, &path, None, Some(ADMIN)).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert_eq!(revoked.body["id"], id.as_str());
    let after = call(&server, Method::GET, "/api/models/alpha", None, Some(&key)).await;
    assert_eq!(
        after.status,
        StatusCode::UNAUTHORIZED,
        "revoked on this instance: refused at once"
    );
    let again = call(&server, Method::DELETE, &path, None, Some(ADMIN)).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn production_refuses_to_start_without_a_usable_admin_key() {
    let (code, text) = TestServer::builder()
        .env("NODE_ENV", "production")
        .failed_start()
        .await;
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("ADMIN_API_KEY")
            && text.contains("NODE_ENV=production does not start without ADMIN_API_KEY"),
        "{text}"
    );

    let short = "too-short-admin-secret-zq";
    let (code, text) = TestServer::builder()
        .env("NODE_ENV", "production")
        .env("ADMIN_API_KEY", short)
        .failed_start()
        .await;
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("ADMIN_API_KEY") && text.contains("at least 32"),
        "{text}"
    );
    assert!(!text.contains(short), "the key is echoed: {text}");

    let server = TestServer::builder()
        .env("NODE_ENV", "production")
        .env("ADMIN_API_KEY", ADMIN)
        .start()
        .await;
    let health = call(&server, Method::GET, "/health", None, None).await;
    assert_eq!(health.body["authentication"], "enabled");
    let stats = call(&server, Method::GET, "/api/models/stats", None, None).await;
    assert_eq!(stats.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn without_an_admin_key_development_is_open_and_says_so() {
    let server = TestServer::start().await;
    for path in ["/health", "/api/models/health"] {
        let reply = call(&server, Method::GET, path, None, None).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body["authentication"], "disabled", "{path}");
    }
    let open = call(&server, Method::DELETE, "/api/models/cache", None, None).await;
    assert_eq!(open.status, StatusCode::OK, "admin routes are open");
    let garbage = call(
        &server,
        Method::GET,
        "/api/models/alpha",
        None,
        Some("not-a-key"),
    )
    .await;
    assert_eq!(garbage.status, StatusCode::OK, "keys are not checked");
    assert!(
        server.logged("AUTHENTICATION IS DISABLED").await,
        "{}",
        server.output()
    );
    assert!(
        server.output().contains("ADMIN_API_KEY"),
        "{}",
        server.output()
    );
}

#[tokio::test]
async fn keys_never_appear_in_logs() {
    let mut server = TestServer::builder()
        .env("ADMIN_API_KEY", ADMIN)
        .env("LOG_LEVEL", "trace")
        .start()
        .await;
    let (alpha_key, alpha_id) = issue(&server, OWN, ADMIN).await;
    let (beta_key, beta_id) = issue(&server, OTHER, ADMIN).await;
    let requests: [(Method, &str, Option<&str>); 8] = [
        (Method::GET, "/api/models/alpha/User", Some(&alpha_key)),
        (Method::GET, "/api/models/alpha/User", Some(&beta_key)),
        (Method::GET, "/api/models/alpha/User", Some(WRONG)),
        (Method::GET, "/api/models/stats", Some(&alpha_key)),
        (Method::GET, "/api/models/stats", Some(ADMIN)),
        (Method::GET, "/api/models/alpha/Nope", Some(&alpha_key)),
        (Method::POST, "/api/models/alpha/test", Some(&alpha_key)),
        (
            Method::DELETE,
            "/api/admin/tenants/beta/keys/0000",
            Some(ADMIN),
        ),
    ];
    for (method, path, key) in requests {
        call(&server, method, path, None, key).await;
    }
    let revoked = call(
        &server,
        Method::DELETE,
        &format!("/api/admin/tenants/beta/keys/{beta_id}"),
        None,
        Some(ADMIN),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK);
    call(
        &server,
        Method::GET,
        "/api/models/beta",
        None,
        Some(&beta_key),
    )
    .await;

    // SIGTERM: the process flushes its log files before it exits.
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait(Duration::from_secs(30)).await, Some(0));
    let mut logs = server.output();
    for file in ["combined.log", "error.log"] {
        logs.push_str(&std::fs::read_to_string(server.log_dir().join(file)).unwrap());
    }
    assert!(
        logs.contains(&alpha_id) && logs.contains("API key issued"),
        "the logs record the issue by key id"
    );
    assert!(
        logs.contains("API key revoked"),
        "and the revocation: {logs}"
    );
    for secret in [ADMIN, alpha_key.as_str(), beta_key.as_str(), WRONG] {
        assert!(!logs.contains(secret), "a key is in the logs");
        // Not even its body without the prefix.
        assert!(!logs.contains(&secret[8..]), "part of a key is in the logs");
    }
}

#[tokio::test]
async fn a_key_issued_on_one_instance_works_on_another_until_revoked() {
    let first = start_with_admin_key().await;
    // The second instance shares the first one's data directory (its own logs), and
    // trusts a verified key for 200 ms.
    let second = TestServer::builder()
        .env("ADMIN_API_KEY", ADMIN)
        .env("DATA_DIR", first.data_dir().to_str().unwrap())
        .env("API_KEY_CACHE_TTL_MS", "200")
        .start()
        .await;

    let (key, id) = issue(&first, OWN, ADMIN).await;
    let on_second = call(
        &second,
        Method::GET,
        "/api/models/alpha/User",
        None,
        Some(&key),
    )
    .await;
    assert_eq!(on_second.status, StatusCode::OK, "{}", on_second.body);
    let hidden = call(
        &second,
        Method::GET,
        "/api/models/beta/User",
        None,
        Some(&key),
    )
    .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);

    let (key_from_second, _) = issue(&second, OTHER, ADMIN).await;
    let on_first = call(
        &first,
        Method::GET,
        "/api/models/beta",
        None,
        Some(&key_from_second),
    )
    .await;
    assert_eq!(on_first.status, StatusCode::OK, "and the other way round");

    let revoked = call(
        &first,
        Method::DELETE,
        &format!("/api/admin/tenants/alpha/keys/{id}"),
        None,
        Some(ADMIN),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK);
    let on_first = call(
        &first,
        Method::GET,
        "/api/models/alpha/User",
        None,
        Some(&key),
    )
    .await;
    assert_eq!(on_first.status, StatusCode::UNAUTHORIZED);

    // The second instance learns it when its cached answer expires (API_KEY_CACHE_TTL_MS).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = call(
            &second,
            Method::GET,
            "/api/models/alpha/User",
            None,
            Some(&key),
        )
        .await;
        if reply.status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(
            Instant::now() < deadline,
            "the revoked key still works on the second instance"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
