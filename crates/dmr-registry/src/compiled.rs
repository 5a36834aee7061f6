use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use bytes::Bytes;
use dmr_cache::Equivalent;
use dmr_model::ModelDef;
use dmr_model::{FieldType, IndexOrder, Schema};
use dmr_store::{CollectionSpec, EnsuredCollection, TenantId};

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

/// A `ModelKey` borrowed from the request's tenant and the current definition: an L1 hit is
/// looked up without building a key (no reference count touched, no allocation).
pub struct ModelKeyRef<'a> {
    pub tenant: &'a TenantId,
    pub def: &'a ModelDef,
}

impl Hash for ModelKeyRef<'_> {
    /// As `ModelKey` hashes (moka finds the entry by this hash).
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.tenant.hash(state);
        self.def.name.hash(state);
        self.def.fingerprint.hash(state);
    }
}

impl Equivalent<ModelKey> for ModelKeyRef<'_> {
    fn equivalent(&self, key: &ModelKey) -> bool {
        *self.tenant == key.tenant
            && self.def.name == key.model()
            && self.def.fingerprint == key.fingerprint()
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
    /// What the store is told about the collection on every operation; one per schema
    /// version, shared by every tenant's compiled model.
    pub spec: Arc<CollectionSpec>,
    pub ensured: EnsuredCollection,
    pub compiled_at: SystemTime,
    /// The invalidation generations its load started under.
    pub(crate) stamp: Stamp,
    pub(crate) open: Arc<OpenTenant>,
    /// The HTTP edge's encoded answer describing this model, made on its first use and
    /// kept with it, so that it can neither outlive nor disagree with the model (an L1
    /// hit then serves bytes instead of serialising a dozen fields).
    pub encoded_answer: OnceLock<Bytes>,
}

impl CompiledModel {
    pub fn name(&self) -> &str {
        &self.def.name
    }
}

/// Collection specs by schema fingerprint: every tenant's compiled model of one version
/// shares one (they are the larger part of a compiled model).
#[derive(Default)]
pub(crate) struct SpecCache(
    std::sync::Mutex<std::collections::HashMap<String, Arc<CollectionSpec>>>,
);

impl SpecCache {
    pub(crate) fn get(&self, def: &ModelDef) -> Arc<CollectionSpec> {
        let mut specs = self.0.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(
            specs
                .entry(def.fingerprint.clone())
                .or_insert_with(|| Arc::new(collection_spec(def))),
        )
    }
}

/// The store's view of a model's collection: its indexes, the paths that hold one scalar
/// per document (safe for an engine to compare directly), the text-indexed paths.
pub fn collection_spec(def: &ModelDef) -> CollectionSpec {
    let mut scalar_paths = Vec::new();
    scalar_leaves(&def.schema, "", &mut scalar_paths);
    let text_paths = def
        .indexes
        .iter()
        .flat_map(|i| i.keys.iter())
        .filter(|k| k.order == IndexOrder::Text)
        .map(|k| k.path.clone())
        .collect();
    CollectionSpec {
        name: def.collection.clone(),
        indexes: def.indexes.clone(),
        scalar_paths,
        text_paths,
        schema: def.schema.clone(),
    }
}

fn scalar_leaves(schema: &Schema, prefix: &str, out: &mut Vec<String>) {
    for (name, field) in &schema.fields {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match &field.ty {
            FieldType::String
            | FieldType::Number
            | FieldType::Boolean
            | FieldType::Date
            | FieldType::ObjectId => out.push(path),
            FieldType::Object(nested) => scalar_leaves(nested, &path, out),
            FieldType::Mixed | FieldType::Map(_) | FieldType::Array(_) | FieldType::SubDocs(_) => {}
        }
    }
}
