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
}
