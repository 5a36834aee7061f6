//! The store conformance suite against a real MongoDB wire-protocol server (SecantusDB,
//! started per test on a free port with its own storage; see `dmr-test-services`).

use dmr_store_mongo::{MongoBackend, MongoConfig};
use dmr_test_services::SecantusServer;

async fn mongo() -> (MongoBackend, SecantusServer) {
    let server = SecantusServer::start().await;
    let backend = MongoBackend::connect(MongoConfig::new(server.uri()))
        .await
        .expect("client for the test server");
    (backend, server)
}

dmr_store::store_conformance_suite!(mongo());
