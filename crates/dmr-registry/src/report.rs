//! Stats and health: read-only views over the registry and its tiers. L2's status is the
//! tier's liveness (its subscription and a shared PING at most a second old), checked on
//! each report, not the breaker alone: L1 hits never call Redis, so the breaker can stay
//! closed long after the server died.

use dmr_cache::{KeyCount, Liveness, TierStats};
use futures_util::future::join;

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
        let liveness = self.l2_liveness().await;
        let tier = self.inner.shared.as_ref().map(|t| t.stats());
        let key_count = match &self.inner.shared {
            Some(tier) => Some(tier.key_count().await),
            None => None,
        };
        let l2_status = l2_check(liveness.as_ref(), tier.as_ref()).status;
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
                l2: l2_section(tier.clone(), key_count, l2_status),
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
                subscribed: tier.as_ref().is_some_and(|t| t.subscribed),
                l1_flushes: read(&counters.l1_flushes),
            },
        }
    }

    /// The tier's liveness now (a PING shared with concurrent callers, at most a second
    /// old); `None` without a tier.
    pub(crate) async fn l2_liveness(&self) -> Option<Liveness> {
        match &self.inner.shared {
            Some(tier) => Some(tier.liveness().await),
            None => None,
        }
    }

    pub async fn health(&self) -> HealthReport {
        let (ping, liveness) = join(self.inner.backend.ping(), self.l2_liveness()).await;
        let tier = self.inner.shared.as_ref().map(|t| t.stats());
        let l2 = l2_check(liveness.as_ref(), tier.as_ref());
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

/// L2's check from its liveness and the breaker's state (read after the liveness).
fn l2_check(liveness: Option<&Liveness>, tier: Option<&TierStats>) -> L2Check {
    let (Some(liveness), Some(tier)) = (liveness, tier) else {
        return L2Check {
            status: CheckStatus::Disabled,
            message: None,
        };
    };
    if tier.connected {
        return L2Check {
            status: CheckStatus::Healthy,
            message: None,
        };
    }
    let why = liveness
        .error
        .clone()
        .unwrap_or_else(|| format!("the circuit is {}", tier.breaker));
    L2Check {
        status: CheckStatus::Unavailable,
        message: Some(format!(
            "Redis is not answering ({why}): serving from L1 and the store"
        )),
    }
}

/// The stats' L2 section: without a tier, no entries; with one, the count or why there
/// is none (never a 0 that means "unknown").
fn l2_section(
    tier: Option<TierStats>,
    key_count: Option<KeyCount>,
    status: CheckStatus,
) -> L2Section {
    let (key_count, key_count_error, key_count_age_ms, key_count_capped) = match key_count {
        None => (Some(0), None, None, false),
        Some(KeyCount {
            entries: Ok(entries),
            age,
            capped,
        }) => (
            Some(entries),
            None,
            Some(u64::try_from(age.as_millis()).unwrap_or(u64::MAX)),
            capped,
        ),
        Some(KeyCount {
            entries: Err(e), ..
        }) => (None, Some(e.to_string()), None, false),
    };
    L2Section {
        enabled: tier.is_some(),
        connected: tier.as_ref().is_some_and(|t| t.connected),
        key_count,
        key_count_error,
        key_count_age_ms,
        key_count_capped,
        status,
        tier,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use dmr_cache::TierError;

    use super::*;

    fn l2_json(key_count: Option<KeyCount>) -> serde_json::Value {
        let tier = key_count.as_ref().map(|_| TierStats::default());
        serde_json::to_value(l2_section(tier, key_count, CheckStatus::Healthy)).unwrap()
    }

    #[test]
    fn an_unknown_count_is_null_with_its_reason_not_zero() {
        let l2 = l2_json(Some(KeyCount {
            entries: Err(TierError::CircuitOpen),
            age: Duration::ZERO,
            capped: false,
        }));
        assert!(l2["keyCount"].is_null(), "{l2}");
        assert_eq!(
            l2["keyCountError"],
            "shared cache unavailable (circuit open)"
        );
        assert!(l2.get("keyCountAgeMs").is_none(), "{l2}");
    }

    #[test]
    fn a_count_says_how_old_it_is_and_whether_it_was_capped() {
        let l2 = l2_json(Some(KeyCount {
            entries: Ok(7),
            age: Duration::from_millis(1500),
            capped: true,
        }));
        assert_eq!(l2["keyCount"], 7);
        assert_eq!(l2["keyCountAgeMs"], 1500);
        assert_eq!(l2["keyCountCapped"], true);
        assert!(l2.get("keyCountError").is_none(), "{l2}");
        let uncapped = l2_json(Some(KeyCount {
            entries: Ok(7),
            age: Duration::ZERO,
            capped: false,
        }));
        assert!(uncapped.get("keyCountCapped").is_none(), "{uncapped}");
    }

    #[test]
    fn without_redis_there_are_no_entries() {
        let l2 = l2_json(None);
        assert_eq!(l2["keyCount"], 0);
        assert_eq!(l2["enabled"], false);
        assert_eq!(l2["connected"], false);
    }

    #[test]
    fn l2_is_healthy_only_when_connected_and_says_why_not() {
        let up = Liveness {
            subscribed: true,
            answering: true,
            error: None,
        };
        let connected = TierStats {
            connected: true,
            breaker: "closed",
            ..TierStats::default()
        };
        assert_eq!(
            l2_check(Some(&up), Some(&connected)).status,
            CheckStatus::Healthy
        );
        let down = Liveness {
            subscribed: false,
            answering: true,
            error: Some("the backplane subscription is down".to_owned()),
        };
        let check = l2_check(
            Some(&down),
            Some(&TierStats {
                connected: false,
                ..connected.clone()
            }),
        );
        assert_eq!(check.status, CheckStatus::Unavailable);
        assert_eq!(
            check.message.as_deref(),
            Some(
                "Redis is not answering (the backplane subscription is down): serving from L1 and the store"
            )
        );
        assert_eq!(l2_check(None, None).status, CheckStatus::Disabled);
    }
}
