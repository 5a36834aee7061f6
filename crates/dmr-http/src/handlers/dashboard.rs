//! `/dashboard`, `/dashboard.js`, `/dashboard.css`: a live page on `/api/models/stats`,
//! compiled into the binary (no CDN: it works offline). The page carries no data, so its
//! three files are public; the numbers come from the stats route, which the script calls
//! with the admin key the operator types (kept in `sessionStorage`, sent as
//! `Authorization: Bearer`, never in a URL).
//!
//! Each file is answered with an `ETag` (a hash of its bytes, computed once) and
//! `Cache-Control: no-cache`, so a browser revalidates on every load and gets a 304 until
//! the binary changes. The page sets its own Content-Security-Policy over Helmet's (a
//! route's own header wins, `security_headers::overlay`): stricter (nothing inline,
//! nothing but its own script, style and stats), and without `upgrade-insecure-requests`,
//! which would make a browser fetch the script and the stats over https when the page is
//! opened over plain http from another host (loopback is exempt), and the page would stay
//! blank.

use std::sync::LazyLock;

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::routes::paths;

/// One embedded file and the headers it is answered with.
struct Asset {
    bytes: &'static [u8],
    content_type: &'static str,
    etag: HeaderValue,
}

impl Asset {
    fn new(bytes: &'static [u8], content_type: &'static str) -> Self {
        let etag = HeaderValue::from_str(&format!("\"{:016x}\"", fnv1a(bytes)))
            .expect("hex digits are a header value");
        Asset {
            bytes,
            content_type,
            etag,
        }
    }

    /// The file, or 304 when the request's `If-None-Match` names its ETag.
    fn answer(
        &self,
        request: &HeaderMap,
        own: &[(axum::http::HeaderName, HeaderValue)],
    ) -> Response {
        let mut headers = HeaderMap::with_capacity(3 + own.len());
        headers.insert(ETAG, self.etag.clone());
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.extend(own.iter().cloned());
        if not_modified(request, &self.etag) {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        (headers, self.bytes).into_response()
    }
}

static PAGE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        include_bytes!("dashboard/index.html"),
        "text/html; charset=utf-8",
    )
});
static SCRIPT: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        include_bytes!("dashboard/dashboard.js"),
        "text/javascript; charset=utf-8",
    )
});
static STYLE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        include_bytes!("dashboard/dashboard.css"),
        "text/css; charset=utf-8",
    )
});

/// The page's policy: its own files and the stats, nothing inline (styles the script sets
/// go through the CSSOM, which `style-src` does not govern), no framing by other sites.
pub const PAGE_POLICY: &str = "default-src 'none';script-src 'self';style-src 'self';\
    img-src 'self' data:;connect-src 'self';base-uri 'none';form-action 'none';\
    frame-ancestors 'self'";

/// The live dashboard: request rate, latency, errors, cache tiers, breaker, backplane,
/// tenants and pools, from `/api/models/stats` every 2 s (paused while the tab is hidden).
/// The page is public and carries no data; the stats it polls need the admin key when
/// keys are checked, which the page asks for.
#[utoipa::path(
    get,
    path = paths::DASHBOARD,
    tag = "monitoring",
    responses(
        (status = 200, description = "The dashboard page.", content_type = "text/html",
            body = String),
        (status = 304, description = "Not modified: the `If-None-Match` ETag is current."),
    ),
)]
pub async fn page(headers: HeaderMap) -> Response {
    PAGE.answer(
        &headers,
        &[(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_POLICY),
        )],
    )
}

/// The dashboard's script.
#[utoipa::path(
    get,
    path = paths::DASHBOARD_SCRIPT,
    tag = "monitoring",
    responses(
        (status = 200, description = "The dashboard's script.",
            content_type = "text/javascript", body = String),
        (status = 304, description = "Not modified: the `If-None-Match` ETag is current."),
    ),
)]
pub async fn script(headers: HeaderMap) -> Response {
    SCRIPT.answer(&headers, &[])
}

/// The dashboard's style sheet.
#[utoipa::path(
    get,
    path = paths::DASHBOARD_STYLE,
    tag = "monitoring",
    responses(
        (status = 200, description = "The dashboard's style sheet.", content_type = "text/css",
            body = String),
        (status = 304, description = "Not modified: the `If-None-Match` ETag is current."),
    ),
)]
pub async fn style(headers: HeaderMap) -> Response {
    STYLE.answer(&headers, &[])
}

/// Whether `If-None-Match` (a list of ETags, weak or strong, or `*`) names `etag`.
fn not_modified(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str() else {
        return false;
    };
    request
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|list| list.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// FNV-1a, 64 bits: a change of the file changes its ETag; no collision resistance needed.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn if_none_match(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn a_current_etag_is_not_modified_and_any_other_is_the_file() {
        let etag = &SCRIPT.etag;
        let tag = etag.to_str().unwrap();
        for matching in [
            vec![tag.to_owned()],
            vec![format!("W/{tag}")],
            vec![format!("\"old\", {tag}")],
            vec!["\"old\"".to_owned(), tag.to_owned()],
            vec!["*".to_owned()],
        ] {
            let refs: Vec<&str> = matching.iter().map(String::as_str).collect();
            assert!(not_modified(&if_none_match(&refs), etag), "{matching:?}");
        }
        for other in [vec![], vec!["\"old\""], vec!["W/\"0000000000000000\""]] {
            assert!(!not_modified(&if_none_match(&other), etag), "{other:?}");
        }
        let fresh = SCRIPT.answer(&if_none_match(&[tag]), &[]);
        assert_eq!(fresh.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(fresh.headers()[ETAG], *etag);
        let full = SCRIPT.answer(&HeaderMap::new(), &[]);
        assert_eq!(full.status(), StatusCode::OK);
        assert_eq!(
            full.headers()[CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(full.headers()[CACHE_CONTROL], "no-cache");
    }

    #[test]
    fn the_three_files_have_their_own_etags() {
        let tags = [&PAGE.etag, &SCRIPT.etag, &STYLE.etag];
        assert_ne!(tags[0], tags[1]);
        assert_ne!(tags[1], tags[2]);
        assert_ne!(tags[0], tags[2]);
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
    }

    /// ` onsomething=` anywhere in the markup.
    fn has_event_handler_attribute(markup: &str) -> bool {
        markup.match_indices(" on").any(|(at, _)| {
            let rest = &markup[at + 3..];
            let name = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            name > 0 && rest[name..].starts_with('=')
        })
    }

    #[test]
    fn the_page_loads_only_what_its_policy_allows() {
        let page = std::str::from_utf8(PAGE.bytes).unwrap();
        // Nothing inline: no script or style element with content, no style attribute,
        // no event-handler attribute; its two files by the paths the table routes.
        assert!(!page.contains("<style"), "an inline style element");
        assert!(!page.contains(" style="), "an inline style attribute");
        assert!(
            !has_event_handler_attribute(page),
            "an event-handler attribute"
        );
        assert_eq!(page.matches("<script").count(), 1);
        assert!(page.contains(&format!(
            "<script src=\"{}\" defer></script>",
            paths::DASHBOARD_SCRIPT
        )));
        assert!(page.contains(&format!("href=\"{}\"", paths::DASHBOARD_STYLE)));
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "an absolute URL"
        );
        let script = std::str::from_utf8(SCRIPT.bytes).unwrap();
        assert!(script.contains(&format!("\"{}\"", paths::STATS)));
        assert!(!script.contains("eval(") && !script.contains("innerHTML"));
        assert!(!PAGE_POLICY.contains("unsafe") && !PAGE_POLICY.contains("upgrade"));
    }
}
