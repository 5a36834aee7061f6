//! The edge of authentication: read the presented key from the headers, ask the access
//! layer (`dmr_registry::AccessControl`), and turn a refusal into its response. Every
//! route of the table is wrapped in `Guarded` with the access its row declares, so a
//! route cannot be added without saying who may call it.
//!
//! The check runs before any extractor: an unauthenticated request never has its path,
//! query or body parsed. A key the access layer has in memory is decided synchronously
//! and the handler's own future is returned as it is (no box, no clone); only a key seen
//! for the first time waits for the store.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::handler::Handler;
use axum::http::{HeaderMap, HeaderName, Method, header};
use axum::response::{IntoResponse, Response};
use dmr_registry::{Credential, Denial, Requirement, Verdict};
use dmr_store::MAX_TENANT_ID_LEN;

use crate::error::{ApiError, ErrorCode};
use crate::handlers::fallback;
use crate::state::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: `/`, `/health`, `/api/models/health` (probes).
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

/// A handler behind the access check its route declares.
#[derive(Clone)]
pub struct Guarded<H> {
    handler: H,
    access: Access,
    /// Position of `{tenant_id}` among the route's `/`-separated segments.
    tenant_segment: usize,
}

impl<H> Guarded<H> {
    /// Panics when a `Tenant` route has no `{tenant_id}`: a mistake in the route table,
    /// caught by any test that builds the router.
    pub fn new(handler: H, access: Access, path: &str) -> Self {
        let tenant_segment = path.split('/').position(|s| s == "{tenant_id}");
        assert!(
            access != Access::Tenant || tenant_segment.is_some(),
            "route {path} is tenant-scoped but has no {{tenant_id}}"
        );
        Self {
            handler,
            access,
            tenant_segment: tenant_segment.unwrap_or(usize::MAX),
        }
    }
}

/// The limits layer's verdict, handed to the route's guard: the presented key was checked
/// (from the access control's cache) and is allowed for this tenant, so the guard need not
/// hash it again. Only this server sets it: a request cannot carry extensions.
#[derive(Debug, Clone, Copy)]
pub struct KeyAllowedForTenant {
    len: u8,
    tenant: [u8; MAX_TENANT_ID_LEN],
}

impl KeyAllowedForTenant {
    /// `None` for what is longer than a tenant id can be (nothing to hand on then).
    pub fn new(tenant: &str) -> Option<Self> {
        let mut copy = [0; MAX_TENANT_ID_LEN];
        copy.get_mut(..tenant.len())?
            .copy_from_slice(tenant.as_bytes());
        Some(Self {
            len: tenant.len() as u8,
            tenant: copy,
        })
    }

    fn allows(&self, tenant: &str) -> bool {
        &self.tenant[..usize::from(self.len)] == tenant.as_bytes()
    }
}

/// What the route asks of this request. The tenant is read from the raw path: a valid
/// tenant id has no character that percent-decoding changes, so the raw segment equals
/// the key's tenant exactly when the handler's decoded one does.
fn requirement<'a>(access: Access, tenant_segment: usize, path: &'a str) -> Requirement<'a> {
    match access {
        Access::Public => Requirement::Public,
        Access::AnyKey => Requirement::AnyKey,
        Access::Admin => Requirement::Admin,
        Access::Tenant => Requirement::Tenant(path.split('/').nth(tenant_segment).unwrap_or("")),
    }
}

impl<H, T> Handler<T, AppState> for Guarded<H>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    type Future = GuardFuture<H::Future>;

    fn call(self, request: Request, state: AppState) -> Self::Future {
        if self.access == Access::Public || !state.access.is_enforced() {
            return GuardFuture::Inner {
                future: self.handler.call(request, state),
            };
        }
        let path = request.uri().path();
        let requirement = requirement(self.access, self.tenant_segment, path);
        let checked_at_the_edge = match requirement {
            Requirement::Tenant(tenant) => request
                .extensions()
                .get::<KeyAllowedForTenant>()
                .is_some_and(|allowed| allowed.allows(tenant)),
            _ => false,
        };
        let verdict = if checked_at_the_edge {
            Verdict::Allow
        } else {
            state
                .access
                .check_cached(credential(request.headers()), requirement)
        };
        match verdict {
            Verdict::Allow => GuardFuture::Inner {
                future: self.handler.call(request, state),
            },
            Verdict::Deny(denial) => GuardFuture::Refused {
                response: Some(refusal(denial, request.method(), path)),
            },
            Verdict::AskStore => GuardFuture::Lookup {
                future: Box::pin(self.check_then_call(request, state)),
            },
        }
    }
}

impl<H> Guarded<H> {
    /// The slow path: a key this instance has not verified lately.
    async fn check_then_call<T>(self, request: Request, state: AppState) -> Response
    where
        H: Handler<T, AppState>,
    {
        let path = request.uri().path();
        let decision = state
            .access
            .check(
                credential(request.headers()),
                requirement(self.access, self.tenant_segment, path),
            )
            .await;
        match decision {
            Ok(Ok(())) => self.handler.call(request, state).await,
            Ok(Err(denial)) => refusal(denial, request.method(), path),
            Err(error) => ApiError::from(error).into_response(),
        }
    }
}

pin_project_lite::pin_project! {
    /// The handler's future when the key was decided from memory, or the refusal, or
    /// (first sight of a key) a boxed store lookup followed by the handler.
    #[project = GuardProjection]
    pub enum GuardFuture<F> {
        Inner { #[pin] future: F },
        Refused { response: Option<Response> },
        Lookup { future: Pin<Box<dyn Future<Output = Response> + Send>> },
    }
}

impl<F> Future for GuardFuture<F>
where
    F: Future<Output = Response>,
{
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        match self.project() {
            GuardProjection::Inner { future } => future.poll(cx),
            GuardProjection::Refused { response } => {
                Poll::Ready(response.take().unwrap_or_else(|| {
                    ApiError::new(ErrorCode::Internal, "response polled twice").into_response()
                }))
            }
            GuardProjection::Lookup { future } => future.as_mut().poll(cx),
        }
    }
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
    fn the_tenant_is_the_segment_the_template_names() {
        let guarded = Guarded::new((), Access::Tenant, "/api/models/{tenant_id}/{model_name}");
        assert_eq!(
            requirement(
                Access::Tenant,
                guarded.tenant_segment,
                "/api/models/acme/User"
            ),
            Requirement::Tenant("acme")
        );
        assert_eq!(
            requirement(
                Access::Tenant,
                guarded.tenant_segment,
                "/api/models/ac%6De/User"
            ),
            Requirement::Tenant("ac%6De"),
            "not decoded: it can only fail to match"
        );
        let admin = Guarded::new((), Access::Admin, "/api/models/cache/{tenant_id}");
        assert_eq!(
            requirement(
                Access::Admin,
                admin.tenant_segment,
                "/api/models/cache/acme"
            ),
            Requirement::Admin
        );
    }

    #[test]
    #[should_panic(expected = "tenant-scoped but has no {tenant_id}")]
    fn a_tenant_route_without_a_tenant_is_a_table_error() {
        let _ = Guarded::new((), Access::Tenant, "/api/models/stats");
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

    #[test]
    fn the_edges_verdict_holds_for_its_tenant_only() {
        let allowed = KeyAllowedForTenant::new("acme").unwrap();
        assert!(allowed.allows("acme"));
        for other in ["acm", "acme2", "ACME", "%61cme", ""] {
            assert!(!allowed.allows(other), "{other}");
        }
        let longest = "t".repeat(MAX_TENANT_ID_LEN);
        assert!(KeyAllowedForTenant::new(&longest).unwrap().allows(&longest));
        assert!(KeyAllowedForTenant::new(&format!("{longest}x")).is_none());
    }
}
