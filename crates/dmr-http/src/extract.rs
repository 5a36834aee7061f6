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

/// One path parameter, percent-decoded, handed to `read` without collecting the others
/// or copying it (this runs on every request of the hot path).
async fn path_param<S: Send + Sync, T>(
    parts: &mut Parts,
    state: &S,
    name: &str,
    read: impl FnOnce(&str) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|e| ApiError::new(ErrorCode::InvalidBody, format!("invalid path: {e}")))?;
    let value = params
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Internal,
                format!("route has no {name} parameter"),
            )
        })?;
    read(value)
}

/// `:tenantId`, validated.
pub struct Tenant(pub TenantId);

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        path_param(parts, state, "tenant_id", |raw| {
            TenantId::parse(raw).map(Tenant).map_err(|e| {
                ApiError::new(
                    ErrorCode::InvalidTenantId,
                    format!("Invalid tenant id: {e}"),
                )
            })
        })
        .await
    }
}

/// `:modelName`, checked for shape; whether it exists is the registry's answer (404).
pub struct ModelName(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ModelName {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        path_param(parts, state, "model_name", |raw| {
            check_model_name(raw)?;
            Ok(ModelName(raw.to_owned()))
        })
        .await
    }
}

/// `:tenantId` and `:modelName` from one read of the path parameters, the model name
/// left where axum decoded it (the L1-hit route: nothing copied that need not be).
pub struct TenantModel {
    pub tenant: TenantId,
    params: RawPathParams,
}

impl TenantModel {
    pub fn model(&self) -> &str {
        self.params
            .iter()
            .find(|(key, _)| *key == "model_name")
            .map(|(_, value)| value)
            .unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TenantModel {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::new(ErrorCode::InvalidBody, format!("invalid path: {e}")))?;
        let (mut tenant, mut model) = (None, None);
        for (key, value) in &params {
            match key {
                "tenant_id" => tenant = Some(value),
                "model_name" => model = Some(value),
                _ => {}
            }
        }
        let (Some(tenant), Some(model)) = (tenant, model) else {
            return Err(ApiError::new(
                ErrorCode::Internal,
                "route has no tenant_id/model_name parameters",
            ));
        };
        let tenant = TenantId::parse(tenant).map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidTenantId,
                format!("Invalid tenant id: {e}"),
            )
        })?;
        check_model_name(model)?;
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
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
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
        path_param(parts, state, "id", |raw| Ok(DocumentId(raw.to_owned()))).await
    }
}
