//! Sort specifications and MongoDB's sort order over documents.

use std::cmp::Ordering;

use serde_json::Value;

use crate::compare::compare_values;
use crate::error::QueryError;
use crate::{operators, path};

/// More sort keys than MongoDB allows (32) is a mistake, not a query.
const MAX_KEYS: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

/// Sort keys, most significant first. Documents equal on every key compare
/// equal: add `_id` as the last key for a deterministic order (pagination).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sort {
    pub keys: Vec<(String, SortOrder)>,
}

static NULL: Value = Value::Null;

impl Sort {
    /// `{"a": 1, "b.c": -1}` (also `"asc"`/`"ascending"`/`"desc"`/
    /// `"descending"`), or Mongoose's string form `"a -b.c"`. `{}` sorts
    /// nothing.
    pub fn parse(v: &Value) -> Result<Sort, QueryError> {
        let keys = match v {
            Value::Object(map) => map
                .iter()
                .map(|(key, dir)| Ok((key_path(key)?, order(key, dir)?)))
                .collect::<Result<Vec<_>, QueryError>>()?,
            Value::String(s) => s
                .split_whitespace()
                .map(|word| match word.strip_prefix('-') {
                    Some(key) => Ok((key_path(key)?, SortOrder::Desc)),
                    None => Ok((
                        key_path(word.strip_prefix('+').unwrap_or(word))?,
                        SortOrder::Asc,
                    )),
                })
                .collect::<Result<Vec<_>, QueryError>>()?,
            _ => {
                return Err(QueryError::invalid(
                    "sort",
                    "sort must be an object like {\"a\": 1, \"b\": -1}",
                ));
            }
        };
        if keys.len() > MAX_KEYS {
            return Err(QueryError::invalid(
                "sort",
                format!("at most {MAX_KEYS} sort keys"),
            ));
        }
        for (i, (key, _)) in keys.iter().enumerate() {
            if keys[..i].iter().any(|(k, _)| k == key) {
                return Err(QueryError::invalid(key.as_str(), "sort key given twice"));
            }
        }
        Ok(Sort { keys })
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// MongoDB's order of two documents under this sort. An array field sorts
    /// by its smallest element ascending and its largest descending; a
    /// missing field sorts as null (first ascending, last descending).
    pub fn compare(&self, a: &Value, b: &Value) -> Ordering {
        for (path, dir) in &self.keys {
            let o = compare_values(sort_key(a, path, *dir), sort_key(b, path, *dir));
            let o = if *dir == SortOrder::Desc {
                o.reverse()
            } else {
                o
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

fn key_path(key: &str) -> Result<String, QueryError> {
    if key.starts_with('$') {
        return Err(operators::unknown(key));
    }
    path::check(key)?;
    Ok(key.to_owned())
}

fn order(key: &str, dir: &Value) -> Result<SortOrder, QueryError> {
    let order = match dir {
        Value::Number(n) if n.as_f64() == Some(1.0) => Some(SortOrder::Asc),
        Value::Number(n) if n.as_f64() == Some(-1.0) => Some(SortOrder::Desc),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "asc" | "ascending" | "1" => Some(SortOrder::Asc),
            "desc" | "descending" | "-1" => Some(SortOrder::Desc),
            _ => None,
        },
        // `{$meta: "textScore"}` and friends.
        Value::Object(map) => match map.keys().next() {
            Some(op) if op.starts_with('$') => return Err(operators::unknown(op)),
            _ => None,
        },
        _ => None,
    };
    order.ok_or_else(|| QueryError::invalid(key, "sort order must be 1, -1, \"asc\" or \"desc\""))
}

/// The value a document sorts by on one key: among the values the path
/// names (array elements expanded), the smallest ascending or the largest
/// descending; null when there are none.
fn sort_key<'a>(doc: &'a Value, path: &str, dir: SortOrder) -> &'a Value {
    let mut best: Option<&Value> = None;
    for v in path::values(doc, path) {
        let v = v.unwrap_or(&NULL);
        let items: &[Value] = match v {
            // An empty array sorts as missing.
            Value::Array(items) if items.is_empty() => std::slice::from_ref(&NULL),
            Value::Array(items) => items,
            _ => std::slice::from_ref(v),
        };
        for item in items {
            let better = match best {
                None => true,
                Some(b) => {
                    let o = compare_values(item, b);
                    if dir == SortOrder::Asc {
                        o.is_lt()
                    } else {
                        o.is_gt()
                    }
                }
            };
            if better {
                best = Some(item);
            }
        }
    }
    best.unwrap_or(&NULL)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sorted(spec: Value, mut docs: Vec<Value>) -> Vec<Value> {
        let sort = Sort::parse(&spec).unwrap();
        docs.sort_by(|a, b| sort.compare(a, b));
        docs
    }

    #[test]
    fn parses_numbers_words_and_strings() {
        let want = Sort {
            keys: vec![
                ("a".into(), SortOrder::Asc),
                ("b.c".into(), SortOrder::Desc),
            ],
        };
        assert_eq!(Sort::parse(&json!({"a": 1, "b.c": -1})).unwrap(), want);
        assert_eq!(
            Sort::parse(&json!({"a": "asc", "b.c": "DESC"})).unwrap(),
            want
        );
        assert_eq!(
            Sort::parse(&json!({"a": "ascending", "b.c": "descending"})).unwrap(),
            want
        );
        assert_eq!(Sort::parse(&json!("a -b.c")).unwrap(), want);
        assert_eq!(Sort::parse(&json!({})).unwrap(), Sort::default());
        assert!(Sort::parse(&json!({})).unwrap().is_empty());
    }

    #[test]
    fn rejects_bad_specs() {
        assert!(matches!(
            Sort::parse(&json!({"a": 2})),
            Err(QueryError::Invalid { .. })
        ));
        assert!(matches!(
            Sort::parse(&json!({"a": "up"})),
            Err(QueryError::Invalid { .. })
        ));
        assert!(matches!(
            Sort::parse(&json!([["a", 1]])),
            Err(QueryError::Invalid { .. })
        ));
        assert!(matches!(
            Sort::parse(&json!({"a..b": 1})),
            Err(QueryError::Invalid { .. })
        ));
        assert!(matches!(
            Sort::parse(&json!("a -a")),
            Err(QueryError::Invalid { .. })
        ));
        let err = Sort::parse(&json!({"score": {"$meta": "textScore"}})).unwrap_err();
        assert_eq!(err.operator(), Some("$meta"));
        assert_eq!(
            Sort::parse(&json!({"$where": 1})).unwrap_err().operator(),
            Some("$where")
        );
    }

    #[test]
    fn sorts_across_types_in_bson_order() {
        let docs = vec![
            json!({"v": true}),
            json!({"v": [5]}),
            json!({"v": {"x": 1}}),
            json!({"v": "b"}),
            json!({"v": 2.5}),
            json!({"v": null}),
            json!({"v": 1}),
            json!({}),
        ];
        let out = sorted(json!({"v": 1}), docs);
        let vs: Vec<Value> = out
            .iter()
            .map(|d| d.get("v").cloned().unwrap_or(json!("missing")))
            .collect();
        // Arrays sort by their smallest element (5, a number).
        assert_eq!(
            vs,
            vec![
                json!(null),
                json!("missing"),
                json!(1),
                json!(2.5),
                json!([5]),
                json!("b"),
                json!({"x": 1}),
                json!(true)
            ]
        );
    }

    #[test]
    fn arrays_use_min_ascending_and_max_descending() {
        let docs = vec![json!({"_id": 1, "v": [1, 10]}), json!({"_id": 2, "v": [5]})];
        let asc = sorted(json!({"v": 1}), docs.clone());
        assert_eq!(asc[0]["_id"], 1);
        let desc = sorted(json!({"v": -1}), docs);
        assert_eq!(desc[0]["_id"], 1);
        let docs = vec![
            json!({"_id": 1, "v": [2, 3]}),
            json!({"_id": 2, "v": [1, 4]}),
        ];
        assert_eq!(sorted(json!({"v": 1}), docs.clone())[0]["_id"], 2);
        assert_eq!(sorted(json!({"v": -1}), docs)[0]["_id"], 2);
    }

    #[test]
    fn missing_sorts_first_ascending_last_descending() {
        let docs = vec![json!({"_id": 1, "v": 0}), json!({"_id": 2})];
        assert_eq!(sorted(json!({"v": 1}), docs.clone())[0]["_id"], 2);
        assert_eq!(sorted(json!({"v": -1}), docs)[0]["_id"], 1);
    }

    #[test]
    fn nested_paths_and_ties_on_later_keys() {
        let docs = vec![
            json!({"_id": "b", "a": {"n": 1}}),
            json!({"_id": "a", "a": {"n": 1}}),
            json!({"_id": "c", "a": {"n": 0}}),
        ];
        let out = sorted(json!({"a.n": -1, "_id": 1}), docs);
        let ids: Vec<&str> = out.iter().map(|d| d["_id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let sort = Sort::parse(&json!({"a.n": 1})).unwrap();
        assert_eq!(
            sort.compare(&json!({"a": {"n": 1}}), &json!({"a": {"n": 1.0}})),
            Ordering::Equal
        );
    }

    #[test]
    fn dates_and_ids_sort_as_strings() {
        let docs = vec![
            json!({"at": "2024-01-02T03:04:05.678Z"}),
            json!({"at": "2023-12-31T23:59:59.999Z"}),
        ];
        assert_eq!(
            sorted(json!({"at": 1}), docs)[0]["at"],
            "2023-12-31T23:59:59.999Z"
        );
    }
}
