//! Dotted paths: validation, and reading the values a path names in a
//! document with MongoDB's implicit array traversal.

use serde_json::Value;

use crate::error::QueryError;

/// More segments than any real document nests (BSON documents stop at 100
/// levels); also bounds recursion in projection and update.
pub(crate) const MAX_SEGMENTS: usize = 100;

/// Checks a dotted path: non-empty segments, no `$` segments (positional
/// operators are not supported), at most [`MAX_SEGMENTS`].
pub(crate) fn check(path: &str) -> Result<(), QueryError> {
    if path.is_empty() {
        return Err(QueryError::invalid(path, "empty field path"));
    }
    let mut count = 0;
    for seg in path.split('.') {
        count += 1;
        if seg.is_empty() {
            return Err(QueryError::invalid(path, "empty segment in field path"));
        }
        if seg.starts_with('$') {
            return Err(QueryError::invalid(
                path,
                format!(
                    "field path segment '{seg}' cannot start with '$' (positional operators are not supported)"
                ),
            ));
        }
    }
    if count > MAX_SEGMENTS {
        return Err(QueryError::invalid(
            path,
            format!("field path has more than {MAX_SEGMENTS} segments"),
        ));
    }
    Ok(())
}

/// A segment as an array index: canonical decimal (`0`, `12`, not `012`).
pub(crate) fn array_index(seg: &str) -> Option<usize> {
    let canonical = !seg.is_empty()
        && seg.len() <= 9
        && seg.bytes().all(|b| b.is_ascii_digit())
        && (seg == "0" || !seg.starts_with('0'));
    if canonical { seg.parse().ok() } else { None }
}

/// The values `path` names in `doc`, before the leaf's own array is expanded
/// (conditions do that). `None` is a missing value. Never empty: a path that
/// reaches nothing yields one `None`, so `{a: null}` and `$exists: false`
/// treat it as missing.
///
/// Traversal follows MongoDB: an array met before the last segment is
/// crossed, each object element contributing its own value (or `None` when it
/// lacks the field); nested arrays are not crossed; a numeric segment both
/// indexes the array and looks up a field of that name in object elements.
pub(crate) fn values<'a>(doc: &'a Value, path: &str) -> Vec<Option<&'a Value>> {
    let segs: Vec<&str> = path.split('.').collect();
    let mut out = Vec::new();
    collect(doc, &segs, &mut out);
    if out.is_empty() {
        out.push(None);
    }
    out
}

fn collect<'a>(v: &'a Value, segs: &[&str], out: &mut Vec<Option<&'a Value>>) {
    let Some((seg, rest)) = segs.split_first() else {
        out.push(Some(v));
        return;
    };
    match v {
        Value::Object(map) => match map.get(*seg) {
            Some(child) => collect(child, rest, out),
            None => out.push(None),
        },
        Value::Array(items) => match array_index(seg) {
            Some(i) => {
                if let Some(child) = items.get(i) {
                    collect(child, rest, out);
                }
                // Only found fields here: a missing "0" in every element must
                // not make `items.0` look missing when `items[0]` exists.
                for item in items {
                    if let Some(child) = item.as_object().and_then(|m| m.get(*seg)) {
                        collect(child, rest, out);
                    }
                }
            }
            None => {
                for item in items {
                    if item.is_object() {
                        collect(item, segs, out);
                    }
                }
            }
        },
        _ => out.push(None),
    }
}
