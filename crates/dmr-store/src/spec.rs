use dmr_model::{IndexDef, Schema};
use serde::{Deserialize, Serialize};

/// A collection as the store needs to know it: what a compile ensures (the collection and
/// its indexes) and what queries may use.
#[derive(Debug, Clone, Default)]
pub struct CollectionSpec {
    pub name: String,
    pub indexes: Vec<IndexDef>,
    /// Paths that hold at most one scalar per document (no array on the way): a store may
    /// evaluate conditions on them in its engine (and its indexes) before the exact match.
    pub scalar_paths: Vec<String>,
    /// Paths of the model's text index, for `$text`.
    pub text_paths: Vec<String>,
    /// The model's schema, for stores with native types JSON lacks (MongoDB keeps
    /// ObjectIds and Dates as BSON types: `Schema::native_type`). Empty when unknown.
    pub schema: Schema,
}

/// A document with the revision a `replace` must name.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub doc: serde_json::Value,
    pub revision: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Written,
    /// The document changed since it was read.
    Conflict,
    NotFound,
}

/// A find: the filter is already cast to the model's types.
#[derive(Debug, Clone, Copy)]
pub struct FindQuery<'a> {
    pub filter: &'a dmr_query::Filter,
    pub sort: &'a dmr_query::Sort,
    pub skip: u64,
    pub limit: u64,
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

/// An index the store refused; the model is served without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// Closed, so that its OpenAPI schema is too. It is read back only from the L2 descriptors
// the registry writes itself, where an unreadable entry is a miss.
#[serde(deny_unknown_fields)]
pub struct IndexFailure {
    pub index: String,
    pub reason: String,
}

/// One accepted version of a model, as the control plane keeps it: immutable once
/// recorded, numbered from 1 per model in the order versions were first accepted.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SchemaVersion {
    pub model: String,
    pub version: u32,
    pub fingerprint: String,
    /// The model file as accepted (JSON).
    pub definition: serde_json::Value,
    /// When it was first recorded (ISO 8601, UTC milliseconds).
    pub accepted_at: String,
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

/// A tenant API key as the control plane keeps it: its hash, never the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyRecord {
    /// Public key id, shown in listings and used to revoke.
    pub id: String,
    pub tenant_id: String,
    /// Lowercase hex SHA-256 of the key.
    #[serde(skip)]
    pub hash: String,
    pub label: Option<String>,
    /// `dmr_model::date::format_system_time`.
    pub created_at: String,
}

/// A connection pool's occupancy, for stats and health.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PoolStats {
    pub in_use: usize,
    pub idle: usize,
    pub max_size: usize,
}
