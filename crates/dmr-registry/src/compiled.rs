use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::SystemTime;

use dmr_model::ModelDef;
use dmr_store::{EnsuredCollection, TenantId};

use crate::connections::OpenTenant;
use crate::invalidation::Stamp;

/// L1 key: (tenant, model name, schema fingerprint). The fingerprint is part of it, so a
/// new model version compiles lazily, tenant by tenant. Holding the definition itself
/// (not copies of its strings) keeps building a key free of allocation.
#[derive(Debug, Clone)]
pub struct ModelKey {
    pub tenant: TenantId,
    pub def: Arc<ModelDef>,
}

impl ModelKey {
    pub fn new(tenant: TenantId, def: Arc<ModelDef>) -> Self {
        Self { tenant, def }
    }

    pub fn model(&self) -> &str {
        &self.def.name
    }

    pub fn fingerprint(&self) -> &str {
        &self.def.fingerprint
    }
}

impl PartialEq for ModelKey {
    fn eq(&self, other: &Self) -> bool {
        self.tenant == other.tenant
            && self.model() == other.model()
            && self.fingerprint() == other.fingerprint()
    }
}

impl Eq for ModelKey {}

impl Hash for ModelKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.tenant.hash(state);
        self.model().hash(state);
        self.fingerprint().hash(state);
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
    /// The invalidation generations its load started under.
    pub(crate) stamp: Stamp,
    pub(crate) open: Arc<OpenTenant>,
}

impl CompiledModel {
    pub fn name(&self) -> &str {
        &self.def.name
    }
}
