use dmr_error_code::{CodedError, ErrorCode};
use dmr_model::ValidationError;
use dmr_query::QueryError;
use dmr_store::{StoreError, TenantIdError};
use serde_json::Value;

/// What the registry reports to its callers; each variant names its stable error code
/// (`CodedError`), which the HTTP layer answers with. Cloneable because one failed compile is handed to every
/// request that was waiting on it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegistryError {
    #[error("{0}")]
    InvalidTenantId(#[from] TenantIdError),
    #[error("Schema not found for model: {0}")]
    ModelNotFound(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A reload found invalid model files (each entry `file:line:column: reason`); the
    /// previous models stay in service.
    #[error("model files are invalid ({} error(s)); the previous models stay in service", .0.len())]
    ModelFiles(Vec<String>),
    /// A write the model rejects: every failing path, in Mongoose's shape.
    #[error("{0}")]
    Validation(ValidationError),
    /// A filter, update, sort or projection that is not valid (names the operator).
    #[error("{0}")]
    Query(QueryError),
    #[error("Document not found: {0}")]
    DocumentNotFound(String),
    #[error("Invalid document id {0:?}: expected 24 hexadecimal characters")]
    InvalidDocumentId(String),
    /// A unique index already holds the value.
    #[error("Duplicate value for {}: {value}", .paths.join(", "))]
    Duplicate {
        index: String,
        paths: Vec<String>,
        value: Value,
    },
    #[error("{0}")]
    LimitExceeded(String),
    #[error("$text needs a text index, and model {0} has none the store could build")]
    TextIndexRequired(String),
    /// An API key label outside the rule (`access::MAX_LABEL_CHARS`, printable).
    #[error("Invalid key label: {0}")]
    InvalidKeyLabel(String),
    /// A failure that is the service's, not the client's (no randomness from the OS).
    #[error("{0}")]
    Internal(String),
    /// The document kept changing under an update; the client may retry.
    #[error("the document was modified concurrently too many times; retry the request")]
    WriteConflict,
}

impl From<QueryError> for RegistryError {
    fn from(e: QueryError) -> Self {
        Self::Query(e)
    }
}

impl From<ValidationError> for RegistryError {
    fn from(e: ValidationError) -> Self {
        Self::Validation(e)
    }
}

impl CodedError for RegistryError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::InvalidTenantId(e) => e.error_code(),
            Self::ModelNotFound(_) => ErrorCode::ModelNotFound,
            Self::Store(e) => e.error_code(),
            Self::ModelFiles(_) => ErrorCode::ModelFilesInvalid,
            Self::Validation(e) => e.error_code(),
            Self::Query(e) => e.error_code(),
            Self::DocumentNotFound(_) => ErrorCode::DocumentNotFound,
            Self::InvalidDocumentId(_) => ErrorCode::InvalidDocumentId,
            // The same code as the store's own duplicate: a client sees one kind of error.
            Self::Duplicate { .. } => ErrorCode::DuplicateKey,
            Self::LimitExceeded(_) => ErrorCode::LimitExceeded,
            Self::TextIndexRequired(_) => ErrorCode::TextIndexRequired,
            // The label is a field of the request's body.
            Self::InvalidKeyLabel(_) => ErrorCode::InvalidBody,
            Self::Internal(_) => ErrorCode::Internal,
            Self::WriteConflict => ErrorCode::WriteConflict,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmr_store::TenantId;

    #[test]
    fn every_variant_has_its_code() {
        let text = || "x".to_owned();
        let bad_tenant = |raw: &str| RegistryError::from(TenantId::parse(raw).unwrap_err());
        let validation = ValidationError::unique("User", "email", Value::from("a@b.c"));
        let query = |e: QueryError| RegistryError::from(e);
        for (error, code) in [
            (bad_tenant(""), "invalid_tenant_id"),
            (bad_tenant(&"x".repeat(49)), "invalid_tenant_id"),
            (bad_tenant("a.b"), "invalid_tenant_id"),
            (RegistryError::ModelNotFound(text()), "model_not_found"),
            (StoreError::Unavailable(text()).into(), "store_unavailable"),
            (StoreError::Closed.into(), "store_unavailable"),
            (
                StoreError::Definition {
                    collection: text(),
                    reason: text(),
                }
                .into(),
                "model_invalid",
            ),
            (
                StoreError::Duplicate {
                    collection: text(),
                    index: text(),
                }
                .into(),
                "duplicate_key",
            ),
            (StoreError::Internal(text()).into(), "store_error"),
            (
                RegistryError::ModelFiles(vec![text()]),
                "model_files_invalid",
            ),
            (validation.into(), "validation_failed"),
            (
                query(QueryError::UnknownOperator { operator: text() }),
                "invalid_query",
            ),
            (
                query(QueryError::ForbiddenOperator { operator: text() }),
                "invalid_query",
            ),
            (
                query(QueryError::Invalid {
                    at: text(),
                    reason: text(),
                }),
                "invalid_query",
            ),
            (query(QueryError::TooDeep { max: 1 }), "invalid_query"),
            (query(QueryError::TooLarge { max: 1 }), "invalid_query"),
            (
                query(QueryError::Conflict { path: text() }),
                "invalid_query",
            ),
            (
                query(QueryError::Apply {
                    path: text(),
                    reason: text(),
                }),
                "invalid_query",
            ),
            (
                RegistryError::DocumentNotFound(text()),
                "document_not_found",
            ),
            (
                RegistryError::InvalidDocumentId(text()),
                "invalid_document_id",
            ),
            (
                RegistryError::Duplicate {
                    index: text(),
                    paths: vec![text()],
                    value: Value::Null,
                },
                "duplicate_key",
            ),
            (RegistryError::LimitExceeded(text()), "limit_exceeded"),
            (
                RegistryError::TextIndexRequired(text()),
                "text_index_required",
            ),
            (RegistryError::InvalidKeyLabel(text()), "invalid_body"),
            (RegistryError::Internal(text()), "internal_error"),
            (RegistryError::WriteConflict, "write_conflict"),
        ] {
            assert_eq!(error.error_code().as_str(), code, "{error:?}");
        }
    }
}
