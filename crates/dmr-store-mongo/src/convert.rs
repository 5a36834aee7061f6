//! JSON documents <-> BSON, so stored documents look exactly like Mongoose's: ObjectIds and
//! Dates where the schema declares them (`Schema::native_type`), numbers as the Node driver
//! writes them (Int32 when they fit, else Int64 or Double). Reading needs no schema: every
//! BSON type has one JSON form (ObjectId -> 24 hex digits, Date -> ISO-8601 with
//! milliseconds, integral Doubles -> integers, as JavaScript prints them). Dates are read
//! and printed by `dmr_model::date`, as the model cast them.

use dmr_model::{NativeType, Schema, date};
use mongodb::bson::{Bson, DateTime, Document, oid::ObjectId};
use serde_json::{Map, Number, Value};

/// Largest integer a Double holds exactly (2^53), as JavaScript's `Number.MAX_SAFE_INTEGER`.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A top-level document (a JSON object) for writing.
pub(crate) fn document(doc: &Value, schema: &Schema) -> Document {
    match doc {
        Value::Object(map) => object(map, "", schema),
        _ => Document::new(),
    }
}

fn object(map: &Map<String, Value>, prefix: &str, schema: &Schema) -> Document {
    map.iter()
        .map(|(key, value)| {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            (key.clone(), at_path(value, &path, schema))
        })
        .collect()
}

/// A value at `path` (arrays transparent), converted with the path's native type.
pub(crate) fn at_path(value: &Value, path: &str, schema: &Schema) -> Bson {
    match value {
        Value::Object(map) => Bson::Document(object(map, path, schema)),
        Value::Array(items) => {
            Bson::Array(items.iter().map(|v| at_path(v, path, schema)).collect())
        }
        Value::String(s) => typed_string(s, native_type(schema, path)),
        Value::Number(n) => number(n),
        Value::Bool(b) => Bson::Boolean(*b),
        Value::Null => Bson::Null,
    }
}

/// The native type at a path as a filter or sort names it: positional segments
/// (`items.0.productId`) address array elements, which the schema sees through.
pub(crate) fn native_type(schema: &Schema, path: &str) -> Option<NativeType> {
    schema.native_type(path).or_else(|| {
        let positional = |s: &&str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !path.split('.').any(|s| positional(&s)) {
            return None;
        }
        let stripped: Vec<&str> = path.split('.').filter(|s| !positional(s)).collect();
        schema.native_type(&stripped.join("."))
    })
}

/// A string becomes an ObjectId or a Date when the schema says so and it is one (the model
/// layer has already cast and validated it; anything else is kept as given).
fn typed_string(s: &str, native: Option<NativeType>) -> Bson {
    match native {
        Some(NativeType::ObjectId) => match ObjectId::parse_str(s) {
            Ok(id) => Bson::ObjectId(id),
            Err(_) => Bson::String(s.to_owned()),
        },
        Some(NativeType::Date) => match date::parse_iso(s) {
            Some(ms) => Bson::DateTime(DateTime::from_millis(ms)),
            None => Bson::String(s.to_owned()),
        },
        None => Bson::String(s.to_owned()),
    }
}

fn number(n: &Number) -> Bson {
    if let Some(i) = n.as_i64() {
        i32::try_from(i).map_or(Bson::Int64(i), Bson::Int32)
    } else {
        Bson::Double(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// A stored document as JSON.
pub(crate) fn json_document(doc: Document) -> Value {
    Value::Object(doc.into_iter().map(|(k, v)| (k, json(v))).collect())
}

pub(crate) fn json(value: Bson) -> Value {
    match value {
        Bson::Null | Bson::Undefined | Bson::MinKey | Bson::MaxKey => Value::Null,
        Bson::Boolean(b) => Value::Bool(b),
        Bson::Int32(i) => Value::from(i),
        Bson::Int64(i) => Value::from(i),
        Bson::Double(f) => double(f),
        Bson::String(s) | Bson::Symbol(s) | Bson::JavaScriptCode(s) => Value::String(s),
        Bson::ObjectId(id) => Value::String(id.to_hex()),
        Bson::DateTime(at) => iso(at).map_or(Value::Null, Value::String),
        Bson::Document(doc) => json_document(doc),
        Bson::Array(items) => Value::Array(items.into_iter().map(json).collect()),
        Bson::Decimal128(d) => Value::String(d.to_string()),
        // Rare in Mongoose documents; their canonical extended-JSON text keeps them legible.
        other => Value::String(other.to_string()),
    }
}

/// Integral Doubles print as integers, as JavaScript prints them (`10`, not `10.0`);
/// NaN and infinities have no JSON form and read as null, as `JSON.stringify` does.
fn double(f: f64) -> Value {
    if f.is_finite() && f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER {
        Value::from(f as i64)
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

/// What JavaScript's `Date.toISOString()` prints; `None` for a BSON Date outside
/// JavaScript's range, which the Node driver reads as an Invalid Date (`null` in JSON).
pub(crate) fn iso(at: DateTime) -> Option<String> {
    let ms = at.timestamp_millis();
    (-date::MAX_MILLIS..=date::MAX_MILLIS)
        .contains(&ms)
        .then(|| date::format_iso(ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Schema {
        dmr_model::parse_model(
            r#"{"model": "Order", "options": {"timestamps": true}, "schema": {
                "customerId": {"type": "ObjectId"},
                "items": [{"productId": "ObjectId", "sku": "String"}],
                "paidAt": "Date",
                "note": "String",
                "meta": "Mixed"
            }}"#,
            "order.json",
        )
        .unwrap()
        .schema
    }

    #[test]
    fn native_types_where_the_schema_declares_them_and_back() {
        let doc = json!({
            "_id": "65a1b2c3d4e5f60718293a4b",
            "customerId": "65a1b2c3d4e5f60718293a4c",
            "items": [{"productId": "65a1b2c3d4e5f60718293a4d", "sku": "65a1b2c3d4e5f60718293a4e"}],
            "paidAt": "2024-01-02T03:04:05.678Z",
            "note": "2024-01-02T03:04:05.678Z",
            "meta": {"when": "2024-01-02T03:04:05.678Z"},
            "n": 3, "big": 5_000_000_000_i64, "f": 2.5, "whole": 7.0, "flag": true, "none": null,
        });
        let bson = document(&doc, &schema());
        assert!(matches!(bson.get("_id"), Some(Bson::ObjectId(_))));
        assert!(matches!(bson.get("customerId"), Some(Bson::ObjectId(_))));
        let item = bson.get_array("items").unwrap()[0].as_document().unwrap();
        assert!(matches!(item.get("productId"), Some(Bson::ObjectId(_))));
        assert!(
            matches!(item.get("sku"), Some(Bson::String(_))),
            "a String field stays one"
        );
        assert!(matches!(bson.get("paidAt"), Some(Bson::DateTime(_))));
        assert!(matches!(bson.get("note"), Some(Bson::String(_))));
        assert!(matches!(
            bson.get_document("meta").unwrap().get("when"),
            Some(Bson::String(_))
        ));
        assert_eq!(bson.get("n"), Some(&Bson::Int32(3)));
        assert_eq!(bson.get("big"), Some(&Bson::Int64(5_000_000_000)));
        assert_eq!(bson.get("f"), Some(&Bson::Double(2.5)));
        let mut expected = doc.clone();
        expected["whole"] = json!(7);
        assert_eq!(json_document(bson), expected);
    }

    #[test]
    fn values_that_are_not_what_the_schema_says_are_kept() {
        let bson = document(
            &json!({"customerId": "not-an-id", "paidAt": "soon"}),
            &schema(),
        );
        assert_eq!(
            bson.get("customerId"),
            Some(&Bson::String("not-an-id".into()))
        );
        assert_eq!(bson.get("paidAt"), Some(&Bson::String("soon".into())));
    }

    #[test]
    fn positional_paths_find_their_element_type() {
        let s = schema();
        assert_eq!(
            native_type(&s, "items.0.productId"),
            Some(NativeType::ObjectId)
        );
        assert_eq!(
            native_type(&s, "items.productId"),
            Some(NativeType::ObjectId)
        );
        assert_eq!(native_type(&s, "items.0.sku"), None);
    }

    #[test]
    fn doubles_read_as_javascript_prints_them() {
        assert_eq!(json(Bson::Double(10.0)), json!(10));
        assert_eq!(json(Bson::Double(0.1)), json!(0.1));
        assert_eq!(json(Bson::Double(f64::NAN)), Value::Null);
        assert_eq!(json(Bson::Double(1e300)), json!(1e300));
        assert_eq!(
            json(Bson::DateTime(DateTime::from_millis(-1))),
            json!("1969-12-31T23:59:59.999Z")
        );
    }

    /// Dates read as `toISOString` prints them over JavaScript's whole range (the time
    /// crate's formatter, used before, panicked past year 9999); beyond it, as the Node
    /// driver's Invalid Date reads in JSON.
    #[test]
    fn dates_read_over_javascripts_range() {
        let read = |ms| json(Bson::DateTime(DateTime::from_millis(ms)));
        assert_eq!(
            read(253_402_300_800_000),
            json!("+010000-01-01T00:00:00.000Z")
        );
        assert_eq!(read(date::MAX_MILLIS), json!("+275760-09-13T00:00:00.000Z"));
        assert_eq!(
            read(-date::MAX_MILLIS),
            json!("-271821-04-20T00:00:00.000Z")
        );
        assert_eq!(read(date::MAX_MILLIS + 1), Value::Null);
        assert_eq!(read(i64::MIN), Value::Null);
    }

    /// What the model casts a Date to (`toISOString`) is stored as a BSON Date, and reads
    /// back as the same string. Strict RFC 3339 (the parser before) refused the
    /// extended years `toISOString` prints outside 0-9999 and stored them as strings.
    #[test]
    fn every_date_the_model_casts_is_stored_as_a_date() {
        let schema = schema();
        for ms in [
            0,
            -1,
            1_704_164_645_678,
            253_402_300_800_000,
            -62_198_755_200_000,
        ] {
            let cast = date::format_iso(ms);
            let bson = at_path(&json!(cast), "paidAt", &schema);
            assert_eq!(bson, Bson::DateTime(DateTime::from_millis(ms)), "{cast}");
            assert_eq!(json(bson), json!(cast));
        }
    }

    /// The Date path reads strings as the model does (V8's lenient ISO form). Only strings
    /// in `toISOString` form reach it from the registry (documents and filter values are cast
    /// first), but these are the forms whose fate changed with the parser: date-only and
    /// minute-precision forms and offsets without a colon are Dates now, RFC 3339's other
    /// separators and leap seconds are kept as strings.
    #[test]
    fn date_strings_are_read_as_the_model_reads_them() {
        let schema = schema();
        let stored = |s: &str| at_path(&json!(s), "paidAt", &schema);
        for (s, ms) in [
            ("2024-01-02", 1_704_153_600_000),
            ("2024-01-02T03:04Z", 1_704_164_640_000),
            ("2024-01-02T03:04:05+0100", 1_704_161_045_000),
            ("+010000-01-01T00:00:00.000Z", 253_402_300_800_000),
        ] {
            assert_eq!(stored(s), Bson::DateTime(DateTime::from_millis(ms)), "{s}");
        }
        for s in ["2024-01-02x03:04:05Z", "2016-12-31T23:59:60Z"] {
            assert_eq!(stored(s), Bson::String(s.to_owned()), "{s}");
        }
    }
}
