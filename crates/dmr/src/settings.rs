//! The table of every setting: the seed's variables with the seed's names, defaults and
//! units, then ours. The CLI flags, the `.env.example` test and the README table all come
//! from (or are checked against) this one list.

pub struct Setting {
    /// Environment / `.env` name.
    pub name: &'static str,
    /// `dmr serve --<flag>`.
    pub flag: &'static str,
    pub default: Option<&'static str>,
    pub help: &'static str,
}

const fn s(
    name: &'static str,
    flag: &'static str,
    default: Option<&'static str>,
    help: &'static str,
) -> Setting {
    Setting {
        name,
        flag,
        default,
        help,
    }
}

pub const SETTINGS: &[Setting] = &[
    s(
        "NODE_ENV",
        "node-env",
        Some("development"),
        "Environment name; `production` switches logs to JSON",
    ),
    s("HOST", "host", Some("0.0.0.0"), "Address to listen on"),
    s(
        "PORT",
        "port",
        Some("3000"),
        "TCP port to listen on (0 = any free port)",
    ),
    s(
        "MONGODB_URI",
        "mongodb-uri",
        None,
        "MongoDB connection string; unset = embedded SQLite store",
    ),
    s(
        "MONGODB_POOL_SIZE",
        "mongodb-pool-size",
        Some("10"),
        "MongoDB connection pool size",
    ),
    s(
        "MONGODB_USERNAME",
        "mongodb-username",
        None,
        "MongoDB user (overrides the URI's)",
    ),
    s(
        "MONGODB_PASSWORD",
        "mongodb-password",
        None,
        "MongoDB password",
    ),
    s(
        "MONGODB_TIMEOUT_MS",
        "mongodb-timeout-ms",
        Some("5000"),
        "How long a MongoDB operation waits for a usable server, milliseconds (the URI's serverSelectionTimeoutMS wins)",
    ),
    s(
        "MONGODB_CONTROL_DATABASE",
        "mongodb-control-database",
        Some("dmr_control"),
        "MongoDB database of the registry's own records (tenants, schema versions, API keys)",
    ),
    s(
        "REDIS_HOST",
        "redis-host",
        None,
        "Redis host for the L2 cache; unset = no L2",
    ),
    s("REDIS_PORT", "redis-port", Some("6379"), "Redis port"),
    s("REDIS_PASSWORD", "redis-password", None, "Redis password"),
    s("REDIS_DB", "redis-db", Some("0"), "Redis database number"),
    s(
        "REDIS_URL",
        "redis-url",
        None,
        "Redis URL (redis:// or rediss://), instead of REDIS_HOST/PORT",
    ),
    s(
        "REDIS_KEY_PREFIX",
        "redis-key-prefix",
        Some("dmr"),
        "Prefix of every Redis key and channel this registry uses",
    ),
    s(
        "REDIS_OP_TIMEOUT_MS",
        "redis-op-timeout-ms",
        Some("200"),
        "Bound on each Redis call, milliseconds; past it the request carries on without Redis",
    ),
    s(
        "FLEET_LOCK_TTL_MS",
        "fleet-lock-ttl-ms",
        Some("10000"),
        "Fleet-wide compile lock lifetime (and the longest wait for another instance's compile), milliseconds",
    ),
    s(
        "FAIL_SAFE_GRACE_MS",
        "fail-safe-grace-ms",
        Some("300000"),
        "How long past L1_CACHE_TTL the last good compiled model serves when the store is unreachable, milliseconds",
    ),
    s(
        "L1_CACHE_MAX_SIZE",
        "l1-cache-max-size",
        Some("500"),
        "L1 cache capacity, in compiled models",
    ),
    s(
        "L1_CACHE_TTL",
        "l1-cache-ttl",
        Some("300000"),
        "L1 entry lifetime, milliseconds",
    ),
    s(
        "L2_CACHE_TTL",
        "l2-cache-ttl",
        Some("1800000"),
        "L2 entry lifetime, milliseconds",
    ),
    s(
        "RATE_LIMIT_WINDOW_MS",
        "rate-limit-window-ms",
        Some("900000"),
        "Rate-limit window, milliseconds",
    ),
    s(
        "RATE_LIMIT_MAX_REQUESTS",
        "rate-limit-max-requests",
        Some("100"),
        "Requests per client per window on /api/ (429 beyond)",
    ),
    s(
        "TENANT_RATE_LIMIT_MAX_REQUESTS",
        "tenant-rate-limit-max-requests",
        Some("10000"),
        "Requests per tenant per window, all clients together (0 = no limit)",
    ),
    s(
        "TENANT_MAX_CONCURRENCY",
        "tenant-max-concurrency",
        Some("64"),
        "Requests in flight per tenant on this instance; 503 beyond (0 = no limit)",
    ),
    s(
        "TRUSTED_PROXIES",
        "trusted-proxies",
        None,
        "Comma-separated IPs/CIDRs of proxies whose X-Forwarded-For is believed; unset = none",
    ),
    s(
        "CORS_ORIGINS",
        "cors-origins",
        Some("*"),
        "* (any origin, no credentials) or comma-separated origins (echoed, with credentials)",
    ),
    s(
        "LOG_LEVEL",
        "log-level",
        Some("info"),
        "error, warn, info, http, verbose, debug, silly (or trace)",
    ),
    s(
        "LOG_DIR",
        "log-dir",
        Some("logs"),
        "Directory for error.log and combined.log",
    ),
    s(
        "DATA_DIR",
        "data-dir",
        Some("./data"),
        "Directory of the embedded store's SQLite files",
    ),
    s(
        "MODELS_DIR",
        "models-dir",
        Some("./models"),
        "Directory of model files (*.json)",
    ),
    s(
        "TENANT_IDLE_TIMEOUT_MS",
        "tenant-idle-timeout-ms",
        Some("1800000"),
        "Close a tenant's store after this long unused, milliseconds",
    ),
    s(
        "TENANT_IDLE_CHECK_INTERVAL_MS",
        "tenant-idle-check-interval-ms",
        Some("300000"),
        "How often idle tenant stores are looked for, milliseconds",
    ),
    s(
        "MAX_OPEN_TENANTS",
        "max-open-tenants",
        Some("1000"),
        "Most tenant stores open at once; the least recently used closes beyond it",
    ),
    s(
        "SQLITE_POOL_SIZE",
        "sqlite-pool-size",
        Some("4"),
        "Connections per tenant SQLite file",
    ),
    s(
        "SQLITE_BUSY_TIMEOUT_MS",
        "sqlite-busy-timeout-ms",
        Some("5000"),
        "How long a SQLite statement waits for a lock, milliseconds",
    ),
    s(
        "SHUTDOWN_TIMEOUT_MS",
        "shutdown-timeout-ms",
        Some("30000"),
        "How long SIGTERM waits for in-flight requests, milliseconds",
    ),
    s(
        "TTL_SWEEP_INTERVAL_MS",
        "ttl-sweep-interval-ms",
        Some("60000"),
        "How often documents past a TTL index's expiry are deleted on the embedded store, milliseconds",
    ),
    s(
        "REQUEST_TIMEOUT_MS",
        "request-timeout-ms",
        Some("30000"),
        "Longest a request may take before a 408, milliseconds",
    ),
    s(
        "HEADERS_TIMEOUT_MS",
        "headers-timeout-ms",
        Some("60000"),
        "How long a connection may take to send a request head (from connecting, or from the previous response), milliseconds; 0 = no deadline (Node's headersTimeout)",
    ),
    s(
        "KEEP_ALIVE_TIMEOUT_MS",
        "keep-alive-timeout-ms",
        Some("5000"),
        "How long a connection may stay open with no byte moving and no request being answered, milliseconds (closed within 1.5x of it); 0 = never (Node's keepAliveTimeout)",
    ),
    s(
        "MAX_CONNECTIONS",
        "max-connections",
        Some("4096"),
        "Connections open at once; past it new ones wait in the listen backlog until one closes",
    ),
    s(
        "MAX_PAGE_SIZE",
        "max-page-size",
        Some("1000"),
        "Most documents one list (or bulk insert) may return (or take)",
    ),
    s(
        "DEFAULT_PAGE_SIZE",
        "default-page-size",
        Some("100"),
        "Documents a list returns when it names no limit",
    ),
    s(
        "MAX_FILTER_DEPTH",
        "max-filter-depth",
        Some("10"),
        "Deepest nesting of a filter or update",
    ),
    s(
        "MAX_FILTER_NODES",
        "max-filter-nodes",
        Some("1000"),
        "Most conditions and values in one filter or update",
    ),
    s(
        "BODY_LIMIT_BYTES",
        "body-limit-bytes",
        Some("10485760"),
        "Largest request body, bytes (the seed's 10mb)",
    ),
    s(
        "ADMIN_API_KEY",
        "admin-api-key",
        None,
        "Admin API key, at least 32 characters (prefer the environment to this flag); required with NODE_ENV=production; unset = authentication off (development only)",
    ),
    s(
        "API_KEY_CACHE_TTL_MS",
        "api-key-cache-ttl-ms",
        Some("30000"),
        "How long an instance trusts a verified tenant key without asking the store (the longest a revoked key keeps working on other instances), milliseconds",
    ),
    s(
        "METRICS_ENABLED",
        "metrics-enabled",
        Some("true"),
        "Serve Prometheus metrics at GET /metrics (true or false)",
    ),
    s(
        "METRICS_PORT",
        "metrics-port",
        None,
        "Serve /metrics on this port of its own, without authentication (and not on PORT); unset = on PORT, protected like the stats",
    ),
    s(
        "METRICS_HOST",
        "metrics-host",
        Some("127.0.0.1"),
        "Address METRICS_PORT listens on (keep it private: that listener has no authentication)",
    ),
    s(
        "MAX_JSON_DEPTH",
        "max-json-depth",
        Some("64"),
        "Deepest nesting of arrays and objects in a JSON body or query parameter (1-127)",
    ),
];
