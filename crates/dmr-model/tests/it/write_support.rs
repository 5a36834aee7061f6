//! Helpers for the document-processing tests: models, and a deterministic
//! write context.

use dmr_model::{ModelDef, ValidationError, WriteContext, parse_model};
use serde_json::Value;

/// 2023-11-14T22:13:20.000Z
pub const NOW: u64 = 1_700_000_000_000;
pub const NOW_ISO: &str = "2023-11-14T22:13:20.000Z";
/// A later write.
pub const LATER: u64 = 1_700_000_360_000;
pub const LATER_ISO: &str = "2023-11-14T22:19:20.000Z";

pub fn model(src: &str) -> ModelDef {
    parse_model(src, "t.json").unwrap_or_else(|e| panic!("{e}"))
}

/// A model with these fields and options.
pub fn with_schema(schema: &str, options: &str) -> ModelDef {
    model(&format!(
        r#"{{"model": "T", "options": {{{options}}}, "schema": {{{schema}}}}}"#
    ))
}

/// Runs `f` with a context at `now` whose random values are 1, 2, 3, ...
/// (so the first ObjectId is `<seconds>0000000001000002`).
pub fn at<T>(now: u64, f: impl FnOnce(&mut WriteContext) -> T) -> T {
    let mut n = 0u64;
    let mut random = move || {
        n += 1;
        n
    };
    let mut ctx = WriteContext {
        now_millis: now,
        random: &mut random,
    };
    f(&mut ctx)
}

/// The n-th ObjectId (1-based) the counting context generates at `NOW`.
pub fn oid(n: u64) -> String {
    format!("6553f100{:010x}{:06x}", 2 * n - 1, 2 * n)
}

pub fn insert(def: &ModelDef, doc: &Value) -> Result<Value, ValidationError> {
    at(NOW, |ctx| def.prepare_insert(doc, ctx))
}

pub fn insert_ok(def: &ModelDef, doc: &Value) -> Value {
    insert(def, doc).unwrap_or_else(|e| panic!("{e}\n{:#}", e.to_json()))
}

pub fn insert_err(def: &ModelDef, doc: &Value) -> ValidationError {
    match insert(def, doc) {
        Ok(v) => panic!("expected a rejection, got {v:#}"),
        Err(e) => e,
    }
}

/// (path, kind, message) of each error, for compact assertions.
pub fn summary(e: &ValidationError) -> Vec<(String, String, String)> {
    e.errors
        .iter()
        .map(|f| (f.path.clone(), f.kind.clone(), f.message.clone()))
        .collect()
}
