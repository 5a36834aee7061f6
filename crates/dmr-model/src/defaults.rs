//! Field defaults: literals (type-checked, setters applied), `"$now"`, and
//! `{"$generate": TEMPLATE}` generators.

use serde_json::{Map, Value};

use crate::ctx::Ctx;
use crate::error::ModelError;
use crate::field::{DefaultValue, FieldOptions, FieldType};
use crate::locate::JPath;
use crate::suggest::hint;

type Result<T> = std::result::Result<T, ModelError>;

/// A parsed default-value template such as `ORD-{now:36}-{random:36:5}`.
///
/// Placeholders: `{now}` (epoch milliseconds, decimal), `{now:BASE}`,
/// `{random:BASE:DIGITS}`; `{{` and `}}` are literal braces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generator {
    template: String,
    uppercase: bool,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Now { base: u32 },
    Random { base: u32, digits: u32 },
}

/// A template that does not parse; `position` is the 0-based character index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("character {}: {reason}", .position + 1)]
pub struct TemplateError {
    pub position: usize,
    pub reason: String,
}

const USAGE: &str = "{now}, {now:BASE} or {random:BASE:DIGITS}";
const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

impl Generator {
    pub fn parse(template: &str, uppercase: bool) -> std::result::Result<Self, TemplateError> {
        let err = |position: usize, reason: String| TemplateError { position, reason };
        if template.is_empty() {
            return Err(err(0, "the template is empty".to_owned()));
        }
        let chars: Vec<char> = template.chars().collect();
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            let next = chars.get(i + 1).copied();
            match c {
                '{' if next == Some('{') => {
                    text.push('{');
                    i += 2;
                }
                '}' if next == Some('}') => {
                    text.push('}');
                    i += 2;
                }
                '}' => {
                    return Err(err(
                        i,
                        "unmatched \"}\" (write \"}}\" for a literal brace)".to_owned(),
                    ));
                }
                '{' => {
                    let rest = chars.get(i + 1..).unwrap_or_default();
                    let Some(len) = rest.iter().position(|c| *c == '}') else {
                        return Err(err(i, "unclosed \"{\"".to_owned()));
                    };
                    let inner: String = rest[..len].iter().collect();
                    let part = placeholder(&inner).map_err(|reason| err(i, reason))?;
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(part);
                    i += len + 2;
                }
                c => {
                    text.push(c);
                    i += 1;
                }
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Generator {
            template: template.to_owned(),
            uppercase,
            parts,
        })
    }

    pub fn template(&self) -> &str {
        &self.template
    }

    pub fn uppercase(&self) -> bool {
        self.uppercase
    }

    /// Fills the template. `random` is asked once per random digit (its value
    /// modulo the base is used), so tests can make the output deterministic.
    pub fn generate(&self, now_millis: u64, random: &mut dyn FnMut() -> u64) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Now { base } => out.push_str(&to_base(now_millis, *base)),
                Part::Random { base, digits } => {
                    for _ in 0..*digits {
                        let d = random() % u64::from(*base);
                        out.push(char::from(DIGITS[d as usize]));
                    }
                }
            }
        }
        if self.uppercase {
            out.to_uppercase()
        } else {
            out
        }
    }
}

fn placeholder(inner: &str) -> std::result::Result<Part, String> {
    let mut pieces = inner.split(':');
    let name = pieces.next().unwrap_or_default();
    let args: Vec<&str> = pieces.collect();
    match (name, args.as_slice()) {
        ("now", []) => Ok(Part::Now { base: 10 }),
        ("now", [b]) => Ok(Part::Now { base: base(b)? }),
        ("random", [b, n]) => {
            let digits = n
                .parse::<u32>()
                .ok()
                .filter(|d| (1..=64).contains(d))
                .ok_or_else(|| format!("the digit count \"{n}\" must be 1 to 64"))?;
            Ok(Part::Random {
                base: base(b)?,
                digits,
            })
        }
        ("now" | "random", _) => Err(format!(
            "malformed placeholder \"{{{inner}}}\"; expected {USAGE}"
        )),
        _ => Err(format!(
            "unknown placeholder \"{{{inner}}}\"; expected {USAGE}"
        )),
    }
}

fn base(s: &str) -> std::result::Result<u32, String> {
    s.parse::<u32>()
        .ok()
        .filter(|b| (2..=36).contains(b))
        .ok_or_else(|| format!("the base \"{s}\" must be 2 to 36"))
}

fn to_base(mut n: u64, base: u32) -> String {
    let base = u64::from(base);
    let mut digits = Vec::new();
    loop {
        digits.push(DIGITS[(n % base) as usize]);
        n /= base;
        if n == 0 {
            break;
        }
    }
    digits.iter().rev().map(|d| char::from(*d)).collect()
}

/// Parses the `"default"` of a field whose type and other options are known.
pub(crate) fn parse_default(
    ctx: &Ctx,
    v: &Value,
    path: &JPath,
    ty: &FieldType,
    opts: &FieldOptions,
) -> Result<DefaultValue> {
    if v.as_str() == Some("$now") {
        return match ty {
            FieldType::Date => Ok(DefaultValue::Now),
            _ => Err(ctx.value_err(path, "\"$now\" is only a default for Date fields")),
        };
    }
    if let Some(m) = v.as_object().filter(|m| m.contains_key("$generate")) {
        return match ty {
            FieldType::String => Ok(DefaultValue::Generate(parse_generator(ctx, m, path)?)),
            _ => Err(ctx.value_err(path, "\"$generate\" is only a default for String fields")),
        };
    }
    Ok(DefaultValue::Literal(check_literal(
        ctx, v, path, ty, opts,
    )?))
}

fn parse_generator(ctx: &Ctx, m: &Map<String, Value>, path: &JPath) -> Result<Generator> {
    let mut template = None;
    let mut uppercase = false;
    for (k, v) in m {
        let kp = path.key(k);
        match (k.as_str(), v) {
            ("$generate", Value::String(s)) => template = Some(s),
            ("$generate", _) => {
                return Err(ctx.value_err(
                    &kp,
                    "must be a template string such as \"ORD-{now:36}-{random:36:5}\"",
                ));
            }
            ("uppercase", Value::Bool(b)) => uppercase = *b,
            ("uppercase", _) => return Err(ctx.value_err(&kp, "must be true or false")),
            _ => {
                return Err(ctx.key_err(
                    &kp,
                    format!(
                        "unknown generator option \"{k}\"{}",
                        hint(k, ["$generate", "uppercase"])
                    ),
                ));
            }
        }
    }
    let tp = path.key("$generate");
    let Some(template) = template else {
        return Err(ctx.value_err(path, "missing \"$generate\""));
    };
    Generator::parse(template, uppercase).map_err(|e| {
        ctx.char_err(
            &tp,
            e.position,
            format!("character {} of the template: {}", e.position + 1, e.reason),
        )
    })
}

/// Checks a literal default against the field's type, loosely (as Mongoose
/// would cast it), and returns it with the field's setters applied.
fn check_literal(
    ctx: &Ctx,
    v: &Value,
    path: &JPath,
    ty: &FieldType,
    o: &FieldOptions,
) -> Result<Value> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let bad = |want: &str| {
        ctx.value_err(
            path,
            format!("the default must be {want} or null, not {}", describe(v)),
        )
    };
    let out = match ty {
        FieldType::String => {
            let Value::String(s) = v else {
                return Err(bad("a string"));
            };
            let s = o.apply_setters(s);
            let len = crate::js::utf16_len(&s) as u64;
            if o.minlength.is_some_and(|min| len < min) || o.maxlength.is_some_and(|max| len > max)
            {
                return Err(ctx.value_err(path, "the default violates minlength/maxlength"));
            }
            if o.match_pattern
                .as_ref()
                .is_some_and(|p| !s.is_empty() && !p.is_match(&s))
            {
                return Err(ctx.value_err(path, "the default does not match \"match\""));
            }
            Value::String(s)
        }
        FieldType::Number => {
            let Some(x) = v.as_f64().filter(|_| v.is_number()) else {
                return Err(bad("a number"));
            };
            if o.min.is_some_and(|min| x < min) || o.max.is_some_and(|max| x > max) {
                return Err(ctx.value_err(path, "the default is outside min/max"));
            }
            number_value(x)
        }
        FieldType::Boolean => {
            if !v.is_boolean() {
                return Err(bad("true or false"));
            }
            v.clone()
        }
        FieldType::Date => match v {
            Value::String(s) if looks_like_date(s) => v.clone(),
            Value::Number(n) if n.is_i64() || n.is_u64() => v.clone(),
            _ => {
                return Err(bad(
                    "\"$now\", an ISO date such as \"2024-01-31T12:00:00Z\", or epoch milliseconds",
                ));
            }
        },
        FieldType::ObjectId => match v {
            Value::String(s) if s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
                v.clone()
            }
            _ => return Err(bad("a 24-character hex ObjectId")),
        },
        FieldType::Mixed | FieldType::Object(_) => v.clone(),
        FieldType::Map(of) => {
            let Value::Object(m) = v else {
                return Err(bad("an object"));
            };
            let mut out = Map::new();
            for (k, x) in m {
                out.insert(
                    k.clone(),
                    check_literal(ctx, x, &path.key(k), &of.ty, &of.opts)?,
                );
            }
            Value::Object(out)
        }
        FieldType::Array(el) => {
            let Value::Array(items) = v else {
                return Err(bad("an array"));
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, x) in items.iter().enumerate() {
                out.push(check_literal(ctx, x, &path.index(i), &el.ty, &el.opts)?);
            }
            Value::Array(out)
        }
        FieldType::SubDocs(_) => {
            let Value::Array(items) = v else {
                return Err(bad("an array of objects"));
            };
            if let Some(i) = items.iter().position(|x| !x.is_object()) {
                return Err(ctx.value_err(&path.index(i), "a sub-document must be an object"));
            }
            v.clone()
        }
    };
    if o.enum_values
        .as_ref()
        .is_some_and(|values| !enum_contains(values, &out))
    {
        return Err(ctx.value_err(
            path,
            format!("the default {out} is not one of the enum values"),
        ));
    }
    Ok(out)
}

pub(crate) fn enum_contains(values: &[Value], v: &Value) -> bool {
    values.iter().any(|e| {
        e == v
            || (e.is_number() && v.is_number() && e.as_f64().is_some() && e.as_f64() == v.as_f64())
    })
}

/// `YYYY-MM-DD`, optionally followed by a time (`T...` or ` ...`).
fn looks_like_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && matches!(b.get(10), None | Some(b'T' | b' '))
}

/// A JSON number for `x`, integral when it is one (`7`, not `7.0`), as JS prints it.
pub(crate) fn number_value(x: f64) -> Value {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

/// "a string", "an array", ... for error messages.
pub(crate) fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(values: &[u64]) -> impl FnMut() -> u64 + '_ {
        let mut i = 0;
        move || {
            let v = values[i % values.len()];
            i += 1;
            v
        }
    }

    #[test]
    fn order_number_template() {
        let g = Generator::parse("ORD-{now:36}-{random:36:5}", true).unwrap();
        let now = 1_700_000_000_000u64;
        let out = g.generate(now, &mut seq(&[10, 11, 35, 36, 1]));
        assert_eq!(
            out,
            format!("ORD-{}-ABZ01", to_base(now, 36).to_uppercase())
        );
        assert_eq!(to_base(now, 36), "loyw3v28");
    }

    #[test]
    fn placeholders_and_braces() {
        let g = Generator::parse("{{x}} {now} {now:2} {random:10:3}", false).unwrap();
        assert_eq!(g.generate(5, &mut seq(&[7])), "{x} 5 101 777");
        assert_eq!(g.template(), "{{x}} {now} {now:2} {random:10:3}");
        assert!(!g.uppercase());
    }

    #[test]
    fn template_errors_have_positions() {
        let e = |t: &str| Generator::parse(t, false).unwrap_err();
        assert_eq!(e("ab{uuid}").position, 2);
        assert!(
            e("ab{uuid}")
                .reason
                .contains("unknown placeholder \"{uuid}\"")
        );
        assert_eq!(e("x{now").position, 1);
        assert_eq!(e("x}").position, 1);
        assert_eq!(e("{now:37}").position, 0);
        assert_eq!(e("{random:36}").position, 0);
        assert_eq!(e("{random:36:0}").position, 0);
        assert_eq!(e("").position, 0);
    }

    #[test]
    fn numbers_print_like_js() {
        assert_eq!(number_value(7.0), Value::from(7));
        assert_eq!(number_value(-0.0), Value::from(0));
        assert_eq!(number_value(2.5), Value::from(2.5));
        assert_eq!(number_value(f64::NAN), Value::Null);
    }

    #[test]
    fn dates() {
        assert!(looks_like_date("2024-01-31"));
        assert!(looks_like_date("2024-01-31T00:00:00Z"));
        assert!(!looks_like_date("2024-1-31"));
        assert!(!looks_like_date("yesterday"));
    }
}
