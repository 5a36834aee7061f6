use std::sync::OnceLock;
use std::time::SystemTime;

use axum::Json;
use axum::extract::State;
use dmr_model::date::format_system_time;
use serde::Serialize;
use utoipa::ToSchema;

use crate::routes::paths;
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
    health: String,
    models_health: String,
    stats: String,
    schemas: String,
    tenant_models: String,
    model: String,
    test: String,
    invalidate_tenant_cache: String,
    invalidate_all_cache: String,
    close_connection: String,
    api_keys: String,
    openapi: String,
    docs: String,
}

/// A route template as the seed wrote its paths (Express's `:tenantId`).
fn seed_spelling(template: &str) -> String {
    template
        .replace("{tenant_id}", ":tenantId")
        .replace("{model_name}", ":modelName")
        .replace("{key_id}", ":keyId")
}

fn index() -> &'static ServiceIndex {
    static INDEX: OnceLock<ServiceIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let path = seed_spelling;
        let on = |method: &str, template: &str| format!("{method} {}", seed_spelling(template));
        ServiceIndex {
            name: "Distributed Model Registry",
            version: env!("CARGO_PKG_VERSION"),
            status: Running::Running,
            endpoints: Endpoints {
                health: path(paths::HEALTH),
                models_health: path(paths::MODELS_HEALTH),
                stats: path(paths::STATS),
                schemas: path(paths::SCHEMAS),
                tenant_models: path(paths::TENANT),
                model: path(paths::MODEL),
                test: on("POST", paths::TENANT_TEST),
                invalidate_tenant_cache: on("DELETE", paths::TENANT_CACHE),
                invalidate_all_cache: on("DELETE", paths::CACHE),
                close_connection: on("DELETE", paths::TENANT_CONNECTION),
                api_keys: format!(
                    "{}, {}",
                    on("POST|GET", paths::TENANT_KEYS),
                    on("DELETE", paths::TENANT_KEY)
                ),
                openapi: paths::OPENAPI_DOCUMENT.to_owned(),
                docs: paths::OPENAPI_DOCS.to_owned(),
            },
        }
    })
}

/// The service and its routes.
#[utoipa::path(
    get,
    path = paths::ROOT,
    tag = "service",
    responses((status = 200, description = "The service index.", body = ServiceIndex)),
)]
pub async fn root() -> Json<&'static ServiceIndex> {
    Json(index())
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
    path = paths::HEALTH,
    tag = "service",
    responses((status = 200, description = "The process is alive.", body = Liveness)),
)]
pub async fn health(State(state): State<AppState>) -> Json<Liveness> {
    Json(Liveness {
        status: Healthy::Healthy,
        timestamp: format_system_time(SystemTime::now()),
        uptime: state.info.started.elapsed().as_secs_f64(),
        environment: state.info.environment.clone(),
        pid: state.info.pid,
        authentication: authentication(&state),
    })
}
