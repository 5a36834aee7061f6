use std::str::FromStr;

use dmr_error_code::{CodedError, ErrorCode};

/// The operations of the seed's `POST /api/models/:tenantId/test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestOperation {
    Count,
    FindOne,
    /// The first ten documents, as the seed returns.
    Find,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid operation: {0:?}; expected one of count, findOne, find")]
pub struct UnknownOperation(pub String);

impl CodedError for UnknownOperation {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::InvalidOperation
    }
}

impl FromStr for TestOperation {
    type Err = UnknownOperation;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "count" => Ok(Self::Count),
            "findOne" => Ok(Self::FindOne),
            "find" => Ok(Self::Find),
            other => Err(UnknownOperation(other.to_owned())),
        }
    }
}

impl TestOperation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Count => "count",
            Self::FindOne => "findOne",
            Self::Find => "find",
        }
    }
}
