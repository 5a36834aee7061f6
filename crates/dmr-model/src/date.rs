//! Dates as JavaScript has them: milliseconds since the epoch within
//! ±8.64e15, printed as `Date#toISOString` does, parsed from ISO-8601 as V8
//! reads it. The workspace's one date module: the model's casts, the
//! timestamps in answers and records, and the MongoDB store's BSON Dates all
//! go through it, so a date reads the same wherever it was made.

use std::time::{SystemTime, UNIX_EPOCH};

/// JavaScript's Date range: ±100,000,000 days around the epoch.
pub const MAX_MILLIS: i64 = 8_640_000_000_000_000;

const MS_PER_DAY: i64 = 86_400_000;

/// `new Date(ms)` for a number: truncated toward zero, `None` out of range.
pub fn from_number(x: f64) -> Option<i64> {
    let t = x.trunc();
    (t.is_finite() && t.abs() <= MAX_MILLIS as f64).then_some(t as i64)
}

/// A clock reading in milliseconds since the epoch, rounded down as
/// JavaScript's `Date.now()` is, clamped to the Date range.
fn millis_of(at: SystemTime) -> i64 {
    let millis = match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i128::try_from(after.as_millis()).unwrap_or(i128::MAX),
        // Before the epoch: a partial millisecond rounds down, away from zero.
        Err(e) => -i128::try_from(e.duration().as_nanos().div_ceil(1_000_000)).unwrap_or(i128::MAX),
    };
    millis.clamp(-i128::from(MAX_MILLIS), i128::from(MAX_MILLIS)) as i64
}

/// `format_iso` of a clock reading: the timestamps of answers and records.
pub fn format_system_time(at: SystemTime) -> String {
    format_iso(millis_of(at))
}

/// `Date#toISOString`: `2024-01-02T03:04:05.678Z`; years outside 0-9999 as
/// `+012345` / `-000001`. Milliseconds outside the Date range (which no
/// JavaScript Date holds) are clamped to it.
pub fn format_iso(ms: i64) -> String {
    let ms = ms.clamp(-MAX_MILLIS, MAX_MILLIS);
    let days = ms.div_euclid(MS_PER_DAY);
    let in_day = ms.rem_euclid(MS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let year = if (0..=9999).contains(&y) {
        format!("{y:04}")
    } else if y < 0 {
        format!("-{:06}", -y)
    } else {
        format!("+{y:06}")
    };
    format!(
        "{year}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// The ECMAScript date-time string format, leniently as V8 reads it:
/// `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `±YYYYYY-...`, then optionally
/// `THH:mm`, `:ss`, `.fraction` (any digits, milliseconds kept), and `Z`,
/// `±HH:mm` or `±HHmm`. A space or lowercase `t`/`z` is accepted too.
/// Without an offset the time is read as UTC (see docs: JavaScript uses
/// the server's local zone for date-times, UTC for dates).
pub fn parse_iso(s: &str) -> Option<i64> {
    let mut p = Cursor {
        b: crate::js::trim(s).as_bytes(),
        i: 0,
    };
    let year = match p.peek() {
        Some(b'+') | Some(b'-') => {
            let neg = p.next() == Some(b'-');
            let y = p.digits(6)?;
            if neg && y == 0 {
                return None; // "-000000" is not a year
            }
            if neg { -y } else { y }
        }
        _ => p.digits(4)?,
    };
    let mut month = 1;
    let mut day = 1;
    if p.eat(b'-') {
        month = p.digits(2)?;
        if p.eat(b'-') {
            day = p.digits(2)?;
        }
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut time = 0;
    if matches!(p.peek(), Some(b'T' | b't' | b' ')) {
        p.i += 1;
        let h = p.digits(2)?;
        p.expect(b':')?;
        let min = p.digits(2)?;
        let mut sec = 0;
        let mut ms = 0;
        if p.eat(b':') {
            sec = p.digits(2)?;
            if p.eat(b'.') {
                let start = p.i;
                while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                    p.i += 1;
                }
                let frac = &p.b[start..p.i];
                if frac.is_empty() {
                    return None;
                }
                ms = frac
                    .iter()
                    .chain(b"00")
                    .take(3)
                    .fold(0, |acc, d| acc * 10 + i64::from(d - b'0'));
            }
        }
        let midnight_end = h == 24 && min == 0 && sec == 0 && ms == 0;
        if (h > 23 && !midnight_end) || min > 59 || sec > 59 {
            return None;
        }
        time = ((h * 60 + min) * 60 + sec) * 1000 + ms;
        match p.peek() {
            Some(b'Z' | b'z') => p.i += 1,
            Some(b'+' | b'-') => {
                let sign = if p.next() == Some(b'-') { -1 } else { 1 };
                let oh = p.digits(2)?;
                p.eat(b':');
                let om = p.digits(2)?;
                if oh > 23 || om > 59 {
                    return None;
                }
                time -= sign * (oh * 60 + om) * 60_000;
            }
            _ => {}
        }
    }
    if p.i != p.b.len() {
        return None;
    }
    let ms = days_from_civil(year, month, day) * MS_PER_DAY + time;
    (ms.abs() <= MAX_MILLIS).then_some(ms)
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        self.i += usize::from(hit);
        hit
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        self.eat(c).then_some(())
    }

    /// Exactly `n` ASCII digits.
    fn digits(&mut self, n: usize) -> Option<i64> {
        let end = self.i + n;
        let d = self.b.get(self.i..end)?;
        if !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i = end;
        Some(d.iter().fold(0, |acc, c| acc * 10 + i64::from(c - b'0')))
    }
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_like_to_iso_string() {
        assert_eq!(format_iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_iso(1_704_164_645_678), "2024-01-02T03:04:05.678Z");
        assert_eq!(format_iso(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(format_iso(MAX_MILLIS), "+275760-09-13T00:00:00.000Z");
        assert_eq!(format_iso(-MAX_MILLIS), "-271821-04-20T00:00:00.000Z");
        assert_eq!(
            format_iso(-62_198_755_200_000),
            "-000001-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn formats_clock_readings_as_date_now_would() {
        let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
        assert_eq!(
            format_system_time(at(1_700_000_000_123)),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(
            format_system_time(at(5) + Duration::from_micros(999)),
            "1970-01-01T00:00:00.005Z"
        );
        assert_eq!(
            format_system_time(UNIX_EPOCH - Duration::from_micros(1)),
            "1969-12-31T23:59:59.999Z"
        );
        assert_eq!(
            format_system_time(UNIX_EPOCH - Duration::from_millis(2)),
            "1969-12-31T23:59:59.998Z"
        );
    }

    #[test]
    fn parses_iso_forms() {
        let p = |s| parse_iso(s);
        assert_eq!(p("2024-01-02T03:04:05.678Z"), Some(1_704_164_645_678));
        assert_eq!(p("2024-01-02"), Some(1_704_153_600_000));
        assert_eq!(p("2024-01"), Some(1_704_067_200_000));
        assert_eq!(p("2024"), Some(1_704_067_200_000));
        assert_eq!(p("2024-01-02T03:04"), Some(1_704_164_640_000));
        assert_eq!(
            p("2024-01-02T03:04:05+01:00"),
            Some(1_704_164_645_000 - 3_600_000)
        );
        assert_eq!(
            p("2024-01-02T03:04:05-0130"),
            Some(1_704_164_645_000 + 5_400_000)
        );
        assert_eq!(p("2024-01-02 03:04:05.1234z"), Some(1_704_164_645_123));
        assert_eq!(p("2024-01-02T24:00:00Z"), Some(1_704_240_000_000));
        assert_eq!(p("+275760-09-13T00:00:00.000Z"), Some(MAX_MILLIS));
        assert_eq!(p(" 1970-01-01 "), Some(0));
        for bad in [
            "2024-02-30",
            "2023-02-29",
            "2024-13-01",
            "2024-1-2",
            "24-01-02",
            "2024-01-02T25:00Z",
            "2024-01-02T03:04:60Z",
            "2024-01-02T03Z",
            "2024-01-02Z",
            "+275760-09-13T00:00:00.001Z",
            "-000000-01-01",
            "yesterday",
            "",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trips() {
        for ms in [
            0,
            1,
            -1,
            951_782_400_000,
            -MAX_MILLIS,
            MAX_MILLIS,
            253_402_300_800_000,
        ] {
            assert_eq!(parse_iso(&format_iso(ms)), Some(ms), "{ms}");
        }
        assert_eq!(from_number(1.9), Some(1));
        assert_eq!(from_number(-1.9), Some(-1));
        assert_eq!(from_number(8.64e15 + 1.0), None);
        assert_eq!(from_number(f64::NAN), None);
    }
}
