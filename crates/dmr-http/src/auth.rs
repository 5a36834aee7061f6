//! The edge of authentication: who may call a route (`Access`, one per row of the route
//! table, so a route cannot be added without saying), the key a request presents (read
//! once, by the edge's `RequestContext`), and a refusal's response. The decision itself is
//! `dmr_registry::AccessControl`'s; the guard that applies it is `edge::Dispatch`.

use axum::http::{HeaderMap, HeaderName, Method, header};
use axum::response::{IntoResponse, Response};
use dmr_registry::{Credential, Denial};

use crate::error::{ApiError, ErrorCode};
use crate::handlers::fallback;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: `/`, `/health`, `/api/models/health` (probes), the dashboard's files.
    Public,
    /// Any valid key, a tenant's or the admin's: reads that belong to no tenant.
    AnyKey,
    /// The admin key, or a key of the tenant named by the path's `{tenant_id}`.
    Tenant,
    /// The admin key only.
    Admin,
}

pub const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// The key a request presents: `Authorization: Bearer <key>` or `X-API-Key: <key>`. Both
/// may be sent if they agree; anything ambiguous or unreadable is `Malformed`.
pub fn credential(headers: &HeaderMap) -> Credential<'_> {
    let bearer = single(headers, &header::AUTHORIZATION).map(|value| {
        value
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
    });
    let api_key = single(headers, &X_API_KEY).map(|value| value.map(str::trim));
    match (bearer.map(non_empty), api_key.map(non_empty)) {
        (None, None) => Credential::Absent,
        (Some(Some(key)), None) | (None, Some(Some(key))) => Credential::Key(key),
        (Some(Some(a)), Some(Some(b))) if a == b => Credential::Key(a),
        _ => Credential::Malformed,
    }
}

fn non_empty(key: Option<&str>) -> Option<&str> {
    key.filter(|k| !k.is_empty())
}

/// `None`: no such header. `Some(None)`: present but repeated or not text.
fn single<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<Option<&'a str>> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    Some(if values.next().is_some() {
        None
    } else {
        first.to_str().ok()
    })
}

/// The response to a refused request. `Hidden` is word for word the unknown-route 404,
/// so another tenant's routes look like routes that do not exist.
pub fn refusal(denial: Denial, method: &Method, path: &str) -> Response {
    let error = match denial {
        Denial::Missing => ApiError::new(
            ErrorCode::Unauthorized,
            "Authentication required: send an API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
        ),
        Denial::Invalid => ApiError::new(ErrorCode::Unauthorized, "Invalid API key"),
        Denial::AdminOnly => ApiError::new(ErrorCode::Forbidden, "This route needs the admin key"),
        Denial::Hidden => fallback::route_not_found(method, path),
    };
    error.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn the_key_comes_from_bearer_or_x_api_key() {
        let key = "dmr_abc";
        for pairs in [
            vec![("authorization", "Bearer dmr_abc")],
            vec![("authorization", "bearer   dmr_abc ")],
            vec![("x-api-key", "dmr_abc")],
            vec![
                ("authorization", "Bearer dmr_abc"),
                ("x-api-key", "dmr_abc"),
            ],
        ] {
            assert_eq!(
                credential(&headers(&pairs)),
                Credential::Key(key),
                "{pairs:?}"
            );
        }
        assert_eq!(credential(&headers(&[])), Credential::Absent);
        for pairs in [
            vec![("authorization", "Basic dXNlcjpwYXNz")],
            vec![("authorization", "Bearer")],
            vec![("authorization", "Bearer ")],
            vec![("authorization", "dmr_abc")],
            vec![("x-api-key", "")],
            vec![
                ("authorization", "Bearer dmr_abc"),
                ("x-api-key", "dmr_xyz"),
            ],
            vec![("x-api-key", "dmr_abc"), ("x-api-key", "dmr_abc")],
        ] {
            assert_eq!(
                credential(&headers(&pairs)),
                Credential::Malformed,
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn refusals_have_their_statuses_and_the_hidden_one_is_the_unknown_route() {
        let path = "/api/models/acme/User";
        for (denial, status) in [
            (Denial::Missing, 401),
            (Denial::Invalid, 401),
            (Denial::AdminOnly, 403),
            (Denial::Hidden, 404),
        ] {
            let response = refusal(denial, &Method::GET, path);
            assert_eq!(response.status().as_u16(), status, "{denial:?}");
            assert_eq!(
                response.headers().contains_key(header::WWW_AUTHENTICATE),
                status == 401
            );
        }
        let hidden = fallback::route_not_found(&Method::GET, path);
        assert_eq!(hidden.code, ErrorCode::RouteNotFound);
        assert_eq!(hidden.message, "Route not found: GET /api/models/acme/User");
    }
}
