//! The route table as the edge matches it: one `matchit` lookup (the matcher axum itself
//! uses) per request, at the outermost layer, giving the row, its access rule and its path
//! parameters to every layer after it (`context.rs`) and the row's handler to `dispatch.rs`.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use axum::extract::Request;
use axum::handler::Handler;
use axum::http::{HeaderValue, Method};
use axum::response::Response;

use crate::auth::Access;
use crate::routes::RouteInfo;
use crate::state::AppState;

/// What an axum `async fn` handler returns when called: already one box, so the table
/// holds handlers type-erased without boxing their futures again.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Response> + Send>>;

/// A handler with its extractor types erased.
trait Endpoint: Send + Sync {
    fn call(&self, request: Request, state: AppState) -> HandlerFuture;
}

struct HandlerEndpoint<H, T>(H, PhantomData<fn() -> T>);

impl<H, T> Endpoint for HandlerEndpoint<H, T>
where
    H: Handler<T, AppState, Future = HandlerFuture> + Sync,
    T: 'static,
{
    fn call(&self, request: Request, state: AppState) -> HandlerFuture {
        self.0.clone().call(request, state)
    }
}

/// A row of the table with its handler.
pub struct Route {
    pub info: RouteInfo,
    /// The row's position in the table: its series in `metrics::HttpMetrics`.
    pub slot: usize,
    endpoint: Box<dyn Endpoint>,
}

impl Route {
    /// Panics when a `Tenant` route has no `{tenant_id}`: a mistake in the route table,
    /// caught by any test that builds the app.
    pub fn new<H, T>(info: RouteInfo, handler: H) -> Self
    where
        H: Handler<T, AppState, Future = HandlerFuture> + Sync,
        T: 'static,
    {
        assert!(
            info.access != Access::Tenant || info.path.contains("/{tenant_id}"),
            "route {} is tenant-scoped but has no {{tenant_id}}",
            info.path
        );
        Route {
            info,
            slot: 0,
            endpoint: Box::new(HandlerEndpoint(handler, PhantomData)),
        }
    }

    pub fn call(&self, request: Request, state: AppState) -> HandlerFuture {
        self.endpoint.call(request, state)
    }
}

/// One path of the table and the routes (one per method) it serves.
pub struct PathEntry {
    pub template: &'static str,
    routes: Vec<Route>,
    /// The methods, as a 405 names them (`Allow`), HEAD included where GET is.
    pub allow: HeaderValue,
}

impl PathEntry {
    /// HEAD is served by the GET route (the server sends no body), as axum does.
    fn route(&self, method: &Method) -> Option<&Route> {
        let by = |m: &Method| self.routes.iter().find(|r| r.info.method == *m);
        by(method).or_else(|| {
            (*method == Method::HEAD)
                .then(|| by(&Method::GET))
                .flatten()
        })
    }
}

/// What a request's method and path are in the table.
#[derive(Clone, Copy)]
pub enum Matched {
    Route(&'static Route),
    /// The path is a route's, the method none of its.
    MethodNotAllowed(&'static PathEntry),
    /// No path of the table (the document's pages, or nothing).
    Unrouted,
}

/// The table, indexed for matching. Built once per process and kept for its life.
pub struct RouteIndex {
    matcher: matchit::Router<usize>,
    paths: Vec<PathEntry>,
}

impl RouteIndex {
    /// `routes` in the table's order (each gets its position as its `slot`). Panics on a
    /// table error (a path twice for one method, templates `matchit` refuses): caught by
    /// any test that builds the app.
    pub fn new(routes: Vec<Route>) -> Self {
        let mut paths: Vec<PathEntry> = Vec::new();
        for (slot, mut route) in routes.into_iter().enumerate() {
            route.slot = slot;
            match paths.iter_mut().find(|p| p.template == route.info.path) {
                Some(entry) => {
                    assert!(
                        !entry
                            .routes
                            .iter()
                            .any(|r| r.info.method == route.info.method),
                        "{} {} twice in the route table",
                        route.info.method,
                        route.info.path
                    );
                    entry.routes.push(route);
                }
                None => paths.push(PathEntry {
                    template: route.info.path,
                    routes: vec![route],
                    allow: HeaderValue::from_static(""),
                }),
            }
        }
        let mut matcher = matchit::Router::new();
        for (i, entry) in paths.iter_mut().enumerate() {
            let mut methods: Vec<&str> = entry
                .routes
                .iter()
                .map(|r| r.info.method.as_str())
                .collect();
            if methods.contains(&"GET") && !methods.contains(&"HEAD") {
                methods.push("HEAD");
            }
            entry.allow = HeaderValue::from_str(&methods.join(",")).expect("method names");
            if let Err(e) = matcher.insert(entry.template, i) {
                panic!("route {}: {e}", entry.template);
            }
        }
        RouteIndex { matcher, paths }
    }

    /// The row for `method` and `path`, and the path's parameters (raw, as the request
    /// spells them: the caller decodes).
    pub fn find<'p>(
        &'static self,
        method: &Method,
        path: &'p str,
    ) -> (Matched, Option<matchit::Params<'static, 'p>>) {
        let Ok(found) = self.matcher.at(path) else {
            return (Matched::Unrouted, None);
        };
        let entry = &self.paths[*found.value];
        let matched = match entry.route(method) {
            Some(route) => Matched::Route(route),
            None => Matched::MethodNotAllowed(entry),
        };
        (matched, Some(found.params))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::leak;

    async fn handler() -> &'static str {
        "ok"
    }

    fn route(method: Method, path: &'static str) -> Route {
        Route::new(
            RouteInfo {
                method,
                path,
                access: Access::Public,
            },
            handler,
        )
    }

    fn index() -> &'static RouteIndex {
        leak(RouteIndex::new(vec![
            route(Method::GET, "/api/models/{tenant_id}"),
            route(Method::POST, "/api/models/{tenant_id}/test"),
            route(Method::GET, "/api/models/{tenant_id}/{model_name}"),
            route(Method::DELETE, "/api/models/cache/{tenant_id}"),
        ]))
    }

    fn template(matched: Matched) -> String {
        match matched {
            Matched::Route(r) => format!("{} {}", r.info.method, r.info.path),
            Matched::MethodNotAllowed(p) => format!("405 {} ({:?})", p.template, p.allow),
            Matched::Unrouted => "none".to_owned(),
        }
    }

    #[test]
    fn static_segments_win_and_methods_are_per_path() {
        let index = index();
        let cases = [
            (
                Method::GET,
                "/api/models/acme",
                "GET /api/models/{tenant_id}",
            ),
            (
                Method::HEAD,
                "/api/models/acme",
                "GET /api/models/{tenant_id}",
            ),
            (
                Method::POST,
                "/api/models/acme/test",
                "POST /api/models/{tenant_id}/test",
            ),
            (
                Method::GET,
                "/api/models/acme/test",
                "405 /api/models/{tenant_id}/test (\"POST\")",
            ),
            (
                Method::GET,
                "/api/models/acme/User",
                "GET /api/models/{tenant_id}/{model_name}",
            ),
            (
                Method::GET,
                "/api/models/cache/acme",
                "405 /api/models/cache/{tenant_id} (\"DELETE\")",
            ),
            (
                Method::POST,
                "/api/models/acme",
                "405 /api/models/{tenant_id} (\"GET,HEAD\")",
            ),
            (Method::GET, "/api/models/", "none"),
            (Method::GET, "/api/models/acme/User/x", "none"),
        ];
        for (method, path, want) in cases {
            assert_eq!(
                template(index.find(&method, path).0),
                want,
                "{method} {path}"
            );
        }
        let (_, params) = index.find(&Method::GET, "/api/models/ac%6De/User");
        let params: Vec<(&str, &str)> = params.unwrap().iter().collect();
        assert_eq!(params, [("tenant_id", "ac%6De"), ("model_name", "User")]);
    }

    #[test]
    #[should_panic(expected = "tenant-scoped but has no {tenant_id}")]
    fn a_tenant_route_without_a_tenant_is_a_table_error() {
        let _ = Route::new(
            RouteInfo {
                method: Method::GET,
                path: "/api/models/stats",
                access: Access::Tenant,
            },
            handler,
        );
    }

    #[test]
    #[should_panic(expected = "twice in the route table")]
    fn a_method_twice_on_a_path_is_a_table_error() {
        let _ = RouteIndex::new(vec![
            route(Method::GET, "/health"),
            route(Method::GET, "/health"),
        ]);
    }
}
