//! Logs as the seed writes them: to stdout (readable in development, JSON in production)
//! and to `LOG_DIR/combined.log` (everything at LOG_LEVEL) and `LOG_DIR/error.log` (errors
//! only), both JSON lines (`format.rs`). One access line per request at info (target
//! `dmr::access`), as the seed's requestLogger writes.
//!
//! Every destination is written by a thread of its own in batches (`batch.rs`): a request
//! never waits on a write, a line costs its formatting and a copy, and a burst of lines
//! costs one system call. A destination that falls behind by megabytes drops lines rather
//! than slowing requests (the count is printed at shutdown).

mod batch;
mod format;

use std::fs::OpenOptions;
use std::io::IsTerminal;

use anyhow::Context;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::Config;
use crate::telemetry::Tracing;
use batch::{BatchGuard, BatchWriter};
use format::{HumanLine, JsonLine};

/// Writes what is buffered when dropped: keep it alive for the life of the process.
pub struct LogGuards {
    writers: Vec<(&'static str, BatchWriter, BatchGuard)>,
}

impl Drop for LogGuards {
    fn drop(&mut self) {
        for (name, writer, guard) in self.writers.drain(..) {
            drop(guard);
            let dropped = writer.dropped();
            if dropped > 0 {
                eprintln!("{name}: {dropped} log lines dropped (the writer fell behind)");
            }
        }
    }
}

/// `tracing`: trace export, when on; its layer filters for itself (`telemetry.rs`), so
/// what the log layers write does not change.
pub fn init(config: &Config, tracing: Option<&Tracing>) -> anyhow::Result<LogGuards> {
    std::fs::create_dir_all(&config.log_dir).with_context(|| {
        format!(
            "LOG_DIR={}: cannot create the log directory",
            config.log_dir.display()
        )
    })?;
    let level = config.log_level.as_filter();
    let filter = || EnvFilter::new(level);
    let file = |name: &str| {
        let path = config.log_dir.join(name);
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("LOG_DIR: cannot open {}", path.display()))
    };
    let spawn = |name: &'static str, destination| {
        BatchWriter::spawn(name, destination)
            .with_context(|| format!("cannot start the {name} log writer"))
    };
    let (stdout, stdout_guard) = spawn(
        "stdout",
        Box::new(std::io::stdout()) as Box<dyn std::io::Write + Send>,
    )?;
    let (combined, combined_guard) = spawn("combined.log", Box::new(file("combined.log")?))?;
    let (errors, errors_guard) = spawn("error.log", Box::new(file("error.log")?))?;

    let stdout_layer = if config.is_production() {
        tracing_subscriber::fmt::layer()
            .event_format(JsonLine)
            .with_writer(stdout.clone())
            .with_filter(filter())
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .event_format(HumanLine {
                ansi: std::io::stdout().is_terminal(),
            })
            .with_writer(stdout.clone())
            .with_filter(filter())
            .boxed()
    };
    let combined_layer = tracing_subscriber::fmt::layer()
        .event_format(JsonLine)
        .with_writer(combined.clone())
        .with_filter(filter());
    let errors_layer = tracing_subscriber::fmt::layer()
        .event_format(JsonLine)
        .with_writer(errors.clone())
        .with_filter(LevelFilter::ERROR);

    tracing_subscriber::registry()
        .with(stdout_layer)
        .with(combined_layer)
        .with(errors_layer)
        .with(tracing.map(Tracing::layer))
        .try_init()
        .context("a logger is already installed")?;
    Ok(LogGuards {
        writers: vec![
            ("stdout", stdout, stdout_guard),
            ("combined.log", combined, combined_guard),
            ("error.log", errors, errors_guard),
        ],
    })
}
