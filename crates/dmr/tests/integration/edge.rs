//! The edge against the real server: rate limits per client and per tenant (and that a
//! forged X-Forwarded-For buys nothing unless the peer is a trusted proxy), Helmet's
//! headers, CORS, the JSON depth and body limits, and per-tenant concurrency.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestServer;

const SEED_429_BODY: &str = r#"{"error":"Too many requests, please try again later."}"#;

/// Status, headers and raw body of one request.
async fn call(
    server: &TestServer,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> (StatusCode, HeaderMap, String) {
    let mut request = server
        .client
        .request(method, format!("{}{path}", server.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    let response = request.send().await.expect("request failed");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

async fn get(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap) {
    let (status, headers, _) = call(server, Method::GET, path, headers, None).await;
    (status, headers)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {headers:?}"))
        .to_str()
        .unwrap()
}

fn number(headers: &HeaderMap, name: &str) -> u64 {
    header(headers, name).parse().unwrap()
}

fn error_code(body: &str) -> String {
    let json: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    json["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_client_gets_its_quota_then_429_with_the_seeds_body_and_headers() {
    let server = TestServer::builder()
        .env("RATE_LIMIT_MAX_REQUESTS", "3")
        .start()
        .await;
    for remaining in [2, 1, 0] {
        let (status, headers) = get(&server, "/api/models/schemas", &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, "ratelimit-limit"), "3");
        assert_eq!(number(&headers, "ratelimit-remaining"), remaining);
        assert_eq!(header(&headers, "ratelimit-policy"), "3;w=900");
        let reset = number(&headers, "ratelimit-reset");
        assert!((1..=900).contains(&reset), "{reset}");
    }
    // Any /api/ route shares the client's budget, whatever its answer.
    for path in [
        "/api/models/schemas",
        "/api/models/acme/User",
        "/api/nothing",
    ] {
        let (status, headers, body) = call(&server, Method::GET, path, &[], None).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{path}");
        assert_eq!(body, SEED_429_BODY);
        assert_eq!(header(&headers, "content-type"), "application/json");
        assert_eq!(number(&headers, "ratelimit-remaining"), 0);
        let retry = number(&headers, "retry-after");
        assert!((1..=900).contains(&retry), "{retry}");
        assert_eq!(retry, number(&headers, "ratelimit-reset"));
        // Refusals are logged and identified like any response, and carry Helmet's headers.
        assert!(headers.contains_key("x-request-id"));
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    }
    // The load balancer's probe and the root are never limited, and carry no quota.
    for path in ["/health", "/"] {
        let (status, headers) = get(&server, path, &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!headers.contains_key("ratelimit-limit"), "{path}");
    }
    // A preflight is answered before the limiter.
    let (status, _) = call_preflight(&server, "/api/models/schemas", "https://a.example").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // The refused requests reached no route: no tenant was provisioned.
    assert!(!server.data_files().iter().any(|f| f.starts_with("tenant_")));
}

#[tokio::test]
async fn a_forged_x_forwarded_for_buys_nothing_from_an_untrusted_peer() {
    let server = TestServer::builder()
        .env("RATE_LIMIT_MAX_REQUESTS", "2")
        .start()
        .await;
    for n in 0..2 {
        let forged = format!("203.0.113.{n}");
        let (status, _) = get(
            &server,
            "/api/models/schemas",
            &[("x-forwarded-for", &forged)],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    // A new address in the header each time: the peer (127.0.0.1) is still the client.
    for forged in ["198.51.100.7", "10.0.0.1, 198.51.100.8", "::1", "garbage"] {
        let (status, _) = get(
            &server,
            "/api/models/schemas",
            &[("x-forwarded-for", forged)],
        )
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{forged}");
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let server = TestServer::builder()
        .env("RATE_LIMIT_MAX_REQUESTS", "2")
        .env("TRUSTED_PROXIES", "127.0.0.1/32, ::1")
        .start()
        .await;
    let as_client = |xff: &'static str| [("x-forwarded-for", xff)];
    for _ in 0..2 {
        let (status, _) = get(&server, "/api/models/schemas", &as_client("198.51.100.1")).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = get(&server, "/api/models/schemas", &as_client("198.51.100.1")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // The proxy appends the address it saw; what the client wrote before it is ignored.
    let (status, _) = get(
        &server,
        "/api/models/schemas",
        &as_client("203.0.113.50, 198.51.100.1"),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the proxy has a budget of its own.
    let (status, headers) = get(&server, "/api/models/schemas", &as_client("198.51.100.2")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(number(&headers, "ratelimit-remaining"), 1);
    // The proxy itself, forwarding nothing, is one more client.
    let (status, _) = get(&server, "/api/models/schemas", &[]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_tenant_has_one_budget_across_its_clients() {
    let server = TestServer::builder()
        .env("TENANT_RATE_LIMIT_MAX_REQUESTS", "3")
        .env("TRUSTED_PROXIES", "127.0.0.1")
        .start()
        .await;
    // Three different clients (through the trusted proxy), one tenant.
    for n in 1..=3 {
        let client = format!("198.51.100.{n}");
        let (status, headers) = get(
            &server,
            "/api/models/acme/User",
            &[("x-forwarded-for", &client)],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        // The tenant's limit is the closer one: it is the one reported.
        assert_eq!(header(&headers, "ratelimit-limit"), "3");
        assert_eq!(number(&headers, "ratelimit-remaining"), 3 - n);
        assert_eq!(
            header(&headers, "ratelimit-policy"),
            "3;w=900;comment=\"tenant\""
        );
    }
    // A fourth client, a fresh tenant route, even an encoded tenant id: the tenant is spent.
    for path in [
        "/api/models/acme/Product",
        "/api/models/%61cme/User",
        "/api/models/cache/acme",
    ] {
        let method = if path.contains("cache") {
            Method::DELETE
        } else {
            Method::GET
        };
        let (status, headers, body) = call(
            &server,
            method,
            path,
            &[("x-forwarded-for", "198.51.100.9")],
            None,
        )
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{path}");
        assert_eq!(body, SEED_429_BODY);
        assert!(number(&headers, "retry-after") >= 1);
    }
    // Another tenant, and the registry-wide routes, are untouched.
    let (status, _) = get(
        &server,
        "/api/models/globex/User",
        &[("x-forwarded-for", "198.51.100.9")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(
        &server,
        "/api/models/stats",
        &[("x-forwarded-for", "198.51.100.9")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn callers_without_a_valid_key_cannot_spend_a_tenants_budget() {
    let admin = "edge-test-admin-key-0123456789abcdefXYZ";
    let server = TestServer::builder()
        .env("ADMIN_API_KEY", admin)
        .env("TENANT_RATE_LIMIT_MAX_REQUESTS", "2")
        .start()
        .await;
    // Ten refused callers (no key, a wrong key) on acme's routes: each is a 401...
    for n in 0..10 {
        let wrong = format!("dmr_{}", "x".repeat(43));
        let headers: &[(&str, &str)] = if n % 2 == 0 {
            &[]
        } else {
            &[("x-api-key", &wrong)]
        };
        let (status, _) = get(&server, "/api/models/acme/User", headers).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // ...and acme's budget of two is still whole for the callers it serves.
    let bearer = format!("Bearer {admin}");
    for remaining in [1, 0] {
        let (status, headers) = get(
            &server,
            "/api/models/acme/User",
            &[("authorization", &bearer)],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(number(&headers, "ratelimit-remaining"), remaining);
    }
    let (status, _) = get(
        &server,
        "/api/models/acme/User",
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn every_response_carries_helmets_headers_and_no_x_powered_by() {
    let server = TestServer::start().await;
    let expected = [
        (
            "content-security-policy",
            "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';\
             frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';\
             script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
        ),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
        ("origin-agent-cluster", "?1"),
        ("referrer-policy", "no-referrer"),
        (
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        ),
        ("x-content-type-options", "nosniff"),
        ("x-dns-prefetch-control", "off"),
        ("x-download-options", "noopen"),
        ("x-frame-options", "SAMEORIGIN"),
        ("x-permitted-cross-domain-policies", "none"),
        ("x-xss-protection", "0"),
    ];
    for (method, path) in [
        (Method::GET, "/health"),
        (Method::GET, "/"),
        (Method::GET, "/api/models/acme/User"),
        (Method::GET, "/nowhere"),
        (Method::PUT, "/health"),
        (Method::GET, "/api/models/a.b/User"),
    ] {
        let (status, headers, _) = call(&server, method.clone(), path, &[], None).await;
        for (name, value) in expected {
            assert_eq!(header(&headers, name), value, "{method} {path} ({status})");
        }
        assert!(!headers.contains_key("x-powered-by"));
    }
}

async fn call_preflight(server: &TestServer, path: &str, origin: &str) -> (StatusCode, HeaderMap) {
    let (status, headers, body) = call(
        server,
        Method::OPTIONS,
        path,
        &[
            ("origin", origin),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization,content-type",
            ),
        ],
        None,
    )
    .await;
    assert!(body.is_empty(), "{body}");
    (status, headers)
}

#[tokio::test]
async fn cors_star_allows_any_origin_without_credentials() {
    let server = TestServer::start().await;
    let origin = [("origin", "https://anywhere.example")];
    let (status, headers) = get(&server, "/api/models/acme/User", &origin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "access-control-allow-origin"), "*");
    assert!(!headers.contains_key("access-control-allow-credentials"));
    assert!(header(&headers, "access-control-expose-headers").contains("RateLimit-Remaining"));

    let (status, headers) = call_preflight(
        &server,
        "/api/models/acme/User/documents",
        "https://anywhere.example",
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(header(&headers, "access-control-allow-origin"), "*");
    assert!(!headers.contains_key("access-control-allow-credentials"));
    // Answered at the edge, with Helmet's headers as every answer.
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    let methods = header(&headers, "access-control-allow-methods");
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{methods}");
    }
    let allowed = header(&headers, "access-control-allow-headers").to_ascii_lowercase();
    for name in ["authorization", "x-api-key", "content-type", "x-request-id"] {
        assert!(allowed.contains(name), "{allowed}");
    }
    assert_eq!(header(&headers, "x-frame-options"), "SAMEORIGIN");
}

#[tokio::test]
async fn cors_list_echoes_listed_origins_with_credentials_and_varies() {
    let server = TestServer::builder()
        .env(
            "CORS_ORIGINS",
            "https://app.example.com, http://localhost:8080",
        )
        .start()
        .await;
    let (_, headers) = get(
        &server,
        "/api/models/acme/User",
        &[("origin", "http://localhost:8080")],
    )
    .await;
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        "http://localhost:8080"
    );
    assert_eq!(header(&headers, "access-control-allow-credentials"), "true");
    assert_eq!(header(&headers, "vary"), "Origin");

    for origin in [
        "https://evil.example",
        "null",
        "https://app.example.com.evil.example",
    ] {
        let (status, headers) = get(&server, "/api/models/acme/User", &[("origin", origin)]).await;
        // The server answers (CORS binds browsers only) but grants nothing.
        assert_eq!(status, StatusCode::OK);
        assert!(
            !headers.contains_key("access-control-allow-origin"),
            "{origin}"
        );
        assert!(!headers.contains_key("access-control-allow-credentials"));
        assert_eq!(header(&headers, "vary"), "Origin");
    }

    let (status, headers) =
        call_preflight(&server, "/api/models/acme/test", "https://app.example.com").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        "https://app.example.com"
    );
    assert_eq!(header(&headers, "access-control-allow-credentials"), "true");
    assert!(headers.contains_key("access-control-allow-methods"));

    let (status, headers) =
        call_preflight(&server, "/api/models/acme/test", "https://evil.example").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!headers.contains_key("access-control-allow-origin"));
    assert!(!headers.contains_key("access-control-allow-methods"));
}

#[tokio::test]
async fn deep_json_is_a_400_and_never_a_crash() {
    let server = TestServer::builder()
        .env("MAX_JSON_DEPTH", "8")
        .start()
        .await;
    let documents = "/api/models/acme/User/documents";
    let deep = "[".repeat(100_000);
    for (method, path) in [
        (Method::POST, documents.to_owned()),
        (Method::POST, format!("{documents}/query")),
        (Method::POST, "/api/models/acme/test".to_owned()),
        (
            Method::PATCH,
            format!("{documents}/0123456789abcdef01234567"),
        ),
    ] {
        let (status, headers, body) =
            call(&server, method.clone(), &path, &[], Some(deep.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {body}");
        // The rest of the body was never read: the connection is not reused.
        assert_eq!(header(&headers, "connection"), "close");
        assert_eq!(error_code(&body), "json_too_deep", "{body}");
        assert!(body.contains("MAX_JSON_DEPTH"), "{body}");
    }
    // At the limit it parses; one level more does not. Brackets inside strings do not count.
    let nested = |depth: usize| {
        let mut value = json!("[[[[[[[[[[ not structure");
        for _ in 1..depth {
            value = json!({ "a": value });
        }
        json!({ "email": "a@b.c", "username": "deep", "firstName": "A", "lastName": "B", "metadata": value })
    };
    // The document is one level and its metadata the other (depth - 1).
    let (status, headers, body) = call(
        &server,
        Method::POST,
        documents,
        &[],
        Some(nested(8).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(
        !headers.contains_key("connection"),
        "a body read to its end"
    );
    let (status, _, body) = call(
        &server,
        Method::POST,
        documents,
        &[],
        Some(nested(9).to_string()),
    )
    .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "json_too_deep")
    );
    // In a query parameter too, encoded or not.
    let filter = format!("{}1{}", "%5B".repeat(20), "%5D".repeat(20));
    let (status, headers, body) = call(
        &server,
        Method::GET,
        &format!("{documents}?filter={filter}"),
        &[],
        None,
    )
    .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "json_too_deep")
    );
    assert_eq!(header(&headers, "x-xss-protection"), "0");
    // The server is alive and well.
    let (status, _) = get(&server, "/health", &[]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_oversized_body_is_a_413_in_the_seed_shape() {
    let server = TestServer::builder()
        .env("BODY_LIMIT_BYTES", "2048")
        .start()
        .await;
    let big = json!({ "email": "a@b.c", "pad": "x".repeat(4096) }).to_string();
    let (status, headers, body) = call(
        &server,
        Method::POST,
        "/api/models/acme/User/documents",
        &[],
        Some(big),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"]["code"], "payload_too_large");
    assert_eq!(json["error"]["status"], 413);
    assert!(json["error"]["timestamp"].as_str().unwrap().ends_with('Z'));
}

/// Holds a tenant's database write lock: its requests wait (as on a slow store) until the
/// returned connection is dropped.
fn hold_write_lock(server: &TestServer, tenant: &str) -> rusqlite::Connection {
    let path = server.tenant_file(tenant);
    let lock = rusqlite::Connection::open(path).unwrap();
    lock.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
        .unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    lock
}

#[tokio::test]
async fn a_tenant_over_its_concurrency_gets_503_and_others_carry_on() {
    let server = TestServer::builder()
        .env("TENANT_MAX_CONCURRENCY", "2")
        .env("SQLITE_BUSY_TIMEOUT_MS", "60000")
        .env("REQUEST_TIMEOUT_MS", "60000")
        .start()
        .await;
    let lock = hold_write_lock(&server, "slow");
    let user = |n: u32| {
        json!({"email": format!("u{n}@x.io"), "username": format!("u{n}"), "firstName": "A", "lastName": "B"})
            .to_string()
    };
    let client = server.client.clone();
    let url = format!("{}/api/models/slow/User/documents", server.base);
    let stuck: Vec<_> = (0..2)
        .map(|n| {
            let request = client
                .post(&url)
                .header("content-type", "application/json")
                .body(user(n))
                .send();
            tokio::spawn(request)
        })
        .collect();
    // Wait until both are in flight (the stats request itself makes three).
    loop {
        let in_flight = server.stats().await["http"]["inFlight"].as_u64().unwrap();
        if in_flight >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, headers, body) = call(
        &server,
        Method::GET,
        "/api/models/slow/User/documents/count",
        &[],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(error_code(&body), "tenant_busy");
    assert!(body.contains("TENANT_MAX_CONCURRENCY"), "{body}");
    assert_eq!(header(&headers, "retry-after"), "1");
    assert_eq!(header(&headers, "x-frame-options"), "SAMEORIGIN");
    // Load shed on purpose is a warning, not an error of the service.
    let combined = server.log_dir().join("combined.log");
    let started = std::time::Instant::now();
    let shed = loop {
        let text = std::fs::read_to_string(&combined).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains("request shed")) {
            break line.to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no shed line in {text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(shed.contains("\"level\":\"WARN\""), "{shed}");
    let errors = std::fs::read_to_string(server.log_dir().join("error.log")).unwrap_or_default();
    assert!(
        !errors.contains("tenant_busy") && !errors.contains("\"status\":503"),
        "{errors}"
    );
    // Other tenants and registry-wide routes are not held up.
    let (status, _) = get(&server, "/api/models/quick/User", &[]).await;
    assert_eq!(status, StatusCode::OK);

    drop(lock);
    for request in stuck {
        let response = request.await.unwrap().unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    // Both slots are back.
    let (status, _, body) = call(
        &server,
        Method::POST,
        "/api/models/slow/User/documents",
        &[],
        Some(user(9)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
