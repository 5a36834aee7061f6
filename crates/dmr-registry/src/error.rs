use dmr_store::{StoreError, TenantIdError};

/// What the registry reports to its callers; the HTTP layer maps each variant to a status
/// and a stable error code. Cloneable because one failed compile is handed to every
/// request that was waiting on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
}
