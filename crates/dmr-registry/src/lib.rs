//! The registry core: what happens between "tenant T wants model M" and a live handle on
//! T's database, and the bookkeeping around it. Storage engines come in through
//! `dmr_store::Backend`; nothing here opens a file or a socket.

mod access;
mod compiled;
mod connections;
mod documents;
mod entropy;
mod error;
mod expiry;
mod fleet;
mod health;
mod invalidation;
mod metrics;
mod operation;
mod registry;
mod report;
mod stats;
mod store_timing;
mod versions;

pub use access::{
    AccessConfig, AccessControl, AccessStats, Credential, Denial, IssuedKey, KEY_LEN, KEY_PREFIX,
    MAX_LABEL_CHARS, PendingKey, Requirement, Verdict,
};
pub use compiled::{CompiledModel, ModelKey};
pub use connections::{ConnectionInfo, OpenTenant};
pub use documents::{BulkItem, FindRequest, QueryLimits};
pub use error::RegistryError;
pub use health::{CheckStatus, HealthReport, HealthStatus};
pub use metrics::RegistryMetrics;
pub use operation::{TestOperation, UnknownOperation};
pub use registry::{Registry, RegistryConfig, TenantModels};
pub use stats::StatsReport;
pub use store_timing::{StoreOperation, StoreTimings};
pub use versions::{ModelSource, ReloadReport, VersionChange};
