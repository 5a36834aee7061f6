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
