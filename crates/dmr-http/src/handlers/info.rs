use std::time::SystemTime;

use axum::Json;
use axum::extract::State;
use dmr_store::iso_millis;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// `GET /`: the seed's service index.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceIndex {
    #[schema(example = "Distributed Model Registry")]
    name: &'static str,
    version: &'static str,
    status: Running,
    endpoints: Endpoints,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Running {
    Running,
}

/// The seed's list of routes (its spelling), plus the API's documents.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Endpoints {
    health: &'static str,
    models_health: &'static str,
    stats: &'static str,
    schemas: &'static str,
    tenant_models: &'static str,
    model: &'static str,
    test: &'static str,
    invalidate_tenant_cache: &'static str,
    invalidate_all_cache: &'static str,
    close_connection: &'static str,
    api_keys: &'static str,
    openapi: &'static str,
    docs: &'static str,
}

const INDEX: ServiceIndex = ServiceIndex {
    name: "Distributed Model Registry",
    version: env!("CARGO_PKG_VERSION"),
    status: Running::Running,
    endpoints: Endpoints {
        health: "/health",
        models_health: "/api/models/health",
        stats: "/api/models/stats",
        schemas: "/api/models/schemas",
        tenant_models: "/api/models/:tenantId",
        model: "/api/models/:tenantId/:modelName",
        test: "POST /api/models/:tenantId/test",
        invalidate_tenant_cache: "DELETE /api/models/cache/:tenantId",
        invalidate_all_cache: "DELETE /api/models/cache",
        close_connection: "DELETE /api/models/connection/:tenantId",
        api_keys: "POST|GET /api/admin/tenants/:tenantId/keys, DELETE /api/admin/tenants/:tenantId/keys/:keyId",
        openapi: crate::openapi::DOCUMENT_PATH,
        docs: crate::openapi::DOCS_PATH,
    },
};

/// The service and its routes.
#[utoipa::path(
    get,
    path = "/",
    tag = "service",
    responses((status = 200, description = "The service index.", body = ServiceIndex)),
)]
pub async fn root() -> Json<&'static ServiceIndex> {
    Json(&INDEX)
}

/// `GET /health`: the seed's liveness answer.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Liveness {
    status: Healthy,
    #[schema(format = DateTime)]
    timestamp: String,
    /// Seconds since the process started.
    uptime: f64,
    /// `NODE_ENV`.
    environment: String,
    pid: u32,
    authentication: Authentication,
}

/// Whether API keys are checked: `disabled` when no admin key is configured
/// (development), and every route is open.
#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Authentication {
    Enabled,
    Disabled,
}

pub fn authentication(state: &AppState) -> Authentication {
    if state.access.is_enforced() {
        Authentication::Enabled
    } else {
        Authentication::Disabled
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Healthy {
    Healthy,
}

/// Liveness.
///
/// Never touches a store, so a load balancer's probe stays cheap; never rate limited.
/// `/api/models/health` is the deep check.
#[utoipa::path(
    get,
    path = "/health",
    tag = "service",
    responses((status = 200, description = "The process is alive.", body = Liveness)),
)]
pub async fn health(State(state): State<AppState>) -> Json<Liveness> {
    Json(Liveness {
        status: Healthy::Healthy,
        timestamp: iso_millis(SystemTime::now()),
        uptime: state.info.started.elapsed().as_secs_f64(),
        environment: state.info.environment.clone(),
        pid: state.info.pid,
        authentication: authentication(&state),
    })
}
