//! Several real `dmr` processes sharing one real `redis-server` (and one DATA_DIR): L2
//! hits across instances, one compile per fleet, invalidations through the backplane,
//! Redis killed and restarted under load.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;

use crate::support::TestServer;
use crate::support::services::{RedisServer, free_port};

async fn fleet(size: usize, redis_url: &str, env: &[(&str, &str)]) -> (Vec<TestServer>, TempDir) {
    let data = tempfile::tempdir().unwrap();
    let mut servers = Vec::with_capacity(size);
    for _ in 0..size {
        let mut builder = TestServer::builder()
            .env("REDIS_URL", redis_url)
            .env("DATA_DIR", data.path().to_str().unwrap());
        for (name, value) in env {
            builder = builder.env(name, *value);
        }
        servers.push(builder.start().await);
    }
    (servers, data)
}

fn counter(stats: &Value, path: &[&str]) -> u64 {
    path.iter()
        .fold(stats, |v, key| &v[*key])
        .as_u64()
        .unwrap_or_else(|| panic!("{path:?} in {stats}"))
}

async fn wait_until(limit: Duration, what: &str, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    started.elapsed()
}

/// Every instance subscribed to the backplane (its first subscription flushes L1, so
/// tests start after it).
async fn wait_subscribed(servers: &[TestServer]) {
    for server in servers {
        wait_until(
            Duration::from_secs(10),
            "backplane subscription",
            async || counter(&server.stats().await, &["backplane", "subscriptions"]) >= 1,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_l2_hit_on_another_instance_rebuilds_without_compiling() {
    let redis = RedisServer::start().await;
    let (servers, _data) = fleet(2, &redis.url(), &[]).await;
    wait_subscribed(&servers).await;
    let (status, a) = servers[0].get("/api/models/acme/User").await;
    assert_eq!(status, StatusCode::OK);
    let (status, b) = servers[1].get("/api/models/acme/User").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(a["fingerprint"], b["fingerprint"]);
    assert_eq!(
        a["indexes"], b["indexes"],
        "the descriptor carries the ensured indexes"
    );

    let (first, second) = (servers[0].stats().await, servers[1].stats().await);
    assert_eq!(counter(&first, &["registry", "modelCreations"]), 1);
    assert_eq!(counter(&second, &["registry", "modelCreations"]), 0);
    assert_eq!(counter(&second, &["registry", "cacheHits", "l2"]), 1);
    assert_eq!(second["cache"]["l2"]["connected"], true);
    // The count is reused for up to 5 s (it walks every tenant hash): it catches up.
    wait_until(Duration::from_secs(10), "keyCount 1", async || {
        servers[1].stats().await["cache"]["l2"]["keyCount"] == 1
    })
    .await;
    let (_, health) = servers[1].get("/api/models/health").await;
    assert_eq!(health["status"], "healthy");
    assert_eq!(health["checks"]["cache"]["l2"]["status"], "healthy");

    // Clear-all empties L2 (SCAN + UNLINK) and reaches the other instance.
    let applied = counter(&second, &["backplane", "applied"]);
    let (status, _) = servers[0].delete("/api/models/cache").await;
    assert_eq!(status, StatusCode::OK);
    wait_until(Duration::from_secs(10), "keyCount 0", async || {
        servers[0].stats().await["cache"]["l2"]["keyCount"] == 0
    })
    .await;
    wait_until(Duration::from_secs(5), "clear-all applied", async || {
        counter(&servers[1].stats().await, &["backplane", "applied"]) > applied
    })
    .await;
    servers[1].get("/api/models/acme/User").await;
    let second = servers[1].stats().await;
    assert_eq!(
        counter(&second, &["registry", "modelCreations"]),
        1,
        "recompiled: L2 was cleared"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_times_300_cold_requests_compile_once_across_the_fleet() {
    let redis = RedisServer::start().await;
    let (servers, _data) = fleet(3, &redis.url(), &[]).await;
    wait_subscribed(&servers).await;
    let requests = servers
        .iter()
        .flat_map(|server| (0..300).map(move |_| server.get("/api/models/coldfleet/Order")));
    let results = join_all(requests).await;
    assert_eq!(results.len(), 900);
    for (status, body) in results {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let mut creations = 0;
    for server in &servers {
        creations += counter(&server.stats().await, &["registry", "modelCreations"]);
    }
    assert_eq!(creations, 1, "one compile across the fleet");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidation_propagation_reaches_every_other_instance() {
    const ROUNDS: usize = 200;
    let redis = RedisServer::start().await;
    let (servers, _data) = fleet(3, &redis.url(), &[]).await;
    wait_subscribed(&servers).await;
    let mut latencies = Vec::with_capacity(ROUNDS * 2);
    for round in 0..ROUNDS {
        let tenant = format!("inv{}", round % 10);
        for server in &servers[1..] {
            server.get(&format!("/api/models/{tenant}/User")).await;
        }
        let before: Vec<u64> = join_all(servers[1..].iter().map(|s| s.stats()))
            .await
            .iter()
            .map(|s| counter(s, &["backplane", "applied"]))
            .collect();
        let (status, _) = servers[0]
            .delete(&format!("/api/models/cache/{tenant}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let waits = servers[1..].iter().zip(before).map(|(server, before)| {
            wait_until(
                Duration::from_secs(5),
                "invalidation applied",
                async move || counter(&server.stats().await, &["backplane", "applied"]) > before,
            )
        });
        latencies.extend(join_all(waits).await);
    }
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "invalidation propagation over {} deliveries: p50 {:?}, p99 {:?}, max {:?} (includes the stats polling)",
        latencies.len(),
        p(0.50),
        p(0.99),
        latencies.last().unwrap()
    );
    // After an invalidation the tenant's next request on a peer is an L1 miss.
    let stats = servers[1].stats().await;
    assert!(counter(&stats, &["registry", "cacheMisses"]) >= ROUNDS as u64 / 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_at_start_up_is_degraded_not_fatal() {
    let nothing_there = format!("redis://127.0.0.1:{}", free_port());
    let (servers, _data) = fleet(1, &nothing_there, &[("REDIS_OP_TIMEOUT_MS", "50")]).await;
    let server = &servers[0];
    for i in 0..20 {
        let (status, body) = server.get(&format!("/api/models/t{i}/User")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, health) = server.get("/api/models/health").await;
    assert_eq!(status, StatusCode::OK, "degraded is still 200");
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["checks"]["cache"]["l2"]["status"], "unavailable");
    let stats = server.stats().await;
    assert_eq!(stats["cache"]["l2"]["breaker"], "open");
    assert_eq!(counter(&stats, &["registry", "modelCreations"]), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_under_load_fails_no_request_and_everything_resumes() {
    let mut redis = RedisServer::start().await;
    // A short L1 lifetime keeps the load going through L2.
    let (servers, _data) = fleet(
        3,
        &redis.url(),
        &[("L1_CACHE_TTL", "100"), ("REDIS_OP_TIMEOUT_MS", "100")],
    )
    .await;
    wait_subscribed(&servers).await;

    let load_for = Duration::from_secs(6);
    let started = Instant::now();
    let workers = (0..6).map(|worker| {
        let server = &servers[worker % 3];
        async move {
            let (mut ok, mut latencies) = (0u64, Vec::new());
            let mut i = 0;
            while started.elapsed() < load_for {
                let sent = Instant::now();
                let (status, body) = server
                    .get(&format!("/api/models/load{}/User", i % 20))
                    .await;
                assert_eq!(
                    status,
                    StatusCode::OK,
                    "request failed during the Redis outage: {body}"
                );
                latencies.push(sent.elapsed());
                ok += 1;
                i += 1;
            }
            (ok, latencies)
        }
    });
    let outage = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        redis.kill().await;
        wait_until(Duration::from_secs(5), "health degraded", async || {
            servers[0].get("/api/models/health").await.1["status"] == "degraded"
        })
        .await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let l2_hits = async || -> u64 {
            join_all(servers.iter().map(|s| s.stats()))
                .await
                .iter()
                .map(|s| counter(s, &["registry", "cacheHits", "l2"]))
                .sum()
        };
        let before = l2_hits().await;
        redis.restart().await;
        // Under the continuing load: L2 hits and every subscription come back by themselves.
        let hits_back = wait_until(Duration::from_secs(5), "L2 hits resume", async || {
            l2_hits().await > before
        })
        .await;
        let mut resubscribed = Duration::ZERO;
        for server in &servers {
            resubscribed = resubscribed.max(
                wait_until(
                    Duration::from_secs(5),
                    "backplane resubscribed",
                    async || counter(&server.stats().await, &["backplane", "subscriptions"]) >= 2,
                )
                .await,
            );
        }
        (hits_back, resubscribed)
    };
    let (results, (hits_back, resubscribed)) = tokio::join!(join_all(workers), outage);
    let mut latencies: Vec<Duration> = results.iter().flat_map(|(_, l)| l.clone()).collect();
    let served: u64 = results.iter().map(|(ok, _)| ok).sum();
    latencies.sort();
    println!(
        "{served} requests, none failed; latency p50 {:?}, p99 {:?}, max {:?} across the outage",
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 99 / 100],
        latencies.last().unwrap()
    );

    println!(
        "after the restart: L2 hits back within {hits_back:?}, backplane resubscribed within {resubscribed:?} more"
    );
    let before = counter(&servers[1].stats().await, &["backplane", "applied"]);
    servers[0].delete("/api/models/cache/load1").await;
    wait_until(
        Duration::from_secs(5),
        "backplane delivers again",
        async || counter(&servers[1].stats().await, &["backplane", "applied"]) > before,
    )
    .await;
    let (_, health) = servers[0].get("/api/models/health").await;
    assert_eq!(health["status"], "healthy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resubscribing_instance_flushes_its_l1() {
    let mut redis = RedisServer::start().await;
    let (servers, _data) = fleet(2, &redis.url(), &[("REDIS_OP_TIMEOUT_MS", "100")]).await;
    wait_subscribed(&servers).await;
    servers[1].get("/api/models/stale/User").await;
    let misses_before = counter(&servers[1].stats().await, &["registry", "cacheMisses"]);
    let flushes_before = counter(&servers[1].stats().await, &["backplane", "l1Flushes"]);

    // The invalidation is sent while Redis is down: pub/sub loses it.
    redis.kill().await;
    let (status, _) = servers[0].delete("/api/models/cache/stale").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "invalidation answers even with Redis down"
    );
    redis.restart().await;

    wait_until(
        Duration::from_secs(5),
        "L1 flushed on resubscribe",
        async || counter(&servers[1].stats().await, &["backplane", "l1Flushes"]) > flushes_before,
    )
    .await;
    servers[1].get("/api/models/stale/User").await;
    let misses_after = counter(&servers[1].stats().await, &["registry", "cacheMisses"]);
    assert_eq!(
        misses_after,
        misses_before + 1,
        "the flushed entry is fetched again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rediss_urls_speak_tls() {
    let redis = RedisServer::start_tls().await;
    assert!(redis.url().starts_with("rediss://"));
    let ca = redis.ca_file();
    // The test CA is trusted through SSL_CERT_FILE, as an operator would point to theirs.
    let (servers, _data) = fleet(2, &redis.url(), &[("SSL_CERT_FILE", ca.to_str().unwrap())]).await;
    wait_subscribed(&servers).await;
    servers[0].get("/api/models/secure/User").await;
    let (status, _) = servers[1].get("/api/models/secure/User").await;
    assert_eq!(status, StatusCode::OK);
    let stats = servers[1].stats().await;
    assert_eq!(
        counter(&stats, &["registry", "cacheHits", "l2"]),
        1,
        "{stats}"
    );
    assert_eq!(stats["cache"]["l2"]["connected"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_left_by_a_dead_holder_is_released_by_its_ttl() {
    let redis = RedisServer::start().await;
    let (servers, _data) = fleet(1, &redis.url(), &[]).await;
    wait_subscribed(&servers).await;
    let (_, schemas) = servers[0].get("/api/models/schemas").await;
    let fingerprint = schemas["versions"]["User"].as_str().unwrap();
    // An instance took the compile lock and died: nobody will release it.
    let reply = redis
        .command(&format!(
            "SET dmr:lock:orphan:User:{fingerprint} 999999 PX 800"
        ))
        .await;
    assert_eq!(reply, "+OK");

    let (status, body) = servers[0].get("/api/models/orphan/User").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let stats = servers[0].stats().await;
    assert!(
        counter(&stats, &["registry", "fleetWaits"]) >= 1,
        "it waited on the dead holder: {stats}"
    );
    assert_eq!(
        counter(&stats, &["registry", "modelCreations"]),
        1,
        "then compiled itself"
    );
    assert_eq!(
        redis
            .command(&format!("EXISTS dmr:lock:orphan:User:{fingerprint}"))
            .await,
        ":0"
    );
}
