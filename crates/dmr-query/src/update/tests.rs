//! Update parsing and application, operator by operator.

use serde_json::{Value, json};

use super::*;

fn parse(u: Value) -> Update {
    Update::parse(&u, &Limits::default()).unwrap_or_else(|e| panic!("{u}: {e}"))
}

fn err(u: Value) -> QueryError {
    Update::parse(&u, &Limits::default()).expect_err("should be refused")
}

/// Applies `u` to `doc` and returns the result.
fn run(u: Value, mut doc: Value) -> Value {
    parse(u).apply(&mut doc).unwrap_or_else(|e| panic!("{e}"));
    doc
}

/// Applies `u` to `doc`, expecting an Apply error; checks `doc` is unchanged.
fn apply_err(u: Value, doc: Value) -> String {
    let mut after = doc.clone();
    let e = parse(u).apply(&mut after).expect_err("should fail");
    assert_eq!(after, doc, "a failed update leaves the document alone");
    match e {
        QueryError::Apply { reason, .. } => reason,
        other => panic!("expected Apply, got {other:?}"),
    }
}

// ---- parse ----

#[test]
fn parses_operators_in_order() {
    let u = parse(json!({
        "$set": {"a": 1, "b.c": [2]},
        "$unset": {"d": ""},
        "$inc": {"n": 2},
        "$push": {"tags": {"$each": ["x", "y"]}},
        "$addToSet": {"set": "z"},
        "$pull": {"old": 3, "xs": {"$in": [1]}, "items": {"sku": "A"}}
    }));
    assert_eq!(
        u.paths().collect::<Vec<_>>(),
        ["a", "b.c", "d", "n", "tags", "set", "old", "xs", "items"]
    );
    assert_eq!(
        u.ops[4],
        UpdateOp::Push {
            path: "tags".into(),
            values: vec![json!("x"), json!("y")]
        }
    );
    assert_eq!(
        u.ops[5],
        UpdateOp::AddToSet {
            path: "set".into(),
            values: vec![json!("z")]
        }
    );
    assert_eq!(
        u.ops[6],
        UpdateOp::Pull {
            path: "old".into(),
            cond: PullCond::Equals(json!(3))
        }
    );
    assert!(matches!(&u.ops[7], UpdateOp::Pull { cond: PullCond::Matches(c), .. } if c.len() == 1));
    assert!(matches!(
        &u.ops[8],
        UpdateOp::Pull {
            cond: PullCond::Filter(_),
            ..
        }
    ));
}

#[test]
fn plain_body_is_a_set() {
    assert_eq!(
        parse(json!({"a": 1, "b.c": 2})),
        parse(json!({"$set": {"a": 1, "b.c": 2}}))
    );
    // Mongoose moves plain keys into $set next to operators.
    let u = parse(json!({"a": 1, "$inc": {"n": 1}}));
    assert_eq!(
        u.ops[0],
        UpdateOp::Set {
            path: "a".into(),
            value: json!(1)
        }
    );
}

#[test]
fn unsupported_operators_are_named() {
    for op in [
        "$rename",
        "$mul",
        "$currentDate",
        "$setOnInsert",
        "$pop",
        "$min",
        "$max",
        "$pullAll",
        "$bit",
        "$foo",
    ] {
        let e = err(json!({op: {"a": 1}}));
        assert_eq!(
            e,
            QueryError::UnknownOperator {
                operator: op.into()
            },
            "{op}"
        );
        assert_eq!(err(json!({op: {}})).operator(), Some(op));
        assert_eq!(err(json!({op: 1})).operator(), Some(op));
    }
    for modifier in ["$slice", "$sort", "$position"] {
        let e = err(json!({"$push": {"a": {"$each": [1], modifier: 1}}}));
        assert_eq!(e.operator(), Some(modifier));
    }
}

#[test]
fn forbidden_operators_anywhere() {
    for u in [
        json!({"$where": {"a": 1}}),
        json!({"$set": {"a": {"$function": {}}}}),
        json!({"$pull": {"items": {"$or": [{"$where": "1"}]}}}),
        json!({"$push": {"a": {"$each": [{"$expr": 1}]}}}),
    ] {
        assert!(
            matches!(err(u.clone()), QueryError::ForbiddenOperator { .. }),
            "{u}"
        );
    }
}

#[test]
fn invalid_updates() {
    let reason = |u: Value| match err(u) {
        QueryError::Invalid { reason, .. } => reason,
        other => panic!("expected Invalid, got {other:?}"),
    };
    assert!(reason(json!({})).contains("empty update"));
    assert!(reason(json!({"$set": {}})).contains("empty update"));
    assert!(reason(json!([])).contains("must be an object"));
    assert!(reason(json!({"$set": 1})).contains("$set needs an object"));
    assert!(reason(json!({"$set": {"_id": "x"}})).contains("_id cannot be changed"));
    assert!(reason(json!({"_id": "x"})).contains("_id cannot be changed"));
    assert!(reason(json!({"$unset": {"_id": 1}})).contains("_id cannot be changed"));
    assert!(reason(json!({"$set": {"_id.a": 1}})).contains("_id cannot be changed"));
    assert!(reason(json!({"$inc": {"n": "1"}})).contains("$inc needs a number"));
    assert!(reason(json!({"$push": {"a": {"$each": 1}}})).contains("$each needs an array"));
    assert!(
        reason(json!({"$push": {"a": {"$each": [1], "b": 1}}})).contains("cannot have field 'b'")
    );
    assert!(reason(json!({"$set": {"a.$.b": 1}})).contains("positional"));
    assert!(reason(json!({"$set": {"a..b": 1}})).contains("empty segment"));
    assert!(
        reason(json!({"$set": {"a": {"$gt": 1}}}))
            .contains("operator $gt cannot appear inside a value")
    );
    assert!(reason(json!({"$pull": {"a": {"$gt": 1, "b": 2}}})).contains("cannot mix"));
    assert!(parse(json!({"_idx": 1})).ops.len() == 1, "_idx is not _id");
}

#[test]
fn conflicts() {
    assert_eq!(
        err(json!({"$set": {"a": 1}, "$inc": {"a": 1}})),
        QueryError::Conflict { path: "a".into() }
    );
    assert_eq!(
        err(json!({"$set": {"a.b": 1}, "$unset": {"a": 1}})),
        QueryError::Conflict { path: "a".into() }
    );
    assert_eq!(
        err(json!({"$set": {"a": 1, "a.b.c": 1}})),
        QueryError::Conflict { path: "a".into() }
    );
    assert_eq!(
        err(json!({"x": 1, "$push": {"x.0": 1}})),
        QueryError::Conflict { path: "x".into() }
    );
    assert!(
        err(json!({"$set": {"a": 1}, "$inc": {"a": 1}}))
            .to_string()
            .contains("conflict at 'a'")
    );
    parse(json!({"$set": {"a.b": 1, "a.c": 1, "ab": 1}, "$inc": {"a.bc": 1}}));
}

#[test]
fn limits_apply_to_updates() {
    let many: Vec<i32> = (0..1000).collect();
    assert_eq!(
        err(json!({"$push": {"a": {"$each": many}}})),
        QueryError::TooLarge { max: 1000 }
    );
    let deep = json!({"$set": {"a": [[[[[[[[[[1]]]]]]]]]]}});
    assert_eq!(err(deep), QueryError::TooDeep { max: 10 });
}

// ---- $set ----

#[test]
fn set_creates_intermediate_objects() {
    assert_eq!(
        run(json!({"$set": {"a.b.c": 1}}), json!({"_id": 1})),
        json!({"_id": 1, "a": {"b": {"c": 1}}})
    );
    assert_eq!(
        run(json!({"$set": {"a.x": 2}}), json!({"a": {"y": 1}})),
        json!({"a": {"y": 1, "x": 2}})
    );
    // An existing key keeps its position.
    assert_eq!(
        serde_json::to_string(&run(json!({"$set": {"a": 3}}), json!({"a": 1, "b": 2}))).unwrap(),
        r#"{"a":3,"b":2}"#
    );
}

#[test]
fn set_indexes_arrays() {
    let doc = json!({"items": [{"qty": 1}, {"qty": 2}]});
    assert_eq!(
        run(json!({"$set": {"items.1.qty": 9}}), doc.clone()),
        json!({"items": [{"qty": 1}, {"qty": 9}]})
    );
    assert_eq!(
        run(json!({"$set": {"items.0": "x"}}), doc.clone()),
        json!({"items": ["x", {"qty": 2}]})
    );
    // Past the end: padded with nulls, as MongoDB does.
    assert_eq!(
        run(json!({"$set": {"items.3.qty": 7}}), doc.clone()),
        json!({"items": [{"qty": 1}, {"qty": 2}, null, {"qty": 7}]})
    );
    assert_eq!(
        run(json!({"$set": {"a.0": 1}}), json!({})),
        json!({"a": {"0": 1}}),
        "numeric key on an object"
    );
}

#[test]
fn set_errors() {
    assert!(
        apply_err(json!({"$set": {"a.b": 1}}), json!({"a": 5}))
            .contains("cannot create field 'b' in a number")
    );
    assert!(
        apply_err(json!({"$set": {"a.b.c": 1}}), json!({"a": {"b": null}})).contains("in a null")
    );
    assert!(
        apply_err(json!({"$set": {"items.qty": 1}}), json!({"items": [{}]}))
            .contains("in an array")
    );
    assert!(
        apply_err(json!({"$set": {"items.99999": 1}}), json!({"items": []})).contains("too far")
    );
    let mut not_object = json!([1]);
    assert!(matches!(
        parse(json!({"a": 1})).apply(&mut not_object),
        Err(QueryError::Apply { .. })
    ));
}

// ---- $unset ----

#[test]
fn unset() {
    assert_eq!(
        run(json!({"$unset": {"a": ""}}), json!({"a": 1, "b": 2})),
        json!({"b": 2})
    );
    assert_eq!(
        serde_json::to_string(&run(
            json!({"$unset": {"a": 1}}),
            json!({"a": 1, "b": 2, "c": 3})
        ))
        .unwrap(),
        r#"{"b":2,"c":3}"#,
        "remaining keys keep their order"
    );
    assert_eq!(
        run(
            json!({"$unset": {"a.b": ""}}),
            json!({"a": {"b": 1, "c": 2}})
        ),
        json!({"a": {"c": 2}})
    );
    assert_eq!(
        run(json!({"$unset": {"x.y": ""}}), json!({"a": 1})),
        json!({"a": 1}),
        "missing: no-op"
    );
    assert_eq!(
        run(json!({"$unset": {"a.y": ""}}), json!({"a": 1})),
        json!({"a": 1}),
        "through a scalar: no-op"
    );
    assert_eq!(
        run(json!({"$unset": {"a.1": ""}}), json!({"a": [1, 2, 3]})),
        json!({"a": [1, null, 3]})
    );
    assert_eq!(
        run(json!({"$unset": {"a.5": ""}}), json!({"a": [1]})),
        json!({"a": [1]})
    );
    assert_eq!(
        run(
            json!({"$unset": {"a.0.b": ""}}),
            json!({"a": [{"b": 1, "c": 1}]})
        ),
        json!({"a": [{"c": 1}]})
    );
}

// ---- $inc ----

#[test]
fn inc() {
    assert_eq!(
        run(json!({"$inc": {"n": 2}}), json!({"n": 1})),
        json!({"n": 3})
    );
    assert!(
        run(json!({"$inc": {"n": 2}}), json!({"n": 1}))["n"].is_i64(),
        "integers stay integers"
    );
    assert_eq!(
        run(json!({"$inc": {"n": -5}}), json!({"n": 1})),
        json!({"n": -4})
    );
    assert_eq!(
        run(json!({"$inc": {"n": 0.5}}), json!({"n": 1})),
        json!({"n": 1.5})
    );
    assert_eq!(
        run(json!({"$inc": {"n": 1}}), json!({"n": 1.5})),
        json!({"n": 2.5})
    );
    assert!(run(json!({"$inc": {"n": 1}}), json!({"n": 1.0}))["n"].is_f64());
    assert_eq!(
        run(json!({"$inc": {"a.n": 5}}), json!({})),
        json!({"a": {"n": 5}}),
        "missing: created"
    );
    assert_eq!(
        run(json!({"$inc": {"a.1": 5}}), json!({"a": [1, 2]})),
        json!({"a": [1, 7]})
    );
    assert_eq!(
        run(
            json!({"$inc": {"n": 1}}),
            json!({"n": 9223372036854775806_i64})
        ),
        json!({"n": 9223372036854775807_i64})
    );
}

#[test]
fn inc_errors() {
    assert!(
        apply_err(json!({"$inc": {"n": 1}}), json!({"n": "1"})).contains("non-numeric type string")
    );
    assert!(
        apply_err(json!({"$inc": {"n": 1}}), json!({"n": null})).contains("non-numeric type null")
    );
    assert!(apply_err(json!({"$inc": {"n": 1}}), json!({"n": [1]})).contains("non-numeric"));
    assert!(
        apply_err(
            json!({"$inc": {"n": 1}}),
            json!({"n": 9223372036854775807_i64})
        )
        .contains("overflow")
    );
    assert!(
        apply_err(
            json!({"$inc": {"n": -2}}),
            json!({"n": -9223372036854775807_i64})
        )
        .contains("overflow")
    );
    assert!(apply_err(json!({"$inc": {"n": 1e308}}), json!({"n": 1e308})).contains("finite"));
    assert!(
        apply_err(json!({"$inc": {"a.n": 1}}), json!({"a": "s"})).contains("cannot create field")
    );
}

// ---- $push / $addToSet ----

#[test]
fn push() {
    assert_eq!(
        run(json!({"$push": {"t": "a"}}), json!({"t": ["x"]})),
        json!({"t": ["x", "a"]})
    );
    assert_eq!(
        run(json!({"$push": {"t": "a"}}), json!({})),
        json!({"t": ["a"]})
    );
    assert_eq!(
        run(json!({"$push": {"t": ["a"]}}), json!({"t": []})),
        json!({"t": [["a"]]}),
        "an array is one value"
    );
    assert_eq!(
        run(
            json!({"$push": {"t": {"$each": ["a", "a"]}}}),
            json!({"t": ["a"]})
        ),
        json!({"t": ["a", "a", "a"]})
    );
    assert_eq!(
        run(json!({"$push": {"t": {"$each": []}}}), json!({})),
        json!({"t": []})
    );
    assert_eq!(
        run(json!({"$push": {"o.t": {"k": 1}}}), json!({})),
        json!({"o": {"t": [{"k": 1}]}})
    );
    assert_eq!(
        run(json!({"$push": {"a.0.t": 1}}), json!({"a": [{"t": [0]}]})),
        json!({"a": [{"t": [0, 1]}]})
    );
    assert!(
        apply_err(json!({"$push": {"t": 1}}), json!({"t": "x"}))
            .contains("must be an array but is of type string")
    );
    assert!(apply_err(json!({"$push": {"t": 1}}), json!({"t": null})).contains("of type null"));
}

#[test]
fn add_to_set() {
    assert_eq!(
        run(json!({"$addToSet": {"t": "a"}}), json!({"t": ["a", "b"]})),
        json!({"t": ["a", "b"]})
    );
    assert_eq!(
        run(json!({"$addToSet": {"t": "c"}}), json!({"t": ["a"]})),
        json!({"t": ["a", "c"]})
    );
    assert_eq!(
        run(
            json!({"$addToSet": {"t": {"$each": ["a", "c", "c"]}}}),
            json!({"t": ["a"]})
        ),
        json!({"t": ["a", "c"]})
    );
    assert_eq!(
        run(json!({"$addToSet": {"n": 1.0}}), json!({"n": [1]})),
        json!({"n": [1]}),
        "1 == 1.0"
    );
    assert_eq!(
        run(
            json!({"$addToSet": {"o": {"k": 1}}}),
            json!({"o": [{"k": 1}]})
        ),
        json!({"o": [{"k": 1}]})
    );
    assert_eq!(
        run(
            json!({"$addToSet": {"o": {"k": 1, "j": 2}}}),
            json!({"o": [{"j": 2, "k": 1}]})
        ),
        json!({"o": [{"j": 2, "k": 1}, {"k": 1, "j": 2}]}),
        "key order matters, as in MongoDB"
    );
    assert_eq!(
        run(json!({"$addToSet": {"t": "a"}}), json!({})),
        json!({"t": ["a"]})
    );
    assert!(
        apply_err(json!({"$addToSet": {"t": 1}}), json!({"t": {"a": 1}}))
            .contains("must be an array")
    );
}

// ---- $pull ----

#[test]
fn pull() {
    assert_eq!(
        run(json!({"$pull": {"t": "a"}}), json!({"t": ["a", "b", "a"]})),
        json!({"t": ["b"]})
    );
    assert_eq!(
        run(
            json!({"$pull": {"t": {"$in": ["a", "b"]}}}),
            json!({"t": ["a", "b", "c"]})
        ),
        json!({"t": ["c"]})
    );
    assert_eq!(
        run(
            json!({"$pull": {"n": {"$gte": 6}}}),
            json!({"n": [5, 6, 7, "x"]})
        ),
        json!({"n": [5, "x"]})
    );
    assert_eq!(
        run(
            json!({"$pull": {"items": {"sku": "A"}}}),
            json!({"items": [{"sku": "A", "q": 1}, {"sku": "B"}, "A"]})
        ),
        json!({"items": [{"sku": "B"}, "A"]}),
        "a sub-document filter matches documents only"
    );
    assert_eq!(
        run(
            json!({"$pull": {"items": {"q": {"$gt": 1}, "sku": "A"}}}),
            json!({"items": [{"sku": "A", "q": 1}, {"sku": "A", "q": 2}]})
        ),
        json!({"items": [{"sku": "A", "q": 1}]})
    );
    assert_eq!(
        run(
            json!({"$pull": {"t": [1, 2]}}),
            json!({"t": [[1, 2], 1, 2]})
        ),
        json!({"t": [1, 2]})
    );
    assert_eq!(
        run(json!({"$pull": {"t": "a"}}), json!({})),
        json!({}),
        "missing: no-op"
    );
    assert_eq!(
        run(json!({"$pull": {"x.t": "a"}}), json!({"x": 1})),
        json!({"x": 1})
    );
    assert_eq!(
        run(
            json!({"$pull": {"t": {"$regex": "^a"}}}),
            json!({"t": ["ab", "b"]})
        ),
        json!({"t": ["b"]})
    );
    assert!(apply_err(json!({"$pull": {"t": "a"}}), json!({"t": "a"})).contains("non-array"));
}

#[test]
fn failed_update_changes_nothing() {
    let doc = json!({"a": 1, "s": "x"});
    let msg = apply_err(json!({"$set": {"a": 2}, "$inc": {"s": 1}}), doc);
    assert!(msg.contains("$inc"));
}

// ---- map_values ----

#[test]
fn map_values_casts_values_and_elements() {
    let u = parse(json!({
        "$set": {"n": "1"},
        "$inc": {"i": 1},
        "$unset": {"u": ""},
        "$push": {"t": {"$each": ["2", "3"]}},
        "$addToSet": {"s": "4"},
        "$pull": {"p": "5", "q": {"$in": ["6"]}, "items": {"qty": "7"}}
    }));
    let mut seen = Vec::new();
    let u = u
        .map_values(&mut |path: &str, v: Value| -> Result<Value, ()> {
            seen.push(path.to_owned());
            Ok(match v {
                Value::String(s) => json!(s.parse::<i64>().unwrap()),
                other => other,
            })
        })
        .unwrap();
    assert_eq!(seen, ["n", "t.$", "t.$", "s.$", "p.$", "q.$", "items.qty"]);
    let mut doc = json!({"p": [5, 1], "q": [6, 1], "items": [{"qty": 7}, {"qty": 1}]});
    u.apply(&mut doc).unwrap();
    assert_eq!(
        doc,
        json!({"p": [1], "q": [1], "items": [{"qty": 1}], "n": 1, "i": 1, "t": [2, 3], "s": [4]})
    );
    let failing =
        parse(json!({"$set": {"a": 1}})).map_values(&mut |p: &str, _v: Value| Err(p.to_owned()));
    assert_eq!(failing, Err("a".to_owned()));
}
