use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use dmr_registry::{AccessControl, Registry};
use serde::Serialize;

/// Everything a handler can reach. One `Arc`, so the clones axum makes per request and
/// per layer cost one reference count.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub registry: Registry,
    /// Who may call what: API keys and tenant isolation.
    pub access: AccessControl,
    pub info: ServiceInfo,
    pub requests: RequestCounters,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(registry: Registry, access: AccessControl, info: ServiceInfo) -> Self {
        Self(Arc::new(Shared {
            registry,
            access,
            info,
            requests: RequestCounters::default(),
        }))
    }
}

/// What `GET /` and `GET /health` tell about the process.
#[derive(Debug, Clone)]
pub struct ServiceInfo {
    pub environment: String,
    pub started: Instant,
    pub pid: u32,
}

#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Longest a request may take before a 408.
    pub request_timeout: std::time::Duration,
    /// Rate limits, trusted proxies, CORS, JSON depth, tenant concurrency.
    pub edge: crate::edge::EdgeConfig,
}

/// Requests in flight and served; shutdown drains `in_flight` to zero.
#[derive(Debug, Default)]
pub struct RequestCounters {
    in_flight: AtomicU64,
    total: AtomicU64,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestCountersSnapshot {
    pub in_flight: u64,
    pub total: u64,
}

impl RequestCounters {
    pub(crate) fn start(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.total.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn finish(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> RequestCountersSnapshot {
        RequestCountersSnapshot {
            in_flight: self.in_flight.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
        }
    }
}
