//! All the models of a models directory, checked together.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::ctx::Ctx;
use crate::error::ModelError;
use crate::locate::{self, JPath};
use crate::model::ModelDef;
use crate::parse::parse_model;

/// Models by name, in name order.
#[derive(Debug, Clone, Default)]
pub struct ModelSet {
    models: BTreeMap<String, Arc<ModelDef>>,
}

impl ModelSet {
    /// Parses `(origin, text)` pairs, e.g. `("models/User.json", ...)`.
    ///
    /// Reports every problem at once: one error per file that does not parse,
    /// plus one per model or collection name that an earlier source already
    /// uses (compared case-insensitively, since SQLite table names and many
    /// file systems are case-insensitive), located in the later source.
    pub fn from_sources(sources: Vec<(String, String)>) -> Result<ModelSet, Vec<ModelError>> {
        let mut errors = Vec::new();
        let mut models = BTreeMap::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut collections: HashMap<String, usize> = HashMap::new();
        for (i, (origin, text)) in sources.iter().enumerate() {
            let def = match parse_model(text, origin) {
                Ok(def) => def,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            if let Some(&first) = names.get(&def.name.to_ascii_lowercase()) {
                errors.push(located(
                    origin,
                    text,
                    "model",
                    format!(
                        "duplicate model name \"{}\" (already defined in {})",
                        def.name, sources[first].0
                    ),
                ));
                continue;
            }
            if let Some(&first) = collections.get(&def.collection.to_ascii_lowercase()) {
                errors.push(located(
                    origin,
                    text,
                    "collection",
                    format!(
                        "model \"{}\" uses collection \"{}\", already used by {}",
                        def.name, def.collection, sources[first].0
                    ),
                ));
                continue;
            }
            names.insert(def.name.to_ascii_lowercase(), i);
            collections.insert(def.collection.to_ascii_lowercase(), i);
            models.insert(def.name.clone(), Arc::new(def));
        }
        if errors.is_empty() {
            Ok(ModelSet { models })
        } else {
            Err(errors)
        }
    }

    pub fn get(&self, name: &str) -> Option<&Arc<ModelDef>> {
        self.models.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.models.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.models.len()
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<ModelDef>> {
        self.models.values()
    }
}

/// An error at the value of a top-level key of a source that parsed, or at
/// `"model"` when the key is absent (a defaulted collection name).
fn located(origin: &str, text: &str, key: &str, reason: String) -> ModelError {
    let src = locate::strip_bom(text);
    let ctx = Ctx::new(origin, src);
    let mut path = JPath::root().key(key);
    if !locate::exists(ctx.tree(), &path) {
        path = JPath::root().key("model");
    }
    ctx.at(locate::value_offset(ctx.tree(), &path), reason)
}
