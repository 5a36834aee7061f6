//! The store conformance suite on the SQLite backend, each check in a fresh data directory.

use std::time::Duration;

use dmr_store_sqlite::{SqliteBackend, SqliteConfig};

async fn sqlite() -> (SqliteBackend, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let backend = SqliteBackend::open(SqliteConfig {
        data_dir: dir.path().join("data"),
        pool_size: 4,
        busy_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    (backend, dir)
}

dmr_store::store_conformance_suite!(sqlite());
