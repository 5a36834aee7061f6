//! What the edge counts per request, by route: requests by status and a duration
//! histogram (RED), refusals of the limits by kind; and the stats' one-minute view of it.
//! Recorded once per request by the observe layer, in striped counters (no cache line
//! shared between cores); labelled by route template and method only, never by tenant.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use axum::http::Method;
use dmr_metrics::{Exposition, Histogram, HistogramSnapshot, Kind, StripedCounters};
use serde::Serialize;
use utoipa::ToSchema;

use crate::edge::Route;
use crate::routes::RouteInfo;
use crate::state::RequestCountersSnapshot;
use crate::tenant_limit::TenantLimits;

/// The statuses the service answers with, each counted in a slot of its own; any other
/// lands in a locked map (never on a hot path).
const STATUSES: [u16; 20] = [
    200, 201, 204, 207, 301, 302, 304, 400, 401, 403, 404, 405, 408, 409, 413, 415, 422, 429, 500,
    503,
];

/// Methods of requests no route matched, each a series (`_OTHER` for the rest, as OTel
/// names it).
const UNROUTED_METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "_OTHER",
];

/// Why the limits refused a request.
#[derive(Debug, Clone, Copy)]
pub enum Refusal {
    Client = 0,
    Tenant = 1,
    TenantBusy = 2,
}

const REFUSAL_KINDS: [&str; 3] = ["client", "tenant", "tenant_busy"];

/// How far back the stats' latency and busiest tenants look.
const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
struct Series {
    duration: Histogram,
    statuses: StripedCounters<{ STATUSES.len() }>,
    other_statuses: Mutex<BTreeMap<u16, u64>>,
}

impl Series {
    fn record(&self, status: u16, elapsed: Duration) {
        self.duration.observe(elapsed);
        match STATUSES.iter().position(|s| *s == status) {
            Some(i) => self.statuses.add(i, 1),
            None => {
                let mut others = self
                    .other_statuses
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                *others.entry(status).or_default() += 1;
            }
        }
    }

    fn statuses(&self) -> Vec<(u16, u64)> {
        let mut all: Vec<(u16, u64)> = STATUSES
            .iter()
            .copied()
            .zip(self.statuses.snapshot())
            .filter(|(_, n)| *n > 0)
            .collect();
        let others = self
            .other_statuses
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        all.extend(others.iter().map(|(s, n)| (*s, *n)));
        all
    }
}

/// Every series, and what the stats need to look one minute back.
#[derive(Debug)]
pub struct HttpMetrics {
    /// One per row of the route table, in the table's order (`Route::slot`).
    routes: Box<[(RouteInfo, Series)]>,
    unrouted: Box<[Series]>,
    refusals: StripedCounters<3>,
    /// Samples of the whole histogram taken by the stats calls, newest last; the window's
    /// latency is the newest sample minus the oldest one still inside `WINDOW`.
    samples: Mutex<VecDeque<(Instant, HistogramSnapshot)>>,
    /// The tenant limiter, which counts each tenant's requests per minute.
    tenants: OnceLock<&'static TenantLimits>,
    tenant_clock: OnceLock<crate::rate_limit::Clock>,
    /// `HttpConfig::metrics_route`, set when the app is built.
    route_served: OnceLock<bool>,
}

/// The stats' `http` section.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HttpSummary {
    /// Requests being served now.
    pub in_flight: u64,
    /// Requests since start.
    pub total: u64,
    /// Responses since start, by status class.
    pub by_status: ByStatus,
    pub latency: WindowLatency,
    /// The busiest tenants of the last minute (at most 10), busiest first; empty when the
    /// tenant limits are off (`TENANT_RATE_LIMIT_MAX_REQUESTS=0` and
    /// `TENANT_MAX_CONCURRENCY=0`), which is where they are counted.
    pub top_tenants: Vec<TenantRequests>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ByStatus {
    #[serde(rename = "2xx")]
    pub success: u64,
    #[serde(rename = "3xx")]
    pub redirect: u64,
    #[serde(rename = "4xx")]
    pub client_error: u64,
    #[serde(rename = "5xx")]
    pub server_error: u64,
}

/// Response times over the last minute.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WindowLatency {
    /// Median response time over the window, ms (interpolated in its histogram bucket);
    /// null without requests in the window.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Requests in the window.
    pub requests: u64,
    /// The window's length: up to 60 s, shorter while the stats have been read for less
    /// than that (the window starts at the oldest read still inside the minute).
    pub window_seconds: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TenantRequests {
    pub tenant_id: String,
    /// Requests in the last 60 s (the previous minute weighted by how much of it the
    /// window covers).
    pub requests: u64,
}

impl HttpMetrics {
    pub fn new(table: &[RouteInfo]) -> Self {
        HttpMetrics {
            routes: table
                .iter()
                .map(|info| (info.clone(), Series::default()))
                .collect(),
            unrouted: UNROUTED_METHODS.iter().map(|_| Series::default()).collect(),
            refusals: StripedCounters::default(),
            samples: Mutex::new(VecDeque::new()),
            tenants: OnceLock::new(),
            tenant_clock: OnceLock::new(),
            route_served: OnceLock::new(),
        }
    }

    pub(crate) fn serve_route(&self, served: bool) {
        let _ = self.route_served.set(served);
    }

    /// Whether `GET /metrics` answers on the API's port.
    pub fn route_served(&self) -> bool {
        self.route_served.get().copied().unwrap_or(true)
    }

    /// One finished request: its route's (or its method's, unrouted) series.
    pub fn record(&self, route: Option<&Route>, method: &Method, status: u16, elapsed: Duration) {
        let series = route.and_then(|route| self.routes.get(route.slot).map(|(_, series)| series));
        let series = series.unwrap_or_else(|| {
            let i = UNROUTED_METHODS
                .iter()
                .position(|m| *m == method.as_str())
                .unwrap_or(UNROUTED_METHODS.len() - 1);
            &self.unrouted[i]
        });
        series.record(status, elapsed);
    }

    pub fn refused(&self, why: Refusal) {
        self.refusals.add(why as usize, 1);
    }

    /// The tenant limiter that counts requests per tenant, and its clock.
    pub(crate) fn count_tenants_with(
        &self,
        limits: &'static TenantLimits,
        clock: crate::rate_limit::Clock,
    ) {
        let _ = self.tenants.set(limits);
        let _ = self.tenant_clock.set(clock);
    }

    fn series(&self) -> impl Iterator<Item = (&str, &str, &Series)> {
        let routed = self
            .routes
            .iter()
            .map(|(info, series)| (info.method.as_str(), info.path, series));
        let unrouted = UNROUTED_METHODS
            .iter()
            .zip(self.unrouted.iter())
            .map(|(method, series)| (*method, "", series));
        routed.chain(unrouted)
    }

    /// `http_server_requests_total`, `http_server_request_duration_seconds`,
    /// `dmr_rate_limited_total`; series that never saw a request are left out.
    pub fn render(&self, out: &mut Exposition) {
        out.family(
            "http_server_requests_total",
            Kind::Counter,
            "HTTP responses by method, route template and status.",
        );
        for (method, route, series) in self.series() {
            for (status, n) in series.statuses() {
                let status = status.to_string();
                let labels = [("method", method), ("route", route), ("status", &status)];
                out.sample_u64("http_server_requests_total", &labels, n);
            }
        }
        out.family(
            "http_server_request_duration_seconds",
            Kind::Histogram,
            "Time from the request's arrival to its response's head, by method and route \
             template.",
        );
        for (method, route, series) in self.series() {
            let snapshot = series.duration.snapshot();
            if snapshot.count() > 0 {
                let labels = [("method", method), ("route", route)];
                out.histogram("http_server_request_duration_seconds", &labels, &snapshot);
            }
        }
        out.family(
            "dmr_rate_limited_total",
            Kind::Counter,
            "Requests refused by the limits: client and tenant rates (429), tenant \
             concurrency (503 tenant_busy).",
        );
        for (kind, n) in REFUSAL_KINDS.iter().zip(self.refusals.snapshot()) {
            out.sample_u64("dmr_rate_limited_total", &[("kind", kind)], n);
        }
    }

    /// The stats' view: `requests` (in flight, total), responses by class, latency over
    /// the last minute, the busiest tenants.
    pub fn summary(&self, requests: RequestCountersSnapshot) -> HttpSummary {
        let mut by_status = ByStatus::default();
        let mut whole = HistogramSnapshot::default();
        for (_, _, series) in self.series() {
            for (status, n) in series.statuses() {
                let class = match status / 100 {
                    2 => &mut by_status.success,
                    3 => &mut by_status.redirect,
                    4 => &mut by_status.client_error,
                    _ => &mut by_status.server_error,
                };
                *class += n;
            }
            whole.add(&series.duration.snapshot());
        }
        HttpSummary {
            in_flight: requests.in_flight,
            total: requests.total,
            by_status,
            latency: self.window_latency(whole),
            top_tenants: self.top_tenants(),
        }
    }

    fn window_latency(&self, now_snapshot: HistogramSnapshot) -> WindowLatency {
        let now = Instant::now();
        let mut samples = self.samples.lock().unwrap_or_else(PoisonError::into_inner);
        while samples
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > WINDOW)
        {
            samples.pop_front();
        }
        let (since, window) = match samples.front() {
            Some((at, oldest)) => (now_snapshot.since(oldest), now.duration_since(*at)),
            None => (HistogramSnapshot::default(), Duration::ZERO),
        };
        // One sample a second is plenty for a one-minute window.
        if samples
            .back()
            .is_none_or(|(at, _)| now.duration_since(*at) >= Duration::from_secs(1))
        {
            samples.push_back((now, now_snapshot));
        }
        let ms = |q: f64| since.quantile(q).map(|s| (s * 1e6).round() / 1e3);
        WindowLatency {
            p50_ms: ms(0.5),
            p99_ms: ms(0.99),
            requests: since.count(),
            window_seconds: (window.as_secs_f64() * 10.0).round() / 10.0,
        }
    }

    fn top_tenants(&self) -> Vec<TenantRequests> {
        let (Some(limits), Some(clock)) = (self.tenants.get(), self.tenant_clock.get()) else {
            return Vec::new();
        };
        limits
            .busiest(10, clock.now_ms())
            .into_iter()
            .map(|(tenant, requests)| TenantRequests {
                tenant_id: tenant.into(),
                requests,
            })
            .collect()
    }
}
