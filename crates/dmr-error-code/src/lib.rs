//! The error-code table: every code a client of the registry can see, one row each, with
//! its HTTP status and its type. It sits at the bottom of the crate graph and knows no
//! HTTP (a status is a number), so that each domain error names its code where it is
//! defined (`CodedError`) and `dmr-http` only turns the number into a response.
//!
//! A row is written once; the macros derive the enum, `ALL`, the strings and the statuses
//! from it, and a status outside 400-599 does not compile.

/// What a client can do about an error: coarser than its code, stable like it, sent as
/// `error.type`. What each type means is its `description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    InvalidRequest,
    Auth,
    NotFound,
    System,
    Internal,
}

impl ErrorType {
    /// Every type, in declaration order.
    pub const ALL: &'static [ErrorType] = &[
        Self::InvalidRequest,
        Self::Auth,
        Self::NotFound,
        Self::System,
        Self::Internal,
    ];

    /// The type as clients see it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::Auth => "auth",
            Self::NotFound => "not_found",
            Self::System => "system",
            Self::Internal => "internal",
        }
    }

    /// What the type tells a client, for people (the API document).
    pub const fn description(self) -> &'static str {
        match self {
            Self::InvalidRequest => {
                "the request cannot succeed as sent; sent again unchanged, it fails the same way"
            }
            Self::Auth => "no API key, or one that does not open the route",
            Self::NotFound => "the route, model, document or key does not exist",
            Self::System => {
                "the service cannot answer now (store unreachable, tenant busy, the request \
                 deadline, a document changing under an update); the same request may succeed \
                 later, after `Retry-After` where it is sent"
            }
            Self::Internal => "a fault of the service or its store",
        }
    }
}

/// An error that knows the code a client sees for it. Implemented beside each domain
/// error's definition; an error that wraps another delegates to it.
pub trait CodedError {
    fn error_code(&self) -> ErrorCode;
}

/// One row per code: `Variant => "code", status, Type;`, each with its doc line (when the
/// code is answered).
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident => $code:literal, $status:literal, $kind:ident;)*) => {
        /// A stable error code: clients match on its string; the message beside it is for
        /// people.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in the table's order.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant),*];

            /// The code as clients see it (`error.code`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)*
                }
            }

            /// The HTTP status of every answer with this code.
            pub const fn status(self) -> u16 {
                match self {
                    $(Self::$variant => $status,)*
                }
            }

            pub const fn error_type(self) -> ErrorType {
                match self {
                    $(Self::$variant => ErrorType::$kind,)*
                }
            }
        }

        // A code is an error: its status is a 4xx or a 5xx, checked as the table compiles.
        const _: () = {
            $(assert!(
                400 <= $status && $status <= 599,
                concat!("`", $code, "`: an error status is 4xx or 5xx")
            );)*
        };
    };
}

error_codes! {
    /// A tenant id outside the rule (`TenantId::parse`).
    InvalidTenantId   => "invalid_tenant_id",   400, InvalidRequest;
    /// A model name outside the rule.
    InvalidModelName  => "invalid_model_name",  400, InvalidRequest;
    /// A malformed JSON body or JSON parameter.
    InvalidJson       => "invalid_json",        400, InvalidRequest;
    /// JSON of the wrong shape.
    InvalidBody       => "invalid_body",        400, InvalidRequest;
    /// A test operation other than count, findOne, find.
    InvalidOperation  => "invalid_operation",   400, InvalidRequest;
    /// A filter, update, sort, projection or parameter that is not valid.
    InvalidQuery      => "invalid_query",       400, InvalidRequest;
    /// A document id that is not 24 hexadecimal characters.
    InvalidDocumentId => "invalid_document_id", 400, InvalidRequest;
    /// A document, update or filter value the model rejects.
    ValidationFailed  => "validation_failed",   400, InvalidRequest;
    /// A page or a bulk insert over `MAX_PAGE_SIZE`.
    LimitExceeded     => "limit_exceeded",      400, InvalidRequest;
    /// `$text` on a model without a text index.
    TextIndexRequired => "text_index_required", 400, InvalidRequest;
    /// No document with that id.
    DocumentNotFound  => "document_not_found",  404, NotFound;
    /// A unique index already holds the value.
    DuplicateKey      => "duplicate_key",       409, InvalidRequest;
    /// The document kept changing under an update; retrying may succeed.
    WriteConflict     => "write_conflict",      409, System;
    /// The request took longer than `REQUEST_TIMEOUT_MS`.
    RequestTimeout    => "request_timeout",     408, System;
    /// A reload found invalid model files; the previous models stay in service.
    ModelFilesInvalid => "model_files_invalid", 422, InvalidRequest;
    /// No model file defines that model.
    ModelNotFound     => "model_not_found",     404, NotFound;
    /// No such route.
    RouteNotFound     => "route_not_found",     404, NotFound;
    /// The route exists; the method does not.
    MethodNotAllowed  => "method_not_allowed",  405, InvalidRequest;
    /// A body over `BODY_LIMIT_BYTES`.
    PayloadTooLarge   => "payload_too_large",   413, InvalidRequest;
    /// No key, or a key that is malformed, unknown or revoked, on a protected route.
    Unauthorized      => "unauthorized",        401, Auth;
    /// A tenant key on an admin route.
    Forbidden         => "forbidden",           403, Auth;
    /// The tenant has no key with that id.
    ApiKeyNotFound    => "api_key_not_found",   404, NotFound;
    /// A JSON body or parameter nested deeper than `MAX_JSON_DEPTH`.
    JsonTooDeep       => "json_too_deep",       400, InvalidRequest;
    /// The tenant has `TENANT_MAX_CONCURRENCY` requests in flight: load shed on purpose.
    TenantBusy        => "tenant_busy",         503, System;
    /// The tenant's store cannot be reached.
    StoreUnavailable  => "store_unavailable",   503, System;
    /// A model the store cannot express.
    ModelInvalid      => "model_invalid",       500, Internal;
    /// Any other store failure.
    StoreError        => "store_error",         500, Internal;
    /// A bug of the service (a caught panic among them).
    Internal          => "internal_error",      500, Internal;
}

impl ErrorCode {
    /// A 5xx that is load shed on purpose (a tenant's concurrency limit), not a fault of
    /// the service: logged as a warning, not an error.
    pub const fn is_load_shedding(self) -> bool {
        matches!(self, Self::TenantBusy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole table as clients see it. Changing a row here is changing the API.
    const PINNED: &[(&str, u16, &str)] = &[
        ("invalid_tenant_id", 400, "invalid_request"),
        ("invalid_model_name", 400, "invalid_request"),
        ("invalid_json", 400, "invalid_request"),
        ("invalid_body", 400, "invalid_request"),
        ("invalid_operation", 400, "invalid_request"),
        ("invalid_query", 400, "invalid_request"),
        ("invalid_document_id", 400, "invalid_request"),
        ("validation_failed", 400, "invalid_request"),
        ("limit_exceeded", 400, "invalid_request"),
        ("text_index_required", 400, "invalid_request"),
        ("document_not_found", 404, "not_found"),
        ("duplicate_key", 409, "invalid_request"),
        ("write_conflict", 409, "system"),
        ("request_timeout", 408, "system"),
        ("model_files_invalid", 422, "invalid_request"),
        ("model_not_found", 404, "not_found"),
        ("route_not_found", 404, "not_found"),
        ("method_not_allowed", 405, "invalid_request"),
        ("payload_too_large", 413, "invalid_request"),
        ("unauthorized", 401, "auth"),
        ("forbidden", 403, "auth"),
        ("api_key_not_found", 404, "not_found"),
        ("json_too_deep", 400, "invalid_request"),
        ("tenant_busy", 503, "system"),
        ("store_unavailable", 503, "system"),
        ("model_invalid", 500, "internal"),
        ("store_error", 500, "internal"),
        ("internal_error", 500, "internal"),
    ];

    #[test]
    fn the_table_is_pinned() {
        let table: Vec<(&str, u16, &str)> = ErrorCode::ALL
            .iter()
            .map(|code| (code.as_str(), code.status(), code.error_type().as_str()))
            .collect();
        assert_eq!(table, PINNED);
    }

    #[test]
    fn codes_are_unique_snake_case_strings() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "{name} twice");
            assert!(is_snake_case(name), "{name} is not snake_case");
        }
        for kind in ErrorType::ALL {
            assert!(is_snake_case(kind.as_str()), "{kind:?}");
        }
    }

    #[test]
    fn a_type_agrees_with_its_status() {
        for code in ErrorCode::ALL {
            let status = code.status();
            let agrees = match code.error_type() {
                ErrorType::InvalidRequest => (400..500).contains(&status),
                ErrorType::Auth => matches!(status, 401 | 403),
                ErrorType::NotFound => status == 404,
                ErrorType::System => matches!(status, 408 | 409 | 503),
                ErrorType::Internal => status == 500,
            };
            assert!(agrees, "{code:?}: {status} as {:?}", code.error_type());
        }
    }

    #[test]
    fn every_type_is_listed_and_used() {
        for code in ErrorCode::ALL {
            assert!(ErrorType::ALL.contains(&code.error_type()), "{code:?}");
        }
        for kind in ErrorType::ALL {
            assert!(
                ErrorCode::ALL.iter().any(|code| code.error_type() == *kind),
                "{kind:?} has no code"
            );
        }
    }

    #[test]
    fn only_tenant_busy_is_load_shedding() {
        let shed: Vec<ErrorCode> = ErrorCode::ALL
            .iter()
            .copied()
            .filter(|code| code.is_load_shedding())
            .collect();
        assert_eq!(shed, [ErrorCode::TenantBusy]);
    }

    fn is_snake_case(name: &str) -> bool {
        name.split('_').all(|word| {
            word.starts_with(|c: char| c.is_ascii_lowercase())
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
    }
}
