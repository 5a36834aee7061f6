//! The parsers against arbitrary JSON (any keys, any numbers, deep nesting): they return a
//! typed error or a value, never panic; and what they accept means what the query
//! language says: scalar conditions agree with a reference written from
//! docs/query-language.md, limits hold exactly, sort's two spellings agree, and an update
//! is seen by the filter that asks for its result.

use dmr_query::{Filter, Limits, Projection, QueryError, Sort, SortOrder, Update};
use proptest::prelude::*;
use serde_json::{Map, Number, Value, json};

/// Any JSON: arbitrary strings as keys, operator-looking keys often, every kind of number.
fn any_json() -> impl Strategy<Value = Value> {
    let number = prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number,
        any::<String>().prop_map(Value::String),
        "[$.a-c0-9]{0,4}".prop_map(Value::String),
    ];
    let key = prop_oneof![
        any::<String>(),
        "\\$[a-zA-Z]{1,12}",
        "[a-c0-9]{0,3}(\\.[a-c0-9$]{0,2}){0,3}",
    ];
    leaf.prop_recursive(8, 64, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A parse error is one of the parse kinds (`Apply` belongs to applying an update), and
/// says something; an operator error names a `$` word.
fn typed(e: &QueryError) -> Result<(), TestCaseError> {
    prop_assert!(!matches!(e, QueryError::Apply { .. }), "{:?}", e);
    prop_assert!(!e.to_string().is_empty());
    if let Some(op) = e.operator() {
        prop_assert!(op.starts_with('$'), "{:?}", e);
    }
    Ok(())
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..4).prop_map(Value::from),
        prop::sample::select(vec![-1.5, 0.0, 0.5, 2.0, 3.25]).prop_map(|f| json!(f)),
        prop::sample::select(vec!["", "a", "ab", "b", "B", "é"]).prop_map(Value::from),
    ]
}

/// What the field holds: missing, a scalar, or an array of scalars.
fn field() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        scalar().prop_map(Some),
        prop::collection::vec(scalar(), 0..4).prop_map(|v| Some(Value::Array(v))),
    ]
}

// The reference: MongoDB's rules as docs/query-language.md states them, on a flat field,
// written without the crate's comparison code.

#[derive(PartialEq, PartialOrd)]
enum Kind {
    Null,
    Number(f64),
    Text(String),
    Bool(bool),
    Other,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Null => Kind::Null,
        Value::Number(n) => Kind::Number(n.as_f64().unwrap()),
        Value::String(s) => Kind::Text(s.clone()),
        Value::Bool(b) => Kind::Bool(*b),
        _ => Kind::Other,
    }
}

fn same_type(a: &Kind, b: &Kind) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// The values a condition looks at: missing counts as null; an array stands for itself
/// and each of its elements.
fn candidates(field: &Option<Value>) -> Vec<Value> {
    match field {
        None => vec![Value::Null],
        Some(Value::Array(items)) => {
            let mut all = vec![Value::Array(items.clone())];
            all.extend(items.iter().cloned());
            all
        }
        Some(v) => vec![v.clone()],
    }
}

fn reference_eq(field: &Option<Value>, v: &Value) -> bool {
    candidates(field).iter().any(|c| match (kind(c), kind(v)) {
        (Kind::Other, _) | (_, Kind::Other) => c == v,
        (a, b) => a == b,
    })
}

fn reference_range(field: &Option<Value>, v: &Value, op: &str) -> bool {
    let want = kind(v);
    candidates(field).iter().any(|c| {
        let have = kind(c);
        if !same_type(&have, &want) || matches!(have, Kind::Other) {
            return false;
        }
        match op {
            "$gt" => have > want,
            "$gte" => have >= want,
            "$lt" => have < want,
            _ => have <= want,
        }
    })
}

fn reference(field: &Option<Value>, op: &str, v: &Value) -> bool {
    match op {
        "$eq" => reference_eq(field, v),
        "$ne" => !reference_eq(field, v),
        "$in" => v.as_array().unwrap().iter().any(|x| reference_eq(field, x)),
        "$nin" => !v.as_array().unwrap().iter().any(|x| reference_eq(field, x)),
        "$exists" => field.is_some() == v.as_bool().unwrap(),
        _ => reference_range(field, v, op),
    }
}

fn scalar_condition() -> impl Strategy<Value = (&'static str, Value)> {
    prop_oneof![
        (
            prop::sample::select(vec!["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]),
            scalar()
        ),
        (
            prop::sample::select(vec!["$in", "$nin"]),
            prop::collection::vec(scalar(), 0..4).prop_map(Value::Array)
        ),
        (Just("$exists"), any::<bool>().prop_map(Value::Bool)),
    ]
}

/// Sort keys: distinct valid paths with directions.
fn sort_keys() -> impl Strategy<Value = Vec<(String, bool)>> {
    prop::collection::vec(("[a-d]{1,2}(\\.[a-d]{1,2}){0,2}", any::<bool>()), 0..6).prop_map(
        |keys| {
            let mut seen = std::collections::HashSet::new();
            keys.into_iter()
                .filter(|(k, _)| seen.insert(k.clone()))
                .collect()
        },
    )
}

/// Documents without arrays, so that a path names at most one place.
fn plain_doc() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..5).prop_map(Value::from),
        "[a-c]{0,2}".prop_map(Value::String),
    ];
    let object = leaf.prop_recursive(3, 16, 3, |inner| {
        prop::collection::vec((prop::sample::select(vec!["a", "b", "c"]), inner), 0..3)
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
    });
    object.prop_map(|v| if v.is_object() { v } else { json!({ "a": v }) })
}

fn plain_path() -> impl Strategy<Value = String> {
    "[abc](\\.[abc]){0,2}"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics_and_errors_are_typed(v in any_json(), d in any_json()) {
        let limits = Limits::default();
        match Filter::parse(&v, &limits) {
            Ok(filter) => {
                filter.matches(&d);
                filter.conjuncts();
            }
            Err(e) => typed(&e)?,
        }
        match Update::parse(&v, &limits) {
            Ok(update) => {
                let mut doc = if d.is_object() { d.clone() } else { json!({ "d": d }) };
                let before = doc.clone();
                match update.apply(&mut doc) {
                    Ok(()) => prop_assert!(doc.is_object()),
                    Err(e) => {
                        prop_assert!(matches!(e, QueryError::Apply { .. }), "{:?}", e);
                        prop_assert_eq!(doc, before, "a failed update leaves the document alone");
                    }
                }
            }
            Err(e) => typed(&e)?,
        }
        match Sort::parse(&v) {
            Ok(sort) => prop_assert!(sort.keys.len() <= 32),
            Err(e) => typed(&e)?,
        }
        match Projection::parse(&v) {
            Ok(p) => { p.apply(&d); }
            Err(e) => typed(&e)?,
        }
    }

    #[test]
    fn accepted_filters_are_within_the_limits(v in any_json(), max_depth in 1usize..6, max_nodes in 1usize..40) {
        let tight = Limits { max_depth, max_nodes };
        match Filter::parse(&v, &tight) {
            // Whatever fits tight limits fits the defaults, as the same filter.
            Ok(filter) => prop_assert_eq!(Filter::parse(&v, &Limits::default()), Ok(filter)),
            Err(QueryError::TooDeep { max }) => prop_assert_eq!(max, max_depth),
            Err(QueryError::TooLarge { max }) => prop_assert_eq!(max, max_nodes),
            Err(_) => {}
        }
    }

    #[test]
    fn nesting_is_refused_exactly_past_max_depth(levels in 0usize..16) {
        // {"$and": [{"$and": [... {"a": 1} ...]}]}: the body is level 1, each $and adds one,
        // so the filter is `levels + 1` deep.
        let mut filter = json!({ "a": 1 });
        for _ in 0..levels {
            filter = json!({ "$and": [filter] });
        }
        let limits = Limits::default();
        let parsed = Filter::parse(&filter, &limits);
        if levels < limits.max_depth {
            prop_assert!(parsed.is_ok(), "{:?}", parsed);
        } else {
            prop_assert_eq!(parsed, Err(QueryError::TooDeep { max: limits.max_depth }));
        }
    }

    #[test]
    fn scalar_conditions_agree_with_the_reference(field in field(), (op, v) in scalar_condition()) {
        let doc = match &field {
            Some(value) => json!({ "f": value }),
            None => json!({ "g": 1 }),
        };
        let filter = Filter::parse(&json!({ "f": { op: v.clone() } }), &Limits::default()).unwrap();
        prop_assert_eq!(
            filter.matches(&doc),
            reference(&field, op, &v),
            "{} {} on {}", op, v, doc
        );
        // A plain value is `$eq`.
        if op == "$eq" && !v.is_object() {
            let plain = Filter::parse(&json!({ "f": v }), &Limits::default()).unwrap();
            prop_assert_eq!(plain.matches(&doc), filter.matches(&doc));
        }
    }

    #[test]
    fn sort_spellings_agree(keys in sort_keys()) {
        let object: Map<String, Value> = keys
            .iter()
            .map(|(k, asc)| (k.clone(), json!(if *asc { 1 } else { -1 })))
            .collect();
        let words: Vec<String> = keys
            .iter()
            .map(|(k, asc)| if *asc { k.clone() } else { format!("-{k}") })
            .collect();
        let named: Map<String, Value> = keys
            .iter()
            .map(|(k, asc)| (k.clone(), json!(if *asc { "asc" } else { "DESC" })))
            .collect();
        let expected = Sort {
            keys: keys
                .iter()
                .map(|(k, asc)| (k.clone(), if *asc { SortOrder::Asc } else { SortOrder::Desc }))
                .collect(),
        };
        prop_assert_eq!(Sort::parse(&Value::Object(object)), Ok(expected.clone()));
        prop_assert_eq!(Sort::parse(&Value::String(words.join(" "))), Ok(expected.clone()));
        prop_assert_eq!(Sort::parse(&Value::Object(named)), Ok(expected));
    }

    #[test]
    fn a_set_value_is_found_by_equality(doc in plain_doc(), path in plain_path(), v in any_json()) {
        let update = Update::parse(&json!({ "$set": { path.clone(): v.clone() } }), &Limits::default());
        let (Ok(update), Ok(filter)) = (update, Filter::parse(&json!({ path.clone(): { "$eq": v } }), &Limits::default())) else {
            // Values the parsers refuse (too deep, `$` keys inside) are the other tests' business.
            return Ok(());
        };
        let mut after = doc.clone();
        if update.apply(&mut after).is_ok() {
            prop_assert!(filter.matches(&after), "$set {} on {} gave {}", path, doc, after);
        }
    }

    #[test]
    fn an_unset_path_no_longer_exists(doc in plain_doc(), path in plain_path()) {
        let update = Update::parse(&json!({ "$unset": { path.clone(): "" } }), &Limits::default()).unwrap();
        let gone = Filter::parse(&json!({ path.clone(): { "$exists": false } }), &Limits::default()).unwrap();
        let mut after = doc.clone();
        update.apply(&mut after).unwrap();
        prop_assert!(gone.matches(&after), "$unset {} on {} gave {}", path, doc, after);
    }

    #[test]
    fn an_increment_adds(doc in plain_doc(), path in plain_path(), by in -5i64..5) {
        let update = Update::parse(&json!({ "$inc": { path.clone(): by } }), &Limits::default()).unwrap();
        let before = path.split('.').try_fold(&doc, |v, k| v.get(k));
        let mut after = doc.clone();
        match (update.apply(&mut after), before) {
            (Ok(()), None) => prop_assert_eq!(
                path.split('.').try_fold(&after, |v, k| v.get(k)), Some(&json!(by))
            ),
            (Ok(()), Some(Value::Number(n))) => prop_assert_eq!(
                path.split('.').try_fold(&after, |v, k| v.get(k)),
                Some(&json!(n.as_i64().unwrap() + by))
            ),
            (Ok(()), Some(other)) => prop_assert!(false, "$inc on {} succeeded", other),
            (Err(e), _) => prop_assert!(matches!(e, QueryError::Apply { .. }), "{:?}", e),
        }
    }
}
