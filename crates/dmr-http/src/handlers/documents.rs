//! `/api/models/:tenantId/:modelName/documents`: validated CRUD and queries.

use std::collections::HashMap;

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use dmr_registry::FindRequest;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ErrorCode};
use crate::extract::{DocumentId, TenantModel, json_body};
use crate::state::AppState;

/// A JSON object body (a document, an update).
fn object_body(body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    let value: Value = json_body(body)?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidBody,
            "The request body must be a JSON object",
        ))
    }
}

/// `POST .../documents`: 201 with the stored document.
pub async fn create(
    State(state): State<AppState>,
    path: TenantModel,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = object_body(body)?;
    let doc = state
        .registry
        .create_document(&path.tenant, path.model(), &body)
        .await?;
    Ok((StatusCode::CREATED, Json(doc)).into_response())
}

/// `POST .../documents/bulk` with `{"documents": [...]}`: a result per document; 201 when
/// every one was created, 207 otherwise.
pub async fn create_many(
    State(state): State<AppState>,
    path: TenantModel,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = object_body(body)?;
    let Some(documents) = body.get("documents").and_then(Value::as_array) else {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            "Expected {\"documents\": [ ... ]}",
        ));
    };
    let limit = state.registry.query_limits().max_page_size as usize;
    if documents.len() > limit {
        return Err(ApiError::new(
            ErrorCode::LimitExceeded,
            format!(
                "{} documents in one bulk insert; the limit is {limit}",
                documents.len()
            ),
        ));
    }
    let items = state
        .registry
        .create_documents(&path.tenant, path.model(), documents)
        .await?;
    let inserted = items.iter().filter(|i| i.result.is_ok()).count();
    let results: Vec<Value> = items
        .into_iter()
        .map(|item| match item.result {
            Ok(doc) => json!({ "index": item.index, "ok": true, "document": doc }),
            Err(e) => json!({ "index": item.index, "ok": false, "error": ApiError::from(e).body()["error"] }),
        })
        .collect();
    let status = if inserted == results.len() {
        StatusCode::CREATED
    } else {
        StatusCode::MULTI_STATUS
    };
    let failed = results.len() - inserted;
    Ok((
        status,
        Json(json!({ "inserted": inserted, "failed": failed, "results": results })),
    )
        .into_response())
}

pub async fn get(
    State(state): State<AppState>,
    path: TenantModel,
    DocumentId(id): DocumentId,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        state
            .registry
            .get_document(&path.tenant, path.model(), &id)
            .await?,
    ))
}

fn json_param(params: &HashMap<String, String>, name: &str) -> Result<Option<Value>, ApiError> {
    params
        .get(name)
        .map(|raw| {
            serde_json::from_str(raw).map_err(|e| {
                ApiError::new(
                    ErrorCode::InvalidJson,
                    format!("Query parameter {name:?} is not JSON: {e}"),
                )
            })
        })
        .transpose()
}

fn number_param(params: &HashMap<String, String>, name: &str) -> Result<Option<u64>, ApiError> {
    params
        .get(name)
        .map(|raw| {
            raw.parse().map_err(|_| {
                ApiError::new(
                    ErrorCode::InvalidQuery,
                    format!("Query parameter {name:?} must be a whole number, got {raw:?}"),
                )
            })
        })
        .transpose()
}

fn find_request_from_params(params: &HashMap<String, String>) -> Result<FindRequest, ApiError> {
    for name in params.keys() {
        if !["filter", "sort", "projection", "skip", "limit"].contains(&name.as_str()) {
            return Err(ApiError::new(
                ErrorCode::InvalidQuery,
                format!(
                    "Unknown query parameter {name:?}; expected filter, sort, projection, skip, limit"
                ),
            ));
        }
    }
    Ok(FindRequest {
        filter: json_param(params, "filter")?,
        sort: json_param(params, "sort")?,
        projection: json_param(params, "projection")?,
        skip: number_param(params, "skip")?,
        limit: number_param(params, "limit")?,
    })
}

/// The body of `POST .../documents/query`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryBody {
    filter: Option<Value>,
    sort: Option<Value>,
    projection: Option<Value>,
    skip: Option<u64>,
    limit: Option<u64>,
}

async fn list_response(
    state: &AppState,
    tenant: &dmr_store::TenantId,
    model: &str,
    request: FindRequest,
) -> Result<Json<Value>, ApiError> {
    let limits = state.registry.query_limits();
    let documents = state
        .registry
        .find_documents(tenant, model, &request)
        .await?;
    Ok(Json(json!({
        "documents": documents,
        "count": documents.len(),
        "skip": request.skip.unwrap_or(0),
        "limit": request.limit.unwrap_or(limits.default_page_size),
    })))
}

/// `GET .../documents?filter=&sort=&projection=&skip=&limit=` (JSON in the parameters).
pub async fn list(
    State(state): State<AppState>,
    path: TenantModel,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let request = find_request_from_params(&params)?;
    list_response(&state, &path.tenant, path.model(), request).await
}

/// `POST .../documents/query` with `{filter, sort, projection, skip, limit}`.
pub async fn query(
    State(state): State<AppState>,
    path: TenantModel,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body: QueryBody = json_body(body)?;
    let request = FindRequest {
        filter: body.filter,
        sort: body.sort,
        projection: body.projection,
        skip: body.skip,
        limit: body.limit,
    };
    list_response(&state, &path.tenant, path.model(), request).await
}

/// `GET .../documents/count?filter=`
pub async fn count(
    State(state): State<AppState>,
    path: TenantModel,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    if let Some(name) = params.keys().find(|k| k.as_str() != "filter") {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("Unknown query parameter {name:?}; expected filter"),
        ));
    }
    let filter = json_param(&params, "filter")?;
    let count = state
        .registry
        .count_documents(&path.tenant, path.model(), filter.as_ref())
        .await?;
    Ok(Json(json!({ "count": count })))
}

/// `PUT .../documents/:id`: the whole document, validated.
pub async fn replace(
    State(state): State<AppState>,
    path: TenantModel,
    DocumentId(id): DocumentId,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = object_body(body)?;
    Ok(Json(
        state
            .registry
            .replace_document(&path.tenant, path.model(), &id, &body)
            .await?,
    ))
}

/// `PATCH .../documents/:id`: update operators, or a plain object as `$set`.
pub async fn update(
    State(state): State<AppState>,
    path: TenantModel,
    DocumentId(id): DocumentId,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = object_body(body)?;
    Ok(Json(
        state
            .registry
            .update_document(&path.tenant, path.model(), &id, &body)
            .await?,
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    path: TenantModel,
    DocumentId(id): DocumentId,
) -> Result<Json<Value>, ApiError> {
    state
        .registry
        .delete_document(&path.tenant, path.model(), &id)
        .await?;
    Ok(Json(
        json!({ "deleted": true, "id": id.to_ascii_lowercase() }),
    ))
}
