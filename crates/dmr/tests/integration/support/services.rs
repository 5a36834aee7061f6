//! Real services for tests: `redis-server` and SecantusDB (a MongoDB wire-protocol
//! server), each on a free loopback port with its own temporary directory, stopped when
//! dropped. `scripts/test.sh` installs both and exports where they are.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

fn tool(env: &str, fallback: &str) -> PathBuf {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(fallback));
    let found = if path.components().count() > 1 {
        path.exists()
    } else {
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(&path).exists()))
            .unwrap_or(false)
    };
    assert!(
        found,
        "{} not found (looked for {}). Run the tests with scripts/test.sh, which installs \
         redis-server and secantusdb and sets {env}.",
        fallback,
        path.display()
    );
    path
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_for_port(port: u16, child: &mut Child, what: &str, limit: Duration) {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited early with {status}");
        }
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not listen on port {port} within {limit:?}");
}

pub struct RedisServer {
    pub port: u16,
    child: Child,
    _dir: TempDir,
}

impl RedisServer {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Self::spawn(port, dir.path()).await;
        Self {
            port,
            child,
            _dir: dir,
        }
    }

    async fn spawn(port: u16, dir: &std::path::Path) -> Child {
        let binary = tool("DMR_REDIS_SERVER", "redis-server");
        let mut child = Command::new(binary)
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
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawning redis-server");
        wait_for_port(port, &mut child, "redis-server", Duration::from_secs(10)).await;
        child
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: no shutdown, connections reset, nothing persisted.
    pub async fn kill(&mut self) {
        self.child.kill().await.unwrap();
    }

    /// Starts again on the same port (after `kill`).
    pub async fn restart(&mut self) {
        self.child = Self::spawn(self.port, self._dir.path()).await;
    }

    /// Sends one inline command and returns the first reply line.
    pub async fn command(&self, line: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        stream
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .unwrap();
        let mut buf = vec![0u8; 512];
        let n = stream.read(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf[..n])
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

pub struct SecantusServer {
    pub port: u16,
    child: Child,
    _dir: TempDir,
}

impl SecantusServer {
    pub async fn start() -> Self {
        let binary = tool("DMR_SECANTUSD", "secantusd-py");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut child = Command::new(binary)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--log-level",
                "WARNING",
            ])
            .arg("--storage-path")
            .arg(dir.path().join("db"))
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawning secantusd-py");
        wait_for_port(port, &mut child, "secantusd-py", Duration::from_secs(60)).await;
        Self {
            port,
            child,
            _dir: dir,
        }
    }

    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}", self.port)
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
