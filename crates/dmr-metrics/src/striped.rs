//! Counters that many threads add to on every request without sharing a cache line: one
//! stripe per thread (threads beyond `STRIPES` share), summed when read. A plain atomic
//! would be written by every core on every request, its cache line moving between them
//! (seen as the L1-hit route's cost growing with cores; `benches/metrics.rs`).

use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};

const STRIPES: usize = 16;

#[derive(Debug, Default)]
pub struct StripedCounter {
    stripes: [Stripe; STRIPES],
}

#[derive(Debug, Default)]
#[repr(align(128))]
struct Stripe(AtomicI64);

/// This thread's stripe: threads are numbered as they first count.
fn stripe_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
    }
    INDEX.with(|index| *index)
}

impl StripedCounter {
    /// Adds `n` (negative to subtract); returns this thread's stripe before the addition,
    /// enough to act on one call in N without another shared counter.
    pub fn add(&self, n: i64) -> i64 {
        self.stripes[stripe_index()]
            .0
            .fetch_add(n, Ordering::Relaxed)
    }

    /// The sum of every stripe. A value may be subtracted on another thread than the one
    /// that added it, so one stripe can be negative; the sum is what counts.
    pub fn sum(&self) -> i64 {
        self.stripes
            .iter()
            .map(|stripe| stripe.0.load(Ordering::Relaxed))
            .sum()
    }

    /// `sum`, for counts that cannot go below zero.
    pub fn count(&self) -> u64 {
        self.sum().max(0) as u64
    }
}

/// `N` counters kept together: each thread's stripe holds a row of all `N`, so a request
/// that adds to several of them (a histogram's bucket and sum, a status) writes its own
/// thread's lines only. Boxed: `STRIPES` rows are kilobytes.
#[derive(Debug)]
pub struct StripedCounters<const N: usize> {
    rows: Box<[Row<N>; STRIPES]>,
}

#[derive(Debug)]
#[repr(align(128))]
struct Row<const N: usize>([AtomicU64; N]);

impl<const N: usize> Default for StripedCounters<N> {
    fn default() -> Self {
        StripedCounters {
            rows: Box::new(std::array::from_fn(|_| {
                Row(std::array::from_fn(|_| AtomicU64::new(0)))
            })),
        }
    }
}

impl<const N: usize> StripedCounters<N> {
    /// Adds `n` to counter `i` (this thread's stripe). Panics if `i >= N`.
    pub fn add(&self, i: usize, n: u64) {
        self.rows[stripe_index()].0[i].fetch_add(n, Ordering::Relaxed);
    }

    /// Every counter, summed over the stripes.
    pub fn snapshot(&self) -> [u64; N] {
        let mut sums = [0u64; N];
        for row in self.rows.iter() {
            for (sum, counter) in sums.iter_mut().zip(&row.0) {
                *sum = sum.wrapping_add(counter.load(Ordering::Relaxed));
            }
        }
        sums
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn sums_what_every_thread_added_whichever_thread_subtracts() {
        let counter = Arc::new(StripedCounter::default());
        let run = |threads: usize, n: i64| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let counter = Arc::clone(&counter);
                    std::thread::spawn(move || {
                        for _ in 0..1000 {
                            counter.add(n);
                        }
                    })
                })
                .collect();
            handles.into_iter().for_each(|h| h.join().unwrap());
        };
        run(40, 1);
        assert_eq!(counter.count(), 40_000);
        run(3, -1);
        assert_eq!(counter.sum(), 37_000);
    }

    #[test]
    fn a_threads_stripe_counts_its_own_calls() {
        let counter = StripedCounter::default();
        let seen: Vec<i64> = (0..5).map(|_| counter.add(1)).collect();
        assert_eq!(seen, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_row_of_counters_sums_each_over_every_thread() {
        let counters = Arc::new(StripedCounters::<3>::default());
        let handles: Vec<_> = (0..20)
            .map(|t| {
                let counters = Arc::clone(&counters);
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        counters.add(t % 3, 2);
                    }
                })
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
        // Threads 0..20 by `t % 3`: 7, 7 and 6 of them, 200 each.
        assert_eq!(counters.snapshot(), [1400, 1400, 1200]);
    }
}
