//! Operator names: which are forbidden outright, and the forbidden-name scan.

use serde_json::Value;

use crate::error::QueryError;

/// Operators that run server-side code or read other collections. They are
/// refused wherever they appear in a body, even as a key inside a value, so a
/// request trying them is always reported as such (and can be logged).
const FORBIDDEN: &[&str] = &[
    "$where",
    "$function",
    "$accumulator",
    "$expr",
    "$jsonSchema",
    "$lookup",
    "$graphLookup",
    "$unionWith",
    "$merge",
    "$out",
];

pub(crate) fn is_forbidden(name: &str) -> bool {
    FORBIDDEN.contains(&name)
}

/// Fails on the first forbidden operator used as a key (or as a segment of a
/// dotted key) anywhere in `v`. Iterative: `v` may be arbitrarily deep.
pub(crate) fn reject_forbidden(v: &Value) -> Result<(), QueryError> {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                for (key, child) in map {
                    if let Some(op) = key.split('.').find(|seg| is_forbidden(seg)) {
                        return Err(QueryError::ForbiddenOperator {
                            operator: op.to_owned(),
                        });
                    }
                    stack.push(child);
                }
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    Ok(())
}

/// The error for a `$`-name that is not valid where it was found.
pub(crate) fn unknown(name: &str) -> QueryError {
    if is_forbidden(name) {
        QueryError::ForbiddenOperator {
            operator: name.to_owned(),
        }
    } else {
        QueryError::UnknownOperator {
            operator: name.to_owned(),
        }
    }
}
