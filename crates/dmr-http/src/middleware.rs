//! Cross-cutting request handling: request ids, the access log, in-flight counting and
//! turning a handler panic into a JSON 500.

use std::any::Any;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Response};
use axum::middleware::Next;
use axum::response::IntoResponse;
use tracing::Instrument;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

pub const REQUEST_ID: &str = "x-request-id";

/// Gives every request an id (the caller's `X-Request-Id` when it sent a sane one), runs it
/// inside a span carrying that id, logs one line when it completes, echoes the id back.
pub async fn observe(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response<Body> {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(new_request_id);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        request.headers_mut().insert(REQUEST_ID, value);
    }
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let span = tracing::info_span!("request", request_id = %request_id, %method, %path);

    state.requests.start();
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    state.requests.finish();

    let status = response.status().as_u16();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, elapsed_ms, "request completed");
        } else {
            tracing::info!(status, elapsed_ms, "request completed");
        }
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// Answers 408 when a request takes longer than REQUEST_TIMEOUT_MS. Work already handed to
/// a store (a write on SQLite's blocking pool) still completes; the client is told it may
/// not have.
pub async fn timeout(
    State(limit): State<Duration>,
    request: Request,
    next: Next,
) -> Response<Body> {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            ErrorCode::RequestTimeout,
            format!(
                "The request took longer than {} ms; a write may or may not have been applied",
                limit.as_millis()
            ),
        )
        .into_response(),
    }
}

fn new_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    // Process-unique and cheap: pid, start time and a counter; no randomness needed.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        format!("{:x}-{:x}", std::process::id(), started)
    });
    format!("{prefix}-{:x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// `CatchPanicLayer` hook: the client gets a JSON 500 without internals; the log gets the
/// panic message inside the request's span (so with its request id).
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    tracing::error!(panic = %detail, "handler panicked");
    ApiError::new(ErrorCode::Internal, "Internal server error").into_response()
}
