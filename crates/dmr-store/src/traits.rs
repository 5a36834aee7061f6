use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::{CollectionSpec, EnsuredCollection, PoolStats, StoreError, TenantId, TenantRecord};

/// A storage engine: the control plane (tenants, schema versions) plus a way to open one
/// tenant's database. One instance per process.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Short engine name for stats and logs ("sqlite", "mongodb").
    fn kind(&self) -> &'static str;

    /// Records the tenant if it is new (tenants are created on first use) and returns it.
    async fn provision_tenant(&self, tenant: &TenantId) -> Result<TenantRecord, StoreError>;

    /// Opens the tenant's database with its own small pool. The caller (the connection
    /// manager) owns the handle's lifetime and calls `close` on it.
    async fn open_tenant(&self, tenant: &TenantId) -> Result<Arc<dyn TenantStore>, StoreError>;

    /// Records a model's schema version; returns true when the fingerprint is new.
    async fn record_schema_version(
        &self,
        model: &str,
        fingerprint: &str,
        definition: &Value,
    ) -> Result<bool, StoreError>;

    /// Cheap round trip proving the engine answers.
    async fn ping(&self) -> Result<(), StoreError>;

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

    async fn count(&self, collection: &str) -> Result<u64, StoreError>;

    /// The first `limit` documents in insertion order.
    async fn find(&self, collection: &str, limit: usize) -> Result<Vec<Value>, StoreError>;

    fn pool_stats(&self) -> PoolStats;

    fn is_open(&self) -> bool;

    /// Closes the pool: idle connections now, busy ones as they are returned. Later calls
    /// fail with `StoreError::Closed`.
    async fn close(&self);
}
