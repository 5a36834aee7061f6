//! What the edge costs a request, in process (free of sockets and of the load generator
//! sharing the machine): the whole app (`dmr_http::app`, every layer, the default limits
//! set never to be met, a real registry on SQLite files in a temporary directory) on
//! `GET /health` and on the L1-hit route, beside a bare axum router answering the same path
//! with a body of the same size.
//!
//! `cargo bench -p dmr-http --bench edge`

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use dmr_http::{AppState, EdgeConfig, HttpConfig, MAX_RATE_LIMIT, ServiceInfo};
use dmr_model::ModelSet;
use dmr_registry::{AccessConfig, AccessControl, Registry, RegistryConfig};
use dmr_store::{Backend, TenantId};
use dmr_store_sqlite::{SqliteBackend, SqliteConfig};
use tower::{Service, ServiceExt};

fn main() {
    divan::main();
}

type App = Box<dyn FnMut(Request) -> Response>;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The registry's app with `acme`'s User compiled into L1.
fn registry_app(runtime: &tokio::runtime::Runtime, dir: &std::path::Path) -> App {
    let models = ModelSet::from_sources(vec![(
        "User.json".to_owned(),
        include_str!("../../../models/User.json").to_owned(),
    )])
    .unwrap();
    let backend: Arc<dyn Backend> = Arc::new(
        runtime
            .block_on(SqliteBackend::open(SqliteConfig {
                data_dir: dir.to_owned(),
                pool_size: 4,
                busy_timeout: Duration::from_secs(5),
            }))
            .unwrap(),
    );
    let access = AccessControl::new(backend.clone(), AccessConfig::default());
    let registry = Registry::new(backend, models, RegistryConfig::default());
    runtime
        .block_on(registry.model(&TenantId::parse("acme").unwrap(), "User"))
        .unwrap();
    let state = AppState::new(
        registry,
        access,
        ServiceInfo {
            environment: "bench".to_owned(),
            started: Instant::now(),
            pid: std::process::id(),
            commit: "test",
        },
    );
    // Limits never met (the bench repeats one client and one tenant), all of them counted.
    let config = HttpConfig {
        edge: EdgeConfig {
            rate_limit_max_requests: MAX_RATE_LIMIT,
            tenant_rate_limit_max_requests: MAX_RATE_LIMIT,
            ..EdgeConfig::default()
        },
        ..HttpConfig::default()
    };
    let app = dmr_http::app(state, &config);
    let handle = runtime.handle().clone();
    Box::new(move |request| handle.block_on(app.clone().oneshot(request)).unwrap())
}

/// The ceiling: axum's router alone, the route's path, a JSON body of the L1 answer's size.
fn bare_app(runtime: &tokio::runtime::Runtime, body_len: usize) -> App {
    let body: &'static str =
        Box::leak(format!("{{\"a\":\"{}\"}}", "x".repeat(body_len - 8)).into());
    let mut router = Router::new()
        .route(
            "/api/models/{tenant_id}/{model_name}",
            get(move || async move { ([("content-type", "application/json")], body) }),
        )
        .into_service::<Body>();
    let handle = runtime.handle().clone();
    Box::new(move |request| {
        handle
            .block_on(async {
                router.ready().await.unwrap();
                router.call(request).await
            })
            .unwrap()
            .into_response()
    })
}

fn request(path: &str) -> Request {
    let peer: SocketAddr = "192.0.2.7:50000".parse().unwrap();
    let mut request = Request::get(path).body(Body::empty()).unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

#[divan::bench(args = ["bare axum", "health", "L1 hit"], sample_count = 1000)]
fn get_route(bencher: divan::Bencher, app: &str) {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut registry = registry_app(&runtime, dir.path());
    let l1_body_len = {
        let response = registry(request("/api/models/acme/User"));
        assert!(response.status().is_success());
        let body = runtime.block_on(axum::body::to_bytes(response.into_body(), usize::MAX));
        body.unwrap().len()
    };
    let (mut serve, path): (App, &str) = match app {
        "bare axum" => (bare_app(&runtime, l1_body_len), "/api/models/acme/User"),
        "health" => (registry, "/health"),
        _ => (registry, "/api/models/acme/User"),
    };
    bencher.bench_local(|| {
        let response = serve(request(path));
        assert!(response.status().is_success());
        response
    });
}
