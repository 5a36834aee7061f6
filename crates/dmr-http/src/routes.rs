//! The one place where routes are assembled.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use tower_http::catch_panic::CatchPanicLayer;

use crate::handlers::{cache, documents, fallback, info, models, monitoring};
use crate::middleware;
use crate::state::{AppState, HttpConfig};

pub fn router(state: AppState, config: &HttpConfig) -> Router {
    let api = Router::new()
        .route("/health", get(monitoring::health))
        .route("/stats", get(monitoring::stats))
        .route("/schemas", get(models::schemas))
        .route("/schemas/reload", post(models::reload))
        .route("/cache", delete(cache::invalidate_all))
        .route("/cache/{tenant_id}", delete(cache::invalidate_tenant))
        .route("/connection/{tenant_id}", delete(cache::close_connection))
        .route("/{tenant_id}", get(models::tenant_models))
        .route("/{tenant_id}/test", post(models::test_operation))
        .route("/{tenant_id}/{model_name}", get(models::model))
        .route(
            "/{tenant_id}/{model_name}/documents",
            post(documents::create).get(documents::list),
        )
        .route(
            "/{tenant_id}/{model_name}/documents/bulk",
            post(documents::create_many),
        )
        .route(
            "/{tenant_id}/{model_name}/documents/query",
            post(documents::query),
        )
        .route(
            "/{tenant_id}/{model_name}/documents/count",
            get(documents::count),
        )
        .route(
            "/{tenant_id}/{model_name}/documents/{id}",
            get(documents::get)
                .put(documents::replace)
                .patch(documents::update)
                .delete(documents::delete),
        );

    Router::new()
        .route("/", get(info::root))
        .route("/health", get(info::health))
        .nest("/api/models", api)
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(axum::middleware::from_fn_with_state(
            config.request_timeout,
            middleware::timeout,
        ))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::observe,
        ))
        .with_state(state)
}
