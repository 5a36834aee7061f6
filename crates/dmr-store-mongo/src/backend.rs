//! The MongoDB backend: one `Client` (one pool) per process, a database per tenant on it,
//! and a control database holding tenants, schema versions and API keys.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dmr_store::{
    ApiKeyRecord, Backend, PoolStats, SchemaVersion, StoreError, TenantId, TenantRecord,
    TenantStore,
};
use futures_util::TryStreamExt;
use mongodb::bson::{DateTime, Document, doc};
use mongodb::options::{ClientOptions, Credential, IndexOptions};
use mongodb::{Client, Collection, Database, IndexModel};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::convert;
use crate::errors::{self, store_error};
use crate::monitor::ClientMonitor;
use crate::tenant_store::{ClientRef, MongoTenantStore};

const TENANTS: &str = "tenants";
const SCHEMA_VERSIONS: &str = "schema_versions";
const API_KEYS: &str = "api_keys";

/// How the process connects. The URI carries TLS, replica-set and every other driver
/// option; the other fields are the seed's variables and our defaults for what the URI
/// leaves unset.
#[derive(Debug, Clone)]
pub struct MongoConfig {
    pub uri: String,
    /// `MONGODB_POOL_SIZE`; a `maxPoolSize` in the URI wins.
    pub pool_size: u32,
    /// `MONGODB_USERNAME` / `MONGODB_PASSWORD`; override the URI's credentials.
    pub username: Option<String>,
    pub password: Option<String>,
    /// How long an operation waits for a usable server (server selection and connect),
    /// unless the URI sets `serverSelectionTimeoutMS` / `connectTimeoutMS`.
    pub timeout: Duration,
    /// The database of the control plane (tenants, schema versions, API keys).
    pub control_database: String,
}

impl MongoConfig {
    pub fn new(uri: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            pool_size: 10,
            username: None,
            password: None,
            timeout: Duration::from_secs(5),
            control_database: "dmr_control".to_owned(),
        }
    }
}

pub struct MongoBackend {
    client: Client,
    monitor: Arc<ClientMonitor>,
    control: Database,
    config: MongoConfig,
    control_indexes: OnceCell<()>,
    text_indexes: OnceCell<bool>,
}

/// Server monitoring while a server is down: checks every 2 s (the driver's default is
/// 10 s), so recovery is noticed quickly. Unless the URI says otherwise.
const HEARTBEAT: Duration = Duration::from_secs(2);

async fn client_options(
    config: &MongoConfig,
    uri: &str,
) -> Result<(ClientOptions, Arc<ClientMonitor>), StoreError> {
    let mut options = ClientOptions::parse(uri)
        .await
        .map_err(|e| StoreError::Definition {
            collection: String::new(),
            reason: format!("MongoDB connection string: {e}"),
        })?;
    options.app_name.get_or_insert_with(|| "dmr".to_owned());
    options.max_pool_size.get_or_insert(config.pool_size);
    options
        .server_selection_timeout
        .get_or_insert(config.timeout);
    options.connect_timeout.get_or_insert(config.timeout);
    options.heartbeat_freq.get_or_insert(HEARTBEAT);
    if let Some(username) = &config.username {
        let mut credential = options
            .credential
            .take()
            .unwrap_or_else(Credential::default);
        credential.username = Some(username.clone());
        if let Some(password) = &config.password {
            credential.password = Some(password.clone());
        }
        options.credential = Some(credential);
    }
    let monitor = ClientMonitor::attach(&mut options);
    Ok((options, monitor))
}

fn connect_error(e: mongodb::error::Error) -> StoreError {
    StoreError::Definition {
        collection: String::new(),
        reason: format!("MongoDB client: {e}"),
    }
}

impl MongoBackend {
    /// Builds the shared client. Does not wait for a server: the registry starts while
    /// MongoDB is down, reports it in health, and recovers by itself.
    pub async fn connect(config: MongoConfig) -> Result<Self, StoreError> {
        let (options, monitor) = client_options(&config, &config.uri).await?;
        let client = Client::with_options(options).map_err(connect_error)?;
        Ok(Self {
            control: client.database(&config.control_database),
            client,
            monitor,
            config,
            control_indexes: OnceCell::new(),
            text_indexes: OnceCell::new(),
        })
    }

    fn tenants(&self) -> Collection<Document> {
        self.control.collection(TENANTS)
    }

    fn api_keys(&self) -> Collection<Document> {
        self.control.collection(API_KEYS)
    }

    fn schema_versions_collection(&self) -> Collection<Document> {
        self.control.collection(SCHEMA_VERSIONS)
    }

    /// The highest version number recorded for `model`; 0 for none.
    async fn highest_version(&self, model: &str) -> Result<u32, StoreError> {
        let highest = self
            .schema_versions_collection()
            .find_one(doc! { "model": model, "version": { "$exists": true } })
            .sort(doc! { "version": -1 })
            .await
            .map_err(|e| store_error(&e, SCHEMA_VERSIONS))?;
        Ok(highest
            .and_then(|d| d.get("version").and_then(bson_u32))
            .unwrap_or(0))
    }

    /// Versions recorded before they were numbered: numbered per model in the order they
    /// were recorded, after any already numbered. Idempotent; run before the unique index
    /// on (model, version) is built.
    async fn number_schema_versions(&self) -> Result<(), StoreError> {
        let unnumbered: Vec<Document> = self
            .schema_versions_collection()
            .find(doc! { "version": { "$exists": false } })
            .sort(doc! { "recordedAt": 1, "_id": 1 })
            .await
            .map_err(|e| store_error(&e, SCHEMA_VERSIONS))?
            .try_collect()
            .await
            .map_err(|e| store_error(&e, SCHEMA_VERSIONS))?;
        for old in unnumbered {
            let (Some(id), Some(model)) = (old.get("_id").cloned(), old.get_str("model").ok())
            else {
                continue;
            };
            let next = self.highest_version(model).await? + 1;
            self.schema_versions_collection()
                .update_one(
                    doc! { "_id": id, "version": { "$exists": false } },
                    doc! { "$set": { "version": i64::from(next) } },
                )
                .await
                .map_err(|e| store_error(&e, SCHEMA_VERSIONS))?;
        }
        Ok(())
    }

    /// The control plane's own indexes, once per process (retried after a failure).
    async fn control_ready(&self) -> Result<(), StoreError> {
        self.monitor.fail_fast()?;
        self.control_indexes
            .get_or_try_init(|| async {
                let unique = IndexOptions::builder()
                    .name("hash_1".to_owned())
                    .unique(true)
                    .build();
                self.api_keys()
                    .create_indexes([
                        IndexModel::builder()
                            .keys(doc! { "hash": 1 })
                            .options(unique)
                            .build(),
                        IndexModel::builder()
                            .keys(doc! { "tenantId": 1, "keyId": 1 })
                            .build(),
                    ])
                    .await
                    .map_err(|e| store_error(&e, API_KEYS))?;
                self.number_schema_versions().await?;
                // One number per version of a model, whichever instance records it.
                let one_number = IndexOptions::builder()
                    .name("model_1_version_1".to_owned())
                    .unique(true)
                    .build();
                self.schema_versions_collection()
                    .create_index(
                        IndexModel::builder()
                            .keys(doc! { "model": 1, "version": 1 })
                            .options(one_number)
                            .build(),
                    )
                    .await
                    .map(drop)
                    .map_err(|e| store_error(&e, SCHEMA_VERSIONS))
            })
            .await
            .copied()
    }

    /// A tenant's own connection string, when an operator gave it one in its record.
    async fn dedicated_uri(&self, tenant: &TenantId) -> Result<Option<String>, StoreError> {
        let record = self
            .tenants()
            .find_one(doc! { "_id": tenant.as_str() })
            .projection(doc! { "mongodbUri": 1 })
            .await
            .map_err(|e| store_error(&e, TENANTS))?;
        Ok(record.and_then(|r| r.get_str("mongodbUri").ok().map(str::to_owned)))
    }

    /// Probes once whether the server builds text indexes (SecantusDB, used in tests,
    /// does not).
    async fn probe_text_indexes(&self) -> bool {
        let probe = self.control.collection::<Document>("_probe_text_index");
        let supported = probe
            .create_index(IndexModel::builder().keys(doc! { "t": "text" }).build())
            .await
            .is_ok();
        let _ = probe.drop().await;
        supported
    }
}

fn record(doc: &Document, created_now: bool) -> TenantRecord {
    let text = |key: &str| doc.get_str(key).unwrap_or_default().to_owned();
    TenantRecord {
        id: text("_id"),
        database_name: text("databaseName"),
        status: text("status"),
        created_at: doc
            .get_datetime("createdAt")
            .ok()
            .and_then(|at| convert::iso(*at))
            .unwrap_or_default(),
        created_now,
    }
}

fn key_record(doc: &Document) -> ApiKeyRecord {
    let text = |key: &str| doc.get_str(key).unwrap_or_default().to_owned();
    ApiKeyRecord {
        id: text("keyId"),
        tenant_id: text("tenantId"),
        hash: text("hash"),
        label: doc.get_str("label").ok().map(str::to_owned),
        created_at: text("createdAt"),
    }
}

#[async_trait]
impl Backend for MongoBackend {
    fn kind(&self) -> &'static str {
        "mongodb"
    }

    async fn provision_tenant(&self, tenant: &TenantId) -> Result<TenantRecord, StoreError> {
        self.monitor.fail_fast()?;
        let fail = |e: mongodb::error::Error| store_error(&e, TENANTS);
        let insert = doc! { "$setOnInsert": {
            "databaseName": tenant.database_name(),
            "status": "active",
            "createdAt": DateTime::now(),
        }};
        let created_now = match self
            .tenants()
            .update_one(doc! { "_id": tenant.as_str() }, insert)
            .upsert(true)
            .await
        {
            Ok(result) => result.upserted_id.is_some(),
            // Two first uses at once: the other upsert won.
            Err(e) if errors::code(&e) == Some(errors::DUPLICATE_KEY) => false,
            Err(e) => return Err(fail(e)),
        };
        let doc = self
            .tenants()
            .find_one(doc! { "_id": tenant.as_str() })
            .await
            .map_err(fail)?
            .ok_or_else(|| StoreError::Internal(format!("tenant {tenant} vanished")))?;
        Ok(record(&doc, created_now))
    }

    async fn open_tenant(&self, tenant: &TenantId) -> Result<Arc<dyn TenantStore>, StoreError> {
        self.monitor.fail_fast()?;
        let store = match self.dedicated_uri(tenant).await? {
            None => MongoTenantStore::new(
                self.client.database(&tenant.database_name()),
                ClientRef::Shared,
                Arc::clone(&self.monitor),
            ),
            Some(uri) => {
                let (options, monitor) = client_options(&self.config, &uri).await?;
                let client = Client::with_options(options).map_err(connect_error)?;
                tracing::info!(tenant = %tenant, "tenant uses its dedicated MongoDB deployment");
                MongoTenantStore::new(
                    client.database(&tenant.database_name()),
                    ClientRef::Dedicated(client),
                    monitor,
                )
            }
        };
        Ok(Arc::new(store))
    }

    async fn record_schema_version(
        &self,
        model: &str,
        fingerprint: &str,
        definition: &Value,
    ) -> Result<bool, StoreError> {
        self.control_ready().await?;
        let id = format!("{model}:{fingerprint}");
        // The next number is the highest plus one; a recorder on another instance that
        // took it first makes the insert a duplicate of (model, version), and this one
        // tries the number after.
        for _ in 0..16 {
            if self
                .schema_versions_collection()
                .find_one(doc! { "_id": &id })
                .await
                .map_err(|e| store_error(&e, SCHEMA_VERSIONS))?
                .is_some()
            {
                return Ok(false);
            }
            let next = self.highest_version(model).await? + 1;
            let version = doc! {
                "_id": &id,
                "model": model,
                "fingerprint": fingerprint,
                "version": i64::from(next),
                // As text: model files hold `$`-prefixed and dotted keys (`$generate`,
                // `price.amount`), which field names handle badly on older servers.
                "definition": definition.to_string(),
                "recordedAt": DateTime::now(),
            };
            match self.schema_versions_collection().insert_one(version).await {
                Ok(_) => return Ok(true),
                Err(e) if errors::code(&e) == Some(errors::DUPLICATE_KEY) => continue,
                Err(e) => return Err(store_error(&e, SCHEMA_VERSIONS)),
            }
        }
        Err(StoreError::Internal(format!(
            "could not number a new version of {model}: 16 concurrent recorders took every number tried"
        )))
    }

    async fn schema_versions(&self, model: &str) -> Result<Vec<SchemaVersion>, StoreError> {
        self.control_ready().await?;
        let docs: Vec<Document> = self
            .schema_versions_collection()
            .find(doc! { "model": model })
            .sort(doc! { "version": 1 })
            .await
            .map_err(|e| store_error(&e, SCHEMA_VERSIONS))?
            .try_collect()
            .await
            .map_err(|e| store_error(&e, SCHEMA_VERSIONS))?;
        docs.iter().map(schema_version).collect()
    }

    async fn schema_models(&self) -> Result<Vec<String>, StoreError> {
        self.control_ready().await?;
        let mut names: Vec<String> = self
            .schema_versions_collection()
            .distinct("model", doc! {})
            .await
            .map_err(|e| store_error(&e, SCHEMA_VERSIONS))?
            .into_iter()
            .filter_map(|name| name.as_str().map(str::to_owned))
            .collect();
        names.sort();
        Ok(names)
    }

    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        self.control_ready().await?;
        // Key ids are unique per tenant, not across tenants.
        let mut doc = doc! {
            "_id": format!("{}:{}", key.tenant_id, key.id),
            "keyId": key.id.as_str(),
            "tenantId": key.tenant_id.as_str(),
            "hash": key.hash.as_str(),
            "createdAt": key.created_at.as_str(),
        };
        if let Some(label) = &key.label {
            doc.insert("label", label.as_str());
        }
        self.api_keys()
            .insert_one(doc)
            .await
            .map(drop)
            .map_err(|e| store_error(&e, API_KEYS))
    }

    async fn find_api_key(&self, hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.control_ready().await?;
        let found = self
            .api_keys()
            .find_one(doc! { "hash": hash })
            .await
            .map_err(|e| store_error(&e, API_KEYS))?;
        Ok(found.as_ref().map(key_record))
    }

    async fn list_api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.control_ready().await?;
        let fail = |e: mongodb::error::Error| store_error(&e, API_KEYS);
        let docs: Vec<Document> = self
            .api_keys()
            .find(doc! { "tenantId": tenant.as_str() })
            .sort(doc! { "createdAt": 1, "keyId": 1 })
            .await
            .map_err(fail)?
            .try_collect()
            .await
            .map_err(fail)?;
        Ok(docs.iter().map(key_record).collect())
    }

    async fn delete_api_key(&self, tenant: &TenantId, id: &str) -> Result<bool, StoreError> {
        self.control_ready().await?;
        self.api_keys()
            .delete_one(doc! { "keyId": id, "tenantId": tenant.as_str() })
            .await
            .map(|r| r.deleted_count == 1)
            .map_err(|e| store_error(&e, API_KEYS))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.monitor.fail_fast()?;
        let admin = self.client.database("admin");
        let ping = admin.run_command(doc! { "ping": 1 });
        match tokio::time::timeout(self.config.timeout, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(store_error(&e, "admin")),
            Err(_) => Err(StoreError::Unavailable(format!(
                "MongoDB did not answer a ping within {} ms",
                self.config.timeout.as_millis()
            ))),
        }
    }

    async fn supports_text_indexes(&self) -> bool {
        *self
            .text_indexes
            .get_or_init(|| self.probe_text_indexes())
            .await
    }

    fn pool_stats(&self) -> Option<PoolStats> {
        Some(self.monitor.pool_stats())
    }

    async fn close(&self) {
        self.client.clone().shutdown().immediate(true).await;
    }
}

fn bson_u32(value: &mongodb::bson::Bson) -> Option<u32> {
    match value {
        mongodb::bson::Bson::Int32(n) => u32::try_from(*n).ok(),
        mongodb::bson::Bson::Int64(n) => u32::try_from(*n).ok(),
        mongodb::bson::Bson::Double(n) if n.fract() == 0.0 && *n >= 0.0 => Some(*n as u32),
        _ => None,
    }
}

/// A recorded version as the store trait returns it.
fn schema_version(doc: &Document) -> Result<SchemaVersion, StoreError> {
    let corrupt = |what: &str| {
        StoreError::Internal(format!(
            "schema version {:?} in the control database: {what}",
            doc.get("_id")
        ))
    };
    let text = |field: &str| {
        doc.get_str(field)
            .map(str::to_owned)
            .map_err(|_| corrupt(&format!("no {field}")))
    };
    Ok(SchemaVersion {
        model: text("model")?,
        version: doc
            .get("version")
            .and_then(bson_u32)
            .ok_or_else(|| corrupt("no version number"))?,
        fingerprint: text("fingerprint")?,
        definition: serde_json::from_str(&text("definition")?)
            .map_err(|e| corrupt(&format!("definition is not JSON: {e}")))?,
        accepted_at: doc
            .get_datetime("recordedAt")
            .map(|at| dmr_model::date::format_iso(at.timestamp_millis()))
            .map_err(|_| corrupt("no recordedAt"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn settings_fill_what_the_uri_leaves_unset_and_credentials_override() {
        let mut config =
            MongoConfig::new("mongodb://uri-user:uri-pass@db.example:27017/?authSource=admin");
        config.pool_size = 25;
        config.username = Some("env-user".into());
        config.password = Some("env-pass".into());
        let (options, _) = client_options(&config, &config.uri).await.unwrap();
        assert_eq!(options.max_pool_size, Some(25));
        assert_eq!(options.server_selection_timeout, Some(config.timeout));
        let credential = options.credential.unwrap();
        assert_eq!(credential.username.as_deref(), Some("env-user"));
        assert_eq!(credential.password.as_deref(), Some("env-pass"));
        assert_eq!(
            credential.source.as_deref(),
            Some("admin"),
            "the URI's other options stay"
        );

        let explicit =
            MongoConfig::new("mongodb://db.example/?maxPoolSize=3&serverSelectionTimeoutMS=250");
        let (options, _) = client_options(&explicit, &explicit.uri).await.unwrap();
        assert_eq!(options.max_pool_size, Some(3), "the URI wins");
        assert_eq!(
            options.server_selection_timeout,
            Some(Duration::from_millis(250))
        );
    }

    #[tokio::test]
    async fn a_malformed_uri_is_a_definition_error_without_the_password() {
        let config = MongoConfig::new("mongodb://u:hunter2@db.example/?maxPoolSize=many");
        let Err(StoreError::Definition { reason, .. }) = client_options(&config, &config.uri).await
        else {
            panic!("accepted a malformed URI");
        };
        assert!(!reason.contains("hunter2"), "{reason}");
    }
}
