//! Reads the models directory: every `*.json` file, in name order.

use std::path::Path;

use dmr_model::{ModelError, ModelSet};

#[derive(Debug, thiserror::Error)]
pub enum ModelFilesError {
    #[error("MODELS_DIR={dir}: {reason}")]
    Directory { dir: String, reason: String },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<ModelError>),
}

pub fn load(dir: &Path) -> Result<ModelSet, ModelFilesError> {
    let directory_error = |reason: String| ModelFilesError::Directory {
        dir: dir.display().to_string(),
        reason,
    };
    let entries = std::fs::read_dir(dir)
        .map_err(|e| directory_error(format!("cannot read the directory: {e}")))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| directory_error(e.to_string()))?.path();
        if path.extension().is_some_and(|ext| ext == "json") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    if paths.is_empty() {
        return Err(directory_error("no model files (*.json) found".to_owned()));
    }
    let mut sources = Vec::with_capacity(paths.len());
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| directory_error(format!("{}: {e}", path.display())))?;
        sources.push((path.display().to_string(), text));
    }
    ModelSet::from_sources(sources).map_err(ModelFilesError::Invalid)
}
