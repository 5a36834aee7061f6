//! The `RateLimit-*` headers of a limit (draft-6, as express-rate-limit's
//! `standardHeaders: true` sends them) and the seed's 429.

use std::sync::OnceLock;
use std::time::Duration;

use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};

use crate::rate_limit::Hit;

/// express-rate-limit's message, as the seed's clients read it.
const TOO_MANY_REQUESTS: &str = r#"{"error":"Too many requests, please try again later."}"#;

static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
static RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
static RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
static RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// A non-negative integer header value; small ones are static (no allocation per request).
fn decimal(n: u32) -> HeaderValue {
    static SMALL: OnceLock<Vec<HeaderValue>> = OnceLock::new();
    let small = SMALL.get_or_init(|| {
        (0..1024u32)
            .map(|i| HeaderValue::from_static(Box::leak(i.to_string().into_boxed_str())))
            .collect()
    });
    small
        .get(n as usize)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from(n))
}

/// One limit's `RateLimit-*` values for a response.
#[derive(Debug, Clone)]
pub struct Quota {
    policy: HeaderValue,
    limit: HeaderValue,
    pub remaining: u32,
    reset_after_secs: u32,
}

impl Quota {
    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.insert(RATELIMIT_POLICY.clone(), self.policy.clone());
        headers.insert(RATELIMIT_LIMIT.clone(), self.limit.clone());
        headers.insert(RATELIMIT_REMAINING.clone(), decimal(self.remaining));
        headers.insert(RATELIMIT_RESET.clone(), decimal(self.reset_after_secs));
    }

    /// 429 with the seed's body, `Retry-After` and the limit's headers.
    pub fn too_many_requests(&self) -> Response<Body> {
        let mut response = Response::new(Body::from(TOO_MANY_REQUESTS));
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(RETRY_AFTER, decimal(self.reset_after_secs));
        self.apply(headers);
        response
    }
}

/// A limit and its precomputed header values.
#[derive(Debug)]
pub struct Policy {
    pub max: u32,
    limit: HeaderValue,
    policy: HeaderValue,
}

impl Policy {
    pub fn new(max: u32, window: Duration, comment: &str) -> Self {
        let seconds = window.as_millis().div_ceil(1000);
        Policy {
            max,
            limit: decimal(max),
            policy: HeaderValue::from_str(&format!("{max};w={seconds}{comment}"))
                .expect("digits and ASCII"),
        }
    }

    pub fn quota(&self, hit: Hit) -> Quota {
        Quota {
            policy: self.policy.clone(),
            limit: self.limit.clone(),
            remaining: hit.remaining(self.max),
            reset_after_secs: hit.reset_after_secs,
        }
    }
}
