use dmr_model::ValidationError;
use dmr_query::QueryError;
use dmr_store::{StoreError, TenantIdError};
use serde_json::Value;

/// What the registry reports to its callers; the HTTP layer maps each variant to a status
/// and a stable error code. Cloneable because one failed compile is handed to every
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
