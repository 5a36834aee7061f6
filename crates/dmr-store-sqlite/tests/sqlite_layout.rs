//! What the SQLite backend leaves on disk, checked with a separate connection.

use std::sync::Arc;
use std::time::Duration;

use dmr_model::{IndexDef, IndexKey, IndexOrder};
use dmr_store::{Backend, CollectionSpec, TenantId};
use dmr_store_sqlite::{SqliteBackend, SqliteConfig};

async fn backend(pool_size: usize) -> (SqliteBackend, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (open_in(dir.path(), pool_size).await, dir)
}

/// The backend on an existing data directory.
async fn open_in(dir: &std::path::Path, pool_size: usize) -> SqliteBackend {
    SqliteBackend::open(SqliteConfig {
        data_dir: dir.to_path_buf(),
        pool_size,
        busy_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap()
}

fn spec() -> CollectionSpec {
    let key = |path: &str| IndexKey {
        path: path.to_owned(),
        order: IndexOrder::Asc,
    };
    CollectionSpec {
        name: "users".to_owned(),
        scalar_paths: vec!["email".to_owned(), "nick".to_owned()],
        text_paths: Vec::new(),
        schema: Default::default(),
        indexes: vec![
            IndexDef {
                name: "email_1".into(),
                keys: vec![key("email")],
                unique: true,
                sparse: false,
                expire_after_seconds: None,
            },
            IndexDef {
                name: "nick_1".into(),
                keys: vec![key("nick")],
                unique: true,
                sparse: true,
                expire_after_seconds: None,
            },
        ],
    }
}

#[tokio::test]
async fn one_wal_file_per_tenant_with_planner_usable_indexes() {
    let (backend, dir) = backend(2).await;
    let tenant = TenantId::parse("acme").unwrap();
    backend.provision_tenant(&tenant).await.unwrap();
    let store = backend.open_tenant(&tenant).await.unwrap();
    store.ensure_collection(&spec()).await.unwrap();

    assert!(dir.path().join("_control.sqlite3").exists());
    let path = dmr_store_sqlite::tenant_file(dir.path(), &tenant);
    // `printf %s acme | sha256sum` starts with 82: the bucket an operator computes.
    assert_eq!(
        path.strip_prefix(dir.path()).unwrap(),
        std::path::Path::new("tenants/82/tenant_acme.sqlite3")
    );
    let db = rusqlite::Connection::open(&path).unwrap();
    let mode: String = db
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");

    let plan: String = db
        .query_row(
            "EXPLAIN QUERY PLAN SELECT _id FROM users WHERE jsonb_extract(doc, '$.\"email\"') = 'a@b.c'",
            [],
            |r| r.get(3),
        )
        .unwrap();
    assert!(
        plan.contains("USING INDEX users.email_1"),
        "planner does not use the index: {plan}"
    );

    let insert = "INSERT INTO users (_id, doc) VALUES (?1, jsonb(?2))";
    db.execute(insert, ["1", r#"{"email":"a@b.c"}"#]).unwrap();
    assert!(
        db.execute(insert, ["2", r#"{"email":"a@b.c"}"#]).is_err(),
        "unique enforced"
    );
    // Sparse: documents without `nick` do not collide on it.
    db.execute(insert, ["3", r#"{"email":"x@b.c"}"#]).unwrap();
    db.execute(insert, ["4", r#"{"email":"y@b.c","nick":"n"}"#])
        .unwrap();
    assert!(
        db.execute(insert, ["5", r#"{"email":"z@b.c","nick":"n"}"#])
            .is_err()
    );

    assert_eq!(
        store.count(&spec(), &dmr_query::Filter::All).await.unwrap(),
        3
    );
    let control = rusqlite::Connection::open(dir.path().join("_control.sqlite3")).unwrap();
    let database: String = control
        .query_row(
            "SELECT database_name FROM tenants WHERE id = 'acme'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(database, "tenant_acme");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_bounds_connections_and_serves_every_caller() {
    let (backend, _dir) = backend(2).await;
    let store = backend
        .open_tenant(&TenantId::parse("busy").unwrap())
        .await
        .unwrap();
    store.ensure_collection(&spec()).await.unwrap();
    let store: Arc<dyn dmr_store::TenantStore> = store;
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.count(&spec(), &dmr_query::Filter::All).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), 0);
    }
    let stats = store.pool_stats();
    assert_eq!(stats.max_size, 2);
    assert_eq!(stats.in_use, 0);
    assert!(stats.idle >= 1 && stats.idle <= 2, "{stats:?}");
}

#[tokio::test]
async fn expire_deletes_only_dates_before_the_cutoff() {
    let (backend, _dir) = backend(1).await;
    let store = backend
        .open_tenant(&TenantId::parse("ttl").unwrap())
        .await
        .unwrap();
    let spec = CollectionSpec {
        name: "sessions".into(),
        ..CollectionSpec::default()
    };
    store.ensure_collection(&spec).await.unwrap();
    let docs = [
        serde_json::json!({"_id": "a", "at": "2020-01-01T00:00:00.000Z"}),
        serde_json::json!({"_id": "b", "at": "2030-01-01T00:00:00.000Z"}),
        serde_json::json!({"_id": "c", "at": 5}),
        serde_json::json!({"_id": "d"}),
    ];
    for doc in &docs {
        store.insert(&spec, doc).await.unwrap();
    }
    let deleted = store
        .expire(&spec, "at", "2026-01-01T00:00:00.000Z")
        .await
        .unwrap();
    assert_eq!(
        deleted, 1,
        "only the past date; numbers and missing values are not dates"
    );
    assert!(store.get(&spec, "a").await.unwrap().is_none());
    assert_eq!(
        store.count(&spec, &dmr_query::Filter::All).await.unwrap(),
        3
    );
}

/// A data directory from before tenant API keys: the control database has tenants and
/// schema versions but no `api_keys` table. Opening it adds the table and keeps the rest.
#[tokio::test]
async fn a_control_database_without_the_key_table_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    {
        let old = rusqlite::Connection::open(dir.path().join("_control.sqlite3")).unwrap();
        old.execute_batch(
            "CREATE TABLE tenants (id TEXT PRIMARY KEY NOT NULL, database_name TEXT NOT NULL,
                 status TEXT NOT NULL DEFAULT 'active', created_at TEXT NOT NULL);
             CREATE TABLE schema_versions (model TEXT NOT NULL, fingerprint TEXT NOT NULL,
                 definition TEXT NOT NULL, registered_at TEXT NOT NULL,
                 PRIMARY KEY (model, fingerprint));
             INSERT INTO tenants (id, database_name, created_at)
                 VALUES ('acme', 'tenant_acme', '2025-01-01T00:00:00.000Z');",
        )
        .unwrap();
    }
    let backend = SqliteBackend::open(SqliteConfig {
        data_dir: dir.path().to_path_buf(),
        pool_size: 2,
        busy_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    let acme = TenantId::parse("acme").unwrap();
    let existing = backend.provision_tenant(&acme).await.unwrap();
    assert!(!existing.created_now, "the old tenant row is still there");
    assert_eq!(existing.created_at, "2025-01-01T00:00:00.000Z");

    let key = dmr_store::ApiKeyRecord {
        id: "k1".into(),
        tenant_id: "acme".into(),
        hash: "ab".repeat(32),
        label: None,
        created_at: "2026-01-01T00:00:00.000Z".into(),
    };
    backend.insert_api_key(&key).await.unwrap();
    assert_eq!(backend.find_api_key(&key.hash).await.unwrap(), Some(key));
    backend.close().await;
}

#[tokio::test]
async fn a_tenant_file_of_the_flat_layout_is_still_used_and_new_tenants_get_buckets() {
    let (backend, dir) = backend(2).await;
    // A tenant from before buckets: its file at the top of the data directory.
    let old = TenantId::parse("legacy").unwrap();
    let flat = dir.path().join("tenant_legacy.sqlite3");
    rusqlite::Connection::open(&flat)
        .unwrap()
        .execute_batch("CREATE TABLE marker (a)")
        .unwrap();
    backend.provision_tenant(&old).await.unwrap();
    let store = backend.open_tenant(&old).await.unwrap();
    store.ensure_collection(&spec()).await.unwrap();
    let tables: Vec<String> = rusqlite::Connection::open(&flat)
        .unwrap()
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(tables.contains(&"marker".to_owned()), "{tables:?}");
    assert!(
        tables.len() > 1,
        "the collection went into the flat file: {tables:?}"
    );
    assert!(!dmr_store_sqlite::tenant_file(dir.path(), &old).exists());

    let new = TenantId::parse("fresh").unwrap();
    backend.provision_tenant(&new).await.unwrap();
    backend.open_tenant(&new).await.unwrap();
    assert!(dmr_store_sqlite::tenant_file(dir.path(), &new).exists());
    assert!(!dir.path().join("tenant_fresh.sqlite3").exists());
}

#[tokio::test]
async fn a_control_file_from_before_version_numbers_is_numbered_in_recorded_order() {
    let dir = tempfile::tempdir().unwrap();
    {
        let old = rusqlite::Connection::open(dir.path().join("_control.sqlite3")).unwrap();
        old.execute_batch(
            r#"CREATE TABLE schema_versions (
                   model TEXT NOT NULL, fingerprint TEXT NOT NULL, definition TEXT NOT NULL,
                   registered_at TEXT NOT NULL, PRIMARY KEY (model, fingerprint));
               INSERT INTO schema_versions VALUES
                   ('User', 'bbbb', '{"v":2}', '2026-02-01T00:00:00.000Z'),
                   ('User', 'aaaa', '{"v":1}', '2026-01-01T00:00:00.000Z'),
                   ('Order', 'cccc', '{"v":1}', '2026-03-01T00:00:00.000Z');"#,
        )
        .unwrap();
    }
    let backend = open_in(dir.path(), 2).await;
    let users = backend.schema_versions("User").await.unwrap();
    let numbered: Vec<(u32, &str)> = users
        .iter()
        .map(|v| (v.version, v.fingerprint.as_str()))
        .collect();
    assert_eq!(numbered, [(1, "aaaa"), (2, "bbbb")]);
    // The next one recorded continues the numbering.
    assert!(
        backend
            .record_schema_version("User", "dddd", &serde_json::json!({"v": 3}))
            .await
            .unwrap()
    );
    assert_eq!(backend.schema_versions("User").await.unwrap()[2].version, 3);
    assert_eq!(
        backend.schema_versions("Order").await.unwrap()[0].version,
        1
    );
}
