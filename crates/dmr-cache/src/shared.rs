//! The shared tier: what the registry needs from a cache every instance of the fleet sees
//! (Redis in production): L2 entries, a fleet-wide compile lock with a fencing token, and
//! a backplane that carries invalidations between instances. The registry codes against
//! this trait; `dmr-cache-redis` implements it.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Why a shared-tier operation did not happen. Every error is "carry on without the
/// tier": the caller falls back to L1 and the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TierError {
    /// The circuit breaker is open: the tier was not even asked.
    #[error("shared cache unavailable (circuit open)")]
    CircuitOpen,
    #[error("shared cache timed out after {0:?}")]
    Timeout(Duration),
    #[error("shared cache error: {0}")]
    Failed(String),
}

/// A held fleet-wide compile lock. `token` is the fencing token: writes made under the
/// lock are accepted only while the lock still holds this token, so a holder that stalled
/// past the lock's TTL cannot overwrite a newer holder's work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetLock {
    pub tenant: String,
    pub entry: String,
    pub token: u64,
    /// Invalidation epochs (global, tenant) seen when the lock was taken: an entry computed
    /// under this lock is not stored if an invalidation happened since.
    pub epochs: (u64, u64),
}

/// How waiting on another instance's compile ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Awaited {
    Ready(Vec<u8>),
    /// The lock is gone and no entry was stored (the holder failed or was fenced out):
    /// try to take the lock.
    Released,
    TimedOut,
}

/// What one instance tells the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackplaneMessage {
    /// The sending instance; it ignores its own messages.
    pub sender: String,
    pub invalidation: Invalidation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Invalidation {
    /// One tenant's cached models.
    Tenant { tenant: String },
    /// Every cached model.
    All,
    /// A tenant's connection was closed on demand: close it everywhere.
    Connection { tenant: String },
    /// Model files were reloaded: reload everywhere.
    Models,
}

/// What the tier's subscriber hands to the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackplaneEvent {
    /// A message from another instance.
    Message(Invalidation),
    /// The subscription was (re)established. Messages sent while it was down are lost,
    /// so the receiver must flush everything it caches.
    Subscribed,
}

/// Whether the tier answers now, as health, stats and `/metrics` report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Liveness {
    /// The backplane subscription is up (its connection drops the moment Redis dies).
    pub subscribed: bool,
    /// The last PING (at most a second old) answered, and the circuit is closed.
    pub answering: bool,
    /// Why the tier is down, when it is.
    pub error: Option<String>,
}

impl Liveness {
    pub fn up(&self) -> bool {
        self.subscribed && self.answering
    }
}

/// The number of L2 entries. Counting walks every tenant hash, so it runs at most once
/// per `max_age` (callers in between get the last count and its age) and stops after a
/// bounded number of SCAN steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCount {
    /// The entries counted, or why there is no count (never a 0 that means "unknown").
    pub entries: Result<u64, TierError>,
    /// How old the count is.
    pub age: Duration,
    /// The walk stopped at its bound: `entries` counts the tenant hashes it reached only.
    pub capped: bool,
}

/// Counters and state of the tier, for stats and health.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TierStats {
    /// As of the last `SharedTier::liveness` (see `Liveness::up`). Reported by the stats'
    /// L2 section itself (which also has it without a tier), so not serialised here:
    /// flattened into that section, it would appear twice.
    #[serde(skip_serializing)]
    pub connected: bool,
    /// Whether the backplane subscription is up now (reported in the stats' backplane
    /// section).
    #[serde(skip_serializing)]
    pub subscribed: bool,
    /// Circuit breaker state: `closed` or `open`.
    pub breaker: &'static str,
    pub hits: u64,
    pub misses: u64,
    pub errors: u64,
    pub latency_avg_ms: f64,
    pub latency_max_ms: f64,
    pub backplane_sent: u64,
    pub backplane_received: u64,
    pub subscriptions: u64,
}

#[async_trait]
pub trait SharedTier: Send + Sync + 'static {
    /// This instance's id (the backplane's `sender`).
    fn instance_id(&self) -> &str;

    /// An L2 entry: opaque bytes under (tenant, entry).
    async fn get(&self, tenant: &str, entry: &str) -> Result<Option<Vec<u8>>, TierError>;

    /// Stores an entry computed under `lock`, unless the lock or the epochs moved on.
    /// Returns whether it was stored.
    async fn put(&self, lock: &FleetLock, value: &[u8]) -> Result<bool, TierError>;

    /// Takes the fleet-wide compile lock for (tenant, entry), or `None` if another holds it.
    async fn try_lock(&self, tenant: &str, entry: &str) -> Result<Option<FleetLock>, TierError>;

    /// Waits (polling with backoff, up to `max_wait`) for another instance's compile of
    /// (tenant, entry) to land in L2.
    async fn await_entry(
        &self,
        tenant: &str,
        entry: &str,
        max_wait: Duration,
    ) -> Result<Awaited, TierError>;

    /// Releases the lock if this holder still has it.
    async fn unlock(&self, lock: &FleetLock) -> Result<(), TierError>;

    /// Drops the tenant's L2 entries (and fences out in-flight compiles of them).
    async fn invalidate_tenant(&self, tenant: &str) -> Result<(), TierError>;

    /// Drops every L2 entry (and fences out every in-flight compile).
    async fn invalidate_all(&self) -> Result<(), TierError>;

    /// Publishes an invalidation to the other instances.
    async fn publish(&self, invalidation: &Invalidation) -> Result<(), TierError>;

    /// Number of L2 entries (counted with SCAN, never KEYS; see `KeyCount` for how often
    /// and how far).
    async fn key_count(&self) -> KeyCount;

    /// Whether the tier answers now: the subscription's state and a PING bounded by the
    /// command timeout, whose result concurrent callers share and reuse for up to a
    /// second. Also what `stats().connected` reads afterwards.
    async fn liveness(&self) -> Liveness;

    /// Counters and state, without a round trip (`connected` as of the last `liveness`).
    fn stats(&self) -> TierStats;
}
