//! Fixed-window request counters per key (client address, tenant), in a sharded map with a
//! hard cap on its entries.
//!
//! The algorithm is express-rate-limit's memory store: a key's window opens at its first
//! request and lasts `RATE_LIMIT_WINDOW_MS`; the request that brings the count above the
//! limit, and every one after it, is refused until the window ends. A window is one
//! `AtomicU64` (start and count packed), so counting is one compare-and-swap under a shard's
//! read lock: requests of different keys, and of one hot key, never wait on each other.
//!
//! Memory is bounded: a shard at its share of the cap first drops expired windows, then the
//! eighth of its windows with the lowest counts (oldest first among equals). A flood of new
//! addresses therefore evicts other newcomers, never a client that is near or over its
//! limit: to push such an entry out, an attacker must fill the map with entries of an even
//! higher count, which are limited themselves.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::Instant;

use hashbrown::HashTable;

const COUNT_BITS: u32 = 24;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;
/// Start times are milliseconds since the limiter's clock started, in the 40 bits above the
/// count: 34 years of uptime.
const START_LIMIT: u64 = 1 << (64 - COUNT_BITS);

/// The largest configurable limit: counts saturate just above it.
pub const MAX_LIMIT: u32 = (COUNT_MASK - 1) as u32;

/// Milliseconds since start-up, shared by every limiter of a router so one request reads the
/// time once.
#[derive(Debug, Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    pub fn start() -> Self {
        Clock(Instant::now())
    }

    pub fn now_ms(&self) -> u64 {
        (self.0.elapsed().as_millis() as u64).min(START_LIMIT - 1)
    }
}

/// One key's window: start (ms) and request count, packed into one atomic.
#[derive(Debug)]
pub struct Window(AtomicU64);

impl Window {
    pub fn opened_at(now_ms: u64) -> Self {
        Window(AtomicU64::new(now_ms << COUNT_BITS))
    }

    fn unpack(packed: u64) -> (u64, u64) {
        (packed >> COUNT_BITS, packed & COUNT_MASK)
    }

    /// Counts one request; a window past its end starts over with this request.
    pub fn hit(&self, now_ms: u64, window_ms: u64) -> Hit {
        let mut packed = self.0.load(Ordering::Relaxed);
        loop {
            let (start, count) = Self::unpack(packed);
            let (start, count) = if now_ms.saturating_sub(start) >= window_ms {
                (now_ms, 1)
            } else if count == COUNT_MASK {
                // Saturated (far over any limit): nothing to write.
                return Hit::new(start, count, now_ms, window_ms);
            } else {
                (start, count + 1)
            };
            match self.0.compare_exchange_weak(
                packed,
                (start << COUNT_BITS) | count,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Hit::new(start, count, now_ms, window_ms),
                Err(actual) => packed = actual,
            }
        }
    }

    fn is_expired(&self, now_ms: u64, window_ms: u64) -> bool {
        let (start, _) = Self::unpack(self.0.load(Ordering::Relaxed));
        now_ms.saturating_sub(start) >= window_ms
    }

    /// Eviction order: lowest count first, then oldest.
    fn eviction_rank(&self) -> u64 {
        let (start, count) = Self::unpack(self.0.load(Ordering::Relaxed));
        (count << (64 - COUNT_BITS)) | start
    }
}

/// A request counted in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Requests in the window, this one included.
    pub count: u32,
    /// Whole seconds until the window ends (at least 1).
    pub reset_after_secs: u32,
}

impl Hit {
    fn new(start: u64, count: u64, now_ms: u64, window_ms: u64) -> Self {
        let left_ms = (start + window_ms).saturating_sub(now_ms).max(1);
        Hit {
            count: count as u32,
            reset_after_secs: left_ms.div_ceil(1000).min(u64::from(u32::MAX)) as u32,
        }
    }

    pub fn allowed(&self, limit: u32) -> bool {
        self.count <= limit
    }

    pub fn remaining(&self, limit: u32) -> u32 {
        limit.saturating_sub(self.count)
    }
}

/// What a map entry holds: a window, and whether something outside still relies on the
/// entry (a request in flight), which makes it unevictable.
pub trait Tracked {
    fn window(&self) -> &Window;

    fn in_use(&self) -> bool {
        false
    }
}

impl Tracked for Window {
    fn window(&self) -> &Window {
        self
    }
}

/// Windows per key, sharded, with at most `capacity` entries in all.
pub struct KeyedWindows<K, V> {
    shards: Box<[RwLock<Shard<K, V>>]>,
    shard_bits: u32,
    shard_capacity: usize,
    hasher: RandomState,
    window_ms: u64,
}

struct Shard<K, V> {
    table: HashTable<(K, V)>,
    /// When expired windows were last dropped (ms).
    swept_at: u64,
}

impl<K, V> std::fmt::Debug for KeyedWindows<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedWindows")
            .field("shards", &self.shards.len())
            .field("shard_capacity", &self.shard_capacity)
            .field("window_ms", &self.window_ms)
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq, V: Tracked> KeyedWindows<K, V> {
    /// `capacity` entries at most (at least 1), each window `window_ms` long.
    pub fn new(capacity: usize, window_ms: u64) -> Self {
        // Enough shards that one hot key's lock is not everybody's, few enough that each
        // shard's share of the cap stays meaningful (a few hundred entries at least).
        let capacity = capacity.max(1);
        let shards = 1usize << (capacity / 256).clamp(1, 64).ilog2();
        let shard_bits = shards.trailing_zeros();
        KeyedWindows {
            shards: (0..shards)
                .map(|_| {
                    RwLock::new(Shard {
                        table: HashTable::new(),
                        swept_at: 0,
                    })
                })
                .collect(),
            shard_bits,
            shard_capacity: capacity / shards,
            hasher: RandomState::new(),
            window_ms: window_ms.max(1),
        }
    }

    /// Visits every entry, one shard's read lock at a time (a scrape, not a request).
    pub fn for_each(&self, mut visit: impl FnMut(&K, &V)) {
        for shard in self.shards.iter() {
            let shard = shard.read().unwrap_or_else(PoisonError::into_inner);
            for (key, value) in shard.table.iter() {
                visit(key, value);
            }
        }
    }

    /// Most entries the map will hold.
    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.shard_capacity * self.shards.len()
    }

    /// Entries held now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                shard
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .table
                    .len()
            })
            .sum()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, hash: u64) -> &RwLock<Shard<K, V>> {
        let index = if self.shard_bits == 0 {
            0
        } else {
            (hash >> (64 - self.shard_bits)) as usize
        };
        &self.shards[index]
    }

    /// Counts a request of `key` at `now_ms` and hands its entry to `then`. An unknown key
    /// gets an entry from `create` (which may refuse: `None`, and nothing is counted). The
    /// known-key path takes a read lock only.
    pub fn hit<Q, R>(
        &self,
        key: &Q,
        now_ms: u64,
        create: impl FnOnce() -> Option<(K, V)>,
        then: impl FnOnce(&V) -> R,
    ) -> Option<(Hit, R)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        let shard = self.shard(hash);
        {
            let shard = shard.read().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, value)) = shard.table.find(hash, |(k, _)| k.borrow() == key) {
                return Some((value.window().hit(now_ms, self.window_ms), then(value)));
            }
        }
        let (new_key, new_value) = create()?;
        let mut shard = shard.write().unwrap_or_else(PoisonError::into_inner);
        // Another request may have inserted it between the two locks.
        if let Some((_, value)) = shard.table.find(hash, |(k, _)| k.borrow() == key) {
            return Some((value.window().hit(now_ms, self.window_ms), then(value)));
        }
        // Once per window, a shard that takes new keys gives back the expired ones (memory
        // returns after a burst); a full one makes room.
        if now_ms.saturating_sub(shard.swept_at) >= self.window_ms {
            self.drop_expired(&mut shard.table, now_ms);
            shard.swept_at = now_ms;
        }
        if shard.table.len() >= self.shard_capacity {
            self.make_room(&mut shard.table, now_ms);
        }
        let entry = shard
            .table
            .insert_unique(hash, (new_key, new_value), |(k, _)| self.hasher.hash_one(k));
        let (_, value) = entry.get();
        Some((value.window().hit(now_ms, self.window_ms), then(value)))
    }

    /// Drops expired windows; if the shard is still full, the eighth of it with the lowest
    /// counts. Entries in use stay (they are bounded by the requests in flight).
    fn make_room(&self, table: &mut HashTable<(K, V)>, now_ms: u64) {
        self.drop_expired(table, now_ms);
        if table.len() < self.shard_capacity {
            return;
        }
        let mut ranks: Vec<u64> = table
            .iter()
            .filter(|(_, v)| !v.in_use())
            .map(|(_, v)| v.window().eviction_rank())
            .collect();
        if ranks.is_empty() {
            return;
        }
        let mut budget = (self.shard_capacity / 8).clamp(1, ranks.len());
        let (_, threshold, _) = ranks.select_nth_unstable(budget - 1);
        let threshold = *threshold;
        table.retain(|(_, v)| {
            if budget > 0 && !v.in_use() && v.window().eviction_rank() <= threshold {
                budget -= 1;
                false
            } else {
                true
            }
        });
    }

    fn drop_expired(&self, table: &mut HashTable<(K, V)>, now_ms: u64) {
        table.retain(|(_, v)| v.in_use() || !v.window().is_expired(now_ms, self.window_ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: u64 = 900_000;

    fn hit(map: &KeyedWindows<u128, Window>, key: u128, now: u64) -> Hit {
        map.hit(&key, now, || Some((key, Window::opened_at(now))), |_| ())
            .unwrap()
            .0
    }

    #[test]
    fn a_window_counts_then_refuses_then_starts_over() {
        let map = KeyedWindows::new(1000, WINDOW);
        for n in 1..=3 {
            let h = hit(&map, 7, 1000);
            assert_eq!(h.count, n);
            assert!(h.allowed(3));
            assert_eq!(h.remaining(3), 3 - n);
        }
        let over = hit(&map, 7, 2000);
        assert!(!over.allowed(3));
        assert_eq!(over.remaining(3), 0);
        // Opened at 1000 ms: 899 s left at 2000 ms, rounded up.
        assert_eq!(over.reset_after_secs, 899);
        // Another key has its own window.
        assert!(hit(&map, 8, 2000).allowed(3));
        // Past the end (1000 + 900000): a fresh window opened by this request.
        let fresh = hit(&map, 7, 1000 + WINDOW);
        assert_eq!(fresh.count, 1);
        assert_eq!(fresh.reset_after_secs, 900);
    }

    #[test]
    fn reset_rounds_up_and_is_never_zero() {
        let map = KeyedWindows::new(10, 1500);
        assert_eq!(hit(&map, 1, 0).reset_after_secs, 2);
        assert_eq!(hit(&map, 1, 1499).reset_after_secs, 1);
    }

    #[test]
    fn counts_saturate_instead_of_wrapping() {
        let window = Window::opened_at(0);
        window
            .0
            .store(COUNT_MASK - 1, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(window.hit(1, WINDOW).count, COUNT_MASK as u32);
        assert_eq!(window.hit(2, WINDOW).count, COUNT_MASK as u32);
        assert!(!window.hit(3, WINDOW).allowed(MAX_LIMIT));
    }

    #[test]
    fn a_refused_create_counts_nothing() {
        let map: KeyedWindows<u128, Window> = KeyedWindows::new(10, WINDOW);
        assert!(map.hit(&1, 0, || None, |_| ()).is_none());
        assert!(map.is_empty());
    }

    #[test]
    fn memory_stays_bounded_under_100000_distinct_clients() {
        let cap = 4096;
        let map = KeyedWindows::new(cap, WINDOW);
        assert!(map.capacity() <= cap);
        // A client that reached its limit before the flood.
        let limited = u128::MAX;
        for _ in 0..101 {
            hit(&map, limited, 0);
        }
        let mut largest = 0;
        for client in 0..100_000u128 {
            // Distinct addresses, all inside one window (nothing expires).
            hit(&map, client, client as u64 % 1000);
            let len = map.len();
            largest = largest.max(len);
            assert!(
                len <= map.capacity(),
                "{len} entries after {client} clients"
            );
        }
        assert!(
            largest > map.capacity() / 2,
            "the map is used, not just emptied"
        );
        // The flood evicted newcomers, not the client over its limit.
        assert!(!hit(&map, limited, 2000).allowed(100));
    }

    #[test]
    fn a_new_key_after_a_window_drops_the_expired_ones() {
        let map = KeyedWindows::new(256, 1000);
        for client in 0..100u128 {
            hit(&map, client, 0);
        }
        assert_eq!(map.len(), 100);
        // A known key refreshes its own window only.
        hit(&map, 5, 1500);
        assert_eq!(map.len(), 100);
        // Expired at 1500, all but the refreshed one: a new key clears its shard of them.
        hit(&map, 999, 1500);
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn entries_in_use_are_never_evicted() {
        struct Held(Window);
        impl Tracked for Held {
            fn window(&self) -> &Window {
                &self.0
            }
            fn in_use(&self) -> bool {
                true
            }
        }
        let map: KeyedWindows<u128, Held> = KeyedWindows::new(256, WINDOW);
        for key in 0..300u128 {
            map.hit(&key, 0, || Some((key, Held(Window::opened_at(0)))), |_| ())
                .unwrap();
        }
        // Bounded by what is in flight, not by the cap.
        assert_eq!(map.len(), 300);
    }

    #[test]
    fn string_keys_are_found_by_str() {
        let map: KeyedWindows<Box<str>, Window> = KeyedWindows::new(16, WINDOW);
        let create = || Some((Box::from("acme"), Window::opened_at(0)));
        assert_eq!(map.hit("acme", 0, create, |_| ()).unwrap().0.count, 1);
        let h = map
            .hit("acme", 0, || panic!("known key"), |_| ())
            .unwrap()
            .0;
        assert_eq!(h.count, 2);
    }
}
