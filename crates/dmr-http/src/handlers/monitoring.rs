use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dmr_registry::{HealthReport, HealthStatus, StatsReport};
use serde::Serialize;

use crate::handlers::info::{self, Authentication};
use crate::openapi::reports;
use crate::routes::paths;
use crate::state::{AppState, RequestCountersSnapshot};

/// The registry's report plus the HTTP counters, serialised in one pass.
#[derive(Serialize)]
struct StatsAnswer {
    #[serde(flatten)]
    report: StatsReport,
    http: RequestCountersSnapshot,
}

/// Statistics of the registry, its cache tiers, its open tenant stores and the HTTP server.
#[utoipa::path(
    get,
    path = paths::STATS,
    tag = "monitoring",
    responses((status = 200, description = "The statistics.", body = reports::StatsReport)),
)]
pub async fn stats(State(state): State<AppState>) -> Response {
    let report = state.registry.stats().await;
    Json(StatsAnswer {
        report,
        http: state.requests.snapshot(),
    })
    .into_response()
}

/// The registry's health plus whether API keys are checked.
#[derive(Serialize)]
struct HealthAnswer {
    #[serde(flatten)]
    report: HealthReport,
    authentication: Authentication,
}

/// Deep health: the store, the cache tiers, the connections. Public (probes): it reports
/// counts, never a tenant id.
#[utoipa::path(
    get,
    path = paths::MODELS_HEALTH,
    tag = "monitoring",
    responses(
        (status = 200, description = "Healthy, or degraded (L2 unavailable: served from L1 \
            and the store).", body = reports::HealthReport),
        (status = 503, description = "Unhealthy: the store does not answer.",
            body = reports::HealthReport),
    ),
)]
pub async fn health(State(state): State<AppState>) -> Response {
    let report = state.registry.health().await;
    let status = match report.status {
        HealthStatus::Healthy | HealthStatus::Degraded => StatusCode::OK,
        HealthStatus::Unhealthy => StatusCode::SERVICE_UNAVAILABLE,
    };
    let authentication = info::authentication(&state);
    (
        status,
        Json(HealthAnswer {
            report,
            authentication,
        }),
    )
        .into_response()
}
