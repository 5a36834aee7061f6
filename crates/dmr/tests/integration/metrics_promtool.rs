//! `/metrics` as Prometheus reads it, with authentication on as deploy/prometheus's
//! scrape configuration expects: the admin key as a bearer token. A scrape under a little
//! traffic passes `promtool check metrics` and exposes only the metrics docs/metrics.md
//! lists, each with its documented type.

use std::collections::BTreeMap;

use reqwest::StatusCode;

use crate::support::TestServer;
use crate::support::metrics_doc::{self, Kind};
use crate::support::promtool;
use crate::support::server::mongodb_run;

const ADMIN: &str = "metrics-admin-key-0123456789abcdefXYZ";

/// The metrics the alert rules read, there whatever the configuration (no Redis, SQLite).
const ALERTED_ON: [&str; 5] = [
    "http_server_requests_total",
    "http_server_request_duration_seconds",
    "dmr_store_up",
    "process_open_fds",
    "process_max_fds",
];

/// The MongoDB pool's, which the dashboard's pool panel reads (test.sh's MongoDB pass).
const ON_MONGODB: [&str; 2] = [
    "dmr_store_pool_connections",
    "dmr_store_pool_max_connections",
];

/// `# TYPE name kind` lines of an exposition.
fn families(exposition: &str) -> BTreeMap<String, String> {
    exposition
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| {
            let (name, kind) = l.split_once(' ').expect("# TYPE name kind");
            (name.to_owned(), kind.trim().to_owned())
        })
        .collect()
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Counter => "counter",
        Kind::Gauge => "gauge",
        Kind::Histogram => "histogram",
    }
}

#[tokio::test]
async fn a_scrape_passes_promtool_check_metrics_and_names_only_documented_metrics() {
    let server = TestServer::builder()
        .env("ADMIN_API_KEY", ADMIN)
        .start()
        .await;
    let client = &server.client;
    let get = |path: &str| client.get(format!("{}{path}", server.base));

    // Traffic for the HTTP, cache and store series: a public route, a compiled model (a
    // miss, then a hit), and a path no route matches.
    for path in [
        "/health",
        "/api/models/acme/User",
        "/api/models/acme/User",
        "/no-such-route",
    ] {
        get(path).bearer_auth(ADMIN).send().await.unwrap();
    }

    let refused = get("/metrics").send().await.unwrap();
    assert_eq!(
        refused.status(),
        StatusCode::UNAUTHORIZED,
        "/metrics without the admin key"
    );

    let scrape = get("/metrics").bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(scrape.status(), StatusCode::OK);
    let content_type = scrape.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain") && content_type.contains("version=0.0.4"),
        "content-type {content_type}"
    );
    let exposition = scrape.text().await.unwrap();

    promtool::check(
        &promtool::repo_file("."),
        &["check", "metrics"],
        Some(exposition.as_bytes()),
    );

    let documented = metrics_doc::documented();
    let exposed = families(&exposition);
    for (name, kind) in &exposed {
        match documented.get(name) {
            Some(&doc) => assert_eq!(
                kind,
                kind_name(doc),
                "{name}: docs/metrics.md says {}",
                kind_name(doc)
            ),
            None => panic!("/metrics exposes {name} ({kind}), which docs/metrics.md does not list"),
        }
    }
    let on_mongodb: &[&str] = if mongodb_run() { &ON_MONGODB } else { &[] };
    for name in ALERTED_ON.iter().chain(on_mongodb) {
        assert!(
            exposed.contains_key(*name),
            "/metrics has no {name}, which deploy/ reads:\n{exposition}"
        );
    }
}
