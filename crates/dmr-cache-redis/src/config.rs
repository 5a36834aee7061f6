use std::time::Duration;

#[derive(Clone)]
pub struct RedisTierConfig {
    /// `redis://[:password@]host:port/db` or `rediss://...`.
    pub url: String,
    pub key_prefix: String,
    /// How long an L2 entry is served after it was stored.
    pub l2_ttl: Duration,
    /// Bound on every Redis call; past it the call counts as a failure.
    pub op_timeout: Duration,
    /// Fleet lock lifetime: a holder that dies releases it after this long.
    pub lock_ttl: Duration,
    /// Consecutive failures that open the circuit.
    pub breaker_threshold: u32,
    /// How often an open circuit probes Redis.
    pub probe_interval: Duration,
}

impl std::fmt::Debug for RedisTierConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("RedisTierConfig")
            .field("key_prefix", &self.key_prefix)
            .field("l2_ttl", &self.l2_ttl)
            .field("op_timeout", &self.op_timeout)
            .field("lock_ttl", &self.lock_ttl)
            .finish_non_exhaustive()
    }
}
