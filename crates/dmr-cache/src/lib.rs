//! Cache tiers between a request and a compile.

mod l1;

pub use l1::{L1Cache, L1Stats};
