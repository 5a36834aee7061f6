use std::time::SystemTime;

use axum::Json;
use axum::extract::State;
use dmr_store::iso_millis;
use serde_json::{Value, json};

use crate::state::AppState;

/// `GET /`
pub async fn root() -> Json<Value> {
    Json(json!({
        "name": "Distributed Model Registry",
        "version": env!("CARGO_PKG_VERSION"),
        "status": "running",
        "endpoints": {
            "health": "/health",
            "modelsHealth": "/api/models/health",
            "stats": "/api/models/stats",
            "schemas": "/api/models/schemas",
            "tenantModels": "/api/models/:tenantId",
            "model": "/api/models/:tenantId/:modelName",
            "test": "POST /api/models/:tenantId/test",
            "invalidateTenantCache": "DELETE /api/models/cache/:tenantId",
            "invalidateAllCache": "DELETE /api/models/cache",
            "closeConnection": "DELETE /api/models/connection/:tenantId",
            "apiKeys": "POST|GET /api/admin/tenants/:tenantId/keys, DELETE /api/admin/tenants/:tenantId/keys/:keyId",
        }
    }))
}

/// `GET /health`: liveness only; never touches the store, so a load balancer's probe stays
/// cheap. `/api/models/health` is the deep check.
pub async fn health(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "status": "healthy",
        "timestamp": iso_millis(SystemTime::now()),
        "uptime": state.info.started.elapsed().as_secs_f64(),
        "environment": state.info.environment,
        "pid": state.info.pid,
        "authentication": authentication(&state),
    }))
}

/// `"disabled"` when no admin key is configured (development): every route is open.
pub fn authentication(state: &AppState) -> &'static str {
    if state.access.is_enforced() {
        "enabled"
    } else {
        "disabled"
    }
}
