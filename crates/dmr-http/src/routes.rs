//! The one place where routes are assembled: one table of method, path, who may call it
//! and handler. The router is built from it, and so is `route_table()`, which the
//! isolation-matrix test compares with its own expectations: a route cannot be added
//! without an access rule, nor without the test knowing it. The OpenAPI document is built
//! from the same handlers' `#[utoipa::path]` annotations (`api_routes`), and a test holds
//! the table and the document equal: a route cannot be added undocumented either.

use std::convert::Infallible;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::Method;
use axum::response::Response;
use axum::routing::{MethodFilter, on};
use tower::{Service, ServiceBuilder};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Access, Guarded};
use crate::edge::{self, BaseHeadersLayer, BrowserHeadersLayer, LimitsLayer};
use crate::handlers::{api_keys, cache, docs, documents, fallback, info, models, monitoring};
use crate::middleware;
use crate::openapi::{self, ApiDoc};
use crate::state::{AppState, HttpConfig};

/// One row of the route table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: Method,
    /// axum's template, e.g. `/api/models/{tenant_id}/{model_name}`.
    pub path: &'static str,
    pub access: Access,
}

/// Where the rows go: into a router, or into a list.
trait Routes: Sized {
    fn add<H, T>(self, method: Method, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static;
}

impl Routes for Vec<RouteInfo> {
    fn add<H, T>(mut self, method: Method, path: &'static str, access: Access, _: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.push(RouteInfo {
            method,
            path,
            access,
        });
        self
    }
}

struct Building(Router<AppState>);

impl Routes for Building {
    fn add<H, T>(self, method: Method, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method).expect("the table uses standard methods");
        Building(
            self.0
                .route(path, on(filter, Guarded::new(handler, access, path))),
        )
    }
}

/// Full paths, no `nest`: a nested router costs a prefix strip and a boxed service clone
/// on every request (seen in the L1-hit profile).
fn table<R: Routes>(routes: R) -> R {
    use Access::{Admin, AnyKey, Public, Tenant};
    const DOCS: &str = "/api/models/{tenant_id}/{model_name}/documents";
    const DOC: &str = "/api/models/{tenant_id}/{model_name}/documents/{id}";
    const KEYS: &str = "/api/admin/tenants/{tenant_id}/keys";
    routes
        .add(Method::GET, "/", Public, info::root)
        .add(Method::GET, "/health", Public, info::health)
        .add(
            Method::GET,
            "/api/models/health",
            Public,
            monitoring::health,
        )
        .add(Method::GET, "/api/models/stats", Admin, monitoring::stats)
        .add(Method::GET, "/api/models/schemas", AnyKey, models::schemas)
        .add(
            Method::POST,
            "/api/models/schemas/reload",
            Admin,
            models::reload,
        )
        .add(
            Method::DELETE,
            "/api/models/cache",
            Admin,
            cache::invalidate_all,
        )
        .add(
            Method::DELETE,
            "/api/models/cache/{tenant_id}",
            Admin,
            cache::invalidate_tenant,
        )
        .add(
            Method::DELETE,
            "/api/models/connection/{tenant_id}",
            Admin,
            cache::close_connection,
        )
        .add(Method::POST, KEYS, Admin, api_keys::issue)
        .add(Method::GET, KEYS, Admin, api_keys::list)
        .add(
            Method::DELETE,
            "/api/admin/tenants/{tenant_id}/keys/{key_id}",
            Admin,
            api_keys::revoke,
        )
        .add(
            Method::GET,
            "/api/models/{tenant_id}",
            Tenant,
            models::tenant_models,
        )
        .add(
            Method::POST,
            "/api/models/{tenant_id}/test",
            Tenant,
            models::test_operation,
        )
        // A model named `test`: the seed routes this GET to the model, not to the operation.
        .add(
            Method::GET,
            "/api/models/{tenant_id}/test",
            Tenant,
            models::model_named_test,
        )
        .add(
            Method::GET,
            "/api/models/{tenant_id}/{model_name}",
            Tenant,
            models::model,
        )
        .add(Method::POST, DOCS, Tenant, documents::create)
        .add(Method::GET, DOCS, Tenant, documents::list)
        .add(
            Method::POST,
            "/api/models/{tenant_id}/{model_name}/documents/bulk",
            Tenant,
            documents::create_many,
        )
        .add(
            Method::POST,
            "/api/models/{tenant_id}/{model_name}/documents/query",
            Tenant,
            documents::query,
        )
        .add(
            Method::GET,
            "/api/models/{tenant_id}/{model_name}/documents/count",
            Tenant,
            documents::count,
        )
        .add(Method::GET, DOC, Tenant, documents::get)
        .add(Method::PUT, DOC, Tenant, documents::replace)
        .add(Method::PATCH, DOC, Tenant, documents::update)
        .add(Method::DELETE, DOC, Tenant, documents::delete)
}

/// Every route: method, path and who may call it.
pub fn route_table() -> Vec<RouteInfo> {
    table(Vec::new())
}

/// The application: the routed handlers inside the edge's layers, outermost first: CORS
/// (and preflights), request id and access log, limits (rate, tenant, JSON depth), the
/// base headers (Helmet's) under the route's answer, body limit, panic catcher
/// (ARCHITECTURE.md says why); each route's access rule is checked by its `Guarded`
/// handler, innermost. Serve it with `with_peer_address`.
///
/// The layers wrap the router once, as one service, rather than through `Router::layer`,
/// which wraps every route in each layer and so costs each request a boxed clone of the
/// service and a boxed future per layer (seen in the L1-hit profile; `benches/edge.rs`).
pub fn app(
    state: AppState,
    config: &HttpConfig,
) -> impl Service<Request, Response = Response, Error = Infallible, Future: Send + 'static>
+ Clone
+ Send
+ Sync
+ 'static {
    let routes = table(Building(Router::new()))
        .0
        .merge(docs::routes(&openapi_document()))
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .with_state(state.clone());
    let base = edge::base_headers(&config.edge);
    ServiceBuilder::new()
        .layer(BrowserHeadersLayer::new(&config.edge, base))
        .layer(middleware::ObserveLayer {
            state: state.clone(),
            timeout: config.request_timeout,
            base,
        })
        .layer(LimitsLayer::new(
            &config.edge,
            Some(state.access.clone()),
            base,
        ))
        .layer(BaseHeadersLayer(base))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(middleware::CatchPanicLayer)
        .service(routes)
}

/// The document's source: every handler of the table, through `routes!`, which takes each
/// path and method from the handler's `#[utoipa::path]` (a handler without one does not
/// compile here). Only the document is kept; the router is the table's.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(info::root))
        .routes(routes!(info::health))
        .routes(routes!(monitoring::health))
        .routes(routes!(monitoring::stats))
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
        assert_eq!(public, ["/", "/health", "/api/models/health"]);
    }
}
