//! The ceiling for the HTTP harness: axum with no middleware answering the same path
//! shape with a JSON body the size of the registry's L1-hit answer, built per request
//! the same way (a serialisable struct). Listens on 127.0.0.1:$PORT.
//!
//! With `HEADERS=1`, every answer also carries the headers the registry's `/api/` answers
//! carry (Helmet's twelve, CORS's two, four `RateLimit-*`, a request id), static values
//! inserted by one `map_response` around the router: the ceiling of any server that keeps
//! that header contract, to tell what they cost from what the registry's own work costs.
//!
//! With `ACCESS_LOG=1` (and `LOG_DIR`), each request also writes the registry's two access
//! lines (`dmr_bench::access_line`): the ceiling of a server that keeps the seed's
//! one-line-per-request log.

use axum::extract::Path;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tower::ServiceBuilder;
use tower::make::Shared;

/// What the registry's L1-hit answer carries besides `content-type`, `content-length` and
/// `date`, in its order (request id and rate-limit values as in a real answer).
const CONTRACT_HEADERS: [(&str, &str); 19] = [
    (
        "content-security-policy",
        "default-src 'self';base-uri 'self';font-src 'self' https: data:;\
         form-action 'self';frame-ancestors 'self';img-src 'self' data:;\
         object-src 'none';script-src 'self';script-src-attr 'none';\
         style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
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
    ("access-control-allow-origin", "*"),
    (
        "access-control-expose-headers",
        "RateLimit-Policy,RateLimit-Limit,RateLimit-Remaining,RateLimit-Reset,Retry-After,X-Request-Id",
    ),
    ("ratelimit-policy", "100;w=900"),
    ("ratelimit-limit", "100"),
    ("ratelimit-remaining", "99"),
    ("ratelimit-reset", "900"),
    ("x-request-id", "3c25-1a21c9a453e-65"),
];

fn with_contract_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.reserve(CONTRACT_HEADERS.len());
    for (name, value) in CONTRACT_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    tenant_id: String,
    model_name: String,
    exists: bool,
    collection_name: &'static str,
    database_name: String,
    fingerprint: &'static str,
    indexes: [&'static str; 6],
}

async fn model(Path((tenant, model)): Path<(String, String)>) -> Json<Answer> {
    let started = std::time::Instant::now();
    let answer = answer(tenant, model);
    if ACCESS_LOG.get().copied().unwrap_or(false) {
        dmr_bench::access_line::log(&answer.0.tenant_id, &answer.0.model_name, started.elapsed());
    }
    answer
}

static ACCESS_LOG: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

fn answer(tenant: String, model: String) -> Json<Answer> {
    Json(Answer {
        database_name: format!("tenant_{tenant}"),
        tenant_id: tenant,
        model_name: model,
        exists: true,
        collection_name: "users",
        fingerprint: "31297df0df4263aa",
        indexes: [
            "email_1",
            "username_1",
            "role_1",
            "isActive_1",
            "email_1_isActive_1",
            "createdAt_-1",
        ],
    })
}

#[tokio::main]
async fn main() {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3999);
    if std::env::var("ACCESS_LOG").is_ok_and(|v| v == "1") {
        let dir = std::path::PathBuf::from(std::env::var("LOG_DIR").unwrap_or_else(|_| ".".into()));
        dmr_bench::access_line::start(&dir);
        let _ = ACCESS_LOG.set(true);
    }
    let app = Router::new().route("/api/models/{tenant}/{model}", get(model));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    if std::env::var("HEADERS").is_ok_and(|v| v == "1") {
        let app = ServiceBuilder::new()
            .map_response(with_contract_headers)
            .service(app);
        axum::serve(listener, Shared::new(app))
            .await
            .expect("serve");
    } else {
        axum::serve(listener, app).await.expect("serve");
    }
}
