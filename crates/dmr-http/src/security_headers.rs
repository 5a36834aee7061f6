//! The headers `app.use(helmet())` sets, with Helmet 8's default values, on every response.
//! Static values: the request path only copies them into the response.

use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_DNS_PREFETCH_CONTROL, X_FRAME_OPTIONS, X_XSS_PROTECTION,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue};

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

/// Adds each header the response does not set itself (Helmet sets them before the route
/// runs, so a route's own value wins there too).
pub fn apply(headers: &mut HeaderMap) {
    headers.reserve(HELMET_HEADERS.len());
    for (name, value) in &HELMET_HEADERS {
        if let axum::http::header::Entry::Vacant(slot) = headers.entry(name) {
            slot.insert(value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_header_is_set_and_a_routes_own_value_wins() {
        let mut headers = HeaderMap::new();
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        apply(&mut headers);
        assert_eq!(headers.len(), HELMET_HEADERS.len());
        assert_eq!(headers[X_FRAME_OPTIONS], "DENY");
        assert_eq!(headers[X_XSS_PROTECTION], "0");
        assert_eq!(headers["origin-agent-cluster"], "?1");
        assert!(
            headers[CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .ends_with(";upgrade-insecure-requests")
        );
    }
}
