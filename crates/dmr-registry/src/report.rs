//! Stats and health: read-only views over the registry and its tiers.

use dmr_cache::TierStats;

use crate::health::{
    CacheChecks, CheckStatus, Checks, ConnectionsCheck, HealthReport, HealthStatus, L1Check,
    L2Check, StoreCheck,
};
use crate::registry::Registry;
use crate::stats::{
    BackplaneSection, CacheHits, CacheSection, ConnectionsSection, Counters, L2Section,
    LatencySection, RegistrySection, StatsReport,
};

impl Registry {
    pub async fn stats(&self) -> StatsReport {
        self.inner.l1.sync().await;
        let l1 = self.inner.l1.stats();
        let counters = &self.inner.counters;
        let read = Counters::read;
        let connections = self.inner.connections.list();
        let models = self.models();
        let tier = self.inner.shared.as_ref().map(|t| t.stats());
        let key_count = match &self.inner.shared {
            Some(tier) => tier.key_count().await.unwrap_or(0),
            None => 0,
        };
        StatsReport {
            registry: RegistrySection {
                registered_schemas: models.len(),
                schemas: models.names().map(str::to_owned).collect(),
                active_locks: read(&counters.active_locks),
                cache_hits: CacheHits {
                    l1: l1.hits,
                    l2: read(&counters.l2_hits),
                },
                cache_misses: l1.misses,
                model_creations: read(&counters.model_creations),
                errors: read(&counters.errors),
                coalesced_waiters: l1.misses.saturating_sub(read(&counters.loads)),
                fleet_waits: read(&counters.fleet_waits),
                fail_safe_served: read(&counters.fail_safe_served),
                latency: LatencySection {
                    l1: counters.l1_latency.snapshot(),
                    load: counters.load_latency.snapshot(),
                    compile: counters.compile_latency.snapshot(),
                },
                backend: self.inner.backend.kind(),
            },
            cache: CacheSection {
                l1,
                l2: L2Section {
                    enabled: tier.is_some(),
                    connected: tier.as_ref().is_some_and(|t| t.connected),
                    key_count,
                    status: self.l2_check().status,
                    tier: tier.clone(),
                },
            },
            connections: ConnectionsSection {
                total_connections: connections.len(),
                max_open: self.inner.max_open_tenants,
                pool: self.inner.backend.pool_stats(),
                connections,
            },
            backplane: BackplaneSection {
                enabled: tier.is_some(),
                sent: tier.as_ref().map_or(0, |t| t.backplane_sent),
                received: tier.as_ref().map_or(0, |t| t.backplane_received),
                applied: read(&counters.backplane_applied),
                subscriptions: tier.as_ref().map_or(0, |t| t.subscriptions),
                l1_flushes: read(&counters.l1_flushes),
            },
        }
    }

    fn l2_check(&self) -> L2Check {
        match self.inner.shared.as_ref().map(|t| t.stats()) {
            None => L2Check {
                status: CheckStatus::Disabled,
                message: None,
            },
            Some(TierStats {
                connected: true, ..
            }) => L2Check {
                status: CheckStatus::Healthy,
                message: None,
            },
            Some(stats) => L2Check {
                status: CheckStatus::Unavailable,
                message: Some(format!(
                    "Redis is not answering (circuit {}): serving from L1 and the store",
                    stats.breaker
                )),
            },
        }
    }

    pub async fn health(&self) -> HealthReport {
        let ping = self.inner.backend.ping().await;
        let l2 = self.l2_check();
        let status = match (&ping, l2.status) {
            (Err(_), _) => HealthStatus::Unhealthy,
            (Ok(()), CheckStatus::Unavailable) => HealthStatus::Degraded,
            (Ok(()), _) => HealthStatus::Healthy,
        };
        HealthReport {
            status,
            checks: Checks {
                store: StoreCheck {
                    status: if ping.is_ok() {
                        CheckStatus::Healthy
                    } else {
                        CheckStatus::Unhealthy
                    },
                    backend: self.inner.backend.kind(),
                    error: ping.err().map(|e| e.to_string()),
                    pool: self.inner.backend.pool_stats(),
                },
                cache: CacheChecks {
                    l1: L1Check {
                        status: CheckStatus::Healthy,
                        size: self.inner.l1.stats().size,
                    },
                    l2,
                },
                connections: ConnectionsCheck {
                    status: CheckStatus::Healthy,
                    total_connections: self.inner.connections.open_count(),
                },
            },
        }
    }
}
