//! The access layer on the real SQLite control plane: keys issued, verified from memory,
//! looked up in the store on a miss, revoked, shared by two instances of one data
//! directory; and what a flood of random keys costs the store.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use dmr_registry::{
    AccessConfig, AccessControl, Credential, Denial, RegistryError, Requirement, Verdict,
};
use dmr_store::{
    ApiKeyRecord, Backend, SchemaVersion, StoreError, TenantId, TenantRecord, TenantStore,
};
use dmr_store_sqlite::{SqliteBackend, SqliteConfig};
use serde_json::Value;

const ADMIN: &str = "admin-key-for-tests-0123456789abcdef";

fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).unwrap()
}

async fn sqlite(dir: &std::path::Path) -> SqliteBackend {
    SqliteBackend::open(SqliteConfig {
        data_dir: dir.to_path_buf(),
        pool_size: 2,
        busy_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap()
}

fn config(ttl: Duration) -> AccessConfig {
    AccessConfig {
        admin_key: Some(ADMIN.to_owned()),
        cache_ttl: ttl,
        ..AccessConfig::default()
    }
}

/// The real SQLite backend, counting key lookups and how many run at once; each lookup
/// takes at least `delay`, so that concurrency is observable.
struct Counting {
    inner: SqliteBackend,
    delay: Duration,
    finds: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Counting {
    fn new(inner: SqliteBackend, delay: Duration) -> Self {
        Self {
            inner,
            delay,
            finds: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        }
    }
}

#[async_trait]
impl Backend for Counting {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
    async fn provision_tenant(&self, tenant: &TenantId) -> Result<TenantRecord, StoreError> {
        self.inner.provision_tenant(tenant).await
    }
    async fn open_tenant(&self, tenant: &TenantId) -> Result<Arc<dyn TenantStore>, StoreError> {
        self.inner.open_tenant(tenant).await
    }
    async fn record_schema_version(
        &self,
        model: &str,
        fingerprint: &str,
        definition: &Value,
    ) -> Result<bool, StoreError> {
        self.inner
            .record_schema_version(model, fingerprint, definition)
            .await
    }
    async fn schema_versions(&self, model: &str) -> Result<Vec<SchemaVersion>, StoreError> {
        self.inner.schema_versions(model).await
    }
    async fn schema_models(&self) -> Result<Vec<String>, StoreError> {
        self.inner.schema_models().await
    }
    async fn insert_api_key(&self, record: &ApiKeyRecord) -> Result<(), StoreError> {
        self.inner.insert_api_key(record).await
    }
    async fn find_api_key(&self, hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.finds.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        let found = self.inner.find_api_key(hash).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        found
    }
    async fn list_api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.inner.list_api_keys(tenant).await
    }
    async fn delete_api_key(&self, tenant: &TenantId, id: &str) -> Result<bool, StoreError> {
        self.inner.delete_api_key(tenant, id).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
    async fn close(&self) {
        self.inner.close().await;
    }
}

/// A well-formed key nobody issued.
fn random_key(n: usize) -> String {
    let body = format!("{n:0>43}");
    format!("dmr_{body}")
}

async fn decide(
    access: &AccessControl,
    key: &str,
    requirement: Requirement<'_>,
) -> Result<(), Denial> {
    access
        .check(Credential::Key(key), requirement)
        .await
        .expect("the store answers")
}

#[tokio::test]
async fn an_issued_key_reaches_its_tenant_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let access = AccessControl::new(
        Arc::new(sqlite(dir.path()).await),
        config(Duration::from_secs(60)),
    );
    assert!(access.is_enforced());
    let issued = access
        .issue_key(&tenant("acme"), Some("ci".into()))
        .await
        .unwrap();
    assert!(issued.key.starts_with("dmr_") && issued.key.len() == 47);
    assert_eq!(issued.record.tenant_id, "acme");
    assert_eq!(issued.record.label.as_deref(), Some("ci"));
    assert_ne!(issued.record.hash, issued.key, "the store gets the hash");
    assert!(!format!("{issued:?}").contains(&issued.key));

    let key = issued.key.as_str();
    assert_eq!(
        decide(&access, key, Requirement::Tenant("acme")).await,
        Ok(())
    );
    assert_eq!(decide(&access, key, Requirement::AnyKey).await, Ok(()));
    assert_eq!(decide(&access, key, Requirement::Public).await, Ok(()));
    assert_eq!(
        decide(&access, key, Requirement::Tenant("globex")).await,
        Err(Denial::Hidden)
    );
    assert_eq!(
        decide(&access, key, Requirement::Admin).await,
        Err(Denial::AdminOnly)
    );

    for requirement in [
        Requirement::Admin,
        Requirement::Tenant("acme"),
        Requirement::Tenant("globex"),
        Requirement::AnyKey,
    ] {
        assert_eq!(decide(&access, ADMIN, requirement).await, Ok(()));
        let mut near_miss = ADMIN.to_owned();
        near_miss.pop();
        assert_eq!(
            decide(&access, &near_miss, requirement).await,
            Err(Denial::Invalid),
            "the admin key minus its last character"
        );
        assert_eq!(
            decide(&access, &random_key(7), requirement).await,
            Err(Denial::Invalid)
        );
        assert_eq!(
            access.check(Credential::Absent, requirement).await,
            Ok(Err(Denial::Missing))
        );
        assert_eq!(
            access.check(Credential::Malformed, requirement).await,
            Ok(Err(Denial::Invalid))
        );
    }

    let listed = access.list_keys(&tenant("acme")).await.unwrap();
    assert_eq!(listed, std::slice::from_ref(&issued.record));
    assert!(
        access
            .list_keys(&tenant("globex"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn without_an_admin_key_nothing_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let access = AccessControl::new(Arc::new(sqlite(dir.path()).await), AccessConfig::default());
    assert!(!access.is_enforced());
    for credential in [
        Credential::Absent,
        Credential::Malformed,
        Credential::Key("anything"),
    ] {
        assert_eq!(
            access.check_cached(credential, Requirement::Admin),
            Verdict::Allow
        );
        assert_eq!(
            access.check_cached(credential, Requirement::Tenant("acme")),
            Verdict::Allow
        );
    }
}

#[tokio::test]
async fn a_verified_key_is_answered_from_memory_and_unknown_keys_are_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(Counting::new(sqlite(dir.path()).await, Duration::ZERO));
    let issuer = AccessControl::new(
        Arc::new(sqlite(dir.path()).await),
        config(Duration::from_secs(60)),
    );
    let key = issuer.issue_key(&tenant("acme"), None).await.unwrap().key;
    let access = AccessControl::new(backend.clone(), config(Duration::from_secs(60)));

    // First sight: the store is asked once (resolving the pending key the memory check
    // handed back); then memory answers.
    let Verdict::AskStore(pending) =
        access.check_cached(Credential::Key(&key), Requirement::Tenant("acme"))
    else {
        panic!("a key never seen is not decided from memory");
    };
    assert_eq!(
        access
            .resolve(pending, Requirement::Tenant("acme"))
            .await
            .unwrap(),
        Ok(())
    );
    for _ in 0..50 {
        assert_eq!(
            access.check_cached(Credential::Key(&key), Requirement::Tenant("acme")),
            Verdict::Allow
        );
    }
    assert_eq!(backend.finds.load(Ordering::SeqCst), 1);

    let unknown = random_key(42);
    for _ in 0..50 {
        assert_eq!(
            decide(&access, &unknown, Requirement::Tenant("acme")).await,
            Err(Denial::Invalid)
        );
    }
    assert_eq!(
        backend.finds.load(Ordering::SeqCst),
        2,
        "one read for the unknown key, then memory"
    );

    for malformed in [
        "",
        "dmr_",
        "Bearer",
        "dmr_short",
        &format!("dmr_{}", "!".repeat(43)),
        &"x".repeat(10_000),
    ] {
        assert_eq!(
            decide(&access, malformed, Requirement::Tenant("acme")).await,
            Err(Denial::Invalid)
        );
    }
    assert_eq!(
        backend.finds.load(Ordering::SeqCst),
        2,
        "malformed keys never reach the store"
    );
    let stats = access.stats();
    assert_eq!((stats.verified_keys, stats.unknown_keys), (1, 1));
    assert_eq!(stats.store_lookups, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_random_keys_keeps_store_reads_and_memory_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(Counting::new(
        sqlite(dir.path()).await,
        Duration::from_millis(2),
    ));
    let access = AccessControl::new(
        backend.clone(),
        AccessConfig {
            unknown_capacity: 100,
            lookup_concurrency: 3,
            ..config(Duration::from_secs(60))
        },
    );
    let key = access.issue_key(&tenant("acme"), None).await.unwrap().key;

    let tasks: Vec<_> = (0..600)
        .map(|n| {
            let access = access.clone();
            tokio::spawn(async move { decide(&access, &random_key(n), Requirement::Admin).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Err(Denial::Invalid));
    }
    assert_eq!(backend.finds.load(Ordering::SeqCst), 600);
    let max_in_flight = backend.max_in_flight.load(Ordering::SeqCst);
    assert!(
        (2..=3).contains(&max_in_flight),
        "store reads in flight at once: {max_in_flight} (concurrent, and bounded by the permits)"
    );
    let stats = access.stats();
    assert!(stats.unknown_keys <= 100, "{stats:?}");

    // The flood did not push the issued key out: memory still answers for it.
    assert_eq!(
        access.check_cached(Credential::Key(&key), Requirement::Tenant("acme")),
        Verdict::Allow
    );
}

#[tokio::test]
async fn two_instances_share_keys_and_a_revocation_reaches_the_other_within_its_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = AccessControl::new(
        Arc::new(sqlite(dir.path()).await),
        config(Duration::from_secs(3600)),
    );
    // Two more instances on the same data directory: one trusts a verified key for an
    // hour, the other for 100 ms.
    let long_ttl = AccessControl::new(
        Arc::new(sqlite(dir.path()).await),
        config(Duration::from_secs(3600)),
    );
    let short_ttl = AccessControl::new(
        Arc::new(sqlite(dir.path()).await),
        config(Duration::from_millis(100)),
    );

    let issued = issuer
        .issue_key(&tenant("acme"), Some("shared".into()))
        .await
        .unwrap();
    let key = issued.key.as_str();
    for access in [&issuer, &long_ttl, &short_ttl] {
        assert_eq!(
            decide(access, key, Requirement::Tenant("acme")).await,
            Ok(())
        );
    }

    assert!(
        issuer
            .revoke_key(&tenant("acme"), &issued.record.id)
            .await
            .unwrap()
    );
    assert!(
        !issuer
            .revoke_key(&tenant("acme"), &issued.record.id)
            .await
            .unwrap(),
        "revoking twice finds nothing the second time"
    );
    assert_eq!(
        decide(&issuer, key, Requirement::Tenant("acme")).await,
        Err(Denial::Invalid),
        "the revoking instance drops the key at once"
    );
    assert_eq!(
        decide(&long_ttl, key, Requirement::Tenant("acme")).await,
        Ok(()),
        "another instance trusts its cached answer until its TTL"
    );

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match decide(&short_ttl, key, Requirement::Tenant("acme")).await {
            Err(Denial::Invalid) => break,
            other => assert!(
                Instant::now() < deadline,
                "the revoked key still works on the short-TTL instance: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn another_tenant_cannot_revoke_a_key_and_labels_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let access = AccessControl::new(
        Arc::new(sqlite(dir.path()).await),
        config(Duration::from_secs(60)),
    );
    let issued = access.issue_key(&tenant("acme"), None).await.unwrap();
    assert!(
        !access
            .revoke_key(&tenant("globex"), &issued.record.id)
            .await
            .unwrap()
    );
    assert_eq!(
        decide(&access, &issued.key, Requirement::Tenant("acme")).await,
        Ok(())
    );
    assert!(matches!(
        access
            .issue_key(&tenant("acme"), Some("x".repeat(101)))
            .await,
        Err(RegistryError::InvalidKeyLabel(_))
    ));
    assert_eq!(access.list_keys(&tenant("acme")).await.unwrap().len(), 1);
}
