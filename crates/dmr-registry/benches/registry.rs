//! The registry's own costs, without HTTP: an L1 hit, an L2 hit against a real local
//! `redis-server` (started here on a free port), a cold compile on SQLite, and the
//! per-request key check (a verified tenant key, the admin key).
//!
//! `cargo bench -p dmr-registry --bench registry` (redis-server on PATH, or DMR_REDIS_SERVER).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dmr_cache::SharedTier;
use dmr_cache_redis::{RedisTier, RedisTierConfig};
use dmr_model::ModelSet;
use dmr_registry::{
    AccessConfig, AccessControl, Credential, Registry, RegistryConfig, Requirement, Verdict,
};
use dmr_store::TenantId;
use dmr_store_sqlite::{SqliteBackend, SqliteConfig};
use tokio::runtime::Runtime;

fn main() {
    divan::main();
}

fn models() -> ModelSet {
    let file = |name: &str, text: &str| (name.to_owned(), text.to_owned());
    ModelSet::from_sources(vec![
        file("User.json", include_str!("../../../models/User.json")),
        file("Product.json", include_str!("../../../models/Product.json")),
        file("Order.json", include_str!("../../../models/Order.json")),
    ])
    .unwrap()
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn registry(runtime: &Runtime, dir: &std::path::Path, config: RegistryConfig) -> Registry {
    let backend = runtime
        .block_on(SqliteBackend::open(SqliteConfig {
            data_dir: dir.to_path_buf(),
            pool_size: 4,
            busy_timeout: Duration::from_secs(5),
        }))
        .unwrap();
    Registry::new(Arc::new(backend), models(), config)
}

#[divan::bench]
fn l1_hit(bencher: divan::Bencher) {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let registry = registry(&runtime, dir.path(), RegistryConfig::default());
    let tenant = TenantId::parse("bench").unwrap();
    runtime.block_on(registry.model(&tenant, "User")).unwrap();
    bencher.bench_local(|| runtime.block_on(registry.model(&tenant, "User")).unwrap());
}

const BENCH_ADMIN_KEY: &str = "bench-admin-key-0123456789abcdef-0123";

fn access(runtime: &Runtime, dir: &std::path::Path) -> AccessControl {
    let backend = runtime
        .block_on(SqliteBackend::open(SqliteConfig {
            data_dir: dir.to_path_buf(),
            pool_size: 2,
            busy_timeout: Duration::from_secs(5),
        }))
        .unwrap();
    AccessControl::new(
        Arc::new(backend),
        AccessConfig {
            admin_key: Some(BENCH_ADMIN_KEY.to_owned()),
            ..AccessConfig::default()
        },
    )
}

/// What every request to a tenant route pays with a key this instance verified lately:
/// SHA-256 of the key, the admin comparison, one cache read, the tenant comparison.
#[divan::bench]
fn key_check_tenant_key(bencher: divan::Bencher) {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let access = access(&runtime, dir.path());
    let tenant = TenantId::parse("bench").unwrap();
    let key = runtime
        .block_on(access.issue_key(&tenant, None))
        .unwrap()
        .key;
    bencher.bench_local(|| {
        let verdict = access.check_cached(Credential::Key(&key), Requirement::Tenant("bench"));
        assert_eq!(verdict, Verdict::Allow);
    });
}

/// The admin key on a tenant route: SHA-256 and a constant-time comparison, no cache.
#[divan::bench]
fn key_check_admin_key(bencher: divan::Bencher) {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let access = access(&runtime, dir.path());
    bencher.bench_local(|| {
        let verdict = access.check_cached(
            Credential::Key(BENCH_ADMIN_KEY),
            Requirement::Tenant("bench"),
        );
        assert_eq!(verdict, Verdict::Allow);
    });
}

/// The compile of a (tenant, model) never seen: provision, open the file, create the
/// table and its indexes.
#[divan::bench(sample_count = 20, sample_size = 5)]
fn cold_compile(bencher: divan::Bencher) {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let registry = registry(
        &runtime,
        dir.path(),
        RegistryConfig {
            max_open_tenants: 100_000,
            ..RegistryConfig::default()
        },
    );
    let next = AtomicU64::new(0);
    bencher.bench_local(|| {
        let tenant =
            TenantId::parse(&format!("cold{}", next.fetch_add(1, Ordering::Relaxed))).unwrap();
        runtime.block_on(registry.model(&tenant, "Order")).unwrap()
    });
}

struct Redis(Child);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

fn start_redis() -> (Redis, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let binary = std::env::var("DMR_REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned());
    let child = Command::new(binary)
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server (apt-get install redis-server, or set DMR_REDIS_SERVER)");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (Redis(child), port)
}

/// L1 off: every call is one HGET and a rebuild from the descriptor.
#[divan::bench]
fn l2_hit(bencher: divan::Bencher) {
    let runtime = runtime();
    let (_redis, port) = start_redis();
    let dir = tempfile::tempdir().unwrap();
    let tier = runtime
        .block_on(async {
            RedisTier::start(
                RedisTierConfig {
                    url: format!("redis://127.0.0.1:{port}"),
                    key_prefix: "bench".into(),
                    l2_ttl: Duration::from_secs(600),
                    op_timeout: Duration::from_millis(500),
                    lock_ttl: Duration::from_secs(10),
                    breaker_threshold: 3,
                    probe_interval: Duration::from_millis(250),
                },
                "bench".into(),
            )
        })
        .unwrap()
        .0;
    let registry = registry(
        &runtime,
        dir.path(),
        RegistryConfig {
            l1_max_size: 0,
            shared: Some(tier as Arc<dyn SharedTier>),
            ..RegistryConfig::default()
        },
    );
    let tenant = TenantId::parse("bench").unwrap();
    runtime.block_on(registry.model(&tenant, "User")).unwrap();
    bencher.bench_local(|| runtime.block_on(registry.model(&tenant, "User")).unwrap());
    let stats = runtime.block_on(registry.stats());
    assert!(
        stats.registry.cache_hits.l2 > 0,
        "the benchmark measured L2 hits"
    );
}
