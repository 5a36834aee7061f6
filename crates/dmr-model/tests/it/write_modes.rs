//! Strict mode, defaults, `_id`s, timestamps, minimize; replacements,
//! update validation and casting single paths.

use dmr_model::{ModelDef, Strict, WriteContext};
use serde_json::{Value, json};

use crate::write_support::{
    LATER, LATER_ISO, NOW, NOW_ISO, at, insert, insert_err, insert_ok, model, oid, summary,
    with_schema,
};
use crate::{ORDER, PRODUCT, USER};

const NESTED: &str = r#""a": "String",
    "sub": [{ "b": "Number", "deep": { "c": "String" } }],
    "n": { "x": "Number", "m": "Mixed" },
    "free": "Mixed",
    "map": { "type": "Map", "of": "Mixed" }"#;

fn strict(mode: &str) -> ModelDef {
    with_schema(NESTED, &format!(r#""strict": {mode}"#))
}

fn messy() -> Value {
    json!({
        "a": "x", "foo": 1,
        "sub": [{"b": 1, "bar": 2, "deep": {"c": "y", "baz": 3}}],
        "n": {"x": 1, "qux": 4, "m": {"any": "thing"}},
        "free": {"anything": {"goes": true}},
        "map": {"k": {"whatever": 1}}
    })
}

#[test]
fn strict_drop_removes_unknown_paths_at_every_level() {
    let def = strict("true");
    assert_eq!(def.strict, Strict::Drop);
    let out = insert_ok(&def, &messy());
    assert_eq!(
        out,
        json!({
            "_id": oid(1), "a": "x",
            "sub": [{"_id": oid(2), "b": 1, "deep": {"c": "y"}}],
            "n": {"x": 1, "m": {"any": "thing"}},
            "free": {"anything": {"goes": true}},
            "map": {"k": {"whatever": 1}},
            "__v": 0
        })
    );
}

#[test]
fn strict_throw_reports_every_unknown_path() {
    let e = insert_err(&strict(r#""throw""#), &messy());
    assert_eq!(
        summary(&e),
        [
            (
                "foo".into(),
                "strict".into(),
                "Field `foo` is not in schema and strict mode is set to throw.".into()
            ),
            (
                "sub.0.bar".into(),
                "strict".into(),
                "Field `sub.0.bar` is not in schema and strict mode is set to throw.".into()
            ),
            (
                "sub.0.deep.baz".into(),
                "strict".into(),
                "Field `sub.0.deep.baz` is not in schema and strict mode is set to throw.".into()
            ),
            (
                "n.qux".into(),
                "strict".into(),
                "Field `n.qux` is not in schema and strict mode is set to throw.".into()
            ),
        ]
    );
    assert!(e.errors.iter().all(|f| f.name == "StrictModeError"));
    assert_eq!(e.to_json()["errors"]["foo"]["value"], 1);
}

#[test]
fn strict_off_keeps_unknown_paths() {
    let out = insert_ok(&strict("false"), &messy());
    assert_eq!(out["foo"], 1);
    assert_eq!(out["sub"][0]["bar"], 2);
    assert_eq!(out["sub"][0]["deep"]["baz"], 3);
    assert_eq!(out["n"]["qux"], 4);
}

#[test]
fn known_paths_are_never_unknown() {
    let def = with_schema(
        r#""a": "String""#,
        r#""strict": "throw", "timestamps": true"#,
    );
    let doc = json!({"_id": "507f1f77bcf86cd799439011", "__v": 3, "createdAt": "2020-01-01", "updatedAt": 5, "a": "x"});
    let out = insert_ok(&def, &doc);
    assert_eq!(out["_id"], "507f1f77bcf86cd799439011");
    assert_eq!(out["__v"], 0, "an insert is version 0");
    // A given createdAt is kept, and updatedAt equals it (Mongoose's timestamps).
    assert_eq!(out["createdAt"], "2020-01-01T00:00:00.000Z");
    assert_eq!(out["updatedAt"], "2020-01-01T00:00:00.000Z");
    let no_ts = with_schema(r#""a": "String""#, r#""strict": "throw""#);
    let e = insert_err(&no_ts, &json!({"createdAt": 1}));
    assert_eq!(e.errors[0].path, "createdAt");
    let e = insert_err(&def, &json!({"_id": "nope", "createdAt": "nope"}));
    assert_eq!(
        summary(&e)
            .iter()
            .map(|s| (s.0.as_str(), s.1.as_str()))
            .collect::<Vec<_>>(),
        [("_id", "ObjectId"), ("createdAt", "date")]
    );
}

#[test]
fn default_kinds() {
    let def = with_schema(
        r#""lit": { "type": "String", "default": " Hello ", "trim": true, "lowercase": true },
           "num": { "type": "Number", "default": 1.5 },
           "nul": { "type": "Date", "default": null },
           "now": { "type": "Date", "default": "$now" },
           "day": { "type": "Date", "default": "2024-01-31" },
           "gen": { "type": "String", "default": { "$generate": "T-{random:10:3}" }, "lowercase": true },
           "obj": { "type": "Mixed", "default": { "theme": "dark" } },
           "arr": { "type": ["String"], "default": ["x"] },
           "none": { "type": ["String"], "default": null },
           "subs": [{ "_id": false, "k": { "type": "String", "default": "v" } }],
           "map": { "type": "Map", "of": "String" },
           "plain": "String""#,
        "",
    );
    let out = insert_ok(&def, &json!({}));
    assert_eq!(
        out,
        json!({
            "_id": oid(1),
            "lit": "hello",
            "num": 1.5,
            "nul": null,
            "now": NOW_ISO,
            "day": "2024-01-31T00:00:00.000Z",
            // randoms 3, 4, 5 (1 and 2 went to the _id); setters apply.
            "gen": "t-345",
            "obj": {"theme": "dark"},
            "arr": ["x"],
            "none": [],
            "subs": [],
            "__v": 0
        })
    );
    // Defaults never replace an explicit null; sub-document fields get theirs.
    let out = insert_ok(
        &def,
        &json!({"lit": null, "arr": null, "subs": [{}, {"k": null}]}),
    );
    assert_eq!(out["lit"], Value::Null);
    assert_eq!(out["arr"], Value::Null);
    assert_eq!(out["subs"], json!([{"k": "v"}, {"k": null}]));
    // Defaults are cloned, not shared between documents.
    let mut a = insert_ok(&def, &json!({}));
    a["obj"]["theme"] = json!("light");
    assert_eq!(insert_ok(&def, &json!({}))["obj"]["theme"], "dark");
}

#[test]
fn nested_paths_and_minimize() {
    let order = model(ORDER);
    let base = json!({"customerId": "507f1f77bcf86cd799439011", "payment": {"method": "cash"},
                      "totals": {"subtotal": 1, "total": 1}});
    let out = insert_ok(&order, &base);
    assert_eq!(out["shipping"], json!({"method": "standard"}));
    let mut doc = base.clone();
    doc["shipping"] = json!({"address": {}, "carrier": "ups"});
    let out = insert_ok(&order, &doc);
    assert_eq!(
        out["shipping"],
        json!({"method": "standard", "carrier": "ups"})
    );
    // A nested path given as null stays null; its required children still fail.
    let mut doc = base.clone();
    doc["totals"] = Value::Null;
    let e = insert_err(&order, &doc);
    assert_eq!(
        summary(&e).iter().map(|s| s.0.as_str()).collect::<Vec<_>>(),
        ["totals.subtotal", "totals.total"]
    );
    // Missing entirely: the same required errors.
    let mut doc = base;
    doc.as_object_mut().unwrap().remove("payment");
    let e = insert_err(&order, &doc);
    assert_eq!(e.errors[0].path, "payment.method");
}

#[test]
fn sub_document_ids() {
    let def = with_schema(
        r#""with": [{ "a": "String" }], "without": [{ "_id": false, "a": "String" }]"#,
        "",
    );
    let given = "65a1b2c3d4e5f60718293a4b";
    let out = insert_ok(
        &def,
        &json!({"with": [{"a": "x"}, {"_id": given.to_uppercase(), "a": "y"}], "without": [{"a": "z", "_id": given}]}),
    );
    assert_eq!(
        out["with"],
        json!([{"_id": oid(2), "a": "x"}, {"_id": given, "a": "y"}])
    );
    assert_eq!(
        out["without"],
        json!([{"a": "z"}]),
        "an _id where the schema has none is dropped"
    );
}

#[test]
fn replace() {
    let product = model(PRODUCT);
    let first = insert_ok(
        &product,
        &json!({"sku": "a", "name": "n", "description": "d", "category": "c", "price": {"amount": 1}}),
    );
    let mut existing = first.clone();
    existing["__v"] = json!(4);
    let doc = json!({"sku": "b", "name": "n2", "description": "d", "category": "c",
                     "price": {"amount": "2"}, "createdAt": 0, "_id": oid(9)});
    let out = at(LATER, |ctx| product.prepare_replace(&doc, &existing, ctx)).unwrap();
    assert_eq!(out["_id"], first["_id"]);
    assert_eq!(out["createdAt"], NOW_ISO);
    assert_eq!(out["updatedAt"], LATER_ISO);
    assert_eq!(out["__v"], 4);
    assert_eq!(out["sku"], "B");
    assert_eq!(out["price"], json!({"amount": 2, "currency": "USD"}));
    assert_eq!(out["inventory"]["warehouse"], "main");
    let e = at(LATER, |ctx| {
        product.prepare_replace(&json!({"sku": "b"}), &existing, ctx)
    })
    .unwrap_err();
    assert_eq!(e.errors[0].path, "name");
}

#[test]
fn validate_updated() {
    let user = model(USER);
    let stored = insert_ok(
        &user,
        &json!({"email": "a@b.c", "username": "a", "firstName": "A", "lastName": "B"}),
    );
    let mut updated = stored.clone();
    updated["role"] = json!("moderator");
    updated["isActive"] = json!("no");
    updated.as_object_mut().unwrap().remove("lastLogin");
    updated["legacy"] = json!("kept: strict mode applied when the update was cast");
    let out = at(LATER, |ctx| user.validate_updated(&updated, ctx)).unwrap();
    let mut want = updated.clone();
    want["isActive"] = json!(false);
    want["updatedAt"] = json!(LATER_ISO);
    assert_eq!(
        out, want,
        "no defaults (lastLogin stays missing), updatedAt refreshed"
    );

    updated["role"] = json!("root");
    updated["email"] = json!("");
    let e = at(LATER, |ctx| user.validate_updated(&updated, ctx)).unwrap_err();
    assert_eq!(
        summary(&e)
            .iter()
            .map(|s| (s.0.as_str(), s.1.as_str()))
            .collect::<Vec<_>>(),
        [("email", "required"), ("role", "enum")]
    );
}

#[test]
fn cast_path() {
    let order = model(ORDER);
    assert_eq!(
        order.cast_path("totals.subtotal", &json!("12.5")),
        Ok(Some(json!(12.5)))
    );
    assert_eq!(
        order.cast_path("items.quantity", &json!("3")),
        Ok(Some(json!(3)))
    );
    assert_eq!(
        order.cast_path("items.0.quantity", &json!("3")),
        Ok(Some(json!(3)))
    );
    assert_eq!(
        order.cast_path("items.$.quantity", &json!(3)),
        Ok(Some(json!(3)))
    );
    assert_eq!(
        order.cast_path("items.$[i].quantity", &json!(3)),
        Ok(Some(json!(3)))
    );
    assert_eq!(
        order.cast_path("metadata.anyKey", &json!({"x": []})),
        Ok(Some(json!({"x": []})))
    );
    assert_eq!(
        order.cast_path("metadata.a.b", &json!(1)),
        Ok(Some(json!(1)))
    );
    assert_eq!(
        order.cast_path("customerId", &json!({"$oid": "507F1F77BCF86CD799439011"})),
        Ok(Some(json!("507f1f77bcf86cd799439011")))
    );
    assert_eq!(
        order.cast_path("_id", &json!("507F1F77BCF86CD799439011")),
        Ok(Some(json!("507f1f77bcf86cd799439011")))
    );
    assert_eq!(
        order.cast_path("createdAt", &json!(0)),
        Ok(Some(json!("1970-01-01T00:00:00.000Z")))
    );
    assert_eq!(order.cast_path("__v", &json!("2")), Ok(Some(json!(2))));
    // A whole sub-document: cast, unknown fields dropped, no defaults.
    assert_eq!(
        order.cast_path("items.0", &json!({"quantity": "2", "bogus": 1})),
        Ok(Some(json!({"quantity": 2})))
    );
    let e = order
        .cast_path("items.0.quantity", &json!("many"))
        .unwrap_err();
    assert_eq!(
        (e.name, e.kind.as_str(), e.path.as_str()),
        ("CastError", "Number", "items.0.quantity")
    );
    assert_eq!(order.cast_path("items.0.bogus", &json!(1)), Ok(None));
    assert_eq!(order.cast_path("totals.subtotal.x", &json!(1)), Ok(None));
    assert_eq!(order.cast_path("", &json!(1)), Ok(None));
    assert_eq!(order.cast_path("nope", &json!(1)), Ok(None));

    let product = model(PRODUCT);
    assert_eq!(
        product.cast_path("tags", &json!(" Foo ")),
        Ok(Some(json!(["foo"])))
    );
    assert_eq!(
        product.cast_path("tags", &json!([" A", "b "])),
        Ok(Some(json!(["a", "b"])))
    );
    assert_eq!(
        product.cast_path("tags.3", &json!(" Foo ")),
        Ok(Some(json!("foo")))
    );
    assert_eq!(product.cast_path("tags.$", &json!(7)), Ok(Some(json!("7"))));
    assert_eq!(
        product.cast_path("sku", &json!(" ab ")),
        Ok(Some(json!("AB")))
    );
    assert_eq!(
        product.cast_path("price", &json!({"amount": "1"})),
        Ok(Some(json!({"amount": 1})))
    );
    assert_eq!(
        product.cast_path("images.0._id", &json!("65a1b2c3d4e5f60718293a4b")),
        Ok(Some(json!("65a1b2c3d4e5f60718293a4b")))
    );
    assert_eq!(
        product.cast_path("attributes.value.deep", &json!([1])),
        Ok(Some(json!([1])))
    );

    let throw = with_schema(
        r#""a": "Number", "n": { "b": "Number" }"#,
        r#""strict": "throw""#,
    );
    let e = throw.cast_path("n.zzz", &json!(1)).unwrap_err();
    assert_eq!((e.name, e.path.as_str()), ("StrictModeError", "n.zzz"));
    let e = throw
        .cast_path("n", &json!({"b": 1, "zzz": 2}))
        .unwrap_err();
    assert_eq!(e.path, "n.zzz");
    let off = with_schema(r#""a": "Number""#, r#""strict": false"#);
    assert_eq!(off.cast_path("zzz", &json!("1")), Ok(Some(json!("1"))));
}

#[test]
fn cast_path_with_creates_sub_documents() {
    let product = model(PRODUCT);
    let mut n = 100u64;
    let mut random = || {
        n += 1;
        n
    };
    let mut ctx = WriteContext {
        now_millis: NOW,
        random: &mut random,
    };
    let img = product
        .cast_path_with("images.$", &json!({"url": "u"}), &mut ctx)
        .unwrap()
        .unwrap();
    assert_eq!(img, json!({"_id": "6553f1000000000065000066", "url": "u"}));
    let all = product
        .cast_path_with(
            "images",
            &json!([{"url": "a"}, {"url": "b", "_id": "65a1b2c3d4e5f60718293a4b"}]),
            &mut ctx,
        )
        .unwrap()
        .unwrap();
    assert_eq!(all[0]["_id"], "6553f1000000000067000068");
    assert_eq!(all[1]["_id"], "65a1b2c3d4e5f60718293a4b");
    // No defaults outside sub-documents.
    assert_eq!(
        product.cast_path_with("price", &json!({"amount": 1}), &mut ctx),
        Ok(Some(json!({"amount": 1})))
    );
    let order = model(ORDER);
    assert_eq!(
        order.cast_path_with("items.$", &json!({"quantity": 1}), &mut ctx),
        Ok(Some(json!({"quantity": 1, "discount": 0})))
    );
}

#[test]
fn documents_must_be_objects() {
    let user = model(USER);
    let e = insert(&user, &json!([1])).unwrap_err();
    assert_eq!(e.errors[0].name, "ObjectParameterError");
    assert_eq!(
        e.to_string(),
        "User validation failed: Parameter \"obj\" to Document() must be an object, got \"1\" (type Array)"
    );
    assert!(at(NOW, |ctx| user.validate_updated(&json!("x"), ctx)).is_err());
}
