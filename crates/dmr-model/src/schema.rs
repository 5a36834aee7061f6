//! The `"schema"` object: Mongoose's field vocabulary into `Schema` / `FieldDef`.
//!
//! What a value means follows Mongoose: a type name is a field, an object
//! with `"type"` is a field with options, an array is an array of its one
//! element, and any other object is a nested path.

use serde_json::{Map, Value};

use crate::ctx::Ctx;
use crate::defaults::{describe, enum_contains, parse_default};
use crate::error::ModelError;
use crate::field::{FieldDef, FieldOptions, FieldType, Schema};
use crate::index::IndexOrder;
use crate::locate::JPath;
use crate::naming::field_name_problem;
use crate::pattern::Pattern;
use crate::suggest::{closest, hint};

type Result<T> = std::result::Result<T, ModelError>;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum SchemaKind {
    Root,
    Nested,
    SubDoc,
}

/// Where a field definition sits, which limits its options.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Field,
    Element,
    MapValue,
}

/// Type names, in the order error messages list them.
const TYPE_NAMES: [&str; 8] = [
    "String", "Number", "Boolean", "Date", "ObjectId", "Mixed", "Map", "Array",
];

/// Mongoose types this format does not have (yet); named so the error says so.
const UNSUPPORTED_TYPES: [&str; 8] = [
    "Buffer",
    "Decimal128",
    "BigInt",
    "UUID",
    "Double",
    "Int32",
    "Subdocument",
    "DocumentArray",
];

const FIELD_OPTIONS: [&str; 17] = [
    "type",
    "required",
    "default",
    "enum",
    "min",
    "max",
    "minlength",
    "maxlength",
    "match",
    "lowercase",
    "uppercase",
    "trim",
    "unique",
    "index",
    "sparse",
    "expires",
    "of",
];

pub(crate) fn parse_schema(
    ctx: &Ctx,
    obj: &Map<String, Value>,
    path: &JPath,
    kind: SchemaKind,
) -> Result<Schema> {
    let mut schema = Schema {
        fields: Vec::new(),
        id: kind != SchemaKind::Nested,
    };
    for (name, v) in obj {
        let p = path.key(name);
        if name == "_id" {
            match (kind, v) {
                (SchemaKind::SubDoc, Value::Bool(b)) => {
                    schema.id = *b;
                    continue;
                }
                (SchemaKind::SubDoc, _) => {
                    return Err(ctx.value_err(&p, "must be true or false"));
                }
                (SchemaKind::Root, _) => {
                    return Err(ctx.key_err(
                        &p,
                        "\"_id\" is implicit (an ObjectId) and cannot be declared",
                    ));
                }
                (SchemaKind::Nested, _) => {
                    return Err(ctx.key_err(
                        &p,
                        "\"_id\" only belongs in array sub-documents; nested objects never have one",
                    ));
                }
            }
        }
        if let Some(problem) = field_name_problem(name) {
            return Err(ctx.key_err(&p, problem));
        }
        if kind == SchemaKind::Root && name == "__v" {
            return Err(ctx.key_err(
                &p,
                "\"__v\" is the version key, set on every write, and cannot be declared",
            ));
        }
        let field = parse_field(ctx, v, &p, Role::Field)?;
        schema.fields.push((name.clone(), field));
    }
    if kind == SchemaKind::SubDoc && schema.fields.is_empty() {
        return Err(ctx.value_err(path, "a sub-document needs at least one field"));
    }
    Ok(schema)
}

/// Mongoose's test: an object is a field definition when it has a `type`,
/// unless that `type` is itself an object with a `type` (then the object is
/// a nested path that has a field called "type").
fn is_field_object(m: &Map<String, Value>) -> bool {
    match m.get("type") {
        None => false,
        Some(Value::Object(t)) => !t.contains_key("type"),
        Some(_) => true,
    }
}

fn parse_field(ctx: &Ctx, v: &Value, path: &JPath, role: Role) -> Result<FieldDef> {
    match v {
        Value::String(s) => match parse_type_name(ctx, s, path)? {
            Base::Map => Err(ctx.value_err(
                path,
                "a Map needs \"of\", the type of its values: { \"type\": \"Map\", \"of\": \"Mixed\" }",
            )),
            base => Ok(FieldDef::new(base.field_type())),
        },
        Value::Array(items) => Ok(FieldDef::new(parse_array_type(ctx, items, path)?)),
        // Mongoose reads `{}` as Mixed.
        Value::Object(m) if m.is_empty() => Ok(FieldDef::new(FieldType::Mixed)),
        Value::Object(m) if is_field_object(m) => parse_field_object(ctx, m, path, role),
        Value::Object(m) => Ok(FieldDef::new(FieldType::Object(parse_schema(
            ctx,
            m,
            path,
            SchemaKind::Nested,
        )?))),
        other => Err(ctx.value_err(
            path,
            format!(
                "expected a type name such as \"String\", an object with \"type\", an array \
                 or a nested object, not {}",
                describe(other)
            ),
        )),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Base {
    String,
    Number,
    Boolean,
    Date,
    ObjectId,
    Mixed,
    Map,
    Array,
}

impl Base {
    /// The type for a bare name; a Map's value type comes from "of" instead.
    fn field_type(self) -> FieldType {
        match self {
            Base::String => FieldType::String,
            Base::Number => FieldType::Number,
            Base::Boolean => FieldType::Boolean,
            Base::Date => FieldType::Date,
            Base::ObjectId => FieldType::ObjectId,
            Base::Mixed => FieldType::Mixed,
            Base::Map => FieldType::Map(Box::new(FieldDef::new(FieldType::Mixed))),
            Base::Array => FieldType::Array(Box::new(FieldDef::new(FieldType::Mixed))),
        }
    }
}

fn parse_type_name(ctx: &Ctx, s: &str, path: &JPath) -> Result<Base> {
    let name = s
        .strip_prefix("mongoose.Schema.Types.")
        .or_else(|| s.strip_prefix("Schema.Types."))
        .unwrap_or(s);
    Ok(match name {
        "String" => Base::String,
        "Number" => Base::Number,
        "Boolean" => Base::Boolean,
        "Date" => Base::Date,
        "ObjectId" => Base::ObjectId,
        "Mixed" => Base::Mixed,
        "Map" => Base::Map,
        "Array" => Base::Array,
        _ => {
            let accepted = TYPE_NAMES.join(", ");
            let msg = if UNSUPPORTED_TYPES.contains(&name) {
                format!("type \"{s}\" is not supported; accepted types: {accepted}")
            } else {
                format!(
                    "unknown type \"{s}\"{}; accepted types: {accepted}",
                    hint(name, TYPE_NAMES)
                )
            };
            return Err(ctx.value_err(path, msg));
        }
    })
}

/// `[]`, `[element]`: the type of an array value at `path`.
fn parse_array_type(ctx: &Ctx, items: &[Value], path: &JPath) -> Result<FieldType> {
    match items {
        [] => Ok(FieldType::Array(Box::new(FieldDef::new(FieldType::Mixed)))),
        [el] => {
            let ep = path.index(0);
            match el {
                Value::Object(m) if !m.is_empty() && !is_field_object(m) => Ok(FieldType::SubDocs(
                    parse_schema(ctx, m, &ep, SchemaKind::SubDoc)?,
                )),
                _ => Ok(FieldType::Array(Box::new(parse_field(
                    ctx,
                    el,
                    &ep,
                    Role::Element,
                )?))),
            }
        }
        _ => Err(ctx.value_err(
            &path.index(1),
            "an array type declares exactly one element type, e.g. [\"String\"]",
        )),
    }
}

/// What an option is checked against.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Number,
    Boolean,
    Date,
    ObjectId,
    Mixed,
    Map,
    Array,
    SubDocs,
}

impl Kind {
    fn of(ty: &FieldType) -> Kind {
        match ty {
            FieldType::String => Kind::String,
            FieldType::Number => Kind::Number,
            FieldType::Boolean => Kind::Boolean,
            FieldType::Date => Kind::Date,
            FieldType::ObjectId => Kind::ObjectId,
            FieldType::Mixed | FieldType::Object(_) => Kind::Mixed,
            FieldType::Map(_) => Kind::Map,
            FieldType::Array(_) => Kind::Array,
            FieldType::SubDocs(_) => Kind::SubDocs,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::String => "String fields",
            Kind::Number => "Number fields",
            Kind::Boolean => "Boolean fields",
            Kind::Date => "Date fields",
            Kind::ObjectId => "ObjectId fields",
            Kind::Mixed => "Mixed fields",
            Kind::Map => "Map fields",
            Kind::Array => "array fields",
            Kind::SubDocs => "sub-document arrays",
        }
    }
}

fn applies(option: &str, kind: Kind) -> bool {
    match option {
        "enum" => matches!(kind, Kind::String | Kind::Number),
        "min" | "max" => kind == Kind::Number,
        "minlength" | "maxlength" | "match" | "lowercase" | "uppercase" | "trim" => {
            kind == Kind::String
        }
        "unique" | "index" | "sparse" => !matches!(kind, Kind::Map | Kind::SubDocs),
        "expires" => kind == Kind::Date,
        "of" => kind == Kind::Map,
        _ => true,
    }
}

fn applies_to(option: &str) -> &'static str {
    match option {
        "enum" => "String and Number fields",
        "min" | "max" => "Number fields",
        "minlength" | "maxlength" | "match" | "lowercase" | "uppercase" | "trim" => "String fields",
        "unique" | "index" | "sparse" => "fields other than Maps and sub-document arrays",
        "expires" => "Date fields",
        "of" => "Map fields",
        _ => "all fields",
    }
}

fn parse_field_object(
    ctx: &Ctx,
    m: &Map<String, Value>,
    path: &JPath,
    role: Role,
) -> Result<FieldDef> {
    let tp = path.key("type");
    let ty = match m.get("type") {
        Some(Value::String(s)) => match parse_type_name(ctx, s, &tp)? {
            Base::Map => {
                let Some(of) = m.get("of") else {
                    return Err(ctx.value_err(
                        &tp,
                        "a Map needs \"of\", the type of its values, e.g. \"of\": \"Mixed\"",
                    ));
                };
                FieldType::Map(Box::new(parse_field(
                    ctx,
                    of,
                    &path.key("of"),
                    Role::MapValue,
                )?))
            }
            base => base.field_type(),
        },
        Some(Value::Array(items)) => parse_array_type(ctx, items, &tp)?,
        other => {
            return Err(ctx.value_err(
                &tp,
                format!(
                    "\"type\" must be a type name such as \"String\" or an array such as [\"String\"], not {}",
                    other.map_or("missing", describe)
                ),
            ));
        }
    };
    let kind = Kind::of(&ty);
    let mut o = FieldOptions::default();
    let mut default = None;
    let mut index_false = false;
    for (key, v) in m {
        let kp = path.key(key);
        check_option(ctx, key, kind, role, &kp)?;
        match key.as_str() {
            "required" => {
                let (b, msg) = flag_with_message(ctx, v, &kp)?;
                o.required = b;
                o.required_message = msg.filter(|_| b);
            }
            "default" => default = Some(v),
            "enum" => {
                let (values, msg) = parse_enum(ctx, v, &kp, kind)?;
                o.enum_values = Some(values);
                o.enum_message = msg;
            }
            "min" => (o.min, o.min_message) = number_with_message(ctx, v, &kp)?,
            "max" => (o.max, o.max_message) = number_with_message(ctx, v, &kp)?,
            "minlength" => (o.minlength, o.minlength_message) = length_with_message(ctx, v, &kp)?,
            "maxlength" => (o.maxlength, o.maxlength_message) = length_with_message(ctx, v, &kp)?,
            "match" => (o.match_pattern, o.match_message) = pattern_with_message(ctx, v, &kp)?,
            "lowercase" => o.lowercase = flag(ctx, v, &kp)?,
            "uppercase" => o.uppercase = flag(ctx, v, &kp)?,
            "trim" => o.trim = flag(ctx, v, &kp)?,
            "unique" => o.unique = flag(ctx, v, &kp)?,
            "sparse" => o.sparse = flag(ctx, v, &kp)?,
            "index" => match parse_index_option(ctx, v, &kp, kind)? {
                Some(order) => o.index = Some(order),
                None => index_false = true,
            },
            "expires" => o.expires_seconds = Some(parse_expires(ctx, v, &kp)?),
            // "type" and "of" were read with the type.
            _ => {}
        }
    }
    check_consistency(ctx, m, path, &ty, &o, index_false)?;
    if let Some(v) = default {
        o.default = Some(parse_default(ctx, v, &path.key("default"), &ty, &o)?);
    }
    Ok(FieldDef { ty, opts: o })
}

fn check_option(ctx: &Ctx, key: &str, kind: Kind, role: Role, kp: &JPath) -> Result<()> {
    if !FIELD_OPTIONS.contains(&key) {
        let extra = if key == "_id" {
            "; \"_id\": false belongs in a sub-document, e.g. [{ \"_id\": false, ... }]"
        } else {
            ""
        };
        return Err(ctx.key_err(
            kp,
            format!(
                "unknown option \"{key}\"{}{extra}",
                hint(key, FIELD_OPTIONS)
            ),
        ));
    }
    if !applies(key, kind) {
        let extra = if kind == Kind::Array {
            "; options of the elements go on the element, e.g. [{ \"type\": \"String\", \"lowercase\": true }]"
        } else {
            ""
        };
        return Err(ctx.key_err(
            kp,
            format!(
                "option \"{key}\" does not apply to {} (only to {}){extra}",
                kind.label(),
                applies_to(key)
            ),
        ));
    }
    match (role, key) {
        (Role::Element, "default") => Err(ctx.key_err(
            kp,
            "an array element has no default of its own; put \"default\" on the array field",
        )),
        (Role::MapValue, "default" | "index" | "unique" | "sparse" | "expires") => Err(ctx
            .key_err(
                kp,
                format!("\"{key}\" is not supported on the values of a Map"),
            )),
        _ => Ok(()),
    }
}

fn check_consistency(
    ctx: &Ctx,
    m: &Map<String, Value>,
    path: &JPath,
    ty: &FieldType,
    o: &FieldOptions,
    index_false: bool,
) -> Result<()> {
    if o.lowercase && o.uppercase {
        return Err(ctx.key_err(
            &path.key("uppercase"),
            "\"lowercase\" and \"uppercase\" cannot both be true",
        ));
    }
    match (o.min, o.max) {
        (Some(min), Some(max)) if min > max => {
            return Err(ctx.value_err(&path.key("max"), format!("max {max} is below min {min}")));
        }
        _ => {}
    }
    match (o.minlength, o.maxlength) {
        (Some(min), Some(max)) if min > max => {
            return Err(ctx.value_err(
                &path.key("maxlength"),
                format!("maxlength {max} is below minlength {min}"),
            ));
        }
        _ => {}
    }
    if index_false && o.declares_index() {
        return Err(ctx.key_err(
            &path.key("index"),
            "\"index\": false contradicts \"unique\", \"sparse\" or \"expires\"",
        ));
    }
    if o.declares_index() && matches!(ty, FieldType::Array(el) if element_declares_index(el)) {
        let key = ["index", "unique", "sparse"]
            .into_iter()
            .find(|k| m.contains_key(*k))
            .unwrap_or("index");
        return Err(ctx.key_err(
            &path.key(key),
            "declare the index either on the array or on its element, not both",
        ));
    }
    Ok(())
}

fn element_declares_index(el: &FieldDef) -> bool {
    el.opts.declares_index()
        || matches!(&el.ty, FieldType::Array(inner) if element_declares_index(inner))
}

fn flag(ctx: &Ctx, v: &Value, path: &JPath) -> Result<bool> {
    v.as_bool()
        .ok_or_else(|| ctx.value_err(path, format!("must be true or false, not {}", describe(v))))
}

/// `true` or Mongoose's `[true, "message"]`.
fn flag_with_message(ctx: &Ctx, v: &Value, path: &JPath) -> Result<(bool, Option<String>)> {
    match v {
        Value::Bool(b) => Ok((*b, None)),
        Value::Array(a) => match a.as_slice() {
            [Value::Bool(b), Value::String(msg)] => Ok((*b, Some(msg.clone()))),
            _ => Err(ctx.value_err(path, "must be true, false or [true, \"message\"]")),
        },
        _ => Err(ctx.value_err(path, "must be true, false or [true, \"message\"]")),
    }
}

fn number_with_message(
    ctx: &Ctx,
    v: &Value,
    path: &JPath,
) -> Result<(Option<f64>, Option<String>)> {
    let (n, msg) = with_message(v);
    match n.and_then(Value::as_f64) {
        Some(x) if n.is_some_and(Value::is_number) => Ok((Some(x), msg)),
        _ => Err(ctx.value_err(path, "must be a number or [number, \"message\"]")),
    }
}

fn length_with_message(
    ctx: &Ctx,
    v: &Value,
    path: &JPath,
) -> Result<(Option<u64>, Option<String>)> {
    let (n, msg) = with_message(v);
    match n.and_then(as_uint) {
        Some(len) => Ok((Some(len), msg)),
        None => Err(ctx.value_err(path, "must be a whole number >= 0 or [number, \"message\"]")),
    }
}

fn pattern_with_message(
    ctx: &Ctx,
    v: &Value,
    path: &JPath,
) -> Result<(Option<Pattern>, Option<String>)> {
    let (p, msg) = with_message(v);
    let Some(pattern) = p.and_then(Value::as_str).filter(|s| !s.is_empty()) else {
        return Err(ctx.value_err(
            path,
            "must be a regular expression string or [pattern, \"message\"]",
        ));
    };
    if is_js_regex_literal(pattern) {
        return Err(ctx.value_err(
            path,
            "write the pattern without JavaScript's slashes (\"^[a-z]+$\"); flags go inline, e.g. \"(?i)^[a-z]+$\"",
        ));
    }
    // Compiled now, so a bad pattern is reported here and not on every write.
    let pp = if matches!(v, Value::Array(_)) {
        path.index(0)
    } else {
        path.clone()
    };
    match Pattern::new(pattern) {
        Ok(p) => Ok((Some(p), msg)),
        Err(e) => {
            let reason = format!(
                "invalid regular expression: {} (Rust regex syntax: no look-around or backreferences; flags inline, e.g. \"(?i)\")",
                e.reason()
            );
            Err(match e.at() {
                Some(i) => ctx.char_err(&pp, i, reason),
                None => ctx.value_err(&pp, reason),
            })
        }
    }
}

/// `/.../flags`, as pasted from JavaScript source.
fn is_js_regex_literal(p: &str) -> bool {
    p.len() >= 2
        && p.starts_with('/')
        && p.rfind('/')
            .is_some_and(|end| end > 0 && p[end + 1..].chars().all(|c| "dgimsuy".contains(c)))
}

/// Splits Mongoose's `[value, "message"]` form; a plain value has no message.
fn with_message(v: &Value) -> (Option<&Value>, Option<String>) {
    match v {
        Value::Array(a) => match a.as_slice() {
            [value, Value::String(msg)] => (Some(value), Some(msg.clone())),
            _ => (None, None),
        },
        other => (Some(other), None),
    }
}

pub(crate) fn as_uint(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9_007_199_254_740_992.0)
            .map(|f| f as u64)
    })
}

/// `[values]` or `{ "values": [...], "message": "..." }`.
fn parse_enum(
    ctx: &Ctx,
    v: &Value,
    path: &JPath,
    kind: Kind,
) -> Result<(Vec<Value>, Option<String>)> {
    let usage = "must be an array of values or { \"values\": [...], \"message\": \"...\" }";
    let (items, items_path, message) = match v {
        Value::Array(a) => (a, path.clone(), None),
        Value::Object(m) => {
            for k in m.keys() {
                if k != "values" && k != "message" {
                    return Err(ctx.key_err(
                        &path.key(k),
                        format!("unknown key \"{k}\"{}", hint(k, ["values", "message"])),
                    ));
                }
            }
            let Some(Value::Array(a)) = m.get("values") else {
                return Err(ctx.value_err(path, usage));
            };
            let message = match m.get("message") {
                None => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(ctx.value_err(&path.key("message"), "must be a string")),
            };
            (a, path.key("values"), message)
        }
        _ => return Err(ctx.value_err(path, usage)),
    };
    if items.is_empty() {
        return Err(ctx.value_err(&items_path, "needs at least one value"));
    }
    for (i, item) in items.iter().enumerate() {
        let ok = match kind {
            Kind::String => item.is_string() || item.is_null(),
            _ => item.is_number() || item.is_null(),
        };
        if !ok {
            let want = if kind == Kind::String {
                "strings"
            } else {
                "numbers"
            };
            return Err(ctx.value_err(
                &items_path.index(i),
                format!("enum values of {} must be {want}", kind.label()),
            ));
        }
        if enum_contains(&items[..i], item) {
            return Err(ctx.value_err(&items_path.index(i), format!("duplicate enum value {item}")));
        }
    }
    Ok((items.clone(), message))
}

fn parse_index_option(
    ctx: &Ctx,
    v: &Value,
    path: &JPath,
    kind: Kind,
) -> Result<Option<IndexOrder>> {
    let order = match v {
        Value::Bool(true) => IndexOrder::Asc,
        Value::Bool(false) => return Ok(None),
        Value::Number(n) if n.as_f64() == Some(1.0) => IndexOrder::Asc,
        Value::Number(n) if n.as_f64() == Some(-1.0) => IndexOrder::Desc,
        Value::String(s) if s == "text" => {
            if !matches!(kind, Kind::String | Kind::Array | Kind::Mixed) {
                return Err(ctx.value_err(path, "a text index needs a String field"));
            }
            IndexOrder::Text
        }
        Value::String(s) => {
            let extra =
                closest(s, ["text"]).map_or(String::new(), |c| format!(" (did you mean \"{c}\"?)"));
            return Err(ctx.value_err(
                path,
                format!("must be true, false, 1, -1 or \"text\"{extra}; other index types are not supported"),
            ));
        }
        _ => return Err(ctx.value_err(path, "must be true, false, 1, -1 or \"text\"")),
    };
    Ok(Some(order))
}

/// Seconds, or a Mongoose-style duration string with a unit ("30s", "1h", "7d").
fn parse_expires(ctx: &Ctx, v: &Value, path: &JPath) -> Result<u64> {
    let secs = match v {
        Value::Number(_) => as_uint(v),
        Value::String(s) => parse_duration(s),
        _ => None,
    };
    secs.ok_or_else(|| {
        ctx.value_err(
            path,
            "must be a whole number of seconds, or a duration with a unit: \"30s\", \"15m\", \"1h\", \"7d\", \"2w\"",
        )
    })
}

fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Some(30));
        assert_eq!(parse_duration("1h"), Some(3600));
        assert_eq!(parse_duration("7 d"), Some(604_800));
        assert_eq!(parse_duration("3600"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration("1y"), None);
    }

    #[test]
    fn js_regex_literals() {
        assert!(is_js_regex_literal("/^a$/"));
        assert!(is_js_regex_literal("/^a$/i"));
        assert!(!is_js_regex_literal("^a/b$"));
        assert!(!is_js_regex_literal("/"));
    }
}
