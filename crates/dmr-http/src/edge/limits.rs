//! The limits, inside the request-id/log layer (so every refusal is logged with its
//! request id): on the rate-limited routes, the per-client rate limit, then the per-tenant
//! rate and concurrency limits; then, on every route, the JSON depth of the query and, as
//! it streams, of the body. Refusals happen before the route runs: a limited request costs
//! a map lookup and never touches the registry or provisions a tenant.
//!
//! The tenant is the one the `RequestContext` read from the route; with authentication on,
//! only a request whose key the tenant's routes accept (the context's verdict) spends the
//! tenant's budget and takes one of its slots, so no one without a key can exhaust them.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::header::CONNECTION;
use axum::http::{HeaderValue, Response};
use axum::response::IntoResponse;
use dmr_registry::Verdict;
use tower::{Layer, Service};

use super::config::EdgeConfig;
use super::context::RequestContext;
use super::quota::{Policy, Quota};
use super::route_or_own;
use crate::client_addr::{TrustedProxies, client_key};
use crate::error::{ApiError, ErrorCode};
use crate::json_depth::{self, BodyRead, DepthLimitedBody};
use crate::metrics::{HttpMetrics, Refusal};
use crate::rate_limit::{Clock, KeyedWindows, Window};
use crate::security_headers::BaseHeaders;
use crate::state::leak;
use crate::tenant_limit::{InFlight, TenantLimits, TenantVerdict};

/// Most keys each limiter tracks (clients; tenants): about 4 MiB of windows for clients.
/// Past it, the lowest counts are forgotten first (see `rate_limit`).
pub const LIMITER_CAPACITY: usize = 100_000;

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
    base: BaseHeaders,
    metrics: &'static HttpMetrics,
}

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
    /// Refusals are counted in `metrics`, which also reads the tenant limiter's
    /// per-minute counts for the stats.
    pub fn new(config: &EdgeConfig, base: BaseHeaders, metrics: &'static HttpMetrics) -> Self {
        let window_ms = config.rate_limit_window.as_millis().max(1) as u64;
        let limits = leak(Limits {
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
            base,
            metrics,
        });
        metrics.count_tenants_with(&limits.tenants, limits.clock);
        LimitsLayer { limits }
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
    /// Answered here (429, 503).
    Refused(Response<Body>),
    /// Passed: the headers to add and the tenant's slot to hold.
    Admitted {
        quota: Option<Quota>,
        in_flight: Option<InFlight>,
    },
}

impl Admission {
    fn client_only(quota: Quota) -> Self {
        Admission::Admitted {
            quota: Some(quota),
            in_flight: None,
        }
    }
}

impl Limits {
    fn client_ip(&self, request: &Request) -> IpAddr {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        self.trusted_proxies.client_ip(peer, request.headers())
    }

    /// The client's window, then the tenant's window and slot.
    fn admit(&self, request: &Request, context: &RequestContext) -> Admission {
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
            self.metrics.refused(Refusal::Client);
            return Admission::Refused(client_quota.too_many_requests());
        }
        if self.tenants.is_off() {
            return Admission::client_only(client_quota);
        }
        // Only a caller the tenant's routes serve spends its budget (see the module doc).
        let Some(tenant) = context.valid_tenant() else {
            return Admission::client_only(client_quota);
        };
        if !matches!(context.verdict(), Verdict::Allow) {
            return Admission::client_only(client_quota);
        }
        match self.tenants.admit(tenant, now_ms) {
            None => Admission::client_only(client_quota),
            Some(TenantVerdict::RateLimited(hit)) => {
                if hit.count == self.tenant_policy.max + 1 {
                    tracing::info!(
                        tenant = %tenant,
                        limit = self.tenant_policy.max,
                        "tenant rate limited"
                    );
                }
                self.metrics.refused(Refusal::Tenant);
                Admission::Refused(self.tenant_policy.quota(hit).too_many_requests())
            }
            Some(TenantVerdict::Busy) => {
                self.metrics.refused(Refusal::TenantBusy);
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

    fn call(&mut self, request: Request) -> Self::Future {
        let has_body = json_depth::has_body(request.headers(), request.body());
        let context = request.extensions().get::<RequestContext>();
        let (quota, in_flight) = match context {
            Some(context) if context.is_rate_limited() => {
                match self.limits.admit(&request, context) {
                    Admission::Refused(response) => {
                        return LimitsFuture::answered(
                            refused(response, self.limits.base),
                            has_body,
                        );
                    }
                    Admission::Admitted { quota, in_flight } => (quota, in_flight),
                }
            }
            _ => (None, None),
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
