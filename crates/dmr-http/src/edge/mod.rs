//! The edge: the layers every request goes through, one file each, assembled by `assemble`
//! in the order below (outermost first). Each is a hand-written tower layer (no box per
//! request); they wrap the dispatch once, as one service, rather than through
//! `Router::layer`, which wraps every route in each layer and costs each request a boxed
//! clone of the service and a boxed future per layer (seen in the L1-hit profile). What
//! they share is built once per process and kept for its life (`state::leak`): the server
//! clones the app for every request, and a clone is then a pointer copy.
//!
//! 1. `context`: the one parse of the request (route, tenant, model, credential, verdict)
//!    that every layer below reads.
//! 2. `browser`: CORS on every response, preflights answered.
//! 3. `observe`: request id, span, in-flight count, timeout, access log.
//! 4. `limits`: client and tenant windows, the tenant's slot, JSON depth.
//! 5. `base_headers`: Helmet's headers under the route's answer; then the body limit
//!    (axum's `DefaultBodyLimit`) and `catch_panic`.
//! 6. `dispatch`: the guard (the context's verdict) and the route's handler.

mod base_headers;
mod browser;
mod catch_panic;
mod config;
mod context;
mod dispatch;
mod limits;
mod observe;
mod quota;
mod request_scope;
mod route_index;

#[cfg(test)]
mod context_props;

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::Response;
use tower::{Service, ServiceBuilder};

pub use base_headers::{BaseHeadersLayer, base_headers};
pub use browser::BrowserHeadersLayer;
pub use catch_panic::CatchPanicLayer;
pub use config::EdgeConfig;
#[cfg(test)]
pub use context::tenant_named;
pub use context::{ContextLayer, ModelName, RequestContext};
pub use dispatch::Dispatch;
pub use limits::{LIMITER_CAPACITY, LimitsLayer};
pub use observe::{ObserveLayer, TraceParent, set_trace_parent};
pub use request_scope::{RequestScope, with_current_request};
pub use route_index::{HandlerFuture, Route, RouteIndex};

use crate::state::{AppState, HttpConfig, leak};

/// The table's routes (`index`) and what it does not route (`unrouted`), behind every
/// layer of the edge, in the order of the module comment.
pub fn assemble(
    state: AppState,
    config: &HttpConfig,
    index: &'static RouteIndex,
    unrouted: Router,
) -> impl Service<Request, Response = Response<Body>, Error = Infallible, Future: Send + 'static>
+ Clone
+ Send
+ Sync
+ 'static {
    let base = base_headers(&config.edge);
    ServiceBuilder::new()
        .layer(ContextLayer::new(index, state.clone()))
        .layer(BrowserHeadersLayer::new(&config.edge, base))
        .layer(ObserveLayer {
            state: state.clone(),
            timeout: config.request_timeout,
            base,
        })
        .layer(LimitsLayer::new(&config.edge, base, &state.shared().http))
        .layer(BaseHeadersLayer(base))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(CatchPanicLayer)
        .service(Dispatch::new(state, leak(unrouted)))
}

/// A layer's future: the route's answer when it is ready, or the one the layer gave itself
/// (`own`, when there is no route future).
fn route_or_own<F>(
    route: Pin<&mut Option<F>>,
    own: &mut Option<Response<Body>>,
    cx: &mut Context<'_>,
) -> Poll<Response<Body>>
where
    F: Future<Output = Result<Response<Body>, Infallible>>,
{
    match route.as_pin_mut() {
        Some(route) => route.poll(cx).map(|result| match result {
            Ok(response) => response,
            Err(never) => match never {},
        }),
        None => Poll::Ready(own.take().expect("polled after completion")),
    }
}
