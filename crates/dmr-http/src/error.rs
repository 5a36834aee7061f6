//! The one error type of the HTTP edge. Every failure a client can see is an `ApiError`
//! with a code from the `ErrorCode` table (`dmr-error-code`, where each code's status and
//! type are written): the code is stable (clients match on it), the message is for people.
//! Body: the seed's `{error:{message, status, timestamp}}` plus `code` and `type`.

use std::fmt;
use std::time::SystemTime;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
pub use dmr_error_code::{CodedError, ErrorCode, ErrorType};
use dmr_registry::RegistryError;
use serde::{Serialize, Serializer};
use serde_json::json;
use utoipa::ToSchema;

use crate::openapi::error_codes::{ErrorCodeSchema, ErrorTypeSchema};

/// A code's status as an HTTP status. The table holds only 4xx and 5xx statuses (it does
/// not compile otherwise), so the number is always a valid status.
pub fn http_status(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.status()).expect("an error code's status is 4xx or 5xx")
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

    /// A domain error, with the code it names and its message.
    pub fn coded(error: &(impl CodedError + fmt::Display)) -> Self {
        Self::new(error.error_code(), error.to_string())
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
            status: self.code.status(),
            code: self.code,
            error_type: self.code.error_type(),
            timestamp: dmr_model::date::format_system_time(SystemTime::now()),
            details: self.details,
        }
    }
}

/// Every error response's body: the seed's `{error: {message, status, timestamp}}` plus
/// `code`, `type` (and `details` where there are particulars).
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
    #[serde(serialize_with = "code_string")]
    #[schema(value_type = ErrorCodeSchema)]
    pub code: ErrorCode,
    #[serde(rename = "type", serialize_with = "type_string")]
    #[schema(value_type = ErrorTypeSchema)]
    pub error_type: ErrorType,
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
fn code_string<S: Serializer>(code: &ErrorCode, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(code.as_str())
}

fn type_string<S: Serializer>(kind: &ErrorType, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(kind.as_str())
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        Self {
            details: details(&e),
            ..Self::coded(&e)
        }
    }
}

/// What of a registry error a program can use, shaped as `error.details` (the shapes are
/// the edge's, as the rest of the body is).
fn details(e: &RegistryError) -> Option<serde_json::Value> {
    match e {
        RegistryError::ModelFiles(errors) => Some(json!(errors)),
        RegistryError::Validation(validation) => Some(validation.to_json()),
        RegistryError::Query(query) => query.operator().map(|op| json!({ "operator": op })),
        RegistryError::Duplicate {
            index,
            paths,
            value,
        } => Some(json!({ "index": index, "keyPattern": paths, "keyValue": value })),
        _ => None,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = http_status(self.code);
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
    use dmr_query::QueryError;
    use dmr_store::StoreError;

    #[test]
    fn every_status_of_the_table_is_an_http_error_status() {
        for code in ErrorCode::ALL {
            let status = http_status(*code);
            assert_eq!(status.as_u16(), code.status());
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{code:?}"
            );
        }
    }

    #[test]
    fn body_has_the_seed_shape_plus_code_and_type() {
        let body = ApiError::new(ErrorCode::ModelNotFound, "nope").body();
        let error = &body["error"];
        assert_eq!(error["message"], "nope");
        assert_eq!(error["status"], 404);
        assert_eq!(error["code"], "model_not_found");
        assert_eq!(error["type"], "not_found");
        assert!(error["timestamp"].as_str().unwrap().ends_with('Z'));
        let keys: Vec<&String> = error.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["message", "status", "code", "type", "timestamp"]);
    }

    #[test]
    fn a_registry_error_keeps_its_message_and_gains_its_details() {
        let duplicate = ApiError::from(RegistryError::Duplicate {
            index: "email_1".to_owned(),
            paths: vec!["email".to_owned()],
            value: json!("a@b.c"),
        });
        assert_eq!(duplicate.code, ErrorCode::DuplicateKey);
        assert_eq!(duplicate.message, "Duplicate value for email: \"a@b.c\"");
        assert_eq!(
            duplicate.details,
            Some(json!({"index": "email_1", "keyPattern": ["email"], "keyValue": "a@b.c"}))
        );
        let operator = ApiError::from(RegistryError::Query(QueryError::ForbiddenOperator {
            operator: "$where".to_owned(),
        }));
        assert_eq!(operator.code, ErrorCode::InvalidQuery);
        assert_eq!(operator.details, Some(json!({"operator": "$where"})));
        let files = ApiError::from(RegistryError::ModelFiles(vec!["a.json:1:1: x".to_owned()]));
        assert_eq!(files.details, Some(json!(["a.json:1:1: x"])));
        let closed = ApiError::from(RegistryError::Store(StoreError::Closed));
        assert_eq!(closed.code, ErrorCode::StoreUnavailable);
        assert_eq!(closed.message, "tenant store is closed");
        assert_eq!(closed.details, None);
    }

    #[test]
    fn a_response_carries_the_headers_of_its_status() {
        let unavailable = ApiError::new(ErrorCode::StoreUnavailable, "down").into_response();
        assert_eq!(unavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(unavailable.headers()[header::RETRY_AFTER], "1");
        assert!(unavailable.extensions().get::<LoadShed>().is_none());
        let busy = ApiError::new(ErrorCode::TenantBusy, "busy").into_response();
        assert_eq!(busy.headers()[header::RETRY_AFTER], "1");
        assert!(busy.extensions().get::<LoadShed>().is_some());
        let unauthorized = ApiError::new(ErrorCode::Unauthorized, "no key").into_response();
        assert_eq!(
            unauthorized.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"dmr\""
        );
        let not_found = ApiError::new(ErrorCode::RouteNotFound, "none").into_response();
        assert!(not_found.headers().get(header::RETRY_AFTER).is_none());
        assert!(not_found.headers().get(header::WWW_AUTHENTICATE).is_none());
    }
}
