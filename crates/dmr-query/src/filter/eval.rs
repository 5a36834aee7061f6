//! Evaluating a [`Filter`] against a document.

use std::cmp::Ordering;

use serde_json::Value;

use super::{Cond, ElemMatch, Filter, text};
use crate::compare::{class, compare_values, values_equal};
use crate::path;

pub(super) fn matches(f: &Filter, doc: &Value) -> bool {
    match f {
        Filter::All => true,
        Filter::And(parts) => parts.iter().all(|p| matches(p, doc)),
        Filter::Or(parts) => parts.iter().any(|p| matches(p, doc)),
        Filter::Nor(parts) => !parts.iter().any(|p| matches(p, doc)),
        Filter::Path { path, conds } => {
            let vals = path::values(doc, path);
            conds.iter().all(|c| cond(&vals, c, true))
        }
        Filter::Text { search } => text::matches(search, doc),
    }
}

/// Whether `c` holds for the values a path named (`None`: missing). With
/// `expand`, an array value also stands for each of its elements (a field's
/// value); without, it is only itself (an element inside `$elemMatch`).
pub(crate) fn cond(vals: &[Option<&Value>], c: &Cond, expand: bool) -> bool {
    match c {
        Cond::Eq(v) => any_eq(vals, v, expand),
        Cond::Ne(v) => !any_eq(vals, v, expand),
        Cond::Gt(v) => any_cmp(vals, v, expand, Ordering::is_gt),
        Cond::Gte(v) => any_cmp(vals, v, expand, Ordering::is_ge),
        Cond::Lt(v) => any_cmp(vals, v, expand, Ordering::is_lt),
        Cond::Lte(v) => any_cmp(vals, v, expand, Ordering::is_le),
        Cond::In(vs) => vs.iter().any(|v| any_eq(vals, v, expand)),
        Cond::Nin(vs) => !vs.iter().any(|v| any_eq(vals, v, expand)),
        Cond::Exists(want) => vals.iter().any(Option::is_some) == *want,
        Cond::Regex(p) => vals.iter().any(|x| {
            any_of(
                *x,
                expand,
                |e| matches!(e, Some(Value::String(s)) if p.is_match(s)),
            )
        }),
        Cond::Size(n) => vals
            .iter()
            .any(|x| matches!(x, Some(Value::Array(items)) if items.len() == *n)),
        // MongoDB: `$all: []` matches nothing.
        Cond::All(vs) => !vs.is_empty() && vs.iter().all(|v| any_eq(vals, v, expand)),
        Cond::ElemMatch(em) => vals.iter().any(|x| match x {
            Some(Value::Array(items)) => items.iter().any(|e| elem_matches(em, e)),
            _ => false,
        }),
        Cond::Not(conds) => !conds.iter().all(|c| cond(vals, c, expand)),
    }
}

/// Whether one array element satisfies an `$elemMatch` (also used by `$pull`).
pub(crate) fn elem_matches(em: &ElemMatch, e: &Value) -> bool {
    match em {
        ElemMatch::Filter(f) => e.is_object() && matches(f, e),
        ElemMatch::Conds(conds) => conds.iter().all(|c| cond(&[Some(e)], c, false)),
    }
}

/// `pred` on the value, or (expanding) on any of its elements.
fn any_of(x: Option<&Value>, expand: bool, pred: impl Fn(Option<&Value>) -> bool) -> bool {
    pred(x)
        || (expand && matches!(x, Some(Value::Array(items)) if items.iter().any(|e| pred(Some(e)))))
}

fn any_eq(vals: &[Option<&Value>], v: &Value, expand: bool) -> bool {
    vals.iter().any(|x| {
        any_of(*x, expand, |e| match e {
            // Missing equals null, as in MongoDB.
            None => v.is_null(),
            Some(e) => values_equal(e, v),
        })
    })
}

/// Range operators compare only within one type class (MongoDB's type
/// bracketing): `{$gt: 5}` never matches a string. Missing counts as null.
fn any_cmp(vals: &[Option<&Value>], v: &Value, expand: bool, pred: fn(Ordering) -> bool) -> bool {
    vals.iter().any(|x| {
        any_of(*x, expand, |e| {
            let e = e.unwrap_or(&Value::Null);
            class(e) == class(v) && pred(compare_values(e, v))
        })
    })
}
