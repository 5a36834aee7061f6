//! Extractors that validate path parameters and bodies before a handler runs, so that no
//! invalid tenant id or model name ever reaches the registry (and no file is created for
//! one).

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::StatusCode;
use axum::http::request::Parts;
use bytes::Bytes;
use dmr_store::TenantId;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};

/// The route's path parameters, percent-decoded once, borrowed in place.
async fn path_params<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<RawPathParams, ApiError> {
    RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|e| ApiError::new(ErrorCode::InvalidBody, format!("invalid path: {e}")))
}

fn find<'a>(params: &'a RawPathParams, name: &str) -> Result<&'a str, ApiError> {
    params
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Internal,
                format!("route has no {name} parameter"),
            )
        })
}

fn tenant_id(raw: &str) -> Result<TenantId, ApiError> {
    TenantId::parse(raw).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidTenantId,
            format!("Invalid tenant id: {e}"),
        )
    })
}

/// `:tenantId`, validated.
pub struct Tenant(pub TenantId);

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = path_params(parts, state).await?;
        tenant_id(find(&params, "tenant_id")?).map(Tenant)
    }
}

/// `:tenantId` and `:modelName`, validated from one read of the path; the model name is
/// left where axum decoded it (the L1-hit route: nothing copied that need not be). Whether
/// the model exists is the registry's answer (404).
pub struct TenantModel {
    pub tenant: TenantId,
    params: RawPathParams,
}

impl TenantModel {
    pub fn model(&self) -> &str {
        find(&self.params, "model_name").unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TenantModel {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = path_params(parts, state).await?;
        let tenant = tenant_id(find(&params, "tenant_id")?)?;
        check_model_name(find(&params, "model_name")?)?;
        Ok(TenantModel { tenant, params })
    }
}

pub fn check_model_name(raw: &str) -> Result<(), ApiError> {
    if dmr_model::is_valid_model_name(raw) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidModelName,
            format!(
                "Invalid model name {raw:?}: 1-64 characters, a letter first, then letters, digits or '_'"
            ),
        ))
    }
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

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = path_params(parts, state).await?;
        Ok(DocumentId(find(&params, "id")?.to_owned()))
    }
}

/// `:keyId` of a tenant API key; an unknown one is the store's answer (404).
pub struct KeyId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for KeyId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = path_params(parts, state).await?;
        Ok(KeyId(find(&params, "key_id")?.to_owned()))
    }
}
