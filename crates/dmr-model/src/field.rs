//! The typed schema: what a model file's `"schema"` object means.

use serde_json::Value;

use crate::defaults::Generator;
use crate::index::IndexOrder;
use crate::js;
use crate::paths::{self, Target};
use crate::pattern::Pattern;

/// An ordered list of fields; order is the declaration order of the file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    pub fields: Vec<(String, FieldDef)>,
    /// Whether documents of this schema get their own `_id`: true for the
    /// model itself and for sub-documents unless declared with `"_id": false`.
    pub id: bool,
}

impl Schema {
    /// The field declared directly in this schema under `name`.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, f)| f)
    }

    /// The field at a dotted path, looking through nested objects, sub-document
    /// arrays and arrays (`"price.amount"`, `"items.productId"`). `None` for
    /// `_id`, for paths below a `Mixed` or `Map` value, and for unknown paths.
    pub fn lookup(&self, dotted: &str) -> Option<&FieldDef> {
        match paths::resolve(self, dotted) {
            Some(Target::Field(f)) => Some(f),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    pub ty: FieldType,
    pub opts: FieldOptions,
}

impl FieldDef {
    pub fn new(ty: FieldType) -> Self {
        FieldDef {
            ty,
            opts: FieldOptions::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    String,
    Number,
    Boolean,
    Date,
    ObjectId,
    Mixed,
    /// String keys to values of the inner definition (Mongoose `Map` with `of`).
    Map(Box<FieldDef>),
    /// An array of the element definition; the element carries the
    /// per-element options (`[{ "type": "String", "lowercase": true }]`).
    Array(Box<FieldDef>),
    /// A nested path: a plain object in the file, no `_id` of its own.
    Object(Schema),
    /// An array of sub-documents (`[{ ...fields }]`).
    SubDocs(Schema),
}

impl FieldType {
    /// The name a model file uses for this type ("Array" for both kinds of array,
    /// "Object" for nested paths).
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::String => "String",
            FieldType::Number => "Number",
            FieldType::Boolean => "Boolean",
            FieldType::Date => "Date",
            FieldType::ObjectId => "ObjectId",
            FieldType::Mixed => "Mixed",
            FieldType::Map(_) => "Map",
            FieldType::Array(_) | FieldType::SubDocs(_) => "Array",
            FieldType::Object(_) => "Object",
        }
    }
}

/// Mongoose's field options. `*_message` hold custom validation messages
/// given in Mongoose's `[value, "message"]` form.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldOptions {
    pub required: bool,
    pub required_message: Option<String>,
    pub default: Option<DefaultValue>,
    pub enum_values: Option<Vec<Value>>,
    pub enum_message: Option<String>,
    pub min: Option<f64>,
    pub min_message: Option<String>,
    pub max: Option<f64>,
    pub max_message: Option<String>,
    pub minlength: Option<u64>,
    pub minlength_message: Option<String>,
    pub maxlength: Option<u64>,
    pub maxlength_message: Option<String>,
    /// A regular expression the value is tested against (not anchored
    /// unless the pattern anchors itself, as in Mongoose), compiled when parsed.
    pub match_pattern: Option<Pattern>,
    pub match_message: Option<String>,
    pub lowercase: bool,
    pub uppercase: bool,
    pub trim: bool,
    pub unique: bool,
    /// As declared with `"index"`; `unique`, `sparse` and `expires` also
    /// create an (ascending) index when this is `None`.
    pub index: Option<IndexOrder>,
    pub sparse: bool,
    pub expires_seconds: Option<u64>,
}

impl FieldOptions {
    /// Mongoose's string setters: `trim`, then `lowercase` / `uppercase`.
    /// Casting applies them to every written value, defaults included.
    pub fn apply_setters(&self, s: &str) -> String {
        let s = if self.trim { js::trim(s) } else { s };
        if self.lowercase {
            s.to_lowercase()
        } else if self.uppercase {
            s.to_uppercase()
        } else {
            s.to_owned()
        }
    }

    /// Whether these options ask for an index on the field.
    pub fn declares_index(&self) -> bool {
        self.index.is_some() || self.unique || self.sparse || self.expires_seconds.is_some()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    /// Any JSON value, `null` included; already passed through the field's setters.
    Literal(Value),
    /// `"$now"` on a Date: the time of the write (Mongoose's `Date.now`).
    Now,
    /// `{"$generate": TEMPLATE}` on a String.
    Generate(Generator),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setters() {
        let o = FieldOptions {
            trim: true,
            lowercase: true,
            ..FieldOptions::default()
        };
        assert_eq!(o.apply_setters("  A@B.Com "), "a@b.com");
        let o = FieldOptions {
            uppercase: true,
            ..FieldOptions::default()
        };
        assert_eq!(o.apply_setters(" usd"), " USD");
    }
}
