//! The normalised definition and its fingerprint.
//!
//! Normalising writes every field in object form with its options in one
//! fixed order, so key order inside field and option objects, whitespace and
//! shorthand (`"String"` vs `{"type": "String"}`) do not change the
//! fingerprint. Orders that mean something are kept: fields (document and
//! index order), index keys (compound order), virtuals, enum values.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::defaults::number_value;
use crate::field::{DefaultValue, FieldDef, FieldOptions, FieldType, Schema};
use crate::index;
use crate::model::{ModelDef, Strict};
use crate::virtuals;

/// Bumped if normalisation ever changes, so old and new fingerprints never collide.
const FORMAT: &str = "dmr-model/1";

pub(crate) fn compute(def: &ModelDef) -> String {
    let text = format!("{FORMAT}\n{}", source_json(def));
    Sha256::digest(text.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn source_json(def: &ModelDef) -> Value {
    let mut top = Map::new();
    top.insert("model".to_owned(), Value::from(def.name.clone()));
    top.insert("collection".to_owned(), Value::from(def.collection.clone()));
    let strict = match def.strict {
        Strict::Drop => Value::Bool(true),
        Strict::Off => Value::Bool(false),
        Strict::Throw => Value::from("throw"),
    };
    let mut options = Map::new();
    options.insert("timestamps".to_owned(), Value::Bool(def.timestamps));
    options.insert("strict".to_owned(), strict);
    top.insert("options".to_owned(), Value::Object(options));
    top.insert("schema".to_owned(), schema_json(&def.schema, false));
    // Only what the fields do not already imply: parsing again re-derives the rest.
    let implied: Vec<_> = index::field_level(&def.schema)
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    let declared = def
        .indexes
        .iter()
        .filter(|i| !implied.contains(i))
        .map(index::to_json)
        .collect();
    top.insert("indexes".to_owned(), Value::Array(declared));
    let virtuals = def
        .virtuals
        .iter()
        .map(|v| (v.name.clone(), virtuals::to_json(&v.expr)))
        .collect();
    top.insert("virtuals".to_owned(), Value::Object(virtuals));
    Value::Object(top)
}

fn schema_json(schema: &Schema, subdoc: bool) -> Value {
    let mut m = Map::new();
    if subdoc && !schema.id {
        m.insert("_id".to_owned(), Value::Bool(false));
    }
    for (name, field) in &schema.fields {
        m.insert(name.clone(), field_json(field));
    }
    Value::Object(m)
}

fn field_json(field: &FieldDef) -> Value {
    let mut m = Map::new();
    let ty = match &field.ty {
        FieldType::Object(s) => return schema_json(s, false),
        FieldType::Array(el) => Value::Array(vec![field_json(el)]),
        FieldType::SubDocs(s) => Value::Array(vec![schema_json(s, true)]),
        other => Value::from(other.name()),
    };
    m.insert("type".to_owned(), ty);
    if let FieldType::Map(of) = &field.ty {
        m.insert("of".to_owned(), field_json(of));
    }
    options_json(&field.opts, &mut m);
    Value::Object(m)
}

fn options_json(o: &FieldOptions, m: &mut Map<String, Value>) {
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    if o.required {
        put(
            "required",
            with_message(Value::Bool(true), o.required_message.as_deref()),
        );
    }
    if let Some(d) = &o.default {
        put("default", default_json(d));
    }
    if let Some(values) = &o.enum_values {
        let values = Value::Array(values.clone());
        put(
            "enum",
            match &o.enum_message {
                Some(msg) => {
                    let mut e = Map::new();
                    e.insert("values".to_owned(), values);
                    e.insert("message".to_owned(), Value::from(msg.clone()));
                    Value::Object(e)
                }
                None => values,
            },
        );
    }
    if let Some(x) = o.min {
        put(
            "min",
            with_message(number_value(x), o.min_message.as_deref()),
        );
    }
    if let Some(x) = o.max {
        put(
            "max",
            with_message(number_value(x), o.max_message.as_deref()),
        );
    }
    if let Some(n) = o.minlength {
        put(
            "minlength",
            with_message(Value::from(n), o.minlength_message.as_deref()),
        );
    }
    if let Some(n) = o.maxlength {
        put(
            "maxlength",
            with_message(Value::from(n), o.maxlength_message.as_deref()),
        );
    }
    if let Some(p) = &o.match_pattern {
        put(
            "match",
            with_message(Value::from(p.source()), o.match_message.as_deref()),
        );
    }
    for (k, on) in [
        ("lowercase", o.lowercase),
        ("uppercase", o.uppercase),
        ("trim", o.trim),
        ("unique", o.unique),
    ] {
        if on {
            put(k, Value::Bool(true));
        }
    }
    if let Some(order) = o.index {
        put("index", order.as_json());
    }
    if o.sparse {
        put("sparse", Value::Bool(true));
    }
    if let Some(secs) = o.expires_seconds {
        put("expires", Value::from(secs));
    }
}

fn with_message(v: Value, msg: Option<&str>) -> Value {
    match msg {
        Some(msg) => Value::Array(vec![v, Value::from(msg)]),
        None => v,
    }
}

fn default_json(d: &DefaultValue) -> Value {
    match d {
        DefaultValue::Literal(v) => v.clone(),
        DefaultValue::Now => Value::from("$now"),
        DefaultValue::Generate(g) => {
            let mut m = Map::new();
            m.insert("$generate".to_owned(), Value::from(g.template()));
            m.insert("uppercase".to_owned(), Value::Bool(g.uppercase()));
            Value::Object(m)
        }
    }
}
