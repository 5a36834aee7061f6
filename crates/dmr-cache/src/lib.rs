//! Cache tiers between a request and a compile: the in-process L1, and the contract of
//! the shared tier (L2 + fleet lock + backplane) with the circuit breaker guarding it.

mod breaker;
mod l1;
mod shared;

pub use breaker::{BreakerState, CircuitBreaker};
pub use dmr_metrics::StripedCounter;
pub use l1::{L1Cache, L1Stats};
pub use moka::Equivalent;
pub use shared::{
    Awaited, BackplaneEvent, BackplaneMessage, FleetLock, Invalidation, KeyCount, Liveness,
    SharedTier, TierError, TierStats,
};
