//! Metrics cheap enough for every request on every core, and their Prometheus exposition.
//!
//! Counters and histograms are striped per thread (`striped.rs`): a request writes only its
//! own thread's cache lines, and a scrape sums the stripes. The crates that count (the
//! registry, the HTTP edge) keep them where they are counted; `/metrics` reads them out
//! through `Exposition`. No I/O, no dependencies.

mod exposition;
mod histogram;
mod striped;

pub use exposition::{CONTENT_TYPE, Exposition, Kind, Labels};
pub use histogram::{EXPOSED_BOUNDS, Histogram, HistogramSnapshot};
pub use striped::{StripedCounter, StripedCounters};
