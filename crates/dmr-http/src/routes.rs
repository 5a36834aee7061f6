//! The one place where routes are assembled.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use tower_http::catch_panic::CatchPanicLayer;

use crate::edge::{BrowserHeadersLayer, LimitsLayer};
use crate::handlers::{cache, documents, fallback, info, models, monitoring};
use crate::middleware;
use crate::state::{AppState, HttpConfig};

/// Full paths, no `nest`: a nested router costs a prefix strip and a boxed service clone
/// on every request (seen in the L1-hit profile). Layers, outermost first: browser headers
/// (Helmet, CORS), request id and access log, limits (rate, tenant, JSON depth), body
/// limit, panic catcher (ARCHITECTURE.md says why).
pub fn router(state: AppState, config: &HttpConfig) -> Router {
    Router::new()
        .route("/", get(info::root))
        .route("/health", get(info::health))
        .route("/api/models/health", get(monitoring::health))
        .route("/api/models/stats", get(monitoring::stats))
        .route("/api/models/schemas", get(models::schemas))
        .route("/api/models/schemas/reload", post(models::reload))
        .route("/api/models/cache", delete(cache::invalidate_all))
        .route(
            "/api/models/cache/{tenant_id}",
            delete(cache::invalidate_tenant),
        )
        .route(
            "/api/models/connection/{tenant_id}",
            delete(cache::close_connection),
        )
        .route("/api/models/{tenant_id}", get(models::tenant_models))
        .route("/api/models/{tenant_id}/test", post(models::test_operation))
        .route("/api/models/{tenant_id}/{model_name}", get(models::model))
        .route(
            "/api/models/{tenant_id}/{model_name}/documents",
            post(documents::create).get(documents::list),
        )
        .route(
            "/api/models/{tenant_id}/{model_name}/documents/bulk",
            post(documents::create_many),
        )
        .route(
            "/api/models/{tenant_id}/{model_name}/documents/query",
            post(documents::query),
        )
        .route(
            "/api/models/{tenant_id}/{model_name}/documents/count",
            get(documents::count),
        )
        .route(
            "/api/models/{tenant_id}/{model_name}/documents/{id}",
            get(documents::get)
                .put(documents::replace)
                .patch(documents::update)
                .delete(documents::delete),
        )
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(LimitsLayer::new(&config.edge))
        .layer(middleware::ObserveLayer {
            state: state.clone(),
            timeout: config.request_timeout,
        })
        .layer(BrowserHeadersLayer::new(&config.edge))
        .with_state(state)
}
