//! Whole documents on their way to a store: what Mongoose's `new Model(doc)`
//! + `save()`, `replaceOne` and update validators do to them.

use serde_json::{Map, Value};

use crate::cast;
use crate::date;
use crate::doc_path::DocPath;
use crate::js;
use crate::model::{ModelDef, Strict};
use crate::validation_error::{FieldError, ValidationError};
use crate::walk::{Override, Walker, now_millis};

/// Injected time and randomness, so processing stays pure and testable.
pub struct WriteContext<'a> {
    /// Milliseconds since the Unix epoch.
    pub now_millis: u64,
    /// Any source of random 64-bit values (ids and `{random}` digits use it).
    pub random: &'a mut dyn FnMut() -> u64,
}

impl ModelDef {
    /// A new document (Mongoose `new Model(doc)` + `validate()` + what
    /// `save()` adds): strict handling, casting, setters, defaults, `_id`s,
    /// timestamps, `__v: 0`, then validation. Returns the stored form or
    /// every failing path.
    pub fn prepare_insert(
        &self,
        doc: &Value,
        ctx: &mut WriteContext,
    ) -> Result<Value, ValidationError> {
        let input = self.top(doc)?;
        let mut overrides: Vec<Override> = vec![("__v", Some(Value::from(0)))];
        if self.timestamps {
            // Mongoose keeps a given createdAt and sets updatedAt to it; a
            // bad one is reported once, as createdAt's CastError.
            let given = input.get("createdAt").filter(|v| !is_blank(v));
            let created = match given.map(|v| cast::date(v, &DocPath::Given("createdAt"))) {
                Some(Ok(v)) => v,
                Some(Err(_)) | None => now(ctx),
            };
            overrides.push(("createdAt", Some(given.cloned().unwrap_or(created.clone()))));
            overrides.push(("updatedAt", Some(created)));
        }
        self.write(input, overrides, ctx)
    }

    /// A full replacement of an existing document (Mongoose `replaceOne`
    /// with `runValidators`): like an insert, but `_id`, `createdAt` and
    /// `__v` come from `existing` (whatever `doc` says), and `updatedAt` is now.
    pub fn prepare_replace(
        &self,
        doc: &Value,
        existing: &Value,
        ctx: &mut WriteContext,
    ) -> Result<Value, ValidationError> {
        let input = self.top(doc)?;
        let old = |k: &str| existing.get(k).filter(|v| !v.is_null()).cloned();
        let mut overrides: Vec<Override> = vec![("__v", old("__v"))];
        // MongoDB refuses to change an _id; without one, the doc's or a new one.
        if let Some(id) = old("_id") {
            overrides.push(("_id", Some(id)));
        }
        if self.timestamps {
            overrides.push(("createdAt", old("createdAt")));
            overrides.push(("updatedAt", Some(now(ctx))));
        }
        self.write(input, overrides, ctx)
    }

    /// Validates a complete document after an update was applied to it
    /// (`runValidators`): casting and validators, no defaults, no `_id`s, no
    /// strict mode (the update's paths went through [`ModelDef::cast_path`]),
    /// no minimize; `updatedAt` is set to now when timestamps are on.
    pub fn validate_updated(
        &self,
        doc: &Value,
        ctx: &mut WriteContext,
    ) -> Result<Value, ValidationError> {
        let input = self.top(doc)?;
        let mut w = Walker::new(Strict::Off, None);
        w.validate = true;
        if self.timestamps {
            w.overrides = vec![("updatedAt", Some(now(ctx)))];
        }
        self.finish(&mut w, input)
    }

    /// A whole write (insert or replace): strict mode, defaults, minimize, validators,
    /// with `overrides` for the paths the write itself decides.
    fn write(
        &self,
        input: &Map<String, Value>,
        overrides: Vec<Override>,
        ctx: &mut WriteContext,
    ) -> Result<Value, ValidationError> {
        let mut w = Walker::new(self.strict, Some(ctx));
        w.defaults = true;
        w.minimize = true;
        w.validate = true;
        w.overrides = overrides;
        self.finish(&mut w, input)
    }

    fn finish(&self, w: &mut Walker, input: &Map<String, Value>) -> Result<Value, ValidationError> {
        let out = w.object(&self.schema, Some(input), &DocPath::Root, true);
        let errors = w.take_errors();
        if errors.is_empty() {
            Ok(Value::Object(out))
        } else {
            Err(ValidationError {
                model: self.name.clone(),
                errors,
            })
        }
    }

    /// The document as an object, or Mongoose's ObjectParameterError.
    fn top<'d>(&self, doc: &'d Value) -> Result<&'d Map<String, Value>, ValidationError> {
        doc.as_object().ok_or_else(|| ValidationError {
            model: self.name.clone(),
            errors: vec![FieldError {
                name: "ObjectParameterError",
                kind: "Object".to_owned(),
                path: String::new(),
                value: doc.clone(),
                message: format!(
                    "Parameter \"obj\" to Document() must be an object, got \"{}\" (type {})",
                    js::to_string(Some(doc)),
                    js::type_name(doc)
                ),
            }],
        })
    }
}

fn now(ctx: &WriteContext) -> Value {
    Value::String(date::format_iso(now_millis(ctx)))
}

/// What Mongoose's `!doc.get('createdAt')` treats as unset.
fn is_blank(v: &Value) -> bool {
    v.is_null() || v.as_str() == Some("")
}
