//! What counting a request costs when both cores count at once: one shared atomic (what
//! the `metrics` and `prometheus-client` crates' counters are) against this crate's
//! striped counter, and a striped histogram observation (bucket and sum).
//!
//! `cargo bench -p dmr-metrics --bench metrics`

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dmr_metrics::{Histogram, StripedCounter};

fn main() {
    divan::main();
}

#[divan::bench(threads = [1, 2])]
fn shared_atomic(bencher: divan::Bencher) {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    bencher.bench(|| COUNTER.fetch_add(1, Ordering::Relaxed));
}

#[divan::bench(threads = [1, 2])]
fn striped_counter(bencher: divan::Bencher) {
    static COUNTER: std::sync::LazyLock<StripedCounter> =
        std::sync::LazyLock::new(StripedCounter::default);
    bencher.bench(|| COUNTER.add(1));
}

#[divan::bench(threads = [1, 2])]
fn striped_histogram(bencher: divan::Bencher) {
    static HISTOGRAM: std::sync::LazyLock<Histogram> = std::sync::LazyLock::new(Histogram::default);
    bencher.bench(|| HISTOGRAM.observe(divan::black_box(Duration::from_micros(180))));
}
