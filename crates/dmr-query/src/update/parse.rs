//! From an update document to an [`Update`].

use serde_json::Value;

use super::{PullCond, Update, UpdateOp};
use crate::error::QueryError;
use crate::filter::parse::Parser;
use crate::limits::Limits;
use crate::{operators, path};

/// Nesting of a value inside `{"$op": {"path": value}}`.
const VALUE_DEPTH: usize = 3;

pub(super) fn parse(v: &Value, limits: &Limits) -> Result<Update, QueryError> {
    operators::reject_forbidden(v)?;
    let Value::Object(body) = v else {
        return Err(QueryError::invalid("", "an update must be an object"));
    };
    let mut p = Parser::new(limits);
    let mut ops = Vec::new();
    for (key, operand) in body {
        if !key.starts_with('$') {
            // Mongoose's updateOne moves plain keys into $set.
            ops.push(set(&mut p, key, operand, VALUE_DEPTH - 1)?);
            continue;
        }
        if !is_operator(key) {
            return Err(operators::unknown(key));
        }
        let Value::Object(fields) = operand else {
            return Err(QueryError::invalid(
                key,
                format!("{key} needs an object of paths"),
            ));
        };
        for (path, value) in fields {
            p.budget.node()?;
            let op = match key.as_str() {
                "$set" => set(&mut p, path, value, VALUE_DEPTH)?,
                "$unset" => UpdateOp::Unset {
                    path: checked(path)?,
                },
                "$inc" => match value {
                    Value::Number(by) => UpdateOp::Inc {
                        path: checked(path)?,
                        by: by.clone(),
                    },
                    _ => return Err(QueryError::invalid(path, "$inc needs a number")),
                },
                "$push" => UpdateOp::Push {
                    path: checked(path)?,
                    values: each(&mut p, key, path, value)?,
                },
                "$addToSet" => UpdateOp::AddToSet {
                    path: checked(path)?,
                    values: each(&mut p, key, path, value)?,
                },
                "$pull" => UpdateOp::Pull {
                    path: checked(path)?,
                    cond: pull(&mut p, path, value)?,
                },
                other => return Err(operators::unknown(other)),
            };
            ops.push(op);
        }
    }
    if ops.is_empty() {
        return Err(QueryError::invalid("", "empty update"));
    }
    conflicts(&ops)?;
    Ok(Update { ops })
}

fn is_operator(key: &str) -> bool {
    matches!(
        key,
        "$set" | "$unset" | "$inc" | "$push" | "$addToSet" | "$pull"
    )
}

/// A written path: valid, and not `_id` (immutable, as in MongoDB).
fn checked(path: &str) -> Result<String, QueryError> {
    path::check(path)?;
    if path == "_id" || path.starts_with("_id.") {
        return Err(QueryError::invalid(path, "_id cannot be changed"));
    }
    Ok(path.to_owned())
}

fn set(p: &mut Parser, path: &str, value: &Value, depth: usize) -> Result<UpdateOp, QueryError> {
    let path = checked(path)?;
    let value = p.literal(value, &path, depth)?;
    Ok(UpdateOp::Set { path, value })
}

/// `$push`/`$addToSet` operand: one value, or `{$each: [...]}`.
fn each(p: &mut Parser, op: &str, path: &str, value: &Value) -> Result<Vec<Value>, QueryError> {
    let Some(map) = value.as_object().filter(|m| m.contains_key("$each")) else {
        return Ok(vec![p.literal(value, path, VALUE_DEPTH)?]);
    };
    if let Some(key) = map.keys().find(|k| *k != "$each") {
        return Err(match key.as_str() {
            // Modifiers of $push that are not supported yet.
            "$slice" | "$sort" | "$position" => QueryError::UnknownOperator {
                operator: key.clone(),
            },
            k if k.starts_with('$') => operators::unknown(k),
            _ => QueryError::invalid(path, format!("{op} with $each cannot have field '{key}'")),
        });
    }
    match &map["$each"] {
        Value::Array(items) => {
            p.literal(&map["$each"], path, VALUE_DEPTH + 1)?;
            Ok(items.clone())
        }
        _ => Err(QueryError::invalid(path, "$each needs an array")),
    }
}

fn pull(p: &mut Parser, path: &str, value: &Value) -> Result<PullCond, QueryError> {
    match value {
        Value::Object(map) if map.keys().any(|k| k.starts_with('$')) => {
            Ok(PullCond::Matches(p.conds(map, path, VALUE_DEPTH)?))
        }
        Value::Object(_) => Ok(PullCond::Filter(Box::new(p.nested_filter(
            value,
            path,
            VALUE_DEPTH,
        )?))),
        _ => Ok(PullCond::Equals(p.literal(value, path, VALUE_DEPTH)?)),
    }
}

/// MongoDB refuses two operations on one path, or on a path and its parent.
fn conflicts(ops: &[UpdateOp]) -> Result<(), QueryError> {
    for (i, a) in ops.iter().enumerate() {
        for b in &ops[..i] {
            if let Some(at) = conflict(a.path(), b.path()) {
                return Err(QueryError::Conflict {
                    path: at.to_owned(),
                });
            }
        }
    }
    Ok(())
}

/// The shorter path when one is the other or its ancestor.
fn conflict<'a>(a: &'a str, b: &'a str) -> Option<&'a str> {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let clash = long == short || (long.starts_with(short) && long.as_bytes()[short.len()] == b'.');
    clash.then_some(short)
}
