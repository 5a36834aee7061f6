//! Each request tagged with the peer's address (`ConnectInfo`, the rate limiter's client
//! unless it is a trusted proxy), as `Router::into_make_service_with_connect_info` does for
//! a bare router.

use std::net::SocketAddr;
use std::task::{Context, Poll};

use axum::extract::{ConnectInfo, Request};
use tower::Service;

/// The app for one connection.
#[derive(Debug, Clone)]
pub(super) struct PeerTagged<S> {
    pub(super) app: S,
    pub(super) peer: SocketAddr,
}

impl<S: Service<Request>> Service<Request> for PeerTagged<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.app.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        self.app.call(request)
    }
}
