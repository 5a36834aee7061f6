//! The registry's figures for `/metrics`: counters and gauges read without listing
//! tenants (a scrape stays cheap with 100,000 of them open), and each store operation's
//! histogram. The one await is L2's liveness: the PING health shares, at most a second old.

use dmr_metrics::HistogramSnapshot;

use crate::registry::Registry;
use crate::stats::Counters;
use crate::store_timing::StoreOperation;

/// What the registry counts, as of one read.
#[derive(Debug, Clone)]
pub struct RegistryMetrics {
    pub backend: &'static str,
    pub l1_hits: u64,
    pub l1_misses: u64,
    pub l1_entries: u64,
    pub l2_enabled: bool,
    pub l2_hits: u64,
    /// The tier's own counts (Redis); zero without a tier.
    pub l2_misses: u64,
    pub l2_errors: u64,
    /// Whether Redis answers now: health's L2 check (the subscription and a PING at most
    /// a second old).
    pub l2_up: bool,
    /// 0 closed, 2 open (the breaker has no half-open state: a probe closes it).
    pub l2_breaker_state: u8,
    pub fail_safe_served: u64,
    pub coalesced_waiters: u64,
    pub fleet_waits: u64,
    pub compiles: u64,
    pub errors: u64,
    pub backplane_sent: u64,
    pub backplane_received: u64,
    pub backplane_applied: u64,
    /// Whether the backplane subscription is up now (the subscriber's own state).
    pub backplane_subscribed: bool,
    pub open_tenant_stores: usize,
    pub max_open_tenant_stores: usize,
    pub idle_closes: u64,
    /// The pool every tenant shares (MongoDB): in use, idle, max.
    pub pool: Option<dmr_store::PoolStats>,
    pub store_operations: Vec<(&'static str, HistogramSnapshot)>,
}

impl Registry {
    /// Whether the store answers a ping now (what health's store check asks).
    pub async fn store_reachable(&self) -> bool {
        self.inner.backend.ping().await.is_ok()
    }

    pub async fn metrics(&self) -> RegistryMetrics {
        self.l2_liveness().await;
        let inner = &self.inner;
        let l1 = inner.l1.stats();
        let read = Counters::read;
        let counters = &inner.counters;
        let tier = inner.shared.as_ref().map(|t| t.stats());
        let breaker = tier.as_ref().map_or("closed", |t| t.breaker);
        RegistryMetrics {
            backend: inner.backend.kind(),
            l1_hits: l1.hits,
            l1_misses: l1.misses,
            l1_entries: l1.size,
            l2_enabled: tier.is_some(),
            l2_hits: read(&counters.l2_hits),
            l2_misses: tier.as_ref().map_or(0, |t| t.misses),
            l2_errors: tier.as_ref().map_or(0, |t| t.errors),
            l2_up: tier.as_ref().is_some_and(|t| t.connected),
            l2_breaker_state: if breaker == "open" { 2 } else { 0 },
            fail_safe_served: read(&counters.fail_safe_served),
            coalesced_waiters: l1.misses.saturating_sub(read(&counters.loads)),
            fleet_waits: read(&counters.fleet_waits),
            compiles: read(&counters.model_creations),
            errors: read(&counters.errors),
            backplane_sent: tier.as_ref().map_or(0, |t| t.backplane_sent),
            backplane_received: tier.as_ref().map_or(0, |t| t.backplane_received),
            backplane_applied: read(&counters.backplane_applied),
            backplane_subscribed: tier.as_ref().is_some_and(|t| t.subscribed),
            open_tenant_stores: inner.connections.open_count(),
            max_open_tenant_stores: inner.max_open_tenants,
            idle_closes: inner.connections.idle_closes(),
            pool: inner.backend.pool_stats(),
            store_operations: inner
                .connections
                .timings()
                .snapshot()
                .into_iter()
                .map(|(op, histogram)| (StoreOperation::as_str(op), histogram))
                .collect(),
        }
    }
}
