//! Logs as the seed writes them: to stdout (readable in development, JSON in production)
//! and to `LOG_DIR/combined.log` (everything at LOG_LEVEL) and `LOG_DIR/error.log` (errors
//! only), both JSON lines.

use std::io::IsTerminal;

use anyhow::Context;
use tracing::level_filters::LevelFilter;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::Config;

/// Flushes the file writers when dropped: keep it alive for the life of the process.
pub struct LogGuards {
    _files: Vec<WorkerGuard>,
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

    let (combined, combined_guard) = tracing_appender::non_blocking(
        tracing_appender::rolling::never(&config.log_dir, "combined.log"),
    );
    let (errors, errors_guard) = tracing_appender::non_blocking(tracing_appender::rolling::never(
        &config.log_dir,
        "error.log",
    ));

    let stdout = if config.is_production() {
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_filter(filter())
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .compact()
            .with_ansi(std::io::stdout().is_terminal())
            .with_span_events(FmtSpan::NONE)
            .with_filter(filter())
            .boxed()
    };
    let combined = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_ansi(false)
        .with_writer(combined)
        .with_filter(filter());
    let errors = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_ansi(false)
        .with_writer(errors)
        .with_filter(LevelFilter::ERROR);

    tracing_subscriber::registry()
        .with(stdout)
        .with(combined)
        .with(errors)
        .try_init()
        .context("a logger is already installed")?;
    Ok(LogGuards {
        _files: vec![combined_guard, errors_guard],
    })
}
