//! `/openapi.json` and `/docs`: the document, and Swagger UI to browse it. Swagger UI is
//! compiled into the binary (`utoipa-swagger-ui`'s `vendored` feature) and told not to call
//! its online validator, so the page works with no network at all.

use std::sync::Arc;

use axum::Router;
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use bytes::Bytes;
use utoipa_swagger_ui::Config;

use crate::error::{ApiError, ErrorCode};
use crate::openapi::{DOCS_PATH, DOCUMENT_PATH};

pub fn routes<S: Clone + Send + Sync + 'static>(document: &utoipa::openapi::OpenApi) -> Router<S> {
    // Serialised once; each request clones a reference count.
    let json = match serde_json::to_vec_pretty(document) {
        Ok(json) => Bytes::from(json),
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document does not serialise");
            Bytes::from(
                ApiError::new(ErrorCode::Internal, "No API document")
                    .body()
                    .to_string(),
            )
        }
    };
    let config = Arc::new(
        Config::new([DOCUMENT_PATH])
            .validator_url("none")
            .try_it_out_enabled(true),
    );
    let page = move |uri: Uri| {
        let config = Arc::clone(&config);
        async move { swagger_file(&uri, config) }
    };
    Router::new()
        .route(
            DOCUMENT_PATH,
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], json) }),
        )
        // Swagger UI's page loads its assets relative to itself: it lives at `/docs/`.
        .route(
            DOCS_PATH,
            get(|| async { Redirect::permanent(&format!("{DOCS_PATH}/")) }),
        )
        .route(&format!("{DOCS_PATH}/"), get(page.clone()))
        .route(&format!("{DOCS_PATH}/{{*file}}"), get(page))
}

fn swagger_file(uri: &Uri, config: Arc<Config<'static>>) -> Response {
    let file = uri
        .path()
        .strip_prefix(DOCS_PATH)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or_default();
    match utoipa_swagger_ui::serve(file, config) {
        Ok(Some(file)) => {
            let mut response = (
                [(header::CONTENT_TYPE, file.content_type)],
                file.bytes.into_owned(),
            )
                .into_response();
            if file.gzpipped {
                response.headers_mut().insert(
                    header::CONTENT_ENCODING,
                    header::HeaderValue::from_static("gzip"),
                );
            }
            response
        }
        Ok(None) => ApiError::new(
            ErrorCode::RouteNotFound,
            format!("Route not found: GET {}", uri.path()),
        )
        .into_response(),
        Err(e) => ApiError::new(ErrorCode::Internal, format!("Swagger UI: {e}")).into_response(),
    }
}
