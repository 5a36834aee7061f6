//! Source positions for semantic errors.
//!
//! `serde_json::Value` forgets where things were, so once serde_json has
//! accepted the text we scan it again into a tree of byte offsets and look
//! errors up by their JSON path. The scanner trusts serde_json's verdict on
//! syntax, but stays panic-free and terminating on any input anyway.

use std::collections::HashSet;
use std::fmt;

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// A path from the document root, e.g. `schema.items[0].qty`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct JPath(Vec<Seg>);

impl JPath {
    pub(crate) fn root() -> Self {
        Self::default()
    }

    pub(crate) fn key(&self, key: &str) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_owned()));
        JPath(segs)
    }

    pub(crate) fn index(&self, i: usize) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(i));
        JPath(segs)
    }

    pub(crate) fn parent(&self) -> Self {
        let mut segs = self.0.clone();
        segs.pop();
        JPath(segs)
    }

    pub(crate) fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for JPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Byte offsets of every value (and every object key) in the source.
#[derive(Debug)]
pub(crate) enum Node {
    Scalar { at: usize },
    Array { at: usize, items: Vec<Node> },
    Object { at: usize, entries: Vec<Entry> },
}

#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) key_at: usize,
    pub(crate) value: Node,
}

impl Node {
    fn at(&self) -> usize {
        match self {
            Node::Scalar { at, .. } | Node::Array { at, .. } | Node::Object { at, .. } => *at,
        }
    }

    fn child(&self, seg: &Seg) -> Option<&Node> {
        match (self, seg) {
            (Node::Object { entries, .. }, Seg::Key(k)) => {
                entries.iter().find(|e| &e.key == k).map(|e| &e.value)
            }
            (Node::Array { items, .. }, Seg::Index(i)) => items.get(*i),
            _ => None,
        }
    }
}

/// Scans text that serde_json has already accepted as JSON.
pub(crate) fn scan(src: &str) -> Node {
    let mut s = Scanner {
        src,
        bytes: src.as_bytes(),
        i: 0,
    };
    s.value()
}

struct Scanner<'a> {
    src: &'a str,
    bytes: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Node {
        self.skip_ws();
        let at = self.i;
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                Node::Object {
                    at,
                    entries: self.entries(),
                }
            }
            Some(b'[') => {
                self.i += 1;
                Node::Array {
                    at,
                    items: self.items(),
                }
            }
            Some(b'"') => {
                self.i = string_end(self.bytes, at);
                Node::Scalar { at }
            }
            _ => {
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b']' | b'}' | b':' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.i += 1;
                }
                Node::Scalar { at }
            }
        }
    }

    // Every loop iteration consumes at least one byte or returns, so this
    // terminates even on text serde_json would have rejected.
    fn entries(&mut self) -> Vec<Entry> {
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'"') => {}
                Some(b'}') => {
                    self.i += 1;
                    return out;
                }
                _ => return out,
            }
            let key_at = self.i;
            self.i = string_end(self.bytes, key_at);
            let key = self
                .src
                .get(key_at..self.i)
                .and_then(|raw| serde_json::from_str::<String>(raw).ok())
                .unwrap_or_default();
            self.skip_ws();
            if self.peek() == Some(b':') {
                self.i += 1;
            }
            let value = self.value();
            out.push(Entry { key, key_at, value });
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return out;
                }
                _ => return out,
            }
        }
    }

    fn items(&mut self) -> Vec<Node> {
        let mut out = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return out;
        }
        loop {
            out.push(self.value());
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return out;
                }
                _ => return out,
            }
        }
    }
}

/// Offset just past the closing quote of the string starting at `at`.
fn string_end(bytes: &[u8], at: usize) -> usize {
    let mut j = at + 1;
    while let Some(&c) = bytes.get(j) {
        match c {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    bytes.len()
}

/// Offset of the value at `path`, or of its deepest ancestor that exists.
pub(crate) fn value_offset(root: &Node, path: &JPath) -> usize {
    let mut node = root;
    for seg in &path.0 {
        match node.child(seg) {
            Some(next) => node = next,
            None => break,
        }
    }
    node.at()
}

/// Offset of the key that ends `path`; the value's offset when there is no key.
pub(crate) fn key_offset(root: &Node, path: &JPath) -> usize {
    if let Some((Seg::Key(k), parent)) = path.0.split_last() {
        let mut node = Some(root);
        for seg in parent {
            node = node.and_then(|n| n.child(seg));
        }
        let entry = node.and_then(|n| match n {
            Node::Object { entries, .. } => entries.iter().find(|e| &e.key == k),
            _ => None,
        });
        if let Some(e) = entry {
            return e.key_at;
        }
    }
    value_offset(root, path)
}

/// Whether the value at `path` exists in the source.
pub(crate) fn exists(root: &Node, path: &JPath) -> bool {
    let mut node = root;
    for seg in &path.0 {
        match node.child(seg) {
            Some(next) => node = next,
            None => return false,
        }
    }
    true
}

/// The first repeated key in any object: (path of the object, key, key offset).
///
/// serde_json silently keeps the last of duplicate keys; in a model file a
/// repeated `"type"` or field name is always a mistake, so we report it.
pub(crate) fn first_duplicate_key(node: &Node, path: &JPath) -> Option<(JPath, String, usize)> {
    match node {
        Node::Scalar { .. } => None,
        Node::Array { items, .. } => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| first_duplicate_key(item, &path.index(i))),
        Node::Object { entries, .. } => {
            let mut seen = HashSet::new();
            for e in entries {
                if !seen.insert(e.key.as_str()) {
                    return Some((path.clone(), e.key.clone(), e.key_at));
                }
            }
            entries
                .iter()
                .find_map(|e| first_duplicate_key(&e.value, &path.key(&e.key)))
        }
    }
}

/// 1-based line and character column of a byte offset.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let mut off = offset.min(src.len());
    while !src.is_char_boundary(off) {
        off -= 1;
    }
    let before = &src[..off];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Byte offset of the `n`th decoded character of the JSON string whose
/// opening quote is at `at`, stepping over escape sequences.
pub(crate) fn string_char_offset(src: &str, at: usize, n: usize) -> usize {
    let bytes = src.as_bytes();
    if bytes.get(at) != Some(&b'"') {
        return at;
    }
    let mut j = at + 1;
    for _ in 0..n {
        match bytes.get(j) {
            None | Some(b'"') => return j.min(src.len()),
            Some(b'\\') => {
                let surrogate_pair = bytes.get(j + 1) == Some(&b'u')
                    && src
                        .get(j + 2..j + 6)
                        .and_then(|h| u16::from_str_radix(h, 16).ok())
                        .is_some_and(|u| (0xD800..0xDC00).contains(&u))
                    && src.get(j + 6..j + 8) == Some("\\u");
                j += match (bytes.get(j + 1), surrogate_pair) {
                    (_, true) => 12,
                    (Some(b'u'), false) => 6,
                    _ => 2,
                };
            }
            Some(_) => {
                j += src
                    .get(j..)
                    .and_then(|rest| rest.chars().next())
                    .map_or(1, char::len_utf8);
            }
        }
    }
    j.min(src.len())
}

/// The text with a leading byte-order mark removed (editors on Windows add one).
pub(crate) fn strip_bom(src: &str) -> &str {
    src.strip_prefix('\u{feff}').unwrap_or(src)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_and_values() {
        let src = "{\n  \"a\": {\"b\": [1, {\"c\": true}]}\n}";
        let tree = scan(src);
        let p = JPath::root().key("a").key("b").index(1).key("c");
        assert_eq!(line_col(src, key_offset(&tree, &p)), (2, 19));
        assert_eq!(line_col(src, value_offset(&tree, &p)), (2, 24));
        let missing = JPath::root().key("a").key("zzz");
        assert_eq!(line_col(src, value_offset(&tree, &missing)), (2, 8));
        assert!(exists(&tree, &p));
        assert!(!exists(&tree, &missing));
    }

    #[test]
    fn escaped_keys_are_decoded() {
        let src = r#"{"a\u0062": 1}"#;
        let tree = scan(src);
        assert_eq!(key_offset(&tree, &JPath::root().key("ab")), 1);
    }

    #[test]
    fn duplicate_keys_are_found() {
        let src = r#"{"a": {"x": 1, "y": 2, "x": 3}}"#;
        let (path, key, at) = first_duplicate_key(&scan(src), &JPath::root()).unwrap();
        assert_eq!(path.to_string(), "a");
        assert_eq!(key, "x");
        assert_eq!(at, 23);
    }

    #[test]
    fn string_offsets_step_over_escapes() {
        let src = r#""a\nb\u00e9\ud83d\ude00{""#;
        // decoded: a, \n, b, é, 😀, {
        assert_eq!(string_char_offset(src, 0, 5), 23);
        assert_eq!(string_char_offset(src, 0, 0), 1);
    }

    #[test]
    fn columns_count_characters() {
        let src = "é\"x";
        assert_eq!(line_col(src, 3), (1, 3));
        // mid-character offsets snap back to the character's start
        assert_eq!(line_col(src, 1), (1, 1));
    }

    #[test]
    fn path_display() {
        let p = JPath::root().key("schema").key("items").index(0).key("qty");
        assert_eq!(p.to_string(), "schema.items[0].qty");
        assert_eq!(p.parent().to_string(), "schema.items[0]");
    }
}
