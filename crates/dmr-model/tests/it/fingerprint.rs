//! Fingerprints ignore formatting and meaningless key order, and change with
//! any change of meaning; the normalised definition parses back to itself.

use std::collections::HashSet;

use dmr_model::{ModelDef, parse_model};
use serde_json::{Map, Value, json};

use crate::{ORDER, PRODUCT, USER};

fn fp(src: &str) -> String {
    parse_model(src, "m")
        .unwrap_or_else(|e| panic!("{e}"))
        .fingerprint
}

fn reversed(m: &Map<String, Value>) -> Map<String, Value> {
    m.iter()
        .rev()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Reverses every key order that carries no meaning: top-level keys,
/// "options", each field object's options, each index entry and its
/// options. Field order, index key order and virtual order are kept.
fn shuffle_meaningless(v: &Value) -> Value {
    let top = v.as_object().unwrap();
    let mut out = Map::new();
    for (k, v) in top.iter().rev() {
        let v = match k.as_str() {
            "options" => Value::Object(reversed(v.as_object().unwrap())),
            "schema" => shuffle_fields(v),
            "indexes" => Value::Array(
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|i| {
                        let mut i = reversed(i.as_object().unwrap());
                        if let Some(Value::Object(o)) = i.get_mut("options") {
                            *o = reversed(o);
                        }
                        Value::Object(i)
                    })
                    .collect(),
            ),
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

fn shuffle_fields(schema: &Value) -> Value {
    let fields = schema.as_object().unwrap();
    Value::Object(
        fields
            .iter()
            .map(|(name, f)| {
                let f = match f {
                    Value::Object(m) if m.contains_key("type") => Value::Object(reversed(m)),
                    Value::Object(m) => shuffle_fields(&Value::Object(m.clone())),
                    Value::Array(a) => Value::Array(
                        a.iter()
                            .map(|el| match el {
                                Value::Object(m) if m.contains_key("type") => {
                                    Value::Object(reversed(m))
                                }
                                Value::Object(_) => shuffle_fields(el),
                                other => other.clone(),
                            })
                            .collect(),
                    ),
                    other => other.clone(),
                };
                (name.clone(), f)
            })
            .collect(),
    )
}

#[test]
fn shape() {
    for src in [USER, PRODUCT, ORDER] {
        let f = fp(src);
        assert_eq!(f.len(), 16);
        assert!(
            f.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{f}"
        );
    }
    let all: HashSet<String> = [USER, PRODUCT, ORDER].iter().map(|s| fp(s)).collect();
    assert_eq!(all.len(), 3);
}

#[test]
fn stable_under_formatting_and_key_order() {
    for src in [USER, PRODUCT, ORDER] {
        let original = fp(src);
        let v: Value = serde_json::from_str(src).unwrap();
        assert_eq!(fp(&v.to_string()), original, "compact");
        assert_eq!(
            fp(&serde_json::to_string_pretty(&v).unwrap()),
            original,
            "pretty"
        );
        let shuffled = shuffle_meaningless(&v);
        assert_ne!(
            shuffled.to_string(),
            v.to_string(),
            "the shuffle changed nothing"
        );
        assert_eq!(fp(&shuffled.to_string()), original, "reordered keys");
    }
}

#[test]
fn stable_under_equivalent_spellings() {
    let a = r#"{"model": "M", "schema": {"a": "String", "b": ["Number"], "c": {}}}"#;
    let b = r#"{"model": "M", "collection": "ms", "options": {"strict": true, "timestamps": false},
      "schema": {"a": {"type": "String"}, "b": {"type": [{"type": "Number"}]}, "c": "Mixed"},
      "indexes": [], "virtuals": {}}"#;
    assert_eq!(fp(a), fp(b));
    let c = r#"{"model": "M", "schema": {"n": {"type": "Number", "min": 0.0, "default": 1.0}}}"#;
    let d = r#"{"model": "M", "schema": {"n": {"default": 1, "min": 0, "type": "Schema.Types.Number"}}}"#;
    assert_eq!(fp(c), fp(d));
}

#[test]
fn changes_with_meaning() {
    let base: Value = serde_json::from_str(USER).unwrap();
    type Edit = Box<dyn Fn(&mut Value)>;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "default",
            Box::new(|v| v["schema"]["role"]["default"] = json!("admin")),
        ),
        (
            "enum order",
            Box::new(|v| v["schema"]["role"]["enum"] = json!(["user", "admin", "moderator"])),
        ),
        (
            "required",
            Box::new(|v| v["schema"]["lastName"]["required"] = json!(false)),
        ),
        (
            "trim",
            Box::new(|v| v["schema"]["lastName"]["trim"] = json!(false)),
        ),
        (
            "new field",
            Box::new(|v| v["schema"]["nick"] = json!("String")),
        ),
        (
            "type",
            Box::new(|v| v["schema"]["lastLogin"] = json!("String")),
        ),
        (
            "index dir",
            Box::new(|v| v["indexes"][1]["fields"]["createdAt"] = json!(1)),
        ),
        (
            "index option",
            Box::new(|v| v["indexes"][0]["options"] = json!({"sparse": true})),
        ),
        (
            "index name",
            Box::new(|v| v["indexes"][0]["options"] = json!({"name": "x"})),
        ),
        (
            "collection",
            Box::new(|v| v["collection"] = json!("people")),
        ),
        ("name", Box::new(|v| v["model"] = json!("Person"))),
        (
            "timestamps",
            Box::new(|v| {
                // Same fields, declared by hand instead of maintained automatically.
                v["options"]["timestamps"] = json!(false);
                v["schema"]["createdAt"] = json!("Date");
                v["schema"]["updatedAt"] = json!("Date");
            }),
        ),
        (
            "strict",
            Box::new(|v| v["options"]["strict"] = json!("throw")),
        ),
        (
            "virtual",
            Box::new(|v| v["virtuals"]["fullName"]["$concat"][1] = json!("-")),
        ),
        (
            "message",
            Box::new(|v| v["schema"]["email"]["required"] = json!([true, "email please"])),
        ),
        (
            "field order",
            Box::new(|v| {
                let r = reversed(v["schema"].as_object().unwrap());
                v["schema"] = Value::Object(r);
            }),
        ),
    ];
    let mut seen = HashSet::new();
    seen.insert(fp(&base.to_string()));
    for (what, edit) in edits {
        let mut v = base.clone();
        edit(&mut v);
        let f = fp(&v.to_string());
        assert!(seen.insert(f), "{what} did not change the fingerprint");
    }
}

#[test]
fn normalised_definition_round_trips() {
    for src in [USER, PRODUCT, ORDER] {
        let def = parse_model(src, "m").unwrap();
        let json = def.source_json();
        let again =
            ModelDef::from_source_json(&json, "db").unwrap_or_else(|e| panic!("{e}\n{json:#}"));
        assert_eq!(again, def);
        assert_eq!(again.source_json(), json);
    }
}

#[test]
fn normalised_user_is_readable() {
    let def = parse_model(USER, "m").unwrap();
    let json = def.source_json();
    assert_eq!(
        json["schema"]["email"],
        json!({"type": "String", "required": true, "lowercase": true, "trim": true, "unique": true, "index": 1})
    );
    assert_eq!(
        json["schema"]["metadata"],
        json!({"type": "Map", "of": {"type": "Mixed"}})
    );
    assert_eq!(json["schema"]["createdAt"], json!({"type": "Date"}));
    // Field-level indexes are implied by the fields; only declared ones are listed.
    assert_eq!(
        json["indexes"],
        json!([{"fields": {"email": 1, "isActive": 1}}, {"fields": {"createdAt": -1}}])
    );
    assert_eq!(json["options"], json!({"timestamps": true, "strict": true}));
}

#[test]
fn floats_survive_normalisation_exactly() {
    // serde_json alone reads this one ULP off; a stored definition read back
    // must keep its fingerprint.
    let src = r#"{"model": "M", "schema": {"n": {"type": "Number", "min": -1.6023069342110666e97, "max": 0.1}},
      "virtuals": {"v": {"$add": ["$n", 2.2250738585072014e-308]}}}"#;
    let def = parse_model(src, "m").unwrap();
    let again = ModelDef::from_source_json(&def.source_json(), "db").unwrap();
    assert_eq!(again, def);
    assert_eq!(
        def.schema.field("n").unwrap().opts.min,
        Some(-1.6023069342110666e97)
    );
}
