//! A `match` pattern, compiled once when the model file is parsed.

use std::fmt;
use std::ops::Deref;

/// A regular expression in Rust's `regex` dialect (no look-around or
/// backreferences; flags inline as `(?i)`), compared by its source text.
/// Derefs to the source, so it reads like the string it was written as.
#[derive(Clone)]
pub struct Pattern {
    source: String,
    regex: regex::Regex,
}

impl Pattern {
    pub fn new(source: &str) -> Result<Self, regex::Error> {
        Ok(Pattern {
            source: source.to_owned(),
            regex: regex::Regex::new(source)?,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches anywhere in `s` (like JavaScript's
    /// `RegExp#test`: not anchored unless the pattern anchors itself).
    pub fn is_match(&self, s: &str) -> bool {
        self.regex.is_match(s)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.source, f)
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Deref for Pattern {
    type Target = str;

    fn deref(&self) -> &str {
        &self.source
    }
}

/// The useful part of a `regex` syntax error: its last "error: ..." line,
/// and the 0-based character the caret points at, when there is one.
pub(crate) fn describe_error(e: &regex::Error) -> (String, Option<usize>) {
    let text = e.to_string();
    let reason = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or(&text)
        .to_owned();
    // regex-syntax prints the pattern indented by 4, then a caret line.
    let caret = text
        .lines()
        .find(|l| l.trim_start().starts_with('^') && l.trim().chars().all(|c| c == '^'))
        .and_then(|l| l.chars().position(|c| c == '^'))
        .and_then(|p| p.checked_sub(4));
    (reason, caret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_by_source() {
        let a = Pattern::new("^[a-z]+$").unwrap();
        assert_eq!(a, Pattern::new("^[a-z]+$").unwrap());
        assert_ne!(a, Pattern::new("^[a-z]*$").unwrap());
        assert!(a.is_match("abc"));
        assert!(!a.is_match("ab1"));
        assert_eq!(&*a, "^[a-z]+$");
        assert_eq!(format!("{a:?}"), "\"^[a-z]+$\"");
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = Pattern::new("ab(c").unwrap_err();
        let (reason, at) = describe_error(&e);
        assert_eq!(reason, "unclosed group");
        assert_eq!(at, Some(2));
        let e = Pattern::new("a(?=b)").unwrap_err();
        let (reason, at) = describe_error(&e);
        assert!(reason.contains("look-around"), "{reason}");
        assert_eq!(at, Some(1));
    }
}
