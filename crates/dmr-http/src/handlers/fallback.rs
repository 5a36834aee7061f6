//! The answers for what no route serves: 404 for an unknown path, 405 for a known path
//! with another method.

use axum::http::{Method, Uri};

use crate::error::{ApiError, ErrorCode};

pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    route_not_found(&method, uri.path())
}

/// The unknown-route error; also what a tenant key gets on another tenant's routes.
pub fn route_not_found(method: &Method, path: &str) -> ApiError {
    ApiError::new(
        ErrorCode::RouteNotFound,
        format!("Route not found: {method} {path}"),
    )
}

pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    method_not_allowed_error(&method, uri.path())
}

pub fn method_not_allowed_error(method: &Method, path: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("Method {method} is not allowed on {path}"),
    )
}
