//! A duration histogram cheap enough for every request: fixed buckets, one striped row per
//! thread (a request writes its bucket and the sum on its own thread's cache line).
//!
//! The buckets are OpenTelemetry's defaults for HTTP durations (`EXPOSED_BOUNDS`, what
//! `/metrics` shows) with six finer ones below 5 ms: the service answers in microseconds,
//! and the dashboard's quantiles need to see that. Each exposed bound is also a fine
//! bound, so the exposed cumulative counts are exact.

use std::time::Duration;

use crate::striped::StripedCounters;

/// Upper bounds of the buckets, in nanoseconds (an observation lands in the first bucket
/// whose bound it does not exceed; past the last, in the overflow bucket).
const BOUNDS_NS: [u64; 20] = [
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    75_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    750_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    7_500_000_000,
    10_000_000_000,
];

/// The fine bounds that `/metrics` does not show: OTel's default buckets start at 5 ms.
const HIDDEN_BOUNDS: usize = 6;

/// OpenTelemetry's default HTTP duration buckets, in seconds, as `/metrics` shows them.
pub const EXPOSED_BOUNDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

const BUCKETS: usize = BOUNDS_NS.len() + 1;
/// Buckets, then the sum of the observations in nanoseconds.
const SLOTS: usize = BUCKETS + 1;

#[derive(Debug, Default)]
pub struct Histogram {
    counts: StripedCounters<SLOTS>,
}

impl Histogram {
    pub fn observe(&self, elapsed: Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_NS
            .iter()
            .position(|bound| ns <= *bound)
            .unwrap_or(BUCKETS - 1);
        self.counts.add(bucket, 1);
        self.counts.add(BUCKETS, ns);
    }

    pub fn snapshot(&self) -> HistogramSnapshot {
        let slots = self.counts.snapshot();
        let mut buckets = [0; BUCKETS];
        buckets.copy_from_slice(&slots[..BUCKETS]);
        HistogramSnapshot {
            buckets,
            sum_ns: slots[BUCKETS],
        }
    }
}

/// The counts at one moment: per bucket (not cumulative), and the sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistogramSnapshot {
    buckets: [u64; BUCKETS],
    sum_ns: u64,
}

impl Default for HistogramSnapshot {
    fn default() -> Self {
        HistogramSnapshot {
            buckets: [0; BUCKETS],
            sum_ns: 0,
        }
    }
}

impl HistogramSnapshot {
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    pub fn sum_seconds(&self) -> f64 {
        self.sum_ns as f64 / 1e9
    }

    /// Adds another histogram's counts (several series shown as one).
    pub fn add(&mut self, other: &HistogramSnapshot) {
        for (mine, theirs) in self.buckets.iter_mut().zip(&other.buckets) {
            *mine += theirs;
        }
        self.sum_ns += other.sum_ns;
    }

    /// What was observed since `earlier` (a snapshot of the same histogram).
    pub fn since(&self, earlier: &HistogramSnapshot) -> HistogramSnapshot {
        let mut buckets = [0; BUCKETS];
        for (i, bucket) in buckets.iter_mut().enumerate() {
            *bucket = self.buckets[i].saturating_sub(earlier.buckets[i]);
        }
        HistogramSnapshot {
            buckets,
            sum_ns: self.sum_ns.saturating_sub(earlier.sum_ns),
        }
    }

    /// The cumulative count at each of `EXPOSED_BOUNDS` (`le`), then the total (`+Inf`).
    pub fn exposed_cumulative(&self) -> ([u64; EXPOSED_BOUNDS.len()], u64) {
        let mut cumulative = [0; EXPOSED_BOUNDS.len()];
        let mut running: u64 = self.buckets[..HIDDEN_BOUNDS].iter().sum();
        for (i, out) in cumulative.iter_mut().enumerate() {
            running += self.buckets[HIDDEN_BOUNDS + i];
            *out = running;
        }
        (cumulative, self.count())
    }

    /// The `q` quantile (0..=1) in seconds, interpolated linearly inside its bucket as
    /// Prometheus's `histogram_quantile` does; `None` with no observations. One in the
    /// overflow bucket reads as the last bound.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total as f64;
        let mut below = 0u64;
        for (i, count) in self.buckets.iter().enumerate() {
            let upto = below + count;
            if *count > 0 && upto as f64 >= rank {
                let Some(upper) = BOUNDS_NS.get(i) else {
                    return Some(BOUNDS_NS[BOUNDS_NS.len() - 1] as f64 / 1e9);
                };
                let lower = if i == 0 { 0 } else { BOUNDS_NS[i - 1] };
                let within = (rank - below as f64) / *count as f64;
                return Some((lower as f64 + (*upper - lower) as f64 * within) / 1e9);
            }
            below = upto;
        }
        Some(BOUNDS_NS[BOUNDS_NS.len() - 1] as f64 / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: f64) -> Duration {
        Duration::from_secs_f64(n / 1000.0)
    }

    #[test]
    fn the_exposed_bounds_are_fine_bounds() {
        for (i, bound) in EXPOSED_BOUNDS.iter().enumerate() {
            assert_eq!(
                BOUNDS_NS[HIDDEN_BOUNDS + i],
                (bound * 1e9).round() as u64,
                "{bound}"
            );
        }
    }

    #[test]
    fn observations_land_at_or_below_their_bound() {
        let h = Histogram::default();
        h.observe(ms(0.05)); // exactly 50 µs: the first bucket (`le`)
        h.observe(ms(0.051));
        h.observe(ms(3.0));
        h.observe(ms(5.0));
        h.observe(Duration::from_secs(60));
        let s = h.snapshot();
        assert_eq!(s.count(), 5);
        assert_eq!(s.buckets[0], 1);
        assert_eq!(s.buckets[1], 1);
        assert_eq!(s.buckets[6], 2, "3 ms and 5 ms are both <= 5 ms");
        assert_eq!(s.buckets[BUCKETS - 1], 1, "past 10 s: overflow");
        let (cumulative, total) = s.exposed_cumulative();
        assert_eq!(cumulative[0], 4, "le=0.005 counts everything up to 5 ms");
        assert_eq!(cumulative[13], 4, "le=10");
        assert_eq!(total, 5);
        assert!(
            (s.sum_seconds() - 60.008101).abs() < 1e-6,
            "{}",
            s.sum_seconds()
        );
    }

    #[test]
    fn quantiles_interpolate_inside_the_bucket() {
        let h = Histogram::default();
        for _ in 0..100 {
            h.observe(ms(0.2)); // bucket (100 µs, 250 µs]
        }
        let s = h.snapshot();
        let p50 = s.quantile(0.5).unwrap();
        assert!((0.0001..=0.00025).contains(&p50), "{p50}");
        assert!((p50 - 0.000175).abs() < 1e-9, "{p50}");
        assert_eq!(s.quantile(1.0), Some(0.00025));
        assert_eq!(HistogramSnapshot::default().quantile(0.5), None);
        for _ in 0..10 {
            h.observe(Duration::from_secs(20));
        }
        assert_eq!(
            h.snapshot().quantile(0.99),
            Some(10.0),
            "overflow reads as the last bound"
        );
    }

    #[test]
    fn a_window_is_the_difference_of_two_snapshots() {
        let h = Histogram::default();
        h.observe(ms(1.0));
        let before = h.snapshot();
        h.observe(ms(100.0));
        h.observe(ms(100.0));
        let window = h.snapshot().since(&before);
        assert_eq!(window.count(), 2);
        assert!((window.sum_seconds() - 0.2).abs() < 1e-9);
        let mut both = window;
        both.add(&before);
        assert_eq!(both, h.snapshot());
    }
}
