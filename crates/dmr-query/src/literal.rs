//! Checking operand values (`$eq`, `$in`, `$set`...) before they are kept.

use serde_json::Value;

use crate::error::QueryError;
use crate::limits::Budget;
use crate::operators;

/// The `$`-names this crate understands somewhere; one of them inside a value
/// is a misplaced operator (e.g. `{a: {b: {$gt: 1}}}` meant `{"a.b": {$gt: 1}}`).
const KNOWN: &[&str] = &[
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
    "$set",
    "$unset",
    "$inc",
    "$push",
    "$pull",
    "$addToSet",
    "$each",
];

/// Counts `v` against the budget, bounds its nesting (a container at `depth`,
/// its children one deeper) and refuses `$`-keys: MongoDB cannot store them,
/// and here they are nearly always a misplaced operator.
pub(crate) fn check(
    v: &Value,
    at: &str,
    depth: usize,
    budget: &mut Budget,
) -> Result<(), QueryError> {
    budget.node()?;
    match v {
        Value::Object(map) => {
            budget.depth(depth)?;
            for (key, child) in map {
                if key.starts_with('$') {
                    return Err(misplaced(key, at));
                }
                check(child, at, depth + 1, budget)?;
            }
        }
        Value::Array(items) => {
            budget.depth(depth)?;
            for child in items {
                check(child, at, depth + 1, budget)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn misplaced(key: &str, at: &str) -> QueryError {
    if KNOWN.contains(&key) {
        QueryError::invalid(at, format!("operator {key} cannot appear inside a value"))
    } else {
        operators::unknown(key)
    }
}
