//! The MongoDB store. Production deployments outgrow one machine here: replica sets and
//! sharded clusters are MongoDB's job, ours is to use it well — one client (one pool) per
//! process with a database per tenant on it (the Node registry opened a pool per tenant),
//! documents exactly as Mongoose stores them (ObjectIds, Dates, `__v`), indexes exactly as
//! Mongoose names and specifies them, so a database the Node registry created is used as
//! it is.

mod backend;
mod convert;
mod errors;
mod index;
mod monitor;
mod query;
mod tenant_store;

pub use backend::{MongoBackend, MongoConfig};
pub use tenant_store::MongoTenantStore;
