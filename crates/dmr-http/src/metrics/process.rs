//! The process's own figures, read from `/proc/self` at scrape time (Linux; elsewhere they
//! are left out rather than reported as zero).

use std::time::{SystemTime, UNIX_EPOCH};

use dmr_metrics::Exposition;

use crate::state::ServiceInfo;

pub fn render(out: &mut Exposition, info: &ServiceInfo) {
    if let Some(rss) = resident_bytes() {
        out.gauge(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            rss as f64,
        );
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        out.gauge(
            "process_open_fds",
            "Number of open file descriptors.",
            fds.count() as f64,
        );
    }
    if let Some(max) = max_fds() {
        out.gauge(
            "process_max_fds",
            "Maximum number of open file descriptors (the soft limit).",
            max as f64,
        );
    }
    let uptime = info.started.elapsed();
    let start = SystemTime::now()
        .checked_sub(uptime)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok());
    if let Some(start) = start {
        out.gauge(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch, in seconds.",
            start.as_secs_f64().floor(),
        );
    }
    out.gauge(
        "dmr_uptime_seconds",
        "Seconds since the process started.",
        (uptime.as_secs_f64() * 1000.0).round() / 1000.0,
    );
    out.family(
        "dmr_build_info",
        dmr_metrics::Kind::Gauge,
        "The running build: version and git commit (always 1).",
    );
    out.sample(
        "dmr_build_info",
        &[
            ("version", env!("CARGO_PKG_VERSION")),
            ("commit", info.commit),
        ],
        1.0,
    );
}

/// `VmRSS` of `/proc/self/status`.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The soft `Max open files` of `/proc/self/limits`.
fn max_fds() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}
