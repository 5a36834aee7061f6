//! What `axum::serve` is given: the app, cloned per connection, tagging each request with
//! the peer's address (`ConnectInfo`, the rate limiter's client unless it is a trusted
//! proxy), as `Router::into_make_service_with_connect_info` does for a bare router.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::net::SocketAddr;
use std::task::{Context, Poll};

use axum::extract::{ConnectInfo, Request};
use axum::serve::IncomingStream;
use tokio::net::TcpListener;
use tower::Service;

/// The make-service: one `PeerTagged` app per accepted connection.
#[derive(Debug, Clone)]
pub struct WithPeerAddress<S> {
    app: S,
}

/// `axum::serve(listener, with_peer_address(app))`.
pub fn with_peer_address<S>(app: S) -> WithPeerAddress<S> {
    WithPeerAddress { app }
}

impl<S: Clone> Service<IncomingStream<'_, TcpListener>> for WithPeerAddress<S> {
    type Response = PeerTagged<S>;
    type Error = Infallible;
    type Future = Ready<Result<PeerTagged<S>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, stream: IncomingStream<'_, TcpListener>) -> Self::Future {
        ready(Ok(PeerTagged {
            app: self.app.clone(),
            peer: *stream.remote_addr(),
        }))
    }
}

/// The app for one connection.
#[derive(Debug, Clone)]
pub struct PeerTagged<S> {
    app: S,
    peer: SocketAddr,
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
