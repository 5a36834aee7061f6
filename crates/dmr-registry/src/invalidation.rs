//! Invalidation: locally, in L2, and across the fleet through the backplane.
//!
//! Every local invalidation bumps a generation (per tenant, or global). A load stamps its
//! result with the generations it started under; a result whose stamp is no longer current
//! raced an invalidation, and is handed to its waiters but not kept in L1.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dmr_cache::{BackplaneEvent, Invalidation};
use dmr_store::TenantId;

use crate::registry::Registry;
use crate::stats::Counters;

/// The generations a load started under: (global, tenant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp(u64, u64);

#[derive(Default)]
pub(crate) struct Generations {
    global: AtomicU64,
    /// Tenants invalidated since the last global bump (cleared by it, so bounded by the
    /// number of tenants invalidated in between).
    tenants: Mutex<HashMap<TenantId, u64>>,
}

impl Generations {
    fn tenants(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, u64>> {
        self.tenants.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn stamp(&self, tenant: &TenantId) -> Stamp {
        // Tenant map first: a global bump between the two reads makes the stamp stale,
        // which only costs a reload, never a stale entry.
        let tenant_generation = self.tenants().get(tenant).copied().unwrap_or(0);
        Stamp(self.global.load(Ordering::Acquire), tenant_generation)
    }

    pub(crate) fn is_current(&self, stamp: Stamp, tenant: &TenantId) -> bool {
        self.stamp(tenant) == stamp
    }

    fn bump_tenant(&self, tenant: &TenantId) {
        *self.tenants().entry(tenant.clone()).or_insert(0) += 1;
    }

    fn bump_all(&self) {
        let mut tenants = self.tenants();
        self.global.fetch_add(1, Ordering::AcqRel);
        tenants.clear();
    }
}

impl Registry {
    /// Drops the tenant's compiled models from this instance only.
    pub(crate) fn invalidate_local(&self, tenant: &TenantId) {
        self.inner.generations.bump_tenant(tenant);
        let t = tenant.clone();
        self.inner.l1.invalidate_if(move |k, _| k.tenant == t);
    }

    fn invalidate_all_local(&self) {
        self.inner.generations.bump_all();
        self.inner.l1.invalidate_all();
    }

    /// Drops the tenant's compiled models everywhere: here, in L2, and (through the
    /// backplane) on every other instance. The shared tier failing does not fail the call:
    /// its entries expire by TTL and its subscribers flush on reconnect.
    pub async fn invalidate_tenant(&self, tenant: &TenantId) {
        self.invalidate_local(tenant);
        let t = tenant.clone();
        self.inner
            .last_good
            .invalidate_if(move |k, _| k.tenant == t);
        if let Some(tier) = &self.inner.shared {
            if let Err(e) = tier.invalidate_tenant(tenant.as_str()).await {
                tracing::warn!(tenant = %tenant, error = %e, "L2 invalidation failed; its entries expire by TTL");
            }
            self.publish(Invalidation::Tenant {
                tenant: tenant.to_string(),
            })
            .await;
        }
    }

    /// Drops every compiled model everywhere.
    pub async fn invalidate_all(&self) {
        self.invalidate_all_local();
        self.inner.last_good.invalidate_all();
        if let Some(tier) = &self.inner.shared {
            if let Err(e) = tier.invalidate_all().await {
                tracing::warn!(error = %e, "L2 clear failed; its entries expire by TTL");
            }
            self.publish(Invalidation::All).await;
        }
    }

    pub(crate) async fn publish(&self, invalidation: Invalidation) {
        if let Some(tier) = &self.inner.shared
            && let Err(e) = tier.publish(&invalidation).await
        {
            tracing::warn!(error = %e, ?invalidation, "backplane publish failed; other instances catch up by TTL or on resubscribe");
        }
    }

    /// Closes the tenant's store and drops its compiled models, here and on every other
    /// instance; false when it was not open here.
    pub async fn close_tenant(&self, tenant: &TenantId) -> bool {
        let closed = self.close_tenant_local(tenant).await;
        self.publish(Invalidation::Connection {
            tenant: tenant.to_string(),
        })
        .await;
        closed
    }

    async fn close_tenant_local(&self, tenant: &TenantId) -> bool {
        self.invalidate_local(tenant);
        self.inner.connections.close(tenant).await
    }

    /// Closes tenants unused for longer than `idle_timeout` (this instance's own
    /// housekeeping: nothing is published); returns them.
    pub async fn close_idle(&self, idle_timeout: Duration) -> Vec<TenantId> {
        let closed = self
            .inner
            .connections
            .close_idle(idle_timeout, Instant::now())
            .await;
        for tenant in &closed {
            self.invalidate_local(tenant);
            tracing::info!(tenant = %tenant, idle_timeout_ms = idle_timeout.as_millis() as u64, "closed idle tenant store");
        }
        closed
    }

    /// Applies what the backplane delivers. Nothing here is published again.
    pub async fn apply_backplane(&self, event: BackplaneEvent) {
        match event {
            BackplaneEvent::Subscribed => {
                // Messages sent while we were not subscribed are lost: forget everything.
                self.invalidate_all_local();
                Counters::bump(&self.inner.counters.l1_flushes);
                tracing::info!("backplane (re)subscribed: L1 flushed");
            }
            BackplaneEvent::Message(invalidation) => {
                tracing::debug!(?invalidation, "backplane invalidation received");
                match invalidation {
                    Invalidation::Tenant { tenant } => {
                        if let Ok(tenant) = TenantId::parse(&tenant) {
                            self.invalidate_local(&tenant);
                        }
                    }
                    Invalidation::All => self.invalidate_all_local(),
                    Invalidation::Connection { tenant } => {
                        if let Ok(tenant) = TenantId::parse(&tenant) {
                            self.close_tenant_local(&tenant).await;
                        }
                    }
                    Invalidation::Models => {
                        if let Err(e) = self.reload_quietly().await {
                            tracing::error!(error = %e, "reload requested by another instance failed");
                        }
                    }
                }
                Counters::bump(&self.inner.counters.backplane_applied);
            }
        }
    }

    /// Closes every tenant store and the control plane.
    pub async fn shutdown(&self) {
        self.invalidate_all_local();
        let closed = self.inner.connections.close_all().await;
        self.inner.backend.close().await;
        tracing::info!(tenant_stores = closed, "registry closed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_go_stale_on_tenant_and_global_bumps() {
        let generations = Generations::default();
        let (a, b) = (TenantId::parse("a").unwrap(), TenantId::parse("b").unwrap());
        let stamp_a = generations.stamp(&a);
        let stamp_b = generations.stamp(&b);
        generations.bump_tenant(&a);
        assert!(!generations.is_current(stamp_a, &a));
        assert!(
            generations.is_current(stamp_b, &b),
            "other tenants unaffected"
        );
        let stamp_a = generations.stamp(&a);
        generations.bump_all();
        assert!(!generations.is_current(stamp_a, &a));
        assert!(!generations.is_current(stamp_b, &b));
    }
}
