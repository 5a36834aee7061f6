//! Model definitions for the model registry.
//!
//! A model file is Mongoose's schema vocabulary written as JSON (see
//! `docs/model-files.md`). This crate parses it into a [`ModelDef`]: the typed
//! schema, every index the model needs, declarative virtuals, default
//! generators and a fingerprint that changes exactly when the definition does.
//!
//! It also processes documents exactly as Mongoose 8 does (casting, setters,
//! defaults, `_id`s, timestamps, strict mode, validation with Mongoose-shaped
//! errors, virtuals on output): see [`ModelDef::prepare_insert`].
//!
//! Pure code: no file, network or clock access. Callers hand in file text,
//! and the time and randomness writes need ([`WriteContext`]).

// `FieldError` is the public, Mongoose-shaped error of `cast_path` and the
// casts behind it; errors are the rare path, so its size is not worth boxing.
#![allow(clippy::result_large_err)]

mod cast;
mod cast_path;
mod compat;
mod ctx;
pub mod date;
mod defaults;
mod diff;
mod doc_path;
mod error;
mod field;
mod fingerprint;
mod index;
mod js;
mod locate;
mod model;
mod naming;
mod native;
pub mod object_id;
mod output;
mod parse;
mod paths;
mod pattern;
mod prepare;
mod schema;
mod set;
mod suggest;
mod validate;
mod validation_error;
mod virtuals;
mod walk;

pub use compat::{CompatibilityMode, Direction, Incompatibility, UnknownMode, check_compatibility};
pub use defaults::{Generator, TemplateError};
pub use diff::{Change, ChangeKind, diff};
pub use error::ModelError;
pub use field::{DefaultValue, FieldDef, FieldOptions, FieldType, Schema};
pub use index::{IndexDef, IndexKey, IndexOrder};
pub use model::{ModelDef, Strict};
pub use naming::{default_collection_name, is_valid_collection_name, is_valid_model_name};
pub use native::NativeType;
pub use parse::parse_model;
pub use pattern::{Pattern, PatternError};
pub use prepare::WriteContext;
pub use set::ModelSet;
pub use validation_error::{FieldError, ValidationError};
pub use virtuals::{Expr, VirtualDef};
