//! Command line. `serve` gets one flag per setting, generated from the settings table.

use std::path::PathBuf;

use clap::{Arg, ArgMatches, Args, Command, FromArgMatches, Parser, Subcommand};

use crate::settings::SETTINGS;

#[derive(Debug, Parser)]
#[command(
    name = "dmr",
    version,
    about = "Distributed Model Registry: multi-tenant models, cached, on SQLite or MongoDB"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Commands,
}

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Run the HTTP server.
    Serve(ServeArgs),
    /// Work with model files.
    #[command(subcommand)]
    Models(ModelsCommand),
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Validate the model files in DIR (default: MODELS_DIR or ./models); non-zero exit on any error.
    Check { dir: Option<PathBuf> },
    /// Compare two versions of model files (two files, or two directories matched by model
    /// name). Exit 0: no breaking change; 3: breaking changes; 1: an input is invalid.
    Diff { old: PathBuf, new: PathBuf },
}

/// `dmr serve` flags: `--env-file` plus one flag per setting (`--port` for PORT, ...).
#[derive(Debug, Clone, Default)]
pub struct ServeArgs {
    pub env_file: PathBuf,
    pub overrides: Vec<(&'static str, String)>,
}

impl FromArgMatches for ServeArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let env_file = matches
            .get_one::<PathBuf>("env_file")
            .cloned()
            .unwrap_or_else(|| PathBuf::from(".env"));
        let overrides = SETTINGS
            .iter()
            .filter_map(|s| {
                matches
                    .get_one::<String>(s.name)
                    .map(|v| (s.name, v.clone()))
            })
            .collect();
        Ok(Self {
            env_file,
            overrides,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for ServeArgs {
    fn augment_args(cmd: Command) -> Command {
        let cmd = cmd.arg(
            Arg::new("env_file")
                .long("env-file")
                .value_name("PATH")
                .value_parser(clap::value_parser!(PathBuf))
                .help("The .env file to read [default: .env; a missing file is fine]"),
        );
        SETTINGS.iter().fold(cmd, |cmd, s| {
            let default = s
                .default
                .map(|d| format!(" [default: {d}]"))
                .unwrap_or_default();
            cmd.arg(
                Arg::new(s.name)
                    .long(s.flag)
                    .value_name(s.name)
                    .help(format!("{}{default} (env {})", s.help, s.name)),
            )
        })
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}
