//! Update documents: `$set`, `$unset`, `$inc`, `$push`, `$pull`, `$addToSet`.

mod apply;
mod doc_mut;
mod parse;

#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::error::QueryError;
use crate::filter::{Cond, Filter, map};
use crate::limits::Limits;

/// A parsed update: its operations in body order, on pairwise
/// non-conflicting paths.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub ops: Vec<UpdateOp>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOp {
    Set {
        path: String,
        value: Value,
    },
    Unset {
        path: String,
    },
    Inc {
        path: String,
        by: serde_json::Number,
    },
    /// `values` has one element, or several from `{$each: [...]}`.
    Push {
        path: String,
        values: Vec<Value>,
    },
    Pull {
        path: String,
        cond: PullCond,
    },
    AddToSet {
        path: String,
        values: Vec<Value>,
    },
}

/// What `$pull` removes from an array.
#[derive(Debug, Clone, PartialEq)]
pub enum PullCond {
    /// Elements equal to the value (`{"$pull": {"tags": "old"}}`).
    Equals(Value),
    /// Elements satisfying operator conditions (`{"$pull": {"tags": {"$in": [...]}}}`).
    Matches(Vec<Cond>),
    /// Object elements matching a filter (`{"$pull": {"items": {"sku": "A"}}}`).
    Filter(Box<Filter>),
}

impl UpdateOp {
    /// The dotted path the operation writes.
    pub fn path(&self) -> &str {
        match self {
            UpdateOp::Set { path, .. }
            | UpdateOp::Unset { path }
            | UpdateOp::Inc { path, .. }
            | UpdateOp::Push { path, .. }
            | UpdateOp::Pull { path, .. }
            | UpdateOp::AddToSet { path, .. } => path,
        }
    }
}

impl Update {
    /// Parses `{"$set": {...}, "$inc": {...}, ...}`. Keys without `$` are
    /// moved into `$set` (Mongoose's `updateOne`), so a plain body is a `$set`.
    pub fn parse(v: &Value, limits: &Limits) -> Result<Update, QueryError> {
        parse::parse(v, limits)
    }

    /// Applies the update to `doc` with MongoDB's semantics (see
    /// `docs/query-language.md`). All or nothing: on error `doc` is unchanged.
    pub fn apply(&self, doc: &mut Value) -> Result<(), QueryError> {
        apply::apply(self, doc)
    }

    /// Rewrites every value with `cast(path, value)`: `$set` values with their
    /// path; `$push`/`$addToSet` elements one by one with `path.$` (an array
    /// element); `$pull` values and conditions with `path.$`, and a `$pull`
    /// filter's inner paths prefixed (`items.sku`). `$inc` amounts and
    /// `$unset` are untouched.
    pub fn map_values<E>(
        self,
        cast: &mut dyn FnMut(&str, Value) -> Result<Value, E>,
    ) -> Result<Update, E> {
        let ops = self
            .ops
            .into_iter()
            .map(|op| map_op(op, cast))
            .collect::<Result<_, _>>()?;
        Ok(Update { ops })
    }

    /// The paths written, in order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.ops.iter().map(UpdateOp::path)
    }
}

fn map_op<E>(
    op: UpdateOp,
    cast: &mut dyn FnMut(&str, Value) -> Result<Value, E>,
) -> Result<UpdateOp, E> {
    let elements =
        |path: &str, values: Vec<Value>, cast: &mut dyn FnMut(&str, Value) -> Result<Value, E>| {
            let element = format!("{path}.$");
            values
                .into_iter()
                .map(|v| cast(&element, v))
                .collect::<Result<Vec<_>, E>>()
        };
    Ok(match op {
        UpdateOp::Set { path, value } => {
            let value = cast(&path, value)?;
            UpdateOp::Set { path, value }
        }
        UpdateOp::Unset { .. } | UpdateOp::Inc { .. } => op,
        UpdateOp::Push { path, values } => {
            let values = elements(&path, values, cast)?;
            UpdateOp::Push { path, values }
        }
        UpdateOp::AddToSet { path, values } => {
            let values = elements(&path, values, cast)?;
            UpdateOp::AddToSet { path, values }
        }
        UpdateOp::Pull { path, cond } => {
            let element = format!("{path}.$");
            let cond = match cond {
                PullCond::Equals(v) => PullCond::Equals(cast(&element, v)?),
                PullCond::Matches(conds) => PullCond::Matches(
                    conds
                        .into_iter()
                        .map(|c| map::cond(c, &element, cast))
                        .collect::<Result<_, _>>()?,
                ),
                PullCond::Filter(f) => {
                    PullCond::Filter(Box::new(map::filter(*f, &format!("{path}."), cast)?))
                }
            };
            UpdateOp::Pull { path, cond }
        }
    })
}
