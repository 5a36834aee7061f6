//! The OpenAPI 3.1 document of the API, served at `/openapi.json` and browsable at `/docs`.
//!
//! It is derived, not written: `routes.rs` registers every API route through utoipa-axum's
//! `routes!`, which takes the path and the methods from the handler's `#[utoipa::path]`
//! (a handler without one does not compile there), and `finish` adds what the layers do to
//! every route. `routes::tests` checks that the router and the document list the same
//! routes.

pub(crate) mod error_codes;
mod flatten;
pub(crate) mod params;
pub(crate) mod query;
pub(crate) mod responses;
pub(crate) mod schemas;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{self, RefOr, SecurityRequirement};
use utoipa::{OpenApi, ToResponse};

use crate::auth::Access;
use crate::error::{ErrorBody, ErrorDetail};
use crate::routes::RouteInfo;
use error_codes::{ErrorCodeSchema, ErrorTypeSchema};
use responses::{
    Forbidden, InternalError, NotFound, PayloadTooLarge, RequestTimeout, TooManyRequests,
    Unauthorized,
};

/// Where the document and its browsable page are served (not themselves in the document).
pub use crate::routes::paths::{OPENAPI_DOCS as DOCS_PATH, OPENAPI_DOCUMENT as DOCUMENT_PATH};

/// Security scheme names.
pub const BEARER: &str = "bearerAuth";
pub const API_KEY: &str = "apiKey";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Distributed Model Registry",
        description = "A multi-tenant model registry: schema-defined models served to many \
            tenants, each in its own database, and the tenants' documents, validated by the \
            model. Every error is `{\"error\": {\"message\", \"status\", \"code\", \"type\", \
            \"timestamp\", \"details\"?}}` with `code` and `type` from the stable `ErrorCode` \
            table.",
        license(name = "ISC", identifier = "ISC"),
    ),
    tags(
        (name = "service", description = "What the process is and whether it lives."),
        (name = "monitoring", description = "Deep health and statistics of the registry."),
        (name = "models", description = "Model definitions and their compiled, cached form per tenant."),
        (name = "cache", description = "Cache invalidation and tenant connections (admin)."),
        (name = "keys", description = "Tenant API keys: issued, listed and revoked with the admin key."),
        (name = "documents", description = "A tenant's documents, validated by the model; \
            queries are a documented subset of MongoDB's (docs/query-language.md)."),
    ),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        ErrorCodeSchema,
        ErrorTypeSchema,
        query::Filter,
        query::Update,
        query::SortSpec,
        query::ProjectionSpec,
    )),
)]
pub struct ApiDoc;

/// Completes the document the router collected: flattening structs as the one closed
/// object serde writes, the reusable error responses, the security schemes, and the
/// responses every route owes to a layer rather than to its handler.
pub fn finish(mut doc: openapi::OpenApi) -> openapi::OpenApi {
    let components = doc.components.get_or_insert_with(Default::default);
    flatten::merge_flattened(&mut components.schemas);
    for (name, response) in responses::all() {
        components.responses.insert(name.to_owned(), response);
    }
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "`Authorization: Bearer <key>`: the admin key (`ADMIN_API_KEY`) for the \
                     admin routes (cache, connection, schema reload, monitoring), or a \
                     tenant key for that tenant's routes.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        API_KEY,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-API-Key",
            "The same keys, in `X-API-Key`.",
        ))),
    );

    for (path, item) in doc.paths.paths.iter_mut() {
        let limited = crate::routes::is_rate_limited(path);
        let templated = path.contains('{');
        for operation in operations(item) {
            if let Some(RefOr::T(body)) = &mut operation.request_body {
                optional_is_not_nullable(body);
            }
            let has_body = operation.request_body.is_some();
            let responses = &mut operation.responses.responses;
            let mut owe = |status: u16, name: &str| {
                responses
                    .entry(status.to_string())
                    .or_insert_with(|| RefOr::Ref(openapi::Ref::from_response_name(name)));
            };
            // The observe layer's deadline and the panic catcher wrap every route.
            owe(408, response_name::<RequestTimeout>());
            owe(500, response_name::<InternalError>());
            if has_body {
                owe(413, response_name::<PayloadTooLarge>());
            }
            if templated {
                // An empty path segment matches no route: 404 `route_not_found`.
                owe(404, response_name::<NotFound>());
            }
            if limited {
                owe(429, response_name::<TooManyRequests>());
            }
        }
    }
    doc
}

/// Each route's access rule from the route table: the key schemes and 401 wherever a key
/// is needed (with `ADMIN_API_KEY` set), and 403 on admin routes (a tenant key there).
pub fn apply_access(doc: &mut openapi::OpenApi, table: &[RouteInfo]) {
    for row in table {
        let Some(item) = doc.paths.paths.get_mut(row.path) else {
            continue;
        };
        let operation = match row.method.as_str() {
            "GET" => item.get.as_mut(),
            "PUT" => item.put.as_mut(),
            "POST" => item.post.as_mut(),
            "DELETE" => item.delete.as_mut(),
            "PATCH" => item.patch.as_mut(),
            _ => None,
        };
        let Some(operation) = operation else { continue };
        if row.access == Access::Public {
            continue;
        }
        operation.security = Some(vec![
            SecurityRequirement::new(BEARER, Vec::<String>::new()),
            SecurityRequirement::new(API_KEY, Vec::<String>::new()),
        ]);
        let responses = &mut operation.responses.responses;
        let mut owe = |status: u16, name: &str| {
            responses
                .entry(status.to_string())
                .or_insert_with(|| RefOr::Ref(openapi::Ref::from_response_name(name)));
        };
        owe(401, response_name::<Unauthorized>());
        if row.access == Access::Admin {
            owe(403, response_name::<Forbidden>());
        }
    }
}

/// utoipa writes an optional body (`Option<T>`) as `T | null`; an optional body here may
/// be absent (an empty body is the defaults), and a JSON `null` is refused like any other
/// non-object.
fn optional_is_not_nullable(body: &mut openapi::request_body::RequestBody) {
    use openapi::schema::{Schema, SchemaType, Type};
    if matches!(body.required, Some(openapi::Required::True)) {
        return;
    }
    for content in body.content.values_mut() {
        let RefOr::T(content) = content else { continue };
        let Some(RefOr::T(Schema::OneOf(one_of))) = &mut content.schema else {
            continue;
        };
        let is_null = |s: &RefOr<Schema>| matches!(s, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null));
        if one_of.items.len() == 2 && one_of.items.iter().any(is_null) {
            let kept = one_of.items.iter().find(|s| !is_null(s)).cloned();
            content.schema = kept;
        }
    }
}

/// The component name of an error response.
fn response_name<T: for<'r> ToResponse<'r>>() -> &'static str {
    T::response().0
}

fn operations(item: &mut openapi::PathItem) -> impl Iterator<Item = &mut openapi::path::Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::routes::openapi_document;

    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves() {
        let doc = serde_json::to_value(openapi_document()).unwrap();
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(all.len() > 50, "{}", all.len());
        for r in all {
            let pointer = r
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("external {r}"));
            assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
        }
    }

    #[test]
    fn the_layers_answers_are_on_every_route() {
        let doc = serde_json::to_value(openapi_document()).unwrap();
        let mut operations = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                operations += 1;
                let responses = op["responses"].as_object().unwrap();
                let has = |status: &str| responses.contains_key(status);
                let at = format!("{method} {path}");
                assert!(has("408") && has("500"), "{at}");
                assert_eq!(has("413"), op.get("requestBody").is_some(), "{at}");
                assert_eq!(has("429"), path.starts_with("/api/"), "{at}");
                // Every route needs a key (with `ADMIN_API_KEY` set) but the public ones.
                let keyed = crate::route_table().iter().any(|r| {
                    r.path == path
                        && r.method.as_str().eq_ignore_ascii_case(method)
                        && r.access != crate::Access::Public
                });
                assert_eq!(op.get("security").is_some(), keyed, "{at}");
                assert_eq!(has("401"), keyed, "{at}");
                if path.contains('{') {
                    assert!(has("404"), "{at}");
                }
                // Every error status is one of the shared error responses (but deep
                // health's 503, which is its report).
                for (status, response) in responses {
                    if status.starts_with(['4', '5']) && path != "/api/models/health" {
                        assert!(response.get("$ref").is_some(), "{at} {status}");
                    }
                }
            }
        }
        assert_eq!(operations, crate::route_table().len());
    }
}
