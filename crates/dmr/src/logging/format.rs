//! The log line formats: JSON lines (`combined.log`, `error.log`, stdout in production) in
//! the shape `tracing-subscriber`'s JSON writes (`timestamp`, `level`, `fields`, `target`,
//! `span`), and a compact human line for a development terminal. Written here rather than
//! by `tracing-subscriber`'s own formatters so that the request an event belongs to comes
//! from `dmr_http::with_current_request` (no span per request; see
//! `dmr_http::edge::request_scope`), and so that a line costs a few hundred nanoseconds:
//! the timestamp's date and time are formatted once a second per thread, values are
//! written straight into the line.

use std::cell::RefCell;
use std::fmt::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use dmr_http::{RequestScope, with_current_request};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// `2026-12-03T10:15:42.123Z`, as JavaScript's `toISOString` (and the seed's winston)
/// write it.
fn timestamp(out: &mut Writer<'_>) -> fmt::Result {
    thread_local! {
        /// The second last formatted on this thread, and its text up to the seconds.
        static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let (secs, millis) = (now.as_secs(), now.subsec_millis());
    SECOND.with(|second| {
        let mut second = second.borrow_mut();
        if second.0 != secs {
            let full = dmr_model::date::format_system_time(
                UNIX_EPOCH + std::time::Duration::from_secs(secs),
            );
            second.1 = full.get(..19).unwrap_or_default().to_owned();
            second.0 = secs;
        }
        out.write_str(&second.1)?;
        let digits = [
            b'.',
            b'0' + (millis / 100) as u8,
            b'0' + (millis / 10 % 10) as u8,
            b'0' + (millis % 10) as u8,
            b'Z',
        ];
        out.write_str(std::str::from_utf8(&digits).unwrap_or(".000Z"))
    })
}

fn push_u64(out: &mut impl Write, n: u64) -> fmt::Result {
    out.write_str(itoa::Buffer::new().format(n))
}

fn push_i64(out: &mut impl Write, n: i64) -> fmt::Result {
    out.write_str(itoa::Buffer::new().format(n))
}

/// A finite float (JSON has no NaN or infinities: `null`). A value of at most three
/// decimals (the access line's milliseconds) is written as integer and fraction, the rest
/// by `ryu`.
fn push_f64(out: &mut impl Write, x: f64) -> fmt::Result {
    if !x.is_finite() {
        return out.write_str("null");
    }
    let thousandths = x * 1000.0;
    // `x * 1000` of a three-decimal value is an integer give or take the float's error.
    if (0.0..1e12).contains(&thousandths) && (thousandths - thousandths.round()).abs() < 1e-6 {
        let thousandths = thousandths.round() as u64;
        push_u64(out, thousandths / 1000)?;
        let fraction = thousandths % 1000;
        if fraction != 0 {
            let digits = [
                b'.',
                b'0' + (fraction / 100) as u8,
                b'0' + (fraction / 10 % 10) as u8,
                b'0' + (fraction % 10) as u8,
            ];
            let end = if fraction.is_multiple_of(100) {
                2
            } else if fraction.is_multiple_of(10) {
                3
            } else {
                4
            };
            out.write_str(std::str::from_utf8(&digits[..end]).unwrap_or_default())?;
        }
        return Ok(());
    }
    out.write_str(ryu::Buffer::new().format_finite(x))
}

/// Escapes what it is given as the inside of a JSON string.
struct JsonEscaped<'a, W: Write>(&'a mut W);

impl<W: Write> Write for JsonEscaped<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        json_escape(self.0, s)
    }
}

/// A JSON string literal.
fn json_string(out: &mut impl Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    json_escape(out, s)?;
    out.write_char('"')
}

fn json_escape(out: &mut impl Write, s: &str) -> fmt::Result {
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            b if b < 0x20 => "",
            _ => continue,
        };
        out.write_str(&s[start..i])?;
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let code = [
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ];
            out.write_str(std::str::from_utf8(&code).unwrap_or_default())?;
        } else {
            out.write_str(escape)?;
        }
        start = i + 1;
    }
    out.write_str(&s[start..])
}

/// An event's fields as the members of a JSON object.
struct JsonFields<'a, W: Write> {
    out: &'a mut W,
    first: bool,
    result: fmt::Result,
}

impl<W: Write> JsonFields<'_, W> {
    fn member(&mut self, field: &Field, value: impl FnOnce(&mut W) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        self.result = (|| {
            if !self.first {
                self.out.write_char(',')?;
            }
            self.first = false;
            json_string(self.out, field.name())?;
            self.out.write_char(':')?;
            value(self.out)
        })();
    }
}

impl<W: Write> Visit for JsonFields<'_, W> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.member(field, |out| json_string(out, value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.member(field, |out| push_i64(out, value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.member(field, |out| push_u64(out, value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.member(field, |out| push_f64(out, value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.member(field, |out| {
            out.write_str(if value { "true" } else { "false" })
        });
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.member(field, |out| {
            out.write_char('"')?;
            write!(JsonEscaped(out), "{value}")?;
            out.write_char('"')
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.member(field, |out| {
            out.write_char('"')?;
            write!(JsonEscaped(out), "{value:?}")?;
            out.write_char('"')
        });
    }
}

/// The request's members of the `span` object, as the request span used to carry them.
fn request_members(out: &mut impl Write, request: &RequestScope) -> fmt::Result {
    out.write_str("\"method\":")?;
    json_string(out, request.method())?;
    out.write_str(",\"path\":")?;
    json_string(out, request.path())?;
    out.write_str(",\"request_id\":")?;
    json_string(out, request.request_id())?;
    for (name, value) in [
        (",\"route\":", request.route()),
        (",\"tenant\":", request.tenant()),
        (",\"model\":", request.model()),
    ] {
        if let Some(value) = value {
            out.write_str(name)?;
            json_string(out, value)?;
        }
    }
    out.write_str(",\"name\":\"request\"")
}

/// One JSON object per line.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonLine;

impl<S, N> FormatEvent<S, N> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut out: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        out.write_str("{\"timestamp\":\"")?;
        timestamp(&mut out)?;
        write!(
            out,
            "\",\"level\":\"{}\",\"fields\":{{",
            meta.level().as_str()
        )?;
        let mut fields = JsonFields {
            out: &mut out,
            first: true,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        out.write_str("},\"target\":")?;
        json_string(&mut out, meta.target())?;
        with_current_request(|request| match request {
            Some(request) => {
                out.write_str(",\"span\":{")?;
                request_members(&mut out, request)?;
                out.write_char('}')
            }
            None => match ctx.lookup_current() {
                Some(span) => {
                    out.write_str(",\"span\":{\"name\":")?;
                    json_string(&mut out, span.name())?;
                    out.write_char('}')
                }
                None => Ok(()),
            },
        })?;
        out.write_str("}\n")
    }
}

/// `key=value` pairs after the message, for a terminal.
struct HumanFields<'a, 'w> {
    out: &'a mut Writer<'w>,
    result: fmt::Result,
}

impl HumanFields<'_, '_> {
    fn pair(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        self.result = (|| {
            self.out.write_char(' ')?;
            if field.name() != "message" {
                self.out.write_str(field.name())?;
                self.out.write_char('=')?;
            }
            value(self.out)
        })();
    }
}

impl Visit for HumanFields<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.pair(field, |out| out.write_str(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.pair(field, |out| push_u64(out, value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.pair(field, |out| push_i64(out, value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.pair(field, |out| push_f64(out, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.pair(field, |out| write!(out, "{value:?}"));
    }
}

/// `2026-12-03T10:15:42.123Z  INFO target: message key=value ... request_id=...`.
#[derive(Debug, Clone, Copy, Default)]
pub struct HumanLine {
    pub ansi: bool,
}

impl<S, N> FormatEvent<S, N> for HumanLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut out: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        timestamp(&mut out)?;
        let level = *meta.level();
        // Padded to five, as tracing's own formatter aligns them.
        let name = match level {
            Level::ERROR => "ERROR",
            Level::WARN => " WARN",
            Level::INFO => " INFO",
            Level::DEBUG => "DEBUG",
            Level::TRACE => "TRACE",
        };
        if self.ansi {
            let color = match level {
                Level::ERROR => " \x1b[31m",
                Level::WARN => " \x1b[33m",
                Level::INFO => " \x1b[32m",
                Level::DEBUG => " \x1b[34m",
                Level::TRACE => " \x1b[35m",
            };
            out.write_str(color)?;
            out.write_str(name)?;
            out.write_str("\x1b[0m ")?;
        } else {
            out.write_char(' ')?;
            out.write_str(name)?;
            out.write_char(' ')?;
        }
        out.write_str(meta.target())?;
        out.write_char(':')?;
        let mut fields = HumanFields {
            out: &mut out,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        with_current_request(|request| match request {
            Some(r) => {
                write!(
                    out,
                    " request_id={} method={} path={}",
                    r.request_id(),
                    r.method(),
                    r.path()
                )?;
                for (name, value) in [
                    ("route", r.route()),
                    ("tenant", r.tenant()),
                    ("model", r.model()),
                ] {
                    if let Some(value) = value {
                        write!(out, " {name}={value}")?;
                    }
                }
                Ok(())
            }
            None => Ok(()),
        })?;
        out.write_char('\n')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_back_as_they_were() {
        for x in [
            0.0, 0.419, 16.119, 0.5, 0.25, 12.0, 1e-7, 2.5e20, -3.25, 123456.789,
        ] {
            let mut out = String::new();
            push_f64(&mut out, x).unwrap();
            assert_eq!(out.parse::<f64>().unwrap(), x, "{out}");
        }
        let mut out = String::new();
        push_f64(&mut out, 0.419).unwrap();
        assert_eq!(out, "0.419");
    }

    #[test]
    fn json_strings_escape_what_json_requires() {
        let mut out = String::new();
        json_string(&mut out, "a\"b\\c\nd\u{1}é").unwrap();
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
        let parsed: String = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed, "a\"b\\c\nd\u{1}é");
    }
}
