//! `dmr serve`: wires the configured parts together, serves until SIGTERM or SIGINT, then
//! drains in-flight requests (bounded by SHUTDOWN_TIMEOUT_MS) and closes every store.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use dmr_cache::{BackplaneEvent, SharedTier};
use dmr_cache_redis::{RedisTier, RedisTierConfig};
use dmr_http::{AppState, HttpConfig, ServiceInfo};
use dmr_registry::{
    AccessConfig, AccessControl, QueryLimits, Registry, RegistryConfig, RegistryError,
};
use dmr_store::{Backend, StoreError};
use dmr_store_mongo::{MongoBackend, MongoConfig};
use dmr_store_sqlite::{SqliteBackend, SqliteConfig};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::config::{Config, MetricsSettings};
use crate::model_files::{self, ModelsDir};

pub async fn run(config: Config) -> anyhow::Result<()> {
    // Installed before anything is served: a SIGTERM that arrives while the first requests
    // are in flight must drain them, not kill the process (the default action).
    let shutdown = ShutdownSignals::install().context("cannot install the signal handlers")?;
    log_settings(&config);
    crate::fd_budget::ensure(&config);
    let shared = start_shared_tier(&config)?;

    let models = model_files::load(&config.models_dir).context("cannot load the model files")?;
    tracing::info!(
        models = models.len(),
        names = %models.names().collect::<Vec<_>>().join(","),
        dir = %config.models_dir.display(),
        "model files loaded"
    );

    let backend = open_backend(&config).await?;
    let access = start_access_control(&config, backend.clone());
    let registry = Registry::new(
        backend,
        models,
        RegistryConfig {
            l1_max_size: config.l1_cache_max_size,
            l1_ttl: config.l1_cache_ttl,
            max_open_tenants: config.max_open_tenants,
            model_source: Some(Arc::new(ModelsDir(config.models_dir.clone()))),
            shared: shared
                .as_ref()
                .map(|(tier, _)| Arc::clone(tier) as Arc<dyn SharedTier>),
            fleet_wait: config.fleet_lock_ttl,
            fail_safe_grace: config.fail_safe_grace,
            query_limits: QueryLimits {
                max_page_size: config.max_page_size,
                default_page_size: config.default_page_size,
                filter: dmr_query::Limits {
                    max_depth: config.max_filter_depth,
                    max_nodes: config.max_filter_nodes,
                },
            },
        },
    );
    let backplane =
        shared.map(|(_, events)| tokio::spawn(apply_backplane(registry.clone(), events)));
    match registry.record_schema_versions().await {
        Ok(_) => {}
        // The store is down at start-up (MongoDB): serve 503s meanwhile, record on return.
        Err(RegistryError::Store(StoreError::Unavailable(error))) => {
            tracing::warn!(%error, "schema versions not recorded yet; retrying until the store answers");
            tokio::spawn(record_versions_when_the_store_answers(registry.clone()));
        }
        Err(e) => return Err(e).context("cannot record schema versions in the control database"),
    }

    let state = AppState::new(
        registry.clone(),
        access,
        ServiceInfo {
            environment: config.node_env.clone(),
            started: Instant::now(),
            pid: std::process::id(),
            commit: env!("DMR_GIT_COMMIT"),
        },
    );
    let app = dmr_http::app(
        state.clone(),
        &HttpConfig {
            body_limit: config.body_limit,
            request_timeout: config.request_timeout,
            edge: config.edge.clone(),
            metrics_route: config.metrics == MetricsSettings::OnApiPort,
        },
    );

    let address = SocketAddr::new(config.host, config.port);
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("HOST={} PORT={}: cannot listen", config.host, config.port))?;
    let local = listener.local_addr()?;
    tracing::info!(address = %local, environment = %config.node_env, backend = registry.backend_kind(), "listening on http://{local}");

    let metrics_listener = match config.metrics {
        MetricsSettings::Separate(address) => {
            Some(serve_metrics(address, state.clone(), config.connections).await?)
        }
        MetricsSettings::Off | MetricsSettings::OnApiPort => None,
    };
    // Start-up (the model files, the OpenAPI document, the first store) freed more than it
    // keeps.
    tokio::task::spawn_blocking(crate::memory::release_freed);
    let sweeper = tokio::spawn(sweep_idle_tenants(registry.clone(), config.clone()));
    let reloader = tokio::spawn(reload_on_sighup(registry.clone()));
    let expirer = tokio::spawn(sweep_expired_documents(
        registry.clone(),
        config.ttl_sweep_interval,
    ));

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(dmr_http::serve(
        listener,
        app,
        config.connections,
        async move {
            let _ = stop_rx.await;
        },
    ));

    let signal = shutdown.received().await;
    tracing::info!(
        signal,
        in_flight = state.requests.snapshot().in_flight,
        "shutdown requested: no new connections, draining in-flight requests"
    );
    let _ = stop_tx.send(());
    sweeper.abort();
    reloader.abort();
    if let Some(metrics) = metrics_listener {
        metrics.abort();
    }
    expirer.abort();
    if let Some(backplane) = backplane {
        backplane.abort();
    }
    match tokio::time::timeout(config.shutdown_timeout, server).await {
        Ok(Ok(())) => tracing::info!("in-flight requests drained"),
        Ok(Err(e)) => tracing::error!(error = %e, "server task failed"),
        Err(_) => tracing::warn!(
            timeout_ms = config.shutdown_timeout.as_millis() as u64,
            in_flight = state.requests.snapshot().in_flight,
            "shutdown timeout reached; closing with requests still in flight"
        ),
    }
    registry.shutdown().await;
    Ok(())
}

/// `METRICS_PORT`: `/metrics` alone, without authentication, on an address of its own.
async fn serve_metrics(
    address: SocketAddr,
    state: AppState,
    limits: dmr_http::ConnectionLimits,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(address).await.with_context(|| {
        format!(
            "METRICS_HOST={} METRICS_PORT={}: cannot listen",
            address.ip(),
            address.port()
        )
    })?;
    tracing::info!(address = %listener.local_addr()?, "metrics on http://{}/metrics", listener.local_addr()?);
    let router = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let state = state.clone();
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        dmr_http::METRICS_CONTENT_TYPE,
                    )],
                    dmr_http::render_metrics(&state).await,
                )
            }
        }),
    );
    Ok(tokio::spawn(async move {
        // Scrapers are trusted to behave, but a stuck one still must not hold sockets.
        dmr_http::serve(listener, router, limits, std::future::pending()).await;
    }))
}

/// One line with the effective settings (never a secret), so a log reads on its own.
fn log_settings(config: &Config) {
    tracing::info!(
        environment = %config.node_env,
        data_dir = %config.data_dir.display(),
        models_dir = %config.models_dir.display(),
        l1_max_size = config.l1_cache_max_size,
        l1_ttl_ms = config.l1_cache_ttl.as_millis() as u64,
        l2_ttl_ms = config.l2_cache_ttl.as_millis() as u64,
        fleet_lock_ttl_ms = config.fleet_lock_ttl.as_millis() as u64,
        fail_safe_grace_ms = config.fail_safe_grace.as_millis() as u64,
        rate_limit_window_ms = config.edge.rate_limit_window.as_millis() as u64,
        rate_limit_max_requests = config.edge.rate_limit_max_requests,
        tenant_rate_limit_max_requests = config.edge.tenant_rate_limit_max_requests,
        tenant_max_concurrency = config.edge.tenant_max_concurrency,
        trusted_proxies = %config.edge.trusted_proxies,
        cors_origins = %config.edge.cors_origins,
        max_open_tenants = config.max_open_tenants,
        tenant_idle_timeout_ms = config.tenant_idle_timeout.as_millis() as u64,
        headers_timeout_ms = config.connections.headers_timeout.as_millis() as u64,
        keep_alive_timeout_ms = config.connections.keep_alive_timeout.as_millis() as u64,
        max_connections = config.connections.max_connections,
        mongodb = ?config.mongodb,
        redis = ?config.redis,
        "configuration"
    );
}

async fn record_versions_when_the_store_answers(registry: Registry) {
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        match registry.record_schema_versions().await {
            Ok(_) => {
                tracing::info!("schema versions recorded");
                return;
            }
            Err(RegistryError::Store(StoreError::Unavailable(_))) => continue,
            Err(error) => {
                tracing::error!(%error, "cannot record schema versions in the control database");
                return;
            }
        }
    }
}

/// MongoDB when MONGODB_URI is set, else the embedded SQLite store under DATA_DIR. MongoDB
/// being down at start-up is no error: health says so until it answers.
async fn open_backend(config: &Config) -> anyhow::Result<Arc<dyn Backend>> {
    let Some(uri) = &config.mongodb.uri else {
        let backend = SqliteBackend::open(SqliteConfig {
            data_dir: config.data_dir.clone(),
            pool_size: config.sqlite_pool_size,
            busy_timeout: config.sqlite_busy_timeout,
        })
        .await
        .with_context(|| {
            format!(
                "DATA_DIR={}: cannot open the embedded store",
                config.data_dir.display()
            )
        })?;
        return Ok(Arc::new(backend));
    };
    let settings = &config.mongodb;
    let backend = MongoBackend::connect(MongoConfig {
        uri: uri.clone(),
        pool_size: u32::try_from(settings.pool_size).unwrap_or(u32::MAX),
        username: settings.username.clone(),
        password: settings.password.clone(),
        timeout: settings.timeout,
        control_database: settings.control_database.clone(),
    })
    .await
    .context("MONGODB_URI: cannot build the MongoDB client")?;
    match backend.ping().await {
        Ok(()) => tracing::info!("MongoDB answers"),
        Err(e) => {
            tracing::warn!(error = %e, "MongoDB does not answer yet; serving 503s until it does")
        }
    }
    Ok(Arc::new(backend))
}

/// API keys: enforced with an admin key; without one (development only: config refuses
/// production) every route is open, and start-up says so loudly.
fn start_access_control(config: &Config, backend: Arc<dyn Backend>) -> AccessControl {
    let access = AccessControl::new(
        backend,
        AccessConfig {
            admin_key: config.admin_api_key.as_ref().map(|k| k.expose().to_owned()),
            cache_ttl: config.api_key_cache_ttl,
            ..AccessConfig::default()
        },
    );
    if access.is_enforced() {
        tracing::info!(
            key_cache_ttl_ms = config.api_key_cache_ttl.as_millis() as u64,
            "authentication enabled: admin routes need ADMIN_API_KEY, tenant routes a key of their tenant"
        );
    } else {
        tracing::warn!(
            "AUTHENTICATION IS DISABLED: ADMIN_API_KEY is not set, so every route (cache \
             invalidation, connection close, reload, key management, every tenant's data) is \
             open to anyone who can reach this port, and tenant keys are not checked. Set \
             ADMIN_API_KEY (NODE_ENV=production refuses to start without it)."
        );
    }
    access
}

/// The Redis tier when REDIS_HOST or REDIS_URL is set. Redis being down at start-up is no
/// error: the service starts degraded and the tier connects when Redis answers.
fn start_shared_tier(
    config: &Config,
) -> anyhow::Result<Option<(Arc<RedisTier>, mpsc::UnboundedReceiver<BackplaneEvent>)>> {
    let Some(url) = config.redis.url() else {
        return Ok(None);
    };
    let tier_config = RedisTierConfig {
        url,
        key_prefix: config.redis.key_prefix.clone(),
        l2_ttl: config.l2_cache_ttl,
        op_timeout: config.redis.op_timeout,
        lock_ttl: config.fleet_lock_ttl,
        breaker_threshold: 3,
        probe_interval: Duration::from_millis(250),
    };
    let instance = instance_id();
    tracing::info!(instance = %instance, prefix = %config.redis.key_prefix, "shared tier (L2, fleet lock, backplane) on Redis");
    RedisTier::start(tier_config, instance)
        .map(Some)
        .map_err(anyhow::Error::msg)
}

/// Unique per process: host-independent, so pid + start time + a little entropy.
fn instance_id() -> String {
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{:x}-{:x}", std::process::id(), started)
}

/// Applies the other instances' invalidations as they arrive.
async fn apply_backplane(registry: Registry, mut events: mpsc::UnboundedReceiver<BackplaneEvent>) {
    while let Some(event) = events.recv().await {
        registry.apply_backplane(event).await;
    }
}

/// Closes tenant stores unused for longer than TENANT_IDLE_TIMEOUT_MS, every
/// TENANT_IDLE_CHECK_INTERVAL_MS.
async fn sweep_idle_tenants(registry: Registry, config: Config) {
    let mut ticks = tokio::time::interval(config.tenant_idle_check_interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let closed = registry.close_idle(config.tenant_idle_timeout).await;
        if !closed.is_empty() {
            tracing::info!(closed = closed.len(), "idle tenant sweep");
            // What the closed stores held stays resident until it is handed back.
            let _ = tokio::task::spawn_blocking(crate::memory::release_freed).await;
        }
    }
}

/// Deletes documents past their TTL index's expiry, every TTL_SWEEP_INTERVAL_MS.
async fn sweep_expired_documents(registry: Registry, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        registry.expire_documents().await;
    }
}

/// `kill -HUP`: reload the model files; broken files are logged and change nothing.
async fn reload_on_sighup(registry: Registry) {
    let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
    else {
        tracing::error!(
            "cannot install the SIGHUP handler; reload with POST /api/models/schemas/reload"
        );
        return;
    };
    while hangups.recv().await.is_some() {
        tracing::info!("SIGHUP: reloading model files");
        if let Err(e) = registry.reload().await {
            let details = match &e {
                dmr_registry::RegistryError::ModelFiles(errors) => errors.join("; "),
                other => other.to_string(),
            };
            tracing::error!(error = %e, details = %details, "model reload failed");
        }
    }
}

/// SIGTERM (orchestrators) and SIGINT (Ctrl-C), caught from the moment they are installed.
struct ShutdownSignals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    /// The first of them to arrive.
    async fn received(mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}
