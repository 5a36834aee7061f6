//! From a filter to SQL. The engine gets what it can answer exactly on scalar paths
//! (equality, ranges, `$in`, `_id`), so model indexes serve it; everything else is checked
//! row by row with `Filter::matches`. `exact` says whether the SQL alone is the answer,
//! which lets count, skip and limit run in the engine too.

use dmr_query::{Cond, Filter, Sort, SortOrder};
use dmr_store::{CollectionSpec, StoreError};
use rusqlite::types::Value as SqlValue;
use serde_json::Value;

use crate::ddl;

// Public so that the translation can be benchmarked and inspected (EXPLAIN) from outside.

pub struct Where {
    pub clause: String,
    pub params: Vec<SqlValue>,
    /// True when the clause selects exactly the matching documents.
    pub exact: bool,
}

/// `IN` lists longer than this are left to the row-by-row match.
const MAX_IN: usize = 200;

pub fn translate(spec: &CollectionSpec, filter: &Filter) -> Result<Where, StoreError> {
    let mut terms = Vec::new();
    let mut params = Vec::new();
    let exact = conjunction(spec, filter, &mut terms, &mut params)?;
    let clause = if terms.is_empty() {
        "1".to_owned()
    } else {
        terms.join(" AND ")
    };
    Ok(Where {
        clause,
        params,
        exact,
    })
}

/// Adds the SQL terms `filter` implies when it is (part of) a top-level conjunction;
/// returns whether they capture it exactly.
fn conjunction(
    spec: &CollectionSpec,
    filter: &Filter,
    terms: &mut Vec<String>,
    params: &mut Vec<SqlValue>,
) -> Result<bool, StoreError> {
    match filter {
        Filter::All => Ok(true),
        Filter::And(children) => {
            let mut exact = true;
            for child in children {
                exact &= conjunction(spec, child, terms, params)?;
            }
            Ok(exact)
        }
        Filter::Path { path, conds } => {
            let column = if path == "_id" {
                Some("_id".to_owned())
            } else if spec.scalar_paths.iter().any(|p| p == path) {
                Some(format!(
                    "jsonb_extract(doc, {})",
                    ddl::json_path_literal(&spec.name, path)?
                ))
            } else {
                None
            };
            let Some(column) = column else {
                return Ok(false);
            };
            let mut exact = true;
            for cond in conds {
                exact &= condition(&column, cond, terms, params);
            }
            Ok(exact)
        }
        Filter::Text { search } if !spec.text_paths.is_empty() => {
            let table = ddl::quote_ident(&ddl::text_table(&spec.name));
            terms.push(format!(
                "rowid IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)"
            ));
            params.push(SqlValue::Text(fts_query(search)));
            Ok(true)
        }
        _ => Ok(false),
    }
}

fn condition(
    column: &str,
    cond: &Cond,
    terms: &mut Vec<String>,
    params: &mut Vec<SqlValue>,
) -> bool {
    let (op, value) = match cond {
        Cond::Eq(v) => ("=", v),
        Cond::Gt(v) => (">", v),
        Cond::Gte(v) => (">=", v),
        Cond::Lt(v) => ("<", v),
        Cond::Lte(v) => ("<=", v),
        Cond::In(values) if !values.is_empty() && values.len() <= MAX_IN => {
            let Some(bound) = values.iter().map(scalar).collect::<Option<Vec<_>>>() else {
                return false;
            };
            terms.push(format!(
                "{column} IN ({})",
                vec!["?"; bound.len()].join(", ")
            ));
            params.extend(bound);
            // Type bracketing: 1 and true are equal in SQL, not in MongoDB.
            return values.iter().all(|v| v.is_string());
        }
        _ => return false,
    };
    let Some(bound) = scalar(value) else {
        return false;
    };
    terms.push(format!("{column} {op} ?"));
    params.push(bound);
    // SQL compares across types (numbers < text); MongoDB does not, so only string
    // equality is exact. Everything else is a superset, narrowed by `matches`.
    matches!(cond, Cond::Eq(Value::String(_)))
}

/// A JSON scalar as an SQL value, as `jsonb_extract` returns it (true/false are 1/0).
fn scalar(value: &Value) -> Option<SqlValue> {
    match value {
        Value::String(s) => Some(SqlValue::Text(s.clone())),
        Value::Number(n) => n
            .as_i64()
            .map(SqlValue::Integer)
            .or_else(|| n.as_f64().map(SqlValue::Real)),
        Value::Bool(b) => Some(SqlValue::Integer(i64::from(*b))),
        _ => None,
    }
}

/// The ORDER BY for `sort` when every key is a scalar path (or `_id`), ending with the
/// insertion order for ties; `None` when the engine cannot order as MongoDB would (a key
/// through an array, or a Mixed value). On a typed scalar path SQLite's order is BSON's:
/// missing and null first ascending, numbers by value, strings bytewise (dates are ISO
/// strings), and numbers before strings where a field holds both.
pub fn order_by(spec: &CollectionSpec, sort: &Sort) -> Result<Option<String>, StoreError> {
    let mut terms = Vec::with_capacity(sort.keys.len() + 1);
    for (path, order) in &sort.keys {
        let expr = if path == "_id" {
            "_id".to_owned()
        } else if spec.scalar_paths.iter().any(|p| p == path) {
            format!(
                "jsonb_extract(doc, {})",
                ddl::json_path_literal(&spec.name, path)?
            )
        } else {
            return Ok(None);
        };
        let direction = match order {
            SortOrder::Asc => "",
            SortOrder::Desc => " DESC",
        };
        terms.push(format!("{expr}{direction}"));
    }
    terms.push("rowid".to_owned());
    Ok(Some(terms.join(", ")))
}

/// MongoDB `$search` to an FTS5 query: words and "quoted phrases" are alternatives
/// (any may match), `-word` excludes.
pub(crate) fn fts_query(search: &str) -> String {
    let mut wanted = Vec::new();
    let mut excluded = Vec::new();
    let mut rest = search;
    while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
        rest = &rest[start..];
        let negated = rest.starts_with('-');
        if negated {
            rest = &rest[1..];
        }
        let term;
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            term = &quoted[..end];
            rest = quoted.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            term = &rest[..end];
            rest = &rest[end..];
        }
        // A control character separates words (the tokenizer reads it so in documents);
        // left in, a NUL would end FTS5's string: a syntax error, not a search.
        let term: String = term
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let term = term.trim();
        if term.is_empty() {
            continue;
        }
        let quoted = format!("\"{}\"", term.replace('"', "\"\""));
        if negated {
            excluded.push(quoted);
        } else {
            wanted.push(quoted);
        }
    }
    if wanted.is_empty() {
        // Only exclusions: MongoDB matches nothing.
        return "\"\"".to_owned();
    }
    let mut query = format!("({})", wanted.join(" OR "));
    for term in excluded {
        query.push_str(" NOT ");
        query.push_str(&term);
    }
    query
}

/// The filter to check row by row: `$text` was answered by the engine's index.
pub(crate) fn without_text(filter: &Filter) -> Filter {
    match filter {
        Filter::Text { .. } => Filter::All,
        Filter::And(children) => Filter::And(children.iter().map(without_text).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_conditions_become_index_expressions() {
        let spec = CollectionSpec {
            name: "users".into(),
            scalar_paths: vec!["email".into(), "age".into()],
            ..CollectionSpec::default()
        };
        let filter =
            |raw: serde_json::Value| Filter::parse(&raw, &dmr_query::Limits::default()).unwrap();
        // The same text as the index expression in ddl.rs, which is what lets the planner use it.
        let exact = translate(&spec, &filter(serde_json::json!({"email": "a@b.c"}))).unwrap();
        assert_eq!(exact.clause, "jsonb_extract(doc, '$.\"email\"') = ?");
        assert!(exact.exact);
        let ranged = translate(
            &spec,
            &filter(serde_json::json!({"age": {"$gte": 3}, "tags": "x"})),
        )
        .unwrap();
        assert_eq!(ranged.clause, "jsonb_extract(doc, '$.\"age\"') >= ?");
        assert!(
            !ranged.exact,
            "numbers compare across types in SQL, and tags is not scalar"
        );
    }

    #[test]
    fn order_by_scalar_paths_only() {
        let spec = CollectionSpec {
            name: "users".into(),
            scalar_paths: vec!["createdAt".into()],
            ..CollectionSpec::default()
        };
        let sort = |raw: serde_json::Value| Sort::parse(&raw).unwrap();
        assert_eq!(
            order_by(&spec, &sort(serde_json::json!({"createdAt": -1, "_id": 1})))
                .unwrap()
                .as_deref(),
            Some("jsonb_extract(doc, '$.\"createdAt\"') DESC, _id, rowid")
        );
        assert_eq!(
            order_by(&spec, &Sort::default()).unwrap().as_deref(),
            Some("rowid")
        );
        assert_eq!(
            order_by(&spec, &sort(serde_json::json!({"tags": 1}))).unwrap(),
            None
        );
    }

    #[test]
    fn fts_queries() {
        assert_eq!(fts_query("red shoes"), r#"("red" OR "shoes")"#);
        assert_eq!(
            fts_query(r#""red shoes" -blue"#),
            r#"("red shoes") NOT "blue""#
        );
        assert_eq!(fts_query("-blue"), r#""""#);
        assert_eq!(fts_query(r#"a"b"#), r#"("a""b")"#);
        assert_eq!(fts_query("red\0"), r#"("red")"#);
        assert_eq!(
            fts_query("-\0blue red\u{1}hat"),
            r#"("red hat") NOT "blue""#
        );
        assert_eq!(fts_query("\0"), r#""""#);
    }
}
