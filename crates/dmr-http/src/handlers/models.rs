use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use dmr_registry::TestOperation;
use dmr_store::IndexFailure;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorDetail};
use crate::extract::{Tenant, TenantModel, check_model_name, json_body};
use crate::openapi::responses::{BadRequest, NotFound, ServiceUnavailable, UnprocessableEntity};
use crate::routes::paths;
use crate::state::AppState;

static APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaList<'a> {
    count: usize,
    /// Model names.
    schemas: Vec<&'a str>,
    /// Each model's current version (fingerprint), by name.
    #[schema(value_type = std::collections::HashMap<String, String>)]
    versions: serde_json::Map<String, serde_json::Value>,
}

/// The models every tenant is served, with their versions.
#[utoipa::path(
    get,
    path = paths::SCHEMAS,
    tag = "models",
    responses((status = 200, description = "The loaded models.", body = SchemaList)),
)]
pub async fn schemas(State(state): State<AppState>) -> Response {
    let models = state.registry.models();
    let names: Vec<&str> = models.names().collect();
    let versions = models
        .iter()
        .map(|def| (def.name.clone(), def.fingerprint.as_str().into()))
        .collect();
    Json(SchemaList {
        count: names.len(),
        schemas: names,
        versions,
    })
    .into_response()
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reloaded {
    #[schema(example = "Schemas reloaded")]
    message: &'static str,
    report: dmr_registry::ReloadReport,
}

/// Reads the model files again (as SIGHUP does) and puts them in service on every instance.
#[utoipa::path(
    post,
    path = paths::SCHEMAS_RELOAD,
    tag = "models",
    responses(
        (status = 200, description = "The new models are in service.", body = Reloaded),
        (status = 422, response = UnprocessableEntity),
        (status = 503, response = ServiceUnavailable),
    ),
)]
pub async fn reload(State(state): State<AppState>) -> Result<Json<Reloaded>, ApiError> {
    let report = state.registry.reload().await?;
    Ok(Json(Reloaded {
        message: "Schemas reloaded",
        report,
    }))
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TenantModels<'a> {
    tenant_id: &'a str,
    /// The models compiled and served.
    models: Vec<&'a str>,
    count: usize,
    #[schema(example = "3ms", pattern = "^[0-9]+ms$")]
    retrieval_time: String,
    /// Models that failed to compile, each with its error; the others are served.
    failed: Vec<ModelFailure>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelFailure {
    model: String,
    error: ErrorDetail,
}

/// Compiles every model for the tenant (a new tenant is created).
///
/// A model that fails is listed in `failed` while the others are served; only when none
/// compiles does the route fail, with the first model's error.
#[utoipa::path(
    get,
    path = paths::TENANT,
    tag = "models",
    params(Tenant),
    responses(
        (status = 200, description = "The tenant's models.", body = TenantModels),
        (status = 400, response = BadRequest),
        (status = 503, response = ServiceUnavailable),
    ),
)]
pub async fn tenant_models(State(state): State<AppState>, Tenant(tenant): Tenant) -> Response {
    let started = Instant::now();
    let mut result = state.registry.tenant_models(&tenant).await;
    if result.compiled.is_empty() && !result.failed.is_empty() {
        let (_, first) = result.failed.swap_remove(0);
        return ApiError::from(first).into_response();
    }
    let names: Vec<&str> = result.compiled.iter().map(|m| m.name()).collect();
    let failed: Vec<ModelFailure> = result
        .failed
        .into_iter()
        .map(|(model, e)| ModelFailure {
            model,
            error: ApiError::from(e).detail(),
        })
        .collect();
    Json(TenantModels {
        tenant_id: tenant.as_str(),
        count: names.len(),
        models: names,
        retrieval_time: format!("{}ms", started.elapsed().as_millis()),
        failed,
    })
    .into_response()
}

/// The L1-hit answer, serialised straight from the compiled model (no intermediate JSON
/// tree: this is the registry's hottest route).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ModelAnswer<'a> {
    tenant_id: &'a str,
    model_name: &'a str,
    exists: bool,
    collection_name: &'a str,
    /// `tenant_<tenantId>`.
    database_name: &'a str,
    /// The model's version.
    fingerprint: &'a str,
    /// Index names ensured on the tenant's collection.
    indexes: &'a [String],
    /// Indexes the store refused; the model is served without them.
    index_errors: &'a [IndexFailure],
}

/// The model compiled for the tenant: its collection, version and indexes.
#[utoipa::path(
    get,
    path = paths::MODEL,
    tag = "models",
    params(TenantModel),
    responses(
        (status = 200, description = "The compiled model.", body = ModelAnswer),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 503, response = ServiceUnavailable),
    ),
)]
pub async fn model(State(state): State<AppState>, path: TenantModel) -> Result<Response, ApiError> {
    model_answer(&state, &path.tenant, path.model()).await
}

/// The model named `test`.
///
/// `POST /api/models/{tenant_id}/test` is a route of its own, so without this one a `GET`
/// of the model named `test` would answer 405 (the Node registry routes it to the model).
#[utoipa::path(
    get,
    path = paths::TENANT_TEST,
    tag = "models",
    params(Tenant),
    responses(
        (status = 200, description = "The compiled model.", body = ModelAnswer),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 503, response = ServiceUnavailable),
    ),
)]
pub async fn model_named_test(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
) -> Result<Response, ApiError> {
    model_answer(&state, &tenant, "test").await
}

/// The answer is the same for as long as the compiled model is: encoded on first use and
/// kept on the model (`CompiledModel::encoded_answer`), so an L1 hit copies no field.
async fn model_answer(
    state: &AppState,
    tenant: &dmr_store::TenantId,
    name: &str,
) -> Result<Response, ApiError> {
    let compiled = state.registry.model(tenant, name).await?;
    let body = compiled
        .encoded_answer
        .get_or_init(|| {
            let answer = ModelAnswer {
                tenant_id: compiled.tenant.as_str(),
                model_name: compiled.name(),
                exists: true,
                collection_name: &compiled.collection,
                database_name: &compiled.database_name,
                fingerprint: &compiled.def.fingerprint,
                indexes: &compiled.ensured.indexes,
                index_errors: &compiled.ensured.failed,
            };
            Bytes::from(serde_json::to_vec(&answer).expect("strings and lists serialise"))
        })
        .clone();
    Ok(([(CONTENT_TYPE, APPLICATION_JSON.clone())], body).into_response())
}

/// The body of `POST /api/models/:tenantId/test`; both fields default as in the seed (an
/// empty body too).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestRequest {
    /// Default `User`.
    #[schema(pattern = "^[A-Za-z][A-Za-z0-9_]{0,63}$", max_length = 64)]
    model_name: Option<String>,
    /// Default `count`; anything else is 400 `invalid_operation`.
    #[schema(value_type = Option<OperationName>)]
    operation: Option<String>,
}

#[derive(ToSchema)]
#[allow(dead_code, reason = "schema only: the handler parses the name itself")]
pub enum OperationName {
    #[schema(rename = "count")]
    Count,
    #[schema(rename = "findOne")]
    FindOne,
    #[schema(rename = "find")]
    Find,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TestAnswer<'a> {
    tenant_id: &'a str,
    model_name: &'a str,
    operation: &'static str,
    /// `count`: a number; `findOne`: a document or null; `find`: the first ten documents.
    result: serde_json::Value,
}

/// Runs `count`, `findOne` or `find` (the first ten) on the tenant's collection.
#[utoipa::path(
    post,
    path = paths::TENANT_TEST,
    tag = "models",
    params(Tenant),
    request_body(content = Option<TestRequest>, content_type = "application/json",
        description = "Optional; an empty body is `{}`."),
    responses(
        (status = 200, description = "The operation's result.", body = TestAnswer),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 503, response = ServiceUnavailable),
    ),
)]
pub async fn test_operation(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: TestRequest = json_body(body)?;
    let model = request.model_name.unwrap_or_else(|| "User".to_owned());
    check_model_name(&model)?;
    let operation_name = request.operation.unwrap_or_else(|| "count".to_owned());
    let operation: TestOperation = operation_name
        .parse()
        .map_err(|e: dmr_registry::UnknownOperation| ApiError::coded(&e))?;
    let result = state.registry.run_test(&tenant, &model, operation).await?;
    Ok(Json(TestAnswer {
        tenant_id: tenant.as_str(),
        model_name: &model,
        operation: operation.as_str(),
        result,
    })
    .into_response())
}
