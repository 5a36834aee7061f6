use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use moka::Equivalent;
use serde::Serialize;

use crate::StripedCounter;

/// The in-process cache: bounded by entry count, entries expire `ttl` after insertion, and
/// concurrent misses on one key run the loader once (moka's `try_get_with`), the other
/// callers waiting for its result. Errors are not cached.
pub struct L1Cache<K, V> {
    cache: moka::future::Cache<K, V>,
    max_size: u64,
    ttl: Duration,
    hits: StripedCounter,
    misses: StripedCounter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct L1Stats {
    pub size: u64,
    pub max_size: u64,
    pub ttl_ms: u64,
    pub hits: u64,
    pub misses: u64,
}

impl<K, V> L1Cache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub fn new(max_size: u64, ttl: Duration) -> Self {
        let cache = moka::future::Cache::builder()
            .max_capacity(max_size)
            .time_to_live(ttl)
            .support_invalidation_closures()
            .build();
        Self {
            cache,
            max_size,
            ttl,
            hits: StripedCounter::default(),
            misses: StripedCounter::default(),
        }
    }

    /// A cached value, counting the hit or the miss. `key` may be a borrowed form of `K`
    /// (`Equivalent`, hashing as `K` does), so a lookup need not build an owned key.
    pub async fn get<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        let found = self.cache.get(key).await;
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.add(1);
        found
    }

    /// The cached value, or the result of `load`, run once however many callers miss on
    /// `key` at the same time. Does not count hits or misses: call `get` first.
    pub async fn get_or_load<E, F>(&self, key: K, load: F) -> Result<V, Arc<E>>
    where
        E: Send + Sync + 'static,
        F: Future<Output = Result<V, E>>,
    {
        self.cache.try_get_with(key, load).await
    }

    /// A cached value without counting a hit or a miss (fallback lookups).
    pub async fn peek(&self, key: &K) -> Option<V> {
        self.cache.get(key).await
    }

    pub async fn insert(&self, key: K, value: V) {
        self.cache.insert(key, value).await;
    }

    pub async fn invalidate(&self, key: &K) {
        self.cache.invalidate(key).await;
    }

    /// Drops every entry whose key matches. Applies to lookups at once; memory is
    /// reclaimed by moka's maintenance.
    pub fn invalidate_if(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) {
        // Only fails when the cache was built without closure support, which `new` enables.
        let _ = self.cache.invalidate_entries_if(predicate);
    }

    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    /// Applies pending evictions and invalidations so `stats().size` is exact.
    pub async fn sync(&self) {
        self.cache.run_pending_tasks().await;
    }

    pub fn stats(&self) -> L1Stats {
        L1Stats {
            size: self.cache.entry_count(),
            max_size: self.max_size,
            ttl_ms: u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX),
            hits: self.hits.count(),
            misses: self.misses.count(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_misses_on_one_key_load_once() {
        let cache = Arc::new(L1Cache::<u32, u32>::new(10, Duration::from_secs(60)));
        let loads = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let (cache, loads) = (Arc::clone(&cache), Arc::clone(&loads));
                tokio::spawn(async move {
                    cache
                        .get_or_load(7, async {
                            loads.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            Ok::<_, ()>(49)
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), Ok(49));
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn errors_are_not_cached_and_hits_are_counted() {
        let cache = L1Cache::<u32, u32>::new(10, Duration::from_secs(60));
        assert!(
            cache
                .get_or_load(1, async { Err::<u32, _>("down") })
                .await
                .is_err()
        );
        assert_eq!(cache.get(&1).await, None);
        assert_eq!(cache.get_or_load(1, async { Ok::<_, ()>(2) }).await, Ok(2));
        assert_eq!(cache.get(&1).await, Some(2));
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses), (1, 1));
    }

    #[tokio::test]
    async fn invalidation_by_predicate_and_bound() {
        let cache = L1Cache::<u32, u32>::new(3, Duration::from_secs(60));
        for k in 0..3 {
            cache
                .get_or_load(k, async move { Ok::<_, ()>(k) })
                .await
                .unwrap();
        }
        cache.invalidate_if(|k, _| k % 2 == 0);
        assert_eq!(cache.get(&0).await, None);
        assert_eq!(cache.get(&1).await, Some(1));
        for k in 10..20 {
            cache
                .get_or_load(k, async move { Ok::<_, ()>(k) })
                .await
                .unwrap();
        }
        cache.sync().await;
        assert!(cache.stats().size <= 3, "bounded: {:?}", cache.stats());
        cache.invalidate_all();
        assert_eq!(cache.get(&1).await, None);
    }

    #[tokio::test]
    async fn entries_expire_after_ttl() {
        let cache = L1Cache::<u32, u32>::new(3, Duration::from_millis(50));
        cache
            .get_or_load(1, async { Ok::<_, ()>(1) })
            .await
            .unwrap();
        assert_eq!(cache.get(&1).await, Some(1));
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(cache.get(&1).await, None);
    }
}
