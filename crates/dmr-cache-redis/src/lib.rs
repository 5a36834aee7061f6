//! The shared tier on Redis. Key layout, all under one prefix (`dmr` by default):
//!
//! - `{p}:t:{tenant}`: hash of the tenant's L2 entries, field `{model}:{fingerprint}`,
//!   value = 8-byte big-endian store time (ms) + descriptor bytes;
//! - `{p}:epoch`, `{p}:epoch:t:{tenant}`: invalidation epochs (INCR on invalidation);
//! - `{p}:lock:{tenant}:{entry}`: the fleet compile lock, holding its fencing token;
//! - `{p}:fence`: the fencing-token counter;
//! - channel `{p}:backplane`: invalidations between instances.
//!
//! Invalidation is O(1) per tenant (epoch INCR + one DEL); clearing everything walks the
//! prefix with SCAN, never KEYS. Writes under a lock are checked against the lock token and
//! the epochs in one script, so a compile that raced an invalidation cannot store a stale
//! entry.
//!
//! Whether Redis answers (`liveness.rs`) is the subscription's state and a shared, bounded
//! PING, not the breaker's alone: L1 hits never call Redis, so the breaker can stay closed
//! long after the server died.

mod config;
mod liveness;
mod recent;
mod scripts;
mod subscriber;
mod tier;

pub use config::RedisTierConfig;
pub use tier::RedisTier;
