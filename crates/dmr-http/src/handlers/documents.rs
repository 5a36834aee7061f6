//! `/api/models/:tenantId/:modelName/documents`: validated CRUD and queries.

use std::collections::HashMap;

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use dmr_registry::FindRequest;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode, ErrorDetail};
use crate::extract::{DocumentId, TenantModel, json_body};
use crate::openapi::params::{FilterParam, ListParams};
use crate::openapi::query::{Filter, ProjectionSpec, SortSpec, Update};
use crate::openapi::responses::{BadRequest, Conflict, NotFound, ServiceUnavailable};
use crate::openapi::schemas::{Document, DocumentBody, ProjectedDocument};
use crate::routes::paths;
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

/// Creates a document.
///
/// Casting, setters, defaults, `_id`, timestamps, strict mode and every validator of the
/// model apply, as in Mongoose.
#[utoipa::path(
    post,
    path = paths::DOCUMENTS,
    tag = "documents",
    params(TenantModel),
    request_body(content = DocumentBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The stored document.", body = Document),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 503, response = ServiceUnavailable),
    ),
)]
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

/// `POST .../documents/bulk`.
#[derive(ToSchema)]
#[allow(
    dead_code,
    reason = "schema only: the handler reads the array in place"
)]
pub struct BulkRequest {
    /// At most `MAX_PAGE_SIZE` documents (else 400 `limit_exceeded`).
    documents: Vec<DocumentBody>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkAnswer {
    inserted: usize,
    failed: usize,
    /// One per document, in request order.
    results: Vec<BulkResult>,
}

/// One document's outcome: `document` when `ok`, `error` otherwise.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkResult {
    index: usize,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<Document>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorDetail>,
}

/// Creates documents one by one, each as `POST .../documents` would.
#[utoipa::path(
    post,
    path = paths::DOCUMENTS_BULK,
    tag = "documents",
    params(TenantModel),
    request_body(content = BulkRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Every document was created.", body = BulkAnswer),
        (status = 207, description = "Some documents failed; each result says which and why.",
            body = BulkAnswer),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 503, response = ServiceUnavailable),
    ),
)]
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
    let results: Vec<BulkResult> = items
        .into_iter()
        .map(|item| match item.result {
            Ok(doc) => BulkResult {
                index: item.index,
                ok: true,
                document: Some(Document(doc)),
                error: None,
            },
            Err(e) => BulkResult {
                index: item.index,
                ok: false,
                document: None,
                error: Some(ApiError::from(e).detail()),
            },
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
        Json(BulkAnswer {
            inserted,
            failed,
            results,
        }),
    )
        .into_response())
}

/// Reads a document (with the model's virtuals).
#[utoipa::path(
    get,
    path = paths::DOCUMENT,
    tag = "documents",
    params(TenantModel, DocumentId),
    responses(
        (status = 200, description = "The document.", body = Document),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 503, response = ServiceUnavailable),
    ),
)]
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
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryBody {
    #[schema(value_type = Option<Filter>)]
    filter: Option<Value>,
    #[schema(value_type = Option<SortSpec>)]
    sort: Option<Value>,
    #[schema(value_type = Option<ProjectionSpec>)]
    projection: Option<Value>,
    skip: Option<u64>,
    /// Over `MAX_PAGE_SIZE` is 400 `limit_exceeded`; default `DEFAULT_PAGE_SIZE`.
    limit: Option<u64>,
}

/// A page of documents.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentList {
    /// Projected documents, with the model's virtuals.
    #[schema(value_type = Vec<ProjectedDocument>)]
    documents: Vec<Value>,
    /// Documents in this page.
    count: usize,
    skip: u64,
    limit: u64,
}

async fn list_response(
    state: &AppState,
    tenant: &dmr_store::TenantId,
    model: &str,
    request: FindRequest,
) -> Result<Json<DocumentList>, ApiError> {
    let limits = state.registry.query_limits();
    let documents = state
        .registry
        .find_documents(tenant, model, &request)
        .await?;
    Ok(Json(DocumentList {
        count: documents.len(),
        documents,
        skip: request.skip.unwrap_or(0),
        limit: request.limit.unwrap_or(limits.default_page_size),
    }))
}

/// Finds documents: filter, sort, projection and page as query parameters (JSON).
#[utoipa::path(
    get,
    path = paths::DOCUMENTS,
    tag = "documents",
    params(TenantModel, ListParams),
    responses(
        (status = 200, description = "The page.", body = DocumentList),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 503, response = ServiceUnavailable),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    path: TenantModel,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<DocumentList>, ApiError> {
    let request = find_request_from_params(&params)?;
    list_response(&state, &path.tenant, path.model(), request).await
}

/// Finds documents, the query in the body (for filters too long for a URL).
#[utoipa::path(
    post,
    path = paths::DOCUMENTS_QUERY,
    tag = "documents",
    params(TenantModel),
    request_body(content = Option<QueryBody>, content_type = "application/json",
        description = "Optional; an empty body finds the first page of every document."),
    responses(
        (status = 200, description = "The page.", body = DocumentList),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 503, response = ServiceUnavailable),
    ),
)]
pub async fn query(
    State(state): State<AppState>,
    path: TenantModel,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<DocumentList>, ApiError> {
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

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentCount {
    count: u64,
}

/// Counts the documents a filter matches.
#[utoipa::path(
    get,
    path = paths::DOCUMENTS_COUNT,
    tag = "documents",
    params(TenantModel, FilterParam),
    responses(
        (status = 200, description = "The count.", body = DocumentCount),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 503, response = ServiceUnavailable),
    ),
)]
pub async fn count(
    State(state): State<AppState>,
    path: TenantModel,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<DocumentCount>, ApiError> {
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
    Ok(Json(DocumentCount { count }))
}

/// Replaces a document (keeping `_id` and `createdAt`), validated as a new one.
#[utoipa::path(
    put,
    path = paths::DOCUMENT,
    tag = "documents",
    params(TenantModel, DocumentId),
    request_body(content = DocumentBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The stored document.", body = Document),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 503, response = ServiceUnavailable),
    ),
)]
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

/// Updates a document: `$set $unset $inc $push $pull $addToSet`, or a plain object as a
/// `$set`; the result is validated as a whole and `updatedAt` refreshed.
#[utoipa::path(
    patch,
    path = paths::DOCUMENT,
    tag = "documents",
    params(TenantModel, DocumentId),
    request_body(content = Update, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated document.", body = Document),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 503, response = ServiceUnavailable),
    ),
)]
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

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Deleted {
    deleted: bool,
    /// The document id, in lower case.
    #[schema(pattern = "^[0-9a-f]{24}$")]
    id: String,
}

/// Deletes a document.
#[utoipa::path(
    delete,
    path = paths::DOCUMENT,
    tag = "documents",
    params(TenantModel, DocumentId),
    responses(
        (status = 200, description = "Deleted.", body = Deleted),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 503, response = ServiceUnavailable),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    path: TenantModel,
    DocumentId(id): DocumentId,
) -> Result<Json<Deleted>, ApiError> {
    state
        .registry
        .delete_document(&path.tenant, path.model(), &id)
        .await?;
    Ok(Json(Deleted {
        deleted: true,
        id: id.to_ascii_lowercase(),
    }))
}
