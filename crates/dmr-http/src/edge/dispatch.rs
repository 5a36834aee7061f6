//! The innermost service: the route the `RequestContext` matched, behind its access rule.
//!
//! The guard is the context's verdict, decided from memory at the outermost layer: a key
//! known to this instance, or no key needed, calls the handler at once (its own future,
//! no further box); a refusal is answered here, before any extractor runs, so an
//! unauthenticated request never has its query or body parsed; only a key seen for the
//! first time waits for the store (`AccessControl::resolve`, with the digest the context
//! kept). A path the table does not know goes to `unrouted` (the document's pages, else
//! the unknown-route 404); a known path with another method is 405 with `Allow`.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::Request;
use axum::http::header::ALLOW;
use axum::response::{IntoResponse, Response};
use axum::routing::future::RouteFuture;
use dmr_registry::{PendingKey, Verdict};
use tower::Service;

use super::context::RequestContext;
use super::route_index::{HandlerFuture, Matched, Route};
use crate::auth::refusal;
use crate::error::{ApiError, ErrorCode};
use crate::handlers::fallback;
use crate::state::AppState;

/// Copied per request: two pointers.
#[derive(Clone)]
pub struct Dispatch {
    state: AppState,
    unrouted: &'static Router,
}

impl Dispatch {
    pub fn new(state: AppState, unrouted: &'static Router) -> Self {
        Dispatch { state, unrouted }
    }
}

impl Service<Request> for Dispatch {
    type Response = Response;
    type Error = Infallible;
    type Future = DispatchFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> DispatchFuture {
        let Some(context) = request.extensions().get::<RequestContext>() else {
            let bug = ApiError::new(ErrorCode::Internal, "request without the edge's context");
            return DispatchFuture::answered(bug.into_response());
        };
        match context.matched() {
            Matched::Unrouted => DispatchFuture::Unrouted {
                future: self.unrouted.clone().call(request),
            },
            Matched::MethodNotAllowed(entry) => {
                let mut response =
                    fallback::method_not_allowed_error(request.method(), request.uri().path())
                        .into_response();
                response.headers_mut().insert(ALLOW, entry.allow.clone());
                DispatchFuture::answered(response)
            }
            Matched::Route(route) => match context.verdict() {
                Verdict::Allow => DispatchFuture::Handler {
                    future: route.call(request, self.state.clone()),
                },
                Verdict::Deny(denial) => DispatchFuture::answered(refusal(
                    denial,
                    request.method(),
                    request.uri().path(),
                )),
                Verdict::AskStore(pending) => DispatchFuture::Handler {
                    future: Box::pin(resolve_then_call(
                        route,
                        pending,
                        request,
                        self.state.clone(),
                    )),
                },
            },
        }
    }
}

/// The slow path: a key this instance has not verified lately.
async fn resolve_then_call(
    route: &'static Route,
    pending: PendingKey,
    request: Request,
    state: AppState,
) -> Response {
    let decision = match request.extensions().get::<RequestContext>() {
        Some(context) => state.access.resolve(pending, context.requirement()).await,
        None => Err(dmr_registry::RegistryError::Internal(
            "request without the edge's context".to_owned(),
        )),
    };
    match decision {
        Ok(Ok(())) => route.call(request, state).await,
        Ok(Err(denial)) => refusal(denial, request.method(), request.uri().path()),
        Err(error) => ApiError::from(error).into_response(),
    }
}

pin_project_lite::pin_project! {
    #[project = DispatchProjection]
    pub enum DispatchFuture {
        Handler { future: HandlerFuture },
        Answered { response: Option<Response> },
        Unrouted { #[pin] future: RouteFuture<Infallible> },
    }
}

impl DispatchFuture {
    fn answered(response: Response) -> Self {
        DispatchFuture::Answered {
            response: Some(response),
        }
    }
}

impl Future for DispatchFuture {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            DispatchProjection::Handler { future } => future.as_mut().poll(cx).map(Ok),
            DispatchProjection::Answered { response } => {
                Poll::Ready(Ok(response.take().unwrap_or_else(|| {
                    ApiError::new(ErrorCode::Internal, "response polled twice").into_response()
                })))
            }
            DispatchProjection::Unrouted { future } => future.poll(cx),
        }
    }
}
