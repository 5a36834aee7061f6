//! `/dashboard` in a real headless Chromium against the real binary under traffic: the
//! key prompt (keys checked), the numbers moving, no console error or uncaught exception,
//! a phone's viewport without horizontal overflow, polling paused while the tab is hidden,
//! answers with fields missing or null; and the files' headers (policy, ETag) over plain
//! HTTP.
//!
//! `DMR_WRITE_SCREENSHOT=1` rewrites docs/dashboard.png from the first test
//! (scripts/dashboard-screenshot.sh).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::TestServer;
use crate::support::chromium::Chromium;
use crate::support::promtool::repo_file;
use crate::support::services::RedisServer;

const ADMIN: &str = "dashboard-admin-key-0123456789abcdefXYZ";
/// Well formed, never issued.
const WRONG: &str = "dmr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Requests from a few tenants (some of them 404s: a model that does not exist) until
/// stopped, so that the dashboard's numbers move.
struct Traffic {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Traffic {
    fn start(server: &TestServer, key: Option<&str>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = (0..2)
            .map(|worker| {
                let client = server.client.clone();
                let base = server.base.clone();
                let key = key.map(str::to_owned);
                let stop = Arc::clone(&stop);
                tokio::spawn(async move {
                    let tenants = [
                        "acme", "acme", "acme", "globex", "globex", "initech", "hooli",
                    ];
                    let mut n = worker;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let tenant = tenants[n % tenants.len()];
                        let model = if n % 13 == 0 { "Invoice" } else { "User" };
                        let mut request = client.get(format!("{base}/api/models/{tenant}/{model}"));
                        if let Some(key) = &key {
                            request = request.bearer_auth(key);
                        }
                        let _ = request.send().await;
                        tokio::time::sleep(Duration::from_millis(4)).await;
                    }
                })
            })
            .collect();
        Traffic { stop, tasks }
    }

    async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.unwrap();
        }
    }
}

/// `#id`'s text in the page.
fn text(browser: &mut Chromium, id: &str) -> String {
    browser
        .evaluate(&format!(
            "document.getElementById({}).textContent",
            json!(id)
        ))
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Waits until the page polls live, then until its request total has changed and it shows
/// a request rate above zero: the numbers move under traffic.
fn wait_until_live_and_moving(browser: &mut Chromium) {
    browser.wait_for(
        "document.body.dataset.state === 'live'",
        "the dashboard polling",
        Duration::from_secs(15),
    );
    let first = text(browser, "total");
    browser.wait_for(
        &format!(
            "(() => {{ const t = document.getElementById('total').textContent; \
              const r = Number(document.getElementById('rate').textContent); \
              return t !== {} && t !== '–' && r > 0; }})()",
            json!(first)
        ),
        "the request total and rate moving under traffic",
        Duration::from_secs(15),
    );
}

fn assert_no_errors(browser: &mut Chromium, allowed: impl Fn(&Value) -> bool) {
    let errors = browser.errors(allowed);
    assert!(
        errors.is_empty(),
        "the page reported errors:\n{}\nchromium's log:\n{}",
        errors.join("\n"),
        browser.log()
    );
}

/// The browser's own line for the refused stats request of a wrong key, the one error the
/// key prompt's path is expected to cause.
fn refused_stats_request(event: &Value) -> bool {
    let entry = &event["params"]["entry"];
    event["method"] == "Log.entryAdded"
        && entry["source"] == "network"
        && entry["url"]
            .as_str()
            .is_some_and(|url| url.ends_with("/api/models/stats"))
        && entry["text"].as_str().is_some_and(|t| t.contains("401"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_asks_for_the_admin_key_then_shows_live_numbers() {
    let redis = RedisServer::start().await;
    let server = TestServer::builder()
        .env("ADMIN_API_KEY", ADMIN)
        .env("REDIS_URL", redis.url())
        .start()
        .await;
    let traffic = Traffic::start(&server, Some(ADMIN));
    let url = format!("{}/dashboard", server.base);
    let write_screenshot = std::env::var("DMR_WRITE_SCREENSHOT").is_ok_and(|v| v == "1");

    tokio::task::spawn_blocking(move || {
        let mut browser = Chromium::launch();
        browser.set_viewport(1280, 860, false);
        browser.navigate(&url);
        // Keys are checked and none is stored: the page asks before it calls the stats,
        // so nothing is refused yet.
        browser.wait_for(
            "document.body.dataset.state === 'key' && !document.getElementById('key-form').hidden",
            "the key prompt",
            Duration::from_secs(10),
        );
        assert_no_errors(&mut browser, |_| false);

        let submit = |browser: &mut Chromium, key: &str| {
            browser.evaluate(&format!(
                "(() => {{ document.getElementById('key-input').value = {}; \
                  document.getElementById('key-form').requestSubmit(); return true; }})()",
                json!(key)
            ));
        };
        // A wrong key: refused with 401, dropped, and asked for again.
        submit(&mut browser, WRONG);
        browser.wait_for(
            "document.body.dataset.state === 'key' && \
             document.getElementById('key-reason').textContent.includes('401')",
            "the prompt again after a 401",
            Duration::from_secs(10),
        );
        assert_eq!(
            browser.evaluate("sessionStorage.length"),
            json!(0),
            "a refused key is not kept"
        );

        submit(&mut browser, ADMIN);
        wait_until_live_and_moving(&mut browser);
        // The key is in this tab's session storage and in no URL.
        assert_eq!(browser.evaluate("location.href"), json!(url));
        assert_eq!(
            browser.evaluate(&format!(
                "Object.values(sessionStorage).includes({})",
                json!(ADMIN)
            )),
            json!(true)
        );
        assert!(
            browser
                .evaluate("performance.getEntriesByType('resource').map(e => e.name).join(' ')")
                .as_str()
                .is_some_and(|names| !names.contains(ADMIN)),
            "the key in a requested URL"
        );
        // The rest of the answer reaches the page: latency, L2 and its breaker (Redis is
        // up), the backplane, open tenants, the busiest tenants of the last minute.
        browser.wait_for(
            "(() => { const n = id => document.getElementById(id).textContent; \
               return Number(n('p50')) > 0 && Number(n('p99')) >= Number(n('p50')) \
                 && n('l2-status') === 'healthy' && n('breaker') === 'closed' \
                 && n('backplane-state') === 'subscribed' && Number(n('tenants-open')) >= 4 \
                 && document.querySelectorAll('#top-tenants li').length >= 4 \
                 && n('version') !== '?' && n('uptime') !== '?'; })()",
            "latency, cache tiers, backplane and tenants on the page",
            Duration::from_secs(15),
        );
        assert_eq!(
            browser.evaluate("document.querySelector('#top-tenants li .name').textContent"),
            json!("acme"),
            "the busiest tenant first"
        );
        // It goes on polling (and any error a later poll causes is seen below).
        let polls = browser.evaluate("Number(document.body.dataset.polls)");
        browser.wait_for(
            &format!("Number(document.body.dataset.polls) >= {polls} + 2"),
            "two more polls",
            Duration::from_secs(10),
        );
        if write_screenshot {
            // Two minutes of sparkline would be long: a few polls' worth is enough to see.
            browser.wait_for(
                "Number(document.body.dataset.polls) >= 12",
                "a dozen polls for the sparklines",
                Duration::from_secs(40),
            );
            std::fs::write(repo_file("docs/dashboard.png"), browser.screenshot()).unwrap();
        }
        assert_no_errors(&mut browser, refused_stats_request);
    })
    .await
    .unwrap();
    traffic.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_fits_a_phone_and_pauses_while_the_tab_is_hidden() {
    // Keys not checked (development): the page polls at once.
    let server = TestServer::start().await;
    let traffic = Traffic::start(&server, None);
    let url = format!("{}/dashboard", server.base);

    tokio::task::spawn_blocking(move || {
        let mut browser = Chromium::launch();
        browser.set_viewport(390, 844, true);
        browser.navigate(&url);
        wait_until_live_and_moving(&mut browser);
        browser.wait_for(
            "document.querySelectorAll('#top-tenants li').length >= 4",
            "the busiest tenants",
            Duration::from_secs(10),
        );
        let widths = browser.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth, \
              document.documentElement.clientWidth]",
        );
        let (scroll, inner) = (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap());
        assert_eq!(inner, 390, "the phone's viewport: {widths}");
        assert!(scroll <= inner, "horizontal overflow on a phone: {widths}");
        // Cards in one column: each as wide as the grid.
        assert_eq!(
            browser.evaluate(
                "(() => { const cards = [...document.querySelectorAll('.card')]; \
                  return new Set(cards.map(c => c.getBoundingClientRect().left)).size; })()"
            ),
            json!(1)
        );

        // Hidden: no poll. The page reads `document.visibilityState`, which is what a
        // browser changes when the tab goes to the background.
        browser.evaluate(
            "Object.defineProperty(document, 'visibilityState', \
               {configurable: true, get: () => 'hidden'}); \
             document.dispatchEvent(new Event('visibilitychange')); true",
        );
        browser.wait_for(
            "document.body.dataset.state === 'paused'",
            "the paused state",
            Duration::from_secs(5),
        );
        let polls = browser.evaluate("document.body.dataset.polls");
        // Two and a half poll intervals.
        std::thread::sleep(Duration::from_secs(5));
        assert_eq!(
            browser.evaluate("document.body.dataset.polls"),
            polls,
            "polled while hidden"
        );
        // Visible again: it polls at once, and goes on.
        browser.evaluate(
            "delete document.visibilityState; \
             document.dispatchEvent(new Event('visibilitychange')); true",
        );
        browser.wait_for(
            &format!(
                "document.body.dataset.state === 'live' && \
                 Number(document.body.dataset.polls) >= Number({polls}) + 2"
            ),
            "polling again once visible",
            Duration::from_secs(10),
        );
        assert_no_errors(&mut browser, |_| false);
    })
    .await
    .unwrap();
    traffic.stop().await;
}

/// Answers the stats could give while other parts of the server change (a field null with
/// an error beside it, fields absent, values of another type), served to the page in
/// place of the real one: each is drawn (`–` where a figure is missing) without an
/// exception, and a body that is not JSON is reported on the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_takes_answers_with_fields_missing_or_null() {
    let server = TestServer::start().await;
    let url = format!("{}/dashboard", server.base);
    tokio::task::spawn_blocking(move || {
        let mut browser = Chromium::launch();
        browser.call(
            "Fetch.enable",
            json!({"patterns": [{"urlPattern": "*/api/models/stats*"}]}),
        );
        browser.navigate(&url);
        let answers: [(&str, &str, &str); 4] = [
            (
                "application/json",
                "{}",
                "n('total') === '–' && n('p50') === '–' && n('l2-status') === 'off'                  && n('backplane-state') === 'off'                  && !document.getElementById('top-tenants-empty').hidden",
            ),
            (
                "application/json",
                r#"{"cache": {"l2": {"enabled": true, "connected": false, "keyCount": null,
                    "keyCountError": "Redis did not answer", "status": "degraded",
                    "breaker": "open"}},
                  "http": {"total": null, "byStatus": null, "latency": {"p50Ms": null},
                    "topTenants": null},
                  "connections": {"totalConnections": 2, "maxOpen": 0, "connections": null},
                  "backplane": {"enabled": true, "subscribed": false}}"#,
                "n('l2-keys') === 'unknown' && n('l2-status') === 'degraded'                  && n('breaker') === 'open' && n('backplane-state') === 'down'                  && n('tenants-open') === '2' && n('l2-detail').includes('Redis did not answer')",
            ),
            (
                "application/json",
                r#"{"http": 5, "cache": [], "registry": null,
                  "connections": {"connections": [null, 3, {"pool": null}]},
                  "backplane": "up"}"#,
                "n('total') === '–' && n('pool-in-use') === '0'",
            ),
            (
                "text/plain",
                "not JSON",
                "document.body.dataset.state === 'error' && n('state') === 'bad answer'",
            ),
        ];
        for (n, (content_type, body, shown)) in answers.into_iter().enumerate() {
            let paused = browser.take_event("Fetch.requestPaused", Duration::from_secs(10));
            browser.fulfill(&paused["params"]["requestId"], 200, content_type, body);
            let drawn = if content_type == "application/json" {
                format!(
                    "document.body.dataset.state === 'live' &&                      Number(document.body.dataset.polls) === {}",
                    n + 1
                )
            } else {
                "true".to_owned()
            };
            browser.wait_for(
                &format!(
                    "(() => {{ const n = id => document.getElementById(id).textContent;                       return {drawn} && {shown}; }})()"
                ),
                &format!("answer {n} drawn"),
                Duration::from_secs(10),
            );
        }
        // The real answer again: live.
        let paused = browser.take_event("Fetch.requestPaused", Duration::from_secs(10));
        browser.call(
            "Fetch.continueRequest",
            json!({"requestId": paused["params"]["requestId"]}),
        );
        browser.wait_for(
            "document.body.dataset.state === 'live' &&              document.getElementById('total').textContent !== '–'",
            "live again on a real answer",
            Duration::from_secs(10),
        );
        assert_no_errors(&mut browser, |_| false);
    })
    .await
    .unwrap();
}

/// The page's own policy (nothing inline, no upgrade to https), Helmet's other headers,
/// ETags and 304s; public whether keys are checked or not, while the stats are not.
#[tokio::test]
async fn the_dashboard_files_are_public_revalidated_and_under_their_own_policy() {
    let server = TestServer::builder()
        .env("ADMIN_API_KEY", ADMIN)
        .start()
        .await;
    let get = async |path: &str, etag: Option<&str>| {
        let mut request = server.client.get(format!("{}{path}", server.base));
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        request.send().await.unwrap()
    };
    for (path, content_type) in [
        ("/dashboard", "text/html; charset=utf-8"),
        ("/dashboard.js", "text/javascript; charset=utf-8"),
        ("/dashboard.css", "text/css; charset=utf-8"),
    ] {
        let response = get(path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], content_type, "{path}");
        assert_eq!(headers["cache-control"], "no-cache", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        let etag = headers["etag"].to_str().unwrap().to_owned();
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "{path}: {etag}"
        );
        assert!(!response.bytes().await.unwrap().is_empty());

        let again = get(path, Some(&etag)).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()["etag"], etag.as_str());
        assert!(again.bytes().await.unwrap().is_empty());
        let stale = get(path, Some("\"0000000000000000\"")).await;
        assert_eq!(stale.status(), StatusCode::OK, "{path}");
    }
    let page = get("/dashboard", None).await;
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'self'",
    ] {
        assert!(policy.contains(directive), "{policy}");
    }
    assert!(!policy.contains("unsafe-inline") && !policy.contains("upgrade-insecure-requests"));
    assert_eq!(page.headers()["x-frame-options"], "SAMEORIGIN");
    // The data behind the page still needs the admin key.
    let stats = get("/api/models/stats", None).await;
    assert_eq!(stats.status(), StatusCode::UNAUTHORIZED);
}
