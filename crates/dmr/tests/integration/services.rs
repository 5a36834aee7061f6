//! The harness's own services start, answer and stop: later suites (L2, MongoDB) build on
//! them, and a broken install should fail here, by name, not deep inside another test.

use std::time::Duration;

use crate::support::services::{RedisServer, SecantusServer};

#[tokio::test]
async fn redis_server_starts_on_a_free_port_and_answers() {
    let redis = RedisServer::start().await;
    assert_eq!(redis.command("PING").await, "+PONG");
    assert_eq!(redis.command("SET k v").await, "+OK");
    assert_eq!(redis.command("GET k").await, "$1");
    let port = redis.port;
    redis.stop().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "stopped"
    );
}

#[tokio::test]
async fn secantusdb_starts_on_a_free_port_and_accepts_connections() {
    let mongo = SecantusServer::start().await;
    assert!(mongo.uri().starts_with("mongodb://127.0.0.1:"));
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", mongo.port)).await;
    assert!(stream.is_ok(), "secantusd accepts TCP connections");
    mongo.stop().await;
}
