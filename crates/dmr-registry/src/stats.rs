use std::sync::atomic::{AtomicU64, Ordering};

use dmr_cache::{L1Stats, StripedCounter, TierStats};
use serde::Serialize;

use crate::connections::ConnectionInfo;
use crate::health::CheckStatus;

/// Counters the registry keeps itself; the tiers count their own hits and misses.
#[derive(Default)]
pub(crate) struct Counters {
    pub model_creations: AtomicU64,
    pub errors: AtomicU64,
    /// Compiles in flight: each holds the (tenant, model) "lock" the others wait on.
    pub active_locks: AtomicU64,
    /// Loads run after an L1 miss (L2 hit, fleet wait or compile); L1 misses beyond these
    /// waited on another caller's load.
    pub loads: AtomicU64,
    /// Compiled models rebuilt from L2.
    pub l2_hits: AtomicU64,
    /// Loads that waited for another instance's compile.
    pub fleet_waits: AtomicU64,
    pub fail_safe_served: AtomicU64,
    /// L1 flushes after a backplane (re)subscription.
    pub l1_flushes: AtomicU64,
    pub backplane_applied: AtomicU64,
    /// L1 lookups; every `L1_SAMPLE`-th of a thread is timed, so the hot path rarely reads
    /// the clock.
    pub lookups: StripedCounter,
    pub l1_latency: Latency,
    /// Every load after an L1 miss (an L2 rebuild, a fleet wait or a compile).
    pub load_latency: Latency,
    pub compile_latency: Latency,
}

/// One L1 lookup in this many is timed.
pub(crate) const L1_SAMPLE: i64 = 256;

/// Running count, total and maximum of a duration, lock-free.
#[derive(Default)]
pub(crate) struct Latency {
    count: AtomicU64,
    total_ns: AtomicU64,
    max_ns: AtomicU64,
}

impl Latency {
    pub fn record(&self, elapsed: std::time::Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.total_ns.fetch_add(ns, Ordering::Relaxed);
        self.max_ns.fetch_max(ns, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> LatencyStats {
        let count = self.count.load(Ordering::Relaxed);
        let total = self.total_ns.load(Ordering::Relaxed) as f64;
        LatencyStats {
            samples: count,
            avg_ms: if count == 0 {
                0.0
            } else {
                total / count as f64 / 1e6
            },
            max_ms: self.max_ns.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LatencyStats {
    pub samples: u64,
    pub avg_ms: f64,
    pub max_ms: f64,
}

/// Latency per layer (L2's own Redis round trips are in `cache.l2`).
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LatencySection {
    /// Sampled L1 hits.
    pub l1: LatencyStats,
    /// Loads after an L1 miss: L2 rebuilds, fleet waits and compiles.
    pub load: LatencyStats,
    pub compile: LatencyStats,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn read(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Decrements `active_locks` when a compile ends, however it ends.
pub(crate) struct ActiveLock<'a>(&'a AtomicU64);

impl<'a> ActiveLock<'a> {
    pub fn hold(counter: &'a AtomicU64) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter)
    }
}

impl Drop for ActiveLock<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `GET /api/models/stats`, with the seed's field names (extra fields are additions).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StatsReport {
    pub registry: RegistrySection,
    pub cache: CacheSection,
    pub connections: ConnectionsSection,
    pub backplane: BackplaneSection,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegistrySection {
    pub registered_schemas: usize,
    pub schemas: Vec<String>,
    /// Compiles in flight.
    pub active_locks: u64,
    pub cache_hits: CacheHits,
    pub cache_misses: u64,
    pub model_creations: u64,
    pub errors: u64,
    /// L1 misses that waited on a load another request of this instance was running.
    pub coalesced_waiters: u64,
    /// Loads that waited for another instance's compile.
    pub fleet_waits: u64,
    pub fail_safe_served: u64,
    pub latency: LatencySection,
    /// The engine: `sqlite` or `mongodb`.
    pub backend: &'static str,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CacheHits {
    pub l1: u64,
    pub l2: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CacheSection {
    pub l1: L1Stats,
    pub l2: L2Section,
}

/// The shared tier (Redis); the counters after `status` appear when it is configured.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct L2Section {
    pub enabled: bool,
    /// Redis answers now: the backplane subscription is up and a PING at most a second
    /// old answered (health's L2 check).
    pub connected: bool,
    /// L2 entries (0 without Redis); null when they could not be counted, with
    /// `keyCountError` saying why.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub key_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_count_error: Option<String>,
    /// How old `keyCount` is: the tenant hashes are walked at most every 5 s, the count
    /// reused in between.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_count_age_ms: Option<u64>,
    /// The walk stopped at its bound (40 SCAN steps of 500 keys): `keyCount` counts the
    /// tenant hashes it reached only.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub key_count_capped: bool,
    pub status: CheckStatus,
    #[serde(flatten)]
    pub tier: Option<TierStats>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectionsSection {
    pub total_connections: usize,
    pub max_open: usize,
    /// The pool every tenant shares (MongoDB's client); absent when each tenant has its
    /// own (SQLite: see each connection's `pool`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<dmr_store::PoolStats>,
    pub connections: Vec<ConnectionInfo>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackplaneSection {
    pub enabled: bool,
    pub sent: u64,
    pub received: u64,
    pub applied: u64,
    /// Subscriptions made (each flushed L1).
    pub subscriptions: u64,
    /// Whether the subscription is up now.
    pub subscribed: bool,
    pub l1_flushes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_l2_section_names_connected_once() {
        let section = L2Section {
            enabled: true,
            connected: true,
            key_count: Some(3),
            key_count_error: None,
            key_count_age_ms: Some(120),
            key_count_capped: false,
            status: CheckStatus::Healthy,
            tier: Some(TierStats {
                connected: true,
                breaker: "closed",
                ..TierStats::default()
            }),
        };
        let json = serde_json::to_string(&section).unwrap();
        assert_eq!(json.matches("\"connected\"").count(), 1, "{json}");
        assert!(json.contains("\"breaker\":\"closed\""), "{json}");
    }
}
