//! Model versions: SIGHUP and the reload route put edited model files in service, tenants
//! recompile lazily, broken files change nothing; `dmr models check` and `dmr models diff`.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::support::TestServer;
use crate::support::server::REPO_MODELS;

fn copy_models(to: &Path) {
    for name in ["User.json", "Product.json", "Order.json"] {
        std::fs::copy(format!("{REPO_MODELS}/{name}"), to.join(name)).unwrap();
    }
}

fn add_nickname(dir: &Path) {
    let path = dir.join("User.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replacen(
        "\"schema\": {",
        "\"schema\": {\n    \"nickname\": \"String\",",
        1,
    );
    assert_ne!(edited, text);
    std::fs::write(path, edited).unwrap();
}

async fn user_version(server: &TestServer) -> String {
    let (_, body) = server.get("/api/models/schemas").await;
    body["versions"]["User"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn sighup_puts_an_edited_model_in_service_and_tenants_recompile_lazily() {
    let models = tempfile::tempdir().unwrap();
    copy_models(models.path());
    let server = TestServer::builder()
        .env("MODELS_DIR", models.path().to_str().unwrap())
        .start()
        .await;
    let (_, before) = server.get("/api/models/acme/User").await;
    let v1 = user_version(&server).await;
    assert_eq!(before["fingerprint"], v1.as_str());

    add_nickname(models.path());
    server.signal(libc::SIGHUP);
    let started = Instant::now();
    while user_version(&server).await == v1 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "SIGHUP did not reload: {}",
            server.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let v2 = user_version(&server).await;
    let (status, after) = server.get("/api/models/acme/User").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after["fingerprint"], v2.as_str());
    assert_eq!(server.stats().await["registry"]["modelCreations"], 2);

    // Both versions are recorded in the control database.
    let control = rusqlite::Connection::open(server.data_dir().join("_control.sqlite3")).unwrap();
    let versions: i64 = control
        .query_row(
            "SELECT count(*) FROM schema_versions WHERE model = 'User'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(versions, 2);
}

#[tokio::test]
async fn the_reload_route_refuses_broken_files_and_keeps_serving() {
    let models = tempfile::tempdir().unwrap();
    copy_models(models.path());
    let server = TestServer::builder()
        .env("MODELS_DIR", models.path().to_str().unwrap())
        .start()
        .await;
    let v1 = user_version(&server).await;
    add_nickname(models.path());
    std::fs::write(
        models.path().join("Broken.json"),
        "{\n  \"model\": \"Broken\",\n  \"schema\": 7\n}\n",
    )
    .unwrap();

    let (status, body) = server.post("/api/models/schemas/reload", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "model_files_invalid");
    let detail = body["error"]["details"][0].as_str().unwrap();
    assert!(detail.contains("Broken.json:3:"), "{detail}");
    assert_eq!(
        user_version(&server).await,
        v1,
        "the old set is still in service"
    );
    let (status, _) = server.get("/api/models/acme/User").await;
    assert_eq!(status, StatusCode::OK);

    std::fs::remove_file(models.path().join("Broken.json")).unwrap();
    let (status, body) = server.post("/api/models/schemas/reload", "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["report"]["changed"][0]["model"], "User");
    assert_eq!(
        body["report"]["unchanged"],
        serde_json::json!(["Order", "Product"])
    );
}

fn dmr(args: &[&str]) -> (Option<i32>, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_dmr"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

#[test]
fn models_check_reports_ok_or_file_line_column_and_reason() {
    let (code, text) = dmr(&["models", "check", REPO_MODELS]);
    assert_eq!(code, Some(0), "{text}");
    for name in ["Order", "Product", "User"] {
        assert!(text.contains(&format!("ok  {name} ")), "{text}");
    }

    let dir = tempfile::tempdir().unwrap();
    copy_models(dir.path());
    std::fs::write(
        dir.path().join("Broken.json"),
        "{\n  \"model\": \"Broken\",\n  \"schema\": {\n    \"title\": { \"type\": \"String\", \"requried\": true }\n  }\n}\n",
    )
    .unwrap();
    let (code, text) = dmr(&["models", "check", dir.path().to_str().unwrap()]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("Broken.json:4:"), "{text}");
    assert!(
        text.contains("requried") && text.contains("required"),
        "reason with a suggestion: {text}"
    );
}

#[test]
fn models_diff_reports_breaking_changes_with_exit_code_3() {
    let old = tempfile::tempdir().unwrap();
    let new = tempfile::tempdir().unwrap();
    copy_models(old.path());
    copy_models(new.path());

    let (code, text) = dmr(&[
        "models",
        "diff",
        old.path().to_str().unwrap(),
        new.path().to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("User: unchanged") && text.contains("no breaking change"),
        "{text}"
    );

    // Narrow User.role's enum and add a compatible optional field.
    let path = new.path().join("User.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let narrowed = text.replace(r#""admin", "user", "moderator""#, r#""admin", "user""#);
    assert_ne!(narrowed, text, "the enum edit applies");
    std::fs::write(&path, narrowed).unwrap();
    add_nickname(new.path());

    let (code, text) = dmr(&[
        "models",
        "diff",
        old.path().join("User.json").to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(3), "{text}");
    assert!(
        text.contains(r#"BREAKING    role: enum values removed: "moderator""#),
        "{text}"
    );
    assert!(text.contains("compatible  nickname: field added"), "{text}");
    assert!(text.contains("1 breaking change(s)"), "{text}");
}
