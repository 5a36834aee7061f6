//! Filter parsing and evaluation, operator by operator.

use serde_json::{Value, json};

use super::*;

fn parse(f: Value) -> Filter {
    Filter::parse(&f, &Limits::default()).unwrap_or_else(|e| panic!("{f}: {e}"))
}

fn m(f: Value, doc: Value) -> bool {
    parse(f).matches(&doc)
}

fn err(f: Value) -> QueryError {
    Filter::parse(&f, &Limits::default()).expect_err("should be refused")
}

fn invalid(f: Value) -> String {
    match err(f) {
        QueryError::Invalid { reason, .. } => reason,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn empty_filter_matches_everything() {
    assert_eq!(parse(json!({})), Filter::All);
    assert!(m(json!({}), json!({"a": 1})));
}

#[test]
fn parse_shapes() {
    assert_eq!(
        parse(json!({"a": 1, "b": {"$gt": 2, "$lt": 5}})),
        Filter::And(vec![
            Filter::Path {
                path: "a".into(),
                conds: vec![Cond::Eq(json!(1))]
            },
            Filter::Path {
                path: "b".into(),
                conds: vec![Cond::Gt(json!(2)), Cond::Lt(json!(5))]
            },
        ])
    );
    assert_eq!(
        parse(json!({"a": {}})),
        Filter::Path {
            path: "a".into(),
            conds: vec![Cond::Eq(json!({}))]
        }
    );
    assert!(matches!(parse(json!({"$or": [{"a": 1}]})), Filter::Or(_)));
}

#[test]
fn top_level_must_be_an_object() {
    assert!(invalid(json!([])).contains("must be an object"));
    assert!(invalid(json!("a")).contains("must be an object"));
}

// ---- equality ----

#[test]
fn eq_scalars_and_nested_paths() {
    assert!(m(json!({"a": 1}), json!({"a": 1})));
    assert!(
        m(json!({"a": 1}), json!({"a": 1.0})),
        "numbers compare numerically"
    );
    assert!(!m(json!({"a": 1}), json!({"a": "1"})));
    assert!(!m(json!({"a": 1}), json!({"b": 1})));
    assert!(m(json!({"a.b.c": "x"}), json!({"a": {"b": {"c": "x"}}})));
    assert!(!m(json!({"a.b.c": "x"}), json!({"a": {"b": "x"}})));
    assert!(m(json!({"a": {"$eq": true}}), json!({"a": true})));
    assert!(!m(json!({"a": {"$eq": true}}), json!({"a": 1})));
}

#[test]
fn eq_arrays() {
    assert!(
        m(json!({"tags": "a"}), json!({"tags": ["b", "a"]})),
        "array contains"
    );
    assert!(
        m(json!({"tags": ["b", "a"]}), json!({"tags": ["b", "a"]})),
        "whole array"
    );
    assert!(
        !m(json!({"tags": ["a", "b"]}), json!({"tags": ["b", "a"]})),
        "order matters"
    );
    assert!(
        m(json!({"tags": ["a"]}), json!({"tags": [["a"], "b"]})),
        "array element that is an array"
    );
    assert!(
        !m(json!({"tags": "a"}), json!({"tags": [["a"]]})),
        "nested arrays are not expanded"
    );
    assert!(!m(json!({"tags": "a"}), json!({"tags": []})));
}

#[test]
fn eq_objects_are_bson_ordered() {
    assert!(m(
        json!({"o": {"a": 1, "b": 2}}),
        json!({"o": {"a": 1, "b": 2.0}})
    ));
    assert!(!m(
        json!({"o": {"a": 1, "b": 2}}),
        json!({"o": {"b": 2, "a": 1}})
    ));
    assert!(!m(json!({"o": {"a": 1}}), json!({"o": {"a": 1, "b": 2}})));
}

#[test]
fn eq_through_arrays_of_objects() {
    let doc = json!({"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 5}]});
    assert!(m(json!({"items.sku": "B"}), doc.clone()));
    assert!(!m(json!({"items.sku": "C"}), doc.clone()));
    assert!(m(json!({"items.0.sku": "A"}), doc.clone()));
    assert!(!m(json!({"items.1.sku": "A"}), doc.clone()));
    assert!(!m(json!({"items.7.sku": "A"}), doc.clone()));
    assert!(m(json!({"items.qty": 5}), doc));
    // Arrays of arrays are not crossed.
    assert!(!m(json!({"a.b": 1}), json!({"a": [[{"b": 1}]]})));
    // Deeper: an array inside an element is crossed too.
    assert!(m(
        json!({"a.b.c": 1}),
        json!({"a": [{"b": [{"c": 2}, {"c": 1}]}]})
    ));
}

#[test]
fn numeric_segment_also_names_a_field() {
    assert!(m(json!({"a.0": "x"}), json!({"a": {"0": "x"}})));
    assert!(m(json!({"a.0.b": 1}), json!({"a": [{"0": {"b": 1}}]})));
    assert!(m(json!({"a.0": 1}), json!({"a": [1, 2]})));
    assert!(m(json!({"a.01": 1}), json!({"a": {"01": 1}})));
    assert!(
        !m(json!({"a.01": 1}), json!({"a": [0, 1]})),
        "01 is not an index"
    );
}

#[test]
fn eq_null_matches_missing_and_null() {
    assert!(m(json!({"a": null}), json!({})));
    assert!(m(json!({"a": null}), json!({"a": null})));
    assert!(m(json!({"a": null}), json!({"a": [1, null]})));
    assert!(!m(json!({"a": null}), json!({"a": 0})));
    assert!(!m(json!({"a": null}), json!({"a": []})));
    assert!(m(json!({"a.b": null}), json!({"a": 5})));
    assert!(
        m(json!({"a.b": null}), json!({"a": [{"b": 1}, {"c": 1}]})),
        "one element lacks b"
    );
    assert!(!m(json!({"a.b": null}), json!({"a": [{"b": 1}]})));
}

// ---- $ne / $in / $nin ----

#[test]
fn ne_is_the_negation_of_eq() {
    assert!(m(json!({"a": {"$ne": 1}}), json!({"a": 2})));
    assert!(
        m(json!({"a": {"$ne": 1}}), json!({})),
        "missing matches $ne"
    );
    assert!(
        !m(json!({"a": {"$ne": 1}}), json!({"a": [1, 2]})),
        "array containing the value"
    );
    assert!(!m(json!({"a": {"$ne": null}}), json!({})));
    assert!(m(json!({"a": {"$ne": null}}), json!({"a": 0})));
    assert!(!m(
        json!({"items.sku": {"$ne": "A"}}),
        json!({"items": [{"sku": "B"}, {"sku": "A"}]})
    ));
}

#[test]
fn in_and_nin() {
    assert!(m(json!({"a": {"$in": [1, 2]}}), json!({"a": 2})));
    assert!(m(json!({"a": {"$in": [1, 2]}}), json!({"a": [5, 1]})));
    assert!(!m(json!({"a": {"$in": [1, 2]}}), json!({"a": 3})));
    assert!(!m(json!({"a": {"$in": []}}), json!({"a": 3})));
    assert!(m(json!({"a": {"$in": [null, 5]}}), json!({})));
    assert!(m(json!({"a": {"$in": [[1, 2]]}}), json!({"a": [1, 2]})));
    assert!(m(json!({"a": {"$nin": [1, 2]}}), json!({"a": 3})));
    assert!(m(json!({"a": {"$nin": [1, 2]}}), json!({})));
    assert!(!m(json!({"a": {"$nin": [1, 2]}}), json!({"a": [3, 2]})));
    assert!(m(json!({"a": {"$nin": []}}), json!({"a": 3})));
    assert!(invalid(json!({"a": {"$in": 1}})).contains("$in needs an array"));
    assert!(invalid(json!({"a": {"$nin": {"x": 1}}})).contains("$nin needs an array"));
    assert!(invalid(json!({"a": {"$in": [{"$regex": "^a"}]}})).contains("$regex"));
}

// ---- comparisons ----

#[test]
fn comparisons_on_numbers() {
    let doc = json!({"n": 5});
    assert!(m(json!({"n": {"$gt": 4}}), doc.clone()));
    assert!(!m(json!({"n": {"$gt": 5}}), doc.clone()));
    assert!(m(json!({"n": {"$gte": 5}}), doc.clone()));
    assert!(m(json!({"n": {"$lt": 5.5}}), doc.clone()));
    assert!(!m(json!({"n": {"$lt": 5}}), doc.clone()));
    assert!(m(json!({"n": {"$lte": 5.0}}), doc.clone()));
    assert!(m(json!({"n": {"$gt": 4, "$lt": 6}}), doc));
    assert!(
        m(
            json!({"n": {"$gt": 9007199254740992_i64}}),
            json!({"n": 9007199254740993_i64})
        ),
        "no float rounding"
    );
    assert!(m(
        json!({"n": {"$lt": 18446744073709551615_u64}}),
        json!({"n": 1})
    ));
}

#[test]
fn comparisons_are_type_bracketed() {
    assert!(!m(json!({"a": {"$gt": 1}}), json!({"a": "2"})));
    assert!(!m(json!({"a": {"$lt": "z"}}), json!({"a": 1})));
    assert!(!m(json!({"a": {"$gt": 1}}), json!({"a": true})));
    assert!(m(json!({"a": {"$gt": "a"}}), json!({"a": "b"})));
    assert!(!m(json!({"a": {"$gt": 1}}), json!({})));
    assert!(
        !m(json!({"a": {"$lt": 1}}), json!({})),
        "missing is not less than a number"
    );
    assert!(m(json!({"a": {"$gte": null}}), json!({})));
    assert!(m(json!({"a": {"$lte": null}}), json!({"a": null})));
    assert!(!m(json!({"a": {"$gt": null}}), json!({"a": 1})));
    assert!(m(json!({"a": {"$gt": false}}), json!({"a": true})));
}

#[test]
fn comparisons_on_dates_as_strings() {
    let doc = json!({"at": "2024-01-02T03:04:05.678Z"});
    assert!(m(
        json!({"at": {"$gte": "2024-01-01T00:00:00.000Z"}}),
        doc.clone()
    ));
    assert!(!m(json!({"at": {"$gte": "2024-01-03T00:00:00.000Z"}}), doc));
}

#[test]
fn comparisons_on_arrays_use_any_element() {
    let doc = json!({"a": [1, 10]});
    assert!(m(json!({"a": {"$gt": 5}}), doc.clone()));
    assert!(m(json!({"a": {"$lt": 5}}), doc.clone()));
    // Each condition on its own element: MongoDB's documented behaviour.
    assert!(m(json!({"a": {"$gt": 5, "$lt": 5}}), doc.clone()));
    assert!(!m(json!({"a": {"$gt": 10}}), doc.clone()));
    assert!(
        m(json!({"a": {"$gt": [1, 5]}}), doc.clone()),
        "whole arrays compare element-wise"
    );
    assert!(m(
        json!({"items.qty": {"$gte": 5}}),
        json!({"items": [{"qty": 1}, {"qty": 5}]})
    ));
}

// ---- $exists ----

#[test]
fn exists() {
    assert!(m(json!({"a": {"$exists": true}}), json!({"a": null})));
    assert!(!m(json!({"a": {"$exists": true}}), json!({})));
    assert!(m(json!({"a": {"$exists": false}}), json!({})));
    assert!(m(json!({"a": {"$exists": 1}}), json!({"a": 0})));
    assert!(m(json!({"a": {"$exists": 0}}), json!({"b": 0})));
    assert!(m(
        json!({"a.b": {"$exists": true}}),
        json!({"a": [{"c": 1}, {"b": 1}]})
    ));
    assert!(!m(json!({"a.b": {"$exists": true}}), json!({"a": [1, 2]})));
    assert!(m(json!({"a.b": {"$exists": false}}), json!({"a": [1, 2]})));
    assert!(m(json!({"a.1": {"$exists": true}}), json!({"a": [1, 2]})));
    assert!(!m(json!({"a.2": {"$exists": true}}), json!({"a": [1, 2]})));
    assert!(invalid(json!({"a": {"$exists": "yes"}})).contains("$exists"));
}

// ---- $regex ----

#[test]
fn regex_and_options() {
    assert!(m(
        json!({"name": {"$regex": "^al"}}),
        json!({"name": "alice"})
    ));
    assert!(!m(
        json!({"name": {"$regex": "^al"}}),
        json!({"name": "Alice"})
    ));
    assert!(m(
        json!({"name": {"$regex": "^al", "$options": "i"}}),
        json!({"name": "Alice"})
    ));
    assert!(m(
        json!({"name": {"$options": "i", "$regex": "^AL"}}),
        json!({"name": "alice"})
    ));
    assert!(m(
        json!({"t": {"$regex": "^b", "$options": "m"}}),
        json!({"t": "a\nb"})
    ));
    assert!(!m(json!({"t": {"$regex": "^b"}}), json!({"t": "a\nb"})));
    assert!(m(
        json!({"t": {"$regex": "a.b", "$options": "s"}}),
        json!({"t": "a\nb"})
    ));
    assert!(m(
        json!({"t": {"$regex": "a b # comment", "$options": "x"}}),
        json!({"t": "ab"})
    ));
    assert!(m(
        json!({"tags": {"$regex": "^x"}}),
        json!({"tags": ["a", "xy"]})
    ));
    assert!(
        !m(json!({"n": {"$regex": "1"}}), json!({"n": 1})),
        "numbers are not strings"
    );
    assert!(!m(json!({"n": {"$regex": "1"}}), json!({})));
    assert!(m(
        json!({"name": {"$regex": "^a", "$ne": "al"}}),
        json!({"name": "ab"})
    ));
}

#[test]
fn regex_errors() {
    assert!(invalid(json!({"a": {"$regex": "("}})).contains("invalid regular expression"));
    assert!(invalid(json!({"a": {"$regex": "(?=a)"}})).contains("invalid regular expression"));
    assert!(invalid(json!({"a": {"$regex": "a", "$options": "g"}})).contains("'g'"));
    assert!(invalid(json!({"a": {"$options": "i"}})).contains("$options needs $regex"));
    assert!(invalid(json!({"a": {"$regex": 1}})).contains("$regex needs a string"));
    assert!(
        invalid(json!({"a": {"$regex": "a", "$options": 1}})).contains("$options needs a string")
    );
}

#[test]
fn regex_errors_name_the_path_and_the_reason() {
    let e = |f| err(f).to_string();
    assert_eq!(
        e(json!({"a": {"$regex": "ab(c"}})),
        "a: invalid regular expression: error: unclosed group"
    );
    assert_eq!(
        e(json!({"a": {"$regex": "a", "$options": "ig"}})),
        "a: unsupported regex option 'g' (use i, m, s, x)"
    );
    assert_eq!(
        e(json!({"a": {"$regex": "\\w{10000}"}})),
        "a: invalid regular expression: Compiled regex exceeds size limit of 1048576 bytes."
    );
}

#[test]
fn regex_filters_compare_by_source_and_options() {
    let regex = |options| parse(json!({"a": {"$regex": "a", "$options": options}}));
    assert_eq!(regex("mi"), regex("im"));
    assert_eq!(regex("ii"), regex("i"));
    assert_ne!(regex("i"), regex(""));
    assert_eq!(regex(""), parse(json!({"a": {"$regex": "a"}})));
}

// ---- $size / $all ----

#[test]
fn size() {
    assert!(m(json!({"a": {"$size": 2}}), json!({"a": [1, [2, 3]]})));
    assert!(m(json!({"a": {"$size": 0}}), json!({"a": []})));
    assert!(m(json!({"a": {"$size": 2.0}}), json!({"a": [1, 2]})));
    assert!(!m(json!({"a": {"$size": 1}}), json!({"a": [1, 2]})));
    assert!(!m(json!({"a": {"$size": 0}}), json!({})));
    assert!(!m(json!({"a": {"$size": 1}}), json!({"a": "x"})));
    assert!(m(json!({"a.b": {"$size": 1}}), json!({"a": [{"b": [1]}]})));
    for bad in [json!(-1), json!(1.5), json!("2"), json!(null)] {
        assert!(
            invalid(json!({"a": {"$size": bad}})).contains("$size needs a non-negative integer")
        );
    }
}

#[test]
fn all() {
    assert!(m(
        json!({"tags": {"$all": ["a", "b"]}}),
        json!({"tags": ["b", "c", "a"]})
    ));
    assert!(!m(
        json!({"tags": {"$all": ["a", "d"]}}),
        json!({"tags": ["b", "c", "a"]})
    ));
    assert!(m(json!({"tags": {"$all": ["a"]}}), json!({"tags": "a"})));
    assert!(
        !m(json!({"tags": {"$all": []}}), json!({"tags": []})),
        "$all: [] matches nothing"
    );
    assert!(m(
        json!({"tags": {"$all": [["a", "b"]]}}),
        json!({"tags": ["a", "b"]})
    ));
    assert!(m(
        json!({"items.sku": {"$all": ["A", "B"]}}),
        json!({"items": [{"sku": "A"}, {"sku": "B"}]})
    ));
    assert!(invalid(json!({"a": {"$all": "a"}})).contains("$all needs an array"));
}

// ---- $elemMatch ----

#[test]
fn elem_match_on_documents() {
    let doc = json!({"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 5}]});
    assert!(m(
        json!({"items": {"$elemMatch": {"sku": "B", "qty": {"$gt": 2}}}}),
        doc.clone()
    ));
    // Both conditions must hold on ONE element.
    assert!(!m(
        json!({"items": {"$elemMatch": {"sku": "A", "qty": {"$gt": 2}}}}),
        doc.clone()
    ));
    assert!(
        m(
            json!({"items.sku": "A", "items.qty": {"$gt": 2}}),
            doc.clone()
        ),
        "without $elemMatch: any elements"
    );
    assert!(m(
        json!({"items": {"$elemMatch": {"$or": [{"sku": "Z"}, {"qty": 1}]}}}),
        doc.clone()
    ));
    assert!(
        !m(
            json!({"items": {"$elemMatch": {"sku": "A"}}}),
            json!({"items": {"sku": "A"}})
        ),
        "not an array"
    );
    assert!(
        !m(
            json!({"items": {"$elemMatch": {}}}),
            json!({"items": [1, 2]})
        ),
        "scalars are not documents"
    );
    assert!(m(
        json!({"items": {"$elemMatch": {}}}),
        json!({"items": [1, {}]})
    ));
    assert!(matches!(
        parse(json!({"a": {"$elemMatch": {"b": 1}}})),
        Filter::Path { conds, .. } if matches!(&conds[0], Cond::ElemMatch(ElemMatch::Filter(_)))
    ));
}

#[test]
fn elem_match_on_scalars() {
    let doc = json!({"scores": [70, 82, 90]});
    assert!(m(
        json!({"scores": {"$elemMatch": {"$gte": 80, "$lt": 85}}}),
        doc.clone()
    ));
    assert!(!m(
        json!({"scores": {"$elemMatch": {"$gte": 91}}}),
        doc.clone()
    ));
    assert!(!m(
        json!({"scores": {"$elemMatch": {"$gt": 85, "$lt": 80}}}),
        doc
    ));
    assert!(m(
        json!({"a": {"$elemMatch": {"$size": 2}}}),
        json!({"a": [[1, 2]]})
    ));
    assert!(
        !m(
            json!({"a": {"$elemMatch": {"$eq": 1}}}),
            json!({"a": [[1]]})
        ),
        "elements are not expanded"
    );
    assert!(m(
        json!({"a": {"$elemMatch": {"$not": {"$gt": 5}}}}),
        json!({"a": [9, 3]})
    ));
    assert!(matches!(
        parse(json!({"a": {"$elemMatch": {"$gt": 1}}})),
        Filter::Path { conds, .. } if matches!(&conds[0], Cond::ElemMatch(ElemMatch::Conds(_)))
    ));
    assert!(invalid(json!({"a": {"$elemMatch": [1]}})).contains("$elemMatch needs an object"));
    assert!(invalid(json!({"a": {"$elemMatch": {"$gt": 1, "b": 2}}})).contains("cannot mix"));
}

// ---- $not ----

#[test]
fn not() {
    assert!(m(json!({"a": {"$not": {"$gt": 5}}}), json!({"a": 3})));
    assert!(!m(json!({"a": {"$not": {"$gt": 5}}}), json!({"a": 6})));
    assert!(
        m(json!({"a": {"$not": {"$gt": 5}}}), json!({})),
        "missing matches $not"
    );
    assert!(m(json!({"a": {"$not": {"$gt": 5}}}), json!({"a": "x"})));
    assert!(
        m(
            json!({"a": {"$not": {"$gt": 2, "$lt": 4}}}),
            json!({"a": 5})
        ),
        "not (both)"
    );
    assert!(!m(
        json!({"a": {"$not": {"$gt": 2, "$lt": 4}}}),
        json!({"a": 3})
    ));
    assert!(m(
        json!({"a": {"$not": {"$regex": "^x", "$options": "i"}}}),
        json!({"a": "y"})
    ));
    assert!(!m(
        json!({"a": {"$not": {"$regex": "^x", "$options": "i"}}}),
        json!({"a": "Xy"})
    ));
    assert!(
        !m(json!({"a": {"$not": {"$gt": 5}}}), json!({"a": [1, 9]})),
        "an element > 5 exists"
    );
    for bad in [json!(5), json!({}), json!({"b": 1}), json!("^x")] {
        assert!(invalid(json!({"a": {"$not": bad}})).contains("$not needs an operator object"));
    }
}

// ---- logical ----

#[test]
fn and_or_nor() {
    let doc = json!({"a": 1, "b": 2});
    assert!(m(json!({"$and": [{"a": 1}, {"b": 2}]}), doc.clone()));
    assert!(!m(json!({"$and": [{"a": 1}, {"b": 3}]}), doc.clone()));
    assert!(m(json!({"$or": [{"a": 5}, {"b": 2}]}), doc.clone()));
    assert!(!m(json!({"$or": [{"a": 5}, {"b": 5}]}), doc.clone()));
    assert!(m(json!({"$nor": [{"a": 5}, {"b": 5}]}), doc.clone()));
    assert!(!m(json!({"$nor": [{"a": 1}]}), doc.clone()));
    assert!(m(json!({"a": 1, "$or": [{"b": 2}, {"c": 3}]}), doc.clone()));
    assert!(m(
        json!({"$or": [{"$and": [{"a": 1}, {"b": 2}]}, {"x": 1}]}),
        doc
    ));
    for op in ["$and", "$or", "$nor"] {
        for bad in [json!([]), json!({}), json!(1)] {
            assert!(
                invalid(json!({op: bad})).contains("non-empty array"),
                "{op}"
            );
        }
        assert!(invalid(json!({op: [1]})).contains("must be an object"));
        assert!(invalid(json!({"a": {op: [{"b": 1}]}})).contains("only valid at the top"));
    }
}

// ---- $text ----

#[test]
fn text_at_top_level_or_in_top_level_and() {
    let f = parse(json!({"$text": {"$search": "coffee"}, "status": "A"}));
    assert_eq!(f.text_search(), Some("coffee"));
    assert!(f.matches(&json!({"title": "Hot coffee", "status": "A"})));
    assert!(!f.matches(&json!({"title": "Hot tea", "status": "A"})));
    let f = parse(json!({"$and": [{"x": 1}, {"$text": {"$search": "tea"}}]}));
    assert_eq!(f.text_search(), Some("tea"));
    assert_eq!(
        parse(json!({"$text": {"$search": "a"}})),
        Filter::Text { search: "a".into() }
    );
    assert_eq!(parse(json!({"a": 1})).text_search(), None);
    assert_eq!(parse(json!({"$or": [{"a": 1}]})).text_search(), None);
}

#[test]
fn text_elsewhere_is_refused() {
    assert!(
        invalid(json!({"$or": [{"$text": {"$search": "a"}}]}))
            .contains("only allowed at the top level")
    );
    assert!(
        invalid(json!({"$nor": [{"$text": {"$search": "a"}}]}))
            .contains("only allowed at the top level")
    );
    assert!(
        invalid(json!({"$and": [{"$and": [{"$text": {"$search": "a"}}]}]}))
            .contains("only allowed at the top level")
    );
    assert!(
        invalid(json!({"a": {"$elemMatch": {"$text": {"$search": "a"}}}}))
            .contains("only valid at the top")
    );
    assert!(
        invalid(json!({"$text": {"$search": "a"}, "$and": [{"$text": {"$search": "b"}}]}))
            .contains("only one $text")
    );
    assert!(invalid(json!({"$text": "a"})).contains("$text needs an object"));
    assert!(invalid(json!({"$text": {}})).contains("$text needs $search"));
    assert!(invalid(json!({"$text": {"$search": 1}})).contains("$search needs a string"));
    assert!(
        invalid(json!({"$text": {"$search": "a", "$language": "en"}}))
            .contains("$language is not supported")
    );
}

// ---- errors naming operators ----

#[test]
fn unknown_operators_are_named() {
    for f in [
        json!({"$foo": 1}),
        json!({"a": {"$foo": 1}}),
        json!({"$or": [{"a": {"$mod": [2, 0]}}]}),
        json!({"a": {"$elemMatch": {"$type": "string"}}}),
        json!({"a": {"$not": {"$bitsAllSet": 1}}}),
        json!({"$comment": "x"}),
    ] {
        let e = err(f.clone());
        assert!(
            matches!(e, QueryError::UnknownOperator { .. }),
            "{f}: {e:?}"
        );
        let op = e.operator().unwrap().to_owned();
        assert!(e.to_string().contains(&op), "{e}");
        assert_eq!(e.to_string(), format!("unknown operator {op}"));
    }
    assert_eq!(
        err(json!({"a": {"$in": [{"$oid": "x"}]}})).operator(),
        Some("$oid")
    );
}

#[test]
fn forbidden_operators_anywhere() {
    for f in [
        json!({"$where": "this.a > 1"}),
        json!({"$expr": {"$gt": ["$a", 1]}}),
        json!({"$or": [{"a": 1}, {"$where": "1"}]}),
        json!({"$and": [{"$nor": [{"$function": {}}]}]}),
        json!({"items": {"$elemMatch": {"$where": "1"}}}),
        json!({"items": {"$elemMatch": {"a": {"$jsonSchema": {}}}}}),
        json!({"a": {"$not": {"$accumulator": {}}}}),
        json!({"a": {"$in": [{"$lookup": 1}]}}),
        json!({"a": {"$eq": {"b": {"$where": 1}}}}),
        json!({"$foo": 1, "a": {"$where": 1}}),
        json!({"a.$where": 1}),
    ] {
        let e = err(f.clone());
        assert!(
            matches!(e, QueryError::ForbiddenOperator { .. }),
            "{f}: {e:?}"
        );
        assert!(e.to_string().ends_with("is not allowed"), "{e}");
        assert!(e.operator().unwrap().starts_with('$'));
    }
    assert_eq!(
        err(json!({"$where": "1"})).to_string(),
        "operator $where is not allowed"
    );
}

#[test]
fn operators_and_fields_do_not_mix() {
    assert!(invalid(json!({"a": {"$gt": 1, "b": 2}})).contains("cannot mix operators and fields"));
    assert!(invalid(json!({"a": {"b": 2, "$gt": 1}})).contains("cannot mix operators and fields"));
    assert!(
        invalid(json!({"a": {"b": {"$gt": 1}}}))
            .contains("operator $gt cannot appear inside a value")
    );
}

#[test]
fn bad_paths() {
    assert!(invalid(json!({"": 1})).contains("empty field path"));
    assert!(invalid(json!({"a..b": 1})).contains("empty segment"));
    assert!(invalid(json!({"a.": 1})).contains("empty segment"));
    assert!(invalid(json!({"a.$": 1})).contains("positional"));
    let long = vec!["a"; 101].join(".");
    assert!(invalid(json!({long: 1})).contains("more than 100 segments"));
}

// ---- limits ----

#[test]
fn depth_limit() {
    let mut f = json!({"a": 1});
    for _ in 0..10 {
        f = json!({"$or": [f]});
    }
    assert_eq!(err(f), QueryError::TooDeep { max: 10 });
    let mut f = json!({"a": 1});
    for _ in 0..8 {
        f = json!({"$or": [f]});
    }
    assert!(Filter::parse(&f, &Limits::default()).is_ok());
    let deep_value = json!({"a": {"$eq": [[[[[[[[[[1]]]]]]]]]]}});
    assert_eq!(err(deep_value), QueryError::TooDeep { max: 10 });
    let tight = Limits {
        max_depth: 2,
        max_nodes: 100,
    };
    assert!(Filter::parse(&json!({"a": {"$gt": 1}}), &tight).is_ok());
    assert_eq!(
        Filter::parse(&json!({"a": {"$elemMatch": {"$gt": 1}}}), &tight),
        Err(QueryError::TooDeep { max: 2 })
    );
}

#[test]
fn node_limit() {
    let many: Vec<i32> = (0..1000).collect();
    assert_eq!(
        err(json!({"a": {"$in": many}})),
        QueryError::TooLarge { max: 1000 }
    );
    let few: Vec<i32> = (0..900).collect();
    assert!(Filter::parse(&json!({"a": {"$in": few}}), &Limits::default()).is_ok());
    let tight = Limits {
        max_depth: 10,
        max_nodes: 5,
    };
    let ors: Vec<Value> = (0..5).map(|i| json!({"a": i})).collect();
    assert_eq!(
        Filter::parse(&json!({"$or": ors}), &tight),
        Err(QueryError::TooLarge { max: 5 })
    );
    assert!(
        err(json!({"a": {"$in": (0..2000).collect::<Vec<_>>()}}))
            .to_string()
            .contains("1000")
    );
}

// ---- map_values ----

#[test]
fn map_values_casts_every_operand_with_its_path() {
    let f = parse(json!({
        "n": "42",
        "m": {"$in": ["1", "2"], "$exists": true},
        "$or": [{"k": {"$not": {"$gt": "3"}}}],
        "items": {"$elemMatch": {"qty": "5", "sku": {"$regex": "^a"}}},
        "scores": {"$elemMatch": {"$gt": "7"}},
        "$text": {"$search": "9"}
    }));
    let mut seen = Vec::new();
    let cast = &mut |path: &str, v: Value| -> Result<Value, String> {
        seen.push(path.to_owned());
        match v {
            Value::String(s) => s.parse::<i64>().map(Value::from).map_err(|e| e.to_string()),
            other => Ok(other),
        }
    };
    let mapped = f.map_values(cast).unwrap();
    assert_eq!(seen, ["n", "m", "m", "k", "items.qty", "scores.$"]);
    assert!(mapped.matches(&json!({
        "n": 42, "m": 2, "k": 1, "items": [{"qty": 5, "sku": "ab"}], "scores": [8], "t": "9"
    })));
    assert_eq!(mapped.text_search(), Some("9"));
}

#[test]
fn map_values_propagates_errors() {
    let f = parse(json!({"a": 1, "b": 2}));
    let r = f.map_values(&mut |path: &str, v: Value| {
        if path == "b" {
            Err(path.to_owned())
        } else {
            Ok(v)
        }
    });
    assert_eq!(r, Err("b".to_owned()));
}

// ---- conjuncts ----

#[test]
fn conjuncts_are_index_hints_from_the_top_level_conjunction() {
    let f = parse(json!({
        "a": 1,
        "b": {"$gte": 2, "$lt": 9, "$ne": 4},
        "$and": [{"c": {"$in": ["x", "y"]}}, {"$or": [{"d": 1}]}],
        "e": null,
        "items.0.sku": "A",
        "f": {"$in": [1, null]},
        "$or": [{"g": 1}]
    }));
    let got: Vec<(&str, &Cond)> = f.conjuncts();
    assert_eq!(
        got,
        vec![
            ("a", &Cond::Eq(json!(1))),
            ("b", &Cond::Gte(json!(2))),
            ("b", &Cond::Lt(json!(9))),
            ("c", &Cond::In(vec![json!("x"), json!("y")])),
        ]
    );
    assert!(parse(json!({"$or": [{"a": 1}]})).conjuncts().is_empty());
    assert_eq!(
        parse(json!({"a.b": "x"})).conjuncts(),
        vec![("a.b", &Cond::Eq(json!("x")))]
    );
}
