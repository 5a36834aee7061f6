use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Healthy,
    /// Serving, with a tier missing (L2 down or unavailable): 200.
    Degraded,
    /// The store does not answer: 503.
    Unhealthy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Healthy,
    Disabled,
    Unavailable,
    Unhealthy,
}

/// `GET /api/models/health`: the seed's `{status, checks:{cache:{l1,l2}, connections}}`,
/// plus the store check that decides `unhealthy`. Healthy or degraded (L2 unavailable:
/// served from L1 and the store) is 200, unhealthy (the store does not answer) 503.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HealthReport {
    pub status: HealthStatus,
    pub checks: Checks,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Checks {
    pub store: StoreCheck,
    pub cache: CacheChecks,
    pub connections: ConnectionsCheck,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StoreCheck {
    pub status: CheckStatus,
    /// The engine: `sqlite` or `mongodb`.
    pub backend: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The shared connection pool, when the engine has one (MongoDB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<dmr_store::PoolStats>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CacheChecks {
    pub l1: L1Check,
    pub l2: L2Check,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct L1Check {
    pub status: CheckStatus,
    pub size: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct L2Check {
    pub status: CheckStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectionsCheck {
    pub status: CheckStatus,
    pub total_connections: usize,
}
