//! Real services for tests (the integration tests' and the stores'): `redis-server` and
//! SecantusDB (a MongoDB wire-protocol server), each on a free loopback port with its own
//! temporary directory, stopped when dropped. `scripts/test.sh` installs both and exports
//! where they are.

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
    tls: bool,
    child: Child,
    _dir: TempDir,
}

impl RedisServer {
    pub async fn start() -> Self {
        Self::start_with(false).await
    }

    /// TLS only (`rediss://`), with a CA of its own in `ca_file()`.
    pub async fn start_tls() -> Self {
        Self::start_with(true).await
    }

    async fn start_with(tls: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        if tls {
            make_certificates(dir.path());
        }
        let port = free_port();
        let child = Self::spawn(port, dir.path(), tls).await;
        Self {
            port,
            tls,
            child,
            _dir: dir,
        }
    }

    pub fn ca_file(&self) -> PathBuf {
        self._dir.path().join("ca.pem")
    }

    async fn spawn(port: u16, dir: &std::path::Path, tls: bool) -> Child {
        let binary = tool("DMR_REDIS_SERVER", "redis-server");
        let port = port.to_string();
        let listen: Vec<String> = if tls {
            let file = |name: &str| dir.join(name).display().to_string();
            vec![
                "--port".into(),
                "0".into(),
                "--tls-port".into(),
                port.clone(),
                "--tls-cert-file".into(),
                file("server.pem"),
                "--tls-key-file".into(),
                file("server.key"),
                "--tls-ca-cert-file".into(),
                file("ca.pem"),
                "--tls-auth-clients".into(),
                "no".into(),
            ]
        } else {
            vec!["--port".into(), port.clone()]
        };
        let port: u16 = port.parse().unwrap();
        let mut child = Command::new(binary)
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(&listen)
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
        if self.tls {
            format!("rediss://localhost:{}", self.port)
        } else {
            format!("redis://127.0.0.1:{}", self.port)
        }
    }

    /// SIGKILL: no shutdown, connections reset, nothing persisted.
    pub async fn kill(&mut self) {
        self.child.kill().await.unwrap();
    }

    /// Starts again on the same port (after `kill`).
    pub async fn restart(&mut self) {
        self.child = Self::spawn(self.port, self._dir.path(), self.tls).await;
    }

    /// SIGSTOP: the server hangs with its connections open (no reset, no answer), as a
    /// stalled or partitioned Redis does. `thaw` resumes it.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT, after `freeze`.
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("redis-server is running");
        let status = std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("kill(1)");
        assert!(status.success(), "kill {signal} {pid}");
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

/// A CA and a server certificate for localhost / 127.0.0.1, made with the openssl CLI.
fn make_certificates(dir: &std::path::Path) {
    let openssl = |args: &[&str]| {
        let status = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl not found: scripts/test.sh installs it");
        assert!(status.success(), "openssl {args:?} failed");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=dmr-test-ca",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext",
    ]);
}

pub struct SecantusServer {
    pub port: u16,
    child: Child,
    _dir: TempDir,
}

impl SecantusServer {
    /// A fresh server with an empty storage directory of its own.
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
        let binary = tool("DMR_SECANTUSD", "secantusd-py");
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
            .arg(dir.join("db"))
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawning secantusd-py");
        wait_for_port(port, &mut child, "secantusd-py", Duration::from_secs(60)).await;
        child
    }

    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: connections reset mid-operation, as when a server crashes.
    pub async fn kill(&mut self) {
        self.child.kill().await.unwrap();
    }

    /// SIGTERM, then waits for the exit: a clean shutdown that keeps every acknowledged
    /// write (SecantusDB may lose the last writes on SIGKILL).
    pub async fn terminate(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        if tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .is_err()
        {
            self.child.kill().await.unwrap();
        }
    }

    /// Starts again on the same port and storage (after `kill` or `terminate`).
    pub async fn restart(&mut self) {
        self.child = Self::spawn(self.port, self._dir.path()).await;
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
