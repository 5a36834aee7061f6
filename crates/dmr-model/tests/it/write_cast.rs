//! Casting, type by type, as Mongoose 8 casts (`lib/cast/*.js` and the
//! schema types' `cast`), and the CastError shape.

use dmr_model::{FieldError, ModelDef};
use serde_json::{Value, json};

use crate::write_support::{insert, with_schema};

/// The stored value of field `x` (`None`: absent), or its one error.
#[allow(clippy::result_large_err)] // the public error type, as cast_path returns it
fn cast_x(def: &ModelDef, v: Value) -> Result<Option<Value>, FieldError> {
    match insert(def, &json!({ "x": v })) {
        Ok(out) => Ok(out.get("x").cloned()),
        Err(e) => {
            assert_eq!(e.errors.len(), 1, "{e}");
            Err(e.errors[0].clone())
        }
    }
}

fn ok(def: &ModelDef, input: Value, want: Value) {
    let got = cast_x(def, input.clone());
    assert_eq!(got, Ok(Some(want.clone())), "{input} should cast to {want}");
    // cast_path agrees with a whole-document write.
    assert_eq!(
        def.cast_path("x", &input),
        Ok(Some(want)),
        "cast_path of {input}"
    );
}

fn fails(def: &ModelDef, input: Value, kind: &str) -> FieldError {
    let e = cast_x(def, input.clone()).expect_err(&format!("{input} should not cast"));
    assert_eq!(e.name, "CastError", "{input}");
    assert_eq!(e.kind, kind, "{input}");
    assert_eq!(
        def.cast_path("x", &input).as_ref(),
        Err(&e),
        "cast_path of {input}"
    );
    e
}

#[test]
fn string() {
    let d = with_schema(r#""x": "String""#, "");
    ok(&d, json!("abc"), json!("abc"));
    ok(&d, json!(""), json!(""));
    ok(&d, json!(42), json!("42"));
    ok(&d, json!(1.5), json!("1.5"));
    ok(&d, json!(1e21), json!("1e+21"));
    ok(&d, json!(0.0000001), json!("1e-7"));
    ok(&d, json!(true), json!("true"));
    ok(&d, json!(false), json!("false"));
    ok(&d, Value::Null, Value::Null);
    // A document passed where its id belongs (populate): its string _id.
    ok(&d, json!({"_id": "abc"}), json!("abc"));
    let e = fails(&d, json!({"a": 1}), "string");
    assert_eq!(
        e.message,
        "Cast to string failed for value \"{ a: 1 }\" (type Object) at path \"x\""
    );
    let e = fails(&d, json!(["a"]), "string");
    assert_eq!(
        e.message,
        "Cast to string failed for value \"[ 'a' ]\" (type Array) at path \"x\""
    );
}

#[test]
fn number() {
    let d = with_schema(r#""x": "Number""#, "");
    ok(&d, json!(42), json!(42));
    ok(&d, json!(4.5), json!(4.5));
    ok(&d, json!(5.0), json!(5));
    ok(&d, json!(-0.0), json!(0));
    ok(
        &d,
        json!(9_007_199_254_740_993i64),
        json!(9_007_199_254_740_993i64),
    );
    ok(&d, json!("42"), json!(42));
    ok(&d, json!(" 4.5 "), json!(4.5));
    ok(&d, json!("1e3"), json!(1000));
    ok(&d, json!("-1.5e-3"), json!(-0.0015));
    ok(&d, json!(".5"), json!(0.5));
    ok(&d, json!("+7"), json!(7));
    ok(&d, json!(""), Value::Null);
    // Number("  ") is 0 in JavaScript; only "" exactly is null.
    ok(&d, json!("  "), json!(0));
    ok(&d, json!(true), json!(1));
    ok(&d, json!(false), json!(0));
    ok(&d, Value::Null, Value::Null);
    for bad in [
        json!("42abc"),
        json!("abc"),
        json!("0x10"),
        json!("0b11"),
        json!("Infinity"),
        json!("-Infinity"),
        json!("NaN"),
        json!("1e400"),
        json!([1]),
        json!([]),
        json!({}),
        json!({"$numberInt": "1"}),
    ] {
        fails(&d, bad, "Number");
    }
    let e = fails(&d, json!("abc"), "Number");
    assert_eq!(
        e.message,
        "Cast to Number failed for value \"abc\" (type string) at path \"x\""
    );
    assert_eq!(
        e.to_json(),
        json!({
            "name": "CastError",
            "message": e.message,
            "kind": "Number",
            "path": "x",
            "value": "abc",
            "valueType": "string",
            "stringValue": "\"abc\""
        })
    );
}

#[test]
fn boolean() {
    let d = with_schema(r#""x": "Boolean""#, "");
    for t in [
        json!(true),
        json!("true"),
        json!(1),
        json!(1.0),
        json!("1"),
        json!("yes"),
    ] {
        ok(&d, t, json!(true));
    }
    for f in [
        json!(false),
        json!("false"),
        json!(0),
        json!("0"),
        json!("no"),
    ] {
        ok(&d, f, json!(false));
    }
    ok(&d, Value::Null, Value::Null);
    for bad in [
        json!("TRUE"),
        json!("y"),
        json!(""),
        json!(2),
        json!([]),
        json!({}),
    ] {
        fails(&d, bad, "Boolean");
    }
    let e = fails(&d, json!("maybe"), "Boolean");
    assert_eq!(
        e.message,
        "Cast to Boolean failed for value \"maybe\" (type string) at path \"x\" because of \"CastError\""
    );
}

#[test]
fn date() {
    let d = with_schema(r#""x": "Date""#, "");
    ok(&d, json!(""), Value::Null);
    ok(&d, Value::Null, Value::Null);
    ok(&d, json!(0), json!("1970-01-01T00:00:00.000Z"));
    ok(
        &d,
        json!(1_700_000_000_123u64),
        json!("2023-11-14T22:13:20.123Z"),
    );
    ok(&d, json!(1.9), json!("1970-01-01T00:00:00.001Z"));
    ok(&d, json!(-1), json!("1969-12-31T23:59:59.999Z"));
    // Numeric strings are epoch milliseconds from 275761 up or below -271820 ...
    ok(
        &d,
        json!("1700000000000"),
        json!("2023-11-14T22:13:20.000Z"),
    );
    ok(&d, json!("275761"), json!("1970-01-01T00:04:35.761Z"));
    ok(&d, json!("-300000"), json!("1969-12-31T23:55:00.000Z"));
    // ... otherwise dates: "2024" is the year.
    ok(&d, json!("2024"), json!("2024-01-01T00:00:00.000Z"));
    ok(&d, json!("2024-01-02"), json!("2024-01-02T00:00:00.000Z"));
    ok(
        &d,
        json!("2024-01-02T03:04:05Z"),
        json!("2024-01-02T03:04:05.000Z"),
    );
    ok(
        &d,
        json!("2024-01-02T03:04:05.678Z"),
        json!("2024-01-02T03:04:05.678Z"),
    );
    ok(
        &d,
        json!("2024-01-02T03:04:05.1+02:00"),
        json!("2024-01-02T01:04:05.100Z"),
    );
    ok(
        &d,
        json!("2024-01-02T03:04:05-05:30"),
        json!("2024-01-02T08:34:05.000Z"),
    );
    ok(
        &d,
        json!("2024-01-02T03:04"),
        json!("2024-01-02T03:04:00.000Z"),
    );
    ok(&d, json!(8.64e15), json!("+275760-09-13T00:00:00.000Z"));
    ok(
        &d,
        json!({"$date": "2024-01-02T00:00:00Z"}),
        json!("2024-01-02T00:00:00.000Z"),
    );
    ok(
        &d,
        json!({"$date": 86_400_000}),
        json!("1970-01-02T00:00:00.000Z"),
    );
    for bad in [
        json!(true),
        json!({}),
        json!([]),
        json!("garbage"),
        json!("2024-02-30"),
        json!("2024-13-01"),
        json!(8.64e15 + 1.0),
        json!("8640000000000001"),
        json!({"$date": "x"}),
    ] {
        fails(&d, bad, "date");
    }
    let e = fails(&d, json!("garbage"), "date");
    assert_eq!(
        e.message,
        "Cast to date failed for value \"garbage\" (type string) at path \"x\""
    );
}

#[test]
fn object_id() {
    let d = with_schema(r#""x": "ObjectId""#, "");
    let id = "507f1f77bcf86cd799439011";
    ok(&d, json!(id), json!(id));
    ok(&d, json!(id.to_uppercase()), json!(id));
    ok(&d, json!({"$oid": id}), json!(id));
    ok(&d, json!({"_id": id, "name": "a populated doc"}), json!(id));
    ok(&d, Value::Null, Value::Null);
    for bad in [
        json!("abc"),
        json!(123),
        json!(""),
        json!(format!("{id}0")),
        json!({}),
        json!([id]),
    ] {
        fails(&d, bad, "ObjectId");
    }
    let e = fails(&d, json!("abc"), "ObjectId");
    assert_eq!(
        e.message,
        "Cast to ObjectId failed for value \"abc\" (type string) at path \"x\" because of \"BSONError\""
    );
}

#[test]
fn mixed() {
    let d = with_schema(r#""x": "Mixed", "y": {}"#, "");
    for v in [
        json!(1),
        json!("a"),
        json!([1, {"a": null}]),
        json!({"$weird.key": {"b": 1}}),
        Value::Null,
    ] {
        ok(&d, v.clone(), v);
    }
    // Mongoose's minimize: empty objects are not stored.
    assert_eq!(cast_x(&d, json!({})), Ok(None));
    assert_eq!(
        cast_x(&d, json!({"a": {}, "b": 1})),
        Ok(Some(json!({"b": 1})))
    );
    assert_eq!(
        cast_x(&d, json!([{}])),
        Ok(Some(json!([{}]))),
        "arrays are kept as they are"
    );
}

#[test]
fn map() {
    let d = with_schema(r#""x": { "type": "Map", "of": "Number" }"#, "");
    ok(&d, json!({"a": "1", "b": 2}), json!({"a": 1, "b": 2}));
    ok(&d, json!({}), json!({}));
    ok(&d, Value::Null, Value::Null);
    let e = cast_x(&d, json!({"a": 1, "b": "x"})).unwrap_err();
    assert_eq!((e.path.as_str(), e.kind.as_str()), ("x.b", "Number"));
    assert_eq!(
        e.message,
        "Cast to Number failed for value \"x\" (type string) at path \"x.b\""
    );
    let e = fails(&d, json!({"a.b": 1}), "Map");
    assert_eq!(
        e.message,
        "Cast to Map failed for value \"{ 'a.b': 1 }\" (type Object) at path \"x\""
    );
    fails(&d, json!({"$a": 1}), "Map");
    fails(&d, json!([]), "Map");
    let e = fails(&d, json!("str"), "Map");
    assert!(
        e.message.ends_with("because of \"TypeError\""),
        "{}",
        e.message
    );
}

#[test]
fn arrays() {
    let d = with_schema(r#""x": ["Number"]"#, "");
    ok(&d, json!([1, "2", " 3 "]), json!([1, 2, 3]));
    // A single value is wrapped, as Mongoose's castNonArrays does.
    ok(&d, json!("5"), json!([5]));
    ok(&d, json!([]), json!([]));
    ok(&d, json!([null]), json!([null]));
    ok(&d, Value::Null, Value::Null);
    let e = fails(&d, json!(["1", "x", "y"]), "[Number]");
    assert_eq!(e.path, "x.1");
    // Mongoose inspects the array as it stood, cast up to the failing element.
    assert_eq!(
        e.message,
        "Cast to [Number] failed for value \"[ 1, 'x', 'y' ]\" (type string) at path \"x.1\" because of \"CastError\""
    );
    let e = fails(&d, json!("abc"), "[Number]");
    assert_eq!(e.path, "x.0");

    let nested = with_schema(r#""x": [["Number"]]"#, "");
    ok(&nested, json!([1, "2"]), json!([[1, 2]]));
    ok(&nested, json!([[1], 2]), json!([[1], [2]]));
    ok(&nested, json!(3), json!([[3]]));
}

#[test]
fn sub_documents_and_nested_paths() {
    let d = with_schema(r#""x": [{ "_id": false, "n": "Number" }]"#, "");
    ok(&d, json!([{"n": "1"}, null]), json!([{"n": 1}, null]));
    ok(&d, json!({"n": 2}), json!([{"n": 2}]));
    let e = fails(&d, json!([{"n": 1}, "x"]), "embedded");
    assert_eq!(e.path, "x");
    assert_eq!(
        e.message,
        "Cast to embedded failed for value \"'x'\" (type string) at path \"x\" because of \"ObjectParameterError\""
    );

    let n = with_schema(r#""x": { "a": "Number", "b": { "c": "String" } }"#, "");
    ok(
        &n,
        json!({"a": "1", "b": {"c": 2}}),
        json!({"a": 1, "b": {"c": "2"}}),
    );
    ok(&n, Value::Null, Value::Null);
    assert_eq!(cast_x(&n, json!({})), Ok(None), "minimized");
    let e = fails(&n, json!(5), "Object");
    assert_eq!(
        e.message,
        "Cast to Object failed for value \"5\" (type number) at path \"x\""
    );
    fails(&n, json!([]), "Object");
}
