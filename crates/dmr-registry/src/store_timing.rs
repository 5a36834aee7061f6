//! Every tenant-store operation timed, by operation, for `/metrics`: the connection
//! manager hands out each opened store wrapped in `TimedStore`, so no call site can be
//! missed. A duration is one striped histogram observation (no shared cache line).
//!
//! Each operation is also a DEBUG span for trace export (OTel's database conventions:
//! `db.system`, `db.namespace`, `db.collection.name`, `db.operation.name`), built only
//! when a layer wants it.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use dmr_error_code::CodedError;
use dmr_metrics::{Histogram, HistogramSnapshot};
use dmr_query::Filter;
use dmr_store::{
    CollectionSpec, EnsuredCollection, FindQuery, PoolStats, StoreError, Stored, TenantStore,
    WriteOutcome,
};
use serde_json::Value;
use tracing::Instrument;
use tracing::field::Empty;

/// The operations timed, as `/metrics` labels them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOperation {
    OpenTenant,
    EnsureCollection,
    Insert,
    Get,
    Find,
    Count,
    Replace,
    Delete,
    Expire,
}

impl StoreOperation {
    pub const ALL: [StoreOperation; 9] = [
        Self::OpenTenant,
        Self::EnsureCollection,
        Self::Insert,
        Self::Get,
        Self::Find,
        Self::Count,
        Self::Replace,
        Self::Delete,
        Self::Expire,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenTenant => "open_tenant",
            Self::EnsureCollection => "ensure_collection",
            Self::Insert => "insert",
            Self::Get => "get",
            Self::Find => "find",
            Self::Count => "count",
            Self::Replace => "replace",
            Self::Delete => "delete",
            Self::Expire => "expire",
        }
    }
}

/// One histogram per operation.
#[derive(Debug, Default)]
pub struct StoreTimings {
    histograms: [Histogram; StoreOperation::ALL.len()],
}

impl StoreTimings {
    /// Runs `operation`, recording how long it took, however it ended.
    pub async fn time<T>(&self, op: StoreOperation, operation: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let result = operation.await;
        self.histograms[op as usize].observe(started.elapsed());
        result
    }

    /// Each operation's histogram, in `StoreOperation::ALL`'s order.
    pub fn snapshot(&self) -> Vec<(StoreOperation, HistogramSnapshot)> {
        StoreOperation::ALL
            .iter()
            .map(|op| (*op, self.histograms[*op as usize].snapshot()))
            .collect()
    }
}

/// A tenant store whose every operation is timed and traced.
pub(crate) struct TimedStore {
    inner: Arc<dyn TenantStore>,
    timings: Arc<StoreTimings>,
    /// The engine, as `Backend::kind` names it ("sqlite", "mongodb"): `db.system`.
    db_system: &'static str,
}

impl TimedStore {
    pub(crate) fn wrap(
        inner: Arc<dyn TenantStore>,
        timings: Arc<StoreTimings>,
        db_system: &'static str,
    ) -> Arc<dyn TenantStore> {
        Arc::new(TimedStore {
            inner,
            timings,
            db_system,
        })
    }

    /// Runs one operation on `collection`: timed, inside its span, its error on the span.
    async fn run<T>(
        &self,
        op: StoreOperation,
        collection: &CollectionSpec,
        operation: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let span = tracing::debug_span!(
            target: "dmr::store",
            "store operation",
            otel.name = %format_args!("{} {}", op.as_str(), collection.name),
            otel.kind = "client",
            otel.status_code = Empty,
            db.system = self.db_system,
            db.namespace = self.inner.database_name(),
            db.collection.name = collection.name.as_str(),
            db.operation.name = op.as_str(),
            error.type = Empty,
        );
        let result = self
            .timings
            .time(op, operation)
            .instrument(span.clone())
            .await;
        if let Err(e) = &result {
            span.record("otel.status_code", "error");
            span.record("error.type", e.error_code().as_str());
        }
        result
    }
}

#[async_trait]
impl TenantStore for TimedStore {
    fn database_name(&self) -> &str {
        self.inner.database_name()
    }

    async fn ensure_collection(
        &self,
        spec: &CollectionSpec,
    ) -> Result<EnsuredCollection, StoreError> {
        let op = StoreOperation::EnsureCollection;
        self.run(op, spec, self.inner.ensure_collection(spec)).await
    }

    async fn insert(&self, collection: &CollectionSpec, doc: &Value) -> Result<(), StoreError> {
        let op = StoreOperation::Insert;
        self.run(op, collection, self.inner.insert(collection, doc))
            .await
    }

    async fn get(
        &self,
        collection: &CollectionSpec,
        id: &str,
    ) -> Result<Option<Stored>, StoreError> {
        let op = StoreOperation::Get;
        self.run(op, collection, self.inner.get(collection, id))
            .await
    }

    async fn find(
        &self,
        collection: &CollectionSpec,
        query: &FindQuery<'_>,
    ) -> Result<Vec<Value>, StoreError> {
        let op = StoreOperation::Find;
        self.run(op, collection, self.inner.find(collection, query))
            .await
    }

    async fn count(&self, collection: &CollectionSpec, filter: &Filter) -> Result<u64, StoreError> {
        let op = StoreOperation::Count;
        self.run(op, collection, self.inner.count(collection, filter))
            .await
    }

    async fn replace(
        &self,
        collection: &CollectionSpec,
        id: &str,
        revision: u64,
        doc: &Value,
    ) -> Result<WriteOutcome, StoreError> {
        let op = StoreOperation::Replace;
        let replace = self.inner.replace(collection, id, revision, doc);
        self.run(op, collection, replace).await
    }

    async fn delete(&self, collection: &CollectionSpec, id: &str) -> Result<bool, StoreError> {
        let op = StoreOperation::Delete;
        self.run(op, collection, self.inner.delete(collection, id))
            .await
    }

    async fn expire(
        &self,
        collection: &CollectionSpec,
        path: &str,
        cutoff: &str,
    ) -> Result<u64, StoreError> {
        let op = StoreOperation::Expire;
        self.run(op, collection, self.inner.expire(collection, path, cutoff))
            .await
    }

    fn pool_stats(&self) -> PoolStats {
        self.inner.pool_stats()
    }

    fn is_open(&self) -> bool {
        self.inner.is_open()
    }

    async fn close(&self) {
        self.inner.close().await;
    }
}
