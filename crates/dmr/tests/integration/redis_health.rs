//! Health, stats and `/metrics` tell the truth when Redis dies. L1 hits never call Redis,
//! so the breaker alone kept saying "healthy" for as long as requests were served from
//! L1; the backplane subscription (whose connection drops with the server) and a shared
//! PING (at most a second old) say it within 2 s, at rest and under load, and say so again
//! within 2 s of Redis returning. No request fails meanwhile. A Redis that hangs with its
//! connections open (SIGSTOP) keeps the subscription up: the PING alone tells.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::TestServer;
use crate::support::services::RedisServer;

/// The bound the issue sets on noticing Redis die, and return.
const NOTICED_WITHIN: Duration = Duration::from_secs(2);
/// Warmed once, then every request for it is an L1 hit.
const L1_ROUTE: &str = "/api/models/acme/User";

/// Polls `check` until it holds; fails past `limit`. Returns how long it took.
async fn within(limit: Duration, what: &str, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

async fn health(server: &TestServer) -> Value {
    let (status, health) = server.get("/api/models/health").await;
    assert_eq!(status, StatusCode::OK, "degraded is still 200: {health}");
    health
}

/// `name value` of an unlabelled sample in a scrape.
fn sample(scrape: &str, name: &str) -> f64 {
    scrape
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} in\n{scrape}"))
        .parse()
        .unwrap()
}

async fn scrape(server: &TestServer) -> String {
    let (status, body) = server.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    body.as_str().expect("the metrics' text").to_owned()
}

async fn start(redis: &RedisServer) -> TestServer {
    let server = TestServer::builder()
        .env("REDIS_URL", redis.url())
        .start()
        .await;
    within(Duration::from_secs(10), "healthy at start", async || {
        health(&server).await["status"] == "healthy"
    })
    .await;
    // Warm L1 (the compile lands in L2 as well).
    for _ in 0..3 {
        let (status, body) = server.get(L1_ROUTE).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let stats = server.stats().await;
    assert_eq!(stats["cache"]["l2"]["connected"], true, "{stats}");
    assert!(stats["cache"]["l2"]["keyCount"].is_u64(), "{stats}");
    assert_eq!(stats["backplane"]["subscribed"], true, "{stats}");
    server
}

/// Kills Redis, sees every view say so, restarts it, sees every view say so again.
async fn outage_and_return(server: &TestServer, redis: &mut RedisServer) {
    let before = server.stats().await;
    redis.kill().await;
    let noticed = within(NOTICED_WITHIN, "health degraded", async || {
        health(server).await["status"] == "degraded"
    })
    .await;
    println!("Redis killed: health degraded after {noticed:?}");
    let answer = health(server).await;
    let l2 = &answer["checks"]["cache"]["l2"];
    assert_eq!(l2["status"], "unavailable", "{answer}");
    assert!(
        l2["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Redis is not answering")),
        "{answer}"
    );
    let stats = server.stats().await;
    let l2 = &stats["cache"]["l2"];
    assert_eq!(l2["connected"], false, "{stats}");
    assert_eq!(l2["status"], "unavailable", "{stats}");
    assert!(l2["keyCount"].is_null(), "unknown is not 0: {stats}");
    assert!(l2["keyCountError"].is_string(), "{stats}");
    assert_eq!(stats["backplane"]["subscribed"], false, "{stats}");
    let scraped = scrape(server).await;
    assert_eq!(sample(&scraped, "dmr_l2_up"), 0.0);
    assert_eq!(sample(&scraped, "dmr_backplane_subscribed"), 0.0);

    redis.restart().await;
    let back = within(NOTICED_WITHIN, "health healthy again", async || {
        health(server).await["status"] == "healthy"
    })
    .await;
    println!("Redis restarted: health healthy after {back:?}");
    let stats = server.stats().await;
    assert_eq!(stats["cache"]["l2"]["connected"], true, "{stats}");
    assert!(stats["cache"]["l2"]["keyCount"].is_u64(), "{stats}");
    assert_eq!(stats["backplane"]["subscribed"], true, "{stats}");
    let scraped = scrape(server).await;
    assert_eq!(sample(&scraped, "dmr_l2_up"), 1.0);
    assert_eq!(sample(&scraped, "dmr_backplane_subscribed"), 1.0);
    // The new subscription flushed L1: pub/sub lost whatever was sent meanwhile.
    let count = |stats: &Value, key: &str| stats["backplane"][key].as_u64().unwrap();
    assert!(count(&stats, "subscriptions") > count(&before, "subscriptions"));
    assert!(count(&stats, "l1Flushes") > count(&before, "l1Flushes"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_rest_health_and_stats_follow_redis_down_and_back() {
    let mut redis = RedisServer::start().await;
    let server = start(&redis).await;
    outage_and_return(&server, &mut redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_l1_hit_load_health_and_stats_follow_redis_down_and_back() {
    let mut redis = RedisServer::start().await;
    let server = Arc::new(start(&redis).await);
    let l1_hits_before = server.stats().await["registry"]["cacheHits"]["l1"]
        .as_u64()
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (server, stop, served) = (server.clone(), stop.clone(), served.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let (status, body) = server.get(L1_ROUTE).await;
                    assert_eq!(status, StatusCode::OK, "failed under load: {body}");
                    served.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    // The load is going before Redis dies.
    within(Duration::from_secs(5), "load started", async || {
        served.load(Ordering::Relaxed) > 100
    })
    .await;
    outage_and_return(&server, &mut redis).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.expect("no request under load failed");
    }

    let served = served.load(Ordering::Relaxed);
    let stats = server.stats().await;
    let l1_hits = stats["registry"]["cacheHits"]["l1"].as_u64().unwrap();
    println!("{served} requests under load, none failed");
    assert!(
        l1_hits - l1_hits_before >= served / 2,
        "the load was L1 hits ({l1_hits_before} -> {l1_hits} for {served} requests)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_is_told_by_the_ping_alone() {
    let redis = RedisServer::start().await;
    let server = start(&redis).await;
    redis.freeze();
    let noticed = within(NOTICED_WITHIN, "health degraded", async || {
        health(&server).await["status"] == "degraded"
    })
    .await;
    println!("Redis frozen: health degraded after {noticed:?}");
    let answer = health(&server).await;
    let message = answer["checks"]["cache"]["l2"]["message"].as_str().unwrap();
    assert!(message.contains("PING failed"), "{answer}");
    let stats = server.stats().await;
    assert_eq!(stats["cache"]["l2"]["connected"], false, "{stats}");
    assert_eq!(
        stats["backplane"]["subscribed"], true,
        "the subscription's connection is still open: {stats}"
    );
    let (status, _) = server.get(L1_ROUTE).await;
    assert_eq!(status, StatusCode::OK, "L1 serves meanwhile");

    redis.thaw();
    let back = within(NOTICED_WITHIN, "health healthy again", async || {
        health(&server).await["status"] == "healthy"
    })
    .await;
    println!("Redis thawed: health healthy after {back:?}");
    assert_eq!(server.stats().await["cache"]["l2"]["connected"], true);
}

/// How many times Redis ran `command` (`INFO commandstats`, read in full).
async fn calls(redis: &RedisServer, command: &str) -> u64 {
    let mut stream = TcpStream::connect(("127.0.0.1", redis.port)).await.unwrap();
    stream.write_all(b"INFO commandstats\r\n").await.unwrap();
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    // `$<length>\r\n<text>\r\n`
    loop {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "redis closed the INFO reply early");
        reply.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&reply);
        if let Some((head, body)) = text.split_once("\r\n")
            && body.len() >= head[1..].parse::<usize>().unwrap()
        {
            break;
        }
    }
    let text = String::from_utf8_lossy(&reply);
    let prefix = format!("cmdstat_{command}:calls=");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |rest| rest.split(',').next().unwrap().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_health_and_stats_costs_a_ping_and_a_count_not_one_each() {
    const BURST: usize = 64;
    let redis = RedisServer::start().await;
    let server = start(&redis).await;
    let (pings, scans) = (calls(&redis, "ping").await, calls(&redis, "scan").await);
    assert!(
        pings >= 1 && scans >= 1,
        "start-up's health and stats asked Redis"
    );
    // Past the PING's second: the burst needs a fresh one.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let answers = join_all((0..BURST).map(|i| {
        let server = &server;
        async move {
            if i % 2 == 0 {
                health(server).await["status"].clone()
            } else {
                server.stats().await["cache"]["l2"]["status"].clone()
            }
        }
    }))
    .await;
    assert!(answers.iter().all(|a| a == "healthy"), "{answers:?}");
    let pinged = calls(&redis, "ping").await - pings;
    let scanned = calls(&redis, "scan").await - scans;
    println!("{BURST} health and stats answers: {pinged} PINGs, {scanned} SCAN steps");
    // One PING a second at most (two if the burst straddles a refresh); one count in 5 s.
    assert!(
        (1..=2).contains(&pinged),
        "{pinged} PINGs for {BURST} answers"
    );
    assert!(scanned <= 1, "{scanned} SCAN steps for {} stats", BURST / 2);
}
