//! Model definitions for the model registry.
//!
//! A model file is Mongoose's schema vocabulary written as JSON (see
//! `docs/model-files.md`). This crate parses it into a [`ModelDef`]: the typed
//! schema, every index the model needs, declarative virtuals, default
//! generators and a fingerprint that changes exactly when the definition does.
//!
//! Pure code: no file, network or clock access. Callers hand in file text,
//! and the time and randomness a default generator needs.

mod ctx;
mod defaults;
mod diff;
mod error;
mod field;
mod fingerprint;
mod index;
mod locate;
mod model;
mod naming;
mod parse;
mod paths;
mod schema;
mod set;
mod suggest;
mod virtuals;

pub use defaults::{Generator, TemplateError};
pub use diff::{Change, diff};
pub use error::ModelError;
pub use field::{DefaultValue, FieldDef, FieldOptions, FieldType, Schema};
pub use index::{IndexDef, IndexKey, IndexOrder};
pub use model::{ModelDef, Strict};
pub use naming::{default_collection_name, is_valid_collection_name, is_valid_model_name};
pub use parse::parse_model;
pub use set::ModelSet;
pub use virtuals::{Expr, VirtualDef};
