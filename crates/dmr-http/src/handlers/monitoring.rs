use axum::Json;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use dmr_registry::{HealthReport, HealthStatus, StatsReport};
use serde::Serialize;
use utoipa::ToSchema;

use crate::handlers::info::{self, Authentication};
use crate::metrics::HttpSummary;
use crate::openapi::responses::NotFound;
use crate::routes::paths;
use crate::state::AppState;

/// `GET /api/models/stats`: the registry's report plus the HTTP counters, serialised in
/// one pass.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StatsAnswer {
    #[serde(flatten)]
    report: StatsReport,
    http: HttpSummary,
}

/// Statistics of the registry, its cache tiers, its open tenant stores and the HTTP server.
#[utoipa::path(
    get,
    path = paths::STATS,
    tag = "monitoring",
    responses((status = 200, description = "The statistics.", body = StatsAnswer)),
)]
pub async fn stats(State(state): State<AppState>) -> Response {
    let report = state.registry.stats().await;
    Json(StatsAnswer {
        report,
        http: state.http.summary(state.requests.snapshot()),
    })
    .into_response()
}

/// Metrics in the Prometheus text format: RED per route template, the cache tiers, the
/// backplane, the store, the limits, the process. Labels never hold a tenant or document
/// id (per-tenant figures are in the stats).
#[utoipa::path(
    get,
    path = paths::METRICS,
    tag = "monitoring",
    responses(
        (status = 200, description = "The metrics, Prometheus text format 0.0.4.",
            content_type = "text/plain", body = String),
        (status = 404, response = NotFound),
    ),
)]
pub async fn metrics(State(state): State<AppState>, method: Method, uri: Uri) -> Response {
    if !state.http.route_served() {
        return crate::handlers::fallback::route_not_found(&method, uri.path()).into_response();
    }
    (
        [(CONTENT_TYPE, dmr_metrics::CONTENT_TYPE)],
        crate::metrics::render(&state).await,
    )
        .into_response()
}

/// `GET /api/models/health`: the registry's health plus whether API keys are checked.
/// Healthy or degraded (L2 unavailable: served from L1 and the store) is 200, unhealthy
/// (the store does not answer) 503.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct HealthAnswer {
    #[serde(flatten)]
    report: HealthReport,
    /// Whether API keys are checked (`disabled`: no `ADMIN_API_KEY`, development only).
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
            and the store).", body = HealthAnswer),
        (status = 503, description = "Unhealthy: the store does not answer.",
            body = HealthAnswer),
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
