//! Bounds on the size and nesting of parsed queries.

use crate::error::QueryError;

/// How big a filter or update may be. Parsing enforces both, so evaluation
/// (which recurses along the query) stays shallow and cheap however hostile
/// the request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Nesting of `$and`/`$or`/`$nor`/`$not`/`$elemMatch`, operator objects
    /// and objects/arrays inside operand values. The top-level body is 1.
    pub max_depth: usize,
    /// Total filters, conditions and JSON values (every element of an `$in`
    /// array counts).
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 10,
            max_nodes: 1000,
        }
    }
}

/// The running count of one parse.
pub(crate) struct Budget {
    limits: Limits,
    nodes: usize,
}

impl Budget {
    pub(crate) fn new(limits: &Limits) -> Budget {
        Budget {
            limits: *limits,
            nodes: 0,
        }
    }

    /// Counts one node.
    pub(crate) fn node(&mut self) -> Result<(), QueryError> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(QueryError::TooLarge {
                max: self.limits.max_nodes,
            });
        }
        Ok(())
    }

    /// Checks a nesting level before descending into it.
    pub(crate) fn depth(&self, depth: usize) -> Result<(), QueryError> {
        if depth > self.limits.max_depth {
            return Err(QueryError::TooDeep {
                max: self.limits.max_depth,
            });
        }
        Ok(())
    }
}
