use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use dmr_query::Filter;

use crate::{
    ApiKeyRecord, CollectionSpec, EnsuredCollection, FindQuery, PoolStats, SchemaVersion,
    StoreError, Stored, TenantId, TenantRecord, WriteOutcome,
};

/// A storage engine: the control plane (tenants, schema versions) plus a way to open one
/// tenant's database. One instance per process.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Short engine name for stats and logs ("sqlite", "mongodb").
    fn kind(&self) -> &'static str;

    /// Records the tenant if it is new (tenants are created on first use) and returns it.
    async fn provision_tenant(&self, tenant: &TenantId) -> Result<TenantRecord, StoreError>;

    /// Opens the tenant's database: its own small pool (SQLite), or a handle on the shared
    /// client (MongoDB; a client of its own for a tenant with a dedicated deployment). The
    /// caller (the connection manager) owns the handle's lifetime and calls `close` on it.
    async fn open_tenant(&self, tenant: &TenantId) -> Result<Arc<dyn TenantStore>, StoreError>;

    /// Records a model's schema version; returns true when the fingerprint is new to the
    /// model, which then gets the next version number (concurrent recorders, on any
    /// instance, get distinct numbers).
    async fn record_schema_version(
        &self,
        model: &str,
        fingerprint: &str,
        definition: &Value,
    ) -> Result<bool, StoreError>;

    /// Every recorded version of `model`, oldest (version 1) first; empty for a model
    /// never recorded.
    async fn schema_versions(&self, model: &str) -> Result<Vec<SchemaVersion>, StoreError>;

    /// The names of every model with a recorded version, sorted.
    async fn schema_models(&self) -> Result<Vec<String>, StoreError>;

    /// Stores a tenant API key record (its hash, never the key).
    async fn insert_api_key(&self, record: &ApiKeyRecord) -> Result<(), StoreError>;

    /// The key record with this hash (lowercase hex SHA-256 of the key), if any.
    async fn find_api_key(&self, hash: &str) -> Result<Option<ApiKeyRecord>, StoreError>;

    /// Every key record of the tenant, in no particular order.
    async fn list_api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// Deletes the tenant's key; false when the tenant has no such key.
    async fn delete_api_key(&self, tenant: &TenantId, id: &str) -> Result<bool, StoreError>;

    /// Cheap round trip proving the engine answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Whether the engine builds text indexes. On one that does not, a model's text index
    /// is reported failed by `ensure_collection` and `$text` is refused with a clear error.
    async fn supports_text_indexes(&self) -> bool {
        true
    }

    /// The engine's connection pool shared by every tenant (MongoDB's client), for stats
    /// and health; `None` when each tenant has its own (SQLite).
    fn pool_stats(&self) -> Option<PoolStats> {
        None
    }

    /// Releases the control plane's resources at shutdown.
    async fn close(&self);
}

/// One tenant's open database.
#[async_trait]
pub trait TenantStore: Send + Sync + 'static {
    fn database_name(&self) -> &str;

    /// Creates the collection and its indexes if missing. Idempotent.
    async fn ensure_collection(
        &self,
        spec: &CollectionSpec,
    ) -> Result<EnsuredCollection, StoreError>;

    /// Stores a new document (its `_id` is set). A duplicate `_id` or unique key is
    /// `StoreError::Duplicate`.
    async fn insert(&self, collection: &CollectionSpec, doc: &Value) -> Result<(), StoreError>;

    /// The document with this `_id`, with its revision.
    async fn get(
        &self,
        collection: &CollectionSpec,
        id: &str,
    ) -> Result<Option<Stored>, StoreError>;

    /// Documents matching `query.filter`, sorted, paginated, in insertion order when no
    /// sort is given.
    async fn find(
        &self,
        collection: &CollectionSpec,
        query: &FindQuery<'_>,
    ) -> Result<Vec<Value>, StoreError>;

    async fn count(&self, collection: &CollectionSpec, filter: &Filter) -> Result<u64, StoreError>;

    /// Replaces the document if it is still at `revision` (optimistic concurrency: the
    /// caller read it, changed it, and retries on `Conflict`).
    async fn replace(
        &self,
        collection: &CollectionSpec,
        id: &str,
        revision: u64,
        doc: &Value,
    ) -> Result<WriteOutcome, StoreError>;

    /// Deletes the document; false when there was none.
    async fn delete(&self, collection: &CollectionSpec, id: &str) -> Result<bool, StoreError>;

    /// Deletes the documents whose date at `path` is before `cutoff` (an ISO-8601 UTC
    /// instant): a TTL index's sweep. Engines that expire documents themselves (MongoDB)
    /// keep this default. Values that are not dates are left alone, as MongoDB does.
    async fn expire(
        &self,
        collection: &CollectionSpec,
        path: &str,
        cutoff: &str,
    ) -> Result<u64, StoreError> {
        let _ = (collection, path, cutoff);
        Ok(0)
    }

    fn pool_stats(&self) -> PoolStats;

    fn is_open(&self) -> bool;

    /// Closes the pool: idle connections now, busy ones as they are returned. Later calls
    /// fail with `StoreError::Closed`.
    async fn close(&self);
}
