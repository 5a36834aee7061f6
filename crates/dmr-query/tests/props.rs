//! Properties over random input: nothing panics, and negation is exact.

use dmr_query::{Filter, Limits, Projection, Sort, Update, compare_values};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Keys mixing plain fields, dotted and numeric paths, operators (known,
/// unknown, forbidden) and malformed paths.
const KEYS: &[&str] = &[
    "a",
    "b",
    "items",
    "sku",
    "0",
    "1",
    "a.b",
    "items.sku",
    "items.0",
    "a.0.b",
    "_id",
    "",
    "a..b",
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$exists",
    "$regex",
    "$options",
    "$size",
    "$all",
    "$elemMatch",
    "$not",
    "$and",
    "$or",
    "$nor",
    "$text",
    "$search",
    "$where",
    "$foo",
    "$set",
    "$unset",
    "$inc",
    "$push",
    "$pull",
    "$addToSet",
    "$each",
    "$rename",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-3i64..4).prop_map(Value::from),
        prop_oneof![Just(i64::MAX), Just(i64::MIN), Just(0)].prop_map(Value::from),
        (-3.0f64..3.0).prop_map(|f| json!(f)),
        prop_oneof![
            Just("a"),
            Just("b"),
            Just("A"),
            Just("^a"),
            Just("("),
            Just("asc"),
            Just("ab c"),
            Just("")
        ]
        .prop_map(Value::from),
    ]
}

fn json_with_keys(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    scalar().prop_recursive(5, 48, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(keys), inner), 0..4).prop_map(|kvs| {
                Value::Object(
                    kvs.into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// Random documents: plain keys only.
fn doc() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (
            prop::sample::select(&["a", "b", "items", "sku", "0", "_id"][..]),
            json_with_keys(&["a", "b", "sku", "0"]),
        ),
        0..5,
    )
    .prop_map(|kvs| Value::Object(kvs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

/// A valid single-path filter from the simple operators.
fn simple_filter() -> impl Strategy<Value = Value> {
    let path = prop::sample::select(&["a", "b", "a.b", "items.sku", "items", "a.0"][..]);
    let cond = prop_oneof![
        scalar(),
        scalar().prop_map(|v| json!({"$eq": v})),
        scalar().prop_map(|v| json!({"$ne": v})),
        scalar().prop_map(|v| json!({"$gt": v})),
        scalar().prop_map(|v| json!({"$gte": v, "$lt": 2})),
        scalar().prop_map(|v| json!({"$lte": v})),
        prop::collection::vec(scalar(), 0..3).prop_map(|v| json!({"$in": v})),
        prop::collection::vec(scalar(), 0..3).prop_map(|v| json!({"$nin": v})),
        prop::collection::vec(scalar(), 0..3).prop_map(|v| json!({"$all": v})),
        any::<bool>().prop_map(|b| json!({"$exists": b})),
        (0usize..3).prop_map(|n| json!({"$size": n})),
        prop::sample::select(&["^a", "b$", "A"][..])
            .prop_map(|r| json!({"$regex": r, "$options": "i"})),
        scalar().prop_map(|v| json!({"$not": {"$gt": v}})),
        scalar().prop_map(|v| json!({"$elemMatch": {"$gte": v}})),
        scalar().prop_map(|v| json!({"$elemMatch": {"sku": v}})),
    ];
    (path, cond).prop_map(|(p, c)| json!({ p: c }))
}

fn filter() -> impl Strategy<Value = Value> {
    simple_filter().prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..3).prop_map(|fs| json!({"$and": fs})),
            prop::collection::vec(inner.clone(), 1..3).prop_map(|fs| json!({"$or": fs})),
            prop::collection::vec(inner, 1..3).prop_map(|fs| json!({"$nor": fs})),
        ]
    })
}

/// A valid update over paths that cross objects, arrays and scalars.
fn update() -> impl Strategy<Value = Value> {
    let path = prop::sample::select(
        &[
            "a",
            "b",
            "a.b",
            "items.0.sku",
            "items.1",
            "items.sku",
            "a.0",
            "0.1.2",
        ][..],
    );
    let op = prop_oneof![
        (path.clone(), json_with_keys(&["a", "sku"])).prop_map(|(p, v)| json!({"$set": {p: v}})),
        path.clone().prop_map(|p| json!({"$unset": {p: ""}})),
        (
            path.clone(),
            prop_oneof![
                (-3i64..3).prop_map(Value::from),
                Just(json!(0.5)),
                Just(json!(i64::MAX))
            ]
        )
            .prop_map(|(p, v)| json!({"$inc": {p: v}})),
        (path.clone(), prop::collection::vec(scalar(), 0..3))
            .prop_map(|(p, v)| json!({"$push": {p: {"$each": v}}})),
        (path.clone(), scalar()).prop_map(|(p, v)| json!({"$addToSet": {p: v}})),
        (path.clone(), scalar()).prop_map(|(p, v)| json!({"$pull": {p: v}})),
        (path.clone(), scalar()).prop_map(|(p, v)| json!({"$pull": {p: {"$gte": v}}})),
        (path, scalar()).prop_map(|(p, v)| json!({"$pull": {p: {"sku": v}}})),
    ];
    prop::collection::vec(op, 1..4).prop_map(|ops| {
        // Merge into one body; a conflicting or repeated path is a parse error, which is fine.
        let mut body = Map::new();
        for op in ops {
            for (k, v) in op.as_object().unwrap() {
                let entry = body.entry(k.clone()).or_insert_with(|| json!({}));
                for (p, x) in v.as_object().unwrap() {
                    entry.as_object_mut().unwrap().insert(p.clone(), x.clone());
                }
            }
        }
        Value::Object(body)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_filters_never_panic(f in json_with_keys(KEYS), d in doc()) {
        if let Ok(filter) = Filter::parse(&f, &Limits::default()) {
            filter.matches(&d);
            filter.conjuncts();
            filter.text_search();
            let _ = filter.map_values(&mut |_: &str, v: Value| Ok::<_, ()>(v));
        }
    }

    #[test]
    fn random_updates_never_panic(u in json_with_keys(KEYS), d in doc()) {
        if let Ok(update) = Update::parse(&u, &Limits::default()) {
            let mut after = d.clone();
            if update.apply(&mut after).is_err() {
                prop_assert_eq!(after, d, "a failed update leaves the document alone");
            }
            let _ = update.map_values(&mut |_: &str, v: Value| Ok::<_, ()>(v));
        }
    }

    #[test]
    fn valid_updates_apply_or_fail_cleanly(u in update(), d in doc()) {
        if let Ok(update) = Update::parse(&u, &Limits::default()) {
            let mut after = d.clone();
            match update.apply(&mut after) {
                Ok(()) => prop_assert!(after.is_object()),
                Err(e) => {
                    prop_assert!(matches!(e, dmr_query::QueryError::Apply { .. }), "{:?}", e);
                    prop_assert_eq!(after, d);
                }
            }
        }
    }

    #[test]
    fn random_sorts_and_projections_never_panic(s in json_with_keys(KEYS), a in doc(), b in doc()) {
        if let Ok(sort) = Sort::parse(&s) {
            prop_assert_eq!(sort.compare(&a, &b), sort.compare(&b, &a).reverse());
            prop_assert!(sort.compare(&a, &a).is_eq());
        }
        if let Ok(p) = Projection::parse(&s) {
            p.apply(&a);
        }
    }

    #[test]
    fn compare_values_is_a_total_order(a in json_with_keys(&["a", "b"]), b in json_with_keys(&["a", "b"]), c in json_with_keys(&["a", "b"])) {
        prop_assert!(compare_values(&a, &a).is_eq());
        prop_assert_eq!(compare_values(&a, &b), compare_values(&b, &a).reverse());
        if compare_values(&a, &b).is_le() && compare_values(&b, &c).is_le() {
            prop_assert!(compare_values(&a, &c).is_le());
        }
    }

    #[test]
    fn valid_filters_parse(f in filter()) {
        prop_assert!(Filter::parse(&f, &Limits::default()).is_ok(), "{}", f);
    }

    #[test]
    fn nor_is_exact_negation(f in filter(), d in doc()) {
        let limits = Limits::default();
        let direct = Filter::parse(&f, &limits).unwrap().matches(&d);
        let negated = Filter::parse(&json!({"$nor": [f]}), &limits).unwrap().matches(&d);
        prop_assert_eq!(negated, !direct);
    }

    #[test]
    fn negating_operators_negate(v in scalar(), vs in prop::collection::vec(scalar(), 0..3), d in doc(), path in prop::sample::select(&["a", "a.b", "items.sku"][..])) {
        let limits = Limits::default();
        let m = |f: Value| Filter::parse(&f, &limits).unwrap().matches(&d);
        prop_assert_eq!(m(json!({path: {"$ne": v.clone()}})), !m(json!({path: v.clone()})));
        prop_assert_eq!(m(json!({path: {"$nin": vs.clone()}})), !m(json!({path: {"$in": vs}})));
        prop_assert_eq!(m(json!({path: {"$not": {"$gt": v.clone()}}})), !m(json!({path: {"$gt": v}})));
        prop_assert_eq!(m(json!({path: {"$exists": false}})), !m(json!({path: {"$exists": true}})));
    }
}
