//! `$regex` patterns, compiled once at parse time.

use std::fmt;

use regex::{Regex, RegexBuilder};

use crate::error::QueryError;

/// Compiled size bound: a hostile pattern cannot take megabytes per query.
const SIZE_LIMIT: usize = 1 << 20;

/// A compiled `$regex` with its `$options` (`i`, `m`, `s`, `x`). Equal when
/// source and options are. The syntax is Rust's `regex` crate: PCRE's
/// look-around and back-references are refused at parse time, and matching is
/// linear-time (no catastrophic backtracking).
#[derive(Clone)]
pub struct Pattern {
    source: String,
    /// Normalised: sorted, without duplicates.
    options: String,
    regex: Regex,
}

impl Pattern {
    pub fn new(source: &str, options: &str) -> Result<Pattern, QueryError> {
        let mut opts: Vec<char> = options.chars().collect();
        opts.sort_unstable();
        opts.dedup();
        let mut builder = RegexBuilder::new(source);
        builder.size_limit(SIZE_LIMIT);
        for &o in &opts {
            match o {
                'i' => builder.case_insensitive(true),
                'm' => builder.multi_line(true),
                's' => builder.dot_matches_new_line(true),
                'x' => builder.ignore_whitespace(true),
                other => {
                    return Err(QueryError::invalid(
                        "$options",
                        format!("unsupported regex option '{other}' (use i, m, s, x)"),
                    ));
                }
            };
        }
        let regex = builder.build().map_err(|e| {
            QueryError::invalid(
                "$regex",
                format!("invalid regular expression: {}", error_line(&e.to_string())),
            )
        })?;
        Ok(Pattern {
            source: source.to_owned(),
            options: opts.into_iter().collect(),
            regex,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn options(&self) -> &str {
        &self.options
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

/// The regex crate's errors draw a multi-line caret diagram; an error body
/// wants its last line, the error itself.
fn error_line(msg: &str) -> String {
    let lines: Vec<&str> = msg
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.last().copied().unwrap_or(msg).to_owned()
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.source == other.source && self.options == other.options
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?}, {:?})", self.source, self.options)
    }
}
