use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::extract::Tenant;
use crate::state::AppState;

/// `DELETE /api/models/cache/:tenantId`
pub async fn invalidate_tenant(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
) -> Json<Value> {
    state.registry.invalidate_tenant(&tenant).await;
    tracing::info!(tenant = %tenant, "tenant cache invalidated");
    Json(json!({ "message": "Cache invalidated successfully", "tenantId": tenant.as_str() }))
}

/// `DELETE /api/models/cache`
pub async fn invalidate_all(State(state): State<AppState>) -> Json<Value> {
    state.registry.invalidate_all().await;
    tracing::info!("all cache entries invalidated");
    Json(json!({ "message": "All cache entries invalidated successfully" }))
}

/// `DELETE /api/models/connection/:tenantId`: `closed` says whether a store was open.
pub async fn close_connection(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
) -> Json<Value> {
    let closed = state.registry.close_tenant(&tenant).await;
    tracing::info!(tenant = %tenant, closed, "tenant connection close requested");
    Json(json!({
        "message": "Connection closed successfully",
        "tenantId": tenant.as_str(),
        "closed": closed,
    }))
}
