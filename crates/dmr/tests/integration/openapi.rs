//! The served OpenAPI document against the served routes, and its page at `/docs` with no
//! network: everything it loads comes from the binary.

use reqwest::{Method, StatusCode, header};
use serde_json::Value;

use crate::support::TestServer;

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// A documented path with its parameters filled in with valid values.
fn concrete(path: &str) -> String {
    path.replace("{tenant_id}", "acme")
        .replace("{model_name}", "User")
        .replace("{id}", "65f1c0ffee0123456789abcd")
}

#[tokio::test]
async fn every_documented_operation_is_served_and_no_other_method() {
    let server = TestServer::start().await;
    let (status, doc) = server.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 17, "{}", paths.len());

    let mut operations = 0;
    for (path, item) in paths {
        let url = concrete(path);
        for method in METHODS {
            let documented = item.get(method.to_lowercase()).is_some();
            let body = matches!(method, "POST" | "PUT" | "PATCH").then_some("{}");
            let (status, answer) = server
                .request(Method::from_bytes(method.as_bytes()).unwrap(), &url, body)
                .await;
            let code = answer["error"]["code"].as_str().unwrap_or_default();
            if documented {
                operations += 1;
                assert!(
                    !matches!(code, "route_not_found" | "method_not_allowed"),
                    "{method} {path} is documented but answers {status} {answer}"
                );
                let statuses = item[method.to_lowercase()]["responses"]
                    .as_object()
                    .unwrap();
                assert!(
                    statuses.contains_key(status.as_str()),
                    "{method} {path}: {status} is not a documented answer"
                );
            } else {
                assert_eq!(
                    (status, code),
                    (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
                    "{method} {path} is not documented"
                );
            }
        }
    }
    // The seed's 20 and the three API key routes (`dmr_http::route_table()`).
    assert_eq!(operations, dmr_http::route_table().len());
}

/// `POST /api/models/:tenantId/test` is its own route; a `GET` there is still the model
/// named `test`, as in the Node registry (found by reading the document's routes against
/// the router: it answered 405).
#[tokio::test]
async fn a_model_named_test_is_served() {
    let models = tempfile::tempdir().unwrap();
    std::fs::write(
        models.path().join("test.json"),
        r#"{"model": "test", "schema": {"label": "String"}}"#,
    )
    .unwrap();
    let server = TestServer::builder()
        .env("MODELS_DIR", models.path().to_str().unwrap())
        .start()
        .await;
    let (status, model) = server.get("/api/models/acme/test").await;
    assert_eq!(status, StatusCode::OK, "{model}");
    assert_eq!(model["modelName"], "test");
    assert_eq!(model["collectionName"], "tests");
    let (status, answer) = server
        .post("/api/models/acme/test", r#"{"modelName": "test"}"#)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"], 0);
    let (status, created) = server
        .post("/api/models/acme/test/documents", r#"{"label": "x"}"#)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, missing) = server.get("/api/models/acme/test/missing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"]["code"], "route_not_found");
}

#[tokio::test]
async fn the_docs_page_is_served_from_the_binary() {
    let server = TestServer::start().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str| client.get(format!("{}{path}", server.base)).send();

    let redirect = get("/docs").await.unwrap();
    assert_eq!(redirect.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(redirect.headers()[header::LOCATION], "/docs/");

    let page = get("/docs/").await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // Everything the page loads is relative: served here, not fetched from a CDN.
    let mut loaded = 0;
    for attribute in ["src=\"", "href=\""] {
        for reference in html.split(attribute).skip(1) {
            let target = reference.split('"').next().unwrap();
            loaded += 1;
            assert!(!target.contains("//"), "the page loads {target}");
            let asset = get(&format!("/docs/{}", target.trim_start_matches("./")))
                .await
                .unwrap();
            assert_eq!(asset.status(), StatusCode::OK, "{target}");
        }
    }
    assert!(loaded >= 4, "the page loads {loaded} files: {html}");

    // The initializer points at our document and turns the online validator off.
    let init = get("/docs/swagger-initializer.js").await.unwrap();
    assert_eq!(init.status(), StatusCode::OK);
    let init = init.text().await.unwrap();
    assert!(init.contains("\"url\": \"/openapi.json\""), "{init}");
    assert!(init.contains("\"validatorUrl\": \"none\""), "{init}");

    let bundle = get("/docs/swagger-ui-bundle.js").await.unwrap();
    assert_eq!(bundle.status(), StatusCode::OK);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);

    let (status, missing) = server.get("/docs/no-such-file.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"]["code"], "route_not_found");
}

#[tokio::test]
async fn the_document_names_every_error_code() {
    let server = TestServer::start().await;
    let (_, doc) = server.get("/openapi.json").await;
    let codes: Vec<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for code in [
        "invalid_tenant_id",
        "validation_failed",
        "duplicate_key",
        "internal_error",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    // An answer's code is one of them.
    let (status, answer) = server.get("/api/models/bad.id").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(codes.contains(&answer["error"]["code"].as_str().unwrap()));
    let schemes: Vec<&String> = doc["components"]["securitySchemes"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(schemes, ["apiKey", "bearerAuth"]);
    assert_eq!(
        doc["components"]["securitySchemes"]["apiKey"]["name"],
        Value::from("X-API-Key")
    );
}
