use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::extract::Tenant;
use crate::openapi::responses::BadRequest;
use crate::routes::paths;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TenantCacheInvalidated<'a> {
    #[schema(example = "Cache invalidated successfully")]
    message: &'static str,
    tenant_id: &'a str,
}

/// Drops the tenant's compiled models from every instance's cache.
#[utoipa::path(
    delete,
    path = paths::TENANT_CACHE,
    tag = "cache",
    params(Tenant),
    responses(
        (status = 200, description = "Invalidated here, in L2 and, through the backplane, \
            on every instance.", body = TenantCacheInvalidated),
        (status = 400, response = BadRequest),
    ),
)]
pub async fn invalidate_tenant(State(state): State<AppState>, Tenant(tenant): Tenant) -> Response {
    state.registry.invalidate_tenant(&tenant).await;
    tracing::info!(tenant = %tenant, "tenant cache invalidated");
    Json(TenantCacheInvalidated {
        message: "Cache invalidated successfully",
        tenant_id: tenant.as_str(),
    })
    .into_response()
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllCacheInvalidated {
    #[schema(example = "All cache entries invalidated successfully")]
    message: &'static str,
}

/// Drops every compiled model from every instance's cache.
#[utoipa::path(
    delete,
    path = paths::CACHE,
    tag = "cache",
    responses((status = 200, description = "Invalidated everywhere.", body = AllCacheInvalidated)),
)]
pub async fn invalidate_all(State(state): State<AppState>) -> Json<AllCacheInvalidated> {
    state.registry.invalidate_all().await;
    tracing::info!("all cache entries invalidated");
    Json(AllCacheInvalidated {
        message: "All cache entries invalidated successfully",
    })
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectionClosed<'a> {
    #[schema(example = "Connection closed successfully")]
    message: &'static str,
    tenant_id: &'a str,
    /// Whether a store was open (on this instance).
    closed: bool,
}

/// Closes the tenant's store on every instance (and drops its cached models).
#[utoipa::path(
    delete,
    path = paths::TENANT_CONNECTION,
    tag = "cache",
    params(Tenant),
    responses(
        (status = 200, description = "Closed, or was not open.", body = ConnectionClosed),
        (status = 400, response = BadRequest),
    ),
)]
pub async fn close_connection(State(state): State<AppState>, Tenant(tenant): Tenant) -> Response {
    let closed = state.registry.close_tenant(&tenant).await;
    tracing::info!(tenant = %tenant, closed, "tenant connection close requested");
    Json(ConnectionClosed {
        message: "Connection closed successfully",
        tenant_id: tenant.as_str(),
        closed,
    })
    .into_response()
}
