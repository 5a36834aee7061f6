//! The metrics docs/metrics.md lists: the contract `/metrics` keeps and the files under
//! `deploy/` are written against.

use std::collections::BTreeMap;

use super::promtool::repo_file;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Series Prometheus makes itself for each target, which a query may read too.
pub const PROMETHEUS_OWN: [&str; 1] = ["up"];

/// Every metric of docs/metrics.md's tables (rows `| `name` | type | ...`), by name.
pub fn documented() -> BTreeMap<String, Kind> {
    let path = repo_file("docs/metrics.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut metrics = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = cells[1].trim_matches('`');
        let kind = match cells[2] {
            "counter" => Kind::Counter,
            "gauge" => Kind::Gauge,
            "histogram" => Kind::Histogram,
            other => panic!(
                "docs/metrics.md: {name} has type {other:?}; expected counter, gauge or histogram"
            ),
        };
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "docs/metrics.md: {name:?} is not a metric name"
        );
        assert!(
            metrics.insert(name.to_owned(), kind).is_none(),
            "docs/metrics.md lists {name} twice"
        );
    }
    assert!(
        !metrics.is_empty(),
        "no metric rows found in {}",
        path.display()
    );
    metrics
}

/// Whether a query may read the series `name`: a documented metric, one of a documented
/// histogram's `_bucket`/`_sum`/`_count` series, or Prometheus' own.
pub fn readable(documented: &BTreeMap<String, Kind>, name: &str) -> bool {
    if PROMETHEUS_OWN.contains(&name) || documented.contains_key(name) {
        return true;
    }
    ["_bucket", "_sum", "_count"].iter().any(|suffix| {
        name.strip_suffix(suffix)
            .is_some_and(|base| documented.get(base) == Some(&Kind::Histogram))
    })
}
