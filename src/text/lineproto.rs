//! InfluxDB line protocol, one line at a time:
//! `measurement[,tag=value...] field=value[,field=value...] [timestamp_ns]`.
//!
//! Owns the lexing of a line into [`LpLine`]; turning fields into series (`measurement_field`)
//! is the importer's job. Names borrow from the line unless they held escapes.
//!
//! Invariants:
//! 1. Escapes follow InfluxDB: `\,` `\ ` and `\\` in measurements; `\,` `\=` `\ ` and `\\`
//!    in tag keys, tag values and field keys; `\"` and `\\` in string values. A backslash
//!    before any other character is kept as a literal backslash.
//! 2. Field values: floats (`1.5`, `1e3`, `-0.0`; not `NaN` or `inf`), `5i` (i64), `5u`
//!    (u64), bools (`t T true True TRUE f F false False FALSE`), `"strings"`.
//! 3. Measurement, tag keys, tag values and field keys are non-empty; at least one field.
//! 4. `parse_line` never panics; an error names the 1-based column, counted in characters.
//!
//! Callers split the input into lines; a trailing `\r` or `\n` is ignored. Duplicate tag or
//! field keys are passed through for the caller to judge.

use std::borrow::Cow;
use std::fmt;

/// One parsed line.
#[derive(Clone, Debug, PartialEq)]
pub struct LpLine<'a> {
    pub measurement: Cow<'a, str>,
    pub tags: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    pub fields: Vec<(Cow<'a, str>, LpValue)>,
    /// Nanoseconds since the epoch, when the line gives one.
    pub timestamp: Option<i64>,
}

/// A field value.
#[derive(Clone, Debug, PartialEq)]
pub enum LpValue {
    F64(f64),
    I64(i64),
    U64(u64),
    Bool(bool),
    Str(String),
}

/// Why a line does not parse, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LpError {
    /// 1-based column of the offending character, counted in characters.
    pub column: usize,
    pub reason: String,
}

impl fmt::Display for LpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.reason)
    }
}

impl std::error::Error for LpError {}

/// Parses one line; `Ok(None)` for blank lines and `#` comments.
pub fn parse_line(line: &str) -> Result<Option<LpLine<'_>>, LpError> {
    let body = line.trim_end_matches(['\r', '\n']);
    let mut p = Parser { line: body, pos: 0 };
    while matches!(p.peek(), Some(b' ' | b'\t')) {
        p.pos += 1;
    }
    if p.at_end() || p.peek() == Some(b'#') {
        return Ok(None);
    }
    let measurement = p.name(Kind::Measurement)?;
    let mut tags = Vec::new();
    while p.eat(b',') {
        let key = p.name(Kind::Key)?;
        p.expect(b'=', "expected '=' after the tag key")?;
        tags.push((key, p.name(Kind::TagValue)?));
    }
    if !p.skip_spaces() {
        return Err(p.fail(
            p.pos,
            "expected ',' or a space after the measurement and tags",
        ));
    }
    let mut fields = Vec::new();
    loop {
        let key = p.name(Kind::Key)?;
        p.expect(b'=', "expected '=' after the field key")?;
        fields.push((key, p.field_value()?));
        if !p.eat(b',') {
            break;
        }
    }
    let had_space = p.skip_spaces();
    let timestamp = if p.at_end() {
        None
    } else if had_space {
        Some(p.timestamp()?)
    } else {
        return Err(p.fail(p.pos, "expected ',' or a space after the field value"));
    };
    Ok(Some(LpLine {
        measurement,
        tags,
        fields,
        timestamp,
    }))
}

/// Which kind of name is being read: it decides the terminators and the escapes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Measurement,
    Key,
    TagValue,
}

impl Kind {
    fn ends_at(self, b: u8) -> bool {
        b == b',' || b == b' ' || (b == b'=' && self != Kind::Measurement)
    }

    fn escapes(self, c: char) -> bool {
        matches!(c, ',' | ' ' | '\\') || (c == '=' && self != Kind::Measurement)
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Measurement => "measurement",
            Kind::Key => "key",
            Kind::TagValue => "tag value",
        }
    }
}

struct Parser<'a> {
    line: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.line.len()
    }

    fn peek(&self) -> Option<u8> {
        self.line.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.pos += usize::from(hit);
        hit
    }

    /// Skips spaces; true when there were any.
    fn skip_spaces(&mut self) -> bool {
        let start = self.pos;
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
        self.pos > start
    }

    fn expect(&mut self, b: u8, reason: &str) -> Result<(), LpError> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.fail(self.pos, reason))
        }
    }

    fn fail(&self, byte_at: usize, reason: impl Into<String>) -> LpError {
        let before = self
            .line
            .get(..byte_at)
            .map_or(byte_at, |s| s.chars().count());
        LpError {
            column: before + 1,
            reason: reason.into(),
        }
    }

    /// The slice from `start` to the current position (always whole characters, as every
    /// stop byte is ASCII).
    fn since(&self, start: usize) -> &'a str {
        self.line.get(start..self.pos).unwrap_or_default()
    }

    /// A non-empty name up to its first unescaped terminator, unescaped.
    fn name(&mut self, kind: Kind) -> Result<Cow<'a, str>, LpError> {
        let start = self.pos;
        let mut escaped = false;
        while let Some(b) = self.peek() {
            if kind.ends_at(b) {
                break;
            }
            if b == b'\\' {
                let next = self.line.get(self.pos + 1..).and_then(|s| s.chars().next());
                if next.is_some_and(|c| kind.escapes(c)) {
                    escaped = true;
                    self.pos += 1;
                }
            }
            self.pos += 1;
        }
        let raw = self.since(start);
        if raw.is_empty() {
            return Err(self.fail(start, format!("expected a {}", kind.label())));
        }
        if !escaped {
            return Ok(Cow::Borrowed(raw));
        }
        Ok(Cow::Owned(unescape(raw, |c| kind.escapes(c))))
    }

    fn field_value(&mut self) -> Result<LpValue, LpError> {
        let start = self.pos;
        if self.eat(b'"') {
            while let Some(b) = self.peek() {
                self.pos += 1;
                match b {
                    b'"' => {
                        let inner = self.line.get(start + 1..self.pos - 1).unwrap_or_default();
                        return Ok(LpValue::Str(unescape(inner, |c| c == '"' || c == '\\')));
                    }
                    b'\\' if matches!(self.peek(), Some(b'"' | b'\\')) => self.pos += 1,
                    _ => {}
                }
            }
            return Err(self.fail(start, "unterminated string value"));
        }
        while self.peek().is_some_and(|b| b != b',' && b != b' ') {
            self.pos += 1;
        }
        let token = self.since(start);
        scalar(token).ok_or_else(|| {
            let why = if token.is_empty() {
                "expected a field value"
            } else {
                "invalid field value"
            };
            self.fail(
                start,
                format!("{why} {token:?} (float, 5i, 5u, true/false or \"string\")"),
            )
        })
    }

    fn timestamp(&mut self) -> Result<i64, LpError> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b != b' ') {
            self.pos += 1;
        }
        let token = self.since(start);
        let ts = token.parse::<i64>().map_err(|e| {
            let range = matches!(
                e.kind(),
                std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
            );
            let why = if range {
                "is outside the i64 range"
            } else {
                "is not an integer"
            };
            self.fail(
                start,
                format!("timestamp {token:?} {why} (nanoseconds expected)"),
            )
        })?;
        self.skip_spaces();
        if !self.at_end() {
            return Err(self.fail(self.pos, "unexpected text after the timestamp"));
        }
        Ok(ts)
    }
}

/// Removes the backslash before each character `escapes` accepts.
fn unescape(raw: &str, escapes: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&n) = chars.peek().filter(|n| escapes(**n)) {
                chars.next();
                out.push(n);
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// A non-string field value, or `None`.
fn scalar(token: &str) -> Option<LpValue> {
    match token {
        "t" | "T" | "true" | "True" | "TRUE" => return Some(LpValue::Bool(true)),
        "f" | "F" | "false" | "False" | "FALSE" => return Some(LpValue::Bool(false)),
        _ => {}
    }
    if let Some(int) = token.strip_suffix('i') {
        return int.parse().ok().map(LpValue::I64);
    }
    if let Some(uint) = token.strip_suffix('u') {
        return uint.parse().ok().map(LpValue::U64);
    }
    // `f64::from_str` also takes `inf`, `NaN` and `infinity`, which line protocol does not.
    let numeric = token
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !numeric || !token.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse().ok().map(LpValue::F64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(text: &str) -> LpLine<'_> {
        parse_line(text).unwrap().unwrap()
    }

    fn err(text: &str) -> LpError {
        parse_line(text).unwrap_err()
    }

    #[test]
    fn parses_a_full_line() {
        let text = concat!(
            r"machine\ data,site=a\,b,line=L\=1 ",
            r#"temp=21.5,n=5i,u=7u,on=T,s="x \"y\" \\" 1583748873000000000"#,
            "\r\n"
        );
        let l = line(text);
        assert_eq!(l.measurement, "machine data");
        assert_eq!(
            l.tags,
            [("site".into(), "a,b".into()), ("line".into(), "L=1".into())]
        );
        assert_eq!(l.fields[0], ("temp".into(), LpValue::F64(21.5)));
        assert_eq!(l.fields[1].1, LpValue::I64(5));
        assert_eq!(l.fields[2].1, LpValue::U64(7));
        assert_eq!(l.fields[3].1, LpValue::Bool(true));
        assert_eq!(l.fields[4].1, LpValue::Str("x \"y\" \\".into()));
        assert_eq!(l.timestamp, Some(1_583_748_873_000_000_000));
        assert!(matches!(l.measurement, Cow::Owned(_)));
        assert!(matches!(line("cpu v=1").measurement, Cow::Borrowed("cpu")));
    }

    #[test]
    fn value_forms() {
        let v = |t: &str| line(&format!("m v={t}")).fields[0].1.clone();
        assert_eq!(v("1e3"), LpValue::F64(1000.0));
        assert!(matches!(v("-0.0"), LpValue::F64(z) if z == 0.0 && z.is_sign_negative()));
        assert_eq!(v("-5i"), LpValue::I64(-5));
        assert_eq!(v("18446744073709551615u"), LpValue::U64(u64::MAX));
        for t in ["t", "T", "true", "True", "TRUE"] {
            assert_eq!(v(t), LpValue::Bool(true), "{t}");
        }
        for f in ["f", "F", "false", "False", "FALSE"] {
            assert_eq!(v(f), LpValue::Bool(false), "{f}");
        }
        assert_eq!(v("\"a,b c=d\""), LpValue::Str("a,b c=d".into()));
        assert_eq!(line("m,k=a\\b v=1").tags[0].1, "a\\b");
        assert_eq!(line("  m v=1 -5 ").timestamp, Some(-5));
        assert_eq!(line("m v=1").timestamp, None);
    }

    #[test]
    fn blank_and_comment_lines() {
        for text in ["", "   ", "\n", "# comment", "  # x y=1"] {
            assert_eq!(parse_line(text).unwrap(), None, "{text:?}");
        }
    }

    #[test]
    fn errors_name_the_column() {
        let cases = [
            ("m", 2, "space"),
            ("m ", 3, "key"),
            (",k=v f=1", 1, "measurement"),
            ("m,k v=1", 4, "'='"),
            ("m,k= v=1", 5, "tag value"),
            ("m v", 4, "'='"),
            ("m v=", 5, "expected a field value"),
            ("m v=NaN", 5, "invalid field value"),
            ("m v=inf", 5, "invalid field value"),
            ("m v=1.5i", 5, "invalid"),
            ("m v=-1u", 5, "invalid"),
            ("m v=\"abc", 5, "unterminated"),
            ("m v=\"x\"y", 8, "after the field value"),
            ("é v=1 12x", 7, "not an integer"),
            ("m v=1 9223372036854775808", 7, "outside"),
            ("m v=1 1 2", 9, "after the timestamp"),
        ];
        for (text, column, want) in cases {
            let e = err(text);
            assert_eq!(e.column, column, "{text:?}: {e}");
            assert!(e.reason.contains(want), "{text:?}: {e}");
        }
        assert_eq!(err("m v=x").to_string().split(':').next(), Some("column 5"));
    }

    fn esc(s: &str, specials: &str) -> String {
        let mut out = String::new();
        for c in s.chars() {
            if c == '\\' || specials.contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
        out
    }

    fn format_line(l: &LpLine<'_>) -> String {
        let mut out = esc(&l.measurement, ", ");
        for (k, v) in &l.tags {
            out += &format!(",{}={}", esc(k, ", ="), esc(v, ", ="));
        }
        for (i, (k, v)) in l.fields.iter().enumerate() {
            out += if i == 0 { " " } else { "," };
            out += &esc(k, ", =");
            out += &match v {
                LpValue::F64(f) => format!("={f:?}"),
                LpValue::I64(n) => format!("={n}i"),
                LpValue::U64(n) => format!("={n}u"),
                LpValue::Bool(b) => format!("={b}"),
                LpValue::Str(s) => format!("=\"{}\"", esc(s, "\"")),
            };
        }
        if let Some(ts) = l.timestamp {
            out += &format!(" {ts}");
        }
        out
    }

    fn name() -> impl Strategy<Value = String> {
        prop_oneof!["\\PC{1,8}", "[a-c ,=\\\\\"'#é😀]{1,8}"]
    }

    fn value() -> impl Strategy<Value = LpValue> {
        prop_oneof![
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(LpValue::F64),
            any::<i64>().prop_map(LpValue::I64),
            any::<u64>().prop_map(LpValue::U64),
            any::<bool>().prop_map(LpValue::Bool),
            "[^\r\n]{0,10}".prop_map(LpValue::Str),
        ]
    }

    proptest! {
        #[test]
        fn format_then_parse_gives_the_same_values(
            m in name().prop_filter("comment", |m| !m.starts_with('#')),
            tags in prop::collection::vec((name(), name()), 0..4),
            fields in prop::collection::vec((name(), value()), 1..4),
            timestamp in any::<Option<i64>>(),
        ) {
            let want = LpLine {
                measurement: m.into(),
                tags: tags.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
                fields: fields.into_iter().map(|(k, v)| (k.into(), v)).collect(),
                timestamp,
            };
            let text = format_line(&want);
            let got = parse_line(&text).unwrap().unwrap();
            prop_assert_eq!(&got, &want, "{}", text);
            for ((_, a), (_, b)) in got.fields.iter().zip(&want.fields) {
                if let (LpValue::F64(a), LpValue::F64(b)) = (a, b) {
                    prop_assert_eq!(a.to_bits(), b.to_bits());
                }
            }
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}|[a-c ,=\\\\\"#0-9.eiutf-]{0,40}") {
            let _ = parse_line(&s);
        }
    }
}
