//! Schemas of the bodies the registry's own types serialize (stats, health, reload report):
//! those types live in crates with no HTTP or OpenAPI dependency, so they are described
//! here field by field. Every object is closed (`additionalProperties: false`) and every
//! field the type always writes is required, so the OpenAPI-driven fuzz run
//! (scripts/fuzz-api.sh) fails as soon as a report and its description part.
#![allow(
    dead_code,
    reason = "schema-only types: never built, they describe JSON"
)]

use utoipa::ToSchema;

#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Unhealthy,
}

#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Healthy,
    Disabled,
    Unavailable,
    Unhealthy,
}

/// `GET /api/models/health`: healthy or degraded (L2 unavailable: served from L1 and the
/// store) is 200, unhealthy (the store does not answer) 503.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthReport {
    status: HealthStatus,
    checks: HealthChecks,
    /// Whether API keys are checked (`disabled`: no `ADMIN_API_KEY`, development only).
    authentication: crate::handlers::info::Authentication,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthChecks {
    store: StoreCheck,
    cache: CacheChecks,
    connections: ConnectionsCheck,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreCheck {
    status: CheckStatus,
    /// `sqlite`, `mongodb`...
    backend: String,
    error: Option<String>,
    /// The connection pool every tenant shares (MongoDB); absent for SQLite.
    pool: Option<PoolStats>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheChecks {
    l1: L1Check,
    l2: L2Check,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct L1Check {
    status: CheckStatus,
    size: u64,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct L2Check {
    status: CheckStatus,
    message: Option<String>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectionsCheck {
    status: CheckStatus,
    total_connections: u64,
}

/// `GET /api/models/stats`: the seed's fields, and more.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatsReport {
    registry: RegistryStats,
    cache: CacheStats,
    connections: ConnectionsStats,
    backplane: BackplaneStats,
    http: crate::metrics::HttpSummary,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegistryStats {
    registered_schemas: u64,
    schemas: Vec<String>,
    /// Compiles in flight.
    active_locks: u64,
    cache_hits: CacheHits,
    cache_misses: u64,
    model_creations: u64,
    errors: u64,
    /// L1 misses that waited on another request's load.
    coalesced_waiters: u64,
    /// Loads that waited for another instance's compile.
    fleet_waits: u64,
    fail_safe_served: u64,
    latency: LatencySection,
    backend: String,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheHits {
    l1: u64,
    l2: u64,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LatencySection {
    /// Sampled L1 hits.
    l1: LatencyStats,
    /// Loads after an L1 miss.
    load: LatencyStats,
    compile: LatencyStats,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LatencyStats {
    samples: u64,
    avg_ms: f64,
    max_ms: f64,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheStats {
    l1: L1Stats,
    l2: L2Stats,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct L1Stats {
    size: u64,
    max_size: u64,
    ttl_ms: u64,
    hits: u64,
    misses: u64,
}

/// The shared tier (Redis); the counters after `status` appear when it is configured.
#[derive(ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct L2Stats {
    enabled: bool,
    connected: bool,
    key_count: u64,
    status: CheckStatus,
    /// Circuit breaker state: `closed` or `open`.
    breaker: Option<String>,
    hits: Option<u64>,
    misses: Option<u64>,
    errors: Option<u64>,
    latency_avg_ms: Option<f64>,
    latency_max_ms: Option<f64>,
    backplane_sent: Option<u64>,
    backplane_received: Option<u64>,
    subscriptions: Option<u64>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectionsStats {
    total_connections: u64,
    max_open: u64,
    /// The connection pool every tenant shares (MongoDB); absent for SQLite, whose
    /// tenants each have their own (`connections[].pool`).
    pool: Option<PoolStats>,
    connections: Vec<ConnectionInfo>,
}

/// One open tenant store, named as the seed names it.
#[derive(ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectionInfo {
    tenant_id: String,
    database_name: String,
    /// `connected` or `disconnected`.
    ready_state_string: String,
    #[schema(format = DateTime)]
    last_used: String,
    /// Milliseconds since last use.
    idle_time: u64,
    pool: PoolStats,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PoolStats {
    in_use: u64,
    idle: u64,
    max_size: u64,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackplaneStats {
    enabled: bool,
    sent: u64,
    received: u64,
    applied: u64,
    subscriptions: u64,
    l1_flushes: u64,
}

/// What a reload changed, model by model.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReloadReport {
    added: Vec<String>,
    removed: Vec<String>,
    changed: Vec<VersionChange>,
    unchanged: Vec<String>,
}

/// A model whose fingerprint changed.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionChange {
    model: String,
    from: String,
    to: String,
}

/// An index the store refused; the model is served without it.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexFailure {
    index: String,
    reason: String,
}
