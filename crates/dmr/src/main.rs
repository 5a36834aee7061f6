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

use cli::{Cli, Commands, ModelsCommand, ServeArgs};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use config::Config;

fn main() -> ExitCode {
    match Cli::parse().command {
        Commands::Serve(args) => serve(args),
        Commands::Models(ModelsCommand::Check { dir }) => models_command::check(dir),
        Commands::Models(ModelsCommand::Diff { old, new }) => models_command::diff(&old, &new),
    }
}

fn load_config(args: &ServeArgs) -> anyhow::Result<Config> {
    let dotenv = config::read_dotenv(&args.env_file).map_err(anyhow::Error::msg)?;
    let environment: HashMap<String, String> = std::env::vars().collect();
    let vars = config::merge_sources(&dotenv, &environment, &args.overrides);
    Ok(Config::from_vars(&vars)?)
}

fn serve(args: ServeArgs) -> ExitCode {
    let config = match load_config(&args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("dmr: {e:#}");
            return ExitCode::from(2);
        }
    };
    let _guards = match logging::init(&config) {
        Ok(guards) => guards,
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
    let result = runtime.block_on(serve::run(config));
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
