use std::sync::Arc;
use std::time::SystemTime;

use dmr_model::ModelDef;
use dmr_store::{EnsuredCollection, TenantId};

use crate::connections::OpenTenant;

/// L1 key. The schema fingerprint is part of it, so a new model version compiles lazily,
/// tenant by tenant, while entries of the old version age out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelKey {
    pub tenant: TenantId,
    pub model: Arc<str>,
    pub fingerprint: Arc<str>,
}

impl ModelKey {
    pub fn new(tenant: TenantId, def: &ModelDef) -> Self {
        Self {
            tenant,
            model: Arc::from(def.name.as_str()),
            fingerprint: Arc::from(def.fingerprint.as_str()),
        }
    }
}

/// A model ready for use by one tenant: the schema version it was built from, where its
/// documents live, which indexes are known to exist, and the live store handle.
#[derive(Debug)]
pub struct CompiledModel {
    pub tenant: TenantId,
    pub def: Arc<ModelDef>,
    pub database_name: String,
    pub collection: String,
    pub ensured: EnsuredCollection,
    pub compiled_at: SystemTime,
    pub(crate) open: Arc<OpenTenant>,
}

impl CompiledModel {
    pub fn name(&self) -> &str {
        &self.def.name
    }
}
