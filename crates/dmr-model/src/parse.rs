//! A model file, top to bottom.

use serde_json::{Map, Value};

use crate::ctx::Ctx;
use crate::defaults::describe;
use crate::error::ModelError;
use crate::field::{FieldDef, FieldType, Schema};
use crate::fingerprint;
use crate::index;
use crate::locate::{self, JPath};
use crate::model::{ModelDef, Strict};
use crate::naming::{collection_name_problem, default_collection_name, is_valid_model_name};
use crate::schema::{SchemaKind, parse_schema};
use crate::suggest::hint;
use crate::virtuals::parse_virtuals;

type Result<T> = std::result::Result<T, ModelError>;

const TOP_KEYS: [&str; 6] = [
    "model",
    "collection",
    "options",
    "schema",
    "indexes",
    "virtuals",
];
const OPTIONS: [&str; 2] = ["timestamps", "strict"];
const TIMESTAMP_FIELDS: [&str; 2] = ["createdAt", "updatedAt"];

/// Parses one model file. `origin` names it in errors (e.g. `models/User.json`).
pub fn parse_model(source: &str, origin: &str) -> Result<ModelDef> {
    let src = locate::strip_bom(source);
    let root: Value = serde_json::from_str(src).map_err(|e| syntax_error(origin, src, &e))?;
    let ctx = Ctx::new(origin, src);
    if let Some((path, key, at)) = locate::first_duplicate_key(ctx.tree(), &JPath::root()) {
        let reason = if path.is_root() {
            format!("duplicate key \"{key}\"")
        } else {
            format!("{path}: duplicate key \"{key}\"")
        };
        return Err(ctx.at(at, reason));
    }
    let top = JPath::root();
    let Value::Object(m) = &root else {
        return Err(ctx.value_err(
            &top,
            format!(
                "a model file is a JSON object with \"model\" and \"schema\", not {}",
                describe(&root)
            ),
        ));
    };
    for k in m.keys() {
        if !TOP_KEYS.contains(&k.as_str()) {
            return Err(ctx.key_err(
                &top.key(k),
                format!("unknown top-level key \"{k}\"{}", hint(k, TOP_KEYS)),
            ));
        }
    }

    let name = model_name(&ctx, m)?;
    let collection = collection(&ctx, m, &name)?;
    let (timestamps, strict) = match m.get("options") {
        Some(v) => options(&ctx, v, &top.key("options"))?,
        None => (false, Strict::Drop),
    };

    let sp = top.key("schema");
    let mut schema = match m.get("schema") {
        Some(Value::Object(s)) => parse_schema(&ctx, s, &sp, SchemaKind::Root)?,
        Some(other) => {
            return Err(ctx.value_err(
                &sp,
                format!("must be an object of fields, not {}", describe(other)),
            ));
        }
        None => {
            return Err(ctx.value_err(&top, "missing \"schema\" (an object of fields)"));
        }
    };
    if timestamps {
        add_timestamps(&ctx, &mut schema, &sp)?;
    }

    let declared = match m.get("indexes") {
        Some(v) => index::declared(&ctx, v, &top.key("indexes"), &schema)?,
        None => Vec::new(),
    };
    let indexes = index::merge(&ctx, index::field_level(&schema), declared)?;
    let virtuals = match m.get("virtuals") {
        Some(v) => parse_virtuals(&ctx, v, &top.key("virtuals"), &schema)?,
        None => Vec::new(),
    };

    let mut def = ModelDef {
        name,
        collection,
        timestamps,
        strict,
        schema,
        indexes,
        virtuals,
        fingerprint: String::new(),
    };
    def.fingerprint = fingerprint::compute(&def);
    Ok(def)
}

/// serde_json's message without its own " at line L column C" suffix, and
/// its byte column turned into a character column.
fn syntax_error(origin: &str, src: &str, e: &serde_json::Error) -> ModelError {
    let msg = e.to_string();
    let msg = msg.rfind(" at line ").map_or(msg.as_str(), |i| &msg[..i]);
    let line = e.line().max(1);
    let text = src.split('\n').nth(line - 1).unwrap_or_default();
    let column = text
        .char_indices()
        .take_while(|(i, _)| *i < e.column())
        .count()
        .max(1);
    ModelError {
        origin: origin.to_owned(),
        line,
        column,
        reason: format!("invalid JSON: {msg}"),
    }
}

fn model_name(ctx: &Ctx, m: &Map<String, Value>) -> Result<String> {
    let p = JPath::root().key("model");
    match m.get("model") {
        Some(Value::String(s)) if is_valid_model_name(s) => Ok(s.clone()),
        Some(Value::String(s)) => Err(ctx.value_err(
            &p,
            format!(
                "\"{s}\" is not a valid model name: 1-64 characters, a letter, then letters, digits or \"_\""
            ),
        )),
        Some(other) => Err(ctx.value_err(
            &p,
            format!("must be a string such as \"User\", not {}", describe(other)),
        )),
        None => Err(ctx.value_err(
            &JPath::root(),
            "missing \"model\", the model's name (e.g. \"model\": \"User\")",
        )),
    }
}

fn collection(ctx: &Ctx, m: &Map<String, Value>, model: &str) -> Result<String> {
    let p = JPath::root().key("collection");
    match m.get("collection") {
        None => Ok(default_collection_name(model)),
        Some(Value::String(s)) => match collection_name_problem(s) {
            None => Ok(s.clone()),
            Some(problem) => Err(ctx.value_err(
                &p,
                format!("\"{s}\" is not a valid collection name: it {problem}"),
            )),
        },
        Some(other) => Err(ctx.value_err(
            &p,
            format!(
                "must be a string such as \"users\", not {}",
                describe(other)
            ),
        )),
    }
}

fn options(ctx: &Ctx, v: &Value, path: &JPath) -> Result<(bool, Strict)> {
    let Value::Object(m) = v else {
        return Err(ctx.value_err(
            path,
            format!(
                "must be an object such as {{ \"timestamps\": true }}, not {}",
                describe(v)
            ),
        ));
    };
    let mut timestamps = false;
    let mut strict = Strict::Drop;
    for (k, v) in m {
        let kp = path.key(k);
        match (k.as_str(), v) {
            ("timestamps", Value::Bool(b)) => timestamps = *b,
            ("timestamps", _) => {
                return Err(ctx.value_err(
                    &kp,
                    "must be true or false (custom timestamp field names are not supported)",
                ));
            }
            ("strict", Value::Bool(true)) => strict = Strict::Drop,
            ("strict", Value::Bool(false)) => strict = Strict::Off,
            ("strict", Value::String(s)) if s == "throw" => strict = Strict::Throw,
            ("strict", _) => return Err(ctx.value_err(&kp, "must be true, false or \"throw\"")),
            ("collection", _) => {
                return Err(ctx.key_err(
                    &kp,
                    "\"collection\" goes at the top level of the file, not in \"options\"",
                ));
            }
            _ => {
                return Err(ctx.key_err(
                    &kp,
                    format!(
                        "unknown option \"{k}\"{}; supported: timestamps, strict",
                        hint(k, OPTIONS)
                    ),
                ));
            }
        }
    }
    Ok((timestamps, strict))
}

/// Appends `createdAt` / `updatedAt` as Mongoose's timestamps do; a field
/// already declared under that name is kept if it is a Date.
fn add_timestamps(ctx: &Ctx, schema: &mut Schema, path: &JPath) -> Result<()> {
    for name in TIMESTAMP_FIELDS {
        match schema.field(name) {
            Some(f) if f.ty == FieldType::Date => {}
            Some(_) => {
                return Err(ctx.key_err(
                    &path.key(name),
                    format!("\"{name}\" is set by \"timestamps\" and must be a Date"),
                ));
            }
            None => schema
                .fields
                .push((name.to_owned(), FieldDef::new(FieldType::Date))),
        }
    }
    Ok(())
}
