//! `/api/admin/tenants/:tenantId/keys`: issue, list and revoke a tenant's API keys (admin
//! key only). The key itself appears once, in the answer to its issue.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ErrorCode};
use crate::extract::{KeyId, Tenant, json_body};
use crate::state::AppState;

/// The body of an issue: everything optional, an empty body is fine.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    label: Option<String>,
}

/// `POST /api/admin/tenants/:tenantId/keys`: 201 with the key, shown this once.
pub async fn issue(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: IssueRequest = json_body(body)?;
    let issued = state.access.issue_key(&tenant, request.label).await?;
    let record = &issued.record;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": record.id,
            "tenantId": record.tenant_id,
            "label": record.label,
            "createdAt": record.created_at,
            "key": issued.key,
            "message": "Store this key now: it is not shown again",
        })),
    )
        .into_response())
}

/// `GET /api/admin/tenants/:tenantId/keys`: ids, labels and creation times.
pub async fn list(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
) -> Result<Json<Value>, ApiError> {
    let keys = state.access.list_keys(&tenant).await?;
    Ok(Json(json!({
        "tenantId": tenant.as_str(),
        "count": keys.len(),
        "keys": keys,
    })))
}

/// `DELETE /api/admin/tenants/:tenantId/keys/:keyId`
pub async fn revoke(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    KeyId(id): KeyId,
) -> Result<Json<Value>, ApiError> {
    if !state.access.revoke_key(&tenant, &id).await? {
        return Err(ApiError::new(
            ErrorCode::ApiKeyNotFound,
            format!("Tenant {tenant} has no API key {id:?}"),
        ));
    }
    Ok(Json(json!({
        "message": "API key revoked",
        "tenantId": tenant.as_str(),
        "id": id,
    })))
}
