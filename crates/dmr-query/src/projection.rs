//! Projections: which fields of a document a read returns.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::QueryError;
use crate::{operators, path};

/// An inclusion (`{"a": 1, "b.c": 1}`) or exclusion (`{"a": 0}`) projection.
/// `_id` is included unless excluded (`"_id": 0` is the one exclusion an
/// inclusion may carry). The empty projection returns documents unchanged.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Projection {
    mode: Option<Mode>,
    tree: Node,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Include,
    Exclude,
}

/// The projected paths as a tree of segments; a leaf takes the whole value.
#[derive(Debug, Clone, PartialEq, Default)]
struct Node {
    leaf: bool,
    children: BTreeMap<String, Node>,
}

impl Node {
    fn insert(&mut self, path: &str) -> Result<(), QueryError> {
        let collision = || {
            QueryError::invalid(
                path,
                "path collision: a projection cannot name a path and its parent",
            )
        };
        let mut node = self;
        for seg in path.split('.') {
            if node.leaf {
                return Err(collision());
            }
            node = node.children.entry(seg.to_owned()).or_default();
        }
        if node.leaf || !node.children.is_empty() {
            return Err(collision());
        }
        node.leaf = true;
        Ok(())
    }
}

impl Projection {
    /// `{"a": 1, "b.c": 1}` / `{"a": 0}` (also `true`/`false`), or Mongoose's
    /// string form `"a b.c"` / `"-a"`.
    pub fn parse(v: &Value) -> Result<Projection, QueryError> {
        let fields: Vec<(String, bool)> = match v {
            Value::Object(map) => map
                .iter()
                .map(|(key, flag)| Ok((key.clone(), include(key, flag)?)))
                .collect::<Result<_, QueryError>>()?,
            Value::String(s) => s
                .split_whitespace()
                .map(|w| match w.strip_prefix('-') {
                    Some(key) => (key.to_owned(), false),
                    None => (w.strip_prefix('+').unwrap_or(w).to_owned(), true),
                })
                .collect(),
            _ => {
                return Err(QueryError::invalid(
                    "projection",
                    "a projection must be an object like {\"a\": 1}",
                ));
            }
        };
        let mut id = None;
        let mut mode = None;
        let mut tree = Node::default();
        for (key, on) in fields {
            if key.starts_with('$') {
                return Err(operators::unknown(&key));
            }
            path::check(&key)?;
            if key == "_id" {
                id = Some(on);
                continue;
            }
            let m = if on { Mode::Include } else { Mode::Exclude };
            if mode.is_some_and(|prev| prev != m) {
                return Err(QueryError::invalid(
                    key.as_str(),
                    "cannot mix inclusion and exclusion in one projection (except \"_id\": 0)",
                ));
            }
            mode = Some(m);
            tree.insert(&key)?;
        }
        let mode = match (mode, id) {
            (None, None) => return Ok(Projection::default()),
            (None, Some(on)) => Some(if on { Mode::Include } else { Mode::Exclude }),
            (m, _) => m,
        };
        // `_id` rides along with an inclusion unless excluded, and is removed
        // by an exclusion only when asked.
        let with_id = match mode {
            Some(Mode::Include) => id != Some(false),
            _ => id == Some(false),
        };
        if with_id {
            tree.insert("_id")?;
        }
        Ok(Projection { mode, tree })
    }

    pub fn is_empty(&self) -> bool {
        self.mode.is_none()
    }

    /// The projected document, fields in the document's own order. Through
    /// arrays, the projection applies to each object element (an inclusion
    /// drops non-object elements), as in MongoDB.
    pub fn apply(&self, doc: &Value) -> Value {
        match (self.mode, doc) {
            (Some(Mode::Include), Value::Object(map)) => Value::Object(keep(map, &self.tree)),
            (Some(Mode::Exclude), _) => {
                let mut out = doc.clone();
                drop_paths(&mut out, &self.tree);
                out
            }
            _ => doc.clone(),
        }
    }
}

fn include(key: &str, flag: &Value) -> Result<bool, QueryError> {
    match flag {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) => Ok(n.as_f64() != Some(0.0)),
        // `{$slice: 2}`, `{$elemMatch: ...}`, `{$meta: ...}`.
        Value::Object(map) => match map.keys().next() {
            Some(op) if op.starts_with('$') => Err(operators::unknown(op)),
            _ => Err(QueryError::invalid(
                key,
                "projection values must be 1, 0, true or false",
            )),
        },
        _ => Err(QueryError::invalid(
            key,
            "projection values must be 1, 0, true or false",
        )),
    }
}

fn keep(map: &Map<String, Value>, node: &Node) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in map {
        let Some(child) = node.children.get(key) else {
            continue;
        };
        if child.leaf {
            out.insert(key.clone(), value.clone());
            continue;
        }
        match value {
            Value::Object(inner) => {
                out.insert(key.clone(), Value::Object(keep(inner, child)));
            }
            Value::Array(items) => {
                out.insert(key.clone(), Value::Array(keep_items(items, child)));
            }
            _ => {}
        }
    }
    out
}

fn keep_items(items: &[Value], node: &Node) -> Vec<Value> {
    items
        .iter()
        .filter_map(|item| match item {
            Value::Object(inner) => Some(Value::Object(keep(inner, node))),
            Value::Array(inner) => Some(Value::Array(keep_items(inner, node))),
            _ => None,
        })
        .collect()
}

fn drop_paths(v: &mut Value, node: &Node) {
    match v {
        Value::Object(map) => {
            for (key, child) in &node.children {
                if child.leaf {
                    map.shift_remove(key);
                } else if let Some(inner) = map.get_mut(key) {
                    drop_paths(inner, child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| drop_paths(item, node)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn project(spec: Value, doc: Value) -> Value {
        Projection::parse(&spec).unwrap().apply(&doc)
    }

    #[test]
    fn inclusion_keeps_named_fields_and_id_in_document_order() {
        let doc = json!({"_id": "x", "a": 1, "b": {"c": 2, "d": 3}, "e": 4});
        assert_eq!(
            project(json!({"b.c": 1, "a": 1}), doc.clone()),
            json!({"_id": "x", "a": 1, "b": {"c": 2}})
        );
        assert_eq!(
            project(json!({"a": 1, "_id": 0}), doc.clone()),
            json!({"a": 1})
        );
        assert_eq!(project(json!({"_id": 1}), doc.clone()), json!({"_id": "x"}));
        assert_eq!(
            project(json!({"a": true}), doc.clone()),
            json!({"_id": "x", "a": 1})
        );
        assert_eq!(
            project(json!("a"), doc.clone()),
            json!({"_id": "x", "a": 1})
        );
        // A path through a scalar yields nothing; through a missing object, nothing.
        assert_eq!(
            project(json!({"a.z": 1, "q.r": 1}), doc),
            json!({"_id": "x"})
        );
    }

    #[test]
    fn inclusion_through_arrays() {
        let doc = json!({"items": [{"sku": "A", "qty": 1}, 7, {"qty": 2}, [{"sku": "B"}]]});
        assert_eq!(
            project(json!({"items.sku": 1, "_id": 0}), doc),
            json!({"items": [{"sku": "A"}, {}, [{"sku": "B"}]]})
        );
    }

    #[test]
    fn exclusion_removes_named_fields() {
        let doc =
            json!({"_id": "x", "a": 1, "b": {"c": 2, "d": 3}, "items": [{"sku": "A", "p": 1}]});
        assert_eq!(
            project(json!({"a": 0, "b.c": 0}), doc.clone()),
            json!({"_id": "x", "b": {"d": 3}, "items": [{"sku": "A", "p": 1}]})
        );
        assert_eq!(
            project(json!({"_id": 0}), doc.clone()),
            json!({"a": 1, "b": {"c": 2, "d": 3}, "items": [{"sku": "A", "p": 1}]})
        );
        assert_eq!(
            project(json!({"items.p": false}), doc.clone())["items"],
            json!([{"sku": "A"}])
        );
        assert_eq!(project(json!("-a -_id"), doc)["b"], json!({"c": 2, "d": 3}));
    }

    #[test]
    fn empty_projection_is_identity() {
        let p = Projection::parse(&json!({})).unwrap();
        assert!(p.is_empty());
        let doc = json!({"_id": 1, "a": [1]});
        assert_eq!(p.apply(&doc), doc);
        assert!(!Projection::parse(&json!({"a": 1})).unwrap().is_empty());
    }

    #[test]
    fn rejects_mixing_collisions_and_operators() {
        let mixed = Projection::parse(&json!({"a": 1, "b": 0})).unwrap_err();
        assert!(matches!(mixed, QueryError::Invalid { .. }), "{mixed}");
        assert!(Projection::parse(&json!({"a": 0, "_id": 1})).is_ok());
        assert!(matches!(
            Projection::parse(&json!({"a": 1, "a.b": 1})),
            Err(QueryError::Invalid { .. })
        ));
        assert!(matches!(
            Projection::parse(&json!({"a.b": 1, "a": 1})),
            Err(QueryError::Invalid { .. })
        ));
        assert_eq!(
            Projection::parse(&json!({"a": {"$slice": 2}}))
                .unwrap_err()
                .operator(),
            Some("$slice")
        );
        assert_eq!(
            Projection::parse(&json!({"$where": 1}))
                .unwrap_err()
                .operator(),
            Some("$where")
        );
        assert!(matches!(
            Projection::parse(&json!({"a": "yes"})),
            Err(QueryError::Invalid { .. })
        ));
        assert!(matches!(
            Projection::parse(&json!(1)),
            Err(QueryError::Invalid { .. })
        ));
    }
}
