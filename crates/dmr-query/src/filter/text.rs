//! The `$text` fallback: what `matches` does when no full-text index is used.

use serde_json::Value;

/// A `$search` string: plain terms (any one suffices), quoted phrases (all
/// required) and negated terms or phrases (`-term`, none may occur).
#[derive(Debug, Default, PartialEq)]
struct Search {
    terms: Vec<Vec<String>>,
    phrases: Vec<Vec<String>>,
    negated: Vec<Vec<String>>,
}

fn parse(search: &str) -> Search {
    let mut out = Search::default();
    let mut rest = search;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let negate = rest.starts_with('-');
        let body = if negate { &rest[1..] } else { rest };
        let (text, quoted, next) = if let Some(inner) = body.strip_prefix('"') {
            // An unterminated quote runs to the end, as in MongoDB.
            let end = inner.find('"').unwrap_or(inner.len());
            (&inner[..end], true, &inner[(end + 1).min(inner.len())..])
        } else {
            let end = body.find(char::is_whitespace).unwrap_or(body.len());
            (&body[..end], false, &body[end..])
        };
        let words = words(text);
        if !words.is_empty() {
            match (negate, quoted) {
                (true, _) => out.negated.push(words),
                (false, true) => out.phrases.push(words),
                (false, false) => out.terms.push(words),
            }
        }
        rest = next;
    }
    out
}

/// Lower-cased runs of letters and digits: the "whole words" of a text.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether `doc` matches `search`, looking at every string value in it (not
/// only text-indexed fields: the fallback cannot know the index).
pub(super) fn matches(search: &str, doc: &Value) -> bool {
    let search = parse(search);
    let mut texts = Vec::new();
    strings(doc, &mut texts);
    let contains = |seq: &Vec<String>| {
        texts
            .iter()
            .any(|t: &Vec<String>| t.windows(seq.len()).any(|w| w == seq.as_slice()))
    };
    if search.negated.iter().any(contains) || !search.phrases.iter().all(contains) {
        return false;
    }
    if search.terms.is_empty() {
        // Only negations (or nothing): MongoDB matches nothing.
        !search.phrases.is_empty()
    } else {
        search.terms.iter().any(contains)
    }
}

fn strings(v: &Value, out: &mut Vec<Vec<String>>) {
    match v {
        Value::String(s) => out.push(words(s)),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(map) => map.values().for_each(|i| strings(i, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_terms_phrases_and_negations() {
        let s = parse(r#"coffee -decaf "dark roast" -"milk foam" Tea"#);
        assert_eq!(
            s.terms,
            vec![vec!["coffee".to_owned()], vec!["tea".to_owned()]]
        );
        assert_eq!(s.phrases, vec![vec!["dark".to_owned(), "roast".to_owned()]]);
        assert_eq!(s.negated.len(), 2);
    }

    #[test]
    fn whole_words_case_insensitive_in_any_string() {
        let doc = json!({"title": "Dark Roast Coffee", "tags": ["bitter", "hot"], "n": 3});
        assert!(matches("coffee", &doc));
        assert!(matches("tea BITTER", &doc));
        assert!(!matches("cof", &doc), "whole words only");
        assert!(matches("\"dark roast\"", &doc));
        assert!(!matches("\"roast dark\"", &doc));
        assert!(!matches("coffee -hot", &doc));
        assert!(!matches("-tea", &doc), "negations alone match nothing");
        assert!(!matches("", &doc));
        assert!(
            !matches("\"dark roast\" \"iced\"", &doc),
            "every phrase is required"
        );
    }

    #[test]
    fn phrase_does_not_span_two_strings() {
        assert!(!matches(
            "\"dark roast\"",
            &json!({"a": "dark", "b": "roast"})
        ));
    }
}
