//! Extractors that hand a handler what the edge's `RequestContext` read from the path,
//! validated there, so that no invalid tenant id or model name ever reaches the registry
//! (and no file is created for one); and the JSON body, parsed as the seed's Express did.

use axum::extract::FromRequestParts;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::http::request::Parts;
use bytes::Bytes;
use dmr_store::TenantId;
use serde::de::DeserializeOwned;

use crate::edge::RequestContext;
use crate::error::{ApiError, ErrorCode};

fn context(parts: &Parts) -> Result<&RequestContext, ApiError> {
    parts
        .extensions
        .get::<RequestContext>()
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "request without the edge's context"))
}

fn missing(name: &str) -> ApiError {
    ApiError::new(
        ErrorCode::Internal,
        format!("route has no {name} parameter"),
    )
}

fn tenant_of(context: &RequestContext) -> Result<TenantId, ApiError> {
    match context.tenant() {
        Some(Ok(tenant)) => Ok(tenant.clone()),
        Some(Err(bad)) => Err(ApiError::new(
            ErrorCode::InvalidTenantId,
            format!("Invalid tenant id: {bad}"),
        )),
        None => Err(missing("tenant_id")),
    }
}

/// `:tenantId`, validated.
pub struct Tenant(pub TenantId);

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        tenant_of(context(parts)?).map(Tenant)
    }
}

/// `:tenantId` and `:modelName`, validated (the tenant first). Whether the model exists is
/// the registry's answer (404).
pub struct TenantModel {
    pub tenant: TenantId,
    model: crate::edge::ModelName,
}

impl TenantModel {
    pub fn model(&self) -> &str {
        self.model.as_str()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TenantModel {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let context = context(parts)?;
        let tenant = tenant_of(context)?;
        match context.model() {
            Some(Ok(model)) => Ok(TenantModel { tenant, model }),
            Some(Err(text)) => Err(invalid_model_name(text)),
            None => Err(missing("model_name")),
        }
    }
}

/// A model name that is not one (a body's `modelName`, or a path's).
pub fn check_model_name(raw: &str) -> Result<(), ApiError> {
    if dmr_model::is_valid_model_name(raw) {
        Ok(())
    } else {
        Err(invalid_model_name(raw))
    }
}

fn invalid_model_name(raw: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidModelName,
        format!(
            "Invalid model name {raw:?}: 1-64 characters, a letter first, then letters, digits or '_'"
        ),
    )
}

/// Parses an optional JSON body as Express's `express.json()` would hand it to the seed: an
/// empty body is the type's default. Malformed JSON and wrong shapes are 400s.
pub fn json_body<T: DeserializeOwned + Default>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|e| {
        if let Some(too_deep) = crate::json_depth::find_in_chain(&e) {
            ApiError::new(ErrorCode::JsonTooDeep, format!("Request body: {too_deep}"))
        } else if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::PayloadTooLarge, "Request body is too large")
        } else {
            ApiError::new(
                ErrorCode::InvalidBody,
                format!("Cannot read request body: {e}"),
            )
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("Malformed JSON body: {e}")))?;
    serde_json::from_value(value)
        .map_err(|e| ApiError::new(ErrorCode::InvalidBody, format!("Invalid request body: {e}")))
}

/// `:id` of a document; its shape is checked by the registry (400 `invalid_document_id`).
pub struct DocumentId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for DocumentId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let id = context(parts)?.param("id").ok_or_else(|| missing("id"))?;
        Ok(DocumentId(id.to_owned()))
    }
}

/// `:keyId` of a tenant API key; an unknown one is the store's answer (404).
pub struct KeyId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for KeyId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let id = context(parts)?
            .param("key_id")
            .ok_or_else(|| missing("key_id"))?;
        Ok(KeyId(id.to_owned()))
    }
}
