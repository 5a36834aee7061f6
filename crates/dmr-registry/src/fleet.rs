//! The shared tier on the miss path: an L2 hit rebuilds the live handle from the compiled
//! model's descriptor without any store work; an L2 miss takes the fleet-wide lock so one
//! instance compiles while the others wait for its result in L2. Whenever the tier fails,
//! the request carries on with a local compile: Redis is never on the critical path.

use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use dmr_cache::{Awaited, SharedTier};
use dmr_model::ModelDef;
use dmr_store::{EnsuredCollection, TenantId};
use serde::{Deserialize, Serialize};
use tracing::Instrument;
use tracing::field::Empty;

use crate::compiled::CompiledModel;
use crate::error::RegistryError;
use crate::invalidation::Stamp;
use crate::registry::Registry;
use crate::stats::Counters;

/// Lock attempts before giving up on the fleet and compiling locally.
const LOCK_ATTEMPTS: usize = 3;

/// The serialisable part of a compiled model: what goes to L2. A live handle never leaves
/// its process.
#[derive(Debug, Serialize, Deserialize)]
struct Descriptor {
    model: String,
    fingerprint: String,
    database: String,
    collection: String,
    ensured: EnsuredCollection,
}

/// L2 field of a compiled model: one per (model, schema version).
fn entry(def: &ModelDef) -> String {
    format!("{}:{}", def.name, def.fingerprint)
}

impl Registry {
    pub(crate) async fn load_shared(
        &self,
        tier: &dyn SharedTier,
        tenant: &TenantId,
        def: &Arc<ModelDef>,
        stamp: Stamp,
    ) -> Result<Arc<CompiledModel>, RegistryError> {
        let entry = entry(def);
        // A DEBUG span per round trip to the shared tier, for trace export.
        let get = tracing::debug_span!(target: "dmr::registry", "l2 get", cache.hit = Empty);
        let found = tier
            .get(tenant.as_str(), &entry)
            .instrument(get.clone())
            .await;
        get.record("cache.hit", matches!(found, Ok(Some(_))));
        drop(get);
        match found {
            Ok(Some(bytes)) => {
                if let Some(compiled) = self.rebuild_from_l2(tenant, def, &bytes, stamp).await? {
                    return Ok(compiled);
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::debug!(tenant = %tenant, model = %def.name, error = %e, "L2 unavailable; compiling locally");
                return self.compile(tenant, def, stamp).await;
            }
        }
        for _ in 0..LOCK_ATTEMPTS {
            let lock =
                tracing::debug_span!(target: "dmr::registry", "fleet lock", acquired = Empty);
            let locked = tier
                .try_lock(tenant.as_str(), &entry)
                .instrument(lock.clone())
                .await;
            lock.record("acquired", matches!(locked, Ok(Some(_))));
            drop(lock);
            match locked {
                Ok(Some(lock)) => {
                    let compiled = self.compile(tenant, def, stamp).await;
                    if let Ok(compiled) = &compiled {
                        let descriptor = describe(compiled);
                        let put = tier.put(&lock, &descriptor);
                        match put
                            .instrument(tracing::debug_span!(target: "dmr::registry", "l2 put"))
                            .await
                        {
                            Ok(true) => {}
                            Ok(false) => {
                                tracing::debug!(tenant = %tenant, model = %def.name, "L2 write fenced out by a newer lock or an invalidation")
                            }
                            Err(e) => {
                                tracing::debug!(tenant = %tenant, model = %def.name, error = %e, "L2 write failed")
                            }
                        }
                    }
                    if let Err(e) = tier.unlock(&lock).await {
                        tracing::debug!(error = %e, "fleet lock release failed; it expires by itself");
                    }
                    return compiled;
                }
                Ok(None) => {
                    Counters::bump(&self.inner.counters.fleet_waits);
                    match tier
                        .await_entry(tenant.as_str(), &entry, self.inner.fleet_wait)
                        .instrument(tracing::debug_span!(target: "dmr::registry", "fleet wait"))
                        .await
                    {
                        Ok(Awaited::Ready(bytes)) => {
                            if let Some(compiled) =
                                self.rebuild_from_l2(tenant, def, &bytes, stamp).await?
                            {
                                return Ok(compiled);
                            }
                        }
                        Ok(Awaited::Released) => continue,
                        Ok(Awaited::TimedOut) | Err(_) => break,
                    }
                }
                Err(_) => break,
            }
        }
        tracing::debug!(tenant = %tenant, model = %def.name, "no fleet result in time; compiling locally");
        self.compile(tenant, def, stamp).await
    }

    /// Rebuilds a compiled model from an L2 descriptor: opens (or reuses) the tenant's
    /// store handle and trusts the descriptor's indexes. `None` for an unreadable or
    /// mismatched descriptor, which is then treated as a miss.
    async fn rebuild_from_l2(
        &self,
        tenant: &TenantId,
        def: &Arc<ModelDef>,
        bytes: &[u8],
        stamp: Stamp,
    ) -> Result<Option<Arc<CompiledModel>>, RegistryError> {
        let descriptor: Descriptor = match serde_json::from_slice(bytes) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(tenant = %tenant, model = %def.name, error = %e, "ignoring an unreadable L2 entry");
                return Ok(None);
            }
        };
        if descriptor.fingerprint != def.fingerprint || descriptor.collection != def.collection {
            return Ok(None);
        }
        let opened = self.inner.connections.get_or_open(tenant, false).await?;
        for evicted in &opened.evicted {
            self.invalidate_local(evicted);
        }
        Counters::bump(&self.inner.counters.l2_hits);
        Ok(Some(Arc::new(CompiledModel {
            tenant: tenant.clone(),
            def: Arc::clone(def),
            database_name: descriptor.database,
            collection: descriptor.collection,
            spec: self.inner.specs.get(def),
            ensured: descriptor.ensured,
            compiled_at: SystemTime::now(),
            stamp,
            open: opened.tenant,
            encoded_answer: OnceLock::new(),
        })))
    }
}

fn describe(compiled: &CompiledModel) -> Vec<u8> {
    let descriptor = Descriptor {
        model: compiled.def.name.clone(),
        fingerprint: compiled.def.fingerprint.clone(),
        database: compiled.database_name.clone(),
        collection: compiled.collection.clone(),
        ensured: compiled.ensured.clone(),
    };
    serde_json::to_vec(&descriptor).unwrap_or_default()
}
