//! Timestamps, time zones and durations as text.
//!
//! Owns every text form of time the crate accepts or prints: the auto-detected timestamp forms
//! of the CLI contract (RFC 3339, `YYYY-MM-DD HH:MM:SS[.f]`, `YYYY-MM-DD`, integer
//! nanoseconds), the import `--time-format`s (epoch units and a strftime subset), fixed-offset
//! time zones, durations, and the one RFC 3339 form queries print. Parsing is hand-written
//! byte matching because it sits on the CSV import hot path: no allocation unless it fails.
//!
//! Invariants:
//! 1. A timestamp is `i64` nanoseconds since 1970-01-01T00:00:00Z; a value outside `i64`
//!    (before 1677-09-21T00:12:43.145224192Z or after 2262-04-11T23:47:16.854775807Z) is
//!    an error, never wrapped or clamped.
//! 2. Arithmetic is exact: fractions are digits, never floats; a non-zero digit finer than a
//!    nanosecond is an error rather than silently rounded.
//! 3. `parse_timestamp(&format_rfc3339_nanos(t), tz) == Ok(t)` for every `i64` `t` and `tz`.
//! 4. No parser here panics on any input; failures are [`Error::Parse`] naming the byte
//!    offset into the string as given and what was expected there.
//! 5. Only fixed UTC offsets are time zones; named zones are refused with a clear error.
//!
//! Of callers it assumes nothing: surrounding whitespace is ignored, and durations may be
//! zero or negative, so callers check the sign they need.

use crate::error::{Error, Result};

const NS_PER_S: i64 = 1_000_000_000;
const S_PER_DAY: i64 = 86_400;
/// Inputs longer than this are cut in error messages, so an error stays one readable line.
const ERR_INPUT_MAX_BYTES: usize = 128;
const TS_RANGE: &str = "outside the i64 nanosecond range (years 1677 to 2262)";
const TS_FORMS: &str =
    "expected RFC 3339, 'YYYY-MM-DD HH:MM:SS[.fraction]', 'YYYY-MM-DD' or integer nanoseconds";
const STRFTIME_DIRECTIVES: &str = "supported directives: %Y %m %d %H %M %S %f %z %T %F %%";

/// Builds an [`Error::Parse`], cutting long inputs; shared by the crate's text parsers.
pub(crate) fn parse_error(
    what: &'static str,
    input: &str,
    offset: usize,
    reason: impl Into<String>,
) -> Error {
    let mut end = input.len().min(ERR_INPUT_MAX_BYTES);
    while !input.is_char_boundary(end) {
        end -= 1;
    }
    let mut shown = input.get(..end).unwrap_or_default().to_owned();
    if end < input.len() {
        shown.push('…');
    }
    Error::Parse {
        what,
        input: shown,
        offset,
        reason: reason.into(),
    }
}

/// Internal failure: byte offset into the trimmed input and the reason.
type Fail = (usize, &'static str);

/// Maps a failure at `at` in `s.trim()` to an error with the offset into `s`.
fn fail_in(what: &'static str, s: &str, (at, reason): Fail) -> Error {
    let lead = s.len() - s.trim_start().len();
    parse_error(what, s, lead + at, reason)
}

/// A fixed offset from UTC; named zones (with daylight-saving rules) are not supported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Timezone {
    offset_s: i32,
}

impl Timezone {
    /// Coordinated Universal Time.
    pub const UTC: Timezone = Timezone { offset_s: 0 };

    /// Parses `UTC`, `Z`, `+hh:mm`, `+hhmm` or `+hh` (or `-`).
    pub fn parse(s: &str) -> Result<Self> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") {
            return Ok(Timezone::UTC);
        }
        if t.bytes().any(|b| b.is_ascii_alphabetic()) {
            let why = "only fixed offsets (UTC, Z, +02:00, -0530) are supported, not named zones";
            return Err(Error::invalid("timezone", format!("{t:?}: {why}")));
        }
        match offset_at(t.as_bytes(), 0) {
            Some((offset_s, end)) if end == t.len() => Ok(Timezone { offset_s }),
            _ => Err(fail_in(
                "timezone",
                s,
                (0, "expected UTC, Z, +hh:mm or -hhmm"),
            )),
        }
    }

    /// Seconds east of UTC.
    pub fn offset_seconds(self) -> i32 {
        self.offset_s
    }
}

/// How an import's time column is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeFormat {
    /// Any form [`parse_timestamp`] detects.
    Auto,
    /// Strict RFC 3339: date, time and offset all required.
    Rfc3339,
    /// Seconds since the epoch, integer or decimal.
    EpochS,
    /// Milliseconds since the epoch, integer or decimal.
    EpochMs,
    /// Microseconds since the epoch, integer or decimal.
    EpochUs,
    /// Nanoseconds since the epoch, integer.
    EpochNs,
    /// A strftime pattern (a subset: %Y %m %d %H %M %S %f %z %T %F %%).
    Strftime(String),
}

impl TimeFormat {
    /// Parses `auto|rfc3339|epoch_s|epoch_ms|epoch_us|epoch_ns` or a strftime pattern.
    pub fn parse(spec: &str) -> Result<TimeFormat> {
        const NAMED: [(&str, TimeFormat); 6] = [
            ("auto", TimeFormat::Auto),
            ("rfc3339", TimeFormat::Rfc3339),
            ("epoch_s", TimeFormat::EpochS),
            ("epoch_ms", TimeFormat::EpochMs),
            ("epoch_us", TimeFormat::EpochUs),
            ("epoch_ns", TimeFormat::EpochNs),
        ];
        if let Some((_, f)) = NAMED.iter().find(|(n, _)| spec.eq_ignore_ascii_case(n)) {
            return Ok(f.clone());
        }
        if !spec.contains('%') {
            let reason = "expected auto, rfc3339, epoch_s, epoch_ms, epoch_us, epoch_ns \
                          or a strftime pattern such as '%Y-%m-%d %H:%M:%S'";
            return Err(parse_error("time format", spec, 0, reason));
        }
        let mut bytes = spec.bytes().enumerate();
        while let Some((k, c)) = bytes.next() {
            if c == b'%' {
                let next = bytes.next().map(|(_, d)| d);
                if !matches!(next, Some(b'Y' | b'm' | b'd' | b'H' | b'M' | b'S'))
                    && !matches!(next, Some(b'f' | b'z' | b'T' | b'F' | b'%'))
                {
                    return Err(parse_error("time format", spec, k, STRFTIME_DIRECTIVES));
                }
            }
        }
        Ok(TimeFormat::Strftime(spec.to_owned()))
    }
}

/// Parses a timestamp in any auto-detected form; forms without an offset are in `tz`.
pub fn parse_timestamp(s: &str, tz: Timezone) -> Result<i64> {
    let b = s.trim().as_bytes();
    let r = if b.get(4) == Some(&b'-') && b.first().is_some_and(u8::is_ascii_digit) {
        parse_datetime(b, tz, false)
    } else if b
        .first()
        .is_some_and(|c| c.is_ascii_digit() || *c == b'-' || *c == b'+')
    {
        epoch_scaled(b, 0)
    } else {
        Err((0, TS_FORMS))
    };
    r.map_err(|f| fail_in("timestamp", s, f))
}

/// Parses a timestamp written as `fmt` says; forms without an offset are in `tz`.
pub fn parse_timestamp_as(s: &str, fmt: &TimeFormat, tz: Timezone) -> Result<i64> {
    let b = s.trim().as_bytes();
    let r = match fmt {
        TimeFormat::Auto => return parse_timestamp(s, tz),
        TimeFormat::Rfc3339 => parse_datetime(b, tz, true),
        TimeFormat::EpochS => epoch_scaled(b, 9),
        TimeFormat::EpochMs => epoch_scaled(b, 6),
        TimeFormat::EpochUs => epoch_scaled(b, 3),
        TimeFormat::EpochNs => epoch_scaled(b, 0),
        TimeFormat::Strftime(spec) => parse_strftime(b, spec.as_bytes(), tz),
    };
    r.map_err(|f| fail_in("timestamp", s, f))
}

/// A broken-down civil time; the fields are checked by [`Civil::to_ns`].
#[derive(Clone, Copy, Default)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
}

impl Civil {
    fn date(year: i64, month: u32, day: u32) -> Civil {
        Civil {
            year,
            month,
            day,
            ..Civil::default()
        }
    }

    /// Checks the fields and converts; `at` gives the offset to blame for each field
    /// (month, day, hour, minute, second), `offset_s` is the zone's offset east of UTC.
    fn to_ns(self, offset_s: i32, at: [usize; 5]) -> Result<i64, Fail> {
        let checks = [
            ((1..=12).contains(&self.month), "month must be 01 to 12"),
            (
                (1..=days_in_month(self.year, self.month)).contains(&self.day),
                "no such day",
            ),
            (self.hour <= 23, "hour must be 00 to 23"),
            (self.minute <= 59, "minute must be 00 to 59"),
            (
                self.second <= 59,
                "second must be 00 to 59 (no leap seconds)",
            ),
        ];
        if let Some(((_, why), at)) = checks.into_iter().zip(at).find(|((ok, _), _)| !ok) {
            return Err((at, why));
        }
        let days = i128::from(days_from_civil(self.year, self.month, self.day));
        let secs = days * i128::from(S_PER_DAY)
            + i128::from(self.hour * 3600 + self.minute * 60 + self.second)
            - i128::from(offset_s);
        let ns = secs * i128::from(NS_PER_S) + i128::from(self.nanos);
        i64::try_from(ns).map_err(|_| (0, TS_RANGE))
    }
}

/// `YYYY-MM-DD[(T|t| )HH:MM:SS[.f][Z|±hh:mm|±hhmm]]`; `strict` demands time and offset.
fn parse_datetime(b: &[u8], tz: Timezone, strict: bool) -> Result<i64, Fail> {
    let year = num(b, 0, 4).ok_or((0, "expected a 4-digit year"))?;
    lit(b, 4, b'-', "expected '-' after the year")?;
    let month = num(b, 5, 2).ok_or((5, "expected a 2-digit month"))?;
    lit(b, 7, b'-', "expected '-' after the month")?;
    let day = num(b, 8, 2).ok_or((8, "expected a 2-digit day"))?;
    let mut c = Civil::date(year.into(), month, day);
    const AT: [usize; 5] = [5, 8, 11, 14, 17];
    match b.get(10) {
        None if !strict => return c.to_ns(tz.offset_s, AT),
        Some(b'T' | b't' | b' ') => {}
        _ => return Err((10, "expected 'T' or a space before the time")),
    }
    c.hour = num(b, 11, 2).ok_or((11, "expected a 2-digit hour"))?;
    lit(b, 13, b':', "expected ':' after the hour")?;
    c.minute = num(b, 14, 2).ok_or((14, "expected 2-digit minutes"))?;
    lit(b, 16, b':', "expected ':' after the minutes")?;
    c.second = num(b, 17, 2).ok_or((17, "expected 2-digit seconds"))?;
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        (c.nanos, i) = fraction(b, i + 1)?;
    }
    let offset_s = if i == b.len() && !strict {
        tz.offset_s
    } else {
        match offset_at(b, i) {
            Some((off, end)) if end == b.len() => off,
            Some((_, end)) => return Err((end, "unexpected characters after the offset")),
            None => return Err((i, "expected 'Z' or an offset such as +02:00")),
        }
    };
    c.to_ns(offset_s, AT)
}

/// Matches the literal byte `want` at `i`.
fn lit(b: &[u8], i: usize, want: u8, reason: &'static str) -> Result<(), Fail> {
    if b.get(i) == Some(&want) {
        Ok(())
    } else {
        Err((i, reason))
    }
}

/// Exactly `n` ASCII digits at `i`.
fn num(b: &[u8], i: usize, n: usize) -> Option<u32> {
    let digits = b.get(i..i + n)?;
    digits.iter().try_fold(0u32, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
    })
}

/// Digits from `i` as a fraction of a second: (nanoseconds, end). One digit at least;
/// digits past the ninth must be zero.
fn fraction(b: &[u8], i: usize) -> Result<(u32, usize), Fail> {
    let mut nanos = 0u32;
    let mut j = i;
    while let Some(&d) = b.get(j).filter(|d| d.is_ascii_digit()) {
        if j - i < 9 {
            nanos = nanos * 10 + u32::from(d - b'0');
        } else if d != b'0' {
            return Err((j, "finer than a nanosecond"));
        }
        j += 1;
    }
    if j == i {
        return Err((i, "expected fraction digits"));
    }
    let scale = 9usize.saturating_sub(j - i);
    Ok((nanos * 10u32.pow(u32::try_from(scale).unwrap_or(0)), j))
}

/// `Z`, `z`, `±hh`, `±hh:mm` or `±hhmm` at `i`: (seconds east of UTC, end).
fn offset_at(b: &[u8], i: usize) -> Option<(i32, usize)> {
    let sign = match b.get(i)? {
        b'Z' | b'z' => return Some((0, i + 1)),
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let h = num(b, i + 1, 2).filter(|h| *h <= 23)?;
    let (m, end) = if b.get(i + 3) == Some(&b':') {
        (num(b, i + 4, 2)?, i + 6)
    } else {
        num(b, i + 3, 2).map_or((0, i + 3), |m| (m, i + 5))
    };
    if m > 59 {
        return None;
    }
    Some((sign * i32::try_from(h * 3600 + m * 60).ok()?, end))
}

/// An optionally signed decimal number of units of `10^scale` ns each, exactly, in ns.
fn epoch_scaled(b: &[u8], scale: u32) -> Result<i64, Fail> {
    let (neg, start) = match b.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let unit = 10i128.pow(scale);
    let mut int = 0i128;
    let mut i = start;
    while let Some(&d) = b.get(i).filter(|d| d.is_ascii_digit()) {
        int = int
            .checked_mul(10)
            .and_then(|v| v.checked_add(i128::from(d - b'0')))
            .ok_or((start, TS_RANGE))?;
        i += 1;
    }
    let mut frac = 0i128;
    if i > start && b.get(i) == Some(&b'.') && scale > 0 {
        let (nanos, end) = fraction(b, i + 1)?;
        // `nanos` is in units of 1e-9; the unit is 10^scale ns, so the fraction is in ns.
        frac = i128::from(nanos) / 10i128.pow(9 - scale);
        if i128::from(nanos) % 10i128.pow(9 - scale) != 0 {
            return Err((i + 1, "finer than a nanosecond"));
        }
        i = end;
    }
    if i == start || i != b.len() {
        return Err((
            i,
            if scale == 0 {
                "expected an integer"
            } else {
                "expected a number"
            },
        ));
    }
    let ns = int.checked_mul(unit).and_then(|v| v.checked_add(frac));
    let ns = ns.map(|v| if neg { -v } else { v });
    ns.and_then(|v| i64::try_from(v).ok())
        .ok_or((start, TS_RANGE))
}

/// Matches `b` against a strftime pattern.
fn parse_strftime(b: &[u8], spec: &[u8], tz: Timezone) -> Result<i64, Fail> {
    let mut c = Civil::date(1970, 1, 1);
    let mut offset = None;
    let mut i = 0;
    strftime_fields(b, &mut i, spec, &mut c, &mut offset)?;
    if i != b.len() {
        return Err((i, "unexpected characters after the timestamp"));
    }
    c.to_ns(offset.unwrap_or(tz.offset_s), [0; 5])
}

/// Reads the fields `spec` names from `b` at `*i`, advancing `*i`.
fn strftime_fields(
    b: &[u8],
    i: &mut usize,
    spec: &[u8],
    c: &mut Civil,
    offset: &mut Option<i32>,
) -> Result<(), Fail> {
    let mut k = 0;
    while let Some(&ch) = spec.get(k) {
        let directive = if ch == b'%' {
            spec.get(k + 1).copied()
        } else {
            None
        };
        k += if ch == b'%' { 2 } else { 1 };
        let at = *i;
        match directive {
            None if ch == b'%' => return Err((at, STRFTIME_DIRECTIVES)),
            None | Some(b'%') => {
                lit(b, at, ch, "does not match the time format")?;
                *i += 1;
            }
            Some(b'Y') => {
                c.year = num(b, at, 4).ok_or((at, "expected a 4-digit year"))?.into();
                *i += 4;
            }
            Some(b'm') => c.month = num_1_2(b, i).ok_or((at, "expected a month"))?,
            Some(b'd') => c.day = num_1_2(b, i).ok_or((at, "expected a day"))?,
            Some(b'H') => c.hour = num_1_2(b, i).ok_or((at, "expected an hour"))?,
            Some(b'M') => c.minute = num_1_2(b, i).ok_or((at, "expected minutes"))?,
            Some(b'S') => c.second = num_1_2(b, i).ok_or((at, "expected seconds"))?,
            Some(b'f') => (c.nanos, *i) = fraction(b, at)?,
            Some(b'z') => {
                let (off, end) = offset_at(b, at).ok_or((at, "expected 'Z' or an offset"))?;
                (*offset, *i) = (Some(off), end);
            }
            Some(b'T') => strftime_fields(b, i, b"%H:%M:%S", c, offset)?,
            Some(b'F') => strftime_fields(b, i, b"%Y-%m-%d", c, offset)?,
            Some(_) => return Err((at, STRFTIME_DIRECTIVES)),
        }
    }
    Ok(())
}

/// One or two ASCII digits at `*i`, advancing `*i`.
fn num_1_2(b: &[u8], i: &mut usize) -> Option<u32> {
    let n = if num(b, *i, 2).is_some() { 2 } else { 1 };
    let v = num(b, *i, n)?;
    *i += n;
    Some(v)
}

/// Formats `ts` as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
pub fn format_rfc3339_nanos(ts: i64) -> String {
    let mut out = String::with_capacity(30);
    write_rfc3339_nanos(ts, &mut out);
    out
}

/// Appends `ts` as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` to `out`.
pub fn write_rfc3339_nanos(ts: i64, out: &mut String) {
    let secs = ts.div_euclid(NS_PER_S);
    let nanos = ts.rem_euclid(NS_PER_S).unsigned_abs();
    let days = secs.div_euclid(S_PER_DAY);
    let sod = secs.rem_euclid(S_PER_DAY).unsigned_abs();
    let (year, month, day) = civil_from_days(days);
    // Every i64 lands in years 1677..=2262, so the year is four digits and positive.
    let (year, month, day) = (year.unsigned_abs(), u64::from(month), u64::from(day));
    let (hour, minute, second) = (sod / 3600, sod / 60 % 60, sod % 60);
    // One fixed-size buffer and one push: this runs once per output row.
    let mut buf = *b"0000-00-00T00:00:00.000000000Z";
    let fields = [(0, 4, year), (5, 2, month), (8, 2, day), (11, 2, hour)];
    let more = [(14, 2, minute), (17, 2, second), (20, 9, nanos)];
    for (at, width, v) in fields.into_iter().chain(more) {
        let mut v = v;
        for k in (at..at + width).rev() {
            if let Some(b) = buf.get_mut(k) {
                *b = b'0' + (v % 10) as u8;
            }
            v /= 10;
        }
    }
    out.push_str(std::str::from_utf8(&buf).unwrap_or("invalid timestamp"));
}

/// Parses `500ms`, `1h30m`, `-5s`, or integer nanoseconds. Units: ns us µs ms s m h d w.
pub fn parse_duration(s: &str) -> Result<i64> {
    duration_ns(s.trim()).map_err(|f| fail_in("duration", s, f))
}

fn duration_ns(t: &str) -> Result<i64, Fail> {
    const RANGE: &str = "outside the i64 nanosecond range (about ±292 years)";
    let neg = t.starts_with('-');
    let start = usize::from(neg || t.starts_with('+'));
    let body = t.get(start..).unwrap_or_default();
    if body.is_empty() {
        return Err((start, "expected a duration such as 500ms, 1h30m or 5m"));
    }
    let mut total = 0i128;
    let mut rest = body;
    while !rest.is_empty() {
        let at = start + body.len() - rest.len();
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (num_text, tail) = rest.split_at_checked(digits).unwrap_or_default();
        let unit_len = tail.len() - tail.trim_start_matches(char::is_alphabetic).len();
        let (unit, tail) = tail.split_at_checked(unit_len).unwrap_or_default();
        if digits == 0 {
            return Err((at, "expected a number"));
        }
        let value: i128 = num_text.parse().map_err(|_| (at, RANGE))?;
        let unit_ns: i128 = match unit {
            "" if digits == body.len() => 1,
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "d" => 86_400_000_000_000,
            "w" => 604_800_000_000_000,
            _ => return Err((at + digits, "expected a unit: ns, us, ms, s, m, h, d or w")),
        };
        total = value
            .checked_mul(unit_ns)
            .and_then(|v| total.checked_add(v))
            .filter(|v| *v <= i128::from(i64::MAX) + 1)
            .ok_or((at, RANGE))?;
        rest = tail;
    }
    i64::try_from(if neg { -total } else { total }).map_err(|_| (0, RANGE))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
/// `month` is 1..=12; `year` is within ±2^50 so nothing overflows.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date `(year, month, day)` of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`); `days` is within ±2^50 so nothing overflows.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // day is 1..=31 and month 1..=12 by construction.
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#[path = "time_tests.rs"]
mod tests;
