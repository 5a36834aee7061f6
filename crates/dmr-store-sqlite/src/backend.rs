use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dmr_store::{
    ApiKeyRecord, Backend, SchemaVersion, StoreError, TenantId, TenantRecord, TenantStore,
};
use rusqlite::params;
use serde_json::Value;

use crate::api_keys;
use crate::pool::{Pool, internal, run_blocking};
use crate::tenant_store::SqliteTenantStore;

const CONTROL_FILE: &str = "_control.sqlite3";
const TENANTS_DIR: &str = "tenants";

const CONTROL_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY NOT NULL,
    database_name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS schema_versions (
    model TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    definition TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    version INTEGER,
    PRIMARY KEY (model, fingerprint)
);";

/// Control files written before versions were numbered: the column added, and the rows
/// numbered in the order they were recorded. Idempotent.
fn number_schema_versions(conn: &rusqlite::Connection) -> Result<(), StoreError> {
    let has_version: bool = conn
        .prepare("SELECT 1 FROM pragma_table_info('schema_versions') WHERE name = 'version'")
        .and_then(|mut s| s.exists([]))
        .map_err(internal)?;
    if !has_version {
        conn.execute_batch("ALTER TABLE schema_versions ADD COLUMN version INTEGER")
            .map_err(internal)?;
    }
    conn.execute_batch(
        "UPDATE schema_versions SET version = (
             SELECT COUNT(*) FROM schema_versions AS earlier
             WHERE earlier.model = schema_versions.model
               AND (earlier.registered_at, earlier.rowid)
                   <= (schema_versions.registered_at, schema_versions.rowid))
         WHERE version IS NULL;
         CREATE UNIQUE INDEX IF NOT EXISTS schema_versions_by_number
             ON schema_versions (model, version);",
    )
    .map_err(internal)
}

#[derive(Debug, Clone)]
pub struct SqliteConfig {
    pub data_dir: PathBuf,
    /// Connections per tenant file (opened lazily, up to this many).
    pub pool_size: usize,
    pub busy_timeout: Duration,
}

/// The embedded backend: a control database plus one file per tenant.
pub struct SqliteBackend {
    config: SqliteConfig,
    control: Arc<Pool>,
}

impl SqliteBackend {
    /// Creates the data directory and the control database if missing.
    pub async fn open(config: SqliteConfig) -> Result<Self, StoreError> {
        let dir = config.data_dir.clone();
        run_blocking(move || std::fs::create_dir_all(&dir))
            .await?
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot create data directory {}: {e}",
                    config.data_dir.display()
                ))
            })?;
        let control =
            Pool::open(config.data_dir.join(CONTROL_FILE), 2, config.busy_timeout).await?;
        control
            .with_conn(|conn| {
                conn.execute_batch(CONTROL_SCHEMA).map_err(internal)?;
                number_schema_versions(conn)?;
                conn.execute_batch(api_keys::SCHEMA).map_err(internal)
            })
            .await?;
        Ok(Self { config, control })
    }

    /// The tenant's file, its bucket directory created: the flat file of a tenant created
    /// before buckets where one exists, else the bucketed one.
    async fn tenant_file(&self, tenant: &TenantId) -> Result<PathBuf, StoreError> {
        let flat = flat_tenant_file(&self.config.data_dir, tenant);
        let bucketed = tenant_file(&self.config.data_dir, tenant);
        run_blocking(move || {
            if flat.exists() {
                return Ok(flat);
            }
            let bucket = bucketed.parent().expect("a bucketed file has a directory");
            std::fs::create_dir_all(bucket).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", bucket.display()))
            })?;
            Ok(bucketed)
        })
        .await?
    }
}

/// Where a tenant's file is: `tenants/<b>/tenant_<id>.sqlite3` under the data directory,
/// `<b>` the first byte of the SHA-256 of the tenant id in hex (`printf %s <id> |
/// sha256sum | cut -c1-2`). 256 directories keep each one small (100,000 tenants are ~390
/// files each) where one flat directory is slow to list and to back up.
pub fn tenant_file(data_dir: &Path, tenant: &TenantId) -> PathBuf {
    use sha2::Digest;
    let first = sha2::Sha256::digest(tenant.as_str().as_bytes())[0];
    data_dir
        .join(TENANTS_DIR)
        .join(format!("{first:02x}"))
        .join(format!("{}.sqlite3", tenant.database_name()))
}

/// The layout before buckets: every tenant file at the top of the data directory. Still
/// read where such a file exists; new tenants never get one.
fn flat_tenant_file(data_dir: &Path, tenant: &TenantId) -> PathBuf {
    data_dir.join(format!("{}.sqlite3", tenant.database_name()))
}

#[async_trait]
impl Backend for SqliteBackend {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn provision_tenant(&self, tenant: &TenantId) -> Result<TenantRecord, StoreError> {
        let id = tenant.as_str().to_owned();
        let database_name = tenant.database_name();
        self.control
            .with_conn(move |conn| {
                let tx = conn.transaction().map_err(internal)?;
                let created = tx
                    .execute(
                        "INSERT INTO tenants (id, database_name, created_at) VALUES (?1, ?2, ?3)
                         ON CONFLICT (id) DO NOTHING",
                        params![id, database_name, now_iso()],
                    )
                    .map_err(internal)?;
                let record = tx
                    .query_row(
                        "SELECT id, database_name, status, created_at FROM tenants WHERE id = ?1",
                        [&id],
                        |row| {
                            Ok(TenantRecord {
                                id: row.get(0)?,
                                database_name: row.get(1)?,
                                status: row.get(2)?,
                                created_at: row.get(3)?,
                                created_now: created == 1,
                            })
                        },
                    )
                    .map_err(internal)?;
                tx.commit().map_err(internal)?;
                Ok(record)
            })
            .await
    }

    async fn open_tenant(&self, tenant: &TenantId) -> Result<Arc<dyn TenantStore>, StoreError> {
        let pool = Pool::open(
            self.tenant_file(tenant).await?,
            self.config.pool_size,
            self.config.busy_timeout,
        )
        .await?;
        Ok(Arc::new(SqliteTenantStore {
            database_name: tenant.database_name(),
            pool,
        }))
    }

    async fn record_schema_version(
        &self,
        model: &str,
        fingerprint: &str,
        definition: &Value,
    ) -> Result<bool, StoreError> {
        let (model, fingerprint, definition) = (
            model.to_owned(),
            fingerprint.to_owned(),
            definition.to_string(),
        );
        self.control
            .with_conn(move |conn| {
                // IMMEDIATE: the write lock before reading the highest number, so that
                // two processes on one file cannot both take it.
                let tx = conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(internal)?;
                let inserted = tx
                    .execute(
                        "INSERT INTO schema_versions
                             (model, fingerprint, definition, registered_at, version)
                         SELECT ?1, ?2, ?3, ?4, COALESCE(MAX(version), 0) + 1
                         FROM schema_versions WHERE model = ?1
                         ON CONFLICT DO NOTHING",
                        params![model, fingerprint, definition, now_iso()],
                    )
                    .map_err(internal)?;
                tx.commit().map_err(internal)?;
                Ok(inserted == 1)
            })
            .await
    }

    async fn schema_versions(&self, model: &str) -> Result<Vec<SchemaVersion>, StoreError> {
        let model = model.to_owned();
        self.control
            .with_conn(move |conn| {
                let mut statement = conn
                    .prepare_cached(
                        "SELECT version, fingerprint, definition, registered_at
                         FROM schema_versions WHERE model = ?1 ORDER BY version",
                    )
                    .map_err(internal)?;
                let rows = statement
                    .query_map([&model], |row| {
                        Ok((
                            row.get::<_, u32>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, String>(3)?,
                        ))
                    })
                    .map_err(internal)?;
                rows.map(|row| {
                    let (version, fingerprint, definition, accepted_at) = row.map_err(internal)?;
                    Ok(SchemaVersion {
                        model: model.clone(),
                        version,
                        fingerprint,
                        definition: serde_json::from_str(&definition).map_err(|e| {
                            StoreError::Internal(format!(
                                "schema version {version} of {model}: stored definition is not JSON: {e}"
                            ))
                        })?,
                        accepted_at,
                    })
                })
                .collect()
            })
            .await
    }

    async fn schema_models(&self) -> Result<Vec<String>, StoreError> {
        self.control
            .with_conn(|conn| {
                let mut statement = conn
                    .prepare_cached("SELECT DISTINCT model FROM schema_versions ORDER BY model")
                    .map_err(internal)?;
                let rows = statement
                    .query_map([], |row| row.get(0))
                    .map_err(internal)?;
                rows.collect::<Result<Vec<String>, _>>().map_err(internal)
            })
            .await
    }

    async fn insert_api_key(&self, record: &ApiKeyRecord) -> Result<(), StoreError> {
        let record = record.clone();
        self.control
            .with_conn(move |conn| api_keys::insert(conn, &record))
            .await
    }

    async fn find_api_key(&self, hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let hash = hash.to_owned();
        self.control
            .with_conn(move |conn| api_keys::find(conn, &hash))
            .await
    }

    async fn list_api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let tenant = tenant.clone();
        self.control
            .with_conn(move |conn| api_keys::list(conn, tenant.as_str()))
            .await
    }

    async fn delete_api_key(&self, tenant: &TenantId, id: &str) -> Result<bool, StoreError> {
        let (tenant, id) = (tenant.clone(), id.to_owned());
        self.control
            .with_conn(move |conn| api_keys::delete(conn, tenant.as_str(), &id))
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.control
            .with_conn(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(internal))
            .await
    }

    async fn close(&self) {
        self.control.close();
    }
}

fn now_iso() -> String {
    dmr_model::date::format_system_time(std::time::SystemTime::now())
}
