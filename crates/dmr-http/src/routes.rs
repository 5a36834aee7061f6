//! The one place where routes are assembled: one table of method, path, who may call it
//! and handler. Everything else is derived from it: the edge's matcher (`edge::RouteIndex`,
//! which every layer's `RequestContext` comes from), `route_table()` (the isolation-matrix
//! test compares it with its own expectations: a route cannot be added without an access
//! rule, nor without the test knowing it), the tenant ids the routes would shadow, and the
//! OpenAPI document's access rules. The document itself is built from the same handlers'
//! `#[utoipa::path]` annotations (`api_routes`), and a test holds the table and the document
//! equal: a route cannot be added undocumented either.
//!
//! No other file names a route's path: what the edge does to a family of routes (the rate
//! limit of `/api/`) is asked of this module.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::OnceLock;

use axum::extract::Request;
use axum::handler::Handler;
use axum::http::Method;
use axum::response::Response;
use tower::Service;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Access;
use crate::edge::{self, HandlerFuture, Route, RouteIndex};
use crate::handlers::{
    api_keys, cache, dashboard, docs, documents, fallback, info, models, monitoring,
};
use crate::openapi::{self, ApiDoc};
use crate::state::{AppState, HttpConfig, leak};

/// One row of the route table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: Method,
    /// axum's template, e.g. `/api/models/{tenant_id}/{model_name}`.
    pub path: &'static str,
    pub access: Access,
}

/// Every path of the API: the table's, and the document's two pages. Handlers name theirs
/// in `#[utoipa::path]` by these constants, so each path is written once.
pub mod paths {
    pub const ROOT: &str = "/";
    pub const HEALTH: &str = "/health";
    pub const MODELS_HEALTH: &str = "/api/models/health";
    pub const STATS: &str = "/api/models/stats";
    pub const METRICS: &str = "/metrics";
    /// The live dashboard's page, script and style sheet (public: no data in them).
    pub const DASHBOARD: &str = "/dashboard";
    pub const DASHBOARD_SCRIPT: &str = "/dashboard.js";
    pub const DASHBOARD_STYLE: &str = "/dashboard.css";
    pub const SCHEMAS: &str = "/api/models/schemas";
    pub const SCHEMAS_RELOAD: &str = "/api/models/schemas/reload";
    pub const CACHE: &str = "/api/models/cache";
    pub const TENANT_CACHE: &str = "/api/models/cache/{tenant_id}";
    pub const TENANT_CONNECTION: &str = "/api/models/connection/{tenant_id}";
    pub const TENANT_KEYS: &str = "/api/admin/tenants/{tenant_id}/keys";
    pub const TENANT_KEY: &str = "/api/admin/tenants/{tenant_id}/keys/{key_id}";
    pub const TENANT: &str = "/api/models/{tenant_id}";
    pub const TENANT_TEST: &str = "/api/models/{tenant_id}/test";
    pub const MODEL: &str = "/api/models/{tenant_id}/{model_name}";
    pub const DOCUMENTS: &str = "/api/models/{tenant_id}/{model_name}/documents";
    pub const DOCUMENTS_BULK: &str = "/api/models/{tenant_id}/{model_name}/documents/bulk";
    pub const DOCUMENTS_QUERY: &str = "/api/models/{tenant_id}/{model_name}/documents/query";
    pub const DOCUMENTS_COUNT: &str = "/api/models/{tenant_id}/{model_name}/documents/count";
    pub const DOCUMENT: &str = "/api/models/{tenant_id}/{model_name}/documents/{id}";
    /// The OpenAPI document, and Swagger UI on it (served beside the table, not in it).
    pub const OPENAPI_DOCUMENT: &str = "/openapi.json";
    pub const OPENAPI_DOCS: &str = "/docs";
}

/// The seed's API, where its rate limiter applied (`app.use('/api/', limiter)`).
const API_PREFIX: &str = "/api/";

/// Whether the per-client and per-tenant limits cover a request's path: every path under
/// `/api/`, routed or not (a scan of unknown `/api/` paths is limited too).
pub fn is_rate_limited(path: &str) -> bool {
    path.starts_with(API_PREFIX)
}

/// The rows, in the order the table lists them.
struct Rows(Vec<Route>);

impl Rows {
    fn add<H, T>(mut self, method: Method, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState, Future = HandlerFuture> + Sync,
        T: 'static,
    {
        self.0.push(Route::new(
            RouteInfo {
                method,
                path,
                access,
            },
            handler,
        ));
        self
    }
}

/// Full paths, no `nest`: the edge matches each request once against exactly these.
pub(crate) fn rows() -> Vec<Route> {
    use Access::{Admin, AnyKey, Public, Tenant};
    use paths::*;
    Rows(Vec::new())
        .add(Method::GET, ROOT, Public, info::root)
        .add(Method::GET, HEALTH, Public, info::health)
        .add(Method::GET, MODELS_HEALTH, Public, monitoring::health)
        .add(Method::GET, STATS, Admin, monitoring::stats)
        .add(Method::GET, METRICS, Admin, monitoring::metrics)
        // The page carries no data; the stats it polls are admin-only.
        .add(Method::GET, DASHBOARD, Public, dashboard::page)
        .add(Method::GET, DASHBOARD_SCRIPT, Public, dashboard::script)
        .add(Method::GET, DASHBOARD_STYLE, Public, dashboard::style)
        .add(Method::GET, SCHEMAS, AnyKey, models::schemas)
        .add(Method::POST, SCHEMAS_RELOAD, Admin, models::reload)
        .add(Method::DELETE, CACHE, Admin, cache::invalidate_all)
        .add(
            Method::DELETE,
            TENANT_CACHE,
            Admin,
            cache::invalidate_tenant,
        )
        .add(
            Method::DELETE,
            TENANT_CONNECTION,
            Admin,
            cache::close_connection,
        )
        .add(Method::POST, TENANT_KEYS, Admin, api_keys::issue)
        .add(Method::GET, TENANT_KEYS, Admin, api_keys::list)
        .add(Method::DELETE, TENANT_KEY, Admin, api_keys::revoke)
        .add(Method::GET, TENANT, Tenant, models::tenant_models)
        .add(Method::POST, TENANT_TEST, Tenant, models::test_operation)
        // A model named `test`: the seed routes this GET to the model, not to the operation.
        .add(Method::GET, TENANT_TEST, Tenant, models::model_named_test)
        .add(Method::GET, MODEL, Tenant, models::model)
        .add(Method::POST, DOCUMENTS, Tenant, documents::create)
        .add(Method::GET, DOCUMENTS, Tenant, documents::list)
        .add(Method::POST, DOCUMENTS_BULK, Tenant, documents::create_many)
        .add(Method::POST, DOCUMENTS_QUERY, Tenant, documents::query)
        .add(Method::GET, DOCUMENTS_COUNT, Tenant, documents::count)
        .add(Method::GET, DOCUMENT, Tenant, documents::get)
        .add(Method::PUT, DOCUMENT, Tenant, documents::replace)
        .add(Method::PATCH, DOCUMENT, Tenant, documents::update)
        .add(Method::DELETE, DOCUMENT, Tenant, documents::delete)
        .0
}

/// Every route: method, path and who may call it.
pub fn route_table() -> Vec<RouteInfo> {
    rows().into_iter().map(|route| route.info).collect()
}

/// Words a tenant id may not be: the literal segments that stand where some route has
/// `{tenant_id}` (`/api/models/stats` beside `/api/models/{tenant_id}`), since the path
/// with that word reaches the other route and a tenant so named would half-work. Derived
/// from the table, so a new route reserves its word by being added.
pub fn reserved_tenant_words() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let paths: Vec<&'static str> = route_table().iter().map(|r| r.path).collect();
        shadowed_by_siblings(&paths, "{tenant_id}")
    })
}

/// The literal segments of `paths` at the position where a path with the same literal
/// prefix has `param`.
fn shadowed_by_siblings(paths: &[&'static str], param: &str) -> Vec<&'static str> {
    let mut words = BTreeSet::new();
    for path in paths {
        let segments: Vec<&str> = path.split('/').collect();
        let Some(at) = segments.iter().position(|s| *s == param) else {
            continue;
        };
        for other in paths {
            let theirs: Vec<&'static str> = other.split('/').collect();
            if theirs.len() > at && theirs[..at] == segments[..at] && !theirs[at].starts_with('{') {
                words.insert(theirs[at]);
            }
        }
    }
    words.into_iter().collect()
}

/// The application: the table's routes behind the edge's layers (`edge::assemble` says
/// which, in which order, and why). Serve it with `serve` (server/), which tags each request with its peer.
pub fn app(
    state: AppState,
    config: &HttpConfig,
) -> impl Service<Request, Response = Response, Error = Infallible, Future: Send + 'static>
+ Clone
+ Send
+ Sync
+ 'static {
    // What the table does not route: the document and its page, else the unknown-route 404.
    state.http.serve_route(config.metrics_route);
    let unrouted = docs::routes(&openapi_document())
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed);
    edge::assemble(state, config, leak(RouteIndex::new(rows())), unrouted)
}

/// The document's source: every handler of the table, through `routes!`, which takes each
/// path and method from the handler's `#[utoipa::path]` (a handler without one does not
/// compile here). Only the document is kept; the routing is the table's.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(info::root))
        .routes(routes!(info::health))
        .routes(routes!(monitoring::health))
        .routes(routes!(monitoring::stats))
        .routes(routes!(monitoring::metrics))
        .routes(routes!(dashboard::page))
        .routes(routes!(dashboard::script))
        .routes(routes!(dashboard::style))
        .routes(routes!(models::schemas))
        .routes(routes!(models::reload))
        .routes(routes!(cache::invalidate_all))
        .routes(routes!(cache::invalidate_tenant))
        .routes(routes!(cache::close_connection))
        .routes(routes!(api_keys::issue, api_keys::list))
        .routes(routes!(api_keys::revoke))
        .routes(routes!(models::tenant_models))
        .routes(routes!(models::test_operation, models::model_named_test))
        .routes(routes!(models::model))
        .routes(routes!(documents::create, documents::list))
        .routes(routes!(documents::create_many))
        .routes(routes!(documents::query))
        .routes(routes!(documents::count))
        .routes(routes!(
            documents::get,
            documents::replace,
            documents::update,
            documents::delete
        ))
}

/// The finished document, as `/openapi.json` serves it.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut document = openapi::finish(api_routes().into_openapi());
    openapi::apply_access(&mut document, &route_table());
    document
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_document_lists_exactly_the_routes_of_the_table() {
        let table: BTreeSet<(String, String)> = route_table()
            .iter()
            .map(|r| (r.method.to_string(), r.path.to_owned()))
            .collect();
        let document: BTreeSet<(String, String)> = openapi_document()
            .paths
            .paths
            .iter()
            .flat_map(|(path, item)| {
                [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ]
                .into_iter()
                .filter(|(_, present)| *present)
                .map(move |(method, _)| (method.to_owned(), path.clone()))
            })
            .collect();
        assert_eq!(table, document);
    }

    #[test]
    fn every_route_is_listed_once_and_tenant_routes_name_their_tenant() {
        let table = route_table();
        let mut seen = std::collections::HashSet::new();
        for row in &table {
            assert!(
                seen.insert((row.method.clone(), row.path)),
                "{} {} twice",
                row.method,
                row.path
            );
            if row.access == Access::Tenant {
                assert!(row.path.contains("{tenant_id}"), "{}", row.path);
            }
        }
        let public: Vec<&str> = table
            .iter()
            .filter(|r| r.access == Access::Public)
            .map(|r| r.path)
            .collect();
        assert_eq!(
            public,
            [
                "/",
                "/health",
                "/api/models/health",
                "/dashboard",
                "/dashboard.js",
                "/dashboard.css"
            ]
        );
    }

    #[test]
    fn the_reserved_words_are_the_routes_beside_a_tenant() {
        assert_eq!(
            reserved_tenant_words(),
            ["cache", "connection", "health", "schemas", "stats"]
        );
        // A new route beside `{tenant_id}` reserves its word; one elsewhere does not.
        let paths = [
            "/api/models/{tenant_id}",
            "/api/models/stats",
            "/api/admin/tenants/{tenant_id}/keys",
            "/api/admin/tenants/import",
            "/api/admin/rollouts/{id}",
        ];
        assert_eq!(
            shadowed_by_siblings(&paths, "{tenant_id}"),
            ["import", "stats"]
        );
    }

    #[test]
    fn the_api_family_is_rate_limited_and_the_probes_are_not() {
        assert!(is_rate_limited("/api/models/acme/User"));
        assert!(is_rate_limited("/api/nothing/here"));
        assert!(!is_rate_limited("/health"));
        assert!(!is_rate_limited("/"));
        assert!(!is_rate_limited("/docs/"));
        assert!(!is_rate_limited("/apix"));
    }
}
