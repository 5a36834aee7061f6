//! Applying an [`Update`] to a document.

use serde_json::{Number, Value};

use super::doc_mut::{child, parent_existing, parent_or_create, put, remove, type_name};
use super::{PullCond, Update, UpdateOp};
use crate::compare::{Num, num, values_equal};
use crate::error::QueryError;
use crate::filter::eval;

pub(super) fn apply(update: &Update, doc: &mut Value) -> Result<(), QueryError> {
    if !doc.is_object() {
        return Err(QueryError::apply("", "the document is not an object"));
    }
    // On a copy, so a failing operation leaves the document untouched.
    let mut work = doc.clone();
    for op in &update.ops {
        apply_op(op, &mut work)?;
    }
    *doc = work;
    Ok(())
}

fn apply_op(op: &UpdateOp, doc: &mut Value) -> Result<(), QueryError> {
    let path = op.path();
    let segs: Vec<&str> = path.split('.').collect();
    let last = segs[segs.len() - 1];
    match op {
        UpdateOp::Set { value, .. } => put(
            parent_or_create(doc, &segs, path)?,
            last,
            value.clone(),
            path,
        ),
        UpdateOp::Unset { .. } => {
            if let Some(parent) = parent_existing(doc, &segs) {
                remove(parent, last);
            }
            Ok(())
        }
        UpdateOp::Inc { by, .. } => {
            let parent = parent_or_create(doc, &segs, path)?;
            match child(parent, last) {
                Some(Value::Number(n)) => {
                    *n = add(n, by, path)?;
                    Ok(())
                }
                Some(other) => Err(QueryError::apply(
                    path,
                    format!(
                        "cannot apply $inc to a value of non-numeric type {}",
                        type_name(other)
                    ),
                )),
                None => put(parent, last, Value::Number(by.clone()), path),
            }
        }
        UpdateOp::Push { values, .. } => append(doc, &segs, path, values, false),
        UpdateOp::AddToSet { values, .. } => append(doc, &segs, path, values, true),
        UpdateOp::Pull { cond, .. } => {
            let Some(target) = parent_existing(doc, &segs).and_then(|p| child(p, last)) else {
                return Ok(());
            };
            match target {
                Value::Array(items) => {
                    items.retain(|e| !pulls(cond, e));
                    Ok(())
                }
                other => Err(QueryError::apply(
                    path,
                    format!(
                        "cannot apply $pull to a non-array value ({})",
                        type_name(other)
                    ),
                )),
            }
        }
    }
}

fn append(
    doc: &mut Value,
    segs: &[&str],
    path: &str,
    values: &[Value],
    unique: bool,
) -> Result<(), QueryError> {
    let last = segs[segs.len() - 1];
    let parent = parent_or_create(doc, segs, path)?;
    match child(parent, last) {
        Some(Value::Array(items)) => {
            extend(items, values, unique);
            Ok(())
        }
        Some(other) => Err(QueryError::apply(
            path,
            format!(
                "the field must be an array but is of type {}",
                type_name(other)
            ),
        )),
        None => {
            let mut items = Vec::with_capacity(values.len());
            extend(&mut items, values, unique);
            put(parent, last, Value::Array(items), path)
        }
    }
}

fn extend(items: &mut Vec<Value>, values: &[Value], unique: bool) {
    for v in values {
        // $addToSet also skips duplicates within its own $each.
        if !unique || !items.iter().any(|e| values_equal(e, v)) {
            items.push(v.clone());
        }
    }
}

fn pulls(cond: &PullCond, e: &Value) -> bool {
    match cond {
        PullCond::Equals(v) => values_equal(e, v),
        // As MongoDB does, an element is matched as if it were a field's value.
        PullCond::Matches(conds) => conds.iter().all(|c| eval::cond(&[Some(e)], c, true)),
        PullCond::Filter(f) => e.is_object() && f.matches(e),
    }
}

/// Integer + integer stays an integer (overflow is an error, as MongoDB's
/// int64); anything with a float is a float.
fn add(a: &Number, b: &Number, path: &str) -> Result<Number, QueryError> {
    match (num(a), num(b)) {
        (Num::Int(x), Num::Int(y)) => i64::try_from(x + y)
            .map(Number::from)
            .map_err(|_| QueryError::apply(path, "integer overflow in $inc")),
        _ => {
            let sum = a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0);
            Number::from_f64(sum)
                .ok_or_else(|| QueryError::apply(path, "$inc result is not a finite number"))
        }
    }
}
