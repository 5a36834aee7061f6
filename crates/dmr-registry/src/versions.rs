//! Model versions: reloading the model files swaps the model set; a changed model gets a
//! new fingerprint, recorded in the control plane, and since the fingerprint is part of the
//! L1 key, each tenant recompiles it lazily on its next request.

use std::sync::Arc;

use async_trait::async_trait;
use dmr_cache::Invalidation;
use dmr_model::ModelSet;
use serde::Serialize;

use crate::error::RegistryError;
use crate::registry::Registry;

/// Where model definitions come from (the binary reads `MODELS_DIR`). Errors are one
/// `file:line:column: reason` line each.
#[async_trait]
pub trait ModelSource: Send + Sync + 'static {
    async fn load(&self) -> Result<ModelSet, Vec<String>>;
}

/// What a reload changed, model by model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReloadReport {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<VersionChange>,
    pub unchanged: Vec<String>,
}

/// A model whose fingerprint changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VersionChange {
    pub model: String,
    pub from: String,
    pub to: String,
}

impl Registry {
    /// Reads the model source again and puts the result in service, then asks every other
    /// instance to do the same. Invalid files change nothing. Concurrent reloads run one
    /// after the other.
    pub async fn reload(&self) -> Result<ReloadReport, RegistryError> {
        let report = self.reload_quietly().await?;
        self.publish(Invalidation::Models).await;
        Ok(report)
    }

    /// `reload` without telling the other instances (what a backplane message triggers).
    pub(crate) async fn reload_quietly(&self) -> Result<ReloadReport, RegistryError> {
        let source = self.inner.model_source.as_ref().ok_or_else(|| {
            RegistryError::ModelFiles(vec![
                "this registry has no model source to reload from".to_owned(),
            ])
        })?;
        let _one_at_a_time = self.inner.reloading.lock().await;
        let models = source.load().await.map_err(RegistryError::ModelFiles)?;
        self.replace_models(models).await
    }

    /// Puts `models` in service: records their versions first (if the control plane is
    /// down, the old set keeps serving), swaps the set, drops cached compiles of versions
    /// no longer current.
    pub async fn replace_models(&self, models: ModelSet) -> Result<ReloadReport, RegistryError> {
        for def in models.iter() {
            self.inner
                .backend
                .record_schema_version(&def.name, &def.fingerprint, &def.source_json())
                .await?;
        }
        let old = self.inner.models.load_full();
        let mut report = ReloadReport::default();
        for def in models.iter() {
            match old.get(&def.name) {
                None => report.added.push(def.name.clone()),
                Some(previous) if previous.fingerprint == def.fingerprint => {
                    report.unchanged.push(def.name.clone())
                }
                Some(previous) => report.changed.push(VersionChange {
                    model: def.name.clone(),
                    from: previous.fingerprint.clone(),
                    to: def.fingerprint.clone(),
                }),
            }
        }
        report.removed = old
            .names()
            .filter(|name| models.get(name).is_none())
            .map(str::to_owned)
            .collect();

        let current = Arc::new(models);
        self.inner.models.store(Arc::clone(&current));
        // Entries of old versions would never be hit again; free them now.
        self.inner.l1.invalidate_if(move |key, _| {
            current
                .get(key.model())
                .is_none_or(|def| def.fingerprint != key.fingerprint())
        });
        for change in &report.changed {
            tracing::info!(model = %change.model, from = %change.from, to = %change.to, "model version changed; tenants recompile on next use");
        }
        tracing::info!(
            added = report.added.len(),
            removed = report.removed.len(),
            changed = report.changed.len(),
            unchanged = report.unchanged.len(),
            "models reloaded"
        );
        Ok(report)
    }
}
