//! Limits per tenant: requests per window (`TENANT_RATE_LIMIT_MAX_REQUESTS`) and requests
//! in flight (`TENANT_MAX_CONCURRENCY`), both kept in one entry per tenant so a request
//! costs one map lookup for the two.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use dmr_store::TenantId;

use crate::rate_limit::{Hit, KeyedWindows, Tracked, Window};

/// A tenant's entry: its window and its requests in flight.
#[derive(Debug)]
pub struct TenantSlot {
    window: Window,
    in_flight: AtomicU32,
}

impl Tracked for Arc<TenantSlot> {
    fn window(&self) -> &Window {
        &self.window
    }

    /// A tenant with requests in flight keeps its entry: the count they release must land
    /// where the next request looks.
    fn in_use(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) > 0
    }
}

/// A request in flight for a tenant; dropping it (the response is ready, or the request was
/// abandoned) gives the slot back.
#[derive(Debug)]
pub struct InFlight(Arc<TenantSlot>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

#[derive(Debug)]
pub enum TenantVerdict {
    /// Go ahead; `hit` is the tenant's window when its rate is limited, `in_flight` holds
    /// the concurrency slot when concurrency is limited.
    Admitted {
        hit: Option<Hit>,
        in_flight: Option<InFlight>,
    },
    /// Over `TENANT_RATE_LIMIT_MAX_REQUESTS` in this window.
    RateLimited(Hit),
    /// `TENANT_MAX_CONCURRENCY` requests already in flight.
    Busy,
}

#[derive(Debug)]
pub struct TenantLimits {
    slots: KeyedWindows<Box<str>, Arc<TenantSlot>>,
    /// Requests per window; 0 = no limit.
    pub max_requests: u32,
    /// Requests in flight; 0 = no limit.
    pub max_concurrency: u32,
}

impl TenantLimits {
    pub fn new(max_requests: u32, max_concurrency: u32, window_ms: u64, capacity: usize) -> Self {
        TenantLimits {
            slots: KeyedWindows::new(capacity, window_ms),
            max_requests,
            max_concurrency,
        }
    }

    pub fn is_off(&self) -> bool {
        self.max_requests == 0 && self.max_concurrency == 0
    }

    /// Counts a request for `tenant`. `None` only if the map refused a new entry (it does
    /// not: an entry is always made).
    pub fn admit(&self, tenant: &TenantId, now_ms: u64) -> Option<TenantVerdict> {
        let max_concurrency = self.max_concurrency;
        let (hit, slot) = self.slots.hit(
            tenant.as_str(),
            now_ms,
            || {
                let slot = TenantSlot {
                    window: Window::opened_at(now_ms),
                    in_flight: AtomicU32::new(0),
                };
                Some((Box::from(tenant.as_str()), Arc::new(slot)))
            },
            // Taken under the shard's lock, so the entry cannot be evicted in between.
            |slot| {
                if max_concurrency == 0 {
                    return Some(None);
                }
                let before = slot.in_flight.fetch_add(1, Ordering::AcqRel);
                if before >= max_concurrency {
                    slot.in_flight.fetch_sub(1, Ordering::AcqRel);
                    None
                } else {
                    Some(Some(InFlight(Arc::clone(slot))))
                }
            },
        )?;
        if self.max_requests > 0 && !hit.allowed(self.max_requests) {
            return Some(TenantVerdict::RateLimited(hit));
        }
        Some(match slot {
            None => TenantVerdict::Busy,
            Some(in_flight) => TenantVerdict::Admitted {
                hit: (self.max_requests > 0).then_some(hit),
                in_flight,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(id: &str) -> TenantId {
        TenantId::parse(id).unwrap()
    }

    #[test]
    fn rate_and_concurrency_are_counted_together() {
        let limits = TenantLimits::new(3, 2, 900_000, 1000);
        let first = limits.admit(&tenant("acme"), 0).unwrap();
        let second = limits.admit(&tenant("acme"), 0).unwrap();
        // Two in flight: the third is busy (and counted in the window).
        assert!(matches!(
            limits.admit(&tenant("acme"), 0),
            Some(TenantVerdict::Busy)
        ));
        // Another tenant has its own slots.
        assert!(matches!(
            limits.admit(&tenant("globex"), 0),
            Some(TenantVerdict::Admitted { .. })
        ));
        drop(first);
        drop(second);
        // The window holds 3 already: the fourth is over the rate.
        match limits.admit(&tenant("acme"), 0).unwrap() {
            TenantVerdict::RateLimited(hit) => assert_eq!(hit.count, 4),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_finished_request_gives_its_slot_back() {
        let limits = TenantLimits::new(0, 1, 900_000, 1000);
        for _ in 0..5 {
            let verdict = limits.admit(&tenant("acme"), 0).unwrap();
            let TenantVerdict::Admitted { hit, in_flight } = verdict else {
                panic!("{verdict:?}");
            };
            assert!(hit.is_none(), "rate not limited");
            assert!(in_flight.is_some());
            assert!(matches!(
                limits.admit(&tenant("acme"), 0),
                Some(TenantVerdict::Busy)
            ));
        }
    }
}
