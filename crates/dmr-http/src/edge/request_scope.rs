//! The request a thread is working on, for the log lines written meanwhile: set by the
//! observe layer around each poll of a request's future, read by the binary's log
//! formatter (`with_current_request`), which writes the request's id, method, path, route,
//! tenant and model on every line. A thread-local instead of a `tracing` span: a span per
//! request costs the subscriber an allocation, formatted fields and a registry slot on
//! every request, and every one of them is a log line's worth of work at 100,000 requests
//! a second. (Spans still exist for tracing export: `observe.rs` opens one at DEBUG, built
//! only when a layer wants it.)

use std::cell::RefCell;
use std::sync::Arc;

use axum::http::{HeaderValue, Method, Uri};
use dmr_store::TenantId;

use super::context::ModelName;

/// What a request's log lines say about it.
#[derive(Debug)]
pub struct RequestScope {
    pub(crate) request_id: HeaderValue,
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) route: Option<&'static str>,
    pub(crate) tenant: Option<TenantId>,
    pub(crate) model: Option<ModelName>,
}

impl RequestScope {
    pub fn request_id(&self) -> &str {
        // Only visible ASCII is accepted or generated (`observe::request_id`).
        self.request_id.to_str().unwrap_or_default()
    }

    pub fn method(&self) -> &str {
        self.method.as_str()
    }

    pub fn path(&self) -> &str {
        self.uri.path()
    }

    /// The route template, when the request matched one.
    pub fn route(&self) -> Option<&'static str> {
        self.route
    }

    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_ref().map(TenantId::as_str)
    }

    pub fn model(&self) -> Option<&str> {
        self.model.as_ref().map(ModelName::as_str)
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<RequestScope>>> = const { RefCell::new(None) };
}

/// Calls `f` with the request this thread is polling, if any.
pub fn with_current_request<R>(f: impl FnOnce(Option<&RequestScope>) -> R) -> R {
    CURRENT.with(|current| match current.try_borrow() {
        Ok(scope) => f(scope.as_deref()),
        Err(_) => f(None),
    })
}

/// The scope is the thread's current one until this is dropped (then the one before it).
pub(crate) struct Entered {
    previous: Option<Arc<RequestScope>>,
}

pub(crate) fn enter(scope: &Arc<RequestScope>) -> Entered {
    let previous = CURRENT.with(|current| current.replace(Some(Arc::clone(scope))));
    Entered { previous }
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(id: &'static str) -> Arc<RequestScope> {
        Arc::new(RequestScope {
            request_id: HeaderValue::from_static(id),
            method: Method::GET,
            uri: Uri::from_static("/api/models/acme/User"),
            route: Some("/api/models/{tenant_id}/{model_name}"),
            tenant: Some(TenantId::parse("acme").unwrap()),
            model: None,
        })
    }

    #[test]
    fn the_current_request_is_the_innermost_entered_one() {
        let id = || with_current_request(|s| s.map(|s| s.request_id().to_owned()));
        assert_eq!(id(), None);
        let outer = scope("outer");
        {
            let _outer = enter(&outer);
            assert_eq!(id().as_deref(), Some("outer"));
            {
                let _inner = enter(&scope("inner"));
                assert_eq!(id().as_deref(), Some("inner"));
            }
            assert_eq!(id().as_deref(), Some("outer"));
            with_current_request(|s| {
                let s = s.unwrap();
                assert_eq!(
                    (s.tenant(), s.model(), s.path()),
                    (Some("acme"), None, "/api/models/acme/User")
                );
            });
        }
        assert_eq!(id(), None);
    }
}
