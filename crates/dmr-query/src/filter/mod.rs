//! Filters: the parsed form of a MongoDB query document.

pub(crate) mod eval;
pub(crate) mod map;
pub(crate) mod parse;
mod text;

#[cfg(test)]
mod tests;

use dmr_model::Pattern;
use serde_json::Value;

use crate::error::QueryError;
use crate::limits::Limits;

/// A parsed filter. A top-level object with several keys is an `And` of one
/// node per key; `{}` is `All`.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    All,
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Nor(Vec<Filter>),
    /// Every condition holds for the value(s) at `path` (each on its own:
    /// `{a: {$gt: 1, $lt: 5}}` matches `[0, 9]`, as in MongoDB).
    Path {
        path: String,
        conds: Vec<Cond>,
    },
    /// `$text`: only at the top level or in a top-level `$and`.
    Text {
        search: String,
    },
}

/// One operator condition on the value(s) at a path.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Eq(Value),
    Ne(Value),
    Gt(Value),
    Gte(Value),
    Lt(Value),
    Lte(Value),
    In(Vec<Value>),
    Nin(Vec<Value>),
    Exists(bool),
    Regex(Pattern),
    Size(usize),
    All(Vec<Value>),
    ElemMatch(ElemMatch),
    /// True when the wrapped conditions (together) do not hold.
    Not(Vec<Cond>),
}

/// `$elemMatch`'s two forms.
#[derive(Debug, Clone, PartialEq)]
pub enum ElemMatch {
    /// `{$elemMatch: {sku: "A", qty: {$gt: 1}}}`: a filter on object elements.
    Filter(Box<Filter>),
    /// `{$elemMatch: {$gte: 80, $lt: 85}}`: conditions on each element itself.
    Conds(Vec<Cond>),
}

impl Filter {
    /// Parses a MongoDB query document. The top level must be an object; `{}`
    /// is [`Filter::All`].
    pub fn parse(v: &Value, limits: &Limits) -> Result<Filter, QueryError> {
        parse::parse(v, limits)
    }

    /// Whether `doc` matches. `$text` is evaluated by a simple fallback (see
    /// `docs/query-language.md`); a store with a full-text index should use
    /// its index for [`Filter::text_search`] instead.
    pub fn matches(&self, doc: &Value) -> bool {
        eval::matches(self, doc)
    }

    /// Rewrites every operand value with `cast(path, value)`, so the caller
    /// can cast with the model (`"42"` -> `42` for Number paths).
    ///
    /// `$in`/`$nin`/`$all` elements are cast one by one with the path. An
    /// `$elemMatch` filter's inner paths are prefixed (`items.sku`);
    /// `$elemMatch` conditions on the elements themselves get `path.$` (one
    /// element, as in update casting). `$regex`, `$exists`, `$size` and
    /// `$text` are untouched.
    pub fn map_values<E>(
        self,
        cast: &mut dyn FnMut(&str, Value) -> Result<Value, E>,
    ) -> Result<Filter, E> {
        map::filter(self, "", cast)
    }

    /// The `$text` search string, if the filter has one (at the top level or
    /// in a top-level `$and`: the only places parsing accepts it).
    pub fn text_search(&self) -> Option<&str> {
        match self {
            Filter::Text { search } => Some(search),
            Filter::And(parts) => parts.iter().find_map(Filter::text_search),
            _ => None,
        }
    }

    /// The top-level conjunction as `(path, cond)` pairs a store may push
    /// down to an index: `Eq`/`Gt`/`Gte`/`Lt`/`Lte` with a number, string or
    /// boolean operand and `In` whose elements all are, on paths without
    /// numeric segments, from `Path` nodes at the top or inside top-level
    /// `And`s. A prefilter hint only: the rows it selects must still be
    /// checked with [`Filter::matches`]. An array field still matches by
    /// element (`{tags: "a"}` matches `["a", "b"]`), which the store has to
    /// account for.
    pub fn conjuncts(&self) -> Vec<(&str, &Cond)> {
        let mut out = Vec::new();
        collect_conjuncts(self, &mut out);
        out
    }
}

fn collect_conjuncts<'a>(f: &'a Filter, out: &mut Vec<(&'a str, &'a Cond)>) {
    match f {
        Filter::And(parts) => parts.iter().for_each(|p| collect_conjuncts(p, out)),
        Filter::Path { path, conds }
            if path
                .split('.')
                .all(|s| crate::path::array_index(s).is_none()) =>
        {
            for cond in conds {
                if indexable(cond) {
                    out.push((path, cond));
                }
            }
        }
        _ => {}
    }
}

fn indexable(cond: &Cond) -> bool {
    fn scalar(v: &Value) -> bool {
        matches!(v, Value::Number(_) | Value::String(_) | Value::Bool(_))
    }
    match cond {
        Cond::Eq(v) | Cond::Gt(v) | Cond::Gte(v) | Cond::Lt(v) | Cond::Lte(v) => scalar(v),
        Cond::In(vs) => vs.iter().all(scalar),
        _ => false,
    }
}
