//! `/metrics`: the Prometheus text exposition of what the edge (`http.rs`), the registry
//! (`dmr_registry::RegistryMetrics`) and the process (`process.rs`) count. Every counter is
//! kept where it is counted, striped per thread; a scrape reads them. Labels are route
//! templates, methods, statuses, operations and kinds: never a tenant or document id, so
//! the series stay bounded with any number of tenants (per-tenant figures are in the JSON
//! stats).

mod http;
mod process;

use dmr_metrics::{Exposition, Kind};
use dmr_registry::RegistryMetrics;

pub use http::{HttpMetrics, HttpSummary, Refusal};

use crate::state::AppState;

/// The whole scrape.
pub async fn render(state: &AppState) -> String {
    let store_up = state.registry.store_reachable().await;
    let mut out = Exposition::new();
    out.gauge(
        "dmr_store_up",
        "1 while the store answers (the health check's ping), 0 otherwise.",
        flag(store_up),
    );
    state.http.render(&mut out);
    out.gauge(
        "http_server_active_requests",
        "Requests in flight.",
        state.requests.snapshot().in_flight as f64,
    );
    render_registry(&mut out, &state.registry.metrics().await);
    process::render(&mut out, &state.info);
    out.finish()
}

fn flag(on: bool) -> f64 {
    if on { 1.0 } else { 0.0 }
}

fn render_registry(out: &mut Exposition, m: &RegistryMetrics) {
    out.counter(
        "dmr_l1_hits_total",
        "Compiled models found in L1.",
        m.l1_hits,
    );
    out.counter(
        "dmr_l1_misses_total",
        "L1 lookups that found nothing.",
        m.l1_misses,
    );
    out.gauge(
        "dmr_l1_entries",
        "Compiled models in L1.",
        m.l1_entries as f64,
    );
    out.gauge(
        "dmr_l2_enabled",
        "1 when a Redis shared tier is configured.",
        flag(m.l2_enabled),
    );
    out.gauge(
        "dmr_l2_up",
        "1 while Redis answers now (subscription up, a PING at most 1 s old answered: the health check's view), 0 otherwise or without Redis.",
        flag(m.l2_up),
    );
    out.gauge(
        "dmr_l2_breaker_state",
        "The Redis circuit breaker: 0 closed, 2 open.",
        f64::from(m.l2_breaker_state),
    );
    out.counter(
        "dmr_l2_hits_total",
        "Compiled models rebuilt from an L2 entry.",
        m.l2_hits,
    );
    out.counter(
        "dmr_l2_misses_total",
        "L2 lookups that found nothing.",
        m.l2_misses,
    );
    out.counter(
        "dmr_l2_errors_total",
        "Redis calls that failed or timed out.",
        m.l2_errors,
    );
    out.counter(
        "dmr_fail_safe_served_total",
        "Requests served from the last good compiled model while the store was unreachable.",
        m.fail_safe_served,
    );
    out.counter(
        "dmr_coalesced_waiters_total",
        "L1 misses that waited on a load another request of this instance was running.",
        m.coalesced_waiters,
    );
    out.counter(
        "dmr_fleet_waits_total",
        "Loads that waited for another instance's compile.",
        m.fleet_waits,
    );
    out.counter(
        "dmr_model_compiles_total",
        "Models compiled (collection and indexes ensured) by this instance.",
        m.compiles,
    );
    out.counter(
        "dmr_registry_errors_total",
        "Registry operations that failed.",
        m.errors,
    );
    out.counter(
        "dmr_backplane_sent_total",
        "Invalidations published on the backplane.",
        m.backplane_sent,
    );
    out.counter(
        "dmr_backplane_received_total",
        "Backplane messages received.",
        m.backplane_received,
    );
    out.counter(
        "dmr_backplane_applied_total",
        "Backplane invalidations from other instances applied here.",
        m.backplane_applied,
    );
    out.gauge(
        "dmr_backplane_subscribed",
        "1 while the backplane subscription is up.",
        flag(m.backplane_subscribed),
    );
    out.gauge(
        "dmr_open_tenant_stores",
        "Tenant stores open in this instance.",
        m.open_tenant_stores as f64,
    );
    out.gauge(
        "dmr_max_open_tenant_stores",
        "The bound on open tenant stores (MAX_OPEN_TENANTS).",
        m.max_open_tenant_stores as f64,
    );
    out.counter(
        "dmr_tenant_idle_closes_total",
        "Tenant stores closed after being idle.",
        m.idle_closes,
    );
    if let Some(pool) = &m.pool {
        out.family(
            "dmr_store_pool_connections",
            Kind::Gauge,
            "Connections of the pool every tenant shares, by state.",
        );
        let [in_use, idle] = [pool.in_use, pool.idle].map(|n| n as f64);
        out.sample("dmr_store_pool_connections", &[("state", "in_use")], in_use);
        out.sample("dmr_store_pool_connections", &[("state", "idle")], idle);
        out.gauge(
            "dmr_store_pool_max_connections",
            "Most connections the shared pool opens.",
            pool.max_size as f64,
        );
    }
    out.family(
        "dmr_store_operation_duration_seconds",
        Kind::Histogram,
        "Tenant store operations, by operation and backend.",
    );
    for (operation, histogram) in &m.store_operations {
        if histogram.count() > 0 {
            let labels = [("operation", *operation), ("backend", m.backend)];
            out.histogram("dmr_store_operation_duration_seconds", &labels, histogram);
        }
    }
}
