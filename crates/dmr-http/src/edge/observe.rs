//! Everything each request goes through, in one layer: an id, a span carrying it, the
//! in-flight count, the request timeout, one access-log line. Outside the limits so that
//! every refusal is logged with its request id and counted.

use std::time::{Duration, Instant};

use axum::body::Body;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{HeaderValue, Response};
use axum::response::IntoResponse;
use tower::{Layer, Service};
use tracing::Instrument;

use crate::error::{ApiError, ErrorCode, LoadShed};
use crate::security_headers::BaseHeaders;
use crate::state::AppState;

pub const REQUEST_ID: &str = "x-request-id";

/// Everything each request goes through, in one layer: an id (the caller's `X-Request-Id`
/// when sane, echoed back), a span carrying it, the in-flight count, the request timeout,
/// one access-log line. A hand-written tower layer rather than `from_fn`, which boxes a
/// clone of the inner service on every request (seen in the L1-hit profile).
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
        let request_id = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
            .map(str::to_owned)
            .unwrap_or_else(new_request_id);
        // Fields are only evaluated when the span is enabled (LOG_LEVEL): nothing is
        // copied for a disabled one.
        let span = tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %request.method(),
            path = %request.uri().path()
        );
        let state = self.layer.state.clone();
        state.requests.start();
        let started = Instant::now();
        let inner = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        ObserveFuture {
            inner: inner.instrument(span.clone()),
            deadline: None,
            limit: self.layer.timeout,
            base: self.layer.base,
            started,
            state,
            span,
            request_id: Some(request_id),
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
        span: tracing::Span,
        request_id: Option<String>,
    }
}

impl<F> Future for ObserveFuture<F>
where
    F: Future<Output = Result<Response<Body>, Infallible>>,
{
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
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
        this.state.requests.finish();
        let status = response.status().as_u16();
        let elapsed_ms = this.started.elapsed().as_secs_f64() * 1000.0;
        let fault = status >= 500 && response.extensions().get::<LoadShed>().is_none();
        this.span.in_scope(|| {
            if fault {
                tracing::error!(status, elapsed_ms, "request completed");
            } else if status >= 500 {
                tracing::warn!(status, elapsed_ms, "request completed");
            } else {
                tracing::info!(status, elapsed_ms, "request completed");
            }
        });
        // The string moves into the header without a copy.
        if let Some(id) = this.request_id.take()
            && let Ok(value) = HeaderValue::from_maybe_shared(bytes::Bytes::from(id))
        {
            response.headers_mut().insert(REQUEST_ID, value);
        }
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

fn new_request_id() -> String {
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
    id
}
