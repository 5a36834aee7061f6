//! Property tests of the one parse of a request, over random paths (every template of the
//! table, literal segments and parameters spelled with random percent-encodings, invalid
//! escapes, reserved words, non-ASCII) and random credentials:
//!
//! - the context matches and decodes as axum does: for every request, the route (or 404 /
//!   405) and every decoded parameter equal what an axum router built from the same
//!   templates hands its handler;
//! - through the whole app, what the handler sees is the context's tenant: a tenant route
//!   answers for exactly the tenant the context decoded, a tenant key reaches its own
//!   tenant however its id is spelled and never another's.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request};
use axum::http::{Method, StatusCode};
use axum::routing::{MethodFilter, on};
use dmr_model::ModelSet;
use dmr_registry::{AccessConfig, AccessControl, Registry, RegistryConfig};
use dmr_store::{Backend, TenantId};
use dmr_store_sqlite::{SqliteBackend, SqliteConfig};
use proptest::prelude::*;
use tower::ServiceExt;

use super::context::{RequestContext, tenant_named};
use super::route_index::{Matched, RouteIndex};
use crate::routes::{route_table, rows};
use crate::state::{AppState, HttpConfig, ServiceInfo, leak};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn sqlite(dir: &std::path::Path) -> Arc<dyn Backend> {
    Arc::new(
        SqliteBackend::open(SqliteConfig {
            data_dir: dir.to_owned(),
            pool_size: 2,
            busy_timeout: Duration::from_secs(5),
        })
        .await
        .unwrap(),
    )
}

/// Each byte of `text` either as it is or percent-encoded (either case of hex digit).
fn spelled(text: String) -> impl Strategy<Value = String> {
    let bytes = text.into_bytes();
    let n = bytes.len();
    proptest::collection::vec(0..3u8, n).prop_map(move |choices| {
        bytes
            .iter()
            .zip(choices)
            .map(|(b, choice)| match choice {
                0 if b.is_ascii_alphanumeric() || b"-_.~".contains(b) => (*b as char).to_string(),
                1 => format!("%{b:02x}"),
                _ => format!("%{b:02X}"),
            })
            .collect()
    })
}

/// A path segment: valid ids and words of the table, spelled at random; strings that are
/// not valid ids; broken escapes; encoded non-ASCII and slashes.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        // The two tenants with keys, three times as often as the other words.
        4 => prop::sample::select(vec!["acme", "globex", "acme", "globex", "acme", "globex",
            "a-b_9", "User", "stats", "cache", "test", "documents", "65f1c0ffee0123456789abcd"])
            .prop_flat_map(|word| spelled(word.to_owned())),
        2 => "[A-Za-z0-9_.~!$&'()*+,;=:@-]{1,12}",
        1 => prop::sample::select(vec!["%", "%6", "%zz", "a%2Fb", "caf%C3%A9", "%C3", "%FF%FE",
            "a%20b", "x".repeat(49).leak()])
            .prop_map(str::to_owned),
    ]
}

/// A path: a template of the table with random segments for its parameters (and now and
/// then a literal segment spelled encoded), or a few random segments.
fn path() -> impl Strategy<Value = String> {
    let templates: Vec<&'static str> = route_table().iter().map(|r| r.path).collect();
    prop_oneof![
        4 => (prop::sample::select(templates), proptest::collection::vec(segment(), 6), any::<bool>())
            .prop_map(|(template, mut fill, encode_literal)| {
                template
                    .split('/')
                    .map(|part| {
                        if part.starts_with('{') {
                            fill.pop().unwrap_or_else(|| "acme".to_owned())
                        } else if encode_literal && part.len() > 1 {
                            format!("%{:02X}{}", part.as_bytes()[0], &part[1..])
                        } else {
                            part.to_owned()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("/")
            }),
        1 => proptest::collection::vec(segment(), 0..5)
            .prop_map(|segments| format!("/{}", segments.join("/"))),
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop::sample::select(vec![
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
    ])
}

/// axum's router over the same templates, as the oracle: its handler answers its template
/// and the parameters axum decoded (or axum's rejection).
fn oracle() -> Router {
    let mut router = Router::new();
    let mut templates: Vec<&'static str> = Vec::new();
    for row in route_table() {
        if !templates.contains(&row.path) {
            templates.push(row.path);
        }
    }
    for template in templates {
        let mut method_router = axum::routing::MethodRouter::new();
        for row in route_table().into_iter().filter(|r| r.path == template) {
            let filter = MethodFilter::try_from(row.method).unwrap();
            method_router = method_router.merge(on(
                filter,
                move |params: Result<Path<HashMap<String, String>>, _>| async move {
                    let params: HashMap<String, String> = match params {
                        Ok(Path(params)) => params,
                        Err(
                            axum::extract::rejection::PathRejection::FailedToDeserializePathParams(
                                _,
                            ),
                        ) => HashMap::from([("<rejected>".to_owned(), String::new())]),
                        Err(other) => panic!("{other}"),
                    };
                    axum::Json((template, params))
                },
            ));
        }
        router = router.route(template, method_router);
    }
    router
}

type Answer = (String, HashMap<String, String>);

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn the_context_matches_and_decodes_as_axum_does(method in method(), path in path()) {
        thread_local! {
            static MATCHING: Matching = matching();
        }
        MATCHING.with(|m| check_against_axum(m, method, &path))?;
    }
}

/// What the first property needs, made once per thread.
struct Matching {
    runtime: tokio::runtime::Runtime,
    access: AccessControl,
    index: &'static RouteIndex,
    oracle: Router,
    _dir: tempfile::TempDir,
}

fn matching() -> Matching {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    Matching {
        access: AccessControl::new(
            runtime.block_on(sqlite(dir.path())),
            AccessConfig::default(),
        ),
        index: leak(RouteIndex::new(rows())),
        oracle: oracle(),
        runtime,
        _dir: dir,
    }
}

fn check_against_axum(m: &Matching, method: Method, path: &str) -> Result<(), TestCaseError> {
    let Ok(request) = Request::builder()
        .method(method.clone())
        .uri(path)
        .body(Body::empty())
    else {
        return Ok(());
    };
    let (runtime, access, index) = (&m.runtime, &m.access, m.index);
    let context = RequestContext::parse(index, access, &request);
    // axum answers HEAD with its GET route and no body: ask it the GET to read its answer.
    let (mut parts, body) = request.into_parts();
    if parts.method == Method::HEAD {
        parts.method = Method::GET;
    }
    let answer = runtime
        .block_on(m.oracle.clone().oneshot(Request::from_parts(parts, body)))
        .unwrap();
    let status = answer.status();
    let body = runtime
        .block_on(axum::body::to_bytes(answer.into_body(), usize::MAX))
        .unwrap();
    match context.matched() {
        Matched::Unrouted => prop_assert_eq!(status, StatusCode::NOT_FOUND, "{} {}", method, path),
        Matched::MethodNotAllowed(_) => {
            prop_assert_eq!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{} {}",
                method,
                path
            )
        }
        Matched::Route(route) => {
            prop_assert_eq!(status, StatusCode::OK, "{} {}", method, path);
            let (template, params): Answer = serde_json::from_slice(&body).unwrap();
            prop_assert_eq!(template, route.info.path);
            if params.contains_key("<rejected>") {
                // axum refuses a parameter that is not UTF-8 once decoded; the context
                // reads it as text that no id, name or key is.
                let invalid = context.tenant().is_some_and(|t| t.is_err())
                    || context.model().is_some_and(|m| m.is_err())
                    || ["id", "key_id"]
                        .iter()
                        .any(|n| context.param(n).is_some_and(|v| v.contains('\u{FFFD}')));
                prop_assert!(invalid, "{} {}", method, path);
                return Ok(());
            }
            for (name, decoded) in &params {
                match name.as_str() {
                    "tenant_id" => {
                        let ours = context.tenant().unwrap();
                        let theirs = tenant_named(decoded);
                        prop_assert_eq!(ours.as_ref().ok(), theirs.as_ref().ok());
                        if let Ok(tenant) = ours {
                            prop_assert_eq!(tenant.as_str(), decoded.as_str());
                        }
                    }
                    "model_name" => match context.model().unwrap() {
                        Ok(model) => prop_assert_eq!(model.as_str(), decoded.as_str()),
                        Err(text) => {
                            prop_assert_eq!(text, decoded.as_str());
                            prop_assert!(!dmr_model::is_valid_model_name(decoded));
                        }
                    },
                    other => prop_assert_eq!(context.param(other), Some(decoded.as_str())),
                }
            }
        }
    }
    Ok(())
}

/// Everyone who may call: nobody, a key of `acme`, a key of `globex`, the admin key, and a
/// key that is not one.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Nobody,
    Acme,
    Globex,
    Admin,
    Malformed,
}

const ADMIN: &str = "an-admin-key-of-at-least-32-printable-characters";

struct Served {
    runtime: tokio::runtime::Runtime,
    index: &'static RouteIndex,
    service: Box<dyn Fn(Request) -> axum::response::Response>,
    keys: HashMap<&'static str, String>,
    _dir: tempfile::TempDir,
}

fn served() -> Served {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let backend = runtime.block_on(sqlite(dir.path()));
    let models = ModelSet::from_sources(vec![(
        "User.json".to_owned(),
        include_str!("../../../../models/User.json").to_owned(),
    )])
    .unwrap();
    let access = AccessControl::new(
        backend.clone(),
        AccessConfig {
            admin_key: Some(ADMIN.to_owned()),
            ..AccessConfig::default()
        },
    );
    let mut keys = HashMap::new();
    for tenant in ["acme", "globex"] {
        let issued = runtime
            .block_on(access.issue_key(&TenantId::parse(tenant).unwrap(), None))
            .unwrap();
        keys.insert(tenant, issued.key);
    }
    let state = AppState::new(
        Registry::new(backend, models, RegistryConfig::default()),
        access,
        ServiceInfo {
            environment: "test".to_owned(),
            started: Instant::now(),
            pid: 0,
            commit: "test",
        },
    );
    let config = HttpConfig {
        edge: crate::edge::EdgeConfig {
            rate_limit_max_requests: crate::rate_limit::MAX_LIMIT,
            tenant_rate_limit_max_requests: crate::rate_limit::MAX_LIMIT,
            ..crate::edge::EdgeConfig::default()
        },
        ..HttpConfig::default()
    };
    let app = crate::routes::app(state, &config);
    let handle = runtime.handle().clone();
    Served {
        index: leak(RouteIndex::new(rows())),
        service: Box::new(move |request| handle.block_on(app.clone().oneshot(request)).unwrap()),
        runtime,
        keys,
        _dir: dir,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn the_handler_sees_the_contexts_tenant_and_a_key_only_its_own(
        tenant in segment(),
        caller in prop::sample::select(vec![Caller::Nobody, Caller::Acme, Caller::Globex, Caller::Admin, Caller::Malformed]),
        bearer in any::<bool>(),
    ) {
        thread_local! {
            static SERVED: Served = served();
        }
        SERVED.with(|served| {
            let path = format!("/api/models/{tenant}/User");
            let key = match caller {
                Caller::Nobody => None,
                Caller::Acme => Some(served.keys["acme"].clone()),
                Caller::Globex => Some(served.keys["globex"].clone()),
                Caller::Admin => Some(ADMIN.to_owned()),
                Caller::Malformed => Some("dmr_not-a-key".to_owned()),
            };
            let mut request = Request::get(&path).body(Body::empty()).unwrap();
            if let Some(key) = key {
                let (name, value) = if bearer { ("authorization", format!("Bearer {key}")) } else { ("x-api-key", key) };
                request.headers_mut().insert(name, value.parse().unwrap());
            }
            request.extensions_mut().insert(ConnectInfo("192.0.2.1:1".parse::<SocketAddr>().unwrap()));
            let decoded = percent_encoding::percent_decode_str(&tenant).decode_utf8_lossy().into_owned();
            let valid = tenant_named(&decoded).is_ok();
            let response = (served.service)(request);
            let status = response.status();
            let body = served.runtime.block_on(axum::body::to_bytes(response.into_body(), usize::MAX)).unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            // A literal word of another route (`/api/models/cache/User` is the cache
            // route's path, with `User` for its tenant) is not this route at all: that
            // route answers, here a 405 before any key is asked for.
            let routed_elsewhere = !matches!(
                served.index.find(&Method::GET, &path).0,
                Matched::Route(route) if route.info.path == crate::routes::paths::MODEL
            );
            let expected = match caller {
                _ if routed_elsewhere => StatusCode::METHOD_NOT_ALLOWED,
                Caller::Nobody => StatusCode::UNAUTHORIZED,
                Caller::Malformed => StatusCode::UNAUTHORIZED,
                Caller::Admin if valid => StatusCode::OK,
                Caller::Admin => StatusCode::BAD_REQUEST,
                Caller::Acme if valid && decoded == "acme" => StatusCode::OK,
                Caller::Globex if valid && decoded == "globex" => StatusCode::OK,
                Caller::Acme | Caller::Globex => StatusCode::NOT_FOUND,
            };
            prop_assert_eq!(status, expected, "{:?} on {}: {}", caller, path, body);
            if status == StatusCode::OK {
                prop_assert_eq!(body["tenantId"].as_str(), Some(decoded.as_str()), "{}", path);
            }
            Ok(())
        })?;
    }
}
