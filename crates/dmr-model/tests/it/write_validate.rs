//! The built-in validators, with Mongoose's messages, kinds and templating.

use dmr_model::parse_model;
use serde_json::json;

use crate::pos;
use crate::write_support::{insert_err, insert_ok, summary, with_schema};

fn one_error(schema: &str, doc: serde_json::Value) -> (String, String, String) {
    let def = with_schema(schema, "");
    let e = insert_err(&def, &doc);
    assert_eq!(e.errors.len(), 1, "{e}");
    summary(&e).remove(0)
}

fn t(path: &str, kind: &str, msg: &str) -> (String, String, String) {
    (path.to_owned(), kind.to_owned(), msg.to_owned())
}

#[test]
fn required() {
    let s = r#""name": { "type": "String", "required": true }, "n": { "type": "Number", "required": true },
              "list": { "type": ["String"], "required": true }"#;
    let def = with_schema(s, "");
    let e = insert_err(&def, &json!({"name": "", "n": null}));
    assert_eq!(
        summary(&e),
        [
            t("name", "required", "Path `name` is required."),
            t("n", "required", "Path `n` is required."),
        ]
    );
    // Arrays pass `required` even when empty (and default to []).
    let out = insert_ok(&def, &json!({"name": "a", "n": 0}));
    assert_eq!(out["list"], json!([]));
    assert_eq!(
        e.errors[0].to_json(),
        json!({
            "name": "ValidatorError",
            "message": "Path `name` is required.",
            "properties": {"message": "Path `name` is required.", "type": "required", "path": "name", "value": ""},
            "kind": "required",
            "path": "name",
            "value": ""
        })
    );
}

#[test]
fn enums() {
    let s = r#""role": { "type": "String", "enum": ["a", "b"] }, "level": { "type": "Number", "enum": [1, 2] }"#;
    let def = with_schema(s, "");
    let e = insert_err(&def, &json!({"role": "c", "level": "3"}));
    assert_eq!(
        summary(&e),
        [
            t(
                "role",
                "enum",
                "`c` is not a valid enum value for path `role`."
            ),
            t(
                "level",
                "enum",
                "`3` is not a valid enum value for path `level`."
            ),
        ]
    );
    assert_eq!(e.errors[1].value, json!(3), "the cast value");
    // null and missing are not checked against the enum.
    insert_ok(&def, &json!({"role": null}));
    insert_ok(&def, &json!({"role": "a", "level": 2.0}));
}

#[test]
fn min_and_max() {
    let s = r#""x": { "type": "Number", "min": 0, "max": 3 }"#;
    assert_eq!(
        one_error(s, json!({"x": -1})),
        t(
            "x",
            "min",
            "Path `x` (-1) is less than minimum allowed value (0)."
        )
    );
    assert_eq!(
        one_error(s, json!({"x": "5"})),
        t(
            "x",
            "max",
            "Path `x` (5) is more than maximum allowed value (3)."
        )
    );
    assert_eq!(
        one_error(
            r#""x": { "type": "Number", "max": 2.5 }"#,
            json!({"x": 2.75})
        ),
        t(
            "x",
            "max",
            "Path `x` (2.75) is more than maximum allowed value (2.5)."
        )
    );
    insert_ok(&with_schema(s, ""), &json!({"x": 0}));
    insert_ok(&with_schema(s, ""), &json!({"x": null}));
}

#[test]
fn lengths_count_utf16_units() {
    let s = r#""name": { "type": "String", "minlength": 3, "maxlength": 4 }"#;
    assert_eq!(
        one_error(s, json!({"name": "ab"})),
        t(
            "name",
            "minlength",
            "Path `name` (`ab`) is shorter than the minimum allowed length (3)."
        )
    );
    assert_eq!(
        one_error(s, json!({"name": "abcde"})),
        t(
            "name",
            "maxlength",
            "Path `name` (`abcde`) is longer than the maximum allowed length (4)."
        )
    );
    // One emoji is two UTF-16 code units, as JavaScript's length counts.
    insert_ok(&with_schema(s, ""), &json!({"name": "😀😀"}));
    assert_eq!(one_error(s, json!({"name": "😀😀😀"})).1, "maxlength");
}

#[test]
fn match_and_setters() {
    let s = r#""email": { "type": "String", "match": "^[a-z]+@[a-z]+\\.[a-z]+$", "trim": true, "lowercase": true },
               "code": { "type": "String", "match": "(?i)^x", "uppercase": true }"#;
    let def = with_schema(s, "");
    let out = insert_ok(&def, &json!({"email": "  Ada@Example.COM ", "code": "xy"}));
    assert_eq!(
        out,
        json!({"_id": out["_id"], "email": "ada@example.com", "code": "XY", "__v": 0})
    );
    let e = insert_err(&def, &json!({"email": "foo", "code": "ab"}));
    assert_eq!(
        summary(&e),
        [
            t("email", "regexp", "Path `email` is invalid (foo)."),
            t("code", "regexp", "Path `code` is invalid (AB)."),
        ]
    );
    // "" passes `match`, as in Mongoose.
    insert_ok(&def, &json!({"email": ""}));
}

#[test]
fn custom_messages_are_templated() {
    let s = r#"
      "a": { "type": "String", "required": [true, "{PATH} is needed ({VALUE})"] },
      "b": { "type": "Number", "min": [10, "{PATH}={VALUE} < {MIN}"], "max": [20, "{VALUE} > {MAX}"] },
      "c": { "type": "String", "minlength": [2, "{PATH}: {MINLENGTH}+ chars, {PATH}"], "maxlength": [3, "<= {MAXLENGTH}"] },
      "d": { "type": "String", "enum": { "values": ["x"], "message": "{VALUE} is not one of {ENUMVALUES}" } },
      "e": { "type": "String", "match": ["^z", "{VALUE} must start with z ({TYPE})"] }"#;
    let def = with_schema(s, "");
    let e = insert_err(&def, &json!({"b": 5, "c": "q", "d": "y", "e": "a"}));
    assert_eq!(
        summary(&e),
        [
            t("a", "required", "a is needed (undefined)"),
            t("b", "min", "b=5 < 10"),
            // Like JavaScript's String#replace, each placeholder is replaced once.
            t("c", "minlength", "c: 2+ chars, {PATH}"),
            t("d", "enum", "y is not one of x"),
            t("e", "regexp", "a must start with z (regexp)"),
        ]
    );
    let e = insert_err(&def, &json!({"a": "v", "b": 25, "c": "long"}));
    assert_eq!(
        summary(&e),
        [t("b", "max", "25 > 20"), t("c", "maxlength", "<= 3")]
    );
}

#[test]
fn five_failures_in_schema_order() {
    let s = r#"
      "email": { "type": "String", "required": true, "match": "@" },
      "age": { "type": "Number", "min": 18 },
      "role": { "type": "String", "enum": ["admin", "user"] },
      "name": { "type": "String", "minlength": 3 },
      "joined": "Date""#;
    let def = with_schema(s, "");
    // Keys given out of order; errors come in schema order.
    let e = insert_err(
        &def,
        &json!({"joined": "not a date", "name": "ab", "role": "root", "age": 12, "email": "nope"}),
    );
    assert_eq!(
        e.to_string(),
        "T validation failed: \
         email: Path `email` is invalid (nope)., \
         age: Path `age` (12) is less than minimum allowed value (18)., \
         role: `root` is not a valid enum value for path `role`., \
         name: Path `name` (`ab`) is shorter than the minimum allowed length (3)., \
         joined: Cast to date failed for value \"not a date\" (type string) at path \"joined\""
    );
    let j = e.to_json();
    assert_eq!(j["name"], "ValidationError");
    assert_eq!(j["_message"], "T validation failed");
    assert_eq!(j["message"], e.to_string());
    let keys: Vec<&String> = j["errors"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["email", "age", "role", "name", "joined"]);
    assert_eq!(j["errors"]["joined"]["name"], "CastError");
    assert_eq!(j["errors"]["age"]["properties"]["type"], "min");
}

#[test]
fn a_cast_error_is_not_also_validated() {
    let s = r#""n": { "type": "Number", "required": true, "min": 5 }"#;
    assert_eq!(one_error(s, json!({"n": "abc"})).1, "Number");
}

#[test]
fn array_elements_and_sub_documents() {
    let s = r#""tags": [{ "type": "String", "enum": ["a", "b"], "trim": true }],
               "items": [{ "_id": false, "qty": { "type": "Number", "min": 1, "required": true } }],
               "matrix": [[{ "type": "Number", "max": 9 }]]"#;
    let def = with_schema(s, "");
    let e = insert_err(
        &def,
        &json!({"tags": ["a", " b ", "c"], "items": [{"qty": 1}, {"qty": 0}, {}], "matrix": [[1, 10]]}),
    );
    assert_eq!(
        summary(&e),
        [
            t(
                "tags.2",
                "enum",
                "`c` is not a valid enum value for path `tags.2`."
            ),
            t(
                "items.1.qty",
                "min",
                "Path `items.1.qty` (0) is less than minimum allowed value (1)."
            ),
            t("items.2.qty", "required", "Path `items.2.qty` is required."),
            t(
                "matrix.0.1",
                "max",
                "Path `matrix.0.1` (10) is more than maximum allowed value (9)."
            ),
        ]
    );
}

#[test]
fn map_values_are_validated() {
    let s = r#""labels": { "type": "Map", "of": { "type": "String", "maxlength": 2, "uppercase": true } }"#;
    let def = with_schema(s, "");
    assert_eq!(
        insert_ok(&def, &json!({"labels": {"a": "xy"}}))["labels"],
        json!({"a": "XY"})
    );
    let e = insert_err(&def, &json!({"labels": {"a": "xyz"}}));
    assert_eq!(summary(&e)[0].0, "labels.a");
}

#[test]
fn bad_patterns_are_model_errors() {
    let src = "{\"model\": \"T\", \"schema\": {\n  \"a\": { \"type\": \"String\", \"match\": \"ab(c\" }\n}}";
    let e = parse_model(src, "t.json").unwrap_err();
    // Points at the unclosed "(", inside the pattern.
    let (line, col) = pos(src, "(c\"");
    assert_eq!((e.line, e.column), (line, col), "{e}");
    assert!(e.reason.contains("unclosed group"), "{e}");
    let src = r#"{"model": "T", "schema": {"a": {"type": "String", "match": ["a(?=b)", "msg"]}}}"#;
    let e = parse_model(src, "t.json").unwrap_err();
    assert!(e.reason.contains("look-around"), "{e}");
    assert!(
        e.reason
            .starts_with("schema.a.match[0]: invalid regular expression"),
        "{e}"
    );
    let src =
        r#"{"model": "T", "schema": {"a": {"type": "String", "match": "^x", "default": "y"}}}"#;
    let e = parse_model(src, "t.json").unwrap_err();
    assert!(e.reason.contains("does not match"), "{e}");
    let src = r#"{"model": "T", "schema": {"__v": "Number"}}"#;
    assert!(
        parse_model(src, "t.json")
            .unwrap_err()
            .reason
            .contains("version key")
    );
}
