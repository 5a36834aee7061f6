//! The Prometheus text exposition format (0.0.4), written by hand: a family's `# HELP` and
//! `# TYPE` lines, then its samples, label values escaped. What `promtool check metrics`
//! reads; served as `text/plain; version=0.0.4`.

use std::fmt::Write;

use crate::histogram::{EXPOSED_BOUNDS, HistogramSnapshot};

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A scrape's text, family by family. Write each family's samples right after its
/// `family` call: the format wants a family's samples together.
#[derive(Debug, Default)]
pub struct Exposition {
    text: String,
}

pub type Labels<'a> = &'a [(&'a str, &'a str)];

impl Exposition {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {}", kind.as_str());
    }

    /// One sample of the current family.
    pub fn sample(&mut self, name: &str, labels: Labels<'_>, value: f64) {
        self.text.push_str(name);
        self.labels(labels, None);
        self.text.push(' ');
        push_value(&mut self.text, value);
        self.text.push('\n');
    }

    /// An integer sample (counts stay exact past 2^53).
    pub fn sample_u64(&mut self, name: &str, labels: Labels<'_>, value: u64) {
        self.text.push_str(name);
        self.labels(labels, None);
        let _ = writeln!(self.text, " {value}");
    }

    /// A family of one unlabelled counter.
    pub fn counter(&mut self, name: &str, help: &str, value: u64) {
        self.family(name, Kind::Counter, help);
        self.sample_u64(name, &[], value);
    }

    /// A family of one unlabelled gauge.
    pub fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.family(name, Kind::Gauge, help);
        self.sample(name, &[], value);
    }

    /// One series of the current histogram family: its `_bucket`s at OTel's bounds and
    /// `+Inf`, `_sum` (seconds) and `_count`.
    pub fn histogram(&mut self, name: &str, labels: Labels<'_>, snapshot: &HistogramSnapshot) {
        let (cumulative, total) = snapshot.exposed_cumulative();
        let mut le = String::new();
        for (bound, count) in EXPOSED_BOUNDS.iter().zip(cumulative) {
            le.clear();
            push_value(&mut le, *bound);
            self.bucket(name, labels, &le, count);
        }
        self.bucket(name, labels, "+Inf", total);
        self.text.push_str(name);
        self.text.push_str("_sum");
        self.labels(labels, None);
        self.text.push(' ');
        push_value(&mut self.text, snapshot.sum_seconds());
        self.text.push('\n');
        self.text.push_str(name);
        self.text.push_str("_count");
        self.labels(labels, None);
        let _ = writeln!(self.text, " {total}");
    }

    fn bucket(&mut self, name: &str, labels: Labels<'_>, le: &str, count: u64) {
        self.text.push_str(name);
        self.text.push_str("_bucket");
        self.labels(labels, Some(le));
        let _ = writeln!(self.text, " {count}");
    }

    fn labels(&mut self, labels: Labels<'_>, le: Option<&str>) {
        if labels.is_empty() && le.is_none() {
            return;
        }
        self.text.push('{');
        let mut first = true;
        for (name, value) in labels.iter().copied().chain(le.map(|le| ("le", le))) {
            if !first {
                self.text.push(',');
            }
            first = false;
            self.text.push_str(name);
            self.text.push_str("=\"");
            for c in value.chars() {
                match c {
                    '\\' => self.text.push_str("\\\\"),
                    '"' => self.text.push_str("\\\""),
                    '\n' => self.text.push_str("\\n"),
                    c => self.text.push(c),
                }
            }
            self.text.push('"');
        }
        self.text.push('}');
    }

    pub fn finish(self) -> String {
        self.text
    }
}

/// A float as Prometheus reads it: `+Inf`, `-Inf`, `NaN`, else Rust's shortest exact form.
fn push_value(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{value}");
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::histogram::Histogram;

    #[test]
    fn families_samples_and_escaped_labels() {
        let mut out = Exposition::new();
        out.family(
            "http_server_requests_total",
            Kind::Counter,
            "Requests.\nAll of them.",
        );
        out.sample_u64(
            "http_server_requests_total",
            &[("route", "/a/{b}"), ("odd", "a\"b\\c\nd")],
            7,
        );
        out.gauge("dmr_up", "Up.", 1.0);
        out.gauge("dmr_ratio", "A ratio.", 0.25);
        out.gauge("dmr_nothing", "Not a number.", f64::NAN);
        assert_eq!(
            out.finish(),
            "# HELP http_server_requests_total Requests.\\nAll of them.\n\
             # TYPE http_server_requests_total counter\n\
             http_server_requests_total{route=\"/a/{b}\",odd=\"a\\\"b\\\\c\\nd\"} 7\n\
             # HELP dmr_up Up.\n# TYPE dmr_up gauge\ndmr_up 1\n\
             # HELP dmr_ratio A ratio.\n# TYPE dmr_ratio gauge\ndmr_ratio 0.25\n\
             # HELP dmr_nothing Not a number.\n# TYPE dmr_nothing gauge\ndmr_nothing NaN\n"
        );
    }

    #[test]
    fn a_histogram_series_has_cumulative_buckets_sum_and_count() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(200));
        h.observe(Duration::from_millis(20));
        h.observe(Duration::from_secs(11));
        let mut out = Exposition::new();
        out.family("d_seconds", Kind::Histogram, "D.");
        out.histogram("d_seconds", &[("route", "/")], &h.snapshot());
        let text = out.finish();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[2], "d_seconds_bucket{route=\"/\",le=\"0.005\"} 1");
        assert_eq!(lines[3], "d_seconds_bucket{route=\"/\",le=\"0.01\"} 1");
        assert_eq!(lines[4], "d_seconds_bucket{route=\"/\",le=\"0.025\"} 2");
        assert_eq!(lines[15], "d_seconds_bucket{route=\"/\",le=\"10\"} 2");
        assert_eq!(lines[16], "d_seconds_bucket{route=\"/\",le=\"+Inf\"} 3");
        assert_eq!(lines[17], "d_seconds_sum{route=\"/\"} 11.0202");
        assert_eq!(lines[18], "d_seconds_count{route=\"/\"} 3");
    }
}
