//! One parse of a request, at the outermost layer: the route it matches (with the row's
//! access rule), its tenant and model as the route names them (percent-decoded once,
//! validated once), the credential it presents and the access verdict for it (the key
//! hashed once). Every later reader — the limits, the guard in `dispatch.rs`, the
//! extractors, the access log — reads this `RequestContext` from the request's
//! extensions; none reads the URI or the credential headers again. Only this layer
//! inserts it: a client cannot send extensions.

use std::borrow::Cow;
use std::fmt;
use std::task::{Context, Poll};

use axum::extract::Request;
use dmr_registry::{AccessControl, Requirement, Verdict};
use dmr_store::{TenantId, TenantIdError};
use percent_encoding::percent_decode_str;
use tower::{Layer, Service};

use super::route_index::{Matched, Route, RouteIndex};
use crate::auth::{self, Access};
use crate::routes::{is_rate_limited, reserved_tenant_words};
use crate::state::AppState;

/// Longest valid model name (`dmr_model::is_valid_model_name`).
const MAX_MODEL_NAME_LEN: usize = 64;

/// What the edge read from a request, once.
#[derive(Clone)]
pub struct RequestContext {
    matched: Matched,
    /// `Some` when the route has `{tenant_id}`.
    tenant: Option<Result<TenantId, BadTenant>>,
    /// `Some` when the route has `{model_name}`; the error holds the decoded text.
    model: Option<Result<ModelName, Box<str>>>,
    /// The route's other parameters, decoded.
    params: Vec<(&'static str, Box<str>)>,
    verdict: Verdict,
    rate_limited: bool,
}

/// A tenant id a route names that no tenant can have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadTenant {
    Invalid(TenantIdError),
    /// A word another route has in that place (`routes::reserved_tenant_words`).
    Reserved(Box<str>),
}

impl fmt::Display for BadTenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadTenant::Invalid(e) => e.fmt(f),
            BadTenant::Reserved(word) => {
                write!(f, "tenant id {word:?} is reserved by the API's routes")
            }
        }
    }
}

/// A valid model name, kept inline: the L1-hit route copies 65 bytes instead of
/// allocating.
#[derive(Clone, Copy)]
pub struct ModelName {
    len: u8,
    bytes: [u8; MAX_MODEL_NAME_LEN],
}

impl std::fmt::Debug for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_str().fmt(f)
    }
}

impl ModelName {
    fn new(name: &str) -> Option<Self> {
        if !dmr_model::is_valid_model_name(name) {
            return None;
        }
        let mut bytes = [0; MAX_MODEL_NAME_LEN];
        bytes
            .get_mut(..name.len())?
            .copy_from_slice(name.as_bytes());
        Some(ModelName {
            len: name.len() as u8,
            bytes,
        })
    }

    pub fn as_str(&self) -> &str {
        // ASCII by construction.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

/// A path parameter as the handler sees it: percent-decoded (invalid UTF-8 replaced, so it
/// fails validation rather than routing).
fn decode(raw: &str) -> Cow<'_, str> {
    if raw.contains('%') {
        percent_decode_str(raw).decode_utf8_lossy()
    } else {
        Cow::Borrowed(raw)
    }
}

/// The tenant a (decoded) path segment names: a valid id that is not a route's word.
pub fn tenant_named(decoded: &str) -> Result<TenantId, BadTenant> {
    if reserved_tenant_words().contains(&decoded) {
        return Err(BadTenant::Reserved(decoded.into()));
    }
    TenantId::parse(decoded).map_err(BadTenant::Invalid)
}

impl RequestContext {
    /// Matches `request` against the table and reads what its route names; the verdict is
    /// asked of `access` only for a routed request that needs a key.
    pub fn parse(index: &'static RouteIndex, access: &AccessControl, request: &Request) -> Self {
        let path = request.uri().path();
        let (matched, params) = index.find(request.method(), path);
        let mut context = RequestContext {
            matched,
            tenant: None,
            model: None,
            params: Vec::new(),
            verdict: Verdict::Allow,
            rate_limited: is_rate_limited(path),
        };
        for (name, raw) in params.iter().flat_map(|p| p.iter()) {
            match name {
                "tenant_id" => context.tenant = Some(tenant_named(&decode(raw))),
                "model_name" => {
                    let decoded = decode(raw);
                    context.model = Some(ModelName::new(&decoded).ok_or_else(|| decoded.into()));
                }
                _ => context.params.push((name, decode(raw).into())),
            }
        }
        if let Matched::Route(route) = matched
            && route.info.access != Access::Public
            && access.is_enforced()
        {
            context.verdict =
                access.check_cached(auth::credential(request.headers()), context.requirement());
        }
        context
    }

    pub fn matched(&self) -> Matched {
        self.matched
    }

    pub fn route(&self) -> Option<&'static Route> {
        match self.matched {
            Matched::Route(route) => Some(route),
            _ => None,
        }
    }

    /// The route's template, for logs and metrics (bounded: never the request's own path).
    pub fn template(&self) -> Option<&'static str> {
        match self.matched {
            Matched::Route(route) => Some(route.info.path),
            Matched::MethodNotAllowed(entry) => Some(entry.template),
            Matched::Unrouted => None,
        }
    }

    /// The tenant the route names, when it names one.
    pub fn tenant(&self) -> Option<&Result<TenantId, BadTenant>> {
        self.tenant.as_ref()
    }

    /// The tenant the route names, when it is a valid one.
    pub fn valid_tenant(&self) -> Option<&TenantId> {
        self.tenant.as_ref()?.as_ref().ok()
    }

    /// The model the route names: valid, or the decoded text that is not a model name.
    pub fn model(&self) -> Option<Result<ModelName, &str>> {
        Some(match self.model.as_ref()? {
            Ok(name) => Ok(*name),
            Err(text) => Err(text),
        })
    }

    /// Another parameter of the route (`id`, `key_id`), decoded.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, value)| &**value)
    }

    /// The access decision from memory (`Allow` for what needs no key, or when
    /// authentication is off).
    pub fn verdict(&self) -> Verdict {
        self.verdict
    }

    /// What the route asks of the caller. A tenant route naming an invalid tenant asks for
    /// a tenant no key has: a tenant key is refused as on another tenant's route, the admin
    /// key passes and the route answers 400.
    pub fn requirement(&self) -> Requirement<'_> {
        match self.route().map(|r| r.info.access) {
            None | Some(Access::Public) => Requirement::Public,
            Some(Access::AnyKey) => Requirement::AnyKey,
            Some(Access::Admin) => Requirement::Admin,
            Some(Access::Tenant) => {
                Requirement::Tenant(self.valid_tenant().map_or("", TenantId::as_str))
            }
        }
    }

    /// Whether the per-client and per-tenant limits cover the request.
    pub fn is_rate_limited(&self) -> bool {
        self.rate_limited
    }
}

/// Builds each request's `RequestContext`; outermost, so every layer has it. Copied per
/// request (the server clones the app for each): two pointers.
#[derive(Clone)]
pub struct ContextLayer {
    index: &'static RouteIndex,
    state: AppState,
}

impl ContextLayer {
    pub fn new(index: &'static RouteIndex, state: AppState) -> Self {
        ContextLayer { index, state }
    }
}

impl<S> Layer<S> for ContextLayer {
    type Service = WithContext<S>;

    fn layer(&self, inner: S) -> WithContext<S> {
        WithContext {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct WithContext<S> {
    inner: S,
    layer: ContextLayer,
}

impl<S: Service<Request>> Service<Request> for WithContext<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> S::Future {
        let context = RequestContext::parse(self.layer.index, &self.layer.state.access, &request);
        request.extensions_mut().insert(context);
        self.inner.call(request)
    }
}
