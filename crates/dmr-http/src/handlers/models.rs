use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use dmr_registry::TestOperation;
use dmr_store::IndexFailure;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{ApiError, ErrorCode};
use crate::extract::{Tenant, TenantModel, check_model_name, json_body};
use crate::state::AppState;

/// `GET /api/models/schemas`, with each model's current version (fingerprint).
pub async fn schemas(State(state): State<AppState>) -> Json<Value> {
    let models = state.registry.models();
    let names: Vec<&str> = models.names().collect();
    let versions: serde_json::Map<String, Value> = models
        .iter()
        .map(|def| (def.name.clone(), Value::from(def.fingerprint.as_str())))
        .collect();
    Json(json!({ "count": names.len(), "schemas": names, "versions": versions }))
}

/// `POST /api/models/schemas/reload`: reads the model files again (as SIGHUP does).
pub async fn reload(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let report = state.registry.reload().await?;
    Ok(Json(
        json!({ "message": "Schemas reloaded", "report": report }),
    ))
}

/// `GET /api/models/:tenantId`: compiles every model for the tenant. Models that fail are
/// listed under `failed` while the others are served; only when none compiles does the
/// route fail, with the first model's error.
pub async fn tenant_models(State(state): State<AppState>, Tenant(tenant): Tenant) -> Response {
    let started = Instant::now();
    let mut result = state.registry.tenant_models(&tenant).await;
    if result.compiled.is_empty() && !result.failed.is_empty() {
        let (_, first) = result.failed.swap_remove(0);
        return ApiError::from(first).into_response();
    }
    let names: Vec<&str> = result.compiled.iter().map(|m| m.name()).collect();
    let failed: Vec<Value> = result
        .failed
        .into_iter()
        .map(|(model, e)| json!({ "model": model, "error": ApiError::from(e).body()["error"] }))
        .collect();
    Json(json!({
        "tenantId": tenant.as_str(),
        "models": names,
        "count": names.len(),
        "retrievalTime": format!("{}ms", started.elapsed().as_millis()),
        "failed": failed,
    }))
    .into_response()
}

/// The L1-hit answer, serialised straight from the compiled model (no intermediate JSON
/// tree: this is the registry's hottest route).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ModelAnswer<'a> {
    tenant_id: &'a str,
    model_name: &'a str,
    exists: bool,
    collection_name: &'a str,
    database_name: &'a str,
    fingerprint: &'a str,
    indexes: &'a [String],
    index_errors: &'a [IndexFailure],
}

/// `GET /api/models/:tenantId/:modelName`
pub async fn model(State(state): State<AppState>, path: TenantModel) -> Result<Response, ApiError> {
    let tenant = &path.tenant;
    let compiled = state.registry.model(tenant, path.model()).await?;
    Ok(Json(ModelAnswer {
        tenant_id: tenant.as_str(),
        model_name: compiled.name(),
        exists: true,
        collection_name: &compiled.collection,
        database_name: &compiled.database_name,
        fingerprint: &compiled.def.fingerprint,
        indexes: &compiled.ensured.indexes,
        index_errors: &compiled.ensured.failed,
    })
    .into_response())
}

/// The body of `POST /api/models/:tenantId/test`; both fields default as in the seed.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestRequest {
    model_name: Option<String>,
    operation: Option<String>,
}

/// `POST /api/models/:tenantId/test`
pub async fn test_operation(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let request: TestRequest = json_body(body)?;
    let model = request.model_name.unwrap_or_else(|| "User".to_owned());
    check_model_name(&model)?;
    let operation_name = request.operation.unwrap_or_else(|| "count".to_owned());
    let operation: TestOperation =
        operation_name
            .parse()
            .map_err(|e: dmr_registry::UnknownOperation| {
                ApiError::new(ErrorCode::InvalidOperation, e.to_string())
            })?;
    let result = state.registry.run_test(&tenant, &model, operation).await?;
    Ok(Json(json!({
        "tenantId": tenant.as_str(),
        "modelName": model,
        "operation": operation.as_str(),
        "result": result,
    })))
}
