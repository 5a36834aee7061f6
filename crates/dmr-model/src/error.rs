//! The one error type of this crate.

/// A problem in a model file, located like a compiler diagnostic.
///
/// `line` and `column` are 1-based; columns count characters, not bytes, so
/// they match what an editor shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{origin}:{line}:{column}: {reason}")]
pub struct ModelError {
    /// Where the text came from, e.g. `models/User.json`.
    pub origin: String,
    pub line: usize,
    pub column: usize,
    /// Plain English, starting with the JSON path of the problem when there is one.
    pub reason: String,
}
