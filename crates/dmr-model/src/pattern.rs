//! Regular expressions, compiled once where they are read: a model's `match`
//! when the model file is parsed, a query's `$regex` when the filter is.

use std::fmt;
use std::ops::Deref;

use regex::RegexBuilder;

/// A regular expression in Rust's `regex` dialect (no look-around or
/// backreferences, so matching is linear-time), with MongoDB's `$options`
/// letters (`i`, `m`, `s`, `x`; a model's `match` has none and writes flags
/// inline, `(?i)`). Equal when source and options are; derefs to the source,
/// so it reads like the string it was written as.
#[derive(Clone)]
pub struct Pattern {
    source: String,
    /// Sorted, without duplicates (BSON wants them in that order).
    options: String,
    regex: regex::Regex,
}

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("unsupported regex option '{0}' (use i, m, s, x)")]
    UnsupportedOption(char),
    /// The regex parser's reason ("unclosed group") and the 0-based character
    /// its caret points at, when it points at one. Displayed in the words of
    /// the regex crate's own last line (`error: ...`), as the query
    /// language's 400s have always read.
    #[error("invalid regular expression: error: {reason}")]
    Syntax { reason: String, at: Option<usize> },
    /// The compiled program would exceed `limit` bytes.
    #[error("invalid regular expression: {}", too_big(*limit))]
    TooBig { limit: usize },
}

fn too_big(limit: usize) -> String {
    format!("Compiled regex exceeds size limit of {limit} bytes.")
}

impl PatternError {
    /// What is wrong, without the leading "invalid regular expression".
    pub fn reason(&self) -> String {
        match self {
            PatternError::UnsupportedOption(_) => self.to_string(),
            PatternError::Syntax { reason, .. } => reason.clone(),
            PatternError::TooBig { limit } => too_big(*limit),
        }
    }

    /// The 0-based character of the source the error points at.
    pub fn at(&self) -> Option<usize> {
        match self {
            PatternError::Syntax { at, .. } => *at,
            _ => None,
        }
    }
}

impl Pattern {
    /// A pattern without options, within the regex crate's default size bound
    /// (a model's `match`: the operator's own text).
    pub fn new(source: &str) -> Result<Pattern, PatternError> {
        Pattern::compile(source, "", None)
    }

    /// A pattern with `$options`, its compiled program bounded by `size_limit`
    /// bytes (a query's `$regex`: a hostile pattern cannot take megabytes).
    pub fn with_options(
        source: &str,
        options: &str,
        size_limit: usize,
    ) -> Result<Pattern, PatternError> {
        Pattern::compile(source, options, Some(size_limit))
    }

    fn compile(
        source: &str,
        options: &str,
        size_limit: Option<usize>,
    ) -> Result<Pattern, PatternError> {
        let mut options: Vec<char> = options.chars().collect();
        options.sort_unstable();
        options.dedup();
        let mut builder = RegexBuilder::new(source);
        if let Some(limit) = size_limit {
            builder.size_limit(limit);
        }
        for &o in &options {
            match o {
                'i' => builder.case_insensitive(true),
                'm' => builder.multi_line(true),
                's' => builder.dot_matches_new_line(true),
                'x' => builder.ignore_whitespace(true),
                other => return Err(PatternError::UnsupportedOption(other)),
            };
        }
        let regex = builder.build().map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => PatternError::TooBig { limit },
            other => syntax_error(&other.to_string()),
        })?;
        Ok(Pattern {
            source: source.to_owned(),
            options: options.into_iter().collect(),
            regex,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The options, sorted and without duplicates.
    pub fn options(&self) -> &str {
        &self.options
    }

    /// Whether the pattern matches anywhere in `s` (like JavaScript's
    /// `RegExp#test`: not anchored unless the pattern anchors itself).
    pub fn is_match(&self, s: &str) -> bool {
        self.regex.is_match(s)
    }
}

/// regex-syntax draws the pattern indented by 4, a caret line under the
/// problem, then "error: <reason>".
fn syntax_error(text: &str) -> PatternError {
    let reason = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or(text)
        .to_owned();
    let at = text
        .lines()
        .find(|l| l.trim_start().starts_with('^') && l.trim().chars().all(|c| c == '^'))
        .and_then(|l| l.chars().position(|c| c == '^'))
        .and_then(|p| p.checked_sub(4));
    PatternError::Syntax { reason, at }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.options == other.options
    }
}

impl Eq for Pattern {}

/// The source as a string literal (what `models diff` prints), then `/options`
/// when there are any.
impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.source, f)?;
        if !self.options.is_empty() {
            write!(f, "/{}", self.options)?;
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_by_source_and_options() {
        let a = Pattern::new("^[a-z]+$").unwrap();
        assert_eq!(a, Pattern::new("^[a-z]+$").unwrap());
        assert_ne!(a, Pattern::new("^[a-z]*$").unwrap());
        assert!(a.is_match("abc"));
        assert!(!a.is_match("ab1"));
        assert_eq!(&*a, "^[a-z]+$");
        assert_eq!(format!("{a:?}"), "\"^[a-z]+$\"");

        let limit = 1 << 20;
        let mi = Pattern::with_options("a", "mi", limit).unwrap();
        assert_eq!(mi, Pattern::with_options("a", "im", limit).unwrap());
        assert_eq!(mi.options(), "im");
        assert_eq!(format!("{mi:?}"), "\"a\"/im");
        assert_ne!(
            Pattern::with_options("a", "i", limit).unwrap(),
            Pattern::new("a").unwrap()
        );
        assert_eq!(
            Pattern::new("a").unwrap(),
            Pattern::with_options("a", "", limit).unwrap()
        );
        assert_eq!(
            Pattern::with_options("a", "ii", limit).unwrap().options(),
            "i"
        );
    }

    #[test]
    fn options_change_the_match() {
        let p = |o| Pattern::with_options("^a.b$", o, 1 << 20).unwrap();
        assert!(!p("").is_match("A-b"));
        assert!(p("i").is_match("A-b"));
        assert!(!p("").is_match("a\nb"));
        assert!(p("s").is_match("a\nb"));
        assert!(p("m").is_match("x\na-b\ny"));
        assert!(
            Pattern::with_options("a b", "x", 1 << 20)
                .unwrap()
                .is_match("ab")
        );
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = Pattern::new("ab(c").unwrap_err();
        assert_eq!(e.reason(), "unclosed group");
        assert_eq!(e.at(), Some(2));
        assert_eq!(
            e.to_string(),
            "invalid regular expression: error: unclosed group"
        );
        let e = Pattern::new("a(?=b)").unwrap_err();
        assert!(e.reason().contains("look-around"), "{e}");
        assert_eq!(e.at(), Some(1));
        let e = Pattern::with_options("a", "ig", 1 << 20).unwrap_err();
        assert_eq!(e, PatternError::UnsupportedOption('g'));
        assert_eq!(
            e.to_string(),
            "unsupported regex option 'g' (use i, m, s, x)"
        );
    }

    #[test]
    fn the_size_bound_is_the_callers() {
        let big = r"\w{10000}";
        let e = Pattern::with_options(big, "", 1 << 20).unwrap_err();
        assert_eq!(e, PatternError::TooBig { limit: 1 << 20 });
        assert_eq!(
            e.to_string(),
            "invalid regular expression: Compiled regex exceeds size limit of 1048576 bytes."
        );
        assert_eq!(e.at(), None);
        assert!(Pattern::with_options("a{100}", "", 1 << 20).is_ok());
    }
}
