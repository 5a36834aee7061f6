use std::collections::HashMap;
use std::process::ExitCode;

use clap::Parser;

mod cli;
mod config;
mod fd_budget;
mod logging;
mod memory;
mod model_files;
mod models_command;
mod serve;
mod settings;
mod telemetry;

use cli::{Cli, Commands, ModelsCommand, ServeArgs};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use config::Config;
use telemetry::TraceSettings;

fn main() -> ExitCode {
    match Cli::parse().command {
        Commands::Serve(args) => serve(args),
        Commands::Models(ModelsCommand::Check { dir }) => models_command::check(dir),
        Commands::Models(ModelsCommand::Diff { old, new }) => models_command::diff(&old, &new),
    }
}

/// The configuration, and trace export's (the standard OTel variables, from the
/// environment over `.env`; `None`: off).
fn load_config(args: &ServeArgs) -> anyhow::Result<(Config, Option<TraceSettings>)> {
    let dotenv = config::read_dotenv(&args.env_file).map_err(anyhow::Error::msg)?;
    let environment: HashMap<String, String> = std::env::vars().collect();
    let vars = config::merge_sources(&dotenv, &environment, &args.overrides);
    let config = Config::from_vars(&vars)?;
    let lookup = |name: &str| {
        environment
            .get(name)
            .filter(|v| !v.trim().is_empty())
            .or_else(|| dotenv.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v))
            .cloned()
    };
    let traces = TraceSettings::from_lookup(lookup).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!(
            "invalid trace export configuration:\n  {}",
            lines.join("\n  ")
        )
    })?;
    Ok((config, traces))
}

fn serve(args: ServeArgs) -> ExitCode {
    let (config, traces) = match load_config(&args) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("dmr: {e:#}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("dmr: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Before the logger: the subscriber is built with the export's layer in it.
    let tracing_export = match traces
        .map(|settings| telemetry::start(&settings, runtime.handle().clone()))
        .transpose()
    {
        Ok(export) => export,
        Err(e) => {
            eprintln!("dmr: {e:#}");
            return ExitCode::from(2);
        }
    };
    let _guards = match logging::init(&config, tracing_export.as_ref()) {
        Ok(guards) => guards,
        Err(e) => {
            eprintln!("dmr: {e:#}");
            return ExitCode::from(2);
        }
    };
    match &tracing_export {
        Some(export) => tracing::info!(
            endpoint = %export.endpoint,
            protocol = export.protocol.as_str(),
            "traces exported by OTLP"
        ),
        None => tracing::info!("trace export off (OTEL_EXPORTER_OTLP_ENDPOINT is not set)"),
    }
    let result = runtime.block_on(serve::run(config));
    if let Some(export) = tracing_export {
        export.shutdown();
    }
    // Statements still blocked in SQLite after the drain deadline must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "dmr stopped");
            eprintln!("dmr: {e:#}");
            ExitCode::FAILURE
        }
    }
}
