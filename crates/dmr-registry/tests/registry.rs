//! The registry core on the real SQLite backend.

use std::sync::Arc;
use std::time::Duration;

use dmr_model::ModelSet;
use dmr_registry::{Registry, RegistryConfig, RegistryError, TestOperation};
use dmr_store::TenantId;
use dmr_store_sqlite::{SqliteBackend, SqliteConfig};

fn shipped_models() -> ModelSet {
    let file = |name: &str, text: &str| (format!("models/{name}"), text.to_owned());
    ModelSet::from_sources(vec![
        file("User.json", include_str!("../../../models/User.json")),
        file("Product.json", include_str!("../../../models/Product.json")),
        file("Order.json", include_str!("../../../models/Order.json")),
    ])
    .expect("the shipped models parse")
}

async fn registry(max_open_tenants: usize) -> (Registry, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let backend = SqliteBackend::open(SqliteConfig {
        data_dir: dir.path().to_path_buf(),
        pool_size: 4,
        busy_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    let registry = Registry::new(
        Arc::new(backend),
        shipped_models(),
        RegistryConfig {
            max_open_tenants,
            ..RegistryConfig::default()
        },
    );
    (registry, dir)
}

fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_requests_for_a_cold_model_compile_once() {
    let (registry, _dir) = registry(100).await;
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let registry = registry.clone();
            tokio::spawn(async move { registry.model(&tenant("cold"), "User").await })
        })
        .collect();
    for task in tasks {
        let compiled = task.await.unwrap().expect("every request gets the model");
        assert_eq!(compiled.collection, "users");
    }
    let stats = registry.stats().await;
    assert_eq!(stats.registry.model_creations, 1);
    assert_eq!(stats.registry.active_locks, 0);
    assert_eq!(stats.registry.errors, 0);
    assert_eq!(
        stats.registry.cache_hits.l1 + stats.registry.cache_misses,
        1000
    );
}

#[tokio::test]
async fn an_unknown_model_provisions_nothing() {
    let (registry, dir) = registry(100).await;
    let error = registry
        .model(&tenant("acme"), "Invoice")
        .await
        .unwrap_err();
    assert_eq!(error, RegistryError::ModelNotFound("Invoice".into()));
    assert!(!dmr_store_sqlite::tenant_file(dir.path(), &tenant("acme")).exists());
    assert!(
        !dir.path().join("tenants").exists(),
        "no bucket made either"
    );
    assert_eq!(registry.stats().await.connections.total_connections, 0);
}

#[tokio::test]
async fn one_failing_model_does_not_fail_the_others() {
    let (registry, dir) = registry(100).await;
    // An index named `orders` takes the name the Order collection's table needs.
    let path = dmr_store_sqlite::tenant_file(dir.path(), &tenant("acme"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let db = rusqlite::Connection::open(path).unwrap();
    db.execute_batch("CREATE TABLE squatter (a); CREATE INDEX orders ON squatter (a);")
        .unwrap();
    drop(db);

    let models = registry.tenant_models(&tenant("acme")).await;
    let compiled: Vec<&str> = models.compiled.iter().map(|m| m.name()).collect();
    assert_eq!(compiled, ["Product", "User"]);
    assert_eq!(models.failed.len(), 1);
    assert_eq!(models.failed[0].0, "Order");
    assert!(
        models.failed[0].1.to_string().contains("orders"),
        "{}",
        models.failed[0].1
    );
    assert_eq!(registry.stats().await.registry.errors, 1);
}

#[tokio::test]
async fn idle_tenants_close_and_reopen_on_next_use() {
    let (registry, _dir) = registry(100).await;
    registry.model(&tenant("acme"), "User").await.unwrap();
    assert!(
        registry
            .close_idle(Duration::from_secs(60))
            .await
            .is_empty(),
        "not idle yet"
    );
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(
        registry.close_idle(Duration::from_millis(10)).await,
        [tenant("acme")]
    );
    assert_eq!(registry.stats().await.connections.total_connections, 0);

    let count = registry
        .run_test(&tenant("acme"), "User", TestOperation::Count)
        .await
        .unwrap();
    assert_eq!(count, 0);
    assert_eq!(
        registry.stats().await.registry.model_creations,
        2,
        "recompiled after close"
    );
}

#[tokio::test]
async fn open_tenants_stay_within_the_bound() {
    let (registry, _dir) = registry(3).await;
    for i in 0..10 {
        registry
            .model(&tenant(&format!("t{i}")), "User")
            .await
            .unwrap();
    }
    let stats = registry.stats().await;
    let open: Vec<&str> = stats
        .connections
        .connections
        .iter()
        .map(|c| c.tenant_id.as_str())
        .collect();
    assert_eq!(open, ["t7", "t8", "t9"], "the most recently used stay open");
    // An evicted tenant's cached model was dropped with its store, so using it works.
    let count = registry
        .run_test(&tenant("t0"), "User", TestOperation::Count)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn a_store_closed_under_a_request_is_reopened_once() {
    let (registry, _dir) = registry(100).await;
    let held = registry.model(&tenant("acme"), "User").await.unwrap();
    assert!(registry.close_tenant(&tenant("acme")).await);
    assert!(
        !registry.close_tenant(&tenant("acme")).await,
        "already closed"
    );
    drop(held);
    let found = registry
        .run_test(&tenant("acme"), "User", TestOperation::Find)
        .await
        .unwrap();
    assert_eq!(found, serde_json::json!([]));
}

#[tokio::test]
async fn schema_versions_are_recorded_once_per_fingerprint() {
    let (registry, _dir) = registry(100).await;
    assert_eq!(registry.record_schema_versions().await.unwrap(), 3);
    assert_eq!(registry.record_schema_versions().await.unwrap(), 0);
}

#[tokio::test]
async fn invalidation_forces_a_recompile() {
    let (registry, _dir) = registry(100).await;
    registry.model(&tenant("a"), "User").await.unwrap();
    registry.model(&tenant("b"), "User").await.unwrap();
    registry.invalidate_tenant(&tenant("a")).await;
    registry.model(&tenant("a"), "User").await.unwrap();
    registry.model(&tenant("b"), "User").await.unwrap();
    assert_eq!(
        registry.stats().await.registry.model_creations,
        3,
        "only a recompiled"
    );
    registry.invalidate_all().await;
    registry.model(&tenant("b"), "User").await.unwrap();
    assert_eq!(registry.stats().await.registry.model_creations, 4);
}

/// Model files held in memory, changed by the test between reloads.
struct Files(std::sync::Mutex<Vec<(String, String)>>);

#[async_trait::async_trait]
impl dmr_registry::ModelSource for Files {
    async fn load(&self) -> Result<ModelSet, Vec<String>> {
        ModelSet::from_sources(self.0.lock().unwrap().clone())
            .map_err(|errors| errors.iter().map(ToString::to_string).collect())
    }
}

#[tokio::test]
async fn a_reload_recompiles_changed_models_lazily_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let backend = SqliteBackend::open(SqliteConfig {
        data_dir: dir.path().to_path_buf(),
        pool_size: 2,
        busy_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    let user = include_str!("../../../models/User.json").to_owned();
    let product = include_str!("../../../models/Product.json").to_owned();
    let files = Arc::new(Files(std::sync::Mutex::new(vec![
        ("User.json".into(), user.clone()),
        ("Product.json".into(), product.clone()),
    ])));
    let registry = Registry::new(
        Arc::new(backend),
        files.load_now(),
        RegistryConfig {
            model_source: Some(files.clone()),
            ..RegistryConfig::default()
        },
    );
    let before = registry.model(&tenant("acme"), "User").await.unwrap();
    registry.model(&tenant("acme"), "Product").await.unwrap();

    // A new optional field: a new version of User; Product unchanged.
    let changed_user = user.replacen(
        "\"schema\": {",
        "\"schema\": {\n    \"nickname\": \"String\",",
        1,
    );
    assert_ne!(changed_user, user, "the edit applies");
    *files.0.lock().unwrap() = vec![
        ("User.json".into(), changed_user),
        ("Product.json".into(), product),
    ];
    let report = registry.reload().await.unwrap();
    assert_eq!(report.unchanged, ["Product"]);
    assert_eq!(report.changed.len(), 1);
    assert_eq!(report.changed[0].from, before.def.fingerprint);

    let after = registry.model(&tenant("acme"), "User").await.unwrap();
    assert_eq!(after.def.fingerprint, report.changed[0].to);
    assert!(after.def.schema.field("nickname").is_some());
    registry.model(&tenant("acme"), "Product").await.unwrap();
    assert_eq!(
        registry.stats().await.registry.model_creations,
        3,
        "only User recompiled"
    );

    // Broken files change nothing.
    files
        .0
        .lock()
        .unwrap()
        .push(("Broken.json".into(), "{\"model\": ".into()));
    match registry.reload().await {
        Err(RegistryError::ModelFiles(errors)) => {
            assert!(errors[0].starts_with("Broken.json:1:"), "{errors:?}")
        }
        other => panic!("expected invalid model files, got {other:?}"),
    }
    assert_eq!(
        registry.models().get("User").unwrap().fingerprint,
        after.def.fingerprint
    );

    // A removed model is gone.
    files
        .0
        .lock()
        .unwrap()
        .retain(|(name, _)| name == "User.json");
    let report = registry.reload().await.unwrap();
    assert_eq!(report.removed, ["Product"]);
    assert_eq!(
        registry
            .model(&tenant("acme"), "Product")
            .await
            .unwrap_err(),
        RegistryError::ModelNotFound("Product".into())
    );
}

impl Files {
    fn load_now(&self) -> ModelSet {
        ModelSet::from_sources(self.0.lock().unwrap().clone()).unwrap()
    }
}
