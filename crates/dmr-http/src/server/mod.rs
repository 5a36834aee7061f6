//! The accept loop: what `axum::serve` does (HTTP/1.1 on hyper, each request tagged with
//! the peer's address, a graceful drain on shutdown), plus the bounds a public server
//! needs, which `axum::serve` has no setting for: a connection that does not finish its
//! request head in `headers_timeout` is closed (hyper's timer, which `axum::serve` does not
//! set), one that moves no byte and has no request being answered for `keep_alive_timeout`
//! is closed, and at most `max_connections` are open (past it the loop stops accepting,
//! and the kernel's backlog holds new ones until a connection closes).

mod activity;
mod peer;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::{Service, ServiceExt};

use activity::{Activity, Counted, Watched};
use peer::PeerTagged;

/// How long a client may hold a connection without using it, and how many it may hold
/// (the defaults are the binary's settings table's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From the moment a connection waits for a request head (connected, or done with the
    /// previous request) to the head's last byte (Node's `headersTimeout`); zero: none.
    pub headers_timeout: Duration,
    /// Longest a connection stays open with no byte moving and no request being answered
    /// (Node's `keepAliveTimeout`); checked twice per period, so a quiet connection closes
    /// between one and one and a half periods after its last byte; zero: never.
    pub keep_alive_timeout: Duration,
    /// Connections open at once; the loop accepts the next when one closes.
    pub max_connections: usize,
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets each
/// connection finish the request it is answering, and returns when every one is closed.
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // Dropped to tell the connections to drain; its receivers' count is the open ones.
    let (drain, draining) = watch::channel(());
    let (closed, open) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    let mut full_since_logged = false;
    loop {
        let slot = match Arc::clone(&slots).try_acquire_owned() {
            Ok(slot) => {
                full_since_logged = false;
                slot
            }
            Err(_) => {
                if !full_since_logged {
                    full_since_logged = true;
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "MAX_CONNECTIONS open: new connections wait until one closes"
                    );
                }
                tokio::select! {
                    slot = Arc::clone(&slots).acquire_owned() => slot.expect("the semaphore is never closed"),
                    () = &mut shutdown => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = PeerTagged {
            app: app.clone(),
            peer,
        };
        let draining = draining.clone();
        let open = open.clone();
        tokio::spawn(async move {
            serve_connection(stream, peer, app, limits, draining).await;
            drop(slot);
            drop(open);
        });
    }
    drop(listener);
    drop(drain);
    drop(open);
    closed.closed().await;
}

async fn serve_connection<S>(
    stream: TcpStream,
    peer: SocketAddr,
    app: S,
    limits: ConnectionLimits,
    mut draining: watch::Receiver<()>,
) where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    let activity = Arc::new(Activity::default());
    let io = TokioIo::new(Watched {
        io: stream,
        activity: Arc::clone(&activity),
    });
    let app = Counted {
        app,
        activity: Arc::clone(&activity),
    }
    .map_request(|request: Request<Incoming>| request.map(Body::new));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout((!limits.headers_timeout.is_zero()).then_some(limits.headers_timeout));
    let connection = builder.serve_connection(io, TowerToHyperService::new(app));
    let mut connection = std::pin::pin!(connection);
    let look_every = limits.keep_alive_timeout / 2;
    let watch_idle = !look_every.is_zero();
    // One timer for the connection's life, reset when it fires (not one per wake-up).
    let mut look = std::pin::pin!(tokio::time::sleep(look_every));
    let mut quiet_looks = 0;
    let mut drain_asked = false;
    loop {
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(e) = served {
                    tracing::debug!(%peer, error = %e, "connection closed with an error");
                }
                return;
            }
            _ = draining.changed(), if !drain_asked => {
                drain_asked = true;
                connection.as_mut().graceful_shutdown();
            }
            () = look.as_mut(), if watch_idle => {
                look.as_mut().reset(tokio::time::Instant::now() + look_every);
                quiet_looks = if activity.was_quiet() { quiet_looks + 1 } else { 0 };
                if quiet_looks >= 2 {
                    // Nothing is being answered and nothing moved: dropping the connection
                    // loses no response.
                    tracing::debug!(%peer, "keep-alive timeout: closing a quiet connection");
                    return;
                }
            }
        }
    }
}

/// A connection refused or reset before it was accepted concerns that client only; any
/// other error (no file descriptor left) is the process's, and accepting again at once
/// would spin, so the loop waits a second, as hyper's and axum's loops do.
async fn accept_error(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed; accepting again in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
