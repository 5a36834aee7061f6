//! `/metrics` scraped from the real binary while things happen: requests, L1 hits and
//! misses, refusals of the limits, Redis dying (the breaker and `dmr_l2_up`); its access
//! rule; `METRICS_PORT`; and never a tenant id in a label.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::support::TestServer;
use crate::support::services::{RedisServer, free_port};

/// A scrape, as `name{labels}` → value.
struct Scrape {
    text: String,
    samples: HashMap<String, f64>,
}

impl Scrape {
    fn parse(text: String) -> Self {
        let samples = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|line| {
                let (series, value) = line.rsplit_once(' ').expect("a sample line");
                (series.to_owned(), value.parse().expect("a number"))
            })
            .collect();
        Scrape { text, samples }
    }

    fn get(&self, series: &str) -> f64 {
        self.samples.get(series).copied().unwrap_or(0.0)
    }
}

async fn scrape_at(server: &TestServer, url: &str, key: Option<&str>) -> Scrape {
    let mut request = server.client.get(url);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    Scrape::parse(response.text().await.unwrap())
}

async fn scrape(server: &TestServer) -> Scrape {
    scrape_at(server, &format!("{}/metrics", server.base), None).await
}

const MODEL_ROUTE: &str = "route=\"/api/models/{tenant_id}/{model_name}\"";

#[tokio::test]
async fn counters_move_with_requests_hits_misses_and_refusals() {
    let server = TestServer::builder()
        .env("TENANT_RATE_LIMIT_MAX_REQUESTS", "5")
        .start()
        .await;
    let before = scrape(&server).await;
    for tenant in ["acme", "globex"] {
        for _ in 0..3 {
            let (status, _) = server.get(&format!("/api/models/{tenant}/User")).await;
            assert_eq!(status, StatusCode::OK);
        }
    }
    let (status, _) = server.get("/api/models/a.b/User").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // acme's sixth request is over its tenant limit of 5.
    for _ in 0..3 {
        server.get("/api/models/acme/User").await;
    }
    let after = scrape(&server).await;

    let ok = format!("http_server_requests_total{{method=\"GET\",{MODEL_ROUTE},status=\"200\"}}");
    let bad = format!("http_server_requests_total{{method=\"GET\",{MODEL_ROUTE},status=\"400\"}}");
    let limited =
        format!("http_server_requests_total{{method=\"GET\",{MODEL_ROUTE},status=\"429\"}}");
    assert_eq!(after.get(&ok) - before.get(&ok), 8.0, "{}", after.text);
    assert_eq!(after.get(&bad) - before.get(&bad), 1.0);
    assert_eq!(after.get(&limited) - before.get(&limited), 1.0);
    let count =
        format!("http_server_request_duration_seconds_count{{method=\"GET\",{MODEL_ROUTE}}}");
    assert_eq!(after.get(&count) - before.get(&count), 10.0);
    // Two tenants compiled once each (misses), every other lookup a hit.
    assert_eq!(
        after.get("dmr_l1_misses_total") - before.get("dmr_l1_misses_total"),
        2.0
    );
    assert_eq!(
        after.get("dmr_l1_hits_total") - before.get("dmr_l1_hits_total"),
        6.0
    );
    assert!(after.get("dmr_model_compiles_total") >= 2.0);
    assert_eq!(after.get("dmr_rate_limited_total{kind=\"tenant\"}"), 1.0);
    assert_eq!(after.get("dmr_open_tenant_stores"), 2.0);
    assert_eq!(after.get("dmr_store_up"), 1.0);
    let opens = "dmr_store_operation_duration_seconds_count{operation=\"open_tenant\",backend=\"";
    assert!(
        after
            .samples
            .iter()
            .any(|(k, v)| k.starts_with(opens) && *v >= 2.0),
        "{}",
        after.text
    );
    assert!(after.get("process_resident_memory_bytes") > 1_000_000.0);
    assert!(after.get("process_open_fds") > 0.0);
    assert!(
        after
            .samples
            .keys()
            .any(|k| k.starts_with("dmr_build_info{version=\"")),
        "{}",
        after.text
    );

    // No label holds a tenant id: the tenants' names appear nowhere in the scrape.
    for tenant in ["acme", "globex", "a.b"] {
        assert!(!after.text.contains(tenant), "{tenant} in:\n{}", after.text);
    }
    // The same requests by tenant are in the JSON stats instead.
    let stats = server.stats().await;
    let top = stats["http"]["topTenants"].as_array().unwrap();
    assert_eq!(top[0]["tenantId"], "acme", "{stats}");
    assert!(stats["http"]["byStatus"]["4xx"].as_u64().unwrap() >= 2);
}

#[tokio::test]
async fn the_admin_key_guards_it_and_metrics_port_serves_it_apart() {
    let admin = "an-admin-key-of-at-least-32-printable-characters";
    let server = TestServer::builder()
        .env("ADMIN_API_KEY", admin)
        .start()
        .await;
    let url = format!("{}/metrics", server.base);
    let refused = server.client.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let scraped = scrape_at(&server, &url, Some(admin)).await;
    assert_eq!(scraped.get("dmr_store_up"), 1.0);

    // A port of its own: unauthenticated there, gone from the API's port.
    let port = free_port();
    let apart = TestServer::builder()
        .env("ADMIN_API_KEY", admin)
        .env("METRICS_PORT", port.to_string())
        .start()
        .await;
    let own = format!("http://127.0.0.1:{port}/metrics");
    let mut scraped = None;
    let started = Instant::now();
    while scraped.is_none() && started.elapsed() < Duration::from_secs(10) {
        match apart.client.get(&own).send().await {
            Ok(response) if response.status() == StatusCode::OK => scraped = Some(response),
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let text = scraped
        .expect("the metrics port answers")
        .text()
        .await
        .unwrap();
    assert!(text.contains("http_server_active_requests"), "{text}");
    let on_api = apart
        .client
        .get(format!("{}/metrics", apart.base))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(on_api.status(), StatusCode::NOT_FOUND);

    // And off.
    let off = TestServer::builder()
        .env("METRICS_ENABLED", "false")
        .start()
        .await;
    let (status, body) = off.get("/metrics").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "route_not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_dying_opens_the_breaker_and_l2_goes_down() {
    let mut redis = RedisServer::start().await;
    let server = TestServer::builder()
        .env("REDIS_URL", redis.url())
        .start()
        .await;
    let until = async |limit: Duration, what: &str, check: &dyn Fn(&Scrape) -> bool| {
        let started = Instant::now();
        loop {
            let scraped = scrape(&server).await;
            if check(&scraped) {
                return scraped;
            }
            assert!(started.elapsed() < limit, "{what}:\n{}", scraped.text);
            // Misses reach Redis, so the breaker sees its failures.
            let n = started.elapsed().as_micros();
            server.get(&format!("/api/models/t{n}/User")).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let up = until(Duration::from_secs(10), "L2 up", &|s| {
        s.get("dmr_l2_up") == 1.0
    })
    .await;
    assert_eq!(up.get("dmr_l2_enabled"), 1.0);
    assert_eq!(up.get("dmr_l2_breaker_state"), 0.0);

    redis.kill().await;
    let down = until(Duration::from_secs(10), "breaker open", &|s| {
        s.get("dmr_l2_breaker_state") == 2.0
    })
    .await;
    assert_eq!(down.get("dmr_l2_up"), 0.0);
    assert!(down.get("dmr_l2_errors_total") > up.get("dmr_l2_errors_total"));

    redis.restart().await;
    until(Duration::from_secs(10), "breaker closed again", &|s| {
        s.get("dmr_l2_breaker_state") == 0.0 && s.get("dmr_l2_up") == 1.0
    })
    .await;
}
