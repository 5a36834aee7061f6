//! One tenant's database: a cheap handle on the shared client (or, for a tenant with a
//! dedicated URI, on its own client, shut down when the store closes).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use dmr_query::Filter;
use dmr_store::{
    CollectionSpec, EnsuredCollection, FindQuery, IndexFailure, PoolStats, StoreError, Stored,
    TenantStore, WriteOutcome,
};
use futures_util::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use mongodb::{Client, Collection, Database, IndexModel};
use serde_json::Value;

use crate::convert;
use crate::errors::store_error;
use crate::index::{index_model, same_index};
use crate::monitor::ClientMonitor;
use crate::query;

/// Mongoose's version key, which this store uses as the document's revision: every
/// replace increments it (Mongoose's `optimisticConcurrency`), so a write based on a stale
/// read is refused instead of silently lost.
const VERSION_KEY: &str = "__v";

pub(crate) enum ClientRef {
    Shared,
    /// The tenant's own client (a dedicated URI); shut down on close.
    Dedicated(Client),
}

pub struct MongoTenantStore {
    db: Database,
    database_name: String,
    client: ClientRef,
    monitor: Arc<ClientMonitor>,
    open: AtomicBool,
    in_flight: AtomicUsize,
}

/// Counts an operation in flight for the tenant's pool figures.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl MongoTenantStore {
    pub(crate) fn new(db: Database, client: ClientRef, monitor: Arc<ClientMonitor>) -> Self {
        Self {
            database_name: db.name().to_owned(),
            db,
            client,
            monitor,
            open: AtomicBool::new(true),
            in_flight: AtomicUsize::new(0),
        }
    }

    /// Refuses work on a closed store, and fails fast while no server answers.
    fn begin(&self) -> Result<InFlight<'_>, StoreError> {
        if !self.open.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        self.monitor.fail_fast()?;
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        Ok(InFlight(&self.in_flight))
    }

    /// The collection's indexes; none when it does not exist yet.
    async fn existing_indexes(
        &self,
        collection: &Collection<Document>,
    ) -> Result<Vec<IndexModel>, StoreError> {
        let fail = |e: mongodb::error::Error| store_error(&e, collection.name());
        match collection.list_indexes().await {
            Ok(cursor) => cursor.try_collect().await.map_err(fail),
            Err(e) if crate::errors::code(&e) == Some(crate::errors::NAMESPACE_NOT_FOUND) => {
                Ok(Vec::new())
            }
            Err(e) => Err(fail(e)),
        }
    }

    fn collection(&self, spec: &CollectionSpec) -> Collection<Document> {
        self.db.collection(&spec.name)
    }

    fn id_filter(spec: &CollectionSpec, id: &str) -> Document {
        doc! { "_id": convert::at_path(&Value::String(id.to_owned()), "_id", &spec.schema) }
    }
}

fn index_name(index: &IndexModel) -> Option<&String> {
    index.options.as_ref().and_then(|o| o.name.as_ref())
}

fn revision(doc: &Document) -> u64 {
    match doc.get(VERSION_KEY) {
        Some(Bson::Int32(v)) => u64::try_from(*v).unwrap_or(0),
        Some(Bson::Int64(v)) => u64::try_from(*v).unwrap_or(0),
        Some(Bson::Double(v)) if *v >= 0.0 => *v as u64,
        _ => 0,
    }
}

fn version_value(revision: u64) -> Bson {
    i32::try_from(revision).map_or_else(
        |_| Bson::Int64(i64::try_from(revision).unwrap_or(i64::MAX)),
        Bson::Int32,
    )
}

#[async_trait]
impl TenantStore for MongoTenantStore {
    fn database_name(&self) -> &str {
        &self.database_name
    }

    async fn ensure_collection(
        &self,
        spec: &CollectionSpec,
    ) -> Result<EnsuredCollection, StoreError> {
        let _op = self.begin()?;
        let collection = self.collection(spec);
        if spec.indexes.is_empty() {
            // createIndexes creates the collection; without indexes, create it alone.
            if let Err(e) = self.db.create_collection(&spec.name).await
                && crate::errors::code(&e) != Some(crate::errors::NAMESPACE_EXISTS)
            {
                return Err(store_error(&e, &spec.name));
            }
        }
        let existing = self.existing_indexes(&collection).await?;
        let mut ensured = EnsuredCollection::default();
        // One index per command: an index the server refuses fails alone, as Mongoose's
        // autoIndex does, and the model is served without it. An index already there (the
        // Node registry's) is used as it is.
        for index in &spec.indexes {
            let outcome = match existing.iter().find(|e| index_name(e) == Some(&index.name)) {
                Some(found) if same_index(found, index) => Ok(()),
                Some(_) => Err(format!(
                    "an index named {} already exists with other keys or options",
                    index.name
                )),
                None => match collection.create_index(index_model(index)).await {
                    Ok(_) => Ok(()),
                    Err(e) => match store_error(&e, &spec.name) {
                        unavailable @ StoreError::Unavailable(_) => return Err(unavailable),
                        StoreError::Duplicate { .. } => {
                            Err("existing documents hold duplicate values".to_owned())
                        }
                        _ => Err(crate::errors::describe(&e)),
                    },
                },
            };
            match outcome {
                Ok(()) => ensured.indexes.push(index.name.clone()),
                Err(reason) => ensured.failed.push(IndexFailure {
                    index: index.name.clone(),
                    reason,
                }),
            }
        }
        Ok(ensured)
    }

    async fn insert(&self, spec: &CollectionSpec, doc: &Value) -> Result<(), StoreError> {
        let _op = self.begin()?;
        self.collection(spec)
            .insert_one(convert::document(doc, &spec.schema))
            .await
            .map(drop)
            .map_err(|e| store_error(&e, &spec.name))
    }

    async fn get(&self, spec: &CollectionSpec, id: &str) -> Result<Option<Stored>, StoreError> {
        let _op = self.begin()?;
        let found = self
            .collection(spec)
            .find_one(Self::id_filter(spec, id))
            .await
            .map_err(|e| store_error(&e, &spec.name))?;
        Ok(found.map(|doc| Stored {
            revision: revision(&doc),
            doc: convert::json_document(doc),
        }))
    }

    async fn find(
        &self,
        spec: &CollectionSpec,
        q: &FindQuery<'_>,
    ) -> Result<Vec<Value>, StoreError> {
        let _op = self.begin()?;
        if q.limit == 0 {
            return Ok(Vec::new());
        }
        let fail = |e: mongodb::error::Error| store_error(&e, &spec.name);
        let cursor = self
            .collection(spec)
            .find(query::filter(q.filter, &spec.schema))
            .sort(query::sort(q.sort))
            // BSON integers are signed: past i64::MAX there is nothing to skip to anyway.
            .skip(q.skip.min(i64::MAX as u64))
            .limit(i64::try_from(q.limit).unwrap_or(i64::MAX))
            .await
            .map_err(fail)?;
        let docs: Vec<Document> = cursor.try_collect().await.map_err(fail)?;
        Ok(docs.into_iter().map(convert::json_document).collect())
    }

    async fn count(&self, spec: &CollectionSpec, filter: &Filter) -> Result<u64, StoreError> {
        let _op = self.begin()?;
        self.collection(spec)
            .count_documents(query::filter(filter, &spec.schema))
            .await
            .map_err(|e| store_error(&e, &spec.name))
    }

    async fn replace(
        &self,
        spec: &CollectionSpec,
        id: &str,
        revision: u64,
        doc: &Value,
    ) -> Result<WriteOutcome, StoreError> {
        let _op = self.begin()?;
        let collection = self.collection(spec);
        let fail = |e: mongodb::error::Error| store_error(&e, &spec.name);
        let mut filter = Self::id_filter(spec, id);
        // Documents written without a version key (by hand, or by another tool) are at 0.
        let current = if revision == 0 {
            Bson::Document(doc! { "$in": [0, Bson::Null] })
        } else {
            version_value(revision)
        };
        filter.insert(VERSION_KEY, current);
        let mut replacement = convert::document(doc, &spec.schema);
        replacement.insert(VERSION_KEY, version_value(revision + 1));
        let result = collection
            .replace_one(filter, replacement)
            .await
            .map_err(fail)?;
        if result.matched_count == 1 {
            return Ok(WriteOutcome::Written);
        }
        let exists = collection
            .find_one(Self::id_filter(spec, id))
            .projection(doc! { "_id": 1 })
            .await
            .map_err(fail)?
            .is_some();
        Ok(if exists {
            WriteOutcome::Conflict
        } else {
            WriteOutcome::NotFound
        })
    }

    async fn delete(&self, spec: &CollectionSpec, id: &str) -> Result<bool, StoreError> {
        let _op = self.begin()?;
        self.collection(spec)
            .delete_one(Self::id_filter(spec, id))
            .await
            .map(|r| r.deleted_count == 1)
            .map_err(|e| store_error(&e, &spec.name))
    }

    fn pool_stats(&self) -> PoolStats {
        match self.client {
            ClientRef::Dedicated(_) => self.monitor.pool_stats(),
            // The shared pool is reported once, by the backend; a tenant on it shows the
            // connections its operations hold right now.
            ClientRef::Shared => PoolStats {
                in_use: self.in_flight.load(Ordering::Relaxed),
                idle: 0,
                max_size: self.monitor.pool_stats().max_size,
            },
        }
    }

    fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    async fn close(&self) {
        if self.open.swap(false, Ordering::AcqRel)
            && let ClientRef::Dedicated(client) = &self.client
        {
            client.clone().shutdown().immediate(true).await;
        }
    }
}
