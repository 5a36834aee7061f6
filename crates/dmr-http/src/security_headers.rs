//! The headers `app.use(helmet())` sets, with Helmet 8's default values, on every response.
//! Static values, built into one map at start-up (`BaseHeaders`); each response starts
//! from a copy of it, which costs less than inserting the headers one by one (the L1-hit
//! profile).

use axum::body::Body;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_DNS_PREFETCH_CONTROL, X_FRAME_OPTIONS, X_XSS_PROTECTION,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Response};

use crate::state::leak;

/// Helmet 8.1's defaults, in its order. (Helmet 7 differs only in HSTS: 180 days,
/// `max-age=15552000`.) Helmet also removes `X-Powered-By`, which this server never sends.
pub static HELMET_HEADERS: [(HeaderName, HeaderValue); 12] = [
    (
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self';base-uri 'self';font-src 'self' https: data:;\
             form-action 'self';frame-ancestors 'self';img-src 'self' data:;\
             object-src 'none';script-src 'self';script-src-attr 'none';\
             style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
        ),
    ),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    ),
    (
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    ),
    (
        HeaderName::from_static("origin-agent-cluster"),
        HeaderValue::from_static("?1"),
    ),
    (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
    (
        STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    ),
    (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    (X_DNS_PREFETCH_CONTROL, HeaderValue::from_static("off")),
    (
        HeaderName::from_static("x-download-options"),
        HeaderValue::from_static("noopen"),
    ),
    (X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN")),
    (
        HeaderName::from_static("x-permitted-cross-domain-policies"),
        HeaderValue::from_static("none"),
    ),
    (X_XSS_PROTECTION, HeaderValue::from_static("0")),
];

/// Helmet's headers, then `extra`, in one map with room for `spare` more headers (a
/// response's own, added by `overlay`, without growing it).
pub fn base(extra: impl IntoIterator<Item = (HeaderName, HeaderValue)>, spare: usize) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(HELMET_HEADERS.len() + spare);
    map.extend(HELMET_HEADERS.iter().cloned());
    map.extend(extra);
    map
}

/// The headers every response starts from (`base`, built and kept once per process). They
/// are put under a response's own where it is made: right after the route answers
/// (`edge::BaseHeadersLayer`, innermost) and by each edge layer on the answers it gives
/// itself; the layers' own headers (`RateLimit-*`, the request id) then go into the final
/// map once, instead of being inserted into the route's and copied again.
#[derive(Debug, Clone, Copy)]
pub struct BaseHeaders(&'static HeaderMap);

impl BaseHeaders {
    /// Helmet's headers, then `extra`.
    pub fn new(extra: impl IntoIterator<Item = (HeaderName, HeaderValue)>) -> Self {
        BaseHeaders(leak(base(extra, OWN_HEADERS)))
    }

    /// The response's headers over a copy of the base (`overlay`).
    pub fn apply(self, response: &mut Response<Body>) {
        let own = std::mem::take(response.headers_mut());
        *response.headers_mut() = overlay(own, self.0);
    }
}

/// Room in the base map for a response's own headers (content type, `RateLimit-*`, request
/// id, a few more), so that adding them does not grow it.
const OWN_HEADERS: usize = 10;

/// A copy of `base` with the response's `own` headers over it: its own value wins (Helmet
/// sets its headers before the route runs, so a route's own value wins there too), and
/// every value of a header the response repeats is kept.
pub fn overlay(own: HeaderMap, base: &HeaderMap) -> HeaderMap {
    let mut headers = base.clone();
    // `into_iter` names a header once, on its first value.
    let mut current: Option<HeaderName> = None;
    for (name, value) in own {
        match name {
            Some(name) => {
                headers.insert(&name, value);
                current = Some(name);
            }
            None => {
                if let Some(name) = &current {
                    headers.append(name, value);
                }
            }
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_header_is_set_and_a_routes_own_values_win() {
        use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
        let base = base([(CONTENT_TYPE, HeaderValue::from_static("text/plain"))], 4);
        let mut own = HeaderMap::new();
        own.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        own.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        own.append(SET_COOKIE, HeaderValue::from_static("a=1"));
        own.append(SET_COOKIE, HeaderValue::from_static("b=2"));
        let headers = overlay(own, &base);
        assert_eq!(headers.keys_len(), HELMET_HEADERS.len() + 2);
        assert_eq!(headers[X_FRAME_OPTIONS], "DENY");
        assert_eq!(headers[CONTENT_TYPE], "application/json");
        assert_eq!(headers.get_all(SET_COOKIE).iter().count(), 2);
        assert_eq!(headers[X_XSS_PROTECTION], "0");
        assert_eq!(headers["origin-agent-cluster"], "?1");
        assert!(
            headers[CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .ends_with(";upgrade-insecure-requests")
        );
        assert_eq!(
            base[X_FRAME_OPTIONS], "SAMEORIGIN",
            "the base is left as it was"
        );
    }
}
