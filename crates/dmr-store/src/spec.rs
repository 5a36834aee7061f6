use dmr_model::IndexDef;
use serde::{Deserialize, Serialize};

/// What a compile asks a store to guarantee: the collection exists with these indexes.
#[derive(Debug, Clone)]
pub struct CollectionSpec {
    pub name: String,
    pub indexes: Vec<IndexDef>,
}

/// What the store guarantees after `ensure_collection`. An index the engine refused does not
/// fail the collection (Mongoose's autoIndex behaves the same): it is reported here, logged
/// and shown in the model's details, so one bad index never takes a model, let alone a
/// tenant, offline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnsuredCollection {
    pub indexes: Vec<String>,
    pub failed: Vec<IndexFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexFailure {
    pub index: String,
    pub reason: String,
}

/// A tenant as the control plane records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantRecord {
    pub id: String,
    pub database_name: String,
    pub status: String,
    pub created_at: String,
    /// True when this call created the record (first use of the tenant).
    #[serde(skip)]
    pub created_now: bool,
}

/// A connection pool's occupancy, for stats and health.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolStats {
    pub in_use: usize,
    pub idle: usize,
    pub max_size: usize,
}
