//! [`Filter::map_values`]: handing every operand to the caller's cast.

use serde_json::Value;

use super::{Cond, ElemMatch, Filter};

type Cast<'c, E> = dyn FnMut(&str, Value) -> Result<Value, E> + 'c;

/// Maps a filter whose paths are relative to `prefix` (`""` at the top,
/// `items.` inside `items: {$elemMatch: {...}}`).
pub(crate) fn filter<E>(f: Filter, prefix: &str, cast: &mut Cast<'_, E>) -> Result<Filter, E> {
    let all = |parts: Vec<Filter>, cast: &mut Cast<'_, E>| -> Result<Vec<Filter>, E> {
        parts.into_iter().map(|p| filter(p, prefix, cast)).collect()
    };
    Ok(match f {
        Filter::All | Filter::Text { .. } => f,
        Filter::And(parts) => Filter::And(all(parts, cast)?),
        Filter::Or(parts) => Filter::Or(all(parts, cast)?),
        Filter::Nor(parts) => Filter::Nor(all(parts, cast)?),
        Filter::Path { path, conds } => {
            let full = format!("{prefix}{path}");
            let conds = conds
                .into_iter()
                .map(|c| cond(c, &full, cast))
                .collect::<Result<_, _>>()?;
            Filter::Path { path, conds }
        }
    })
}

/// Maps one condition on the value(s) at `path` (a full path).
pub(crate) fn cond<E>(c: Cond, path: &str, cast: &mut Cast<'_, E>) -> Result<Cond, E> {
    let list = |vs: Vec<Value>, cast: &mut Cast<'_, E>| -> Result<Vec<Value>, E> {
        vs.into_iter().map(|v| cast(path, v)).collect()
    };
    Ok(match c {
        Cond::Eq(v) => Cond::Eq(cast(path, v)?),
        Cond::Ne(v) => Cond::Ne(cast(path, v)?),
        Cond::Gt(v) => Cond::Gt(cast(path, v)?),
        Cond::Gte(v) => Cond::Gte(cast(path, v)?),
        Cond::Lt(v) => Cond::Lt(cast(path, v)?),
        Cond::Lte(v) => Cond::Lte(cast(path, v)?),
        Cond::In(vs) => Cond::In(list(vs, cast)?),
        Cond::Nin(vs) => Cond::Nin(list(vs, cast)?),
        Cond::All(vs) => Cond::All(list(vs, cast)?),
        Cond::Exists(_) | Cond::Regex(_) | Cond::Size(_) => c,
        Cond::Not(conds) => Cond::Not(
            conds
                .into_iter()
                .map(|c| cond(c, path, cast))
                .collect::<Result<_, _>>()?,
        ),
        Cond::ElemMatch(ElemMatch::Filter(f)) => Cond::ElemMatch(ElemMatch::Filter(Box::new(
            filter(*f, &format!("{path}."), cast)?,
        ))),
        Cond::ElemMatch(ElemMatch::Conds(conds)) => {
            let element = format!("{path}.$");
            Cond::ElemMatch(ElemMatch::Conds(
                conds
                    .into_iter()
                    .map(|c| cond(c, &element, cast))
                    .collect::<Result<_, _>>()?,
            ))
        }
    })
}
