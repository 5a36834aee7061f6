//! What the edge's layers are configured with.

use std::time::Duration;

use crate::client_addr::TrustedProxies;
use crate::cors::CorsOrigins;

/// Everything the limits and browser layers are configured with.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// `RATE_LIMIT_WINDOW_MS`, for clients and tenants.
    pub rate_limit_window: Duration,
    /// `RATE_LIMIT_MAX_REQUESTS`: per client per window, on the rate-limited routes.
    pub rate_limit_max_requests: u32,
    /// `TENANT_RATE_LIMIT_MAX_REQUESTS`: per tenant per window; 0 = off.
    pub tenant_rate_limit_max_requests: u32,
    /// `TENANT_MAX_CONCURRENCY`: requests in flight per tenant; 0 = off.
    pub tenant_max_concurrency: u32,
    /// `TRUSTED_PROXIES`.
    pub trusted_proxies: TrustedProxies,
    /// `CORS_ORIGINS`.
    pub cors_origins: CorsOrigins,
    /// `MAX_JSON_DEPTH`.
    pub max_json_depth: u32,
}

impl Default for EdgeConfig {
    /// The product's defaults (the seed's where it had one).
    fn default() -> Self {
        EdgeConfig {
            rate_limit_window: Duration::from_millis(900_000),
            rate_limit_max_requests: 100,
            tenant_rate_limit_max_requests: 10_000,
            tenant_max_concurrency: 64,
            trusted_proxies: TrustedProxies::default(),
            cors_origins: CorsOrigins::Any,
            max_json_depth: 64,
        }
    }
}
