//! `MAX_JSON_DEPTH`: how deeply arrays and objects may nest in a request body or a JSON
//! query parameter. Checked by a byte scanner with a counter, not a recursive parser, so
//! a body of 100,000 `[` costs a loop and a 400, never a stack; and checked while the body
//! streams in, so such a body is refused before it is buffered.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::http::HeaderMap;

/// serde_json refuses 128 levels of nesting on its own (as malformed JSON); a limit above
/// this would never be the one a client meets.
pub const MAX_CONFIGURABLE_DEPTH: u32 = 127;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("JSON nests deeper than {limit} levels (MAX_JSON_DEPTH)")]
pub struct JsonTooDeep {
    pub limit: u32,
}

/// Nesting depth of a JSON text fed in pieces; strings (and escapes inside them) are
/// skipped, so brackets inside strings do not count.
#[derive(Debug, Clone)]
pub struct DepthScanner {
    limit: u32,
    depth: u32,
    in_string: bool,
    escaped: bool,
}

impl DepthScanner {
    pub fn new(limit: u32) -> Self {
        DepthScanner {
            limit,
            depth: 0,
            in_string: false,
            escaped: false,
        }
    }

    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), JsonTooDeep> {
        for &b in bytes {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'[' | b'{' => {
                    self.depth += 1;
                    if self.depth > self.limit {
                        return Err(JsonTooDeep { limit: self.limit });
                    }
                }
                b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
        }
        Ok(())
    }
}

/// Each value of a query string (`filter=...&sort=...`), percent-decoded on the fly.
pub fn check_query(query: &str, limit: u32) -> Result<(), JsonTooDeep> {
    for pair in query.split('&') {
        let value = pair.split_once('=').map_or("", |(_, v)| v).as_bytes();
        let mut scanner = DepthScanner::new(limit);
        let mut i = 0;
        while i < value.len() {
            let byte = match value[i] {
                b'%' if i + 2 < value.len() => match (hex(value[i + 1]), hex(value[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        i += 2;
                        hi << 4 | lo
                    }
                    _ => b'%',
                },
                other => other,
            };
            scanner.feed(&[byte])?;
            i += 1;
        }
    }
    Ok(())
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Whether a request carries a body worth scanning.
pub fn has_body(headers: &HeaderMap, body: &Body) -> bool {
    !body.is_end_stream()
        && (headers.contains_key(axum::http::header::TRANSFER_ENCODING)
            || headers
                .get(axum::http::header::CONTENT_LENGTH)
                .is_none_or(|len| len.as_bytes() != b"0"))
}

pin_project_lite::pin_project! {
    /// A request body that fails with `JsonTooDeep` as soon as its bytes nest too deep, and
    /// tells (`BodyRead`) whether it was read to its end.
    pub struct DepthLimitedBody {
        #[pin]
        inner: Body,
        scanner: DepthScanner,
        read: BodyRead,
    }
}

/// Whether a request body was read to its end. When it was not (refused early, too deep,
/// too large), the connection cannot carry another request: hyper closes it, and the
/// response must say so (`Connection: close`) or a client reusing it sees a broken message.
#[derive(Debug, Clone, Default)]
pub struct BodyRead(Arc<AtomicBool>);

impl BodyRead {
    pub fn to_end(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn mark(&self) {
        self.0.store(true, Ordering::Release);
    }
}

impl DepthLimitedBody {
    pub fn wrap(inner: Body, limit: u32) -> (Body, BodyRead) {
        let read = BodyRead::default();
        let body = Body::new(DepthLimitedBody {
            inner,
            scanner: DepthScanner::new(limit),
            read: read.clone(),
        });
        (body, read)
    }
}

impl HttpBody for DepthLimitedBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::BoxError>>> {
        let mut this = self.project();
        match std::task::ready!(this.inner.as_mut().poll_frame(cx)) {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref()
                    && let Err(too_deep) = this.scanner.feed(data)
                {
                    return Poll::Ready(Some(Err(Box::new(too_deep))));
                }
                if this.inner.is_end_stream() {
                    this.read.mark();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(e)) => Poll::Ready(Some(Err(Box::new(e)))),
            None => {
                this.read.mark();
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The `JsonTooDeep` somewhere in an error's chain (a body read that the scanner stopped).
pub fn find_in_chain(error: &(dyn std::error::Error + 'static)) -> Option<JsonTooDeep> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(too_deep) = e.downcast_ref::<JsonTooDeep>() {
            return Some(*too_deep);
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_ok(text: &str, limit: u32) -> bool {
        DepthScanner::new(limit).feed(text.as_bytes()).is_ok()
    }

    #[test]
    fn counts_arrays_and_objects_not_strings() {
        assert!(depth_ok("[[[]]]", 3));
        assert!(!depth_ok("[[[[]]]]", 3));
        assert!(depth_ok(r#"{"a":{"b":[1]}}"#, 3));
        assert!(!depth_ok(r#"{"a":{"b":[{}]}}"#, 3));
        // Brackets inside strings, and escaped quotes inside strings, do not count.
        assert!(depth_ok(r#"["[[[[[[", "\"[[[[[[\\"]"#, 1));
        // Siblings do not add up.
        assert!(depth_ok("[[],[],[],[]]", 2));
    }

    #[test]
    fn fed_in_pieces_gives_the_same_answer() {
        let text = r#"{"a":"x\"[[","b":[[[1]]]}"#;
        for split in 0..text.len() {
            let mut scanner = DepthScanner::new(4);
            let (a, b) = text.as_bytes().split_at(split);
            assert!(scanner.feed(a).and_then(|_| scanner.feed(b)).is_ok());
            let mut scanner = DepthScanner::new(3);
            let result = scanner.feed(a).and_then(|_| scanner.feed(b));
            assert_eq!(result, Err(JsonTooDeep { limit: 3 }), "split at {split}");
        }
    }

    #[test]
    fn a_hundred_thousand_brackets_are_a_plain_error() {
        let deep = "[".repeat(100_000);
        assert_eq!(
            DepthScanner::new(64).feed(deep.as_bytes()),
            Err(JsonTooDeep { limit: 64 })
        );
    }

    #[test]
    fn serde_json_parses_every_depth_we_accept() {
        let depth = MAX_CONFIGURABLE_DEPTH as usize;
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(depth_ok(&text, MAX_CONFIGURABLE_DEPTH));
        serde_json::from_str::<serde_json::Value>(&text).unwrap();
        let deeper = format!("[{text}]");
        assert!(!depth_ok(&deeper, MAX_CONFIGURABLE_DEPTH));
    }

    #[test]
    fn query_values_are_checked_decoded() {
        assert!(check_query("filter=%5B%5B1%5D%5D&limit=5", 2).is_ok());
        assert!(check_query("filter=%5B%5B%5B1%5D%5D%5D", 2).is_err());
        assert!(check_query("filter=[[[1]]]", 2).is_err());
        // Each parameter on its own.
        assert!(check_query("filter=[[1]]&sort=[[1]]", 2).is_ok());
        // Broken escapes are just bytes.
        assert!(check_query("filter=%5&x=%", 2).is_ok());
        assert!(check_query("filter=%7B%22a%22%3A%22%5B%5B%5B%22%7D", 1).is_ok());
    }

    #[test]
    fn the_error_is_found_through_wrappers() {
        let boxed: axum::BoxError = Box::new(JsonTooDeep { limit: 9 });
        let wrapped = axum::Error::new(boxed);
        assert_eq!(find_in_chain(&wrapped), Some(JsonTooDeep { limit: 9 }));
        assert_eq!(find_in_chain(&std::fmt::Error), None);
    }
}
