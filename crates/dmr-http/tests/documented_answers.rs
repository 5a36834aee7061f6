//! Every route answers as the OpenAPI document says. For each row of `route_table()` a
//! valid request and one the route refuses go to the real app (SQLite in a temporary
//! directory, API keys enforced), and each JSON body is validated against the schema the
//! document gives for its (path, method, status), references resolved (a body of another
//! media type, the metrics' text, is held to the type the document names). A report or a
//! handler that drifts from the document fails `cargo test`, not only the fuzz run; so does
//! a route without a case here.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use axum::response::Response;
use dmr_http::{AppState, EdgeConfig, HttpConfig, ServiceInfo};
use dmr_model::ModelSet;
use dmr_registry::{AccessConfig, AccessControl, ModelSource, Registry, RegistryConfig};
use dmr_store_sqlite::{SqliteBackend, SqliteConfig};
use serde_json::{Value, json};
use tower::ServiceExt;
use tower::util::BoxCloneService;

const ADMIN_KEY: &str = "documented-answers-admin-key";
const TENANT: &str = "acme";
const MODEL: &str = "User";
/// Well-formed, and no document has it.
const UNKNOWN_ID: &str = "0123456789abcdef01234567";

type App = BoxCloneService<Request<Body>, Response, Infallible>;

/// The shipped models, and one named `test` (`GET /api/models/{tenant_id}/test` is its).
fn model_files() -> Vec<(String, String)> {
    let file = |name: &str, text: &str| (format!("models/{name}"), text.to_owned());
    vec![
        file("User.json", include_str!("../../../models/User.json")),
        file("Product.json", include_str!("../../../models/Product.json")),
        file("Order.json", include_str!("../../../models/Order.json")),
        file(
            "test.json",
            r#"{"model": "test", "collection": "tests", "schema": {"name": {"type": "String"}}}"#,
        ),
    ]
}

/// The reload source: the same files every time.
struct Files;

#[async_trait::async_trait]
impl ModelSource for Files {
    async fn load(&self) -> Result<ModelSet, Vec<String>> {
        ModelSet::from_sources(model_files())
            .map_err(|errors| errors.iter().map(ToString::to_string).collect())
    }
}

fn user(name: &str) -> Value {
    json!({
        "email": format!("{name}@example.com"),
        "username": name,
        "firstName": name,
        "lastName": "Example",
    })
}

/// Who a request says it is.
#[derive(Clone, Copy)]
enum Caller<'a> {
    Admin,
    Tenant(&'a str),
    Nobody,
}

/// The app, with what the cases act on.
struct Fixture {
    app: App,
    /// The same state behind a client limit of one request a window.
    throttled: App,
    tenant_key: String,
    /// Read, replaced and updated.
    document: String,
    /// Deleted.
    doomed: String,
    /// Revoked.
    revocable_key: String,
    _data: tempfile::TempDir,
}

struct Answer {
    status: StatusCode,
    content_type: String,
    /// `Null` for an empty body or one that is not JSON (`content_type` says which).
    body: Value,
}

async fn send(
    app: &App,
    method: &Method,
    uri: &str,
    caller: Caller<'_>,
    body: Option<&Value>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    match caller {
        Caller::Admin => {
            request = request.header(header::AUTHORIZATION, format!("Bearer {ADMIN_KEY}"))
        }
        Caller::Tenant(key) => {
            request = request.header(header::AUTHORIZATION, format!("Bearer {key}"))
        }
        Caller::Nobody => {}
    }
    let body = match body {
        Some(body) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(serde_json::to_vec(body).unwrap())
        }
        None => Body::empty(),
    };
    let mut request = request.body(body).unwrap();
    // What `connection.rs` gives every request: the peer's address.
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))));
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = if bytes.is_empty() || !content_type.starts_with("application/json") {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!("{method} {uri}: {status} with a body that is not JSON ({e})")
        })
    };
    Answer {
        status,
        content_type,
        body,
    }
}

fn app_with(state: &AppState, client_limit: u32) -> App {
    BoxCloneService::new(dmr_http::app(
        state.clone(),
        &HttpConfig {
            edge: EdgeConfig {
                rate_limit_max_requests: client_limit,
                tenant_rate_limit_max_requests: dmr_http::MAX_RATE_LIMIT,
                ..EdgeConfig::default()
            },
            ..HttpConfig::default()
        },
    ))
}

async fn fixture() -> Fixture {
    let data = tempfile::tempdir().unwrap();
    let backend = Arc::new(
        SqliteBackend::open(SqliteConfig {
            data_dir: data.path().to_path_buf(),
            pool_size: 2,
            busy_timeout: Duration::from_secs(5),
        })
        .await
        .unwrap(),
    );
    let access = AccessControl::new(
        backend.clone(),
        AccessConfig {
            admin_key: Some(ADMIN_KEY.to_owned()),
            ..AccessConfig::default()
        },
    );
    let registry = Registry::new(
        backend,
        Files.load().await.unwrap(),
        RegistryConfig {
            model_source: Some(Arc::new(Files)),
            ..RegistryConfig::default()
        },
    );
    registry.record_schema_versions().await.unwrap();
    let state = AppState::new(
        registry,
        access,
        ServiceInfo {
            environment: "test".to_owned(),
            started: Instant::now(),
            pid: std::process::id(),
            commit: "test",
        },
    );
    let app = app_with(&state, dmr_http::MAX_RATE_LIMIT);

    let documents = format!("/api/models/{TENANT}/{MODEL}/documents");
    let create = async |name: &str| {
        let answer = send(
            &app,
            &Method::POST,
            &documents,
            Caller::Admin,
            Some(&user(name)),
        )
        .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        answer.body["_id"].as_str().unwrap().to_owned()
    };
    let document = create("ada").await;
    let doomed = create("alan").await;
    let keys = format!("/api/admin/tenants/{TENANT}/keys");
    let issue = async || {
        let answer = send(&app, &Method::POST, &keys, Caller::Admin, None).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        answer.body
    };
    let tenant_key = issue().await["key"].as_str().unwrap().to_owned();
    let revocable_key = issue().await["id"].as_str().unwrap().to_owned();
    Fixture {
        throttled: app_with(&state, 1),
        app,
        tenant_key,
        document,
        doomed,
        revocable_key,
        _data: data,
    }
}

/// What the refused request gets wrong.
enum Refusal {
    /// A path parameter set to this value.
    Param(&'static str, &'static str),
    /// This query string.
    Query(&'static str),
    /// This body.
    Body(Value),
    /// No API key.
    NoKey,
    /// A tenant key on an admin route.
    TenantKey,
    /// Over the client's rate limit.
    Throttled,
    /// Nothing a request can get wrong: checked against the document, which must list no
    /// client error for the route but the request deadline's 408.
    Nothing,
}

/// One route's requests: a valid one, and one it refuses, with the statuses they answer.
struct Case {
    method: Method,
    path: &'static str,
    query: &'static str,
    body: Option<Value>,
    params: Vec<(&'static str, String)>,
    status: u16,
    refusal: Refusal,
    refused_status: u16,
}

fn case(method: Method, path: &'static str, status: u16) -> Case {
    Case {
        method,
        path,
        query: "",
        body: None,
        params: Vec::new(),
        status,
        refusal: Refusal::Nothing,
        refused_status: 0,
    }
}

impl Case {
    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn query(mut self, query: &'static str) -> Self {
        self.query = query;
        self
    }

    fn param(mut self, name: &'static str, value: &str) -> Self {
        self.params.push((name, value.to_owned()));
        self
    }

    fn refused(mut self, refusal: Refusal, status: u16) -> Self {
        self.refusal = refusal;
        self.refused_status = status;
        self
    }
}

fn cases(f: &Fixture) -> Vec<Case> {
    use Method as M;
    use Refusal::*;
    const DOCS: &str = "/api/models/{tenant_id}/{model_name}/documents";
    const DOC: &str = "/api/models/{tenant_id}/{model_name}/documents/{id}";
    const KEYS: &str = "/api/admin/tenants/{tenant_id}/keys";
    const BAD_TENANT: &str = "bad.tenant";
    vec![
        case(M::GET, "/", 200),
        case(M::GET, "/health", 200),
        case(M::GET, "/api/models/health", 200).refused(Throttled, 429),
        case(M::GET, "/api/models/stats", 200).refused(TenantKey, 403),
        case(M::GET, "/metrics", 200).refused(NoKey, 401),
        // The dashboard's files: public, nothing a request can get wrong.
        case(M::GET, "/dashboard", 200),
        case(M::GET, "/dashboard.js", 200),
        case(M::GET, "/dashboard.css", 200),
        case(M::GET, "/api/models/schemas", 200).refused(NoKey, 401),
        case(M::POST, "/api/models/schemas/reload", 200).refused(TenantKey, 403),
        case(M::DELETE, "/api/models/cache", 200).refused(NoKey, 401),
        case(M::DELETE, "/api/models/cache/{tenant_id}", 200)
            .refused(Param("tenant_id", BAD_TENANT), 400),
        case(M::DELETE, "/api/models/connection/{tenant_id}", 200)
            .refused(Param("tenant_id", BAD_TENANT), 400),
        case(M::POST, KEYS, 201)
            .body(json!({"label": "ci"}))
            .refused(Body(json!({"label": 7})), 400),
        case(M::GET, KEYS, 200).refused(Param("tenant_id", BAD_TENANT), 400),
        case(
            M::DELETE,
            "/api/admin/tenants/{tenant_id}/keys/{key_id}",
            200,
        )
        .param("key_id", &f.revocable_key)
        .refused(Param("key_id", "no-such-key"), 404),
        case(M::GET, "/api/models/{tenant_id}", 200).refused(Param("tenant_id", BAD_TENANT), 400),
        case(M::POST, "/api/models/{tenant_id}/test", 200)
            .body(json!({"modelName": MODEL, "operation": "findOne"}))
            .refused(Body(json!({"operation": "drop"})), 400),
        case(M::GET, "/api/models/{tenant_id}/test", 200)
            .refused(Param("tenant_id", BAD_TENANT), 400),
        case(M::GET, "/api/models/{tenant_id}/{model_name}", 200)
            .refused(Param("model_name", "Invoice"), 404),
        case(M::POST, DOCS, 201)
            .body(user("grace"))
            .refused(Body(json!({"email": "nobody@example.com"})), 400),
        case(M::GET, DOCS, 200)
            .query("limit=2")
            .refused(Param("model_name", "Invoice"), 404),
        case(
            M::POST,
            "/api/models/{tenant_id}/{model_name}/documents/bulk",
            201,
        )
        .body(json!({"documents": [user("edsger"), user("barbara")]}))
        .refused(Body(json!({"documents": "none"})), 400),
        case(
            M::POST,
            "/api/models/{tenant_id}/{model_name}/documents/query",
            200,
        )
        .body(json!({"filter": {"role": "user"}, "limit": 5}))
        .refused(Body(json!({"filter": {"$where": "1"}})), 400),
        case(
            M::GET,
            "/api/models/{tenant_id}/{model_name}/documents/count",
            200,
        )
        .query("filter=%7B%22role%22%3A%22user%22%7D")
        .refused(Query("filter=not-json"), 400),
        case(M::GET, DOC, 200)
            .param("id", &f.document)
            .refused(Param("id", UNKNOWN_ID), 404),
        case(M::PUT, DOC, 200)
            .param("id", &f.document)
            .body(user("ada"))
            .refused(Param("id", "not-an-id"), 400),
        case(M::PATCH, DOC, 200)
            .param("id", &f.document)
            .body(json!({"$set": {"lastName": "Lovelace"}}))
            .refused(Body(json!({"$set": "lastName"})), 400),
        case(M::DELETE, DOC, 200)
            .param("id", &f.doomed)
            .refused(Param("id", UNKNOWN_ID), 404),
    ]
}

/// The path with its parameters filled in: the case's, else the fixture's defaults.
fn uri(template: &str, params: &[(&str, String)], query: &str) -> String {
    let mut uri = String::new();
    for segment in template.split('/').skip(1) {
        uri.push('/');
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                let value = params
                    .iter()
                    .rev()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.as_str())
                    .or(match name {
                        "tenant_id" => Some(TENANT),
                        "model_name" => Some(MODEL),
                        _ => None,
                    })
                    .unwrap_or_else(|| panic!("{template}: no value for {{{name}}}"));
                uri.push_str(value);
            }
            None => uri.push_str(segment),
        }
    }
    if !query.is_empty() {
        uri.push('?');
        uri.push_str(query);
    }
    uri
}

/// The OpenAPI document, and its schemas as validators.
struct Document {
    doc: Value,
}

impl Document {
    fn operation(&self, path: &str, method: &Method) -> &Value {
        let operation = &self.doc["paths"][path][method.as_str().to_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {path} is not in the document"
        );
        operation
    }

    /// The response the document gives for a status, its reference followed.
    fn response(&self, path: &str, method: &Method, status: StatusCode) -> &Value {
        let response = &self.operation(path, method)["responses"][status.as_str()];
        assert!(
            response.is_object(),
            "{method} {path} answered {status}, which the document does not list"
        );
        match response.get("$ref").and_then(Value::as_str) {
            Some(reference) => self
                .doc
                .pointer(reference.strip_prefix('#').unwrap())
                .unwrap_or_else(|| panic!("{reference} does not resolve")),
            None => response,
        }
    }

    fn check(&self, path: &str, method: &Method, answer: &Answer, sent: &str) {
        let at = format!("{method} {sent} ({path}) answered {}", answer.status);
        let response = self.response(path, method, answer.status);
        let content = response["content"]
            .as_object()
            .unwrap_or_else(|| panic!("{at}: the document gives no body for it"));
        let Some((media_type, content)) = content
            .iter()
            .find(|(media_type, _)| answer.content_type.starts_with(media_type.as_str()))
        else {
            panic!(
                "{at} as {}, which the document does not list",
                answer.content_type
            );
        };
        if media_type != "application/json" {
            assert_eq!(content["schema"]["type"], "string", "{at}: {media_type}");
            return;
        }
        let schema = &content["schema"];
        // The schema with the document's components beside it, so that its
        // `#/components/...` references resolve within it.
        let mut schema = schema.clone();
        schema
            .as_object_mut()
            .unwrap_or_else(|| panic!("{at}: a schema that is not an object"))
            .insert("components".to_owned(), self.doc["components"].clone());
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("{at}: the schema does not compile: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(&answer.body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{at}: the body does not match the document:\n  {}\nbody: {:#}",
            errors.join("\n  "),
            answer.body
        );
    }
}

#[tokio::test]
async fn every_route_answers_as_the_document_says() {
    let f = fixture().await;
    let document = Document {
        doc: serde_json::to_value(dmr_http::openapi_document()).unwrap(),
    };
    let mut cases: HashMap<(Method, &str), Case> = cases(&f)
        .into_iter()
        .map(|c| ((c.method.clone(), c.path), c))
        .collect();
    let mut missing = Vec::new();
    for row in dmr_http::route_table() {
        let Some(case) = cases.remove(&(row.method.clone(), row.path)) else {
            missing.push(format!("{} {}", row.method, row.path));
            continue;
        };
        let (method, path) = (&case.method, case.path);
        let valid = uri(path, &case.params, case.query);
        let answer = send(&f.app, method, &valid, Caller::Admin, case.body.as_ref()).await;
        assert_eq!(
            answer.status.as_u16(),
            case.status,
            "{method} {valid}: {}",
            answer.body
        );
        document.check(path, method, &answer, &valid);

        let mut app = &f.app;
        let mut caller = Caller::Admin;
        let mut params = case.params.clone();
        let mut query = case.query;
        let mut body = case.body.clone();
        match case.refusal {
            Refusal::Param(name, value) => params.push((name, value.to_owned())),
            Refusal::Query(refused) => query = refused,
            Refusal::Body(refused) => body = Some(refused),
            Refusal::NoKey => caller = Caller::Nobody,
            Refusal::TenantKey => caller = Caller::Tenant(&f.tenant_key),
            Refusal::Throttled => {
                // The first request of the window passes; the one after is refused.
                app = &f.throttled;
                let first = send(app, method, &valid, caller, body.as_ref()).await;
                assert!(
                    first.status.is_success(),
                    "{method} {valid}: {}",
                    first.status
                );
            }
            Refusal::Nothing => {
                let responses = document.operation(path, method)["responses"]
                    .as_object()
                    .unwrap();
                let client_errors: Vec<&String> = responses
                    .keys()
                    .filter(|s| s.starts_with('4') && s.as_str() != "408")
                    .collect();
                assert!(
                    client_errors.is_empty(),
                    "{method} {path} documents {client_errors:?}: give it a refused request"
                );
                continue;
            }
        }
        let refused = uri(path, &params, query);
        let answer = send(app, method, &refused, caller, body.as_ref()).await;
        assert_eq!(
            answer.status.as_u16(),
            case.refused_status,
            "{method} {refused}: {}",
            answer.body
        );
        document.check(path, method, &answer, &refused);
    }
    assert!(missing.is_empty(), "routes without a case: {missing:?}");
    let unknown: Vec<String> = cases.keys().map(|(m, p)| format!("{m} {p}")).collect();
    assert!(
        unknown.is_empty(),
        "cases for routes the table does not have: {unknown:?}"
    );
}
