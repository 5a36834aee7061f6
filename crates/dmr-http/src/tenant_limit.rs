//! Limits per tenant: requests per window (`TENANT_RATE_LIMIT_MAX_REQUESTS`) and requests
//! in flight (`TENANT_MAX_CONCURRENCY`), both kept in one entry per tenant so a request
//! costs one map lookup for the two.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use dmr_store::{MAX_TENANT_ID_LEN, TenantId};

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

    /// Counts a request for `tenant`; `None` when the id is not a valid tenant id (the
    /// route answers 400 for it, and no entry is made).
    pub fn admit(&self, tenant: &str, now_ms: u64) -> Option<TenantVerdict> {
        let max_concurrency = self.max_concurrency;
        let (hit, slot) = self.slots.hit(
            tenant,
            now_ms,
            || {
                TenantId::parse(tenant).ok().map(|_| {
                    let slot = TenantSlot {
                        window: Window::opened_at(now_ms),
                        in_flight: AtomicU32::new(0),
                    };
                    (Box::from(tenant), Arc::new(slot))
                })
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

    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.slots.len()
    }
}

/// The tenant a request's path names, percent-decoded, without allocating:
/// `/api/models/{t}...`, `/api/models/cache/{t}`, `/api/models/connection/{t}`. `None` for
/// the registry-wide routes and for what cannot be a tenant id.
pub fn tenant_in_path<'a>(path: &'a str, buf: &'a mut [u8; MAX_TENANT_ID_LEN]) -> Option<&'a str> {
    let rest = path.strip_prefix("/api/models/")?;
    let mut segments = rest.split('/');
    let raw = match segments.next()? {
        "cache" | "connection" => segments.next()?,
        "health" | "stats" | "schemas" => return None,
        segment => segment,
    };
    let id = if raw.contains('%') {
        // `%61cme` is routed to tenant `acme`: it must be counted as `acme`.
        let bytes = raw.as_bytes();
        let (mut read, mut written) = (0, 0);
        while read < bytes.len() {
            let byte = if bytes[read] == b'%' {
                let digit = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
                let value = digit(read + 1)? * 16 + digit(read + 2)?;
                read += 3;
                value as u8
            } else {
                read += 1;
                bytes[read - 1]
            };
            *buf.get_mut(written)? = byte;
            written += 1;
        }
        std::str::from_utf8(&buf[..written]).ok()?
    } else {
        raw
    };
    let valid = !id.is_empty()
        && id.len() <= MAX_TENANT_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    valid.then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(path: &str) -> Option<String> {
        let mut buf = [0; MAX_TENANT_ID_LEN];
        tenant_in_path(path, &mut buf).map(str::to_owned)
    }

    #[test]
    fn finds_the_tenant_of_every_tenant_route() {
        assert_eq!(tenant("/api/models/acme").as_deref(), Some("acme"));
        assert_eq!(tenant("/api/models/acme/test").as_deref(), Some("acme"));
        assert_eq!(tenant("/api/models/acme/User").as_deref(), Some("acme"));
        assert_eq!(
            tenant("/api/models/acme/User/documents/abc").as_deref(),
            Some("acme")
        );
        assert_eq!(tenant("/api/models/cache/acme").as_deref(), Some("acme"));
        assert_eq!(
            tenant("/api/models/connection/acme").as_deref(),
            Some("acme")
        );
    }

    #[test]
    fn registry_wide_routes_and_bad_ids_have_none() {
        for path in [
            "/health",
            "/",
            "/api/models/health",
            "/api/models/stats",
            "/api/models/schemas",
            "/api/models/schemas/reload",
            "/api/models/cache",
            "/api/models/",
            "/api/models/a.b/User",
            "/api/models/a%20b",
            "/api/models/%",
            "/api/models/%6",
            "/api/models/%zz",
        ] {
            assert_eq!(tenant(path), None, "{path}");
        }
        let long = format!("/api/models/{}", "x".repeat(49));
        assert_eq!(tenant(&long), None);
    }

    #[test]
    fn percent_encoding_does_not_make_a_new_tenant() {
        assert_eq!(tenant("/api/models/%61cme/User").as_deref(), Some("acme"));
        assert_eq!(
            tenant("/api/models/cache/%61%63me").as_deref(),
            Some("acme")
        );
    }

    #[test]
    fn rate_and_concurrency_are_counted_together() {
        let limits = TenantLimits::new(3, 2, 900_000, 1000);
        let first = limits.admit("acme", 0).unwrap();
        let second = limits.admit("acme", 0).unwrap();
        // Two in flight: the third is busy (and counted in the window).
        assert!(matches!(limits.admit("acme", 0), Some(TenantVerdict::Busy)));
        // Another tenant has its own slots.
        assert!(matches!(
            limits.admit("globex", 0),
            Some(TenantVerdict::Admitted { .. })
        ));
        drop(first);
        drop(second);
        // The window holds 3 already: the fourth is over the rate.
        match limits.admit("acme", 0).unwrap() {
            TenantVerdict::RateLimited(hit) => assert_eq!(hit.count, 4),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_finished_request_gives_its_slot_back() {
        let limits = TenantLimits::new(0, 1, 900_000, 1000);
        for _ in 0..5 {
            let verdict = limits.admit("acme", 0).unwrap();
            let TenantVerdict::Admitted { hit, in_flight } = verdict else {
                panic!("{verdict:?}");
            };
            assert!(hit.is_none(), "rate not limited");
            assert!(in_flight.is_some());
            assert!(matches!(limits.admit("acme", 0), Some(TenantVerdict::Busy)));
        }
    }

    #[test]
    fn invalid_ids_get_no_entry() {
        let limits = TenantLimits::new(5, 5, 900_000, 1000);
        assert!(limits.admit("stats", 0).is_none());
        assert!(limits.admit("a.b", 0).is_none());
        assert_eq!(limits.tracked(), 0);
    }
}
