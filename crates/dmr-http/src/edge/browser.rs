//! CORS on every response (the 408 of a timed-out request and the 429 of a limited one
//! included) and preflights answered, with the base headers as every answer given at the
//! edge. Outermost of the layers that answer, so preflights never count against a rate
//! limit (express's `cors()` ends them before the seed's limiter too).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http::Response;
use tower::{Layer, Service};

use super::config::EdgeConfig;
use super::route_or_own;
use crate::cors::{self, CorsOrigins, Grant};
use crate::security_headers::BaseHeaders;
use crate::state::leak;

/// Built once per process (`state::leak`).
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
