//! The HTTP edge. Handlers parse and validate input, call the registry and shape its answer
//! into the seed's JSON; every error leaves through `ApiError` and its code table.

mod error;
mod extract;
mod handlers;
mod middleware;
mod openapi;
mod routes;
mod state;

pub use error::{ApiError, ErrorCode};
pub use openapi::{DOCS_PATH, DOCUMENT_PATH};
pub use routes::{openapi_document, router};
pub use state::{AppState, HttpConfig, RequestCounters, ServiceInfo};
