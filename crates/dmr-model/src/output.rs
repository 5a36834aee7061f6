//! Documents on their way out: Mongoose's `toJSON({ virtuals: true })`.

use serde_json::{Map, Value};

use crate::field::{FieldType, Schema};
use crate::model::ModelDef;

impl ModelDef {
    /// Adds every virtual's value to a document for output, as Mongoose's
    /// `toJSON({ virtuals: true })` does: the declared virtuals, and the
    /// implicit `id` (the `_id` as a string, or null) on the document and on
    /// each sub-document that has an `_id` path, unless a field is called `id`.
    pub fn apply_virtuals(&self, doc: &mut Value) {
        let computed: Vec<(String, Value)> = self
            .virtuals
            .iter()
            .map(|v| (v.name.clone(), v.eval(doc)))
            .collect();
        let Value::Object(m) = doc else {
            return;
        };
        add_ids(&self.schema, m);
        for (name, value) in computed {
            m.insert(name, value);
        }
    }
}

fn add_ids(schema: &Schema, m: &mut Map<String, Value>) {
    for (name, def) in &schema.fields {
        match (&def.ty, m.get_mut(name)) {
            (FieldType::Object(s), Some(Value::Object(child))) => add_ids(s, child),
            (FieldType::SubDocs(s), Some(Value::Array(items))) => {
                for item in items {
                    if let Value::Object(child) = item {
                        add_ids(s, child);
                    }
                }
            }
            _ => {}
        }
    }
    if schema.id && schema.field("id").is_none() {
        let id = match m.get("_id") {
            Some(Value::String(s)) => Value::String(s.clone()),
            Some(Value::Object(o)) => o.get("$oid").cloned().unwrap_or(Value::Null),
            _ => Value::Null,
        };
        m.insert("id".to_owned(), id);
    }
}
