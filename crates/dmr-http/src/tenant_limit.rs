//! Limits per tenant: requests per window (`TENANT_RATE_LIMIT_MAX_REQUESTS`) and requests
//! in flight (`TENANT_MAX_CONCURRENCY`), both kept in one entry per tenant so a request
//! costs one map lookup for the two; the same entry counts the tenant's requests per
//! minute, for the stats' busiest tenants.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use dmr_store::TenantId;

use crate::rate_limit::{Hit, KeyedWindows, Tracked, Window};

/// A tenant's entry: its window, its requests in flight, its requests per minute.
#[derive(Debug)]
pub struct TenantSlot {
    window: Window,
    in_flight: AtomicU32,
    per_minute: MinuteCount,
}

/// Requests in this minute and the one before, packed into one atomic: minute number (24
/// bits, 31 years), previous count and current count (20 bits each, saturating at about
/// a million a minute).
#[derive(Debug, Default)]
struct MinuteCount(AtomicU64);

const MINUTE_MS: u64 = 60_000;
const MINUTE_COUNT_BITS: u32 = 20;
const MINUTE_COUNT_MAX: u64 = (1 << MINUTE_COUNT_BITS) - 1;

impl MinuteCount {
    fn unpack(packed: u64) -> (u64, u64, u64) {
        (
            packed >> (2 * MINUTE_COUNT_BITS),
            (packed >> MINUTE_COUNT_BITS) & MINUTE_COUNT_MAX,
            packed & MINUTE_COUNT_MAX,
        )
    }

    fn pack(minute: u64, previous: u64, current: u64) -> u64 {
        (minute << (2 * MINUTE_COUNT_BITS)) | (previous << MINUTE_COUNT_BITS) | current
    }

    /// The counts as of `now_ms`: (previous minute, this minute).
    fn at(packed: u64, now_ms: u64) -> (u64, u64) {
        let minute = now_ms / MINUTE_MS;
        match Self::unpack(packed) {
            (m, previous, current) if m == minute => (previous, current),
            (m, _, current) if m + 1 == minute => (current, 0),
            _ => (0, 0),
        }
    }

    fn hit(&self, now_ms: u64) {
        let minute = now_ms / MINUTE_MS;
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |packed| {
                let (previous, current) = Self::at(packed, now_ms);
                Some(Self::pack(
                    minute,
                    previous,
                    (current + 1).min(MINUTE_COUNT_MAX),
                ))
            });
    }

    /// Requests in the last 60 s, the previous minute weighted by how much of it the
    /// window still covers (a sliding-window estimate).
    fn last_minute(&self, now_ms: u64) -> u64 {
        let (previous, current) = Self::at(self.0.load(Ordering::Relaxed), now_ms);
        let covered = 1.0 - (now_ms % MINUTE_MS) as f64 / MINUTE_MS as f64;
        current + (previous as f64 * covered).round() as u64
    }
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
                    per_minute: MinuteCount::default(),
                };
                Some((Box::from(tenant.as_str()), Arc::new(slot)))
            },
            // Taken under the shard's lock, so the entry cannot be evicted in between.
            |slot| {
                slot.per_minute.hit(now_ms);
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

impl TenantLimits {
    /// The `n` tenants with the most requests in the last minute, busiest first (ties by
    /// id). Reads every entry: for a stats call, not a request.
    pub fn busiest(&self, n: usize, now_ms: u64) -> Vec<(Box<str>, u64)> {
        let mut all = Vec::new();
        self.slots.for_each(|tenant, slot| {
            let requests = slot.per_minute.last_minute(now_ms);
            if requests > 0 {
                all.push((tenant.clone(), requests));
            }
        });
        all.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        all.truncate(n);
        all
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

    #[test]
    fn the_busiest_tenants_of_the_last_minute() {
        let limits = TenantLimits::new(0, 0, 900_000, 1000);
        // The limits are off, but `admit` is what counts: the edge asks it only when a
        // limit is on (`is_off`).
        let minute = 60_000;
        for _ in 0..3 {
            limits.admit(&tenant("acme"), 10 * minute);
        }
        limits.admit(&tenant("globex"), 10 * minute);
        assert_eq!(
            limits.busiest(10, 10 * minute + 1),
            [(Box::from("acme"), 3), (Box::from("globex"), 1)]
        );
        // Half-way through the next minute, the previous one counts half.
        limits.admit(&tenant("globex"), 11 * minute);
        let later = limits.busiest(1, 11 * minute + minute / 2);
        assert_eq!(later, [(Box::from("acme"), 2)], "3 x 0.5, rounded");
        // Two minutes on, nothing is recent.
        assert!(limits.busiest(10, 13 * minute).is_empty());
    }
}
