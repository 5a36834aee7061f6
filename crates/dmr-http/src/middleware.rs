//! Cross-cutting request handling: request ids, the access log, in-flight counting and
//! turning a handler panic into a JSON 500.

use std::any::Any;
use std::panic::AssertUnwindSafe;
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

/// Turns a panic in a handler (or in routing) into a JSON 500 through `panic_response`.
/// Hand-written rather than tower-http's `CatchPanicLayer`, which boxes every response
/// body again; this one keeps the route's body as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct CatchPanicLayer;

impl<S> Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;

    fn layer(&self, inner: S) -> CatchPanic<S> {
        CatchPanic { inner }
    }
}

#[derive(Debug, Clone)]
pub struct CatchPanic<S> {
    inner: S,
}

impl<S> Service<Request> for CatchPanic<S>
where
    S: Service<Request, Response = Response<Body>, Error = Infallible>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = CatchPanicFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
            Ok(inner) => CatchPanicFuture {
                inner: Some(inner),
                panicked: None,
            },
            Err(panic) => CatchPanicFuture {
                inner: None,
                panicked: Some(panic_response(panic)),
            },
        }
    }
}

pin_project_lite::pin_project! {
    pub struct CatchPanicFuture<F> {
        #[pin]
        inner: Option<F>,
        panicked: Option<Response<Body>>,
    }
}

impl<F> Future for CatchPanicFuture<F>
where
    F: Future<Output = Result<Response<Body>, Infallible>>,
{
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let Some(inner) = this.inner.as_mut().as_pin_mut() else {
            return Poll::Ready(Ok(this.panicked.take().expect("polled after completion")));
        };
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(poll) => poll,
            Err(panic) => {
                // The future is not polled again after a panic.
                this.inner.set(None);
                Poll::Ready(Ok(panic_response(panic)))
            }
        }
    }
}

/// The client gets a JSON 500 without internals; the log gets the panic message inside the
/// request's span (so with its request id).
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    tracing::error!(panic = %detail, "handler panicked");
    ApiError::new(ErrorCode::Internal, "Internal server error").into_response()
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_panic_is_a_json_500_without_internals() {
        async fn boom() -> &'static str {
            panic!("secret detail")
        }
        let app = Router::new()
            .route("/boom", get(boom))
            .layer(CatchPanicLayer);
        let request = Request::get("/boom").body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), 500);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"]["code"], "internal_error");
        assert_eq!(json["error"]["message"], "Internal server error");
        assert!(!String::from_utf8_lossy(&body).contains("secret"));
    }
}
