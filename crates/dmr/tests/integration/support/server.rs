//! Starts the real `dmr serve` binary and talks to it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::services::SecantusServer;

pub const REPO_MODELS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models");

/// The highest rate limit the server accepts.
const HIGH_LIMIT: &str = "16777214";

pub struct TestServer {
    child: Child,
    pub base: String,
    dir: Option<TempDir>,
    pub client: reqwest::Client,
    output: Arc<Mutex<String>>,
    /// The MongoDB server of a run against MongoDB (`DMR_TEST_BACKEND=mongodb`).
    _mongo: Option<SecantusServer>,
}

/// `DMR_TEST_BACKEND=mongodb` runs the HTTP suites against MongoDB: every server the
/// tests start gets a SecantusDB of its own (scripts/test.sh runs that pass after the
/// default one, on SQLite).
pub fn mongodb_run() -> bool {
    std::env::var("DMR_TEST_BACKEND").is_ok_and(|b| b == "mongodb")
}

#[derive(Default)]
pub struct Builder {
    env: Vec<(String, String)>,
    /// `RLIMIT_NOFILE` (soft, hard) the process starts with.
    open_file_limit: Option<(u64, u64)>,
}

impl Builder {
    pub fn env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.env.push((name.to_owned(), value.into()));
        self
    }

    /// Starts the process with this open-file limit, as a shell's `ulimit -n` would.
    pub fn open_file_limit(mut self, soft: u64, hard: u64) -> Self {
        self.open_file_limit = Some((soft, hard));
        self
    }

    pub async fn start(self) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        self.start_in(dir).await
    }

    /// Starts on an existing directory (a restart keeps DATA_DIR).
    pub async fn start_in(mut self, dir: TempDir) -> TestServer {
        let mut mongo = None;
        if mongodb_run() && !self.env.iter().any(|(k, _)| k == "MONGODB_URI") {
            let server = SecantusServer::start().await;
            self = self.env("MONGODB_URI", server.uri());
            mongo = Some(server);
        }
        let mut child = self.command(dir.path()).spawn().expect("spawning dmr");
        let output = Arc::new(Mutex::new(String::new()));
        let (address_tx, address_rx) = tokio::sync::oneshot::channel();
        collect_output(&mut child, Arc::clone(&output), address_tx);
        let address = tokio::time::timeout(Duration::from_secs(30), address_rx)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_else(|| {
                panic!(
                    "dmr did not start listening; its output:\n{}",
                    output.lock().unwrap()
                )
            });
        TestServer {
            child,
            base: format!("http://{address}"),
            dir: Some(dir),
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            output,
            _mongo: mongo,
        }
    }

    /// Runs the process until it exits (a start-up that must fail): its exit code and
    /// everything it printed.
    pub async fn failed_start(self) -> (Option<i32>, String) {
        let dir = tempfile::tempdir().unwrap();
        let output =
            tokio::time::timeout(Duration::from_secs(30), self.command(dir.path()).output())
                .await
                .expect("dmr should exit")
                .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.code(), text)
    }

    /// The process, not started: for tests of start-up failures.
    pub fn command(&self, dir: &Path) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_dmr"));
        command
            .arg("serve")
            .current_dir(dir)
            .env_clear()
            .env("NODE_ENV", "test")
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .env("DATA_DIR", dir.join("data"))
            .env("LOG_DIR", dir.join("logs"))
            .env("MODELS_DIR", REPO_MODELS)
            .env("LOG_LEVEL", "info")
            // The product's limits (100 requests per client per 15 minutes) would throttle
            // the suite: limits high enough never to be met, still enforced and counted.
            // Tests of the limits set their own.
            .env("RATE_LIMIT_MAX_REQUESTS", HIGH_LIMIT)
            .env("TENANT_RATE_LIMIT_MAX_REQUESTS", HIGH_LIMIT)
            .env("TENANT_MAX_CONCURRENCY", "100000")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some((soft, hard)) = self.open_file_limit {
            let limit = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            // SAFETY: between fork and exec only setrlimit runs, which is
            // async-signal-safe and touches no memory of the parent's.
            unsafe {
                command.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        command
    }
}

/// Copies stdout and stderr into `output`, and sends the address from the
/// "listening on http://ADDR" line.
fn collect_output(
    child: &mut Child,
    output: Arc<Mutex<String>>,
    address: tokio::sync::oneshot::Sender<String>,
) {
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out = Arc::clone(&output);
    tokio::spawn(async move {
        let mut address = Some(address);
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.split("listening on http://").nth(1)
                && let Some(tx) = address.take()
            {
                // Ends at a space, or at the closing quote of a JSON log line
                // (NODE_ENV=production).
                let _ = tx.send(
                    rest.split(|c: char| c.is_whitespace() || c == '"')
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
            out.lock().unwrap().push_str(&line);
            out.lock().unwrap().push('\n');
        }
    });
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            output.lock().unwrap().push_str(&line);
            output.lock().unwrap().push('\n');
        }
    });
}

impl TestServer {
    pub fn builder() -> Builder {
        Builder::default()
    }

    pub async fn start() -> Self {
        Builder::default().start().await
    }

    fn dir(&self) -> &Path {
        self.dir.as_ref().expect("directory still owned").path()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir().join("data")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.dir().join("logs")
    }

    /// The server's directory, for a restart on the same data (after it exited).
    pub fn take_dir(&mut self) -> TempDir {
        self.dir.take().expect("directory taken once")
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Whether the output comes to contain `text` within 5 s: log lines are written in
    /// batches, within 100 ms of the event.
    pub async fn logged(&self, text: &str) -> bool {
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if self.output().contains(text) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    pub fn pid(&self) -> i32 {
        self.child.id().expect("server still running") as i32
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let response = request.send().await.expect("request failed");
        let status = response.status();
        let plain = response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"text/"));
        let text = response.text().await.unwrap();
        // `/metrics` and the dashboard's files answer text; everything else JSON.
        if plain {
            return (status, serde_json::Value::String(text));
        }
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{path}: body is not JSON ({e}): {text:?}"));
        (status, json)
    }

    /// A request with an optional JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let text = body.map(|b| b.to_string());
        self.request(method, path, text.as_deref()).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.request(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &str) -> (StatusCode, Value) {
        self.request(Method::POST, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.request(Method::DELETE, path, None).await
    }

    pub async fn stats(&self) -> Value {
        let (status, body) = self.get("/api/models/stats").await;
        assert_eq!(status, StatusCode::OK);
        body
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) with a pid we own; no memory is touched.
        let rc = unsafe { libc::kill(self.pid(), signal) };
        assert_eq!(rc, 0, "kill({signal}) failed");
    }

    /// Waits for the process to exit and returns its exit code.
    pub async fn wait(&mut self, limit: Duration) -> Option<i32> {
        let status = tokio::time::timeout(limit, self.child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "dmr did not exit within {limit:?}; output:\n{}",
                    self.output()
                )
            })
            .unwrap();
        status.code()
    }

    /// The names of the files in DATA_DIR and under it (tenant files are in bucket
    /// directories).
    pub fn data_files(&self) -> Vec<String> {
        fn walk(dir: &Path, names: &mut Vec<String>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries {
                let entry = entry.unwrap();
                if entry.file_type().unwrap().is_dir() {
                    walk(&entry.path(), names);
                } else {
                    names.push(entry.file_name().to_string_lossy().into_owned());
                }
            }
        }
        let mut names = Vec::new();
        walk(&self.data_dir(), &mut names);
        names.sort();
        names
    }

    /// Where the SQLite store keeps `tenant`'s file; its bucket directory is created, so
    /// that a test may create the file before the server does.
    pub fn tenant_file(&self, tenant: &str) -> PathBuf {
        let tenant = dmr_store::TenantId::parse(tenant).unwrap();
        let path = dmr_store_sqlite::tenant_file(&self.data_dir(), &tenant);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        path
    }
}
