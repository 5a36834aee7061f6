use std::time::Instant;

use dmr_cache::StripedCounter;
use dmr_registry::{AccessControl, Registry};

use crate::metrics::HttpMetrics;
use serde::Serialize;

/// Everything a handler can reach. One per process, never freed (`leak`): the clones axum
/// makes per request and per layer copy a pointer.
#[derive(Clone)]
pub struct AppState(&'static Shared);

pub struct Shared {
    pub registry: Registry,
    /// Who may call what: API keys and tenant isolation.
    pub access: AccessControl,
    pub info: ServiceInfo,
    pub requests: RequestCounters,
    /// Requests by route, status and duration; the limits' refusals.
    pub http: HttpMetrics,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        self.0
    }
}

impl AppState {
    pub fn new(registry: Registry, access: AccessControl, info: ServiceInfo) -> Self {
        Self(leak(Shared {
            registry,
            access,
            info,
            requests: RequestCounters::default(),
            http: HttpMetrics::new(&crate::routes::route_table()),
        }))
    }

    /// The shared state itself, for what is built once and kept (the layers).
    pub(crate) fn shared(&self) -> &'static Shared {
        self.0
    }
}

/// State built once per process and shared by every request, kept for the process's life.
/// A reference to it is copied where an `Arc` would be cloned: an `Arc`'s count is one
/// cache line that every core writes on every request (two atomic operations per clone),
/// and axum clones the app and its state several times per request.
pub(crate) fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// What `GET /` and `GET /health` tell about the process.
#[derive(Debug, Clone)]
pub struct ServiceInfo {
    pub environment: String,
    pub started: Instant,
    pub pid: u32,
    /// The git commit the binary was built from (`dmr_build_info`), or `unknown`.
    pub commit: &'static str,
}

#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Longest a request may take before a 408.
    pub request_timeout: std::time::Duration,
    /// Rate limits, trusted proxies, CORS, JSON depth, tenant concurrency.
    pub edge: crate::edge::EdgeConfig,
    /// Whether `GET /metrics` is served on the API's port (`METRICS_ENABLED`, and no
    /// `METRICS_PORT` of its own); else it answers as an unknown route.
    pub metrics_route: bool,
}

impl Default for HttpConfig {
    /// The product's defaults.
    fn default() -> Self {
        HttpConfig {
            body_limit: 10 * 1024 * 1024,
            request_timeout: std::time::Duration::from_secs(30),
            edge: crate::edge::EdgeConfig::default(),
            metrics_route: true,
        }
    }
}

/// Requests in flight and served; shutdown drains `in_flight` to zero. Striped: every
/// request counts, on every core.
#[derive(Debug, Default)]
pub struct RequestCounters {
    in_flight: StripedCounter,
    total: StripedCounter,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestCountersSnapshot {
    pub in_flight: u64,
    pub total: u64,
}

impl RequestCounters {
    pub(crate) fn start(&self) {
        self.in_flight.add(1);
        self.total.add(1);
    }

    pub(crate) fn finish(&self) {
        self.in_flight.add(-1);
    }

    pub fn snapshot(&self) -> RequestCountersSnapshot {
        RequestCountersSnapshot {
            in_flight: self.in_flight.count(),
            total: self.total.count(),
        }
    }
}
