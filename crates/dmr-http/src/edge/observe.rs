//! Everything each request goes through, in one layer: an id (the caller's `X-Request-Id`
//! when sane, echoed back), the request's log scope (`request_scope.rs`), the in-flight
//! count, the request timeout, the RED metrics of its route (`metrics::HttpMetrics`) and
//! one access-log line. Outside the limits so that every refusal is logged with its
//! request id and counted. A hand-written tower layer rather than `from_fn`, which boxes a
//! clone of the inner service on every request (seen in the L1-hit profile).
//!
//! The access line is one `tracing` event (target `dmr::access`) with no span: the
//! request's fields come from its scope, written by the binary's formatter, and the
//! writers are non-blocking. For trace export a DEBUG span is opened too; with no layer
//! interested in it (no `OTEL_EXPORTER_OTLP_ENDPOINT`, `LOG_LEVEL` above debug) `tracing`
//! does not build it, and its fields are never evaluated. A caller's W3C `traceparent`
//! is made the span's parent by the extractor the binary installs (`set_trace_parent`):
//! the edge knows no tracing vendor.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Response};
use axum::response::IntoResponse;
use tower::{Layer, Service};
use tracing::Instrument;

use super::context::RequestContext;
use super::request_scope::{self, RequestScope};
use super::route_index::Route;
use crate::error::{ApiError, ErrorCode, LoadShed};
use crate::security_headers::BaseHeaders;
use crate::state::AppState;

/// A `HeaderName`, not a `&str`: a string is parsed into a name on every lookup.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Sets a request span's parent from the request's headers (the trace context a caller
/// sent), before the span is first entered.
pub type TraceParent = fn(&tracing::Span, &HeaderMap);

static TRACE_PARENT: OnceLock<TraceParent> = OnceLock::new();

/// Installs the trace-context extractor, once per process (a second call is ignored).
pub fn set_trace_parent(extract: TraceParent) {
    let _ = TRACE_PARENT.set(extract);
}

/// Copied per request: a pointer, a duration, a pointer.
#[derive(Clone)]
pub struct ObserveLayer {
    pub state: AppState,
    pub timeout: Duration,
    /// For the timeout's 408, made here.
    pub base: BaseHeaders,
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
    layer: ObserveLayer,
}

/// The caller's id when it is a sane one (1-128 visible ASCII characters), else a new one.
fn request_id(request: &Request) -> HeaderValue {
    request
        .headers()
        .get(&REQUEST_ID)
        .filter(|v| {
            let v = v.as_bytes();
            !v.is_empty() && v.len() <= 128 && v.iter().all(u8::is_ascii_graphic)
        })
        .cloned()
        .unwrap_or_else(new_request_id)
}

impl<S> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response<Body>, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = ObserveFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let context = request.extensions().get::<RequestContext>();
        let route = context.and_then(RequestContext::route);
        let scope = Arc::new(RequestScope {
            request_id: request_id(&request),
            method: request.method().clone(),
            uri: request.uri().clone(),
            route: context.and_then(RequestContext::template),
            tenant: context.and_then(RequestContext::valid_tenant).cloned(),
            model: context.and_then(|c| c.model()?.ok()),
        });
        // Built only when a layer wants it (tracing export); the fields are not evaluated
        // otherwise.
        let span = tracing::debug_span!(
            target: "dmr::request",
            "request",
            otel.name = %format_args!("{} {}", scope.method, scope.route.unwrap_or("")),
            otel.kind = "server",
            http.request.method = %scope.method,
            http.route = scope.route.unwrap_or(""),
            url.path = scope.path(),
            request_id = scope.request_id(),
            tenant = scope.tenant().unwrap_or(""),
            http.response.status_code = tracing::field::Empty,
        );
        if !span.is_disabled()
            && let Some(extract) = TRACE_PARENT.get()
        {
            extract(&span, request.headers());
        }
        let state = self.layer.state.clone();
        state.requests.start();
        let inner = {
            let _scope = request_scope::enter(&scope);
            let _span = span.enter();
            self.inner.call(request)
        };
        ObserveFuture {
            inner: inner.instrument(span.clone()),
            deadline: None,
            limit: self.layer.timeout,
            base: self.layer.base,
            started,
            state,
            route,
            scope,
            span,
        }
    }
}

pin_project_lite::pin_project! {
    /// The request's future with its bookkeeping, polled in place (no box per request).
    pub struct ObserveFuture<F> {
        #[pin]
        inner: tracing::instrument::Instrumented<F>,
        // Armed only when the request does not finish on its first poll (an L1 hit does).
        #[pin]
        deadline: Option<tokio::time::Sleep>,
        limit: Duration,
        base: BaseHeaders,
        started: Instant,
        state: AppState,
        route: Option<&'static Route>,
        scope: Arc<RequestScope>,
        span: tracing::Span,
    }
}

impl<F> Future for ObserveFuture<F>
where
    F: Future<Output = Result<Response<Body>, Infallible>>,
{
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let _scope = request_scope::enter(this.scope);
        let mut response = match this.inner.poll(cx) {
            Poll::Ready(Ok(response)) => response,
            Poll::Ready(Err(never)) => match never {},
            Poll::Pending => {
                if this.deadline.is_none() {
                    let at = tokio::time::Instant::from_std(*this.started + *this.limit);
                    this.deadline.set(Some(tokio::time::sleep_until(at)));
                }
                match this
                    .deadline
                    .as_mut()
                    .as_pin_mut()
                    .map(|sleep| sleep.poll(cx))
                {
                    Some(Poll::Ready(())) => timed_out(*this.limit, *this.base),
                    _ => return Poll::Pending,
                }
            }
        };
        let state = &*this.state;
        state.requests.finish();
        let status = response.status().as_u16();
        let elapsed = this.started.elapsed();
        state
            .http
            .record(*this.route, &this.scope.method, status, elapsed);
        this.span.record("http.response.status_code", status);
        let elapsed_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3;
        let shed = response.extensions().get::<LoadShed>().is_some();
        // `message` as a `&str` field, not a format string: the formatter writes it as it
        // is instead of running `core::fmt` on it.
        if status >= 500 && !shed {
            tracing::error!(target: "dmr::access", status, elapsed_ms, message = "request completed");
        } else if status >= 500 {
            tracing::warn!(target: "dmr::access", status, elapsed_ms, message = "request completed");
        } else {
            tracing::info!(target: "dmr::access", status, elapsed_ms, message = "request completed");
        }
        response
            .headers_mut()
            .insert(REQUEST_ID.clone(), this.scope.request_id.clone());
        Poll::Ready(Ok(response))
    }
}

/// A request past REQUEST_TIMEOUT_MS. Work already handed to a store (a write on SQLite's
/// blocking pool) still completes; the client is told it may not have.
fn timed_out(limit: Duration, base: BaseHeaders) -> Response<Body> {
    let mut response = ApiError::new(
        ErrorCode::RequestTimeout,
        format!(
            "The request took longer than {} ms; a write may or may not have been applied",
            limit.as_millis()
        ),
    )
    .into_response();
    base.apply(&mut response);
    response
}

fn new_request_id() -> HeaderValue {
    use std::fmt::Write;
    use std::sync::atomic::{AtomicU64, Ordering};
    // Process-unique and cheap: pid and start time (once), then a counter.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        format!("{:x}-{:x}-", std::process::id(), started)
    });
    let mut id = String::with_capacity(prefix.len() + 16);
    id.push_str(prefix);
    let _ = write!(id, "{:x}", NEXT.fetch_add(1, Ordering::Relaxed));
    HeaderValue::from_maybe_shared(bytes::Bytes::from(id))
        .unwrap_or_else(|_| HeaderValue::from_static("-"))
}
