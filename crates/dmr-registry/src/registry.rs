use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use dmr_cache::L1Cache;
use dmr_model::{ModelDef, ModelSet};
use dmr_store::{Backend, CollectionSpec, StoreError, TenantId};
use serde_json::Value;

use crate::compiled::{CompiledModel, ModelKey};
use crate::connections::ConnectionManager;
use crate::error::RegistryError;
use crate::health::{
    CacheChecks, CheckStatus, Checks, ConnectionsCheck, HealthReport, HealthStatus, L1Check,
    L2Check, StoreCheck,
};
use crate::operation::TestOperation;
use crate::stats::{
    ActiveLock, CacheHits, CacheSection, ConnectionsSection, Counters, L2Section, RegistrySection,
    StatsReport,
};
use crate::versions::ModelSource;

/// How the shared L2 tier stands in this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L2Mode {
    /// Not configured: L1 and the store only, by choice.
    Disabled,
    /// Configured but not usable, with the reason; health reports `degraded`.
    Unavailable(String),
}

#[derive(Clone)]
pub struct RegistryConfig {
    pub l1_max_size: u64,
    pub l1_ttl: Duration,
    pub max_open_tenants: usize,
    pub l2: L2Mode,
    /// Where `reload` reads model files from; `None` for a fixed set.
    pub model_source: Option<Arc<dyn ModelSource>>,
}

/// `GET /api/models/:tenantId`: every model that compiled, and every one that did not with
/// its reason; one failing model never fails the others.
#[derive(Debug)]
pub struct TenantModels {
    pub compiled: Vec<Arc<CompiledModel>>,
    pub failed: Vec<(String, RegistryError)>,
}

/// The registry: cheap to clone, shared by every request handler.
#[derive(Clone)]
pub struct Registry {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) backend: Arc<dyn Backend>,
    /// The current model set; swapped whole by a reload, read lock-free by requests.
    pub(crate) models: ArcSwap<ModelSet>,
    pub(crate) model_source: Option<Arc<dyn ModelSource>>,
    /// Serialises reloads.
    pub(crate) reloading: tokio::sync::Mutex<()>,
    pub(crate) l1: L1Cache<ModelKey, Arc<CompiledModel>>,
    connections: ConnectionManager,
    counters: Counters,
    l2: L2Mode,
    max_open_tenants: usize,
}

impl Registry {
    pub fn new(backend: Arc<dyn Backend>, models: ModelSet, config: RegistryConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                connections: ConnectionManager::new(Arc::clone(&backend), config.max_open_tenants),
                backend,
                models: ArcSwap::from_pointee(models),
                model_source: config.model_source,
                reloading: tokio::sync::Mutex::new(()),
                l1: L1Cache::new(config.l1_max_size, config.l1_ttl),
                counters: Counters::default(),
                l2: config.l2,
                max_open_tenants: config.max_open_tenants,
            }),
        }
    }

    /// The current model set (a snapshot: a reload does not change it under the caller).
    pub fn models(&self) -> Arc<ModelSet> {
        self.inner.models.load_full()
    }

    pub fn backend_kind(&self) -> &'static str {
        self.inner.backend.kind()
    }

    /// Records every loaded model's schema version in the control plane; returns how many
    /// were new.
    pub async fn record_schema_versions(&self) -> Result<usize, RegistryError> {
        let mut new = 0;
        for def in self.models().iter() {
            let added = self
                .inner
                .backend
                .record_schema_version(&def.name, &def.fingerprint, &def.source_json())
                .await?;
            if added {
                tracing::info!(model = %def.name, fingerprint = %def.fingerprint, "new schema version registered");
                new += 1;
            }
        }
        Ok(new)
    }

    fn definition(&self, name: &str) -> Result<Arc<ModelDef>, RegistryError> {
        self.inner
            .models
            .load()
            .get(name)
            .cloned()
            .ok_or_else(|| RegistryError::ModelNotFound(name.to_owned()))
    }

    /// The compiled model for (tenant, model): from L1, or compiled once however many
    /// requests miss at the same time.
    pub async fn model(
        &self,
        tenant: &TenantId,
        name: &str,
    ) -> Result<Arc<CompiledModel>, RegistryError> {
        let def = self.definition(name)?;
        let key = ModelKey::new(tenant.clone(), Arc::clone(&def));
        if let Some(compiled) = self.inner.l1.get(&key).await {
            compiled.open.touch();
            return Ok(compiled);
        }
        let result = self
            .inner
            .l1
            .get_or_load(key, self.compile(tenant, &def))
            .await
            .map_err(|e| (*e).clone());
        if result.is_err() {
            Counters::bump(&self.inner.counters.errors);
        }
        result
    }

    /// Opens the tenant's store (provisioning the tenant on first use), ensures the
    /// collection and its indexes, and builds the handle.
    async fn compile(
        &self,
        tenant: &TenantId,
        def: &Arc<ModelDef>,
    ) -> Result<Arc<CompiledModel>, RegistryError> {
        let _lock = ActiveLock::hold(&self.inner.counters.active_locks);
        let started = Instant::now();
        let opened = self.inner.connections.get_or_open(tenant).await?;
        for evicted in &opened.evicted {
            self.invalidate_tenant(evicted);
        }
        let spec = CollectionSpec {
            name: def.collection.clone(),
            indexes: def.indexes.clone(),
        };
        let ensured = opened.tenant.store.ensure_collection(&spec).await.inspect_err(|e| {
            tracing::error!(tenant = %tenant, model = %def.name, error = %e, "model compile failed");
        })?;
        for failure in &ensured.failed {
            tracing::warn!(
                tenant = %tenant, model = %def.name, index = %failure.index, reason = %failure.reason,
                "index could not be ensured; the model is served without it"
            );
        }
        Counters::bump(&self.inner.counters.model_creations);
        tracing::info!(
            tenant = %tenant, model = %def.name, collection = %def.collection,
            fingerprint = %def.fingerprint, indexes = ensured.indexes.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "model compiled"
        );
        Ok(Arc::new(CompiledModel {
            tenant: tenant.clone(),
            def: Arc::clone(def),
            database_name: opened.tenant.store.database_name().to_owned(),
            collection: def.collection.clone(),
            ensured,
            compiled_at: SystemTime::now(),
            open: opened.tenant,
        }))
    }

    /// Compiles every model for the tenant, concurrently.
    pub async fn tenant_models(&self, tenant: &TenantId) -> TenantModels {
        let models = self.models();
        let names: Vec<&str> = models.names().collect();
        let results =
            futures_util::future::join_all(names.iter().map(|name| self.model(tenant, name))).await;
        let mut out = TenantModels {
            compiled: Vec::new(),
            failed: Vec::new(),
        };
        for (name, result) in names.into_iter().zip(results) {
            match result {
                Ok(compiled) => out.compiled.push(compiled),
                Err(e) => out.failed.push((name.to_owned(), e)),
            }
        }
        out
    }

    /// The seed's test operations. A store closed under the request (idle sweep, LRU bound,
    /// a close on demand) is reopened once.
    pub async fn run_test(
        &self,
        tenant: &TenantId,
        model: &str,
        operation: TestOperation,
    ) -> Result<Value, RegistryError> {
        let compiled = self.model(tenant, model).await?;
        let result = match Self::run_on(&compiled, operation).await {
            Err(StoreError::Closed) => {
                let key = ModelKey::new(tenant.clone(), Arc::clone(&compiled.def));
                self.inner.l1.invalidate_if(move |k, _| k == &key);
                let fresh = self.model(tenant, model).await?;
                Self::run_on(&fresh, operation).await
            }
            other => other,
        };
        result.map_err(|e| {
            Counters::bump(&self.inner.counters.errors);
            tracing::error!(tenant = %tenant, model, operation = operation.as_str(), error = %e, "test operation failed");
            e.into()
        })
    }

    async fn run_on(
        compiled: &CompiledModel,
        operation: TestOperation,
    ) -> Result<Value, StoreError> {
        let store = &compiled.open.store;
        let collection = &compiled.collection;
        Ok(match operation {
            TestOperation::Count => Value::from(store.count(collection).await?),
            TestOperation::FindOne => store
                .find(collection, 1)
                .await?
                .into_iter()
                .next()
                .unwrap_or(Value::Null),
            TestOperation::Find => Value::Array(store.find(collection, 10).await?),
        })
    }

    pub fn invalidate_tenant(&self, tenant: &TenantId) {
        let tenant = tenant.clone();
        self.inner.l1.invalidate_if(move |k, _| k.tenant == tenant);
    }

    pub fn invalidate_all(&self) {
        self.inner.l1.invalidate_all();
    }

    /// Closes the tenant's store and drops its cached models; false when it was not open.
    pub async fn close_tenant(&self, tenant: &TenantId) -> bool {
        self.invalidate_tenant(tenant);
        self.inner.connections.close(tenant).await
    }

    /// Closes tenants unused for longer than `idle_timeout`; returns them.
    pub async fn close_idle(&self, idle_timeout: Duration) -> Vec<TenantId> {
        let closed = self
            .inner
            .connections
            .close_idle(idle_timeout, Instant::now())
            .await;
        for tenant in &closed {
            self.invalidate_tenant(tenant);
            tracing::info!(tenant = %tenant, idle_timeout_ms = idle_timeout.as_millis() as u64, "closed idle tenant store");
        }
        closed
    }

    /// Closes every tenant store and the control plane.
    pub async fn shutdown(&self) {
        self.invalidate_all();
        let closed = self.inner.connections.close_all().await;
        self.inner.backend.close().await;
        tracing::info!(tenant_stores = closed, "registry closed");
    }

    pub async fn stats(&self) -> StatsReport {
        self.inner.l1.sync().await;
        let l1 = self.inner.l1.stats();
        let counters = &self.inner.counters;
        let connections = self.inner.connections.list();
        let l2 = self.l2_check();
        let models = self.models();
        StatsReport {
            registry: RegistrySection {
                registered_schemas: models.len(),
                schemas: models.names().map(str::to_owned).collect(),
                active_locks: Counters::read(&counters.active_locks),
                cache_hits: CacheHits { l1: l1.hits, l2: 0 },
                cache_misses: l1.misses,
                model_creations: Counters::read(&counters.model_creations),
                errors: Counters::read(&counters.errors),
                backend: self.inner.backend.kind(),
            },
            cache: CacheSection {
                l1,
                l2: L2Section {
                    enabled: false,
                    connected: false,
                    key_count: 0,
                    status: l2.status,
                    message: l2.message,
                },
            },
            connections: ConnectionsSection {
                total_connections: connections.len(),
                max_open: self.inner.max_open_tenants,
                connections,
            },
        }
    }

    fn l2_check(&self) -> L2Check {
        match &self.inner.l2 {
            L2Mode::Disabled => L2Check {
                status: CheckStatus::Disabled,
                message: None,
            },
            L2Mode::Unavailable(reason) => L2Check {
                status: CheckStatus::Unavailable,
                message: Some(reason.clone()),
            },
        }
    }

    pub async fn health(&self) -> HealthReport {
        let ping = self.inner.backend.ping().await;
        let l2 = self.l2_check();
        let status = match (&ping, l2.status) {
            (Err(_), _) => HealthStatus::Unhealthy,
            (Ok(()), CheckStatus::Unavailable) => HealthStatus::Degraded,
            (Ok(()), _) => HealthStatus::Healthy,
        };
        HealthReport {
            status,
            checks: Checks {
                store: StoreCheck {
                    status: if ping.is_ok() {
                        CheckStatus::Healthy
                    } else {
                        CheckStatus::Unhealthy
                    },
                    backend: self.inner.backend.kind(),
                    error: ping.err().map(|e| e.to_string()),
                },
                cache: CacheChecks {
                    l1: L1Check {
                        status: CheckStatus::Healthy,
                        size: self.inner.l1.stats().size,
                    },
                    l2,
                },
                connections: ConnectionsCheck {
                    status: CheckStatus::Healthy,
                    total_connections: self.inner.connections.open_count(),
                },
            },
        }
    }
}
