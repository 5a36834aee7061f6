//! What the edge costs a request: the same trivial route with and without the two edge
//! layers (Helmet and CORS headers; client and tenant windows, tenant slot, JSON depth), in
//! process, so the figure is the layers' own work, free of sockets and of the load
//! generator sharing the machine.
//!
//! `cargo bench -p dmr-http --bench edge`

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::IntoResponse;
use axum::routing::get;
use dmr_http::{
    BaseHeadersLayer, BrowserHeadersLayer, EdgeConfig, LimitsLayer, MAX_RATE_LIMIT, base_headers,
};
use tower::{ServiceBuilder, ServiceExt};

fn main() {
    divan::main();
}

/// The route alone, or with `headers` (Helmet and CORS), `limits` (rate, tenant, JSON
/// depth), or `both` layers, wrapped around the router as `dmr_http::app` wraps them.
fn app(
    layers: &str,
) -> impl tower::Service<
    Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future: Send,
> + Clone {
    let routes = Router::new().route(
        "/api/models/{tenant_id}/{model_name}",
        get(|| async { "{}" }),
    );
    // Limits never met (the bench repeats one client and one tenant), all of them counted.
    let config = EdgeConfig {
        rate_limit_max_requests: MAX_RATE_LIMIT,
        tenant_rate_limit_max_requests: MAX_RATE_LIMIT,
        ..EdgeConfig::default()
    };
    let base = base_headers(&config);
    let headers = matches!(layers, "headers" | "both");
    let limits = matches!(layers, "limits" | "both");
    ServiceBuilder::new()
        .option_layer(headers.then(|| BrowserHeadersLayer::new(&config, base)))
        .option_layer(limits.then(|| LimitsLayer::new(&config, None, base)))
        .option_layer(headers.then_some(BaseHeadersLayer(base)))
        .map_response(IntoResponse::into_response)
        .service(routes)
}

#[divan::bench(args = ["none", "headers", "limits", "both"], sample_count = 1000)]
fn get_model_route(bencher: divan::Bencher, layers: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let app = app(layers);
    let peer: SocketAddr = "192.0.2.7:50000".parse().unwrap();
    bencher.bench_local(|| {
        let mut request = Request::get("/api/models/acme/User")
            .body(Body::empty())
            .unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        let response = runtime.block_on(app.clone().oneshot(request)).unwrap();
        assert!(response.status().is_success());
        response
    });
}
