//! The layers a request meets at the edge, and their configuration.
//!
//! - `BrowserHeadersLayer`, outermost: CORS on every response (the 408 of a timed-out
//!   request and the 429 of a limited one included); answers preflights.
//! - `LimitsLayer`, inside the request-id/log layer (so every refusal is logged with its
//!   request id): on `/api/`, the per-client rate limit, then the per-tenant rate and
//!   concurrency limits, then the JSON depth of the query and the body.
//! - `BaseHeadersLayer`, around the router: Helmet's headers (and CORS `*`'s) under the
//!   route's answer. The layers above put them under the answers they give themselves.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::header::{CONNECTION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use axum::response::IntoResponse;
use dmr_registry::{AccessControl, Requirement, Verdict};
use dmr_store::MAX_TENANT_ID_LEN;
use tower::{Layer, Service};

use crate::auth::KeyAllowedForTenant;
use crate::client_addr::{TrustedProxies, client_key};
use crate::cors::{self, CorsOrigins, Grant};
use crate::error::{ApiError, ErrorCode};
use crate::json_depth::{self, BodyRead, DepthLimitedBody};
use crate::rate_limit::{Clock, Hit, KeyedWindows, Window};
use crate::security_headers::BaseHeaders;
use crate::state::leak;
use crate::tenant_limit::{InFlight, TenantLimits, TenantVerdict, tenant_in_path};

/// Most keys each limiter tracks (clients; tenants): about 4 MiB of windows for clients.
/// Past it, the lowest counts are forgotten first (see `rate_limit`).
pub const LIMITER_CAPACITY: usize = 100_000;

/// express-rate-limit's message, as the seed's clients read it.
const TOO_MANY_REQUESTS: &str = r#"{"error":"Too many requests, please try again later."}"#;

static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
static RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
static RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
static RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// Everything the two layers are configured with.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// `RATE_LIMIT_WINDOW_MS`, for clients and tenants.
    pub rate_limit_window: Duration,
    /// `RATE_LIMIT_MAX_REQUESTS`: per client per window, on `/api/`.
    pub rate_limit_max_requests: u32,
    /// `TENANT_RATE_LIMIT_MAX_REQUESTS`: per tenant per window; 0 = off.
    pub tenant_rate_limit_max_requests: u32,
    /// `TENANT_MAX_CONCURRENCY`: requests in flight per tenant; 0 = off.
    pub tenant_max_concurrency: u32,
    /// `TRUSTED_PROXIES`.
    pub trusted_proxies: TrustedProxies,
    /// `CORS_ORIGINS`.
    pub cors_origins: CorsOrigins,
    /// `MAX_JSON_DEPTH`.
    pub max_json_depth: u32,
}

impl Default for EdgeConfig {
    /// The product's defaults (the seed's where it had one).
    fn default() -> Self {
        EdgeConfig {
            rate_limit_window: Duration::from_millis(900_000),
            rate_limit_max_requests: 100,
            tenant_rate_limit_max_requests: 10_000,
            tenant_max_concurrency: 64,
            trusted_proxies: TrustedProxies::default(),
            cors_origins: CorsOrigins::Any,
            max_json_depth: 64,
        }
    }
}

/// A non-negative integer header value; small ones are static (no allocation per request).
fn decimal(n: u32) -> HeaderValue {
    static SMALL: OnceLock<Vec<HeaderValue>> = OnceLock::new();
    let small = SMALL.get_or_init(|| {
        (0..1024u32)
            .map(|i| HeaderValue::from_static(Box::leak(i.to_string().into_boxed_str())))
            .collect()
    });
    small
        .get(n as usize)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from(n))
}

/// One limit's `RateLimit-*` values for a response (draft-6, as express-rate-limit's
/// `standardHeaders: true` sends them).
#[derive(Debug, Clone)]
struct Quota {
    policy: HeaderValue,
    limit: HeaderValue,
    remaining: u32,
    reset_after_secs: u32,
}

impl Quota {
    fn apply(&self, headers: &mut HeaderMap) {
        headers.insert(RATELIMIT_POLICY.clone(), self.policy.clone());
        headers.insert(RATELIMIT_LIMIT.clone(), self.limit.clone());
        headers.insert(RATELIMIT_REMAINING.clone(), decimal(self.remaining));
        headers.insert(RATELIMIT_RESET.clone(), decimal(self.reset_after_secs));
    }
}

/// A limit and its precomputed header values.
#[derive(Debug)]
struct Policy {
    max: u32,
    limit: HeaderValue,
    policy: HeaderValue,
}

impl Policy {
    fn new(max: u32, window: Duration, comment: &str) -> Self {
        let seconds = window.as_millis().div_ceil(1000);
        Policy {
            max,
            limit: decimal(max),
            policy: HeaderValue::from_str(&format!("{max};w={seconds}{comment}"))
                .expect("digits and ASCII"),
        }
    }

    fn quota(&self, hit: Hit) -> Quota {
        Quota {
            policy: self.policy.clone(),
            limit: self.limit.clone(),
            remaining: hit.remaining(self.max),
            reset_after_secs: hit.reset_after_secs,
        }
    }
}

/// The limiters and their configuration, shared by every clone of the layer.
#[derive(Debug)]
struct Limits {
    clock: Clock,
    trusted_proxies: TrustedProxies,
    max_json_depth: u32,
    clients: KeyedWindows<u128, Window>,
    client_policy: Policy,
    tenants: TenantLimits,
    tenant_policy: Policy,
    /// With authentication on, only callers the tenant's routes will serve spend its
    /// budget and slots: anyone else could otherwise exhaust them without a key.
    access: Option<AccessControl>,
    base: BaseHeaders,
}

/// The per-client and per-tenant limits and the JSON depth limit; see the module comment.
/// Built once per process: its limiters are kept for the process's life (`state::leak`).
#[derive(Debug, Clone)]
pub struct LimitsLayer {
    limits: &'static Limits,
}

/// The limits' own answers (429, 503, 400) get the base headers here; a route's answer
/// already has them.
fn refused(mut response: Response<Body>, base: BaseHeaders) -> Response<Body> {
    base.apply(&mut response);
    response
}

impl LimitsLayer {
    /// With `access`, tenant limits count only requests whose key the tenant's routes
    /// accept (a cached verdict: a key not verified lately is not counted on its first
    /// request).
    pub fn new(config: &EdgeConfig, access: Option<AccessControl>, base: BaseHeaders) -> Self {
        let window_ms = config.rate_limit_window.as_millis().max(1) as u64;
        LimitsLayer {
            limits: leak(Limits {
                clock: Clock::start(),
                trusted_proxies: config.trusted_proxies.clone(),
                max_json_depth: config.max_json_depth,
                clients: KeyedWindows::new(LIMITER_CAPACITY, window_ms),
                client_policy: Policy::new(
                    config.rate_limit_max_requests,
                    config.rate_limit_window,
                    "",
                ),
                tenants: TenantLimits::new(
                    config.tenant_rate_limit_max_requests,
                    config.tenant_max_concurrency,
                    window_ms,
                    LIMITER_CAPACITY,
                ),
                tenant_policy: Policy::new(
                    config.tenant_rate_limit_max_requests,
                    config.rate_limit_window,
                    ";comment=\"tenant\"",
                ),
                access,
                base,
            }),
        }
    }
}

impl<S> Layer<S> for LimitsLayer {
    type Service = LimitsService<S>;

    fn layer(&self, inner: S) -> LimitsService<S> {
        LimitsService {
            inner,
            limits: self.limits,
        }
    }
}

#[derive(Clone)]
pub struct LimitsService<S> {
    inner: S,
    limits: &'static Limits,
}

/// What the limits decided before the route runs.
enum Admission {
    /// Answered here (429, 503, 400).
    Refused(Response<Body>),
    /// Passed: the headers to add and the tenant's slot to hold.
    Admitted {
        quota: Option<Quota>,
        in_flight: Option<InFlight>,
    },
}

impl Limits {
    fn client_ip(&self, request: &Request) -> IpAddr {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        self.trusted_proxies.client_ip(peer, request.headers())
    }

    /// Whether the request's key is one the tenant's routes accept; when it is, the verdict
    /// is handed to the route's guard in `key_allowed` (the key is hashed once a request).
    fn may_spend_tenant_budget(
        &self,
        request: &Request,
        tenant: &str,
        key_allowed: &mut Option<KeyAllowedForTenant>,
    ) -> bool {
        match &self.access {
            Some(access) if access.is_enforced() => {
                let verdict = access.check_cached(
                    crate::auth::credential(request.headers()),
                    Requirement::Tenant(tenant),
                );
                let allowed = matches!(verdict, Verdict::Allow);
                if allowed {
                    *key_allowed = KeyAllowedForTenant::new(tenant);
                }
                allowed
            }
            _ => true,
        }
    }

    /// The `/api/` limits: the client's window, then the tenant's window and slot.
    fn admit(&self, request: &Request, key_allowed: &mut Option<KeyAllowedForTenant>) -> Admission {
        let now_ms = self.clock.now_ms();
        let ip = self.client_ip(request);
        let key = client_key(ip);
        let created = || Some((key, Window::opened_at(now_ms)));
        let Some((client_hit, ())) = self.clients.hit(&key, now_ms, created, |_| ()) else {
            // `created` never refuses; nothing to limit on if it did.
            return Admission::Admitted {
                quota: None,
                in_flight: None,
            };
        };
        let client_quota = self.client_policy.quota(client_hit);
        if !client_hit.allowed(self.client_policy.max) {
            if client_hit.count == self.client_policy.max + 1 {
                tracing::info!(client = %ip, limit = self.client_policy.max, "client rate limited");
            }
            return Admission::Refused(too_many_requests(&client_quota));
        }
        if self.tenants.is_off() {
            return Admission::Admitted {
                quota: Some(client_quota),
                in_flight: None,
            };
        }
        let mut buf = [0; MAX_TENANT_ID_LEN];
        let Some(tenant) = tenant_in_path(request.uri().path(), &mut buf) else {
            return Admission::Admitted {
                quota: Some(client_quota),
                in_flight: None,
            };
        };
        if !self.may_spend_tenant_budget(request, tenant, key_allowed) {
            return Admission::Admitted {
                quota: Some(client_quota),
                in_flight: None,
            };
        }
        match self.tenants.admit(tenant, now_ms) {
            None => Admission::Admitted {
                quota: Some(client_quota),
                in_flight: None,
            },
            Some(TenantVerdict::RateLimited(hit)) => {
                if hit.count == self.tenant_policy.max + 1 {
                    tracing::info!(
                        tenant,
                        limit = self.tenant_policy.max,
                        "tenant rate limited"
                    );
                }
                Admission::Refused(too_many_requests(&self.tenant_policy.quota(hit)))
            }
            Some(TenantVerdict::Busy) => {
                let mut response = ApiError::new(
                    ErrorCode::TenantBusy,
                    format!(
                        "Tenant {tenant} already has {} requests in flight \
                         (TENANT_MAX_CONCURRENCY); retry shortly",
                        self.tenants.max_concurrency
                    ),
                )
                .into_response();
                client_quota.apply(response.headers_mut());
                Admission::Refused(response)
            }
            Some(TenantVerdict::Admitted { hit, in_flight }) => {
                // Report whichever limit is closer to refusing.
                let quota = match hit {
                    Some(hit) if hit.remaining(self.tenant_policy.max) < client_quota.remaining => {
                        self.tenant_policy.quota(hit)
                    }
                    _ => client_quota,
                };
                Admission::Admitted {
                    quota: Some(quota),
                    in_flight,
                }
            }
        }
    }
}

/// 429 with the seed's body, `Retry-After` and the limit's headers.
fn too_many_requests(quota: &Quota) -> Response<Body> {
    let mut response = Response::new(Body::from(TOO_MANY_REQUESTS));
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(RETRY_AFTER, decimal(quota.reset_after_secs));
    quota.apply(headers);
    response
}

impl<S> Service<Request> for LimitsService<S>
where
    S: Service<Request, Response = Response<Body>, Error = Infallible>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = LimitsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let has_body = json_depth::has_body(request.headers(), request.body());
        let (quota, in_flight) = if request.uri().path().starts_with("/api/") {
            let mut key_allowed = None;
            let admission = self.limits.admit(&request, &mut key_allowed);
            if let Some(key_allowed) = key_allowed {
                request.extensions_mut().insert(key_allowed);
            }
            match admission {
                Admission::Refused(response) => {
                    return LimitsFuture::answered(refused(response, self.limits.base), has_body);
                }
                Admission::Admitted { quota, in_flight } => (quota, in_flight),
            }
        } else {
            (None, None)
        };
        let depth = self.limits.max_json_depth;
        if let Some(query) = request.uri().query()
            && let Err(too_deep) = json_depth::check_query(query, depth)
        {
            let error = ApiError::new(
                ErrorCode::JsonTooDeep,
                format!("Query parameter: {too_deep}"),
            );
            return LimitsFuture::answered(
                refused(error.into_response(), self.limits.base),
                has_body,
            );
        }
        let (request, body_read) = if has_body {
            let (parts, body) = request.into_parts();
            let (body, read) = DepthLimitedBody::wrap(body, depth);
            (Request::from_parts(parts, body), Some(read))
        } else {
            (request, None)
        };
        LimitsFuture {
            inner: Some(self.inner.call(request)),
            answered: None,
            quota,
            in_flight,
            body_read,
            close: false,
        }
    }
}

pin_project_lite::pin_project! {
    /// The route's future, or an answer given here; adds the `RateLimit-*` headers and
    /// holds the tenant's slot until the response is ready (or the request is dropped).
    pub struct LimitsFuture<F> {
        #[pin]
        inner: Option<F>,
        answered: Option<Response<Body>>,
        quota: Option<Quota>,
        in_flight: Option<InFlight>,
        // Set when the route got the body: whether it read it to the end.
        body_read: Option<BodyRead>,
        // The body is known unread (answered here).
        close: bool,
    }
}

impl<F> LimitsFuture<F> {
    fn answered(response: Response<Body>, has_body: bool) -> Self {
        LimitsFuture {
            inner: None,
            answered: Some(response),
            quota: None,
            in_flight: None,
            body_read: None,
            close: has_body,
        }
    }
}

impl<F> Future for LimitsFuture<F>
where
    F: Future<Output = Result<Response<Body>, Infallible>>,
{
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = std::task::ready!(route_or_own(this.inner, this.answered, cx));
        this.in_flight.take();
        let unread = *this.close || this.body_read.take().is_some_and(|read| !read.to_end());
        if unread {
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        if let Some(quota) = this.quota.take() {
            quota.apply(response.headers_mut());
        }
        Poll::Ready(Ok(response))
    }
}

/// A layer's future: the route's answer when it is ready, or the one the layer gave itself
/// (`own`, when there is no route future).
fn route_or_own<F>(
    route: Pin<&mut Option<F>>,
    own: &mut Option<Response<Body>>,
    cx: &mut Context<'_>,
) -> Poll<Response<Body>>
where
    F: Future<Output = Result<Response<Body>, Infallible>>,
{
    match route.as_pin_mut() {
        Some(route) => route.poll(cx).map(|result| match result {
            Ok(response) => response,
            Err(never) => match never {},
        }),
        None => Poll::Ready(own.take().expect("polled after completion")),
    }
}

/// Every response's headers before its own: Helmet's, and CORS's when they do not depend
/// on the request (`CORS_ORIGINS=*`).
pub fn base_headers(config: &EdgeConfig) -> BaseHeaders {
    match config.cors_origins {
        CorsOrigins::Any => BaseHeaders::new(cors::any_origin_headers()),
        CorsOrigins::List(_) => BaseHeaders::new([]),
    }
}

/// The base headers under a route's answer, right after it is made (innermost).
#[derive(Debug, Clone, Copy)]
pub struct BaseHeadersLayer(pub BaseHeaders);

impl<S> Layer<S> for BaseHeadersLayer {
    type Service = BaseHeadersService<S>;

    fn layer(&self, inner: S) -> BaseHeadersService<S> {
        BaseHeadersService {
            inner,
            base: self.0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct BaseHeadersService<S> {
    inner: S,
    base: BaseHeaders,
}

impl<S> Service<Request> for BaseHeadersService<S>
where
    S: Service<Request, Response = Response<Body>, Error = Infallible>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BaseHeadersFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        BaseHeadersFuture {
            inner: self.inner.call(request),
            base: self.base,
        }
    }
}

pin_project_lite::pin_project! {
    pub struct BaseHeadersFuture<F> {
        #[pin]
        inner: F,
        base: BaseHeaders,
    }
}

impl<F> Future for BaseHeadersFuture<F>
where
    F: Future<Output = Result<Response<Body>, Infallible>>,
{
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = match std::task::ready!(this.inner.poll(cx)) {
            Ok(response) => response,
            Err(never) => match never {},
        };
        this.base.apply(&mut response);
        Poll::Ready(Ok(response))
    }
}

/// CORS on every response and preflights answered (with the base headers, as every answer
/// given at the edge). Built once per process (`state::leak`).
#[derive(Debug, Clone)]
pub struct BrowserHeadersLayer {
    browser: &'static Browser,
}

#[derive(Debug)]
struct Browser {
    cors: CorsOrigins,
    base: BaseHeaders,
}

impl BrowserHeadersLayer {
    pub fn new(config: &EdgeConfig, base: BaseHeaders) -> Self {
        BrowserHeadersLayer {
            browser: leak(Browser {
                cors: config.cors_origins.clone(),
                base,
            }),
        }
    }
}

impl<S> Layer<S> for BrowserHeadersLayer {
    type Service = BrowserHeaders<S>;

    fn layer(&self, inner: S) -> BrowserHeaders<S> {
        BrowserHeaders {
            inner,
            browser: self.browser,
        }
    }
}

#[derive(Clone)]
pub struct BrowserHeaders<S> {
    inner: S,
    browser: &'static Browser,
}

impl<S> Service<Request> for BrowserHeaders<S>
where
    S: Service<Request, Response = Response<Body>, Error = Infallible>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BrowserHeadersFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let grant = self.browser.cors.grant(request.headers());
        if cors::is_preflight(request.method(), request.headers()) {
            let mut preflight = cors::preflight_response(&grant);
            self.browser.base.apply(&mut preflight);
            return BrowserHeadersFuture {
                inner: None,
                preflight: Some(preflight),
                grant,
            };
        }
        BrowserHeadersFuture {
            inner: Some(self.inner.call(request)),
            preflight: None,
            grant,
        }
    }
}

pin_project_lite::pin_project! {
    pub struct BrowserHeadersFuture<F> {
        #[pin]
        inner: Option<F>,
        preflight: Option<Response<Body>>,
        grant: Grant,
    }
}

impl<F> Future for BrowserHeadersFuture<F>
where
    F: Future<Output = Result<Response<Body>, Infallible>>,
{
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = std::task::ready!(route_or_own(this.inner, this.preflight, cx));
        // `*`'s headers are in the base; a list's depend on the request.
        if !matches!(this.grant, Grant::Any) {
            this.grant.apply(response.headers_mut());
        }
        Poll::Ready(Ok(response))
    }
}
