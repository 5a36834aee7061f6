//! Indexes: derived from field options, declared in `"indexes"`, merged the
//! way Mongoose collects them, and named the way MongoDB names them.

use serde_json::{Map, Value};

use crate::ctx::Ctx;
use crate::defaults::describe;
use crate::error::ModelError;
use crate::field::{FieldDef, FieldType, Schema};
use crate::locate::JPath;
use crate::paths::{self, Target};
use crate::suggest::hint;

type Result<T> = std::result::Result<T, ModelError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexOrder {
    Asc,
    Desc,
    Text,
}

impl IndexOrder {
    /// The value MongoDB uses in a key specification: `1`, `-1` or `"text"`.
    pub fn as_json(self) -> Value {
        match self {
            IndexOrder::Asc => Value::from(1),
            IndexOrder::Desc => Value::from(-1),
            IndexOrder::Text => Value::from("text"),
        }
    }

    fn name_part(self) -> &'static str {
        match self {
            IndexOrder::Asc => "1",
            IndexOrder::Desc => "-1",
            IndexOrder::Text => "text",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IndexKey {
    /// Dotted document path.
    pub path: String,
    pub order: IndexOrder,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IndexDef {
    pub name: String,
    pub keys: Vec<IndexKey>,
    pub unique: bool,
    pub sparse: bool,
    pub expire_after_seconds: Option<u64>,
}

impl IndexDef {
    /// MongoDB's generated name: `path_dir` pairs joined with `_`
    /// (`email_1_isActive_1`, `createdAt_-1`, `name_text`).
    pub fn default_name(keys: &[IndexKey]) -> String {
        keys.iter()
            .map(|k| format!("{}_{}", k.path, k.order.name_part()))
            .collect::<Vec<_>>()
            .join("_")
    }

    pub fn is_text(&self) -> bool {
        self.keys.iter().any(|k| k.order == IndexOrder::Text)
    }

    /// The key specification as MongoDB takes it: `{"email": 1, "isActive": 1}`.
    pub fn key_spec(&self) -> Value {
        Value::Object(
            self.keys
                .iter()
                .map(|k| (k.path.clone(), k.order.as_json()))
                .collect(),
        )
    }
}

/// Indexes asked for by field options, in field order (nested objects and
/// sub-documents in place), as Mongoose's `schema.indexes()` lists them.
/// A field with both `unique` and `index` gets one unique index.
pub(crate) fn field_level(schema: &Schema) -> Vec<(IndexDef, JPath)> {
    let mut out = Vec::new();
    collect(schema, "", &JPath::root().key("schema"), &mut out);
    out
}

fn collect(schema: &Schema, prefix: &str, at: &JPath, out: &mut Vec<(IndexDef, JPath)>) {
    for (name, field) in &schema.fields {
        collect_field(field, &format!("{prefix}{name}"), &at.key(name), out);
    }
}

// `at` is only for locating errors; below the first level it may stop short
// of the exact JSON path, and the locator then points at the nearest ancestor.
fn collect_field(field: &FieldDef, path: &str, at: &JPath, out: &mut Vec<(IndexDef, JPath)>) {
    match &field.ty {
        FieldType::Object(s) | FieldType::SubDocs(s) => collect(s, &format!("{path}."), at, out),
        FieldType::Array(el) if !field.opts.declares_index() => collect_field(el, path, at, out),
        _ if field.opts.declares_index() => {
            let o = &field.opts;
            let keys = vec![IndexKey {
                path: path.to_owned(),
                order: o.index.unwrap_or(IndexOrder::Asc),
            }];
            let index = IndexDef {
                name: IndexDef::default_name(&keys),
                keys,
                unique: o.unique,
                sparse: o.sparse,
                expire_after_seconds: o.expires_seconds,
            };
            out.push((index, at.clone()));
        }
        _ => {}
    }
}

const INDEX_KEYS: [&str; 2] = ["fields", "options"];
const INDEX_OPTIONS: [&str; 5] = [
    "unique",
    "sparse",
    "name",
    "expireAfterSeconds",
    "background",
];

/// The `"indexes"` list: `[{ "fields": {path: 1|-1|"text"}, "options": {...} }]`.
pub(crate) fn declared(
    ctx: &Ctx,
    v: &Value,
    path: &JPath,
    schema: &Schema,
) -> Result<Vec<(IndexDef, JPath)>> {
    let Value::Array(items) = v else {
        return Err(ctx.value_err(
            path,
            format!(
                "must be an array of {{ \"fields\": {{...}}, \"options\": {{...}} }}, not {}",
                describe(v)
            ),
        ));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let ip = path.index(i);
        let Value::Object(m) = item else {
            return Err(ctx.value_err(
                &ip,
                "an index is an object: { \"fields\": { \"path\": 1 }, \"options\": { ... } }",
            ));
        };
        for k in m.keys() {
            if !INDEX_KEYS.contains(&k.as_str()) {
                return Err(ctx.key_err(
                    &ip.key(k),
                    format!("unknown key \"{k}\"{}", hint(k, INDEX_KEYS)),
                ));
            }
        }
        let Some(fields) = m.get("fields") else {
            return Err(ctx.value_err(
                &ip,
                "missing \"fields\", e.g. { \"fields\": { \"email\": 1 } }",
            ));
        };
        let keys = index_keys(ctx, fields, &ip.key("fields"), schema)?;
        let index = match m.get("options") {
            None => IndexDef {
                name: IndexDef::default_name(&keys),
                keys,
                unique: false,
                sparse: false,
                expire_after_seconds: None,
            },
            Some(o) => with_options(ctx, o, &ip.key("options"), keys, schema)?,
        };
        out.push((index, ip));
    }
    Ok(out)
}

fn index_keys(ctx: &Ctx, v: &Value, path: &JPath, schema: &Schema) -> Result<Vec<IndexKey>> {
    let Value::Object(m) = v else {
        return Err(ctx.value_err(
            path,
            "must be an object such as { \"email\": 1, \"createdAt\": -1 }",
        ));
    };
    if m.is_empty() {
        return Err(ctx.value_err(path, "an index needs at least one field"));
    }
    let mut keys = Vec::new();
    for (p, dir) in m {
        let kp = path.key(p);
        if paths::resolve(schema, p).is_none() {
            let known = paths::all_paths(schema);
            return Err(ctx.key_err(
                &kp,
                format!(
                    "path \"{p}\" is not in the schema{}",
                    hint(p, known.iter().map(String::as_str))
                ),
            ));
        }
        let order = match dir {
            Value::Number(n) if n.as_f64() == Some(1.0) => IndexOrder::Asc,
            Value::Number(n) if n.as_f64() == Some(-1.0) => IndexOrder::Desc,
            Value::String(s) if s == "text" => IndexOrder::Text,
            _ => return Err(ctx.value_err(&kp, "the direction must be 1, -1 or \"text\"")),
        };
        keys.push(IndexKey {
            path: p.clone(),
            order,
        });
    }
    Ok(keys)
}

fn with_options(
    ctx: &Ctx,
    v: &Value,
    path: &JPath,
    keys: Vec<IndexKey>,
    schema: &Schema,
) -> Result<IndexDef> {
    let Value::Object(m) = v else {
        return Err(ctx.value_err(path, "must be an object such as { \"unique\": true }"));
    };
    let mut index = IndexDef {
        name: IndexDef::default_name(&keys),
        keys,
        unique: false,
        sparse: false,
        expire_after_seconds: None,
    };
    for (k, v) in m {
        let kp = path.key(k);
        match (k.as_str(), v) {
            ("unique", Value::Bool(b)) => index.unique = *b,
            ("sparse", Value::Bool(b)) => index.sparse = *b,
            // Ignored by MongoDB since 4.2; accepted so ported options need no edit.
            ("background", Value::Bool(_)) => {}
            ("unique" | "sparse" | "background", _) => {
                return Err(ctx.value_err(&kp, "must be true or false"));
            }
            ("name", Value::String(s)) if !s.is_empty() => index.name = s.clone(),
            ("name", _) => return Err(ctx.value_err(&kp, "must be a non-empty string")),
            ("expireAfterSeconds", _) => {
                let secs = v
                    .as_u64()
                    .ok_or_else(|| ctx.value_err(&kp, "must be a whole number of seconds"))?;
                check_ttl(ctx, &kp, &index.keys, schema)?;
                index.expire_after_seconds = Some(secs);
            }
            _ => {
                return Err(ctx.key_err(
                    &kp,
                    format!("unknown index option \"{k}\"{}", hint(k, INDEX_OPTIONS)),
                ));
            }
        }
    }
    Ok(index)
}

/// MongoDB only expires documents through a single-field index on a date.
fn check_ttl(ctx: &Ctx, at: &JPath, keys: &[IndexKey], schema: &Schema) -> Result<()> {
    let [key] = keys else {
        return Err(ctx.value_err(
            at,
            "a TTL index (expireAfterSeconds) must have exactly one field",
        ));
    };
    let is_date = |f: &FieldDef| match &f.ty {
        FieldType::Date | FieldType::Mixed => true,
        FieldType::Array(el) => matches!(el.ty, FieldType::Date | FieldType::Mixed),
        _ => false,
    };
    match paths::resolve(schema, &key.path) {
        Some(Target::Field(f)) if !is_date(f) => Err(ctx.value_err(
            at,
            format!(
                "expireAfterSeconds needs a Date field, and \"{}\" is {}",
                key.path,
                f.ty.name()
            ),
        )),
        Some(Target::Id) => Err(ctx.value_err(at, "a TTL index cannot be on _id")),
        _ => Ok(()),
    }
}

/// Field-level indexes, then declared ones; an identical key specification
/// is kept once, a conflicting one is an error, and so is a second text
/// index (MongoDB allows one per collection, and rejects the second at
/// creation time, which is too late).
pub(crate) fn merge(
    ctx: &Ctx,
    field: Vec<(IndexDef, JPath)>,
    declared: Vec<(IndexDef, JPath)>,
) -> Result<Vec<IndexDef>> {
    let mut out: Vec<IndexDef> = Vec::new();
    for (index, at) in field.into_iter().chain(declared) {
        if let Some(prev) = out.iter().find(|e| e.keys == index.keys) {
            if *prev == index {
                continue;
            }
            return Err(ctx.value_err(
                &at,
                format!(
                    "same fields as index \"{}\" but different options; declare it once",
                    prev.name
                ),
            ));
        }
        if out.iter().any(|e| e.name == index.name) {
            return Err(ctx.value_err(
                &at,
                format!("another index is already named \"{}\"", index.name),
            ));
        }
        if let Some(prev) = out.iter().find(|e| e.is_text()).filter(|_| index.is_text()) {
            return Err(ctx.value_err(
                &at,
                format!(
                    "a collection has at most one text index, and \"{}\" is already one; \
                     list all text fields in one index in \"indexes\"",
                    prev.name
                ),
            ));
        }
        out.push(index);
    }
    Ok(out)
}

/// An index as a `"indexes"` entry of the normalised definition.
pub(crate) fn to_json(index: &IndexDef) -> Value {
    let mut m = Map::new();
    m.insert("fields".to_owned(), index.key_spec());
    let mut o = Map::new();
    if index.unique {
        o.insert("unique".to_owned(), Value::Bool(true));
    }
    if index.sparse {
        o.insert("sparse".to_owned(), Value::Bool(true));
    }
    if let Some(secs) = index.expire_after_seconds {
        o.insert("expireAfterSeconds".to_owned(), Value::from(secs));
    }
    if index.name != IndexDef::default_name(&index.keys) {
        o.insert("name".to_owned(), Value::from(index.name.clone()));
    }
    if !o.is_empty() {
        m.insert("options".to_owned(), Value::Object(o));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names() {
        let k = |path: &str, order| IndexKey {
            path: path.to_owned(),
            order,
        };
        assert_eq!(
            IndexDef::default_name(&[k("email", IndexOrder::Asc)]),
            "email_1"
        );
        assert_eq!(
            IndexDef::default_name(&[k("createdAt", IndexOrder::Desc)]),
            "createdAt_-1"
        );
        assert_eq!(
            IndexDef::default_name(&[k("name", IndexOrder::Text)]),
            "name_text"
        );
        assert_eq!(
            IndexDef::default_name(&[
                k("price.amount", IndexOrder::Asc),
                k("status", IndexOrder::Asc)
            ]),
            "price.amount_1_status_1"
        );
    }
}
