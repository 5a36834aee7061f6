pub mod api_keys;
pub mod cache;
pub mod docs;
pub mod documents;
pub mod fallback;
pub mod info;
pub mod models;
pub mod monitoring;
