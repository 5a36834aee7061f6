//! A value worth asking Redis for, but not on every call: the health PING (at most 1 s
//! old) and the L2 entry count (at most a few seconds old). One refresh runs at a time;
//! callers that arrive while it runs wait for it and share its result, so a burst of
//! health and stats requests costs one round trip.

use std::time::{Duration, Instant};

use tokio::sync::Mutex;

pub(crate) struct Recent<T> {
    max_age: Duration,
    /// The last result and when its refresh finished. Held across a refresh: that is what
    /// makes concurrent callers share it.
    last: Mutex<Option<(Instant, T)>>,
}

impl<T: Clone> Recent<T> {
    pub fn new(max_age: Duration) -> Self {
        Self {
            max_age,
            last: Mutex::new(None),
        }
    }

    /// The last kept result if it is at most `max_age` old, else the result of `refresh`
    /// (run by this caller while the others wait), kept for the next callers when `keep`
    /// says so. Returns the value and its age.
    pub async fn get(
        &self,
        refresh: impl AsyncFnOnce() -> T,
        keep: impl FnOnce(&T) -> bool,
    ) -> (T, Duration) {
        let mut last = self.last.lock().await;
        if let Some((at, value)) = last.as_ref() {
            let age = at.elapsed();
            if age <= self.max_age {
                return (value.clone(), age);
            }
        }
        let value = refresh().await;
        *last = keep(&value).then(|| (Instant::now(), value.clone()));
        (value, Duration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    /// A refresh that counts its runs and takes a while, so concurrent callers overlap.
    async fn count(runs: &AtomicU32) -> u32 {
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        runs.fetch_add(1, Ordering::SeqCst) + 1
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_refresh() {
        let recent = Arc::new(Recent::new(Duration::from_secs(3600)));
        let runs = Arc::new(AtomicU32::new(0));
        let callers = (0..32).map(|_| {
            let (recent, runs) = (recent.clone(), runs.clone());
            tokio::spawn(async move { recent.get(async || count(&runs).await, |_| true).await.0 })
        });
        for caller in callers {
            assert_eq!(caller.await.unwrap(), 1, "every caller sees the one result");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_fresh_result_is_reused_with_its_age() {
        let recent = Recent::new(Duration::from_secs(3600));
        let runs = AtomicU32::new(0);
        assert_eq!(
            recent.get(async || count(&runs).await, |_| true).await,
            (1, Duration::ZERO)
        );
        let (value, age) = recent.get(async || count(&runs).await, |_| true).await;
        assert_eq!(value, 1);
        assert!(age > Duration::ZERO, "the reused result says how old it is");
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_result_not_kept_is_not_reused() {
        let recent = Recent::new(Duration::from_secs(3600));
        let runs = AtomicU32::new(0);
        let odd = |n: &u32| n % 2 == 1;
        assert_eq!(recent.get(async || count(&runs).await, odd).await.0, 1);
        assert_eq!(
            recent.get(async || count(&runs).await, odd).await.0,
            1,
            "1 is kept"
        );
        let recent = Recent::new(Duration::from_secs(3600));
        let runs = AtomicU32::new(1);
        assert_eq!(recent.get(async || count(&runs).await, odd).await.0, 2);
        assert_eq!(
            recent.get(async || count(&runs).await, odd).await.0,
            3,
            "2 was not kept"
        );
    }

    #[tokio::test]
    async fn an_old_result_is_refreshed() {
        let recent = Recent::new(Duration::ZERO);
        let runs = AtomicU32::new(0);
        assert_eq!(recent.get(async || count(&runs).await, |_| true).await.0, 1);
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(recent.get(async || count(&runs).await, |_| true).await.0, 2);
    }
}
