//! The error responses of the document, one per status, each listing the codes of the
//! `ErrorCode` table that answer with it (a new code shows up without an edit here).
//! Handlers name them, `(status = 400, response = BadRequest)`; `all()` puts every one in
//! the document's components, so no reference dangles.

use axum::http::StatusCode;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{ToResponse, ToSchema};

use crate::error::{ErrorBody, ErrorCode};

macro_rules! error_responses {
    ($($name:ident => $status:ident, $what:literal;)*) => {
        $(
            #[doc = $what]
            pub struct $name;

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    (stringify!($name), RefOr::T(build(StatusCode::$status, $what)))
                }
            }
        )*

        /// Every error response, for the document's components.
        pub(crate) fn all() -> Vec<(&'static str, RefOr<Response>)> {
            vec![$(<$name as ToResponse>::response(),)*]
        }
    };
}

error_responses! {
    BadRequest => BAD_REQUEST, "The request is not valid.";
    Unauthorized => UNAUTHORIZED, "No API key, or one that is malformed, unknown or revoked (`WWW-Authenticate: Bearer`); only when `ADMIN_API_KEY` is set.";
    Forbidden => FORBIDDEN, "A tenant key on an admin route.";
    NotFound => NOT_FOUND, "No such route, model or document.";
    MethodNotAllowed => METHOD_NOT_ALLOWED, "The route exists; the method does not.";
    Conflict => CONFLICT, "The write conflicts with stored data.";
    PayloadTooLarge => PAYLOAD_TOO_LARGE, "The body is over `BODY_LIMIT_BYTES`.";
    RequestTimeout => REQUEST_TIMEOUT, "The request took longer than `REQUEST_TIMEOUT_MS`; a write may or may not have been applied.";
    UnprocessableEntity => UNPROCESSABLE_ENTITY, "The model files are not valid and the previous models stay in service; `error.details` lists every `file:line:column: reason`.";
    TooManyRequests => TOO_MANY_REQUESTS, "Over `RATE_LIMIT_MAX_REQUESTS` requests in `RATE_LIMIT_WINDOW_MS` from this client (or for this tenant); `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` say where the client stands.";
    InternalError => INTERNAL_SERVER_ERROR, "A failure of the server or its store; a panic is caught and logged with the request id, and the body carries no internals.";
    ServiceUnavailable => SERVICE_UNAVAILABLE, "The tenant's store cannot be reached; retry after `Retry-After` seconds.";
}

fn error_body() -> Ref {
    Ref::from_schema_name(ErrorBody::name())
}

fn build(status: StatusCode, what: &str) -> Response {
    let codes: Vec<String> = ErrorCode::ALL
        .iter()
        .filter(|code| code.status() == status.as_u16())
        .map(|code| format!("`{}`", code.as_str()))
        .collect();
    let description = if codes.is_empty() {
        what.to_owned()
    } else {
        format!("{what} `error.code`: {}.", codes.join(", "))
    };
    let body: RefOr<utoipa::openapi::schema::Schema> = if status == StatusCode::TOO_MANY_REQUESTS {
        // The seed's rate-limit body is `{"error": "Too many requests, please try again
        // later."}`; the error shape is accepted too.
        OneOfBuilder::new()
            .item(error_body())
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .property("error", ObjectBuilder::new().schema_type(Type::String))
                    .required("error"),
            )
            .into()
    } else {
        error_body().into()
    };
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new().schema(Some(body)).build(),
    );
    if matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(0)),
                ))
                .description(Some("Seconds to wait before retrying."))
                .build(),
        );
    }
    response.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_status_has_a_response_listing_its_codes() {
        let responses = all();
        for code in ErrorCode::ALL {
            let listed = responses.iter().any(|(_, response)| match response {
                RefOr::T(r) => r.description.contains(&format!("`{}`", code.as_str())),
                RefOr::Ref(_) => false,
            });
            assert!(listed, "no error response lists {}", code.as_str());
        }
    }
}
