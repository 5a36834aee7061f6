//! The connection manager: one open store per tenant, opened once however many requests
//! race for it, touched on every use, closed when idle too long, when the number of open
//! tenants passes its bound (least recently used first), or on demand.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use dmr_model::date::format_system_time;
use dmr_store::{Backend, PoolStats, StoreError, TenantId, TenantStore};
use serde::Serialize;
use tokio::sync::OnceCell;

use crate::store_timing::{StoreOperation, StoreTimings, TimedStore};

/// A tenant's open store and when it was last used.
pub struct OpenTenant {
    pub tenant: TenantId,
    pub store: Arc<dyn TenantStore>,
    origin: Instant,
    /// Nanoseconds since `origin` (fine enough to order back-to-back uses); an atomic so
    /// the hot path touches it without a lock.
    last_used_ns: AtomicU64,
}

impl std::fmt::Debug for OpenTenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenTenant")
            .field("tenant", &self.tenant)
            .field("database", &self.store.database_name())
            .finish_non_exhaustive()
    }
}

impl OpenTenant {
    pub fn touch(&self) {
        let since_origin = Instant::now().saturating_duration_since(self.origin);
        let nanos = u64::try_from(since_origin.as_nanos()).unwrap_or(u64::MAX);
        self.last_used_ns.store(nanos, Ordering::Relaxed);
    }

    fn last_used(&self) -> Instant {
        self.origin + Duration::from_nanos(self.last_used_ns.load(Ordering::Relaxed))
    }

    pub fn idle_for(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.last_used())
    }
}

/// One tenant's entry in `/api/models/stats`, named as the seed names it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectionInfo {
    pub tenant_id: String,
    pub database_name: String,
    /// `connected` or `disconnected`.
    pub ready_state_string: &'static str,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub last_used: String,
    /// Milliseconds since last use.
    pub idle_time: u64,
    pub pool: PoolStats,
}

#[derive(Default)]
struct Slot {
    open: OnceCell<Arc<OpenTenant>>,
}

pub(crate) struct Opened {
    pub tenant: Arc<OpenTenant>,
    /// Tenants closed to stay within the bound; their cached models must go too.
    pub evicted: Vec<TenantId>,
}

pub(crate) struct ConnectionManager {
    backend: Arc<dyn Backend>,
    max_open: usize,
    origin: Instant,
    slots: Mutex<HashMap<TenantId, Arc<Slot>>>,
    /// Every store it opens is timed (`TimedStore`), and so is the opening.
    timings: Arc<StoreTimings>,
    idle_closes: AtomicU64,
}

impl ConnectionManager {
    pub(crate) fn new(backend: Arc<dyn Backend>, max_open: usize) -> Self {
        Self {
            backend,
            max_open: max_open.max(1),
            origin: Instant::now(),
            slots: Mutex::new(HashMap::new()),
            timings: Arc::default(),
            idle_closes: AtomicU64::new(0),
        }
    }

    pub(crate) fn timings(&self) -> &StoreTimings {
        &self.timings
    }

    /// Stores closed by the idle sweep since start.
    pub(crate) fn idle_closes(&self) -> u64 {
        self.idle_closes.load(Ordering::Relaxed)
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, Arc<Slot>>> {
        // A poisoned map is still a consistent map: every critical section is a single
        // insert, remove or scan.
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The tenant's open store, opening it on first use. `provision` records the tenant in
    /// the control plane first (a compile does; a rebuild from L2 knows the compiling
    /// instance did).
    pub(crate) async fn get_or_open(
        &self,
        tenant: &TenantId,
        provision: bool,
    ) -> Result<Opened, StoreError> {
        let slot = Arc::clone(self.slots().entry(tenant.clone()).or_default());
        let opened_here = AtomicBool::new(false);
        let result = slot
            .open
            .get_or_try_init(|| async {
                opened_here.store(true, Ordering::Relaxed);
                if provision {
                    let record = self.backend.provision_tenant(tenant).await?;
                    if record.created_now {
                        tracing::info!(tenant = %tenant, database = %record.database_name, "tenant provisioned on first use");
                    }
                }
                let open = self.backend.open_tenant(tenant);
                let store = self.timings.time(StoreOperation::OpenTenant, open).await?;
                let store = TimedStore::wrap(store, Arc::clone(&self.timings), self.backend.kind());
                tracing::debug!(tenant = %tenant, "tenant store opened");
                Ok::<_, StoreError>(Arc::new(OpenTenant {
                    tenant: tenant.clone(),
                    store,
                    origin: self.origin,
                    last_used_ns: AtomicU64::new(0),
                }))
            })
            .await;
        match result {
            Ok(open) => {
                open.touch();
                let evicted = if opened_here.load(Ordering::Relaxed) {
                    self.enforce_bound(tenant).await
                } else {
                    Vec::new()
                };
                Ok(Opened {
                    tenant: Arc::clone(open),
                    evicted,
                })
            }
            Err(e) => {
                // Forget the empty slot so failed tenants do not accumulate.
                let mut slots = self.slots();
                if slots
                    .get(tenant)
                    .is_some_and(|s| Arc::ptr_eq(s, &slot) && !s.open.initialized())
                {
                    slots.remove(tenant);
                }
                Err(e)
            }
        }
    }

    /// Closes least recently used tenants beyond `max_open`, never `keep`.
    async fn enforce_bound(&self, keep: &TenantId) -> Vec<TenantId> {
        let victims: Vec<Arc<OpenTenant>> = {
            let mut slots = self.slots();
            let mut open: Vec<Arc<OpenTenant>> = slots
                .values()
                .filter_map(|s| s.open.get().cloned())
                .collect();
            if open.len() <= self.max_open {
                return Vec::new();
            }
            let excess = open.len() - self.max_open;
            open.retain(|t| &t.tenant != keep);
            open.sort_by_key(|t| t.last_used_ns.load(Ordering::Relaxed));
            open.truncate(excess);
            for victim in &open {
                slots.remove(&victim.tenant);
            }
            open
        };
        let mut closed = Vec::with_capacity(victims.len());
        for victim in victims {
            victim.store.close().await;
            tracing::info!(tenant = %victim.tenant, max_open = self.max_open, "closed least recently used tenant store");
            closed.push(victim.tenant.clone());
        }
        closed
    }

    /// Closes one tenant's store; false when it was not open.
    pub(crate) async fn close(&self, tenant: &TenantId) -> bool {
        let slot = self.slots().remove(tenant);
        match slot.and_then(|s| s.open.get().cloned()) {
            Some(open) => {
                open.store.close().await;
                true
            }
            None => false,
        }
    }

    /// Closes every store unused for longer than `idle_timeout`; returns their tenants.
    pub(crate) async fn close_idle(&self, idle_timeout: Duration, now: Instant) -> Vec<TenantId> {
        let idle: Vec<Arc<OpenTenant>> = {
            let mut slots = self.slots();
            let idle: Vec<Arc<OpenTenant>> = slots
                .values()
                .filter_map(|s| s.open.get())
                .filter(|t| t.idle_for(now) > idle_timeout)
                .cloned()
                .collect();
            for t in &idle {
                slots.remove(&t.tenant);
            }
            idle
        };
        self.idle_closes
            .fetch_add(idle.len() as u64, Ordering::Relaxed);
        let mut closed = Vec::with_capacity(idle.len());
        for t in idle {
            t.store.close().await;
            closed.push(t.tenant.clone());
        }
        closed
    }

    pub(crate) async fn close_all(&self) -> usize {
        let all: Vec<Arc<Slot>> = self.slots().drain().map(|(_, s)| s).collect();
        let mut closed = 0;
        for slot in all {
            if let Some(open) = slot.open.get() {
                open.store.close().await;
                closed += 1;
            }
        }
        closed
    }

    pub(crate) fn list(&self) -> Vec<ConnectionInfo> {
        let now = Instant::now();
        let wall_now = SystemTime::now();
        let mut list: Vec<ConnectionInfo> = self
            .slots()
            .values()
            .filter_map(|s| s.open.get())
            .map(|t| {
                let idle = t.idle_for(now);
                ConnectionInfo {
                    tenant_id: t.tenant.to_string(),
                    database_name: t.store.database_name().to_owned(),
                    ready_state_string: if t.store.is_open() {
                        "connected"
                    } else {
                        "disconnected"
                    },
                    last_used: format_system_time(wall_now.checked_sub(idle).unwrap_or(wall_now)),
                    idle_time: u64::try_from(idle.as_millis()).unwrap_or(u64::MAX),
                    pool: t.store.pool_stats(),
                }
            })
            .collect();
        list.sort_by(|a, b| a.tenant_id.cmp(&b.tenant_id));
        list
    }

    /// The tenants whose stores are open now.
    pub(crate) fn open_tenants(&self) -> Vec<Arc<OpenTenant>> {
        self.slots()
            .values()
            .filter_map(|s| s.open.get().cloned())
            .collect()
    }

    pub(crate) fn open_count(&self) -> usize {
        self.slots()
            .values()
            .filter(|s| s.open.initialized())
            .count()
    }
}
