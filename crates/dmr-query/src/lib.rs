//! The registry's query language: a documented subset of MongoDB's query
//! language (filters, update operators, sort, projection) evaluated in Rust
//! over `serde_json::Value` documents in MongoDB's JSON shape (ObjectIds as
//! 24-hex strings, dates as normalised ISO-8601 strings).
//!
//! The reference, including every deliberate difference from MongoDB, is
//! `docs/query-language.md`.
//!
//! Pure code: no file, network or clock access. Parsing is bounded by
//! [`Limits`], so untrusted request bodies cannot make evaluation deep or large.

mod compare;
mod error;
mod filter;
mod limits;
mod literal;
mod operators;
mod path;
mod projection;
mod sort;
mod update;

pub use compare::compare_values;
pub use error::QueryError;
pub use filter::{Cond, ElemMatch, Filter};
pub use limits::Limits;
pub use projection::Projection;
pub use sort::{Sort, SortOrder};
pub use update::{PullCond, Update, UpdateOp};
