//! Tenant API key records in `_control.sqlite3`: hashes only, never a key.

use dmr_store::{ApiKeyRecord, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::pool::internal;

/// Part of the control schema, run at every open (idempotent), so data directories made
/// before keys existed gain the table. The hash is the primary key (every request looks
/// a key up by it); ids are unique per tenant (revocation names tenant and id).
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS api_keys (
    hash TEXT PRIMARY KEY NOT NULL,
    id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    label TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (tenant_id, id)
);";

const COLUMNS: &str = "hash, id, tenant_id, label, created_at";

fn record(row: &Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        hash: row.get(0)?,
        id: row.get(1)?,
        tenant_id: row.get(2)?,
        label: row.get(3)?,
        created_at: row.get(4)?,
    })
}

pub(crate) fn insert(conn: &Connection, key: &ApiKeyRecord) -> Result<(), StoreError> {
    conn.execute(
        &format!("INSERT INTO api_keys ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"),
        params![key.hash, key.id, key.tenant_id, key.label, key.created_at],
    )
    .map_err(|e| {
        if e.to_string().starts_with("UNIQUE constraint failed") {
            StoreError::Duplicate {
                collection: "api_keys".to_owned(),
                index: "_id_".to_owned(),
            }
        } else {
            internal(e)
        }
    })?;
    Ok(())
}

pub(crate) fn find(conn: &Connection, hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM api_keys WHERE hash = ?1"))
        .and_then(|mut stmt| stmt.query_row([hash], record).optional())
        .map_err(internal)
}

pub(crate) fn list(conn: &Connection, tenant: &str) -> Result<Vec<ApiKeyRecord>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM api_keys WHERE tenant_id = ?1 ORDER BY created_at, id"
        ))
        .map_err(internal)?;
    let rows = stmt.query_map([tenant], record).map_err(internal)?;
    rows.collect::<Result<_, _>>().map_err(internal)
}

pub(crate) fn delete(conn: &Connection, tenant: &str, id: &str) -> Result<bool, StoreError> {
    conn.execute(
        "DELETE FROM api_keys WHERE tenant_id = ?1 AND id = ?2",
        params![tenant, id],
    )
    .map(|deleted| deleted == 1)
    .map_err(internal)
}
