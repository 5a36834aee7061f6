//! Reads the models directory: every `*.json` file, in name order.

use std::path::{Path, PathBuf};

use dmr_model::{ModelError, ModelSet};

#[derive(Debug, thiserror::Error)]
pub enum ModelFilesError {
    #[error("MODELS_DIR={dir}: {reason}")]
    Directory { dir: String, reason: String },
    #[error("{file}: {reason}")]
    File { file: String, reason: String },
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
    load_files(&paths)
}

/// Parses the given model files as one set.
pub fn load_files(paths: &[PathBuf]) -> Result<ModelSet, ModelFilesError> {
    let mut sources = Vec::with_capacity(paths.len());
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|e| ModelFilesError::File {
            file: path.display().to_string(),
            reason: e.to_string(),
        })?;
        sources.push((path.display().to_string(), text));
    }
    ModelSet::from_sources(sources).map_err(ModelFilesError::Invalid)
}

/// The registry's model source: `MODELS_DIR`, read again on every reload.
pub struct ModelsDir(pub PathBuf);

#[async_trait::async_trait]
impl dmr_registry::ModelSource for ModelsDir {
    async fn load(&self) -> Result<ModelSet, Vec<String>> {
        let dir = self.0.clone();
        let loaded = tokio::task::spawn_blocking(move || load(&dir))
            .await
            .map_err(|e| vec![format!("reading the model files failed: {e}")])?;
        loaded.map_err(|e| match e {
            ModelFilesError::Invalid(errors) => errors.iter().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        })
    }
}
