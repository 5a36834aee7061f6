//! Every error names the file, the 1-based line and column of the offending
//! key or value, and says what is wrong in plain English.

use dmr_model::{ModelError, parse_model};

use crate::{pos, pos_from};

fn err(src: &str) -> ModelError {
    match parse_model(src, "models/T.json") {
        Ok(def) => panic!("expected an error, parsed {}", def.name),
        Err(e) => e,
    }
}

fn assert_at(e: &ModelError, at: (usize, usize), reason: &str) {
    assert_eq!(e.origin, "models/T.json");
    assert_eq!((e.line, e.column), at, "{e}");
    assert_eq!(e.reason, reason, "{e}");
}

fn assert_at_starts(e: &ModelError, at: (usize, usize), reason_start: &str) {
    assert_eq!((e.line, e.column), at, "{e}");
    assert!(e.reason.starts_with(reason_start), "{e}");
}

#[test]
fn syntax_error() {
    let src = "{\n  \"model\": \"User\",\n  \"schema\": { \"a\": \"String\" \"b\": 1 }\n}\n";
    let e = err(src);
    // serde_json reports the unexpected `"` of "b": line 3, column 29.
    assert_eq!((e.line, e.column), (3, 29), "{e}");
    assert_eq!(e.reason, "invalid JSON: expected `,` or `}`");
    assert_eq!(
        e.to_string(),
        "models/T.json:3:29: invalid JSON: expected `,` or `}`"
    );
}

#[test]
fn syntax_error_columns_count_characters() {
    let src = "{\"model\": \"Usér\", \"schema\": {} x}";
    let e = err(src);
    assert_eq!((e.line, e.column), (1, 32), "{e}");
}

#[test]
fn empty_and_truncated_input() {
    let e = err("");
    assert_eq!((e.line, e.column), (1, 1));
    let e = err("{\n  \"model\": \"User\",\n");
    assert!(e.line >= 2 && e.column >= 1, "{e}");
    assert!(e.reason.starts_with("invalid JSON: EOF"), "{e}");
}

#[test]
fn unknown_type() {
    let src = r#"{
  "model": "User",
  "schema": {
    "nick": "Strin"
  }
}"#;
    assert_at(
        &err(src),
        (4, 13),
        "schema.nick: unknown type \"Strin\" (did you mean \"String\"?); \
         accepted types: String, Number, Boolean, Date, ObjectId, Mixed, Map, Array",
    );
    let src = r#"{"model": "User", "schema": {"photo": {"type": "Buffer"}}}"#;
    assert_at_starts(
        &err(src),
        pos(src, "\"Buffer\""),
        "schema.photo.type: type \"Buffer\" is not supported",
    );
}

#[test]
fn unknown_option_with_suggestion() {
    let src = r#"{
  "model": "User",
  "schema": {
    "email": { "type": "String", "requried": true }
  }
}"#;
    assert_at(
        &err(src),
        (4, 34),
        "schema.email: unknown option \"requried\" (did you mean \"required\"?)",
    );
}

#[test]
fn option_not_applicable_to_type() {
    let cases = [
        (
            "{ \"type\": \"Number\", \"minlength\": 3 }",
            "minlength",
            "Number fields (only to String fields)",
        ),
        (
            "{ \"type\": \"String\", \"min\": 0 }",
            "min",
            "String fields (only to Number fields)",
        ),
        (
            "{ \"type\": \"Number\", \"lowercase\": true }",
            "lowercase",
            "Number fields (only to String fields)",
        ),
        (
            "{ \"type\": \"Boolean\", \"enum\": [true] }",
            "enum",
            "Boolean fields (only to String and Number fields)",
        ),
        (
            "{ \"type\": \"String\", \"expires\": 60 }",
            "expires",
            "String fields (only to Date fields)",
        ),
        (
            "{ \"type\": \"String\", \"of\": \"String\" }",
            "of",
            "String fields (only to Map fields)",
        ),
    ];
    for (field, option, tail) in cases {
        let src =
            format!("{{\n  \"model\": \"M\",\n  \"schema\": {{\n    \"f\": {field}\n  }}\n}}");
        let e = err(&src);
        assert_at(
            &e,
            pos(&src, &format!("\"{option}\"")),
            &format!("schema.f: option \"{option}\" does not apply to {tail}"),
        );
    }
    let src = r#"{"model": "M", "schema": {"tags": {"type": ["String"], "lowercase": true}}}"#;
    assert_at_starts(
        &err(src),
        pos(src, "\"lowercase\""),
        "schema.tags: option \"lowercase\" does not apply to array fields",
    );
}

#[test]
fn bad_index_path() {
    let src = r#"{
  "model": "User",
  "schema": { "email": "String" },
  "indexes": [
    { "fields": { "emial": 1 } }
  ]
}"#;
    assert_at(
        &err(src),
        (5, 19),
        "indexes[0].fields: path \"emial\" is not in the schema (did you mean \"email\"?)",
    );
}

#[test]
fn index_paths_reach_nested_subdocs_and_timestamps() {
    let ok = r#"{"model": "M", "options": {"timestamps": true},
      "schema": {"a": {"b": "Number"}, "items": [{"sku": "String"}], "m": {"type": "Map", "of": "Number"}},
      "indexes": [{"fields": {"a.b": 1, "items.sku": -1}}, {"fields": {"updatedAt": 1}},
                  {"fields": {"items._id": 1}}, {"fields": {"m.anything": 1}}]}"#;
    let def = parse_model(ok, "m").unwrap();
    assert_eq!(def.indexes[0].name, "a.b_1_items.sku_-1");
    let bad =
        r#"{"model": "M", "schema": {"a": "String"}, "indexes": [{"fields": {"createdAt": 1}}]}"#;
    assert_at_starts(
        &err(bad),
        pos(bad, "\"createdAt\""),
        "indexes[0].fields: path \"createdAt\"",
    );
    let bad =
        r#"{"model": "M", "schema": {"a": {"b": "String"}}, "indexes": [{"fields": {"a.c": 1}}]}"#;
    assert_at(
        &err(bad),
        pos(bad, "\"a.c\""),
        "indexes[0].fields: path \"a.c\" is not in the schema (did you mean \"a.b\"?)",
    );
}

#[test]
fn bad_virtual_operator() {
    let src = r#"{
  "model": "User",
  "schema": { "firstName": "String", "lastName": "String" },
  "virtuals": {
    "fullName": { "$concta": ["$firstName", " ", "$lastName"] }
  }
}"#;
    assert_at_starts(
        &err(src),
        (5, 19),
        "virtuals.fullName: unknown operator \"$concta\" (did you mean \"$concat\"?); supported: $concat,",
    );
}

#[test]
fn bad_virtual_path() {
    let src = r#"{"model": "U", "schema": {"firstName": "String"},
  "virtuals": {"fullName": {"$concat": ["$firstName", " ", "$lastNam"]}}}"#;
    assert_at(
        &err(src),
        pos(src, "\"$lastNam\""),
        "virtuals.fullName.$concat[2]: path \"lastNam\" is not in the schema",
    );
}

#[test]
fn missing_model() {
    let src = "\n  {\n    \"schema\": { \"a\": \"String\" }\n  }\n";
    assert_at(
        &err(src),
        (2, 3),
        "missing \"model\", the model's name (e.g. \"model\": \"User\")",
    );
}

#[test]
fn bad_model_and_collection_names() {
    let src = r#"{"model": "1User", "schema": {}}"#;
    assert_at_starts(
        &err(src),
        (1, 11),
        "model: \"1User\" is not a valid model name",
    );
    let src = "{\n  \"model\": \"User\",\n  \"collection\": \"system.users\",\n  \"schema\": {}\n}";
    assert_at(
        &err(src),
        (3, 17),
        "collection: \"system.users\" is not a valid collection name: it starts with \"system.\", which MongoDB reserves",
    );
    for bad in ["", "a$b", "a\\u0000b"] {
        let src = format!(r#"{{"model": "User", "collection": "{bad}", "schema": {{}}}}"#);
        assert_at_starts(&err(&src), (1, 33), "collection: ");
    }
}

#[test]
fn defaulted_collection_follows_mongoose() {
    let def = parse_model(r#"{"model": "Category", "schema": {}}"#, "m").unwrap();
    assert_eq!(def.collection, "categories");
    let def = parse_model(r#"{"model": "Person", "schema": {}}"#, "m").unwrap();
    assert_eq!(def.collection, "people");
}

#[test]
fn unknown_top_level_key_and_option() {
    let src = r#"{"model": "U", "colection": "us", "schema": {}}"#;
    assert_at(
        &err(src),
        (1, 16),
        "unknown top-level key \"colection\" (did you mean \"collection\"?)",
    );
    let src = r#"{"model": "U", "schema": {}, "options": {"timestamp": true}}"#;
    assert_at(
        &err(src),
        pos(src, "\"timestamp\""),
        "options: unknown option \"timestamp\" (did you mean \"timestamps\"?); supported: timestamps, strict",
    );
    let src = r#"{"model": "U", "schema": {}, "options": {"collection": "us"}}"#;
    assert_at_starts(
        &err(src),
        pos(src, "\"collection\""),
        "options: \"collection\" goes at the top level",
    );
    let src = r#"{"model": "U", "schema": {}, "options": {"strict": "yes"}}"#;
    assert_at(
        &err(src),
        pos(src, "\"yes\""),
        "options.strict: must be true, false or \"throw\"",
    );
}

#[test]
fn duplicate_json_keys() {
    let src = "{\n  \"model\": \"U\",\n  \"schema\": {\n    \"a\": { \"type\": \"String\", \"type\": \"Number\" }\n  }\n}";
    let second = pos_from(src, "\"type\"", src.find("\"String\"").unwrap());
    assert_at(&err(src), second, "schema.a: duplicate key \"type\"");
}

#[test]
fn generator_placeholder_position() {
    let src = r#"{"model": "O", "schema": {"n": {"type": "String", "default": {"$generate": "ORD-{uuid}"}}}}"#;
    let (line, col) = pos(src, "\"ORD-");
    assert_at_starts(
        &err(src),
        (line, col + 5),
        "schema.n.default.$generate: character 5 of the template: unknown placeholder \"{uuid}\"",
    );
    let src =
        r#"{"model": "O", "schema": {"n": {"type": "Number", "default": {"$generate": "{now}"}}}}"#;
    assert_at(
        &err(src),
        pos(src, "{\"$generate"),
        "schema.n.default: \"$generate\" is only a default for String fields",
    );
}

#[test]
fn default_type_checks() {
    let src = r#"{"model": "M", "schema": {"n": {"type": "Number", "default": "abc"}}}"#;
    assert_at(
        &err(src),
        pos(src, "\"abc\""),
        "schema.n.default: the default must be a number or null, not a string",
    );
    let src = r#"{"model": "M", "schema": {"r": {"type": "String", "enum": ["a", "b"], "default": "c"}}}"#;
    assert_at(
        &err(src),
        pos(src, "\"c\""),
        "schema.r.default: the default \"c\" is not one of the enum values",
    );
    let src = r#"{"model": "M", "schema": {"d": {"type": "String", "default": "$now"}}}"#;
    assert_at_starts(
        &err(src),
        pos(src, "\"$now\""),
        "schema.d.default: \"$now\" is only a default for Date",
    );
    let src = r#"{"model": "M", "schema": {"t": {"type": ["Number"], "default": [1, "x"]}}}"#;
    assert_at_starts(
        &err(src),
        pos(src, "\"x\""),
        "schema.t.default[1]: the default must be a number",
    );
    let src = r#"{"model": "M", "schema": {"n": {"type": "Number", "min": 5, "default": 1}}}"#;
    assert_at(
        &err(src),
        pos(src, "1}"),
        "schema.n.default: the default is outside min/max",
    );
}

#[test]
fn map_needs_of() {
    let src = r#"{"model": "M", "schema": {"m": {"type": "Map"}}}"#;
    assert_at_starts(
        &err(src),
        pos(src, "\"Map\""),
        "schema.m.type: a Map needs \"of\"",
    );
    let src = r#"{"model": "M", "schema": {"m": "Map"}}"#;
    assert_at_starts(
        &err(src),
        pos(src, "\"Map\""),
        "schema.m: a Map needs \"of\"",
    );
}

#[test]
fn index_conflicts() {
    let src = r#"{"model": "M", "schema": {"a": {"type": "String", "index": "text"}, "b": {"type": "String", "index": "text"}}}"#;
    // Field-level index errors point at the field's definition.
    assert_at_starts(
        &err(src),
        pos_from(src, "{", src.find("\"b\"").unwrap()),
        "schema.b: a collection has at most one text index, and \"a_text\" is already one",
    );
    let src = r#"{"model": "M", "schema": {"a": {"type": "String", "unique": true}},
      "indexes": [{"fields": {"a": 1}}]}"#;
    assert_at(
        &err(src),
        pos(src, "{\"fields\""),
        "indexes[0]: same fields as index \"a_1\" but different options; declare it once",
    );
    let src = r#"{"model": "M", "schema": {"a": {"type": "String", "unique": true}},
      "indexes": [{"fields": {"a": 1}, "options": {"unique": true}}]}"#;
    assert_eq!(
        parse_model(src, "m").unwrap().indexes.len(),
        1,
        "identical specs are kept once"
    );
    let src = r#"{"model": "M", "schema": {"a": "String", "b": "String"},
      "indexes": [{"fields": {"a": 1, "b": 1}, "options": {"expireAfterSeconds": 60}}]}"#;
    assert_at_starts(
        &err(src),
        pos(src, "60"),
        "indexes[0].options.expireAfterSeconds: a TTL index",
    );
    let src =
        r#"{"model": "M", "schema": {"a": {"type": "String", "unique": true, "index": false}}}"#;
    assert_at_starts(
        &err(src),
        pos(src, "\"index\""),
        "schema.a: \"index\": false contradicts",
    );
}

#[test]
fn subdocument_and_nested_rules() {
    let src = r#"{"model": "M", "schema": {"p": {"_id": false, "a": "String"}}}"#;
    assert_at_starts(
        &err(src),
        pos(src, "\"_id\""),
        "schema.p: \"_id\" only belongs in array sub-documents",
    );
    let src = r#"{"model": "M", "schema": {"_id": "String"}}"#;
    assert_at_starts(
        &err(src),
        pos(src, "\"_id\""),
        "schema: \"_id\" is implicit",
    );
    let src = r#"{"model": "M", "schema": {"a.b": "String"}}"#;
    assert_at_starts(
        &err(src),
        pos(src, "\"a.b\""),
        "schema: field names cannot contain \".\"",
    );
    let src = r#"{"model": "M", "schema": {"xs": ["String", "Number"]}}"#;
    assert_at_starts(
        &err(src),
        pos(src, "\"Number\""),
        "schema.xs[1]: an array type declares exactly one",
    );
    let src = r#"{"model": "M", "schema": {"xs": [{"type": "String", "default": "a"}]}}"#;
    assert_at_starts(
        &err(src),
        pos(src, "\"default\""),
        "schema.xs[0]: an array element has no default",
    );
}

#[test]
fn byte_order_mark_is_ignored() {
    let src = "\u{feff}{\"model\": \"U\", \"schema\": {\"a\": \"Strin\"}}";
    let e = err(src);
    assert_eq!((e.line, e.column), (1, 32), "{e}");
}
