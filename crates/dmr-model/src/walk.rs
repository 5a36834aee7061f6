//! One pass over a document along its schema: strict mode, casting,
//! setters, defaults, `_id`s, minimize and validation, path by path in
//! schema order, collecting every error.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::cast;
use crate::date;
use crate::doc_path::DocPath;
use crate::field::{DefaultValue, FieldDef, FieldType, Schema};
use crate::js;
use crate::model::Strict;
use crate::object_id;
use crate::prepare::WriteContext;
use crate::validate;
use crate::validation_error::FieldError;

/// A root-level value that replaces the document's own (`None`: treat the
/// path as missing), e.g. `__v: 0` and timestamps on insert.
pub(crate) type Override = (&'static str, Option<Value>);

pub(crate) struct Walker<'w, 'a> {
    pub(crate) strict: Strict,
    /// Apply defaults and generate `_id`s (needs `ctx`).
    pub(crate) defaults: bool,
    /// Defaults and `_id`s only inside sub-documents the value creates.
    pub(crate) subdoc_defaults: bool,
    /// Mongoose's `minimize`: drop empty objects from nested paths and Mixed values.
    pub(crate) minimize: bool,
    pub(crate) validate: bool,
    pub(crate) ctx: Option<&'w mut WriteContext<'a>>,
    pub(crate) overrides: Vec<Override>,
    pub(crate) errors: Vec<FieldError>,
    pub(crate) strict_errors: Vec<FieldError>,
}

impl<'w, 'a> Walker<'w, 'a> {
    pub(crate) fn new(strict: Strict, ctx: Option<&'w mut WriteContext<'a>>) -> Self {
        Walker {
            strict,
            defaults: false,
            subdoc_defaults: false,
            minimize: false,
            validate: false,
            ctx,
            overrides: Vec::new(),
            errors: Vec::new(),
            strict_errors: Vec::new(),
        }
    }

    /// Every error so far: strict-mode errors first (Mongoose raises those
    /// while building the document, before validating), then in schema order.
    pub(crate) fn take_errors(&mut self) -> Vec<FieldError> {
        let mut all = std::mem::take(&mut self.strict_errors);
        all.append(&mut self.errors);
        all
    }

    fn defaults_on(&self) -> bool {
        self.defaults && self.ctx.is_some()
    }

    /// The document (or sub-document, or nested object) at `path`.
    pub(crate) fn object(
        &mut self,
        schema: &Schema,
        input: Option<&Map<String, Value>>,
        path: &DocPath,
        root: bool,
    ) -> Map<String, Value> {
        let overrides = if root {
            std::mem::take(&mut self.overrides)
        } else {
            Vec::new()
        };
        let get = |name: &str| -> Option<&Value> {
            match overrides.iter().find(|(k, _)| *k == name) {
                Some((_, o)) => o.as_ref(),
                None => input.and_then(|m| m.get(name)),
            }
        };
        let mut out = Map::with_capacity(schema.fields.len() + 2);
        if schema.id {
            let given = get("_id");
            if let Some(id) = self.id(given, &path.key("_id")) {
                out.insert("_id".to_owned(), id);
            }
        }
        // Unknown keys are looked at first, so strict-mode errors read
        // top-down; kept ones (strict off) go after the schema's fields.
        let mut extras = Vec::new();
        if let Some(m) = input {
            for (k, v) in m {
                let known =
                    schema.field(k).is_some() || (k == "_id" && schema.id) || (root && k == "__v");
                if known {
                    continue;
                }
                match self.strict {
                    Strict::Drop => {}
                    Strict::Throw => self
                        .strict_errors
                        .push(FieldError::strict(&path.key(k).to_string(), v.clone())),
                    Strict::Off => {
                        let kept = if self.minimize {
                            minimize(v)
                        } else {
                            Some(v.clone())
                        };
                        if let Some(v) = kept {
                            extras.push((k.clone(), v));
                        }
                    }
                }
            }
        }
        for (name, def) in &schema.fields {
            let p = path.key(name);
            if let Some(v) = self.field(def, get(name), &p, true) {
                out.insert(name.clone(), v);
            }
        }
        out.extend(extras);
        // Mongoose's version key, last as Mongoose writes it.
        if let Some(v) = get("__v").filter(|_| root) {
            match cast::number(v, &DocPath::Given("__v")) {
                Ok(n) => {
                    out.insert("__v".to_owned(), n);
                }
                Err(e) => self.errors.push(e),
            }
        }
        out
    }

    /// A document's `_id`: the given one cast, else a new one when defaults apply.
    fn id(&mut self, given: Option<&Value>, path: &DocPath) -> Option<Value> {
        match given {
            Some(v) if !v.is_null() => match cast::object_id(v, path) {
                Ok(id) => Some(id),
                Err(e) => {
                    self.errors.push(e);
                    None
                }
            },
            _ if self.defaults_on() => {
                let ctx = self.ctx.as_deref_mut()?;
                Some(Value::String(object_id::generate(
                    ctx.now_millis,
                    ctx.random,
                )))
            }
            other => other.cloned(),
        }
    }

    /// One field: its value or default, cast, validated, minimized.
    /// `None` is "absent" (undefined).
    pub(crate) fn field(
        &mut self,
        def: &FieldDef,
        given: Option<&Value>,
        path: &DocPath,
        in_object: bool,
    ) -> Option<Value> {
        let default;
        let input = match given {
            Some(v) => Some(v),
            None if self.defaults_on() => {
                default = self.default_value(def);
                default.as_ref()
            }
            None => None,
        };
        let out = match (input, &def.ty) {
            (Some(v), _) => match self.cast(def, v, path) {
                Ok(v) => Some(v),
                Err(e) => {
                    self.errors.push(e);
                    return None;
                }
            },
            // Leaf defaults and required checks below an absent nested path.
            (None, FieldType::Object(s)) => {
                let m = self.object(s, None, path, false);
                (!m.is_empty()).then_some(Value::Object(m))
            }
            (None, _) => None,
        };
        if let Some(e) = self
            .validate
            .then(|| validate::check(def, out.as_ref(), path))
            .flatten()
        {
            self.errors.push(e);
        }
        // Validation sees the value before minimize, as Mongoose validates
        // the document before `toObject({ minimize })` at save.
        if self.minimize && in_object {
            return match (&def.ty, out) {
                (FieldType::Object(_), Some(Value::Object(m))) if m.is_empty() => None,
                (FieldType::Mixed, Some(v)) => minimize(&v),
                (_, out) => out,
            };
        }
        out
    }

    fn default_value(&mut self, def: &FieldDef) -> Option<Value> {
        let is_array = matches!(def.ty, FieldType::Array(_) | FieldType::SubDocs(_));
        match &def.opts.default {
            // Mongoose's implicit array default, also for `default: null`.
            None | Some(DefaultValue::Literal(Value::Null)) if is_array => {
                Some(Value::Array(Vec::new()))
            }
            None => None,
            Some(DefaultValue::Literal(v)) => Some(v.clone()),
            Some(DefaultValue::Now) => {
                let ctx = self.ctx.as_deref()?;
                Some(Value::String(date::format_iso(now_millis(ctx))))
            }
            Some(DefaultValue::Generate(g)) => {
                let ctx = self.ctx.as_deref_mut()?;
                Some(Value::String(g.generate(ctx.now_millis, ctx.random)))
            }
        }
    }

    /// Casts a present value; containers recurse, collecting their
    /// children's errors. `Err` is the value's own CastError.
    pub(crate) fn cast(
        &mut self,
        def: &FieldDef,
        v: &Value,
        path: &DocPath,
    ) -> Result<Value, FieldError> {
        match &def.ty {
            FieldType::String => cast::string(v, &def.opts, path),
            FieldType::Number => cast::number(v, path),
            FieldType::Boolean => cast::boolean(v, path),
            FieldType::Date => cast::date(v, path),
            FieldType::ObjectId => cast::object_id(v, path),
            FieldType::Mixed => Ok(v.clone()),
            FieldType::Object(s) => self.nested(s, v, path),
            FieldType::SubDocs(s) => self.subdocs(s, v, path),
            FieldType::Array(el) => self.array(el, v, path),
            FieldType::Map(of) => self.map(of, v, path),
        }
    }

    fn nested(&mut self, schema: &Schema, v: &Value, path: &DocPath) -> Result<Value, FieldError> {
        match v {
            Value::Object(m) => Ok(Value::Object(self.object(schema, Some(m), path, false))),
            Value::Null => {
                // Kept as null, but its required children still fail.
                if self.validate {
                    let defaults = std::mem::replace(&mut self.defaults, false);
                    self.object(schema, None, path, false);
                    self.defaults = defaults;
                }
                Ok(Value::Null)
            }
            _ => Err(FieldError::cast(
                "Object",
                v.clone(),
                &path.to_string(),
                None,
            )),
        }
    }

    fn subdocs(&mut self, schema: &Schema, v: &Value, path: &DocPath) -> Result<Value, FieldError> {
        let items = match as_items(v) {
            Some(items) => items,
            None => return Ok(Value::Null),
        };
        // Mongoose fails the whole array on the first non-object element.
        if let Some(bad) = items.iter().find(|e| !e.is_object() && !e.is_null()) {
            return Err(embedded_error(bad, path));
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, e) in items.iter().enumerate() {
            match e {
                Value::Object(m) => out.push(Value::Object(self.subdoc(schema, m, &path.index(i)))),
                _ => out.push(Value::Null),
            }
        }
        Ok(Value::Array(out))
    }

    /// One sub-document; new sub-documents get defaults when asked for.
    pub(crate) fn subdoc(
        &mut self,
        schema: &Schema,
        m: &Map<String, Value>,
        path: &DocPath,
    ) -> Map<String, Value> {
        let defaults = self.defaults;
        self.defaults |= self.subdoc_defaults;
        let out = self.object(schema, Some(m), path, false);
        self.defaults = defaults;
        out
    }

    fn array(&mut self, el: &FieldDef, v: &Value, path: &DocPath) -> Result<Value, FieldError> {
        let wrapped;
        let v = match nested_array_depth(el) {
            // Mongoose wraps `[1, 2]` into `[[1, 2]]` for a `[["Number"]]` path.
            depth if depth > 1 => {
                wrapped = wrap_to_depth(v, depth);
                &wrapped
            }
            _ => v,
        };
        let items = match as_items(v) {
            Some(items) => items,
            None => return Ok(Value::Null),
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, e) in items.iter().enumerate() {
            match self.cast(el, e, &path.index(i)) {
                Ok(x) => out.push(x),
                Err(err) => {
                    // Mongoose reports the array as it stood, cast up to here.
                    let shown: Vec<Value> = out.iter().chain(&items[i..]).cloned().collect();
                    return Err(FieldError::cast(
                        format!("[{}]", err.kind),
                        Value::String(js::inspect(&Value::Array(shown))),
                        &path.index(i).to_string(),
                        Some("CastError"),
                    ));
                }
            }
        }
        if self.validate && validate::has_rules(el) {
            for (i, x) in out.iter().enumerate() {
                if let Some(e) = validate::check(el, Some(x), &path.index(i)) {
                    self.errors.push(e);
                }
            }
        }
        Ok(Value::Array(out))
    }

    fn map(&mut self, of: &FieldDef, v: &Value, path: &DocPath) -> Result<Value, FieldError> {
        match v {
            Value::Null => Ok(Value::Null),
            Value::Object(m) => {
                // MongooseMap refuses keys MongoDB could not store as paths.
                if m.keys().any(|k| k.starts_with('$') || k.contains('.')) {
                    return Err(FieldError::cast("Map", v.clone(), &path.to_string(), None));
                }
                let mut out = Map::new();
                for (k, x) in m {
                    if let Some(y) = self.field(of, Some(x), &path.key(k), false) {
                        out.insert(k.clone(), y);
                    }
                }
                Ok(Value::Object(out))
            }
            Value::Array(_) => Err(FieldError::cast("Map", v.clone(), &path.to_string(), None)),
            // `new Map(5)` throws a TypeError.
            _ => Err(FieldError::cast(
                "Map",
                v.clone(),
                &path.to_string(),
                Some("TypeError"),
            )),
        }
    }
}

pub(crate) fn now_millis(ctx: &WriteContext) -> i64 {
    i64::try_from(ctx.now_millis).unwrap_or(i64::MAX)
}

/// The elements of an array value; a non-array is one element (Mongoose's
/// `castNonArrays`); `None` for null.
fn as_items(v: &Value) -> Option<Cow<'_, [Value]>> {
    match v {
        Value::Null => None,
        Value::Array(a) => Some(Cow::Borrowed(a.as_slice())),
        other => Some(Cow::Owned(vec![other.clone()])),
    }
}

pub(crate) fn embedded_error(bad: &Value, path: &DocPath) -> FieldError {
    FieldError::cast(
        "embedded",
        Value::String(js::inspect(bad)),
        &path.to_string(),
        Some("ObjectParameterError"),
    )
}

/// How many plain arrays are nested at this path (`[["Number"]]`: 2).
fn nested_array_depth(el: &FieldDef) -> usize {
    match &el.ty {
        FieldType::Array(inner) => 1 + nested_array_depth(inner),
        _ => 1,
    }
}

/// Mongoose's `arrayDepth` rule: a non-empty array of uniform depth below
/// the path's is wrapped until it matches.
fn wrap_to_depth(v: &Value, depth: usize) -> Value {
    match v {
        Value::Array(a) if !a.is_empty() => {
            let (min, max) = array_depth(v);
            let mut out = v.clone();
            if min == max && max < depth {
                for _ in max..depth {
                    out = Value::Array(vec![out]);
                }
            }
            out
        }
        _ => v.clone(),
    }
}

fn array_depth(v: &Value) -> (usize, usize) {
    match v {
        Value::Array(a) if a.is_empty() => (1, 1),
        Value::Array(a) if a.len() == 1 && !a[0].is_array() => (1, 1),
        Value::Array(a) => {
            let (mut min, mut max) = (usize::MAX, 0);
            for x in a {
                let (lo, hi) = array_depth(x);
                min = min.min(lo);
                max = max.max(hi);
            }
            (min + 1, max + 1)
        }
        _ => (0, 0),
    }
}

/// Mongoose's `minimize` helper on a plain-object value: empty objects
/// removed recursively (arrays are not entered); `None` if nothing is left.
pub(crate) fn minimize(v: &Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            let out: Map<String, Value> = m
                .iter()
                .filter_map(|(k, x)| minimize(x).map(|x| (k.clone(), x)))
                .collect();
            (!out.is_empty()).then_some(Value::Object(out))
        }
        other => Some(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn minimize_drops_empty_objects() {
        assert_eq!(minimize(&json!({})), None);
        assert_eq!(minimize(&json!({"a": {"b": {}}})), None);
        assert_eq!(
            minimize(&json!({"a": {"b": {}}, "c": [{}]})),
            Some(json!({"c": [{}]}))
        );
        assert_eq!(minimize(&json!(null)), Some(json!(null)));
    }

    #[test]
    fn array_depths() {
        assert_eq!(array_depth(&json!([1, 2])), (1, 1));
        assert_eq!(array_depth(&json!([[1], 2])), (1, 2));
        assert_eq!(wrap_to_depth(&json!([1, 2]), 2), json!([[1, 2]]));
        assert_eq!(wrap_to_depth(&json!([[1], 2]), 2), json!([[1], 2]));
        assert_eq!(wrap_to_depth(&json!([]), 2), json!([]));
    }
}
