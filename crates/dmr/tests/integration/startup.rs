//! Start-up refuses bad configuration and broken model files, saying what and where.

use reqwest::StatusCode;

use crate::support::TestServer;
use crate::support::server::REPO_MODELS;

#[tokio::test]
async fn bad_values_stop_start_up_naming_every_variable() {
    let (code, text) = TestServer::builder()
        .env("PORT", "eighty")
        .env("L1_CACHE_TTL", "-5")
        .env("LOG_LEVEL", "chatty")
        .failed_start()
        .await;
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("PORT=\"eighty\" is invalid: expected a TCP port number"),
        "{text}"
    );
    assert!(
        text.contains("L1_CACHE_TTL=\"-5\" is invalid: expected a whole number of milliseconds"),
        "{text}"
    );
    assert!(text.contains("LOG_LEVEL=\"chatty\" is invalid"), "{text}");
}

#[tokio::test]
async fn a_broken_model_file_stops_start_up_with_file_line_and_reason() {
    let models = tempfile::tempdir().unwrap();
    for name in ["User.json", "Product.json"] {
        std::fs::copy(format!("{REPO_MODELS}/{name}"), models.path().join(name)).unwrap();
    }
    std::fs::write(
        models.path().join("Broken.json"),
        "{\n  \"model\": \"Broken\",\n  \"schema\": {\n    \"title\": { \"type\": \"Strin\" }\n  }\n}\n",
    )
    .unwrap();
    let (code, text) = TestServer::builder()
        .env("MODELS_DIR", models.path().to_str().unwrap())
        .failed_start()
        .await;
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("Broken.json:4:"), "file and line: {text}");
    assert!(text.contains("Strin"), "reason: {text}");
}

#[tokio::test]
async fn a_malformed_mongodb_uri_is_named_and_nothing_is_logged_of_it() {
    let uri = "mongodb://user:s3cret@127.0.0.1:27017/?maxPoolSize=many";
    let (code, text) = TestServer::builder()
        .env("MONGODB_URI", uri)
        .failed_start()
        .await;
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("MONGODB_URI"), "{text}");
    assert!(!text.contains("s3cret"), "credentials leaked: {text}");
}

#[tokio::test]
async fn mongodb_down_at_start_up_starts_unhealthy_instead_of_failing() {
    // Nothing listens on port 1: the service starts, says so, and answers 503s.
    let server = TestServer::builder()
        .env("MONGODB_URI", "mongodb://127.0.0.1:1")
        .env("MONGODB_TIMEOUT_MS", "300")
        .start()
        .await;
    let (status, health) = server.get("/api/models/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{health}");
    assert_eq!(health["checks"]["store"]["backend"], "mongodb", "{health}");
    let (status, body) = server.get("/api/models/acme/User").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "store_unavailable", "{body}");
    assert!(server.logged("MongoDB does not answer yet").await);
}

#[tokio::test]
async fn a_port_in_use_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let (code, text) = TestServer::builder()
        .env("PORT", port.to_string())
        .failed_start()
        .await;
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!("PORT={port}: cannot listen")),
        "{text}"
    );
}

/// The soft limit of the process, from /proc.
fn soft_open_file_limit(pid: i32) -> u64 {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    line.split_whitespace().nth(3).unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_open_file_limit_is_raised_for_the_settings_and_a_shortfall_is_named() {
    // 4096 connections + 100 tenant stores x 9 + 64 = 5060: fits under the hard 8192.
    let fits = TestServer::builder()
        .open_file_limit(256, 8192)
        .env("MAX_OPEN_TENANTS", "100")
        .start()
        .await;
    assert_eq!(soft_open_file_limit(fits.pid()), 8192);
    assert!(
        fits.logged("open-file limit raised from 256 to 8192").await,
        "{}",
        fits.output()
    );

    // The defaults: 4096 + 1000 x 9 + 64 = 13160, past the hard 8192: raised as far as it
    // goes, and a warning that names the numbers and the settings.
    let short = TestServer::builder()
        .open_file_limit(256, 8192)
        .start()
        .await;
    assert_eq!(soft_open_file_limit(short.pid()), 8192);
    assert!(
        short.logged("may need 13160 open files").await,
        "{}",
        short.output()
    );
    assert!(
        short.output().contains("MAX_OPEN_TENANTS"),
        "{}",
        short.output()
    );
    let (status, _) = short.get("/health").await;
    assert_eq!(status, StatusCode::OK, "a shortfall still serves");
}
