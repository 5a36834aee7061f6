//! Logs as the seed writes them: to stdout (readable in development, JSON in production)
//! and to `LOG_DIR/combined.log` (everything at LOG_LEVEL) and `LOG_DIR/error.log` (errors
//! only), both JSON lines (`format.rs`). One access line per request at info (target
//! `dmr::access`), as the seed's requestLogger writes.
//!
//! Every destination is written by a thread of its own (`tracing_appender::non_blocking`)
//! through a buffer flushed after each batch, so a request never waits on a write and the
//! lines of a burst cost one system call, stdout included. When a writer falls behind by
//! 128,000 lines, lines are dropped rather than requests slowed (the count is logged at
//! shutdown).

mod format;

use std::io::{BufWriter, IsTerminal, Write};

use anyhow::Context;
use tracing::level_filters::LevelFilter;
use tracing_appender::non_blocking::{NonBlocking, WorkerGuard};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::Config;
use format::{HumanLine, JsonLine};

/// Bytes a writer gathers before a system call (or at the end of a batch).
const BUFFER: usize = 64 * 1024;

/// Flushes the writers when dropped: keep it alive for the life of the process.
pub struct LogGuards {
    writers: Vec<(&'static str, NonBlocking, WorkerGuard)>,
}

impl Drop for LogGuards {
    fn drop(&mut self) {
        for (name, writer, _) in &self.writers {
            let dropped = writer.error_counter().dropped_lines();
            if dropped > 0 {
                eprintln!("{name}: {dropped} log lines dropped (the writer fell behind)");
            }
        }
    }
}

fn non_blocking<W: Write + Send + 'static>(writer: W) -> (NonBlocking, WorkerGuard) {
    tracing_appender::non_blocking(BufWriter::with_capacity(BUFFER, writer))
}

pub fn init(config: &Config) -> anyhow::Result<LogGuards> {
    std::fs::create_dir_all(&config.log_dir).with_context(|| {
        format!(
            "LOG_DIR={}: cannot create the log directory",
            config.log_dir.display()
        )
    })?;
    let level = config.log_level.as_filter();
    let filter = || EnvFilter::new(level);

    let (stdout, stdout_guard) = non_blocking(std::io::stdout());
    let (combined, combined_guard) = non_blocking(tracing_appender::rolling::never(
        &config.log_dir,
        "combined.log",
    ));
    let (errors, errors_guard) = non_blocking(tracing_appender::rolling::never(
        &config.log_dir,
        "error.log",
    ));

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
