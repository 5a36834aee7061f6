//! Happy paths of the format that the shipped models do not exercise.

use dmr_model::{DefaultValue, FieldType, IndexOrder, ModelDef, Strict, parse_model};
use serde_json::json;

fn parse(src: &str) -> ModelDef {
    parse_model(src, "f.json").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn field_level_index_options() {
    let def = parse(
        r#"{"model": "M", "schema": {
            "a": {"type": "Number", "index": -1},
            "b": {"type": "String", "sparse": true, "unique": true},
            "c": {"type": "Date", "expires": "1h"},
            "d": {"type": "Date", "expires": 60, "index": true},
            "e": {"type": ["String"], "index": true},
            "f": [{"type": "String", "unique": true}],
            "g": {"type": "String", "index": false},
            "h": {"p": {"q": {"type": "ObjectId", "index": true}}}
        }}"#,
    );
    let summary: Vec<_> = def
        .indexes
        .iter()
        .map(|i| {
            (
                i.name.as_str(),
                i.keys[0].order,
                i.unique,
                i.sparse,
                i.expire_after_seconds,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("a_-1", IndexOrder::Desc, false, false, None),
            ("b_1", IndexOrder::Asc, true, true, None),
            ("c_1", IndexOrder::Asc, false, false, Some(3600)),
            ("d_1", IndexOrder::Asc, false, false, Some(60)),
            ("e_1", IndexOrder::Asc, false, false, None),
            ("f_1", IndexOrder::Asc, true, false, None),
            ("h.p.q_1", IndexOrder::Asc, false, false, None),
        ]
    );
}

#[test]
fn declared_index_options() {
    let def = parse(
        r#"{"model": "M", "schema": {"a": "String", "b": "Number", "seen": "Date"},
            "indexes": [
              {"fields": {"a": 1, "b": -1}, "options": {"name": "custom", "unique": true, "sparse": true, "background": true}},
              {"fields": {"seen": 1}, "options": {"expireAfterSeconds": 0}}
            ]}"#,
    );
    let i = &def.indexes[0];
    assert_eq!(
        (i.name.as_str(), i.unique, i.sparse),
        ("custom", true, true)
    );
    assert_eq!(def.indexes[1].expire_after_seconds, Some(0));
    assert_eq!(def.indexes[1].name, "seen_1");
}

#[test]
fn type_forms() {
    let def = parse(
        r#"{"model": "M", "schema": {
            "any": {}, "list": [], "arr": "Array", "oid": "Schema.Types.ObjectId",
            "mixed": "Schema.Types.Mixed", "grid": [["Number"]], "blobs": [{}],
            "asset": {"type": {"type": "String"}, "name": "String"},
            "docs": {"type": [{"_id": false, "x": "Number"}], "required": true},
            "labels": {"type": "Map", "of": {"type": "String", "trim": true}, "default": {"k": " v "}},
            "nested": {"type": "Map", "of": {"inner": "Boolean"}}
        }}"#,
    );
    let ty = |n: &str| &def.schema.field(n).unwrap().ty;
    assert_eq!(*ty("any"), FieldType::Mixed);
    assert_eq!(*ty("oid"), FieldType::ObjectId);
    assert_eq!(*ty("mixed"), FieldType::Mixed);
    for n in ["list", "arr", "blobs"] {
        assert!(
            matches!(ty(n), FieldType::Array(el) if el.ty == FieldType::Mixed),
            "{n}"
        );
    }
    assert!(
        matches!(ty("grid"), FieldType::Array(el) if matches!(&el.ty, FieldType::Array(inner) if inner.ty == FieldType::Number))
    );
    let FieldType::Object(asset) = ty("asset") else {
        panic!("asset")
    };
    assert_eq!(asset.field("type").unwrap().ty, FieldType::String);
    let docs = def.schema.field("docs").unwrap();
    assert!(docs.opts.required);
    assert!(matches!(&docs.ty, FieldType::SubDocs(s) if !s.id));
    let labels = def.schema.field("labels").unwrap();
    assert_eq!(
        labels.opts.default,
        Some(DefaultValue::Literal(json!({"k": "v"})))
    );
    assert!(matches!(ty("nested"), FieldType::Map(v) if matches!(v.ty, FieldType::Object(_))));
}

#[test]
fn messages_and_validation_options() {
    let def = parse(
        r#"{"model": "M", "schema": {
            "s": {"type": "String", "required": [true, "s please"], "minlength": [2, "short"],
                  "maxlength": [5, "long"], "match": ["^[a-z]+$", "letters"],
                  "enum": {"values": ["ab", "cd"], "message": "which?"}, "default": "  AB ",
                  "trim": true, "lowercase": true},
            "n": {"type": "Number", "min": [0, "low"], "max": 10.5, "enum": [1, 2.5, null]},
            "when": {"type": "Date", "default": "$now"},
            "at": {"type": "Date", "default": 1700000000000}
        }}"#,
    );
    let s = &def.schema.field("s").unwrap().opts;
    assert_eq!(s.required_message.as_deref(), Some("s please"));
    assert_eq!(
        (s.minlength, s.minlength_message.as_deref()),
        (Some(2), Some("short"))
    );
    assert_eq!(
        (s.maxlength, s.maxlength_message.as_deref()),
        (Some(5), Some("long"))
    );
    assert_eq!(s.match_pattern.as_deref(), Some("^[a-z]+$"));
    assert_eq!(s.match_message.as_deref(), Some("letters"));
    assert_eq!(s.enum_message.as_deref(), Some("which?"));
    assert_eq!(
        s.default,
        Some(DefaultValue::Literal(json!("ab"))),
        "setters apply to defaults"
    );
    let n = &def.schema.field("n").unwrap().opts;
    assert_eq!(
        (n.min, n.min_message.as_deref(), n.max),
        (Some(0.0), Some("low"), Some(10.5))
    );
    assert_eq!(
        def.schema.field("when").unwrap().opts.default,
        Some(DefaultValue::Now)
    );
}

#[test]
fn options_and_defaults_of_the_file() {
    let def = parse(r#"{"model": "Category", "schema": {}}"#);
    assert_eq!(def.collection, "categories");
    assert!(!def.timestamps);
    assert_eq!(def.strict, Strict::Drop);
    assert!(def.indexes.is_empty() && def.virtuals.is_empty());
    assert_eq!(
        parse(r#"{"model": "M", "schema": {}, "options": {"strict": false}}"#).strict,
        Strict::Off
    );
    assert_eq!(
        parse(r#"{"model": "M", "schema": {}, "options": {"strict": "throw"}}"#).strict,
        Strict::Throw
    );
    let def = parse(
        r#"{"model": "M", "options": {"timestamps": true}, "schema": {"createdAt": {"type": "Date", "index": true}}}"#,
    );
    let names: Vec<&str> = def.schema.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["createdAt", "updatedAt"],
        "a declared createdAt is kept, not repeated"
    );
    assert_eq!(def.indexes[0].name, "createdAt_1");
}

#[test]
fn virtual_forms() {
    let def = parse(
        r#"{"model": "M", "schema": {"a": "Number", "b": "Number", "tags": ["String"], "m": {"type": "Map", "of": "Number"}},
            "virtuals": {
              "size": {"$size": ["$tags"]}, "lit": {"$literal": "$a"}, "pair": ["$a", "$b"],
              "ratio": {"$divide": ["$a", "$b"]}, "first": {"$ifNull": ["$a", "$b", 0]},
              "fromMap": "$m.x", "id": "$_id", "total": {"$sum": ["$a", "$b", "$tags"]}
            }}"#,
    );
    let doc = json!({"_id": "X", "a": 6, "b": 4, "tags": ["x", "y"], "m": {"x": 1}});
    let eval = |n: &str| def.virtual_def(n).unwrap().eval(&doc);
    assert_eq!(eval("size"), json!(2));
    assert_eq!(eval("lit"), json!("$a"));
    assert_eq!(eval("pair"), json!([6, 4]));
    assert_eq!(eval("ratio"), json!(1.5));
    assert_eq!(eval("first"), json!(6));
    assert_eq!(eval("fromMap"), json!(1));
    assert_eq!(eval("id"), json!("X"));
    assert_eq!(eval("total"), json!(10));
}
