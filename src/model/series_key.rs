//! Series keys: a measurement name plus sorted tags, and their one canonical text form.
//!
//! Owns [`SeriesKey`], its validation, its canonical text `measurement{k1="v1",k2="v2"}`
//! and the parser of that text. Also owns the small lexer ([`Cursor`]) for label sets
//! (`{name="value",...}`), which the selector parser reuses so both accept the same quoting.
//!
//! Invariants:
//! 1. The measurement is non-empty, has no `{`, `}`, `"`, `\` or control characters, and
//!    does not begin or end with whitespace (so its text form is unambiguous).
//! 2. Tag keys match `[A-Za-z_][A-Za-z0-9_.-]*`, are not `__name__`, are unique and sorted.
//! 3. Tag values are non-empty (PromQL reads an empty value as an absent label) and have no
//!    control characters.
//! 4. `SeriesKey::parse(&k.to_string()) == Ok(k)` for every valid key `k`; the derived
//!    ordering (measurement, then tags) is the order series are listed in.
//! 5. Parsing never panics; failures are `Error::Parse` naming the byte offset.
//!
//! Callers bound key sizes (tag counts, value lengths); this module only checks form.

use std::fmt::{self, Write as _};

use crate::error::{Error, Result};
use crate::text::time::parse_error;

/// The label name under which PromQL selectors see the measurement.
pub const NAME_LABEL: &str = "__name__";

/// One series' identity: measurement plus tags sorted by key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    measurement: String,
    tags: Vec<(String, String)>,
}

impl SeriesKey {
    /// Validates and builds a key; the tags may come in any order.
    pub fn new<I, K, V>(measurement: impl Into<String>, tags: I) -> Result<Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let measurement = measurement.into();
        check_measurement(&measurement)
            .map_err(|r| Error::invalid("measurement", format!("{measurement:?} {r}")))?;
        let mut tags: Vec<(String, String)> = tags
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        for (k, v) in &tags {
            check_tag_key(k).map_err(|r| Error::invalid("tag key", format!("{k:?} {r}")))?;
            check_tag_value(v)
                .map_err(|r| Error::invalid("tag value", format!("{v:?} of tag {k:?} {r}")))?;
        }
        tags.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if let Some((key, _)) = later_duplicate(&tags, |t| &t.0) {
            return Err(Error::invalid("tag key", format!("{key:?} is given twice")));
        }
        Ok(SeriesKey { measurement, tags })
    }

    /// The measurement name.
    pub fn measurement(&self) -> &str {
        &self.measurement
    }

    /// The tags, sorted by key.
    pub fn tags(&self) -> &[(String, String)] {
        &self.tags
    }

    /// The value of tag `key`.
    pub fn tag(&self, key: &str) -> Option<&str> {
        let i = self
            .tags
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()?;
        self.tags.get(i).map(|(_, v)| v.as_str())
    }

    /// The value of label `name` as selectors see it: `__name__` is the measurement.
    pub fn label(&self, name: &str) -> Option<&str> {
        if name == NAME_LABEL {
            Some(&self.measurement)
        } else {
            self.tag(name)
        }
    }

    /// Parses the canonical form, or `{__name__="m",k="v"}`; whitespace between tokens and
    /// single-quoted values are accepted too.
    pub fn parse(text: &str) -> Result<Self> {
        let mut cur = Cursor::new("series key", text);
        cur.skip_ws();
        let name_at = cur.pos();
        let name = cur.take_while(|b| b != b'{').trim_end();
        let mut measurement = (!name.is_empty()).then(|| (name.to_owned(), name_at));
        let mut tags: Vec<(String, String, usize)> = Vec::new();
        if cur.eat(b'{') {
            cur.label_set(|cur, label, label_at| {
                cur.skip_ws();
                cur.expect(b'=', "'=' (a series key has only = matchers)")?;
                cur.skip_ws();
                let value_at = cur.pos();
                let value = cur.quoted()?;
                if label != NAME_LABEL {
                    check_tag_key(label)
                        .map_err(|r| cur.error_at(label_at, format!("tag key {r}")))?;
                    check_tag_value(&value)
                        .map_err(|r| cur.error_at(value_at, format!("tag value {r}")))?;
                    tags.push((label.to_owned(), value, label_at));
                } else if measurement.is_none() {
                    measurement = Some((value, value_at));
                } else {
                    return Err(cur.error_at(label_at, "the measurement is given twice"));
                }
                Ok(())
            })?;
        }
        cur.skip_ws();
        if !cur.at_end() {
            return Err(cur.error("expected end of input after '}'"));
        }
        let (measurement, at) = measurement.ok_or_else(|| cur.error_at(0, "no measurement"))?;
        check_measurement(&measurement)
            .map_err(|r| cur.error_at(at, format!("measurement {r}")))?;
        tags.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.2.cmp(&b.2)));
        if let Some((_, _, at)) = later_duplicate(&tags, |t| &t.0) {
            return Err(cur.error_at(*at, "this tag key is given twice"));
        }
        let tags = tags.into_iter().map(|(k, v, _)| (k, v)).collect();
        Ok(SeriesKey { measurement, tags })
    }
}

impl fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.measurement)?;
        if self.tags.is_empty() {
            return Ok(());
        }
        f.write_char('{')?;
        for (i, (k, v)) in self.tags.iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            f.write_str(k)?;
            f.write_char('=')?;
            write_quoted(f, v)?;
        }
        f.write_char('}')
    }
}

impl std::str::FromStr for SeriesKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        SeriesKey::parse(s)
    }
}

fn check_measurement(m: &str) -> std::result::Result<(), &'static str> {
    if m.is_empty() {
        Err("is empty")
    } else if m
        .chars()
        .any(|c| matches!(c, '{' | '}' | '"' | '\\') || c.is_control())
    {
        Err("contains {, }, \", \\ or a control character")
    } else if m.starts_with(char::is_whitespace) || m.ends_with(char::is_whitespace) {
        Err("begins or ends with whitespace")
    } else {
        Ok(())
    }
}

fn check_tag_key(k: &str) -> std::result::Result<(), &'static str> {
    if k == NAME_LABEL {
        Err("is reserved for the measurement")
    } else if !is_label_name(k) {
        Err("does not match [A-Za-z_][A-Za-z0-9_.-]*")
    } else {
        Ok(())
    }
}

fn check_tag_value(v: &str) -> std::result::Result<(), &'static str> {
    if v.is_empty() {
        Err("is empty (an empty tag value means no tag)")
    } else if v.chars().any(char::is_control) {
        Err("contains a control character")
    } else {
        Ok(())
    }
}

/// In a slice sorted by `key`, the later of the first two entries with equal keys.
fn later_duplicate<T>(sorted: &[T], key: impl Fn(&T) -> &String) -> Option<&T> {
    sorted.windows(2).find_map(|w| match w {
        [a, b] if key(a) == key(b) => Some(b),
        _ => None,
    })
}

/// True when `s` matches `[A-Za-z_][A-Za-z0-9_.-]*`, the grammar of tag keys and labels.
pub(crate) fn is_label_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Writes `s` in double quotes with `\` and `"` escaped, the form [`Cursor::quoted`] reads.
pub(crate) fn write_quoted(out: &mut impl fmt::Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in s.chars() {
        if matches!(c, '\\' | '"') {
            out.write_char('\\')?;
        }
        out.write_char(c)?;
    }
    out.write_char('"')
}

/// A position in a label-set text, with the helpers the series-key and selector grammars
/// share. Offsets are bytes into the whole text; positions only ever land on char
/// boundaries because every stop byte is ASCII.
pub(crate) struct Cursor<'a> {
    what: &'static str,
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(what: &'static str, text: &'a str) -> Self {
        Cursor { what, text, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or_default()
    }

    pub(crate) fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// Consumes the ASCII byte `b` if it is next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        let hit = self.text.as_bytes().get(self.pos) == Some(&b);
        self.pos += usize::from(hit);
        hit
    }

    pub(crate) fn expect(&mut self, b: u8, expected: &str) -> Result<()> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.error(format!("expected {expected}")))
        }
    }

    /// Consumes bytes while `keep` holds; `keep` must reject the ASCII byte it stops at
    /// and accept every non-ASCII byte or none, so the result is whole characters.
    pub(crate) fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &'a str {
        let rest = self.rest();
        let n = rest.bytes().take_while(|b| keep(*b)).count();
        self.pos += n;
        rest.get(..n).unwrap_or_default()
    }

    /// A label name (`[A-Za-z_][A-Za-z0-9_.-]*`).
    pub(crate) fn label_name(&mut self) -> Result<&'a str> {
        let name =
            self.take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if is_label_name(name) {
            Ok(name)
        } else {
            self.pos -= name.len();
            Err(self.error("expected a label name ([A-Za-z_][A-Za-z0-9_.-]*)"))
        }
    }

    /// A value in double or single quotes. `\\` and `\` before either quote are escapes;
    /// any other backslash is kept, so regexes such as `"L\d"` pass through unchanged.
    pub(crate) fn quoted(&mut self) -> Result<String> {
        let open_at = self.pos;
        let quote = match self.rest().chars().next() {
            Some(q @ ('"' | '\'')) => q,
            _ => return Err(self.error("expected a quoted value (\"...\" or '...')")),
        };
        let mut out = String::new();
        let mut chars = self.rest().char_indices().skip(1);
        while let Some((i, c)) = chars.next() {
            if c == quote {
                self.pos += i + 1;
                return Ok(out);
            }
            if c == '\\' {
                if let Some((_, n)) = chars.clone().next().filter(|(_, n)| "\\\"'".contains(*n)) {
                    chars.next();
                    out.push(n);
                    continue;
                }
            }
            out.push(c);
        }
        Err(self.error_at(open_at, "unterminated quoted value"))
    }

    /// The body of `{ item, item, ... }` after the `{`, through the `}`; `item` parses what
    /// follows each label name (given with its offset). A trailing comma is allowed.
    pub(crate) fn label_set(
        &mut self,
        mut item: impl FnMut(&mut Self, &'a str, usize) -> Result<()>,
    ) -> Result<()> {
        loop {
            self.skip_ws();
            if self.eat(b'}') {
                return Ok(());
            }
            let at = self.pos;
            let label = self.label_name()?;
            item(self, label, at)?;
            self.skip_ws();
            if !self.eat(b',') {
                return self.expect(b'}', "',' or '}'");
            }
        }
    }

    pub(crate) fn error(&self, reason: impl Into<String>) -> Error {
        self.error_at(self.pos, reason)
    }

    pub(crate) fn error_at(&self, offset: usize, reason: impl Into<String>) -> Error {
        parse_error(self.what, self.text, offset, reason)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(m: &str, tags: &[(&str, &str)]) -> SeriesKey {
        SeriesKey::new(m, tags.iter().copied()).unwrap()
    }

    #[test]
    fn canonical_text() {
        let k = key(
            "temperature",
            &[("sensor", "thermo-2"), ("line", "L1"), ("machine", "p")],
        );
        assert_eq!(
            k.to_string(),
            r#"temperature{line="L1",machine="p",sensor="thermo-2"}"#
        );
        assert_eq!(
            key("Volume Flow RateRMS", &[]).to_string(),
            "Volume Flow RateRMS"
        );
        let k = key("m", &[("k", r#"a"b\c"#)]);
        assert_eq!(k.to_string(), r#"m{k="a\"b\\c"}"#);
        assert_eq!(k.tag("k"), Some(r#"a"b\c"#));
        assert_eq!(k.label("__name__"), Some("m"));
        assert_eq!(k.label("nope"), None);
    }

    #[test]
    fn parses_every_accepted_form() {
        let want = key("Volume Flow RateRMS", &[("machine", "m1"), ("line", "L 1")]);
        for text in [
            r#"Volume Flow RateRMS{machine="m1",line="L 1"}"#,
            r#"  Volume Flow RateRMS  { line = 'L 1' , machine="m1", }  "#,
            r#"{__name__="Volume Flow RateRMS",machine="m1",line="L 1"}"#,
            r#"{line="L 1",__name__='Volume Flow RateRMS',machine="m1"}"#,
        ] {
            assert_eq!(SeriesKey::parse(text).unwrap(), want, "{text}");
        }
        assert_eq!(SeriesKey::parse("cpu").unwrap(), key("cpu", &[]));
        assert_eq!(SeriesKey::parse("cpu{}").unwrap(), key("cpu", &[]));
    }

    #[test]
    fn rejects_bad_keys() {
        let bad_new: [(&str, &[(&str, &str)]); 8] = [
            ("", &[]),
            ("a{b", &[]),
            ("a\"", &[]),
            (" a", &[]),
            ("a", &[("__name__", "x")]),
            ("a", &[("1x", "v")]),
            ("a", &[("k", "")]),
            ("a", &[("k", "v"), ("k", "w")]),
        ];
        for (m, tags) in bad_new {
            let e = SeriesKey::new(m, tags.iter().copied()).unwrap_err();
            assert!(
                matches!(e, Error::InvalidArgument { .. }),
                "{m:?} {tags:?}: {e}"
            );
        }
        assert!(SeriesKey::new("a", [("k", "line\nbreak")]).is_err());
        let bad_parse = [
            ("", 0),
            ("m{k=\"v\"", 7),
            ("m{k=v}", 4),
            ("m{k!=\"v\"}", 3),
            ("m{k=\"v\"} x", 9),
            ("m{__name__=\"x\"}", 2),
            ("m{b=\"1\",a=\"2\",b=\"3\"}", 14),
            ("m{k=\"\"}", 4),
            ("{k=\"v\"}", 0),
            ("m{k=\"v\" j=\"w\"}", 8),
        ];
        for (text, offset) in bad_parse {
            match SeriesKey::parse(text) {
                Err(Error::Parse { offset: o, .. }) => assert_eq!(o, offset, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof!["\\PC{1,12}", "[a -~é😀\"'\\\\{}]{1,12}"]
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(
            m in text(),
            tags in prop::collection::vec(("[A-Za-z_][A-Za-z0-9_.-]{0,6}", text()), 0..5),
        ) {
            if let Ok(k) = SeriesKey::new(m, tags) {
                prop_assert_eq!(SeriesKey::parse(&k.to_string()).unwrap(), k);
            }
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}|[a-z{}=,\"'\\\\ ]{0,40}") {
            if let Ok(k) = SeriesKey::parse(&s) {
                prop_assert_eq!(SeriesKey::parse(&k.to_string()).unwrap(), k);
            }
        }
    }
}
