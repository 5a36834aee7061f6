//! `/api/admin/tenants/:tenantId/keys`: issue, list and revoke a tenant's API keys (admin
//! key only). The key itself appears once, in the answer to its issue.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use dmr_store::ApiKeyRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode};
use crate::extract::{KeyId, Tenant, json_body};
use crate::openapi::responses::{BadRequest, NotFound};
use crate::routes::paths;
use crate::state::AppState;

/// The body of an issue: everything optional, an empty body is fine.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// At most 100 printable characters.
    label: Option<String>,
}

/// A key just issued: the only time the key itself is shown.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IssuedKeyAnswer<'a> {
    id: &'a str,
    tenant_id: &'a str,
    label: Option<&'a str>,
    #[schema(format = DateTime)]
    created_at: &'a str,
    /// `dmr_` and 43 base64url characters.
    key: &'a str,
    message: &'static str,
}

/// A key as listed: never the key or its hash.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListedKey<'a> {
    id: &'a str,
    tenant_id: &'a str,
    label: Option<&'a str>,
    #[schema(format = DateTime)]
    created_at: &'a str,
}

impl<'a> From<&'a ApiKeyRecord> for ListedKey<'a> {
    fn from(record: &'a ApiKeyRecord) -> Self {
        Self {
            id: &record.id,
            tenant_id: &record.tenant_id,
            label: record.label.as_deref(),
            created_at: &record.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KeyList<'a> {
    tenant_id: &'a str,
    count: usize,
    keys: Vec<ListedKey<'a>>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KeyRevoked<'a> {
    message: &'static str,
    tenant_id: &'a str,
    id: &'a str,
}

/// Issues a tenant API key (admin key only); the answer holds the key, shown this once.
#[utoipa::path(
    post,
    path = paths::TENANT_KEYS,
    tag = "keys",
    params(Tenant),
    request_body(content = Option<IssueRequest>, description = "Optional; an empty body is no label."),
    responses(
        (status = 201, description = "Issued; store the key now.", body = IssuedKeyAnswer),
        (status = 400, response = BadRequest),
    ),
)]
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
        Json(IssuedKeyAnswer {
            id: &record.id,
            tenant_id: &record.tenant_id,
            label: record.label.as_deref(),
            created_at: &record.created_at,
            key: &issued.key,
            message: "Store this key now: it is not shown again",
        }),
    )
        .into_response())
}

/// Lists a tenant's keys: ids, labels and creation times (admin key only).
#[utoipa::path(
    get,
    path = paths::TENANT_KEYS,
    tag = "keys",
    params(Tenant),
    responses(
        (status = 200, description = "The tenant's keys.", body = KeyList),
        (status = 400, response = BadRequest),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
) -> Result<Response, ApiError> {
    let keys = state.access.list_keys(&tenant).await?;
    Ok(Json(KeyList {
        tenant_id: tenant.as_str(),
        count: keys.len(),
        keys: keys.iter().map(ListedKey::from).collect(),
    })
    .into_response())
}

/// Revokes a tenant's key (admin key only): at once here, within `API_KEY_CACHE_TTL_MS`
/// on other instances.
#[utoipa::path(
    delete,
    path = paths::TENANT_KEY,
    tag = "keys",
    params(Tenant, KeyId),
    responses(
        (status = 200, description = "Revoked.", body = KeyRevoked),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    ),
)]
pub async fn revoke(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    KeyId(id): KeyId,
) -> Result<Response, ApiError> {
    if !state.access.revoke_key(&tenant, &id).await? {
        return Err(ApiError::new(
            ErrorCode::ApiKeyNotFound,
            format!("Tenant {tenant} has no API key {id:?}"),
        ));
    }
    Ok(Json(KeyRevoked {
        message: "API key revoked",
        tenant_id: tenant.as_str(),
        id: &id,
    })
    .into_response())
}
