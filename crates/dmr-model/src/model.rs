//! The parsed model definition.

use serde_json::Value;

use crate::error::ModelError;
use crate::field::Schema;
use crate::fingerprint;
use crate::index::IndexDef;
use crate::virtuals::VirtualDef;

/// What happens to fields a document has but the schema does not declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strict {
    /// Mongoose `strict: true` (its default): unknown fields are dropped.
    #[default]
    Drop,
    /// `strict: "throw"`: unknown fields are an error.
    Throw,
    /// `strict: false`: unknown fields are stored as given.
    Off,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelDef {
    pub name: String,
    pub collection: String,
    /// When true, `schema` ends with `createdAt` and `updatedAt` Date fields.
    pub timestamps: bool,
    pub strict: Strict,
    pub schema: Schema,
    /// Every index: field-level ones in field order, then the `"indexes"`
    /// list, duplicates removed; names as MongoDB would give them.
    pub indexes: Vec<IndexDef>,
    pub virtuals: Vec<VirtualDef>,
    /// 16 hex characters identifying the normalised definition.
    pub fingerprint: String,
}

impl ModelDef {
    /// The normalised definition: a valid model file in canonical form
    /// (every field in object form, options in a fixed order, defaults already
    /// applied). Parsing it again gives an equal `ModelDef`, same fingerprint.
    pub fn source_json(&self) -> Value {
        fingerprint::source_json(self)
    }

    /// Parses a value produced by [`ModelDef::source_json`] (e.g. read back
    /// from a schema-version table).
    pub fn from_source_json(value: &Value, origin: &str) -> Result<ModelDef, ModelError> {
        crate::parse_model(&value.to_string(), origin)
    }

    /// The virtual named `name`.
    pub fn virtual_def(&self, name: &str) -> Option<&VirtualDef> {
        self.virtuals.iter().find(|v| v.name == name)
    }
}
