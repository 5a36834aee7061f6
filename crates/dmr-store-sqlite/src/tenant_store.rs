use std::sync::Arc;

use async_trait::async_trait;
use dmr_store::{
    CollectionSpec, EnsuredCollection, IndexFailure, PoolStats, StoreError, TenantStore,
};
use serde_json::Value;

use crate::ddl;
use crate::pool::{Pool, internal};

/// One tenant's SQLite file.
pub(crate) struct SqliteTenantStore {
    pub(crate) database_name: String,
    pub(crate) pool: Arc<Pool>,
}

#[async_trait]
impl TenantStore for SqliteTenantStore {
    fn database_name(&self) -> &str {
        &self.database_name
    }

    async fn ensure_collection(
        &self,
        spec: &CollectionSpec,
    ) -> Result<EnsuredCollection, StoreError> {
        let table = ddl::create_table(&spec.name);
        let mut statements = Vec::with_capacity(spec.indexes.len());
        let mut ensured = EnsuredCollection::default();
        for index in &spec.indexes {
            match ddl::create_index(&spec.name, index) {
                Ok(sql) => statements.push((index.name.clone(), sql)),
                Err(e) => ensured.failed.push(IndexFailure {
                    index: index.name.clone(),
                    reason: e.to_string(),
                }),
            }
        }
        self.pool
            .with_conn(move |conn| {
                conn.execute_batch(&table).map_err(internal)?;
                // One statement per index, so a refused index (say, a unique index over
                // data that already has duplicates) does not cost the others.
                for (name, sql) in statements {
                    match conn.execute_batch(&sql) {
                        Ok(()) => ensured.indexes.push(name),
                        Err(e) => ensured.failed.push(IndexFailure {
                            index: name,
                            reason: e.to_string(),
                        }),
                    }
                }
                Ok(ensured)
            })
            .await
    }

    async fn count(&self, collection: &str) -> Result<u64, StoreError> {
        let sql = format!("SELECT count(*) FROM {}", ddl::quote_ident(collection));
        self.pool
            .with_conn(move |conn| {
                let n: i64 = conn
                    .prepare_cached(&sql)
                    .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
                    .map_err(internal)?;
                Ok(u64::try_from(n).unwrap_or_default())
            })
            .await
    }

    async fn find(&self, collection: &str, limit: usize) -> Result<Vec<Value>, StoreError> {
        let sql = format!(
            "SELECT json(doc) FROM {} ORDER BY rowid LIMIT ?1",
            ddl::quote_ident(collection)
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.pool
            .with_conn(move |conn| {
                let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
                let rows = stmt
                    .query_map([limit], |row| row.get::<_, String>(0))
                    .map_err(internal)?;
                let mut docs = Vec::new();
                for text in rows {
                    let text = text.map_err(internal)?;
                    docs.push(serde_json::from_str(&text).map_err(|e| {
                        StoreError::Internal(format!("stored document is not JSON: {e}"))
                    })?);
                }
                Ok(docs)
            })
            .await
    }

    fn pool_stats(&self) -> PoolStats {
        self.pool.stats()
    }

    fn is_open(&self) -> bool {
        self.pool.is_open()
    }

    async fn close(&self) {
        self.pool.close();
    }
}
