//! CORS from `CORS_ORIGINS`: `*` (the seed's `cors()`), or a list of origins.
//!
//! `*` allows any origin and never credentials (browsers refuse `*` with credentials). A
//! list echoes the request's origin when it is listed, with `Access-Control-Allow-Credentials`,
//! and always `Vary: Origin` so a cache never serves one origin's answer to another.
//! Preflights are answered here with 204, as express's `cors()` does.

use std::fmt;

use axum::body::Body;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_METHOD, CONTENT_LENGTH, ORIGIN, VARY,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};

/// express `cors()`'s default methods.
static ALLOW_METHODS: HeaderValue = HeaderValue::from_static("GET,HEAD,PUT,PATCH,POST,DELETE");
/// What a browser may send: the API's credentials and the request id.
static ALLOW_HEADERS: HeaderValue =
    HeaderValue::from_static("Authorization,X-API-Key,Content-Type,X-Request-Id");
/// What a browser script may read beyond the safelisted headers.
static EXPOSE_HEADERS: HeaderValue = HeaderValue::from_static(
    "RateLimit-Policy,RateLimit-Limit,RateLimit-Remaining,RateLimit-Reset,Retry-After,X-Request-Id",
);
/// Browsers cache a preflight this long (seconds); Chromium caps it at 7200.
static MAX_AGE: HeaderValue = HeaderValue::from_static("600");
static ANY: HeaderValue = HeaderValue::from_static("*");
static TRUE: HeaderValue = HeaderValue::from_static("true");
static VARY_ORIGIN: HeaderValue = HeaderValue::from_static("Origin");

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CorsOrigins {
    /// Any origin, no credentials.
    #[default]
    Any,
    /// These origins (`scheme://host[:port]`, lowercase), with credentials.
    List(Vec<HeaderValue>),
}

impl CorsOrigins {
    /// `*`, or a comma-separated list of origins such as `https://app.example.com`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw == "*" {
            return Ok(CorsOrigins::Any);
        }
        let origins = raw
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(parse_origin)
            .collect::<Result<Vec<_>, _>>()?;
        if origins.is_empty() {
            return Err("no origin given".to_owned());
        }
        Ok(CorsOrigins::List(origins))
    }

    /// The CORS headers a response to a request with these headers gets.
    pub fn grant(&self, request: &HeaderMap) -> Grant {
        match self {
            CorsOrigins::Any => Grant::Any,
            CorsOrigins::List(allowed) => request
                .get(ORIGIN)
                .and_then(|origin| allowed.iter().find(|a| *a == origin))
                .map_or(Grant::NotListed, |origin| Grant::Listed(origin.clone())),
        }
    }
}

impl fmt::Display for CorsOrigins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorsOrigins::Any => f.write_str("*"),
            CorsOrigins::List(origins) => {
                let names: Vec<&str> = origins.iter().filter_map(|o| o.to_str().ok()).collect();
                f.write_str(&names.join(","))
            }
        }
    }
}

/// `scheme://host[:port]` with scheme http or https; a trailing `/` is dropped.
fn parse_origin(raw: &str) -> Result<HeaderValue, String> {
    let bad = || {
        format!(
            "{raw:?} is not an origin (scheme://host[:port], e.g. https://app.example.com); \
             use * alone to allow any origin"
        )
    };
    let origin = raw.strip_suffix('/').unwrap_or(raw).to_ascii_lowercase();
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(bad)?;
        if host.is_empty() || !host.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err(bad());
        }
        (host, after.strip_prefix(':'))
    } else {
        match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        }
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok());
    if !host_ok || !port_ok {
        return Err(bad());
    }
    HeaderValue::from_str(&origin).map_err(|_| bad())
}

/// The CORS headers for one response.
#[derive(Debug, Clone)]
pub enum Grant {
    Any,
    Listed(HeaderValue),
    NotListed,
}

impl Grant {
    pub fn apply(&self, headers: &mut HeaderMap) {
        match self {
            Grant::Any => headers.extend(any_origin_headers()),
            Grant::Listed(origin) => {
                headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                headers.insert(ACCESS_CONTROL_ALLOW_CREDENTIALS, TRUE.clone());
                headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSE_HEADERS.clone());
                headers.append(VARY, VARY_ORIGIN.clone());
            }
            Grant::NotListed => {
                headers.append(VARY, VARY_ORIGIN.clone());
            }
        }
    }
}

/// What `Grant::Any` adds: the same on every response.
pub fn any_origin_headers() -> [(HeaderName, HeaderValue); 2] {
    [
        (ACCESS_CONTROL_ALLOW_ORIGIN, ANY.clone()),
        (ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSE_HEADERS.clone()),
    ]
}

/// A CORS preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`.
pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS
        && headers.contains_key(ORIGIN)
        && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD)
}

/// 204 with what may be sent; a listed origin is echoed, another gets no allow headers (the
/// browser then refuses the real request).
pub fn preflight_response(grant: &Grant) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    if !matches!(grant, Grant::NotListed) {
        headers.insert(ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS.clone());
        headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS.clone());
        headers.insert(ACCESS_CONTROL_MAX_AGE, MAX_AGE.clone());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_origin(origin: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ORIGIN, HeaderValue::from_str(origin).unwrap());
        headers
    }

    #[test]
    fn parses_star_and_lists() {
        assert_eq!(CorsOrigins::parse(" * ").unwrap(), CorsOrigins::Any);
        let list = CorsOrigins::parse("https://App.example.com/, http://localhost:8080").unwrap();
        assert_eq!(
            list.to_string(),
            "https://app.example.com,http://localhost:8080"
        );
        assert!(CorsOrigins::parse("http://[::1]:3000").is_ok());
    }

    #[test]
    fn refuses_what_is_not_an_origin() {
        for bad in [
            "",
            "*,https://a.com",
            "null",
            "a.com",
            "ftp://a.com",
            "https://a.com/path",
            "https://",
            "https://a.com:99999",
            "https://a b.com",
        ] {
            assert!(CorsOrigins::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn star_never_grants_credentials() {
        let mut headers = HeaderMap::new();
        CorsOrigins::Any
            .grant(&with_origin("https://evil.example"))
            .apply(&mut headers);
        assert_eq!(headers[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert!(!headers.contains_key(ACCESS_CONTROL_ALLOW_CREDENTIALS));
    }

    #[test]
    fn a_list_echoes_listed_origins_only() {
        let cors = CorsOrigins::parse("https://app.example.com").unwrap();
        let mut headers = HeaderMap::new();
        cors.grant(&with_origin("https://app.example.com"))
            .apply(&mut headers);
        assert_eq!(
            headers[ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example.com"
        );
        assert_eq!(headers[ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        assert_eq!(headers[VARY], "Origin");

        let mut headers = HeaderMap::new();
        cors.grant(&with_origin("https://evil.example"))
            .apply(&mut headers);
        assert!(!headers.contains_key(ACCESS_CONTROL_ALLOW_ORIGIN));
        assert!(!headers.contains_key(ACCESS_CONTROL_ALLOW_CREDENTIALS));
        assert_eq!(headers[VARY], "Origin");

        let mut headers = HeaderMap::new();
        cors.grant(&HeaderMap::new()).apply(&mut headers);
        assert!(!headers.contains_key(ACCESS_CONTROL_ALLOW_ORIGIN));
    }
}
