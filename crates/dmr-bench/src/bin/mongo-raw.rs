//! The floor for the registry's MongoDB document routes: the same operations as raw driver
//! calls, from CONCURRENCY tasks for DURATION_SECS, against the same server.
//! `scripts/bench-mongo.sh` runs it beside wrk on the registry's routes and prints both.
//!
//! Environment: MONGODB_URI, DB, COLLECTION, OP (`get`: find one by `_id` = ID; `query`:
//! find FIELD = ObjectId VALUE, sorted by `_id`, LIMIT documents), CONCURRENCY, DURATION_SECS.

use std::time::{Duration, Instant};

use mongodb::Client;
use mongodb::bson::{Document, doc, oid::ObjectId};

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

fn number(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| v.parse().expect(name))
}

#[tokio::main]
async fn main() {
    let client = Client::with_uri_str(var("MONGODB_URI"))
        .await
        .expect("MONGODB_URI");
    let collection = client
        .database(&var("DB"))
        .collection::<Document>(&var("COLLECTION"));
    let op = var("OP");
    let filter = match op.as_str() {
        "get" => doc! { "_id": ObjectId::parse_str(var("ID")).expect("ID") },
        "query" => doc! { var("FIELD"): ObjectId::parse_str(var("VALUE")).expect("VALUE") },
        other => panic!("OP must be get or query, not {other}"),
    };
    let limit = i64::try_from(number("LIMIT", 10)).unwrap_or(10);
    let duration = Duration::from_secs(number("DURATION_SECS", 10));
    let deadline = Instant::now() + duration;
    let tasks: Vec<_> = (0..number("CONCURRENCY", 8))
        .map(|_| {
            let (collection, filter, op) = (collection.clone(), filter.clone(), op.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let started = Instant::now();
                    if op == "get" {
                        let found = collection.find_one(filter.clone()).await.expect("find_one");
                        assert!(found.is_some(), "no document with that _id");
                    } else {
                        let mut cursor = collection
                            .find(filter.clone())
                            .sort(doc! { "_id": 1 })
                            .limit(limit)
                            .await
                            .expect("find");
                        while cursor.advance().await.expect("cursor") {}
                    }
                    latencies.push(started.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("task"));
    }
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "{:.2} req/s p50 {:.2}ms p99 {:.2}ms",
        latencies.len() as f64 / duration.as_secs_f64(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3
    );
}
