//! The HTTP edge. Handlers parse and validate input, call the registry and shape its answer
//! into the seed's JSON; every error leaves through `ApiError` and its code table.

mod auth;
mod client_addr;
mod cors;
mod edge;
mod error;
mod extract;
mod handlers;
mod json_depth;
mod metrics;
mod openapi;
mod rate_limit;
mod routes;
mod security_headers;
mod server;
mod state;
mod tenant_limit;

pub use auth::Access;
pub use client_addr::TrustedProxies;
pub use cors::CorsOrigins;
pub use dmr_metrics::CONTENT_TYPE as METRICS_CONTENT_TYPE;
pub use edge::{
    EdgeConfig, LIMITER_CAPACITY, RequestContext, RequestScope, TraceParent, set_trace_parent,
    with_current_request,
};
pub use error::{ApiError, ErrorCode};
pub use json_depth::MAX_CONFIGURABLE_DEPTH as MAX_JSON_DEPTH_LIMIT;
pub use metrics::render as render_metrics;
pub use openapi::{DOCS_PATH, DOCUMENT_PATH};
pub use rate_limit::MAX_LIMIT as MAX_RATE_LIMIT;
pub use routes::{RouteInfo, app, openapi_document, reserved_tenant_words, route_table};
pub use server::{ConnectionLimits, serve};
pub use state::{AppState, HttpConfig, RequestCounters, ServiceInfo};
