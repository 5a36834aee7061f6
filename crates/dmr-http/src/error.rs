//! The one error type of the HTTP edge. Every failure a client can see is an `ApiError`
//! with a code from `ErrorCode`: the code is stable (clients match on it), the message is
//! for people. Body: the seed's `{error:{message, status, timestamp}}` plus `code`.

use std::time::SystemTime;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dmr_registry::RegistryError;
use dmr_store::{StoreError, iso_millis};
use serde::{Serialize, Serializer};
use serde_json::json;
use utoipa::ToSchema;

/// The error-code table: code, HTTP status. Adding a variant means adding its row here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidTenantId,
    InvalidModelName,
    InvalidJson,
    InvalidBody,
    InvalidOperation,
    InvalidQuery,
    InvalidDocumentId,
    ValidationFailed,
    LimitExceeded,
    TextIndexRequired,
    DocumentNotFound,
    DuplicateKey,
    WriteConflict,
    RequestTimeout,
    ModelFilesInvalid,
    ModelNotFound,
    RouteNotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    Unauthorized,
    Forbidden,
    ApiKeyNotFound,
    JsonTooDeep,
    TenantBusy,
    StoreUnavailable,
    ModelInvalid,
    StoreError,
    Internal,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 28] = [
        Self::InvalidTenantId,
        Self::InvalidModelName,
        Self::InvalidJson,
        Self::InvalidBody,
        Self::InvalidOperation,
        Self::InvalidQuery,
        Self::InvalidDocumentId,
        Self::ValidationFailed,
        Self::LimitExceeded,
        Self::TextIndexRequired,
        Self::DocumentNotFound,
        Self::DuplicateKey,
        Self::WriteConflict,
        Self::RequestTimeout,
        Self::ModelFilesInvalid,
        Self::ModelNotFound,
        Self::RouteNotFound,
        Self::MethodNotAllowed,
        Self::PayloadTooLarge,
        Self::Unauthorized,
        Self::Forbidden,
        Self::ApiKeyNotFound,
        Self::JsonTooDeep,
        Self::TenantBusy,
        Self::StoreUnavailable,
        Self::ModelInvalid,
        Self::StoreError,
        Self::Internal,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidTenantId => "invalid_tenant_id",
            Self::InvalidModelName => "invalid_model_name",
            Self::InvalidJson => "invalid_json",
            Self::InvalidBody => "invalid_body",
            Self::InvalidOperation => "invalid_operation",
            Self::InvalidQuery => "invalid_query",
            Self::InvalidDocumentId => "invalid_document_id",
            Self::ValidationFailed => "validation_failed",
            Self::LimitExceeded => "limit_exceeded",
            Self::TextIndexRequired => "text_index_required",
            Self::DocumentNotFound => "document_not_found",
            Self::DuplicateKey => "duplicate_key",
            Self::WriteConflict => "write_conflict",
            Self::RequestTimeout => "request_timeout",

            Self::ModelFilesInvalid => "model_files_invalid",
            Self::ModelNotFound => "model_not_found",
            Self::RouteNotFound => "route_not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::ApiKeyNotFound => "api_key_not_found",
            Self::JsonTooDeep => "json_too_deep",
            Self::TenantBusy => "tenant_busy",
            Self::StoreUnavailable => "store_unavailable",
            Self::ModelInvalid => "model_invalid",
            Self::StoreError => "store_error",
            Self::Internal => "internal_error",
        }
    }

    pub const fn status(self) -> StatusCode {
        match self {
            Self::InvalidTenantId
            | Self::InvalidModelName
            | Self::InvalidJson
            | Self::InvalidBody
            | Self::InvalidOperation => StatusCode::BAD_REQUEST,
            Self::ModelFilesInvalid => StatusCode::UNPROCESSABLE_ENTITY,
            Self::InvalidQuery
            | Self::InvalidDocumentId
            | Self::ValidationFailed
            | Self::LimitExceeded
            | Self::JsonTooDeep
            | Self::TextIndexRequired => StatusCode::BAD_REQUEST,
            Self::DocumentNotFound => StatusCode::NOT_FOUND,
            Self::DuplicateKey | Self::WriteConflict => StatusCode::CONFLICT,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::ModelNotFound | Self::RouteNotFound | Self::ApiKeyNotFound => {
                StatusCode::NOT_FOUND
            }
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::StoreUnavailable | Self::TenantBusy => StatusCode::SERVICE_UNAVAILABLE,
            Self::ModelInvalid | Self::StoreError | Self::Internal => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// A 5xx that is load shed on purpose (a tenant's concurrency limit), not a fault of
    /// the service: logged as a warning, not an error.
    pub fn is_load_shedding(self) -> bool {
        matches!(self, Self::TenantBusy)
    }
}

/// Marks a response whose 5xx status is load shedding (`ErrorCode::is_load_shedding`), so
/// the access log does not report it as an error.
#[derive(Debug, Clone, Copy)]
pub struct LoadShed;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Machine-readable particulars (for example every invalid model file), as
    /// `error.details`.
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
        }
    }

    /// The JSON body, as a value.
    pub fn body(&self) -> serde_json::Value {
        json!({ "error": self.detail() })
    }

    /// The body's `error` object, also used where a whole response is not wanted (a failed
    /// document of a bulk insert, a model that failed to compile).
    pub fn detail(&self) -> ErrorDetail {
        self.clone().into_detail()
    }

    fn into_detail(self) -> ErrorDetail {
        ErrorDetail {
            message: self.message,
            status: self.code.status().as_u16(),
            code: self.code,
            timestamp: iso_millis(SystemTime::now()),
            details: self.details,
        }
    }
}

/// Every error response's body: the seed's `{error: {message, status, timestamp}}` plus
/// `code` (and `details` where there are particulars).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// For people; the wording may change.
    pub message: String,
    /// The response's HTTP status.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    pub code: ErrorCode,
    /// When the error happened (UTC, milliseconds).
    #[schema(format = DateTime)]
    pub timestamp: String,
    /// Machine-readable particulars: Mongoose's ValidationError for `validation_failed`,
    /// `{index, keyPattern, keyValue}` for `duplicate_key`, `{operator}` for an operator
    /// refused by `invalid_query`, the list of `file:line:column: reason` for
    /// `model_files_invalid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// Clients match on the code, so it is written as its stable string.
impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The document lists the table itself: every code, with its status.
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let table: Vec<String> = Self::ALL
            .iter()
            .map(|code| format!("`{}` ({})", code.as_str(), code.status().as_u16()))
            .collect();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Self::ALL.iter().map(|code| code.as_str())))
            .description(Some(format!(
                "Stable error code; clients match on it. {}.",
                table.join(", ")
            )))
            .into()
    }
}

impl ToSchema for ErrorCode {}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        let details = match &e {
            RegistryError::ModelFiles(errors) => Some(json!(errors)),
            RegistryError::Validation(validation) => Some(validation.to_json()),
            RegistryError::Query(query) => query.operator().map(|op| json!({ "operator": op })),
            RegistryError::Duplicate {
                index,
                paths,
                value,
            } => Some(json!({ "index": index, "keyPattern": paths, "keyValue": value })),
            _ => None,
        };
        let code = match &e {
            RegistryError::InvalidTenantId(_) => ErrorCode::InvalidTenantId,
            RegistryError::ModelNotFound(_) => ErrorCode::ModelNotFound,
            RegistryError::Store(StoreError::Unavailable(_) | StoreError::Closed) => {
                ErrorCode::StoreUnavailable
            }
            RegistryError::Store(StoreError::Definition { .. }) => ErrorCode::ModelInvalid,
            RegistryError::Store(StoreError::Internal(_)) => ErrorCode::StoreError,
            RegistryError::ModelFiles(_) => ErrorCode::ModelFilesInvalid,
            RegistryError::Store(StoreError::Duplicate { .. })
            | RegistryError::Duplicate { .. } => ErrorCode::DuplicateKey,
            RegistryError::Validation(_) => ErrorCode::ValidationFailed,
            RegistryError::Query(_) => ErrorCode::InvalidQuery,
            RegistryError::DocumentNotFound(_) => ErrorCode::DocumentNotFound,
            RegistryError::InvalidDocumentId(_) => ErrorCode::InvalidDocumentId,
            RegistryError::LimitExceeded(_) => ErrorCode::LimitExceeded,
            RegistryError::TextIndexRequired(_) => ErrorCode::TextIndexRequired,
            RegistryError::WriteConflict => ErrorCode::WriteConflict,
            RegistryError::InvalidKeyLabel(_) => ErrorCode::InvalidBody,
            RegistryError::Internal(_) => ErrorCode::Internal,
        };
        Self {
            details,
            ..Self::new(code, e.to_string())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        let load_shed = self.code.is_load_shedding();
        if load_shed {
            tracing::warn!(code = self.code.as_str(), error = %self.message, "request shed");
        } else if status.is_server_error() {
            tracing::error!(code = self.code.as_str(), error = %self.message, "request failed");
        }
        let mut response = (
            status,
            Json(ErrorBody {
                error: self.into_detail(),
            }),
        )
            .into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if load_shed {
            response.extensions_mut().insert(LoadShed);
        }
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750: a 401 names the scheme the client should use.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"dmr\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_client_errors_are_4xx() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(
                seen.insert(code.as_str()),
                "duplicate code {}",
                code.as_str()
            );
        }
        for code in [
            ErrorCode::InvalidTenantId,
            ErrorCode::InvalidModelName,
            ErrorCode::InvalidJson,
            ErrorCode::InvalidBody,
            ErrorCode::InvalidOperation,
            ErrorCode::ModelNotFound,
            ErrorCode::RouteNotFound,
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::ApiKeyNotFound,
            ErrorCode::JsonTooDeep,
        ] {
            assert!(code.status().is_client_error());
        }
    }

    #[test]
    fn body_has_the_seed_shape_plus_code() {
        let body = ApiError::new(ErrorCode::ModelNotFound, "nope").body();
        let error = &body["error"];
        assert_eq!(error["message"], "nope");
        assert_eq!(error["status"], 404);
        assert_eq!(error["code"], "model_not_found");
        assert!(error["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}
