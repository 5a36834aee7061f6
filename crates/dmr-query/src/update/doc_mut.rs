//! Reaching into a document to write one dotted path.

use serde_json::{Map, Value};

use crate::error::QueryError;
use crate::path::array_index;

/// How far past an array's end `$set` may write (MongoDB pads with nulls);
/// bounds the memory one request can make a document take.
const MAX_PAD: usize = 10_000;

pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The container holding the last segment of `segs`, creating missing
/// objects on the way (`$set`, `$inc`, `$push`, `$addToSet`).
pub(super) fn parent_or_create<'a>(
    doc: &'a mut Value,
    segs: &[&str],
    path: &str,
) -> Result<&'a mut Value, QueryError> {
    let mut cur = doc;
    for seg in &segs[..segs.len() - 1] {
        cur = match cur {
            Value::Object(map) => map.entry(*seg).or_insert_with(|| Value::Object(Map::new())),
            Value::Array(items) => {
                let i = index(seg, path)?;
                pad(items, i, path)?;
                if i == items.len() {
                    items.push(Value::Object(Map::new()));
                }
                &mut items[i]
            }
            other => return Err(cannot_create(seg, other, path)),
        };
    }
    Ok(cur)
}

/// The container holding the last segment, if the path exists that far
/// (`$unset`, `$pull`: nothing to do otherwise).
pub(super) fn parent_existing<'a>(doc: &'a mut Value, segs: &[&str]) -> Option<&'a mut Value> {
    let mut cur = doc;
    for seg in &segs[..segs.len() - 1] {
        cur = match cur {
            Value::Object(map) => map.get_mut(*seg)?,
            Value::Array(items) => items.get_mut(array_index(seg)?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The value under `seg` in `parent`, if there is one.
pub(super) fn child<'a>(parent: &'a mut Value, seg: &str) -> Option<&'a mut Value> {
    match parent {
        Value::Object(map) => map.get_mut(seg),
        Value::Array(items) => items.get_mut(array_index(seg)?),
        _ => None,
    }
}

/// Writes `value` under `seg` (an existing key keeps its position).
pub(super) fn put(
    parent: &mut Value,
    seg: &str,
    value: Value,
    path: &str,
) -> Result<(), QueryError> {
    match parent {
        Value::Object(map) => {
            map.insert(seg.to_owned(), value);
        }
        Value::Array(items) => {
            let i = index(seg, path)?;
            pad(items, i, path)?;
            if i == items.len() {
                items.push(value);
            } else {
                items[i] = value;
            }
        }
        other => return Err(cannot_create(seg, other, path)),
    }
    Ok(())
}

/// Removes `seg`; in an array the element becomes null (MongoDB keeps
/// positions stable).
pub(super) fn remove(parent: &mut Value, seg: &str) {
    match parent {
        Value::Object(map) => {
            map.shift_remove(seg);
        }
        Value::Array(items) => {
            if let Some(item) = array_index(seg).and_then(|i| items.get_mut(i)) {
                *item = Value::Null;
            }
        }
        _ => {}
    }
}

fn index(seg: &str, path: &str) -> Result<usize, QueryError> {
    array_index(seg).ok_or_else(|| {
        QueryError::apply(
            path,
            format!("cannot create field '{seg}' in an array (use a numeric index)"),
        )
    })
}

/// Pads `items` with nulls up to (not including) index `i`.
fn pad(items: &mut Vec<Value>, i: usize, path: &str) -> Result<(), QueryError> {
    if i > items.len() + MAX_PAD {
        return Err(QueryError::apply(
            path,
            format!("array index {i} is too far past the end (at most {MAX_PAD})"),
        ));
    }
    if i > items.len() {
        items.resize(i, Value::Null);
    }
    Ok(())
}

fn cannot_create(seg: &str, parent: &Value, path: &str) -> QueryError {
    QueryError::apply(
        path,
        format!(
            "cannot create field '{seg}' in a {} value",
            type_name(parent)
        ),
    )
}
