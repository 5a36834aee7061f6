//! Casting one scalar value as Mongoose 8's cast functions do
//! (`lib/cast/*.js`), with the CastError kinds and reasons its schema types
//! report.

use serde_json::{Map, Value};

use crate::date;
use crate::doc_path::DocPath;
use crate::field::FieldOptions;
use crate::js;
use crate::object_id;
use crate::validation_error::FieldError;

type Cast = Result<Value, FieldError>;

/// String: strings as given, numbers and booleans as JavaScript prints them,
/// an object with a string `_id` (a document) as that id; arrays and other
/// objects are a CastError. Then the setters (`trim`, `lowercase`, `uppercase`).
pub(crate) fn string(v: &Value, opts: &FieldOptions, path: &DocPath) -> Cast {
    let s = match v {
        Value::Null => return Ok(Value::Null),
        Value::String(s) => return Ok(Value::String(setters(s, opts))),
        Value::Number(n) => js::number_string(n),
        Value::Bool(b) => b.to_string(),
        Value::Object(m) => match m.get("_id") {
            Some(Value::String(id)) => id.clone(),
            _ => {
                return Err(FieldError::cast(
                    "string",
                    v.clone(),
                    &path.to_string(),
                    None,
                ));
            }
        },
        Value::Array(_) => {
            return Err(FieldError::cast(
                "string",
                v.clone(),
                &path.to_string(),
                None,
            ));
        }
    };
    Ok(Value::String(setters(&s, opts)))
}

fn setters(s: &str, o: &FieldOptions) -> String {
    if o.trim || o.lowercase || o.uppercase {
        o.apply_setters(s)
    } else {
        s.to_owned()
    }
}

/// Number: numbers; strings through `Number()` ("" is null); booleans as 1/0.
/// Hexadecimal/octal/binary strings and infinities are refused (see docs).
pub(crate) fn number(v: &Value, path: &DocPath) -> Cast {
    let fail = || FieldError::cast("Number", v.clone(), &path.to_string(), None);
    match v {
        Value::Null => Ok(Value::Null),
        Value::Number(n) => Ok(js::normalize_number(n)),
        Value::Bool(b) => Ok(Value::from(i64::from(*b))),
        Value::String(s) if s.is_empty() => Ok(Value::Null),
        Value::String(s) => {
            if js::radix_literal(js::trim(s)).is_some() {
                return Err(fail());
            }
            js::parse_number(s)
                .and_then(js::json_number)
                .ok_or_else(fail)
        }
        _ => Err(fail()),
    }
}

/// Boolean: `true, "true", 1, "1", "yes"` and `false, "false", 0, "0", "no"`.
pub(crate) fn boolean(v: &Value, path: &DocPath) -> Cast {
    match v {
        Value::Null => Ok(Value::Null),
        Value::Bool(_) => Ok(v.clone()),
        Value::String(s) if matches!(s.as_str(), "true" | "1" | "yes") => Ok(Value::Bool(true)),
        Value::String(s) if matches!(s.as_str(), "false" | "0" | "no") => Ok(Value::Bool(false)),
        Value::Number(n) if n.as_f64() == Some(1.0) => Ok(Value::Bool(true)),
        Value::Number(n) if n.as_f64() == Some(0.0) => Ok(Value::Bool(false)),
        // Mongoose's SchemaBoolean wraps the CastError castBoolean threw.
        _ => Err(FieldError::cast(
            "Boolean",
            v.clone(),
            &path.to_string(),
            Some("CastError"),
        )),
    }
}

/// Date: epoch milliseconds (numbers, and numeric strings from 275761 up or
/// below -271820, Mongoose's rule), ISO-8601 strings, `{"$date": ...}`;
/// "" is null. Stored as an ISO string with milliseconds.
pub(crate) fn date(v: &Value, path: &DocPath) -> Cast {
    let millis = match v {
        Value::Null => return Ok(Value::Null),
        Value::String(s) if s.is_empty() => return Ok(Value::Null),
        Value::Number(n) => n.as_f64().and_then(date::from_number),
        Value::String(s) => match js::parse_number(s) {
            Some(n) if !(-271_820.0..275_761.0).contains(&n) => date::from_number(n),
            _ => date::parse_iso(s),
        },
        Value::Object(m) => extended_date(m),
        _ => None,
    };
    millis
        .map(|ms| Value::String(date::format_iso(ms)))
        .ok_or_else(|| FieldError::cast("date", v.clone(), &path.to_string(), None))
}

/// MongoDB extended JSON: `{"$date": "2024-..."}`, `{"$date": 1700000000000}`
/// or `{"$date": {"$numberLong": "1700000000000"}}`.
fn extended_date(m: &Map<String, Value>) -> Option<i64> {
    if m.len() != 1 {
        return None;
    }
    match m.get("$date")? {
        Value::String(s) => date::parse_iso(s),
        Value::Number(n) => n.as_f64().and_then(date::from_number),
        Value::Object(inner) if inner.len() == 1 => {
            let ms = inner.get("$numberLong")?.as_str()?.parse::<i64>().ok()?;
            (ms.abs() <= date::MAX_MILLIS).then_some(ms)
        }
        _ => None,
    }
}

/// ObjectId: 24 hex characters (stored lowercase), `{"$oid": hex}`, or a
/// document whose `_id` is one. The driver's BSONError is the reason.
pub(crate) fn object_id(v: &Value, path: &DocPath) -> Cast {
    match v {
        Value::Null => Ok(Value::Null),
        _ => hex_id(v)
            .map(|s| Value::String(s.to_ascii_lowercase()))
            .ok_or_else(|| {
                FieldError::cast("ObjectId", v.clone(), &path.to_string(), Some("BSONError"))
            }),
    }
}

fn hex_id(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) if object_id::is_valid(s) => Some(s),
        Value::Object(m) if m.len() == 1 && m.contains_key("$oid") => {
            m.get("$oid")?.as_str().filter(|s| object_id::is_valid(s))
        }
        Value::Object(m) => match m.get("_id")? {
            id @ (Value::String(_) | Value::Object(_)) => hex_id(id),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_from_documents() {
        let id = "507f1f77bcf86cd799439011";
        assert_eq!(
            object_id(&json!({"_id": {"$oid": id}}), &DocPath::Root),
            Ok(json!(id))
        );
        assert!(object_id(&json!({"_id": 5}), &DocPath::Root).is_err());
        assert!(object_id(&json!({"$oid": id, "x": 1}), &DocPath::Root).is_err());
    }

    #[test]
    fn extended_dates() {
        assert_eq!(
            date(&json!({"$date": {"$numberLong": "0"}}), &DocPath::Root),
            Ok(json!("1970-01-01T00:00:00.000Z"))
        );
        assert!(date(&json!({"$date": "x"}), &DocPath::Root).is_err());
        assert!(date(&json!({"$date": 1, "y": 2}), &DocPath::Root).is_err());
    }
}
