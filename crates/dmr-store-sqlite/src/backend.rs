use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dmr_store::{ApiKeyRecord, Backend, StoreError, TenantId, TenantRecord, TenantStore};
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
    PRIMARY KEY (model, fingerprint)
);";

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
                conn.execute(
                    "INSERT INTO schema_versions (model, fingerprint, definition, registered_at)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                    params![model, fingerprint, definition, now_iso()],
                )
                .map_err(internal)
                .map(|inserted| inserted == 1)
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
