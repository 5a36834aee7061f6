//! The embedded default store. Layout under the data directory:
//!
//! - `_control.sqlite3`: tenants, schema versions and tenant API key hashes;
//! - `tenants/<b>/tenant_<id>.sqlite3`: one file per tenant in one of 256 bucket
//!   directories ([`tenant_file`]; a flat `tenant_<id>.sqlite3` of an older layout is still
//!   used where it exists), one table per collection, documents as JSONB in a `doc`
//!   column, model indexes as expression indexes on `jsonb_extract`.
//!
//! Every file runs in WAL mode with a busy timeout; each has its own small pool of
//! connections, and every statement runs on the blocking thread pool so the async workers
//! never wait on disk.

mod api_keys;
mod backend;
mod ddl;
mod pool;
pub mod query;
mod tenant_store;

pub use backend::{SqliteBackend, SqliteConfig, tenant_file};
