use std::sync::Arc;

use async_trait::async_trait;
use dmr_query::Filter;
use dmr_store::{
    CollectionSpec, EnsuredCollection, FindQuery, IndexFailure, PoolStats, StoreError, Stored,
    TenantStore, WriteOutcome,
};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde_json::Value;

use crate::ddl;
use crate::pool::{Pool, internal};
use crate::query::{self, Where};

/// One tenant's SQLite file.
pub(crate) struct SqliteTenantStore {
    pub(crate) database_name: String,
    pub(crate) pool: Arc<Pool>,
}

/// Maps SQLite's unique-constraint message to the model's index name.
fn write_error(collection: &str, e: rusqlite::Error) -> StoreError {
    let message = e.to_string();
    if let Some(rest) = message.strip_prefix("UNIQUE constraint failed: ") {
        let prefix = format!("index '{collection}.");
        let index = match rest.strip_prefix(&prefix) {
            Some(name) => name.trim_end_matches('\'').to_owned(),
            None => "_id_".to_owned(),
        };
        return StoreError::Duplicate {
            collection: collection.to_owned(),
            index,
        };
    }
    internal(e)
}

fn parse_doc(text: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Internal(format!("stored document is not JSON: {e}")))
}

/// Documents whose row passes `clause`, in insertion order, checked against `filter`.
fn scan(
    conn: &Connection,
    table: &str,
    clause: &Where,
    filter: &Filter,
    order: &str,
    window: Option<(u64, u64)>,
) -> Result<Vec<Value>, StoreError> {
    let mut sql = format!(
        "SELECT json(doc) FROM {table} WHERE {} ORDER BY {order}",
        clause.clause
    );
    if let Some((skip, limit)) = window {
        // SQLite's LIMIT and OFFSET are signed 64-bit: a larger literal is a datatype
        // mismatch, where the client only asked for a page past the end.
        let (skip, limit) = (skip.min(i64::MAX as u64), limit.min(i64::MAX as u64));
        sql.push_str(&format!(" LIMIT {limit} OFFSET {skip}"));
    }
    let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
    let rows = stmt
        .query_map(params_from_iter(clause.params.iter()), |row| {
            row.get::<_, String>(0)
        })
        .map_err(internal)?;
    let residual = query::without_text(filter);
    let mut docs = Vec::new();
    for text in rows {
        let doc = parse_doc(&text.map_err(internal)?)?;
        if clause.exact || residual.matches(&doc) {
            docs.push(doc);
        }
    }
    Ok(docs)
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
        let name = spec.name.clone();
        let mut statements = Vec::with_capacity(spec.indexes.len());
        let mut ensured = EnsuredCollection::default();
        for index in spec.indexes.iter().filter(|i| {
            !i.keys
                .iter()
                .any(|k| k.order == dmr_model::IndexOrder::Text)
        }) {
            match ddl::create_index(&spec.name, index) {
                Ok(sql) => statements.push((index.name.clone(), sql)),
                Err(e) => ensured.failed.push(IndexFailure {
                    index: index.name.clone(),
                    reason: e.to_string(),
                }),
            }
        }
        let text_index = spec.indexes.iter().find(|i| {
            i.keys
                .iter()
                .any(|k| k.order == dmr_model::IndexOrder::Text)
        });
        let text = match text_index {
            Some(index) => Some((
                index.name.clone(),
                ddl::text_index(&spec.name, &spec.text_paths)?,
            )),
            None => None,
        };
        self.pool
            .with_conn(move |conn| {
                conn.execute_batch(&ddl::create_table(&name))
                    .map_err(internal)?;
                let has_rev: i64 = conn
                    .query_row(&ddl::has_rev_column(&name), [], |r| r.get(0))
                    .map_err(internal)?;
                if has_rev == 0 {
                    conn.execute_batch(&ddl::add_rev_column(&name))
                        .map_err(internal)?;
                }
                // One statement per index, so a refused index (say, a unique index over
                // data that already has duplicates) does not cost the others.
                for (index, sql) in statements {
                    match conn.execute_batch(&sql) {
                        Ok(()) => ensured.indexes.push(index),
                        Err(e) => ensured.failed.push(IndexFailure {
                            index,
                            reason: e.to_string(),
                        }),
                    }
                }
                if let Some((index, text)) = text {
                    match ensure_text_index(conn, &name, &text) {
                        Ok(()) => ensured.indexes.push(index),
                        Err(e) => ensured.failed.push(IndexFailure {
                            index,
                            reason: e.to_string(),
                        }),
                    }
                }
                Ok(ensured)
            })
            .await
    }

    async fn insert(&self, collection: &CollectionSpec, doc: &Value) -> Result<(), StoreError> {
        let id = doc
            .get("_id")
            .and_then(Value::as_str)
            .ok_or_else(|| StoreError::Internal("document without a string _id".into()))?
            .to_owned();
        let (name, text) = (collection.name.clone(), doc.to_string());
        self.pool
            .with_conn(move |conn| {
                let sql = format!(
                    "INSERT INTO {} (_id, doc) VALUES (?1, jsonb(?2))",
                    ddl::quote_ident(&name)
                );
                conn.prepare_cached(&sql)
                    .and_then(|mut stmt| stmt.execute(params![id, text]))
                    .map_err(|e| write_error(&name, e))?;
                Ok(())
            })
            .await
    }

    async fn get(
        &self,
        collection: &CollectionSpec,
        id: &str,
    ) -> Result<Option<Stored>, StoreError> {
        let (name, id) = (collection.name.clone(), id.to_owned());
        self.pool
            .with_conn(move |conn| {
                let sql = format!(
                    "SELECT json(doc), rev FROM {} WHERE _id = ?1",
                    ddl::quote_ident(&name)
                );
                let row: Option<(String, i64)> = conn
                    .prepare_cached(&sql)
                    .and_then(|mut stmt| {
                        stmt.query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
                            .optional()
                    })
                    .map_err(internal)?;
                row.map(|(text, rev)| {
                    Ok(Stored {
                        doc: parse_doc(&text)?,
                        revision: u64::try_from(rev).unwrap_or_default(),
                    })
                })
                .transpose()
            })
            .await
    }

    async fn find(
        &self,
        collection: &CollectionSpec,
        query: &FindQuery<'_>,
    ) -> Result<Vec<Value>, StoreError> {
        let clause = query::translate(collection, query.filter)?;
        let engine_order = query::order_by(collection, query.sort)?;
        let (name, filter, sort) = (
            collection.name.clone(),
            query.filter.clone(),
            query.sort.clone(),
        );
        let (skip, limit) = (query.skip, query.limit);
        self.pool
            .with_conn(move |conn| {
                let table = ddl::quote_ident(&name);
                // Sort and pagination run in the engine (and its indexes) when the engine
                // alone answers the filter and can order by every sort key.
                if clause.exact
                    && let Some(order) = &engine_order
                {
                    return scan(conn, &table, &clause, &filter, order, Some((skip, limit)));
                }
                let mut docs = scan(conn, &table, &clause, &filter, "rowid", None)?;
                if !sort.keys.is_empty() {
                    docs.sort_by(|a, b| sort.compare(a, b));
                }
                let skip = usize::try_from(skip).unwrap_or(usize::MAX);
                let limit = usize::try_from(limit).unwrap_or(usize::MAX);
                Ok(docs.into_iter().skip(skip).take(limit).collect())
            })
            .await
    }

    async fn count(&self, collection: &CollectionSpec, filter: &Filter) -> Result<u64, StoreError> {
        let clause = query::translate(collection, filter)?;
        let (name, filter) = (collection.name.clone(), filter.clone());
        self.pool
            .with_conn(move |conn| {
                let table = ddl::quote_ident(&name);
                if clause.exact {
                    let sql = format!("SELECT count(*) FROM {table} WHERE {}", clause.clause);
                    let n: i64 = conn
                        .prepare_cached(&sql)
                        .and_then(|mut stmt| {
                            stmt.query_row(params_from_iter(clause.params.iter()), |r| r.get(0))
                        })
                        .map_err(internal)?;
                    return Ok(u64::try_from(n).unwrap_or_default());
                }
                Ok(scan(conn, &table, &clause, &filter, "rowid", None)?.len() as u64)
            })
            .await
    }

    async fn replace(
        &self,
        collection: &CollectionSpec,
        id: &str,
        revision: u64,
        doc: &Value,
    ) -> Result<WriteOutcome, StoreError> {
        let (name, id, text) = (collection.name.clone(), id.to_owned(), doc.to_string());
        let revision = i64::try_from(revision).unwrap_or(i64::MAX);
        self.pool
            .with_conn(move |conn| {
                let table = ddl::quote_ident(&name);
                let sql = format!(
                    "UPDATE {table} SET doc = jsonb(?1), rev = rev + 1 WHERE _id = ?2 AND rev = ?3"
                );
                let changed = conn
                    .prepare_cached(&sql)
                    .and_then(|mut stmt| stmt.execute(params![text, id, revision]))
                    .map_err(|e| write_error(&name, e))?;
                if changed == 1 {
                    return Ok(WriteOutcome::Written);
                }
                let exists: Option<i64> = conn
                    .query_row(
                        &format!("SELECT 1 FROM {table} WHERE _id = ?1"),
                        [&id],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(internal)?;
                Ok(if exists.is_some() {
                    WriteOutcome::Conflict
                } else {
                    WriteOutcome::NotFound
                })
            })
            .await
    }

    async fn delete(&self, collection: &CollectionSpec, id: &str) -> Result<bool, StoreError> {
        let (name, id) = (collection.name.clone(), id.to_owned());
        self.pool
            .with_conn(move |conn| {
                let sql = format!("DELETE FROM {} WHERE _id = ?1", ddl::quote_ident(&name));
                let deleted = conn
                    .prepare_cached(&sql)
                    .and_then(|mut stmt| stmt.execute([&id]))
                    .map_err(internal)?;
                Ok(deleted == 1)
            })
            .await
    }

    async fn expire(
        &self,
        collection: &CollectionSpec,
        path: &str,
        cutoff: &str,
    ) -> Result<u64, StoreError> {
        let value = format!(
            "jsonb_extract(doc, {})",
            ddl::json_path_literal(&collection.name, path)?
        );
        // The same expression as the TTL index, so the planner uses it; text only, since
        // dates are stored as ISO-8601 strings and anything else is not a date.
        let sql = format!(
            "DELETE FROM {} WHERE {value} < ?1 AND typeof({value}) = 'text'",
            ddl::quote_ident(&collection.name)
        );
        let cutoff = cutoff.to_owned();
        self.pool
            .with_conn(move |conn| {
                let deleted = conn.execute(&sql, [&cutoff]).map_err(internal)?;
                Ok(deleted as u64)
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

/// Creates the FTS table and its triggers; fills it when it is new.
fn ensure_text_index(
    conn: &mut Connection,
    collection: &str,
    text: &ddl::TextIndex,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    let exists: i64 = tx.query_row(
        "SELECT count(*) FROM sqlite_master WHERE name = ?1",
        [ddl::text_table(collection)],
        |r| r.get(0),
    )?;
    for statement in &text.create {
        tx.execute_batch(statement)?;
    }
    if exists == 0 {
        tx.execute_batch(&text.backfill)?;
    }
    tx.commit()
}
