use dmr_error_code::{CodedError, ErrorCode};

/// Failures a store reports. Cloneable (strings only) because one compile's error is handed
/// to every request that waited on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The engine cannot be reached or did not answer in time; the request may be retried.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The tenant store was closed (idle sweep, LRU bound or on demand) while in use.
    #[error("tenant store is closed")]
    Closed,
    /// A model definition the engine cannot express (for example a path it cannot index).
    #[error("collection {collection}: {reason}")]
    Definition { collection: String, reason: String },
    /// A unique index (or `_id`) already holds the value. `index` is the model's index
    /// name (`email_1`), or `_id_`.
    #[error("duplicate key in {collection} (index {index})")]
    Duplicate { collection: String, index: String },
    /// Anything else the engine reported.
    #[error("store error: {0}")]
    Internal(String),
}

impl CodedError for StoreError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Unavailable(_) | Self::Closed => ErrorCode::StoreUnavailable,
            Self::Definition { .. } => ErrorCode::ModelInvalid,
            Self::Duplicate { .. } => ErrorCode::DuplicateKey,
            Self::Internal(_) => ErrorCode::StoreError,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_code() {
        let text = || "x".to_owned();
        for (error, code) in [
            (StoreError::Unavailable(text()), "store_unavailable"),
            (StoreError::Closed, "store_unavailable"),
            (
                StoreError::Definition {
                    collection: text(),
                    reason: text(),
                },
                "model_invalid",
            ),
            (
                StoreError::Duplicate {
                    collection: text(),
                    index: text(),
                },
                "duplicate_key",
            ),
            (StoreError::Internal(text()), "store_error"),
        ] {
            assert_eq!(error.error_code().as_str(), code, "{error:?}");
        }
    }
}
