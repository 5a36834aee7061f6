use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dmr_registry::HealthStatus;
use serde_json::Value;

use crate::error::{ApiError, ErrorCode};
use crate::handlers::info;
use crate::state::AppState;

/// `GET /api/models/stats`: the registry's report plus the HTTP counters.
pub async fn stats(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let report = state.registry.stats().await;
    let mut body = serde_json::to_value(report)
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    body["http"] = serde_json::to_value(state.requests.snapshot())
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    Ok(Json(body))
}

/// `GET /api/models/health`: 200 when healthy or degraded, 503 when unhealthy. Public
/// (probes): it reports counts, never a tenant id.
pub async fn health(State(state): State<AppState>) -> Response {
    let report = state.registry.health().await;
    let status = match report.status {
        HealthStatus::Healthy | HealthStatus::Degraded => StatusCode::OK,
        HealthStatus::Unhealthy => StatusCode::SERVICE_UNAVAILABLE,
    };
    let mut body = match serde_json::to_value(&report) {
        Ok(body) => body,
        Err(e) => return ApiError::new(ErrorCode::Internal, e.to_string()).into_response(),
    };
    body["authentication"] = Value::from(info::authentication(&state));
    (status, Json(body)).into_response()
}
