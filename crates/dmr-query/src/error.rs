//! The one error type of this crate.

use dmr_error_code::{CodedError, ErrorCode};

/// Why a filter, update, sort or projection was refused, or an update could
/// not be applied. Every variant but [`QueryError::Apply`] is the client's
/// mistake in the request (an HTTP 400); `Apply` is a conflict between a
/// valid update and the stored document.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// A `$`-name this crate does not implement (yet): `$mod`, `$rename`...
    #[error("unknown operator {operator}")]
    UnknownOperator { operator: String },
    /// An operator that runs code or reaches other collections: never allowed.
    #[error("operator {operator} is not allowed")]
    ForbiddenOperator { operator: String },
    /// A malformed operand or structure; `at` is the dotted path or operator
    /// where it was found (empty for the whole body).
    #[error("{}", located(at, reason))]
    Invalid { at: String, reason: String },
    #[error("query is nested too deeply (at most {max} levels)")]
    TooDeep { max: usize },
    #[error("query is too large (at most {max} conditions and values)")]
    TooLarge { max: usize },
    /// Two update operators touch one path, or a path and its parent; `path`
    /// is the shorter of the two (where MongoDB says the conflict is).
    #[error("Updating would create a conflict at '{path}'")]
    Conflict { path: String },
    /// A valid update that cannot apply to this document.
    #[error("cannot update '{path}': {reason}")]
    Apply { path: String, reason: String },
}

fn located(at: &str, reason: &str) -> String {
    if at.is_empty() {
        reason.to_owned()
    } else {
        format!("{at}: {reason}")
    }
}

impl QueryError {
    /// The operator named by an unknown/forbidden-operator error, for logs and
    /// error bodies.
    pub fn operator(&self) -> Option<&str> {
        match self {
            QueryError::UnknownOperator { operator }
            | QueryError::ForbiddenOperator { operator } => Some(operator),
            _ => None,
        }
    }

    pub(crate) fn invalid(at: impl Into<String>, reason: impl Into<String>) -> QueryError {
        QueryError::Invalid {
            at: at.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn apply(path: impl Into<String>, reason: impl Into<String>) -> QueryError {
        QueryError::Apply {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// `Apply` included: a valid update the stored document refuses is answered as the
/// update's fault.
impl CodedError for QueryError {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::InvalidQuery
    }
}
