//! A real headless browser: Debian's `chromium` (scripts/test-services.sh installs it
//! where missing and sets `DMR_CHROMIUM`), driven over the Chrome DevTools Protocol by a
//! small synchronous WebSocket client. One page, attached in flattened mode (one socket,
//! the page's messages tagged with its session id); every event the page sends is kept,
//! so a test can fail on any console error or uncaught exception it saw.
//!
//! Synchronous on purpose: a test drives it from `spawn_blocking` while the runtime's
//! other thread sends the server traffic.

use std::fs::File;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use tempfile::TempDir;
use tungstenite::{Message, WebSocket};

pub struct Chromium {
    child: Child,
    profile: TempDir,
    socket: WebSocket<TcpStream>,
    /// The page's session (`Target.attachToTarget` with `flatten`).
    session: String,
    next_id: u64,
    /// Every event received so far, in order.
    events: Vec<Value>,
}

fn binary() -> PathBuf {
    super::installed_tool(
        "DMR_CHROMIUM",
        "chromium",
        "It is Debian's `chromium` package (apt-get install --no-install-recommends chromium)",
    )
}

/// How long a start, a command or a wait may take at most.
const LIMIT: Duration = Duration::from_secs(30);

impl Chromium {
    /// Starts the browser on a fresh profile and opens one blank page.
    pub fn launch() -> Self {
        let profile = tempfile::tempdir().unwrap();
        let log = File::create(profile.path().join("chromium.log")).unwrap();
        let mut command = Command::new(binary());
        command
            .args([
                "--headless=new",
                "--remote-debugging-port=0",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-extensions",
                "--disable-sync",
                "--disable-gpu",
                // Containers give /dev/shm 64 MiB, too little for the renderer.
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--mute-audio",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            // Its own process group: dropping the browser ends its renderers too.
            .process_group(0);
        // Chromium's sandbox refuses to run as root (CI runs as root).
        // SAFETY: geteuid(2) reads the process's user id and touches no memory.
        if unsafe { libc::geteuid() } == 0 {
            command.arg("--no-sandbox");
        }
        let mut child = command.spawn().expect("spawning chromium");

        // Chromium writes the port it chose, and the browser's WebSocket path, here.
        let port_file = profile.path().join("DevToolsActivePort");
        let started = Instant::now();
        let (port, path) = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file)
                && let Some((port, path)) = text.split_once('\n')
                && !path.trim().is_empty()
            {
                break (port.trim().to_owned(), path.trim().to_owned());
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "chromium exited ({status}) before it listened:\n{}",
                    std::fs::read_to_string(profile.path().join("chromium.log"))
                        .unwrap_or_default()
                );
            }
            assert!(
                started.elapsed() < LIMIT,
                "chromium wrote no DevToolsActivePort within {LIMIT:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let address = format!("127.0.0.1:{port}");
        let stream = TcpStream::connect(&address).expect("connecting to chromium");
        let (socket, _) = tungstenite::client(format!("ws://{address}{path}"), stream)
            .expect("the DevTools WebSocket handshake");
        // Reads return now and then, so that a wait can check its deadline.
        socket
            .get_ref()
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut browser = Chromium {
            child,
            profile,
            socket,
            session: String::new(),
            next_id: 0,
            events: Vec::new(),
        };
        let target = browser.send(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached = browser.send(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        for domain in ["Page", "Runtime", "Log"] {
            browser.call(&format!("{domain}.enable"), json!({}));
        }
        browser
    }

    /// A command to the page; its result.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(Some(&session), method, params)
    }

    fn send(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .unwrap_or_else(|e| panic!("{method}: sending to chromium: {e}"));
        let started = Instant::now();
        loop {
            assert!(
                started.elapsed() < LIMIT,
                "{method}: no answer from chromium within {LIMIT:?}"
            );
            let Some(message) = self.receive() else {
                continue;
            };
            if message["id"] == id {
                if let Some(error) = message.get("error") {
                    panic!("{method}: chromium answered an error: {error}");
                }
                return message["result"].clone();
            }
        }
    }

    /// The next message, if one comes within the socket's read timeout; events are kept.
    fn receive(&mut self) -> Option<Value> {
        match self.socket.read() {
            Ok(Message::Text(text)) => {
                let message: Value = serde_json::from_str(text.as_str()).unwrap();
                if message.get("method").is_some() {
                    self.events.push(message.clone());
                }
                Some(message)
            }
            Ok(_) => None,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                None
            }
            Err(e) => panic!("reading from chromium: {e}"),
        }
    }

    /// The value of a JavaScript expression in the page (promises awaited); an exception
    /// fails the test.
    pub fn evaluate(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(details) = result.get("exceptionDetails") {
            panic!("`{expression}` threw: {details}");
        }
        result["result"]["value"].clone()
    }

    /// Waits (bounded) until `condition`, a JavaScript expression, is true in the page.
    pub fn wait_for(&mut self, condition: &str, what: &str, limit: Duration) {
        let started = Instant::now();
        loop {
            if self.evaluate(condition) == json!(true) {
                return;
            }
            assert!(
                started.elapsed() < limit,
                "{what}: not seen within {limit:?} (`{condition}`); the page's text:\n{}",
                self.evaluate("document.body ? document.body.innerText : ''")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Opens `url` and waits until it has loaded.
    pub fn navigate(&mut self, url: &str) {
        let result = self.call("Page.navigate", json!({"url": url}));
        if let Some(error) = result.get("errorText") {
            panic!("navigating to {url}: {error}");
        }
        self.wait_for(
            &format!(
                "location.href === {} && document.readyState === 'complete'",
                json!(url)
            ),
            "the page loaded",
            LIMIT,
        );
    }

    /// The viewport: CSS pixels, and whether it is a phone's (touch, mobile meta viewport).
    pub fn set_viewport(&mut self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({
                "width": width,
                "height": height,
                "deviceScaleFactor": 1,
                "mobile": mobile,
            }),
        );
    }

    /// A PNG of the page's content: the viewport's width, as tall as the body.
    pub fn screenshot(&mut self) -> Vec<u8> {
        let size = self.evaluate(
            "[document.documentElement.clientWidth, \
              Math.ceil(document.body.getBoundingClientRect().bottom)]",
        );
        let shot = self.call(
            "Page.captureScreenshot",
            json!({
                "format": "png",
                "captureBeyondViewport": true,
                "clip": {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1},
            }),
        );
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap()
    }

    /// The first event named `method` not taken yet, waiting for it (bounded).
    pub fn take_event(&mut self, method: &str, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            if let Some(at) = self.events.iter().position(|e| e["method"] == method) {
                return self.events.remove(at);
            }
            assert!(
                started.elapsed() < limit,
                "no {method} event within {limit:?}"
            );
            self.receive();
        }
    }

    /// Answers a request the page made, paused by `Fetch.enable`, with `body`.
    pub fn fulfill(&mut self, request_id: &Value, status: u16, content_type: &str, body: &str) {
        self.call(
            "Fetch.fulfillRequest",
            json!({
                "requestId": request_id,
                "responseCode": status,
                "responseHeaders": [{"name": "content-type", "value": content_type}],
                "body": base64::engine::general_purpose::STANDARD.encode(body),
            }),
        );
    }

    /// Reads the events that have arrived so far, without waiting for more than one read
    /// timeout.
    pub fn drain(&mut self) {
        while self.receive().is_some() {}
    }

    /// Everything the page reported as an error: uncaught exceptions, `console.error` and
    /// `console.assert`, and the browser's own error entries (a refused resource, a CSP
    /// violation, a failed load), each as one line; those `allowed` accepts are left out.
    pub fn errors(&mut self, allowed: impl Fn(&Value) -> bool) -> Vec<String> {
        self.drain();
        self.events
            .iter()
            .filter(|event| !allowed(event))
            .filter_map(|event| {
                let params = &event["params"];
                match event["method"].as_str()? {
                    "Runtime.exceptionThrown" => Some(format!(
                        "uncaught exception: {}",
                        params["exceptionDetails"]
                    )),
                    "Runtime.consoleAPICalled"
                        if matches!(params["type"].as_str(), Some("error" | "assert")) =>
                    {
                        Some(format!("console.{}: {}", params["type"], params["args"]))
                    }
                    "Log.entryAdded" if params["entry"]["level"] == "error" => {
                        Some(format!("log entry: {}", params["entry"]))
                    }
                    _ => None,
                }
            })
            .collect()
    }

    /// What chromium wrote to its standard error, for a failure message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.profile.path().join("chromium.log")).unwrap_or_default()
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.socket.close(None);
        // SAFETY: kill(2) on the process group this browser leads (spawned with
        // `process_group(0)`, so its group id is its pid); no memory is touched.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}
