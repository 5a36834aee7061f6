//! The one place where routes are assembled.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::handlers::{cache, docs, documents, fallback, info, models, monitoring};
use crate::middleware;
use crate::openapi::{self, ApiDoc};
use crate::state::{AppState, HttpConfig};

/// Every route of the API. `routes!` takes each path and method from the handler's
/// `#[utoipa::path]` (a handler without one does not compile here) and adds it to the
/// router and to the document alike: keep it the only way routes are added (no `.route`),
/// and `tests::router_and_document_list_the_same_routes` holds them equal.
///
/// Full paths, no `nest`: a nested router costs a prefix strip and a boxed service clone
/// on every request (seen in the L1-hit profile). `split_for_parts` hands back the plain
/// axum router these `route` calls built, so the document costs requests nothing.
pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
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

/// The API, its document at `/openapi.json` and the document's page at `/docs`.
pub fn router(state: AppState, config: &HttpConfig) -> Router {
    unlayered()
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(middleware::ObserveLayer {
            state: state.clone(),
            timeout: config.request_timeout,
        })
        .with_state(state)
}

/// Every route, before the layers that need the state.
fn unlayered() -> Router<AppState> {
    let (api, document) = api_routes().split_for_parts();
    api.merge(docs::routes(&openapi::finish(document)))
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
}

/// The finished document, as `/openapi.json` serves it.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    openapi::finish(api_routes().into_openapi())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use regex::Regex;

    use super::*;
    use crate::openapi::{DOCS_PATH, DOCUMENT_PATH};

    /// Path -> methods of an axum router. axum has no API to list routes; its `Debug`
    /// output names each route's path and `Allow` header, which is what is read here. If
    /// an axum upgrade changes that output, this fails (it finds no routes) rather than
    /// passing vacuously.
    fn routes_of(router: &Router<AppState>) -> BTreeMap<String, BTreeSet<String>> {
        let debug = format!("{router:?}");
        let methods = Regex::new(r#"RouteId\((\d+)\): MethodRouter\(MethodRouter \{[^}]*?allow_header: Bytes\(b"([A-Z,]*)"\)"#).unwrap();
        let paths = Regex::new(r#"RouteId\((\d+)\): "([^"]*)""#).unwrap();
        let methods: BTreeMap<&str, BTreeSet<String>> = methods
            .captures_iter(&debug)
            .map(|c| {
                let allowed = c.get(2).unwrap().as_str().split(',');
                // axum answers HEAD wherever it answers GET; the document lists GET.
                let set = allowed
                    .filter(|m| *m != "HEAD")
                    .map(str::to_owned)
                    .collect();
                (c.get(1).unwrap().as_str(), set)
            })
            .collect();
        let routes: BTreeMap<String, BTreeSet<String>> = paths
            .captures_iter(&debug)
            // The fallbacks' internal catch-all.
            .filter(|c| !c[2].contains("__private__axum"))
            .map(|c| {
                let id = c.get(1).unwrap().as_str();
                (
                    c[2].to_owned(),
                    methods.get(id).cloned().unwrap_or_default(),
                )
            })
            .collect();
        assert!(
            routes.contains_key("/health") && routes["/health"].contains("GET"),
            "could not read the router's routes from its Debug output: {debug}"
        );
        routes
    }

    fn documented(doc: &utoipa::openapi::OpenApi) -> BTreeMap<String, BTreeSet<String>> {
        doc.paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("OPTIONS", item.options.is_some()),
                    ("HEAD", item.head.is_some()),
                    ("TRACE", item.trace.is_some()),
                ];
                let set = methods
                    .into_iter()
                    .filter(|(_, present)| *present)
                    .map(|(m, _)| m.to_owned())
                    .collect();
                (path.clone(), set)
            })
            .collect()
    }

    #[test]
    fn router_and_document_list_the_same_routes() {
        let mut served = routes_of(&unlayered());
        // The document's own routes are not in it.
        for own in [
            DOCUMENT_PATH.to_owned(),
            DOCS_PATH.to_owned(),
            format!("{DOCS_PATH}/"),
            format!("{DOCS_PATH}/{{*file}}"),
        ] {
            assert_eq!(
                served
                    .remove(&own)
                    .map(|m| m.into_iter().collect::<Vec<_>>()),
                Some(vec!["GET".to_owned()]),
                "{own}"
            );
        }
        assert_eq!(served, documented(&openapi_document()));
    }
}
