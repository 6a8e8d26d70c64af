//! Series selectors in the PromQL form: `temperature{machine="press-07",line=~"L[12]"}`.
//!
//! Owns [`Selector`] (a conjunction of label [`Matcher`]s), its parser and its text form.
//! The catalog turns a selector into series ids: [`Selector::measurement_eq`] narrows the
//! candidates through the index, [`Selector::matches`] decides each candidate.
//!
//! Invariants:
//! 1. A selector with no matchers selects every series; only `*` parses to it (`{}` is an
//!    error, so a typo cannot select, or delete, everything).
//! 2. Regex matchers are anchored as in PromQL (`^(?:re)$`) and compiled with bounded
//!    program and cache sizes, so hostile patterns fail instead of taking memory.
//! 3. A label a series lacks matches as the empty string, as in PromQL.
//! 4. `Selector::parse(&s.to_string())` selects exactly what `s` selects.
//! 5. Parsing never panics; errors are `Error::Parse` naming the byte offset and what was
//!    expected there.
//!
//! Quoting is shared with series keys (see `model::series_key::Cursor::quoted`).

use std::fmt::{self, Write as _};

use regex::{Regex, RegexBuilder};

use crate::error::{Error, Result};
use crate::model::series_key::{is_label_name, write_quoted, Cursor, SeriesKey, NAME_LABEL};

/// Upper bound on a compiled regex and on its lazy-DFA cache, each.
const REGEX_SIZE_LIMIT_BYTES: usize = 1 << 20;

/// How a matcher compares a label value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatchOp {
    /// `=`: equal.
    Eq,
    /// `!=`: not equal.
    Ne,
    /// `=~`: the whole value matches the regex.
    Re,
    /// `!~`: the whole value does not match the regex.
    NotRe,
}

impl MatchOp {
    /// The operator as written: `=`, `!=`, `=~` or `!~`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Eq => "=",
            MatchOp::Ne => "!=",
            MatchOp::Re => "=~",
            MatchOp::NotRe => "!~",
        }
    }
}

/// One `label op "value"` condition.
#[derive(Clone, Debug)]
pub struct Matcher {
    label: String,
    op: MatchOp,
    value: String,
    /// Compiled `^(?:value)$`, present exactly for `Re` and `NotRe`.
    regex: Option<Regex>,
}

impl Matcher {
    /// Builds a matcher; the label must match `[A-Za-z_][A-Za-z0-9_.-]*` and a regex
    /// value must compile within the size limit.
    pub fn new(label: impl Into<String>, op: MatchOp, value: impl Into<String>) -> Result<Self> {
        let label = label.into();
        if !is_label_name(&label) {
            let reason = format!("{label:?} does not match [A-Za-z_][A-Za-z0-9_.-]*");
            return Err(Error::invalid("label name", reason));
        }
        Matcher::build(label, op, value.into()).map_err(|r| Error::invalid("regex", r))
    }

    fn build(label: String, op: MatchOp, value: String) -> std::result::Result<Self, String> {
        let regex = match op {
            MatchOp::Eq | MatchOp::Ne => None,
            MatchOp::Re | MatchOp::NotRe => Some(compile_anchored(&value)?),
        };
        Ok(Matcher {
            label,
            op,
            value,
            regex,
        })
    }

    /// The label name (`__name__` for the measurement).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The operator.
    pub fn op(&self) -> MatchOp {
        self.op
    }

    /// The value or regex source, unescaped and unanchored.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The compiled, anchored regex of `=~` and `!~` matchers.
    pub fn regex(&self) -> Option<&Regex> {
        self.regex.as_ref()
    }

    /// True when a label with value `v` (`""` when absent) satisfies this matcher.
    pub fn matches_value(&self, v: &str) -> bool {
        match (self.op, &self.regex) {
            (MatchOp::Eq, _) => v == self.value,
            (MatchOp::Ne, _) => v != self.value,
            (MatchOp::Re, Some(re)) => re.is_match(v),
            (MatchOp::NotRe, Some(re)) => !re.is_match(v),
            // `build` always compiles a regex for these; matching nothing is the safe side.
            (MatchOp::Re | MatchOp::NotRe, None) => false,
        }
    }
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        // The regex is a function of (op, value), so it need not be compared.
        (&self.label, self.op, &self.value) == (&other.label, other.op, &other.value)
    }
}

impl Eq for Matcher {}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)?;
        f.write_str(self.op.as_str())?;
        write_quoted(f, &self.value)
    }
}

/// Compiles `^(?:src)$` with bounded sizes; the error is one line. `src` must be a regex on
/// its own too, or `a)|(b` would escape the anchors as `^(?:a)|(b)$`.
fn compile_anchored(src: &str) -> std::result::Result<Regex, String> {
    let build = |pattern: &str| {
        RegexBuilder::new(pattern)
            .size_limit(REGEX_SIZE_LIMIT_BYTES)
            .dfa_size_limit(REGEX_SIZE_LIMIT_BYTES)
            .build()
    };
    build(src)
        .and_then(|_| build(&format!("^(?:{src})$")))
        .map_err(|e| {
            let text = e.to_string();
            let line = text.lines().find_map(|l| l.strip_prefix("error: "));
            format!("invalid regex: {}", line.unwrap_or(&text).trim())
        })
}

/// A conjunction of matchers; no matchers selects every series.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    matchers: Vec<Matcher>,
}

impl Selector {
    /// The selector of every series (`*`).
    pub fn all() -> Self {
        Selector::default()
    }

    /// A selector from matchers, all of which must hold.
    pub fn new(matchers: Vec<Matcher>) -> Self {
        Selector { matchers }
    }

    /// The matchers, all of which must hold.
    pub fn matchers(&self) -> &[Matcher] {
        &self.matchers
    }

    /// True for the selector of every series.
    pub fn is_all(&self) -> bool {
        self.matchers.is_empty()
    }

    /// True when `key` satisfies every matcher.
    pub fn matches(&self, key: &SeriesKey) -> bool {
        self.matchers
            .iter()
            .all(|m| m.matches_value(key.label(&m.label).unwrap_or("")))
    }

    /// The measurement an `__name__ = "..."` matcher pins, for index lookup.
    pub fn measurement_eq(&self) -> Option<&str> {
        let m = self
            .matchers
            .iter()
            .find(|m| m.label == NAME_LABEL && m.op == MatchOp::Eq);
        m.map(|m| m.value.as_str())
    }

    /// Parses `*`, `name`, `name{matchers}` or `{matchers}`.
    pub fn parse(text: &str) -> Result<Self> {
        let mut cur = Cursor::new("selector", text);
        cur.skip_ws();
        if cur.eat(b'*') {
            cur.skip_ws();
            if !cur.at_end() {
                return Err(cur.error("expected end of input after '*'"));
            }
            return Ok(Selector::all());
        }
        let name_at = cur.pos();
        let name = cur.take_while(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':');
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(cur.error_at(name_at, "a metric name cannot begin with a digit"));
        }
        let mut matchers = Vec::new();
        if !name.is_empty() {
            let (label, value) = (NAME_LABEL.to_owned(), name.to_owned());
            matchers.push(Matcher {
                label,
                op: MatchOp::Eq,
                value,
                regex: None,
            });
        }
        cur.skip_ws();
        let brace_at = cur.pos();
        if cur.eat(b'{') {
            cur.label_set(|cur, label, label_at| {
                if !name.is_empty() && label == NAME_LABEL {
                    return Err(cur.error_at(label_at, "the metric name is given twice"));
                }
                matchers.push(parse_matcher(cur, label)?);
                Ok(())
            })?;
            if matchers.is_empty() {
                return Err(cur.error_at(brace_at, "empty selector; write * for every series"));
            }
        } else if name.is_empty() {
            return Err(cur.error("expected a metric name, '{' or '*'"));
        }
        cur.skip_ws();
        if !cur.at_end() {
            return Err(cur.error("expected end of input"));
        }
        Ok(Selector { matchers })
    }
}

/// The operator and quoted value after a label name.
fn parse_matcher(cur: &mut Cursor<'_>, label: &str) -> Result<Matcher> {
    cur.skip_ws();
    let op = if cur.eat(b'=') {
        if cur.eat(b'~') {
            MatchOp::Re
        } else {
            MatchOp::Eq
        }
    } else if cur.eat(b'!') {
        if cur.eat(b'=') {
            MatchOp::Ne
        } else if cur.eat(b'~') {
            MatchOp::NotRe
        } else {
            return Err(cur.error("expected '=' or '~' after '!'"));
        }
    } else {
        return Err(cur.error("expected one of =, !=, =~, !~"));
    };
    cur.skip_ws();
    let value_at = cur.pos();
    let value = cur.quoted()?;
    Matcher::build(label.to_owned(), op, value).map_err(|r| cur.error_at(value_at, r))
}

impl fmt::Display for Selector {
    /// `*`; or the metric name bare when it is the only `__name__` matcher, is `=` and is an
    /// identifier; everything else inside braces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.matchers.is_empty() {
            return f.write_char('*');
        }
        let mut names = self.matchers.iter().filter(|m| m.label == NAME_LABEL);
        let bare = match (names.next(), names.next()) {
            (Some(m), None) if m.op == MatchOp::Eq && is_metric_name(&m.value) => Some(m),
            _ => None,
        };
        if let Some(m) = bare {
            f.write_str(&m.value)?;
        }
        let mut rest = self
            .matchers
            .iter()
            .filter(|m| bare.is_none_or(|b| !std::ptr::eq(*m, b)));
        if let Some(first) = rest.next() {
            write!(f, "{{{first}")?;
            for m in rest {
                write!(f, ",{m}")?;
            }
            f.write_char('}')?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Selector {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Selector::parse(s)
    }
}

/// True for a PromQL metric name, `[A-Za-z_:][A-Za-z0-9_:]*`.
fn is_metric_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(m: &str, tags: &[(&str, &str)]) -> SeriesKey {
        SeriesKey::new(m, tags.iter().copied()).unwrap()
    }

    fn sel(text: &str) -> Selector {
        Selector::parse(text).unwrap()
    }

    #[test]
    fn parses_the_documented_forms() {
        let s = sel(r#"temperature{machine="press-07",line=~"L[12]"}"#);
        assert_eq!(s.measurement_eq(), Some("temperature"));
        assert_eq!(s.matchers().len(), 3);
        assert_eq!(s.matchers()[2].op(), MatchOp::Re);
        assert!(s.matches(&key(
            "temperature",
            &[("machine", "press-07"), ("line", "L2")]
        )));
        assert!(!s.matches(&key(
            "temperature",
            &[("machine", "press-07"), ("line", "L22")]
        )));
        assert!(!s.matches(&key("temperature", &[("machine", "press-07")])));
        let s = sel(r#" { __name__ = "Volume Flow RateRMS" , } "#);
        assert_eq!(s.measurement_eq(), Some("Volume Flow RateRMS"));
        assert_eq!(s.to_string(), r#"{__name__="Volume Flow RateRMS"}"#);
        let s = sel(r#"{__name__=~'Acc.*',machine!="m2"}"#);
        assert_eq!(s.measurement_eq(), None);
        assert!(s.matches(&key("Accelerometer1RMS", &[("machine", "m1")])));
        assert!(s.matches(&key("Accelerometer1RMS", &[])));
        assert!(!s.matches(&key("Accelerometer1RMS", &[("machine", "m2")])));
        assert!(!s.matches(&key("Current", &[])));
        assert!(sel(" * ").is_all() && sel("*").matches(&key("x", &[])));
        assert_eq!(sel("ns:metric_1").to_string(), "ns:metric_1");
        assert_eq!(sel("m{}").to_string(), "m");
    }

    #[test]
    fn missing_labels_are_empty_and_regexes_anchored() {
        assert!(sel(r#"m{line=""}"#).matches(&key("m", &[])));
        assert!(sel(r#"m{line!~".+"}"#).matches(&key("m", &[])));
        assert!(!sel(r#"m{line!=""}"#).matches(&key("m", &[])));
        assert!(!sel(r#"{__name__=~"emp"}"#).matches(&key("temp", &[])));
        assert!(sel(r#"{__name__=~"emp|temp"}"#).matches(&key("temp", &[])));
        assert!(sel(r#"m{k=~"a\.b"}"#).matches(&key("m", &[("k", "a.b")])));
        assert!(!sel(r#"m{k=~"a\\.b"}"#).matches(&key("m", &[("k", "axb")])));
        assert!(sel(r#"m{k="a\"b"}"#).matches(&key("m", &[("k", "a\"b")])));
    }

    #[test]
    fn errors_name_offset_and_expectation() {
        let cases = [
            ("", 0, "expected a metric name"),
            ("{}", 0, "empty selector"),
            ("m{", 2, "label name"),
            ("m{k}", 3, "=, !=, =~, !~"),
            ("m{k!x\"v\"}", 4, "'=' or '~'"),
            ("m{k=v}", 4, "quoted value"),
            ("m{k=\"v", 4, "unterminated"),
            ("m{k=\"v\" j=\"w\"}", 8, "',' or '}'"),
            ("m x", 2, "end of input"),
            ("* m", 2, "end of input"),
            ("1m", 0, "digit"),
            ("m{__name__=\"x\"}", 2, "twice"),
            ("m{k=~\"(\"}", 5, "invalid regex"),
            ("m{k=~\"a)|(b\"}", 5, "invalid regex"),
            ("m{k=~\"a{1000}{1000}\"}", 5, "invalid regex"),
        ];
        for (text, offset, want) in cases {
            match Selector::parse(text) {
                Err(Error::Parse {
                    offset: o, reason, ..
                }) => {
                    assert_eq!(o, offset, "{text}: {reason}");
                    assert!(reason.contains(want), "{text}: {reason}");
                    assert!(!reason.contains('\n'), "{text}: {reason}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(Matcher::new("1x", MatchOp::Eq, "v").is_err());
        assert!(Matcher::new("x", MatchOp::Re, "[").is_err());
    }

    fn matcher() -> impl Strategy<Value = (String, MatchOp, String)> {
        let label = prop_oneof![Just(NAME_LABEL.to_owned()), "[A-Za-z_][A-Za-z0-9_.-]{0,5}"];
        let op = prop_oneof![
            Just(MatchOp::Eq),
            Just(MatchOp::Ne),
            Just(MatchOp::Re),
            Just(MatchOp::NotRe)
        ];
        let value = prop_oneof!["[a-c:_]{0,4}", "\\PC{0,8}", "[a-c.*|\"'\\\\]{0,8}"];
        (label, op, value)
    }

    proptest! {
        #[test]
        fn display_then_parse_selects_the_same(
            ms in prop::collection::vec(matcher(), 1..5),
            keys in prop::collection::vec(("[a-c:_]{1,3}", "[a-c]{1,2}"), 1..8),
        ) {
            let matchers: Vec<Matcher> = ms
                .into_iter()
                .filter_map(|(l, op, v)| Matcher::new(l, op, v).ok())
                .collect();
            let s = Selector::new(matchers);
            let text = s.to_string();
            let back = Selector::parse(&text).unwrap();
            prop_assert_eq!(back.to_string(), text);
            let sorted = |s: &Selector| {
                let mut v: Vec<_> =
                    s.matchers().iter().map(|m| (m.label(), m.op(), m.value())).collect();
                v.sort();
                v.into_iter().map(|(l, o, v)| (l.to_owned(), o, v.to_owned())).collect::<Vec<_>>()
            };
            prop_assert_eq!(sorted(&back), sorted(&s));
            for (m, v) in keys {
                let k = key(&m, &[("a", &v)]);
                prop_assert_eq!(back.matches(&k), s.matches(&k));
            }
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}|[a-z_{}=!~,\"'\\\\ *()|.]{0,40}") {
            if let Ok(sel) = Selector::parse(&s) {
                let text = sel.to_string();
                prop_assert_eq!(Selector::parse(&text).unwrap().to_string(), text);
            }
        }
    }
}
