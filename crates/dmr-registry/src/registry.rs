use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use dmr_cache::{L1Cache, SharedTier};
use dmr_model::{ModelDef, ModelSet};
use dmr_query::{Filter, Sort};
use dmr_store::FindQuery;
use dmr_store::{Backend, StoreError, TenantId};
use serde_json::Value;
use tracing::Instrument;

static NO_SORT: Sort = Sort { keys: Vec::new() };

use crate::compiled::{CompiledModel, ModelKey, ModelKeyRef, SpecCache};
use crate::connections::ConnectionManager;
use crate::documents::QueryLimits;
use crate::error::RegistryError;
use crate::invalidation::{Generations, Stamp};
use crate::operation::TestOperation;
use crate::stats::{ActiveLock, Counters, L1_SAMPLE};
use crate::versions::ModelSource;

#[derive(Clone)]
pub struct RegistryConfig {
    pub l1_max_size: u64,
    pub l1_ttl: Duration,
    pub max_open_tenants: usize,
    /// Where `reload` reads model files from; `None` for a fixed set.
    pub model_source: Option<Arc<dyn ModelSource>>,
    /// The tier shared by the fleet (L2, fleet lock, backplane); `None` for one instance.
    pub shared: Option<Arc<dyn SharedTier>>,
    /// How long a request waits for another instance's compile before compiling itself.
    pub fleet_wait: Duration,
    /// How long past its L1 lifetime the last good compiled model may still be served
    /// when a refresh fails because the store is unreachable.
    pub fail_safe_grace: Duration,
    pub query_limits: QueryLimits,
}

impl Default for RegistryConfig {
    /// The seed's defaults, one instance, no reload source.
    fn default() -> Self {
        Self {
            l1_max_size: 500,
            l1_ttl: Duration::from_secs(300),
            max_open_tenants: 1000,
            model_source: None,
            shared: None,
            fleet_wait: Duration::from_secs(10),
            fail_safe_grace: Duration::from_secs(300),
            query_limits: QueryLimits::default(),
        }
    }
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
    /// The last good compile of each key, kept `fail_safe_grace` longer than L1 keeps it.
    pub(crate) last_good: L1Cache<ModelKey, Arc<CompiledModel>>,
    pub(crate) connections: ConnectionManager,
    pub(crate) counters: Counters,
    pub(crate) shared: Option<Arc<dyn SharedTier>>,
    pub(crate) generations: Generations,
    pub(crate) fleet_wait: Duration,
    pub(crate) max_open_tenants: usize,
    pub(crate) query_limits: QueryLimits,
    pub(crate) specs: SpecCache,
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
                last_good: L1Cache::new(config.l1_max_size, config.l1_ttl + config.fail_safe_grace),
                counters: Counters::default(),
                shared: config.shared,
                generations: Generations::default(),
                fleet_wait: config.fleet_wait,
                max_open_tenants: config.max_open_tenants,
                query_limits: config.query_limits,
                specs: SpecCache::default(),
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

    /// The compiled model for (tenant, model): from L1, else from L2, else compiled once
    /// however many requests (of this instance, and of the fleet) miss at the same time.
    pub async fn model(
        &self,
        tenant: &TenantId,
        name: &str,
    ) -> Result<Arc<CompiledModel>, RegistryError> {
        let counters = &self.inner.counters;
        let timed = counters.lookups.add(1) % L1_SAMPLE == 0;
        let started = timed.then(Instant::now);
        let def = {
            let models = self.inner.models.load();
            let def = models
                .get(name)
                .ok_or_else(|| RegistryError::ModelNotFound(name.to_owned()))?;
            // Spans for trace export (DEBUG: not built unless a layer wants them).
            let span = tracing::debug_span!(
                target: "dmr::registry", "l1 lookup",
                tenant = tenant.as_str(), model = name, cache.hit = tracing::field::Empty,
            );
            let hit = self
                .inner
                .l1
                .get(&ModelKeyRef { tenant, def })
                .instrument(span.clone())
                .await;
            span.record("cache.hit", hit.is_some());
            if let Some(compiled) = hit {
                compiled.open.touch();
                if let Some(started) = started {
                    counters.l1_latency.record(started.elapsed());
                }
                return Ok(compiled);
            }
            Arc::clone(def)
        };
        let key = ModelKey::new(tenant.clone(), Arc::clone(&def));
        let loaded = self
            .inner
            .l1
            .get_or_load(key.clone(), self.load(tenant, &def))
            .await
            .map_err(|e| (*e).clone());
        match loaded {
            Ok(compiled) => {
                // An invalidation that raced this load: hand the result to the callers
                // that waited for it, but do not keep it.
                if !self.inner.generations.is_current(compiled.stamp, tenant) {
                    self.inner.l1.invalidate(&key).await;
                }
                Ok(compiled)
            }
            Err(error) => {
                Counters::bump(&self.inner.counters.errors);
                self.fail_safe(&key, error).await
            }
        }
    }

    /// When a refresh fails because the store cannot be reached, the last good compile
    /// keeps serving for the grace period.
    async fn fail_safe(
        &self,
        key: &ModelKey,
        error: RegistryError,
    ) -> Result<Arc<CompiledModel>, RegistryError> {
        if let RegistryError::Store(StoreError::Unavailable(reason)) = &error
            && let Some(last) = self.inner.last_good.peek(key).await
        {
            Counters::bump(&self.inner.counters.fail_safe_served);
            tracing::warn!(
                tenant = %key.tenant, model = key.model(), reason = %reason,
                "store unreachable: serving the last good compiled model"
            );
            return Ok(last);
        }
        Err(error)
    }

    /// One load for every caller that missed L1 on this key.
    #[tracing::instrument(
        level = "debug", target = "dmr::registry", name = "model load", skip_all,
        fields(tenant = tenant.as_str(), model = def.name.as_str()),
    )]
    async fn load(
        &self,
        tenant: &TenantId,
        def: &Arc<ModelDef>,
    ) -> Result<Arc<CompiledModel>, RegistryError> {
        Counters::bump(&self.inner.counters.loads);
        let started = Instant::now();
        let stamp = self.inner.generations.stamp(tenant);
        let compiled = match &self.inner.shared {
            Some(tier) => self.load_shared(tier.as_ref(), tenant, def, stamp).await?,
            None => self.compile(tenant, def, stamp).await?,
        };
        self.inner.counters.load_latency.record(started.elapsed());
        let key = ModelKey::new(tenant.clone(), Arc::clone(def));
        self.inner
            .last_good
            .insert(key, Arc::clone(&compiled))
            .await;
        Ok(compiled)
    }

    /// Opens the tenant's store (provisioning the tenant on first use), ensures the
    /// collection and its indexes, and builds the handle.
    #[tracing::instrument(
        level = "debug", target = "dmr::registry", name = "compile", skip_all,
        fields(tenant = tenant.as_str(), model = def.name.as_str()),
    )]
    pub(crate) async fn compile(
        &self,
        tenant: &TenantId,
        def: &Arc<ModelDef>,
        stamp: Stamp,
    ) -> Result<Arc<CompiledModel>, RegistryError> {
        let _lock = ActiveLock::hold(&self.inner.counters.active_locks);
        let started = Instant::now();
        let opened = self.inner.connections.get_or_open(tenant, true).await?;
        for evicted in &opened.evicted {
            self.invalidate_local(evicted);
        }
        let spec = self.inner.specs.get(def);
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
        self.inner
            .counters
            .compile_latency
            .record(started.elapsed());
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
            spec,
            ensured,
            compiled_at: SystemTime::now(),
            stamp,
            open: opened.tenant,
            encoded_answer: OnceLock::new(),
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
                self.forget(tenant, &compiled).await;
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

    /// Drops one compiled model from L1 (its store was found closed).
    pub(crate) async fn forget(&self, tenant: &TenantId, compiled: &CompiledModel) {
        let key = ModelKey::new(tenant.clone(), Arc::clone(&compiled.def));
        self.inner.l1.invalidate(&key).await;
    }

    async fn run_on(
        compiled: &CompiledModel,
        operation: TestOperation,
    ) -> Result<Value, StoreError> {
        let store = &compiled.open.store;
        let spec = &compiled.spec;
        let first = |limit| FindQuery {
            filter: &Filter::All,
            sort: &NO_SORT,
            skip: 0,
            limit,
        };
        Ok(match operation {
            TestOperation::Count => Value::from(store.count(spec, &Filter::All).await?),
            TestOperation::FindOne => store
                .find(spec, &first(1))
                .await?
                .into_iter()
                .next()
                .unwrap_or(Value::Null),
            TestOperation::Find => Value::Array(store.find(spec, &first(10)).await?),
        })
    }
}
