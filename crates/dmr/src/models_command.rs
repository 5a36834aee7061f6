//! `dmr models check` and `dmr models diff`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dmr_model::ModelSet;

use crate::model_files;

/// Exit code of `models diff` when at least one change is breaking.
const BREAKING: u8 = 3;

pub fn check(dir: Option<PathBuf>) -> ExitCode {
    let dir = dir
        .or_else(|| std::env::var_os("MODELS_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("./models"));
    match model_files::load(&dir) {
        Ok(models) => {
            for model in models.iter() {
                println!(
                    "ok  {} (collection {}, {} indexes, fingerprint {})",
                    model.name,
                    model.collection,
                    model.indexes.len(),
                    model.fingerprint
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// A file is one model; a directory is every model file in it.
fn load(path: &Path) -> Result<ModelSet, model_files::ModelFilesError> {
    if path.is_dir() {
        model_files::load(path)
    } else {
        model_files::load_files(&[path.to_path_buf()])
    }
}

pub fn diff(old: &Path, new: &Path) -> ExitCode {
    let (old, new) = match (load(old), load(new)) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let names: BTreeSet<&str> = old.names().chain(new.names()).collect();
    let mut breaking = 0;
    for name in names {
        match (old.get(name), new.get(name)) {
            (Some(a), Some(b)) if a.fingerprint == b.fingerprint => println!("{name}: unchanged"),
            (Some(a), Some(b)) => {
                println!("{name}: {} -> {}", a.fingerprint, b.fingerprint);
                for change in dmr_model::diff(a, b) {
                    breaking += usize::from(change.breaking);
                    println!("  {change}");
                }
            }
            (None, Some(_)) => println!("{name}: added"),
            (Some(_), None) => println!("{name}: removed (its documents are no longer served)"),
            (None, None) => unreachable!("name comes from one of the sets"),
        }
    }
    if breaking > 0 {
        println!("{breaking} breaking change(s)");
        ExitCode::from(BREAKING)
    } else {
        println!("no breaking change");
        ExitCode::SUCCESS
    }
}
