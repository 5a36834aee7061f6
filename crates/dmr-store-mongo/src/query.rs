//! Filters and sorts as MongoDB query documents. Our filter language is MongoDB's, so the
//! translation is one to one: the server evaluates everything, values converted to the
//! path's native type (a Date path compares BSON Dates, not ISO strings).

use dmr_model::Schema;
use dmr_query::{Cond, ElemMatch, Filter, Sort, SortOrder};
use mongodb::bson::{Bson, Document, doc};
use serde_json::Value;

use crate::convert::at_path;

pub(crate) fn filter(f: &Filter, schema: &Schema) -> Document {
    node(f, "", schema)
}

/// `prefix` is the array path an `$elemMatch` filter's inner paths are relative to; values
/// are typed with the full path, documents keep the relative one.
fn node(f: &Filter, prefix: &str, schema: &Schema) -> Document {
    let list = |parts: &[Filter]| -> Bson {
        Bson::Array(
            parts
                .iter()
                .map(|p| Bson::Document(node(p, prefix, schema)))
                .collect(),
        )
    };
    match f {
        Filter::All => Document::new(),
        Filter::And(parts) => merged(parts.iter().map(|p| node(p, prefix, schema)))
            .unwrap_or_else(|| doc! { "$and": list(parts) }),
        Filter::Or(parts) => doc! { "$or": list(parts) },
        Filter::Nor(parts) => doc! { "$nor": list(parts) },
        Filter::Text { search } => doc! { "$text": { "$search": search.as_str() } },
        Filter::Path { path, conds } => {
            let full = if prefix.is_empty() {
                path.clone()
            } else {
                format!("{prefix}.{path}")
            };
            path_node(path, conds, &full, schema)
        }
    }
}

/// A conjunction as one document (`{a: 1, b: {$gt: 2}}`, as people write it and as every
/// server accepts it, `$elemMatch` included); `None` when two parts share a key and need
/// an explicit `$and`.
fn merged(parts: impl Iterator<Item = Document>) -> Option<Document> {
    let mut out = Document::new();
    for part in parts {
        for (key, value) in part {
            if out.insert(key, value).is_some() {
                return None;
            }
        }
    }
    Some(out)
}

/// One path's conditions as an operator document. Parsing builds them from one JSON
/// object, so each operator appears once; a filter built otherwise with a repeat is split
/// into `$and` by `path_node`, where the meaning is the same.
fn conditions(conds: &[Cond], path: &str, schema: &Schema) -> Document {
    conds
        .iter()
        .map(|cond| {
            let (op, value) = condition(cond, path, schema);
            (op.to_owned(), value)
        })
        .collect()
}

fn path_node(relative: &str, conds: &[Cond], full: &str, schema: &Schema) -> Document {
    let ops = conditions(conds, full, schema);
    if ops.len() == conds.len() {
        return doc! { relative: ops };
    }
    let each = conds
        .iter()
        .map(|c| {
            Bson::Document(doc! { relative: conditions(std::slice::from_ref(c), full, schema) })
        })
        .collect::<Vec<_>>();
    doc! { "$and": each }
}

fn condition(cond: &Cond, path: &str, schema: &Schema) -> (&'static str, Bson) {
    let typed = |v: &Value| at_path(v, path, schema);
    let typed_list = |vs: &[Value]| Bson::Array(vs.iter().map(&typed).collect());
    match cond {
        Cond::Eq(v) => ("$eq", typed(v)),
        Cond::Ne(v) => ("$ne", typed(v)),
        Cond::Gt(v) => ("$gt", typed(v)),
        Cond::Gte(v) => ("$gte", typed(v)),
        Cond::Lt(v) => ("$lt", typed(v)),
        Cond::Lte(v) => ("$lte", typed(v)),
        Cond::In(vs) => ("$in", typed_list(vs)),
        Cond::Nin(vs) => ("$nin", typed_list(vs)),
        Cond::All(vs) => ("$all", typed_list(vs)),
        Cond::Exists(b) => ("$exists", Bson::Boolean(*b)),
        Cond::Size(n) => ("$size", Bson::Int64(i64::try_from(*n).unwrap_or(i64::MAX))),
        Cond::Regex(p) => (
            "$regex",
            Bson::RegularExpression(mongodb::bson::Regex {
                pattern: p.source().to_owned(),
                // Sorted, as BSON requires: `Pattern` keeps them so.
                options: p.options().to_owned(),
            }),
        ),
        Cond::Not(inner) => ("$not", Bson::Document(conditions(inner, path, schema))),
        Cond::ElemMatch(ElemMatch::Filter(f)) => {
            ("$elemMatch", Bson::Document(node(f, path, schema)))
        }
        Cond::ElemMatch(ElemMatch::Conds(cs)) => {
            ("$elemMatch", Bson::Document(conditions(cs, path, schema)))
        }
    }
}

/// The sort document, `_id` last as a tie-breaker so pages never overlap or skip (MongoDB
/// does not keep ties in a stable order). No sort = `_id` order, which is insertion order
/// for ObjectIds (they start with their creation time).
pub(crate) fn sort(sort: &Sort) -> Document {
    let mut out = Document::new();
    for (path, order) in &sort.keys {
        let direction = match order {
            SortOrder::Asc => 1,
            SortOrder::Desc => -1,
        };
        out.insert(path.as_str(), direction);
    }
    if !out.contains_key("_id") {
        out.insert("_id", 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmr_query::Limits;
    use serde_json::json;

    fn parse(raw: Value) -> Filter {
        Filter::parse(&raw, &Limits::default()).unwrap()
    }

    #[test]
    fn operators_translate_one_to_one_with_native_values() {
        let schema = dmr_model::parse_model(
            r#"{"model": "O", "schema": {"at": "Date", "items": [{"productId": "ObjectId"}]}}"#,
            "o.json",
        )
        .unwrap()
        .schema;
        let f = parse(json!({
            "at": {"$gte": "2024-01-01T00:00:00.000Z"},
            "items": {"$elemMatch": {"productId": "65a1b2c3d4e5f60718293a4d"}},
            "name": {"$regex": "^a", "$options": "xi"},
            "$or": [{"n": {"$in": [1, 2]}}, {"n": {"$exists": false}}]
        }));
        let out = filter(&f, &schema);
        let text = format!("{out}");
        assert!(text.contains("\"at\": { \"$gte\": DateTime("), "{text}");
        assert!(
            text.contains("\"productId\": { \"$eq\": ObjectId("),
            "{text}"
        );
        assert!(text.contains("/^a/ix"), "options sorted: {text}");
        assert!(text.contains("\"$in\": [1, 2]"), "{text}");
    }

    #[test]
    fn sorts_end_with_the_id() {
        let s = Sort::parse(&json!({"n": -1})).unwrap();
        assert_eq!(sort(&s), doc! {"n": -1, "_id": 1});
        assert_eq!(sort(&Sort::default()), doc! {"_id": 1});
        let by_id = Sort::parse(&json!({"_id": -1})).unwrap();
        assert_eq!(sort(&by_id), doc! {"_id": -1});
    }
}
