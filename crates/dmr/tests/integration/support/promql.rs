//! What a PromQL expression reads: the metric name of each selector, with its label
//! matchers as written. Enough of PromQL's lexer for the dashboard's and the alert rules'
//! queries (strings, numbers and durations, grouping clauses, Grafana's `$variables`);
//! promtool checks the syntax.

#[derive(Debug, PartialEq, Eq)]
pub struct Selector {
    pub metric: String,
    /// Between the braces, `""` when there are none.
    pub matchers: String,
}

const KEYWORDS: [&str; 6] = ["and", "or", "unless", "bool", "offset", "atan2"];
/// Keywords followed by a list of label names.
const GROUPING: [&str; 6] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];
const NUMBERS: [&str; 2] = ["inf", "nan"];

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// The index just past the string literal that opens at `start`.
fn skip_string(chars: &[char], start: usize) -> usize {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() && chars[i] != quote {
        // Backquoted strings are raw; the others have escapes.
        i += if chars[i] == '\\' && quote != '`' {
            2
        } else {
            1
        };
    }
    i + 1
}

/// The index just past the `close` that balances the `open` at `start`, strings skipped.
fn skip_group(chars: &[char], start: usize, open: char, close: char) -> usize {
    let mut depth = 0;
    let mut i = start;
    while i < chars.len() {
        match chars[i] {
            '"' | '\'' | '`' => {
                i = skip_string(chars, i);
                continue;
            }
            c if c == open => depth += 1,
            c if c == close => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    panic!(
        "unbalanced {open}{close} in {:?}",
        chars.iter().collect::<String>()
    )
}

fn next_non_space(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    i
}

/// Every selector of `expr`, in order. Panics on a selector without a metric name
/// (`{__name__=~"..."}`), whose names this cannot check.
pub fn selectors(expr: &str) -> Vec<Selector> {
    let chars: Vec<char> = expr.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, '"' | '\'' | '`') {
            i = skip_string(&chars, i);
        } else if c == '[' {
            i = skip_group(&chars, i, '[', ']');
        } else if c == '{' {
            panic!("a selector without a metric name in {expr:?}: name the metric");
        } else if c == '$' {
            // A Grafana variable: `$name` or `${name}`.
            i += 1;
            if chars.get(i) == Some(&'{') {
                i = skip_group(&chars, i, '{', '}');
            }
            while i < chars.len() && is_name_char(chars[i]) {
                i += 1;
            }
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            // A number or a duration (`0.99`, `1e3`, `5m`).
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
        } else if is_name_start(c) {
            let start = i;
            while i < chars.len() && is_name_char(chars[i]) {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            let lower = name.to_ascii_lowercase();
            let next = next_non_space(&chars, i);
            let opens = |ch| chars.get(next) == Some(&ch);
            let word_after: String = chars[next..]
                .iter()
                .take_while(|c| is_name_char(**c))
                .collect::<String>()
                .to_ascii_lowercase();
            if GROUPING.contains(&lower.as_str()) {
                if opens('(') {
                    i = skip_group(&chars, next, '(', ')');
                }
            } else if KEYWORDS.contains(&lower.as_str())
                || NUMBERS.contains(&lower.as_str())
                || opens('(')
                || word_after == "by"
                || word_after == "without"
            {
                // An operator, a number, or a function or an aggregation called
                // (`sum (`, `sum by (le) (`).
            } else if opens('{') {
                let end = skip_group(&chars, next, '{', '}');
                found.push(Selector {
                    metric: name,
                    matchers: chars[next + 1..end - 1].iter().collect(),
                });
                i = end;
            } else {
                found.push(Selector {
                    metric: name,
                    matchers: String::new(),
                });
            }
        } else {
            i += 1;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(expr: &str) -> Vec<(String, String)> {
        selectors(expr)
            .into_iter()
            .map(|s| (s.metric, s.matchers))
            .collect()
    }

    #[test]
    fn selectors_are_found_past_functions_keywords_strings_and_variables() {
        let expr = r#"histogram_quantile(0.99, sum by (le, route) (rate(a_bucket{job=~"$job", x="}{"}[5m])))
            / on (instance) group_left (version) b offset 5m
            and c == bool 1 unless label_replace(d:rate5m, "route", "(no route)", "route", "")
            > Inf or sum without (status) (rate(e[$__rate_interval])) * ${factor}"#;
        assert_eq!(
            names(expr),
            [
                ("a_bucket".into(), r#"job=~"$job", x="}{""#.into()),
                ("b".into(), String::new()),
                ("c".into(), String::new()),
                ("d:rate5m".into(), String::new()),
                ("e".into(), String::new()),
            ]
        );
    }

    #[test]
    #[should_panic(expected = "without a metric name")]
    fn a_selector_without_a_name_is_refused() {
        selectors(r#"sum(rate({__name__=~"dmr_.*"}[5m]))"#);
    }
}
