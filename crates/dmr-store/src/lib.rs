//! The store layer's contract: what the registry needs from a tenant database, whatever
//! engine is behind it. Backends (`dmr-store-sqlite`, `dmr-store-mongo`) live in their own
//! crates and all pass the same conformance suite (each runs it in `tests/conformance.rs`).

mod error;
mod spec;
mod tenant;
mod traits;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "conformance")]
mod conformance_api_keys;
#[cfg(feature = "conformance")]
mod conformance_documents;

pub use error::StoreError;
pub use spec::{
    ApiKeyRecord, CollectionSpec, EnsuredCollection, FindQuery, IndexFailure, PoolStats,
    SchemaVersion, Stored, TenantRecord, WriteOutcome,
};
pub use tenant::{MAX_TENANT_ID_LEN, TenantId, TenantIdError};
pub use traits::{Backend, TenantStore};
