//! Helmet's headers (and CORS `*`'s) under a route's answer, right after it is made
//! (innermost of the header-setting layers). The layers further out put them under the
//! answers they give themselves, so each of their own headers is inserted once, into the
//! final map.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http::Response;
use tower::{Layer, Service};

use super::config::EdgeConfig;
use crate::cors::{self, CorsOrigins};
use crate::security_headers::BaseHeaders;

/// Every response's headers before its own: Helmet's, and CORS's when they do not depend
/// on the request (`CORS_ORIGINS=*`).
pub fn base_headers(config: &EdgeConfig) -> BaseHeaders {
    match config.cors_origins {
        CorsOrigins::Any => BaseHeaders::new(cors::any_origin_headers()),
        CorsOrigins::List(_) => BaseHeaders::new([]),
    }
}

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
