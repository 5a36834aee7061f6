//! Time and randomness for document writes (ObjectIds, generated defaults). The model
//! crate takes both as parameters; this is where the process supplies them.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// Keys drawn once per process from the OS by the standard library's `RandomState`.
static KEYS: LazyLock<RandomState> = LazyLock::new(RandomState::new);
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// 64 unpredictable bits: SipHash, keyed per process, over a counter.
pub(crate) fn random_u64() -> u64 {
    let mut hasher = KEYS.build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

pub(crate) fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn random_values_differ() {
        let values: std::collections::HashSet<u64> =
            (0..1000).map(|_| super::random_u64()).collect();
        assert_eq!(values.len(), 1000);
    }
}
