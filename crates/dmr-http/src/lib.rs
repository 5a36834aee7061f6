//! The HTTP edge. Handlers parse and validate input, call the registry and shape its answer
//! into the seed's JSON; every error leaves through `ApiError` and its code table.

mod auth;
mod error;
mod extract;
mod handlers;
mod middleware;
mod routes;
mod state;

pub use auth::Access;
pub use error::{ApiError, ErrorCode};
pub use routes::{RouteInfo, route_table, router};
pub use state::{AppState, HttpConfig, RequestCounters, ServiceInfo};
