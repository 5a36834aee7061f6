use axum::http::{Method, Uri};

use crate::error::{ApiError, ErrorCode};

pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ErrorCode::RouteNotFound,
        format!("Route not found: {method} {}", uri.path()),
    )
}

pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("Method {method} is not allowed on {}", uri.path()),
    )
}
