//! One typed configuration, merged from defaults < `.env` < environment < CLI flags and
//! validated in one pass: every bad value is reported, each naming its variable and the
//! form it accepts.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use dmr_http::{CorsOrigins, EdgeConfig, MAX_JSON_DEPTH_LIMIT, MAX_RATE_LIMIT, TrustedProxies};

use crate::settings::SETTINGS;

#[derive(Debug, Clone)]
pub struct Config {
    pub node_env: String,
    pub host: IpAddr,
    pub port: u16,
    pub mongodb: MongoSettings,
    pub redis: RedisSettings,
    pub l1_cache_max_size: u64,
    pub l1_cache_ttl: Duration,
    pub l2_cache_ttl: Duration,
    pub fleet_lock_ttl: Duration,
    pub fail_safe_grace: Duration,
    /// Rate limits, trusted proxies, CORS, JSON depth, tenant concurrency: what the HTTP
    /// edge is built from, as it takes it.
    pub edge: EdgeConfig,
    pub log_level: LogLevel,
    pub log_dir: PathBuf,
    pub data_dir: PathBuf,
    pub models_dir: PathBuf,
    pub tenant_idle_timeout: Duration,
    pub tenant_idle_check_interval: Duration,
    pub max_open_tenants: usize,
    pub sqlite_pool_size: usize,
    pub sqlite_busy_timeout: Duration,
    pub shutdown_timeout: Duration,
    pub body_limit: usize,
    pub request_timeout: Duration,
    /// Header deadline, keep-alive timeout, open-connection bound: the accept loop's.
    pub connections: dmr_http::ConnectionLimits,
    pub ttl_sweep_interval: Duration,
    pub max_page_size: u64,
    pub default_page_size: u64,
    pub max_filter_depth: usize,
    pub max_filter_nodes: usize,
    /// `None`: authentication off (refused when NODE_ENV=production).
    pub admin_api_key: Option<Secret>,
    pub api_key_cache_ttl: Duration,
    pub metrics: MetricsSettings,
}

/// Where `/metrics` is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricsSettings {
    Off,
    /// On the API's port, behind the admin key like the stats.
    OnApiPort,
    /// On a listener of its own, unauthenticated.
    Separate(SocketAddr),
}

/// Shortest admin key accepted.
pub const MIN_ADMIN_KEY_LEN: usize = 32;

/// A secret setting: its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<set>")
    }
}

#[derive(Clone)]
pub struct MongoSettings {
    pub uri: Option<String>,
    pub pool_size: u64,
    pub username: Option<String>,
    pub password: Option<String>,
    pub timeout: Duration,
    pub control_database: String,
}

#[derive(Clone)]
pub struct RedisSettings {
    pub host: Option<String>,
    pub port: u16,
    pub password: Option<String>,
    pub db: u64,
    pub url: Option<String>,
    pub key_prefix: String,
    pub op_timeout: Duration,
}

// Credentials never reach a log line, even through `{:?}`.
impl std::fmt::Debug for MongoSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoSettings")
            .field("uri", &self.uri.as_ref().map(|_| "<set>"))
            .field("pool_size", &self.pool_size)
            .field("username", &self.username.as_ref().map(|_| "<set>"))
            .field("password", &self.password.as_ref().map(|_| "<set>"))
            .field("timeout_ms", &self.timeout.as_millis())
            .field("control_database", &self.control_database)
            .finish()
    }
}

impl std::fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("db", &self.db)
            .field("password", &self.password.as_ref().map(|_| "<set>"))
            .field("url", &self.url.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl RedisSettings {
    /// REDIS_URL as given, or one built from REDIS_HOST/PORT/PASSWORD/DB.
    pub fn url(&self) -> Option<String> {
        if let Some(url) = &self.url {
            return Some(url.clone());
        }
        let host = self.host.as_ref()?;
        let auth = self
            .password
            .as_ref()
            .map(|p| format!(":{}@", percent_encode(p)))
            .unwrap_or_default();
        Some(format!("redis://{auth}{host}:{}/{}", self.port, self.db))
    }
}

/// Percent-encodes everything but unreserved characters, for a password inside a URL.
fn percent_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The seed's winston levels, mapped onto tracing's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub fn as_filter(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Debug => "debug",
            Self::Trace => "trace",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}={value:?} is invalid: expected {expected}")]
pub struct ConfigError {
    pub name: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// Every invalid setting, one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration:\n  {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
pub struct ConfigErrors(pub Vec<ConfigError>);

/// Merges the sources, lowest precedence first. Empty values count as unset, as `X || default`
/// does in the Node registry, so a `.env` line like `REDIS_PASSWORD=` means "none".
pub fn merge_sources(
    dotenv: &[(String, String)],
    environment: &HashMap<String, String>,
    cli: &[(&'static str, String)],
) -> HashMap<&'static str, String> {
    let mut merged = HashMap::new();
    for setting in SETTINGS {
        if let Some(default) = setting.default {
            merged.insert(setting.name, default.to_owned());
        }
        let from_file = dotenv
            .iter()
            .rev()
            .find(|(k, _)| k == setting.name)
            .map(|(_, v)| v);
        let layers = [from_file, environment.get(setting.name)];
        for value in layers.into_iter().flatten() {
            apply(&mut merged, setting.name, value);
        }
        if let Some((_, value)) = cli.iter().rev().find(|(k, _)| *k == setting.name) {
            apply(&mut merged, setting.name, value);
        }
    }
    merged
}

fn apply(merged: &mut HashMap<&'static str, String>, name: &'static str, value: &str) {
    let value = value.trim();
    if value.is_empty() {
        if let Some(default) = SETTINGS
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.default)
        {
            merged.insert(name, default.to_owned());
        } else {
            merged.remove(name);
        }
    } else {
        merged.insert(name, value.to_owned());
    }
}

/// Reads a `.env` file; a missing file is no error (it is optional, as with dotenv).
pub fn read_dotenv(path: &Path) -> Result<Vec<(String, String)>, String> {
    match dotenvy::from_path_iter(path) {
        Ok(iter) => iter
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.not_found() => Ok(Vec::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Collects typed values and every error on the way.
struct Reader<'a> {
    vars: &'a HashMap<&'static str, String>,
    errors: Vec<ConfigError>,
}

impl Reader<'_> {
    fn raw(&self, name: &'static str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    fn parse<T>(
        &mut self,
        name: &'static str,
        expected: &'static str,
        parse: impl Fn(&str) -> Option<T>,
        fallback: T,
    ) -> T {
        let raw = self.raw(name).unwrap_or_default().to_owned();
        match parse(&raw) {
            Some(value) => value,
            None => {
                self.errors.push(ConfigError {
                    name,
                    value: raw,
                    expected,
                });
                fallback
            }
        }
    }

    fn count(&mut self, name: &'static str, min: u64, expected: &'static str) -> u64 {
        self.parse(
            name,
            expected,
            |v| v.parse::<u64>().ok().filter(|n| *n >= min),
            min,
        )
    }

    /// A whole number in `min..=max`.
    fn ranged(&mut self, name: &'static str, min: u32, max: u32, expected: &'static str) -> u32 {
        self.parse(
            name,
            expected,
            |v| v.parse::<u32>().ok().filter(|n| (min..=max).contains(n)),
            min,
        )
    }

    fn millis(&mut self, name: &'static str) -> Duration {
        let n = self.count(
            name,
            1,
            "a whole number of milliseconds, at least 1 (e.g. 300000)",
        );
        Duration::from_millis(n)
    }

    fn optional(&self, name: &'static str) -> Option<String> {
        self.raw(name).map(str::to_owned)
    }

    fn path(&self, name: &'static str) -> PathBuf {
        PathBuf::from(self.raw(name).unwrap_or("."))
    }
}

impl Config {
    pub fn from_vars(vars: &HashMap<&'static str, String>) -> Result<Self, ConfigErrors> {
        let mut r = Reader {
            vars,
            errors: Vec::new(),
        };
        let config = Config {
            node_env: r.raw("NODE_ENV").unwrap_or("development").to_owned(),
            host: r.parse(
                "HOST",
                "an IP address such as 0.0.0.0, 127.0.0.1 or ::",
                |v| v.parse().ok(),
                IpAddr::from([0, 0, 0, 0]),
            ),
            port: r.parse("PORT", "a TCP port number 0-65535", |v| v.parse().ok(), 0),
            mongodb: MongoSettings {
                uri: r.optional("MONGODB_URI"),
                pool_size: r.count(
                    "MONGODB_POOL_SIZE",
                    1,
                    "a whole number of connections, at least 1",
                ),
                username: r.optional("MONGODB_USERNAME"),
                password: r.optional("MONGODB_PASSWORD"),
                timeout: r.millis("MONGODB_TIMEOUT_MS"),
                control_database: r.parse(
                    "MONGODB_CONTROL_DATABASE",
                    "a MongoDB database name: 1-63 characters, none of /\\. \"$",
                    |v| {
                        let valid = !v.is_empty()
                            && v.len() < 64
                            && !v.contains(['/', '\\', '.', ' ', '"', '$']);
                        valid.then(|| v.to_owned())
                    },
                    String::new(),
                ),
            },
            redis: RedisSettings {
                host: r.optional("REDIS_HOST"),
                port: r.parse(
                    "REDIS_PORT",
                    "a TCP port number 1-65535",
                    |v| v.parse().ok().filter(|p| *p > 0),
                    6379,
                ),
                password: r.optional("REDIS_PASSWORD"),
                db: r.count("REDIS_DB", 0, "a database number, 0 or more"),
                url: r.optional("REDIS_URL"),
                key_prefix: r.parse(
                    "REDIS_KEY_PREFIX",
                    "1-64 characters of letters, digits, '_', '-', '.' or ':'",
                    |v| {
                        (v.len() <= 64
                            && !v.is_empty()
                            && v.bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b)))
                        .then(|| v.to_owned())
                    },
                    String::new(),
                ),
                op_timeout: r.millis("REDIS_OP_TIMEOUT_MS"),
            },
            l1_cache_max_size: r.count(
                "L1_CACHE_MAX_SIZE",
                0,
                "a whole number of entries, 0 or more",
            ),
            l1_cache_ttl: r.millis("L1_CACHE_TTL"),
            l2_cache_ttl: r.millis("L2_CACHE_TTL"),
            fleet_lock_ttl: r.millis("FLEET_LOCK_TTL_MS"),
            fail_safe_grace: r.parse(
                "FAIL_SAFE_GRACE_MS",
                "a whole number of milliseconds, 0 or more (0 turns fail-safe off)",
                |v| v.parse().ok().map(Duration::from_millis),
                Duration::ZERO,
            ),
            edge: EdgeConfig {
                rate_limit_window: r.millis("RATE_LIMIT_WINDOW_MS"),
                rate_limit_max_requests: r.ranged(
                    "RATE_LIMIT_MAX_REQUESTS",
                    1,
                    MAX_RATE_LIMIT,
                    "a whole number of requests, 1-16777214",
                ),
                tenant_rate_limit_max_requests: r.ranged(
                    "TENANT_RATE_LIMIT_MAX_REQUESTS",
                    0,
                    MAX_RATE_LIMIT,
                    "a whole number of requests, 0-16777214 (0 turns the tenant limit off)",
                ),
                tenant_max_concurrency: r.ranged(
                    "TENANT_MAX_CONCURRENCY",
                    0,
                    u32::MAX,
                    "a whole number of requests, 0 or more (0 turns the limit off)",
                ),
                trusted_proxies: r.parse(
                    "TRUSTED_PROXIES",
                    "comma-separated IP addresses or CIDRs, e.g. 10.0.0.0/8,127.0.0.1,fd00::/8",
                    |v| TrustedProxies::parse(v).ok(),
                    TrustedProxies::default(),
                ),
                cors_origins: r.parse(
                    "CORS_ORIGINS",
                    "* or comma-separated origins (scheme://host[:port]), e.g. https://app.example.com",
                    |v| CorsOrigins::parse(v).ok(),
                    CorsOrigins::Any,
                ),
                max_json_depth: r.ranged(
                    "MAX_JSON_DEPTH",
                    1,
                    MAX_JSON_DEPTH_LIMIT,
                    "a whole number of levels, 1-127",
                ),
            },
            log_level: r.parse(
                "LOG_LEVEL",
                "one of error, warn, info, http, verbose, debug, silly, trace",
                |v| match v.to_ascii_lowercase().as_str() {
                    "error" => Some(LogLevel::Error),
                    "warn" => Some(LogLevel::Warn),
                    "info" => Some(LogLevel::Info),
                    "http" | "verbose" | "debug" => Some(LogLevel::Debug),
                    "silly" | "trace" => Some(LogLevel::Trace),
                    _ => None,
                },
                LogLevel::Info,
            ),
            log_dir: r.path("LOG_DIR"),
            data_dir: r.path("DATA_DIR"),
            models_dir: r.path("MODELS_DIR"),
            tenant_idle_timeout: r.millis("TENANT_IDLE_TIMEOUT_MS"),
            tenant_idle_check_interval: r.millis("TENANT_IDLE_CHECK_INTERVAL_MS"),
            max_open_tenants: r.count(
                "MAX_OPEN_TENANTS",
                1,
                "a whole number of tenants, at least 1",
            ) as usize,
            sqlite_pool_size: r.parse(
                "SQLITE_POOL_SIZE",
                "a whole number of connections, 1-64",
                |v| v.parse().ok().filter(|n| (1..=64).contains(n)),
                1,
            ),
            sqlite_busy_timeout: r.millis("SQLITE_BUSY_TIMEOUT_MS"),
            shutdown_timeout: r.millis("SHUTDOWN_TIMEOUT_MS"),
            body_limit: r.count(
                "BODY_LIMIT_BYTES",
                1,
                "a whole number of bytes, at least 1 (e.g. 10485760)",
            ) as usize,
            request_timeout: r.millis("REQUEST_TIMEOUT_MS"),
            connections: dmr_http::ConnectionLimits {
                headers_timeout: Duration::from_millis(r.count(
                    "HEADERS_TIMEOUT_MS",
                    0,
                    "a whole number of milliseconds (0 = no deadline)",
                )),
                keep_alive_timeout: Duration::from_millis(r.count(
                    "KEEP_ALIVE_TIMEOUT_MS",
                    0,
                    "a whole number of milliseconds (0 = never close an idle connection)",
                )),
                max_connections: r.count(
                    "MAX_CONNECTIONS",
                    1,
                    "a whole number of connections, at least 1",
                ) as usize,
            },
            ttl_sweep_interval: r.millis("TTL_SWEEP_INTERVAL_MS"),
            max_page_size: r.count(
                "MAX_PAGE_SIZE",
                1,
                "a whole number of documents, at least 1",
            ),
            default_page_size: r.count(
                "DEFAULT_PAGE_SIZE",
                1,
                "a whole number of documents, at least 1",
            ),
            max_filter_depth: r.count("MAX_FILTER_DEPTH", 1, "a whole number, at least 1") as usize,
            max_filter_nodes: r.count("MAX_FILTER_NODES", 1, "a whole number, at least 1") as usize,
            admin_api_key: r.optional("ADMIN_API_KEY").map(Secret),
            api_key_cache_ttl: r.millis("API_KEY_CACHE_TTL_MS"),
            metrics: {
                let enabled = r.parse(
                    "METRICS_ENABLED",
                    "true or false",
                    |v| match v.to_ascii_lowercase().as_str() {
                        "true" | "1" | "yes" => Some(true),
                        "false" | "0" | "no" => Some(false),
                        _ => None,
                    },
                    true,
                );
                let host = r.parse(
                    "METRICS_HOST",
                    "an IP address such as 127.0.0.1",
                    |v| v.parse::<IpAddr>().ok(),
                    IpAddr::from([127, 0, 0, 1]),
                );
                let port = r
                    .optional("METRICS_PORT")
                    .map(|_| r.parse("METRICS_PORT", "a TCP port number 1-65535", |v| v.parse::<u16>().ok().filter(|p| *p > 0), 0));
                match (enabled, port) {
                    (false, _) => MetricsSettings::Off,
                    (true, None) => MetricsSettings::OnApiPort,
                    (true, Some(port)) => MetricsSettings::Separate(SocketAddr::new(host, port)),
                }
            },
        };
        if config.default_page_size > config.max_page_size {
            r.errors.push(ConfigError {
                name: "DEFAULT_PAGE_SIZE",
                value: config.default_page_size.to_string(),
                expected: "a number no larger than MAX_PAGE_SIZE",
            });
        }
        if let Some(url) = &config.redis.url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            r.errors.push(ConfigError {
                name: "REDIS_URL",
                value: url.clone(),
                expected: "a URL starting with redis:// or rediss://",
            });
        }
        if let Some(uri) = &config.mongodb.uri
            && !(uri.starts_with("mongodb://") || uri.starts_with("mongodb+srv://"))
        {
            r.errors.push(ConfigError {
                name: "MONGODB_URI",
                value: "<redacted>".to_owned(),
                expected: "a connection string starting with mongodb:// or mongodb+srv://",
            });
        }
        r.errors.extend(config.admin_key_error());
        if r.errors.is_empty() {
            Ok(config)
        } else {
            Err(ConfigErrors(r.errors))
        }
    }

    pub fn is_production(&self) -> bool {
        self.node_env == "production"
    }

    /// Production needs an admin key; any admin key must be long and header-safe. The
    /// value is never echoed.
    fn admin_key_error(&self) -> Option<ConfigError> {
        let error = |value: &str, expected| ConfigError {
            name: "ADMIN_API_KEY",
            value: value.to_owned(),
            expected,
        };
        match &self.admin_api_key {
            None if self.is_production() => Some(error(
                "<unset>",
                "an admin key of at least 32 characters: NODE_ENV=production does not start without ADMIN_API_KEY",
            )),
            None => None,
            Some(key) => {
                let key = key.expose();
                let usable =
                    key.len() >= MIN_ADMIN_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic());
                (!usable).then(|| {
                    error(
                        "<redacted>",
                        "at least 32 printable ASCII characters without spaces (e.g. the output of `openssl rand -base64 32`)",
                    )
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_are_the_seeds() {
        let config = Config::from_vars(&merge_sources(&[], &HashMap::new(), &[])).unwrap();
        assert_eq!(config.port, 3000);
        assert_eq!(config.mongodb.pool_size, 10);
        assert_eq!(config.redis.port, 6379);
        assert_eq!(config.l1_cache_max_size, 500);
        assert_eq!(config.l1_cache_ttl, Duration::from_millis(300_000));
        assert_eq!(config.l2_cache_ttl, Duration::from_millis(1_800_000));
        assert_eq!(
            config.edge.rate_limit_window,
            Duration::from_millis(900_000)
        );
        assert_eq!(config.edge.rate_limit_max_requests, 100);
        assert_eq!(config.log_level, LogLevel::Info);
        assert_eq!(config.log_dir, PathBuf::from("logs"));
        assert_eq!(config.tenant_idle_timeout, Duration::from_secs(30 * 60));
        assert_eq!(
            config.tenant_idle_check_interval,
            Duration::from_secs(5 * 60)
        );
        assert_eq!(config.body_limit, 10 * 1024 * 1024);
        assert_eq!(config.redis.url(), None);
        // The seed's `cors()` and no proxy trusted (the seed's `trust proxy` was the hole).
        assert_eq!(config.edge.cors_origins, CorsOrigins::Any);
        assert!(config.edge.trusted_proxies.is_empty());
    }

    #[test]
    fn edge_settings_parse() {
        let vars = merge_sources(
            &[],
            &env(&[
                ("TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
                (
                    "CORS_ORIGINS",
                    "https://app.example.com,http://localhost:8080",
                ),
                ("TENANT_RATE_LIMIT_MAX_REQUESTS", "0"),
                ("TENANT_MAX_CONCURRENCY", "0"),
                ("MAX_JSON_DEPTH", "127"),
                ("RATE_LIMIT_MAX_REQUESTS", "16777214"),
            ]),
            &[],
        );
        let config = Config::from_vars(&vars).unwrap();
        assert!(
            config
                .edge
                .trusted_proxies
                .contains("10.1.2.3".parse().unwrap())
        );
        assert!(config.edge.trusted_proxies.contains("::1".parse().unwrap()));
        assert_eq!(
            config.edge.cors_origins.to_string(),
            "https://app.example.com,http://localhost:8080"
        );
        assert_eq!(config.edge.tenant_rate_limit_max_requests, 0);
        assert_eq!(config.edge.tenant_max_concurrency, 0);
        assert_eq!(config.edge.max_json_depth, 127);
        assert_eq!(config.edge.rate_limit_max_requests, 16_777_214);
    }

    #[test]
    fn bad_edge_settings_are_named() {
        let vars = merge_sources(
            &[],
            &env(&[
                ("RATE_LIMIT_MAX_REQUESTS", "16777215"),
                ("TENANT_RATE_LIMIT_MAX_REQUESTS", "-1"),
                ("TRUSTED_PROXIES", "10.0.0.0/33"),
                ("CORS_ORIGINS", "*,https://app.example.com"),
                ("MAX_JSON_DEPTH", "128"),
            ]),
            &[],
        );
        let errors = Config::from_vars(&vars).unwrap_err();
        let names: Vec<&str> = errors.0.iter().map(|e| e.name).collect();
        assert_eq!(
            names,
            [
                "RATE_LIMIT_MAX_REQUESTS",
                "TENANT_RATE_LIMIT_MAX_REQUESTS",
                "TRUSTED_PROXIES",
                "CORS_ORIGINS",
                "MAX_JSON_DEPTH"
            ]
        );
        let text = errors.to_string();
        assert!(
            text.contains(
                "TRUSTED_PROXIES=\"10.0.0.0/33\" is invalid: expected comma-separated IP"
            ),
            "{text}"
        );
        for zero in ["RATE_LIMIT_MAX_REQUESTS", "MAX_JSON_DEPTH"] {
            let vars = merge_sources(&[], &env(&[(zero, "0")]), &[]);
            assert_eq!(Config::from_vars(&vars).unwrap_err().0[0].name, zero);
        }
    }

    #[test]
    fn redis_url_from_the_seed_variables() {
        let vars = merge_sources(
            &[],
            &env(&[
                ("REDIS_HOST", "cache.local"),
                ("REDIS_PASSWORD", "p@ss:w/rd"),
                ("REDIS_DB", "2"),
            ]),
            &[],
        );
        let config = Config::from_vars(&vars).unwrap();
        assert_eq!(
            config.redis.url().unwrap(),
            "redis://:p%40ss%3Aw%2Frd@cache.local:6379/2"
        );
        let vars = merge_sources(
            &[],
            &env(&[
                ("REDIS_URL", "rediss://h:6380/1"),
                ("REDIS_HOST", "ignored"),
            ]),
            &[],
        );
        assert_eq!(
            Config::from_vars(&vars).unwrap().redis.url().unwrap(),
            "rediss://h:6380/1"
        );
    }

    #[test]
    fn precedence_is_defaults_dotenv_environment_cli() {
        let dotenv = vec![
            ("PORT".to_owned(), "4000".to_owned()),
            ("L1_CACHE_MAX_SIZE".to_owned(), "7".to_owned()),
            ("REDIS_DB".to_owned(), "3".to_owned()),
        ];
        let environment = env(&[("PORT", "5000"), ("REDIS_DB", "4"), ("UNRELATED", "x")]);
        let cli = [("PORT", "6000".to_owned())];
        let config = Config::from_vars(&merge_sources(&dotenv, &environment, &cli)).unwrap();
        assert_eq!(config.port, 6000, "CLI beats environment");
        assert_eq!(config.redis.db, 4, "environment beats .env");
        assert_eq!(config.l1_cache_max_size, 7, ".env beats default");
    }

    #[test]
    fn empty_values_mean_unset() {
        let vars = merge_sources(&[], &env(&[("REDIS_PASSWORD", ""), ("PORT", " ")]), &[]);
        let config = Config::from_vars(&vars).unwrap();
        assert_eq!(config.redis.password, None);
        assert_eq!(config.port, 3000);
    }

    #[test]
    fn every_bad_value_is_reported_with_its_name_and_accepted_form() {
        let vars = merge_sources(
            &[],
            &env(&[
                ("PORT", "eighty"),
                ("L1_CACHE_TTL", "5m"),
                ("LOG_LEVEL", "loud"),
                ("REDIS_URL", "http://x"),
                ("SQLITE_POOL_SIZE", "0"),
            ]),
            &[],
        );
        let errors = Config::from_vars(&vars).unwrap_err();
        let names: Vec<&str> = errors.0.iter().map(|e| e.name).collect();
        assert_eq!(
            names,
            [
                "PORT",
                "L1_CACHE_TTL",
                "LOG_LEVEL",
                "SQLITE_POOL_SIZE",
                "REDIS_URL"
            ]
        );
        let text = errors.to_string();
        assert!(
            text.contains("PORT=\"eighty\" is invalid: expected a TCP port number"),
            "{text}"
        );
        assert!(
            text.contains(
                "L1_CACHE_TTL=\"5m\" is invalid: expected a whole number of milliseconds"
            ),
            "{text}"
        );
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let vars = merge_sources(
            &[],
            &env(&[
                ("MONGODB_URI", "mongodb://u:hunter2@h"),
                ("REDIS_PASSWORD", "hunter2"),
                ("ADMIN_API_KEY", "hunter2-hunter2-hunter2-hunter2-hunter2"),
            ]),
            &[],
        );
        let config = Config::from_vars(&vars).unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn production_needs_an_admin_key() {
        let errors = Config::from_vars(&merge_sources(
            &[],
            &env(&[("NODE_ENV", "production")]),
            &[],
        ))
        .unwrap_err();
        assert_eq!(errors.0.len(), 1);
        assert_eq!(errors.0[0].name, "ADMIN_API_KEY");
        assert!(
            errors
                .to_string()
                .contains("NODE_ENV=production does not start without ADMIN_API_KEY"),
            "{errors}"
        );

        let key = "k".repeat(32);
        let config = Config::from_vars(&merge_sources(
            &[],
            &env(&[("NODE_ENV", "production"), ("ADMIN_API_KEY", &key)]),
            &[],
        ))
        .unwrap();
        assert_eq!(config.admin_api_key.unwrap().expose(), key);

        let development = Config::from_vars(&merge_sources(&[], &HashMap::new(), &[])).unwrap();
        assert_eq!(development.admin_api_key, None, "development may run open");
    }

    #[test]
    fn a_short_or_unprintable_admin_key_is_refused_without_being_echoed() {
        for bad in [
            "short-secret-31-characters-long".to_owned(),
            format!("{} with spaces", "k".repeat(32)),
            format!("{}\u{e9}", "k".repeat(32)),
        ] {
            let errors = Config::from_vars(&merge_sources(
                &[],
                &env(&[("ADMIN_API_KEY", bad.as_str())]),
                &[],
            ))
            .unwrap_err();
            let text = errors.to_string();
            assert!(
                text.contains("ADMIN_API_KEY=\"<redacted>\" is invalid: expected at least 32"),
                "{text}"
            );
            assert!(!text.contains(&bad), "the key is echoed: {text}");
        }
    }
}

#[cfg(test)]
mod env_example {
    use super::*;

    const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.env.example");

    #[test]
    fn env_example_documents_every_setting_and_parses() {
        let text = std::fs::read_to_string(PATH).unwrap();
        for setting in SETTINGS {
            let documented = text.lines().any(|line| {
                let line = line.trim_start_matches('#').trim_start();
                line.starts_with(&format!("{}=", setting.name))
            });
            assert!(
                documented,
                ".env.example does not document {}",
                setting.name
            );
        }
        let dotenv = read_dotenv(Path::new(PATH)).unwrap();
        for (name, _) in &dotenv {
            assert!(
                SETTINGS.iter().any(|s| s.name == name),
                ".env.example sets {name}, which no setting reads"
            );
        }
        let config = Config::from_vars(&merge_sources(&dotenv, &HashMap::new(), &[])).unwrap();
        assert_eq!(config.port, 3000);
        assert!(
            config.mongodb.uri.is_none(),
            "the example must run on the embedded store"
        );
        assert_eq!(
            config.redis.url(),
            None,
            "the example must run without Redis"
        );
    }

    #[test]
    fn readme_configuration_table_names_every_setting() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
                .unwrap();
        for setting in SETTINGS {
            assert!(
                readme.contains(&format!("`{}`", setting.name)),
                "README.md does not document {}",
                setting.name
            );
        }
    }

    #[test]
    fn every_default_in_the_table_is_valid() {
        // Set each variable to its own default explicitly: the typed parse must accept it.
        let environment: HashMap<String, String> = SETTINGS
            .iter()
            .filter_map(|s| s.default.map(|d| (s.name.to_owned(), d.to_owned())))
            .collect();
        Config::from_vars(&merge_sources(&[], &environment, &[])).unwrap();
    }
}
