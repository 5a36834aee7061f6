//! The JavaScript conversions Mongoose's behaviour rests on: `Number(string)`,
//! `Number#toString`, `String(value)`, `String#trim`, `typeof` names and
//! `util.inspect`, so casts and messages come out as Node would print them.

use serde_json::{Number, Value};

/// JavaScript's WhiteSpace and LineTerminator (what `trim()` and `Number()`
/// skip); Rust's `char::is_whitespace` differs (U+0085 yes, U+FEFF no).
pub(crate) fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// `String.prototype.trim`.
pub(crate) fn trim(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// `Number(s)` for a string; `None` where JavaScript gives `NaN`.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let t = trim(s);
    if t.is_empty() {
        return Some(0.0);
    }
    match t {
        "Infinity" | "+Infinity" => return Some(f64::INFINITY),
        "-Infinity" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    if let Some((radix, digits)) = radix_literal(t) {
        return digits.chars().try_fold(0f64, |acc, c| {
            c.to_digit(radix)
                .map(|d| acc * f64::from(radix) + f64::from(d))
        });
    }
    // Rust's parser also takes "inf", "NaN" and friends: check the grammar first.
    is_decimal_literal(t)
        .then(|| t.parse::<f64>().ok())
        .flatten()
}

/// `0x1F`, `0o17`, `0b101` (no sign, as in JavaScript).
pub(crate) fn radix_literal(t: &str) -> Option<(u32, &str)> {
    let b = t.as_bytes();
    if b.len() < 3 || b[0] != b'0' {
        return None;
    }
    let radix = match b[1] {
        b'x' | b'X' => 16,
        b'o' | b'O' => 8,
        b'b' | b'B' => 2,
        _ => return None,
    };
    let digits = &t[2..];
    digits
        .chars()
        .all(|c| c.is_digit(radix))
        .then_some((radix, digits))
}

/// StrDecimalLiteral: `[+-] (digits [. digits?] | . digits) [(e|E) [+-] digits]`.
fn is_decimal_literal(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let int = digits(&mut i);
    let mut frac = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac = digits(&mut i);
    }
    if int == 0 && frac == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `Number.prototype.toString()`: shortest round-trip digits, exponent
/// form below 1e-6 and from 1e21.
pub(crate) fn format_number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x == 0.0 {
        return "0".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    // Rust's `{:e}` prints the shortest digits that round-trip, as JS does.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i64;
    let n = exp.parse::<i64>().unwrap_or(0) + 1;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        let (a, b) = digits.split_at(n as usize);
        format!("{a}.{b}")
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let e_sign = if e >= 0 { '+' } else { '-' };
        let (first, rest) = digits.split_at(1);
        if rest.is_empty() {
            format!("{first}e{e_sign}{}", e.abs())
        } else {
            format!("{first}.{rest}e{e_sign}{}", e.abs())
        }
    };
    format!("{sign}{body}")
}

/// A JSON number as JavaScript prints it (integers exactly).
pub(crate) fn number_string(n: &Number) -> String {
    if n.is_i64() || n.is_u64() {
        n.to_string()
    } else {
        format_number(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// A finite number as stored JSON: integral values in i64 range as
/// integers (`7`, not `7.0`; `-0` as `0`), the rest as floats.
pub(crate) fn json_number(x: f64) -> Option<Value> {
    if !x.is_finite() {
        return None;
    }
    // Exactly the i64 range: 2^63 is not representable, -2^63 is.
    if x.fract() == 0.0 && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x)
    {
        return Some(Value::from(x as i64));
    }
    Number::from_f64(x).map(Value::Number)
}

/// An input number in stored form: i64 kept exactly, the rest through f64.
pub(crate) fn normalize_number(n: &Number) -> Value {
    if n.is_i64() {
        return Value::Number(n.clone());
    }
    json_number(n.as_f64().unwrap_or(f64::NAN)).unwrap_or(Value::Null)
}

/// `String(value)`; `None` is `undefined`.
pub(crate) fn to_string(v: Option<&Value>) -> String {
    match v {
        None => "undefined".to_owned(),
        Some(Value::Null) => "null".to_owned(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => number_string(n),
        Some(Value::String(s)) => s.clone(),
        // Array#toString: elements joined by ",", null and undefined as "".
        Some(Value::Array(items)) => items
            .iter()
            .map(|x| match x {
                Value::Null => String::new(),
                other => to_string(Some(other)),
            })
            .collect::<Vec<_>>()
            .join(","),
        Some(Value::Object(_)) => "[object Object]".to_owned(),
    }
}

/// Mongoose's `valueType`: `typeof`, or the constructor name for objects.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

/// `util.inspect(value)` on one line: single-quoted strings, bare keys,
/// `[Object]` / `[Array]` below depth 2, at most 100 array items shown.
/// (Node also breaks long output over lines; that is not reproduced.)
pub(crate) fn inspect(v: &Value) -> String {
    let mut out = String::new();
    inspect_into(v, 0, &mut out);
    out
}

fn inspect_into(v: &Value, depth: usize, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_string(n)),
        Value::String(s) => quote(s, out),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(_) if depth > 2 => out.push_str("[Array]"),
        Value::Array(items) => {
            out.push_str("[ ");
            for (i, x) in items.iter().take(100).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                inspect_into(x, depth + 1, out);
            }
            if items.len() > 100 {
                out.push_str(&format!(", ... {} more items", items.len() - 100));
            }
            out.push_str(" ]");
        }
        Value::Object(m) if m.is_empty() => out.push_str("{}"),
        Value::Object(_) if depth > 2 => out.push_str("[Object]"),
        Value::Object(m) => {
            out.push_str("{ ");
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if is_identifier(k) {
                    out.push_str(k);
                } else {
                    quote(k, out);
                }
                out.push_str(": ");
                inspect_into(x, depth + 1, out);
            }
            out.push_str(" }");
        }
    }
}

fn is_identifier(k: &str) -> bool {
    let mut chars = k.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// Node's string quoting: `'` unless the text has one, then `"`, then `` ` ``.
fn quote(s: &str, out: &mut String) {
    let q = if !s.contains('\'') {
        '\''
    } else if !s.contains('"') {
        '"'
    } else if !s.contains('`') && !s.contains("${") {
        '`'
    } else {
        '\''
    };
    out.push(q);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            '\\' => out.push_str("\\\\"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(q);
}

/// Mongoose's CastError `stringValue`: `util.inspect`, outer single quotes
/// made double, and wrapped in double quotes unless it already starts with one.
pub(crate) fn string_value(v: &Value) -> String {
    let mut s = inspect(v);
    if s.starts_with('\'') {
        s.replace_range(..1, "\"");
    }
    if s.len() > 1 && s.ends_with('\'') {
        let end = s.len() - 1;
        s.replace_range(end.., "\"");
    }
    if s.starts_with('"') {
        s
    } else {
        format!("\"{s}\"")
    }
}

/// `string.length`: UTF-16 code units.
pub(crate) fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn number_parsing_follows_js() {
        assert_eq!(parse_number("42"), Some(42.0));
        assert_eq!(parse_number(" 4.5 \n"), Some(4.5));
        assert_eq!(parse_number("1e3"), Some(1000.0));
        assert_eq!(parse_number(".5"), Some(0.5));
        assert_eq!(parse_number("5."), Some(5.0));
        assert_eq!(parse_number("-1E-2"), Some(-0.01));
        assert_eq!(parse_number("   "), Some(0.0));
        assert_eq!(parse_number("0x10"), Some(16.0));
        assert_eq!(parse_number("0b101"), Some(5.0));
        assert_eq!(parse_number("-Infinity"), Some(f64::NEG_INFINITY));
        for nan in [
            "42abc", "inf", "NaN", "1e", "e5", ".", "+", "--1", "0x", "-0x10", "1_000",
        ] {
            assert_eq!(parse_number(nan), None, "{nan}");
        }
    }

    #[test]
    fn numbers_print_like_js() {
        let cases = [
            (42.0, "42"),
            (1.5, "1.5"),
            (-0.0, "0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (123456.789, "123456.789"),
            (-2.5e30, "-2.5e+30"),
            (f64::NAN, "NaN"),
        ];
        for (x, s) in cases {
            assert_eq!(format_number(x), s, "{x}");
        }
    }

    #[test]
    fn json_numbers() {
        assert_eq!(json_number(7.0), Some(json!(7)));
        assert_eq!(json_number(-0.0), Some(json!(0)));
        assert_eq!(json_number(2.5), Some(json!(2.5)));
        assert_eq!(json_number(1e19), Some(json!(1e19)));
        assert_eq!(json_number(f64::INFINITY), None);
        assert_eq!(
            normalize_number(&Number::from(u64::MAX)),
            json!(1.8446744073709552e19)
        );
    }

    #[test]
    fn inspect_like_node() {
        assert_eq!(inspect(&json!("abc")), "'abc'");
        assert_eq!(inspect(&json!("it's")), "\"it's\"");
        assert_eq!(
            inspect(&json!({"a": 1, "b-c": "x"})),
            "{ a: 1, 'b-c': 'x' }"
        );
        assert_eq!(
            inspect(&json!([1, "a", null, true])),
            "[ 1, 'a', null, true ]"
        );
        assert_eq!(
            inspect(&json!({"a": {"b": {"c": {"d": 1}}}})),
            "{ a: { b: { c: [Object] } } }"
        );
        assert_eq!(inspect(&json!([])), "[]");
        assert_eq!(string_value(&json!("abc")), "\"abc\"");
        assert_eq!(string_value(&json!(5)), "\"5\"");
        assert_eq!(string_value(&json!({"a": 1})), "\"{ a: 1 }\"");
        assert_eq!(string_value(&json!("[ 'a' ]")), "\"[ 'a' ]\"");
    }

    #[test]
    fn string_conversion() {
        assert_eq!(to_string(None), "undefined");
        assert_eq!(to_string(Some(&json!([1, null, "a"]))), "1,,a");
        assert_eq!(to_string(Some(&json!({"a": 1}))), "[object Object]");
        assert_eq!(to_string(Some(&json!(1.0))), "1");
        assert_eq!(utf16_len("a😀"), 3);
        assert_eq!(trim("\u{feff} a\u{a0}"), "a");
    }
}
