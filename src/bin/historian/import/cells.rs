//! Small pieces of input parsing shared by the CSV and line-protocol importers: cell
//! values, delimiter detection, the per-import series type registry and the
//! `file:line:column: reason` error form.

use std::collections::HashMap;
use std::path::Path;

use historian::{SeriesKey, ValueType};

use crate::error::CliError;

/// The error of a bad input row, located as `file:line:column`.
pub fn located(path: &Path, line: u64, column: u64, reason: impl std::fmt::Display) -> CliError {
    CliError::failure(format!("{}:{line}:{column}: {reason}", path.display()))
}

/// The delimiter of a header line: the most frequent of `,` `;` and tab (`,` on a tie
/// or when there is none).
pub fn detect_delimiter(header: &[u8]) -> u8 {
    let count = |d: u8| header.iter().filter(|&&b| b == d).count();
    let mut best = (b',', count(b','));
    for d in [b';', b'\t'] {
        let n = count(d);
        if n > best.1 {
            best = (d, n);
        }
    }
    best.0
}

/// `s` without leading and trailing ASCII whitespace.
pub fn trim(s: &[u8]) -> &[u8] {
    s.trim_ascii()
}

/// Why a cell does not parse (kept small and `Copy`: it travels through the hot loop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellError {
    /// Neither a number nor `true`/`false`.
    NotAValue,
    /// The column holds `the_type` and the cell is not one of those.
    Wrong(ValueType),
}

impl CellError {
    /// The reason, naming the cell text.
    pub fn reason(self, cell: &[u8]) -> String {
        let text = String::from_utf8_lossy(cell);
        match self {
            CellError::NotAValue => format!("{text:?} is not a number or true/false"),
            CellError::Wrong(ValueType::F64) => format!("{text:?} is not a number"),
            CellError::Wrong(ValueType::I64) => format!("{text:?} is not a 64-bit integer"),
            CellError::Wrong(ValueType::Bool) => {
                format!("{text:?} is not true/false (the column holds booleans)")
            }
        }
    }
}

/// Parses a trimmed, non-empty cell of a column whose type is `vtype` (`None` until the
/// first value fixes it, which this call then records) into the value's raw bits.
#[inline]
pub fn parse_bits(cell: &[u8], vtype: &mut Option<ValueType>) -> Result<u64, CellError> {
    match *vtype {
        Some(ValueType::F64) => parse_f64(cell)
            .map(f64::to_bits)
            .ok_or(CellError::Wrong(ValueType::F64)),
        Some(ValueType::Bool) => parse_bool(cell)
            .map(u64::from)
            .ok_or(CellError::Wrong(ValueType::Bool)),
        Some(ValueType::I64) => std::str::from_utf8(cell)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .map(|v| v as u64)
            .ok_or(CellError::Wrong(ValueType::I64)),
        None => {
            let (vt, bits) = if let Some(v) = parse_f64(cell) {
                (ValueType::F64, v.to_bits())
            } else if let Some(b) = parse_bool(cell) {
                (ValueType::Bool, u64::from(b))
            } else {
                return Err(CellError::NotAValue);
            };
            *vtype = Some(vt);
            Ok(bits)
        }
    }
}

/// An `f64` in Rust's syntax (`1.5`, `-0`, `1e3`, `inf`, `NaN`), correctly rounded.
#[inline]
pub fn parse_f64(cell: &[u8]) -> Option<f64> {
    fast_decimal(cell).or_else(|| std::str::from_utf8(cell).ok()?.parse().ok())
}

/// Exact powers of ten representable in an `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Clinger's fast path for plain decimals `[+-]?digits[.digits]`: when the digits form
/// an integer `w <= 2^53` and there are at most 22 fraction digits, `w` and `10^k` are
/// exact in an `f64`, so the one division is correctly rounded and the result is
/// bit-identical to `str::parse`. Anything else returns `None` (the caller falls back).
#[inline]
fn fast_decimal(b: &[u8]) -> Option<f64> {
    let (neg, digits) = match b.split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, b),
    };
    let (mut w, mut n, mut frac, mut dot) = (0u64, 0u32, 0usize, false);
    for &c in digits {
        if c.is_ascii_digit() {
            if n >= 19 {
                return None;
            }
            w = w * 10 + u64::from(c - b'0');
            n += 1;
            frac += usize::from(dot);
        } else if c == b'.' && !dot {
            dot = true;
        } else {
            return None;
        }
    }
    if n == 0 || w > 1 << 53 {
        return None;
    }
    let v = w as f64 / *POW10.get(frac)?;
    Some(if neg { -v } else { v })
}

/// `true` or `false`, in any ASCII case.
#[inline]
fn parse_bool(cell: &[u8]) -> Option<bool> {
    if cell.eq_ignore_ascii_case(b"true") {
        Some(true)
    } else if cell.eq_ignore_ascii_case(b"false") {
        Some(false)
    } else {
        None
    }
}

/// The value type of every series this import wrote, so a series keeps one type
/// across rows, batches and files.
#[derive(Debug, Default)]
pub struct SeriesTypes {
    map: HashMap<SeriesKey, ValueType>,
}

impl SeriesTypes {
    /// The type `key` was given, if any.
    pub fn get(&self, key: &SeriesKey) -> Option<ValueType> {
        self.map.get(key).copied()
    }

    /// Records that `key` holds `vtype`; the reason when it already holds another type.
    pub fn check(&mut self, key: &SeriesKey, vtype: ValueType) -> Result<(), String> {
        match self.map.get(key) {
            Some(&t) if t == vtype => Ok(()),
            Some(&t) => Err(format!("series {key} holds {t} values, not {vtype}")),
            None => {
                self.map.insert(key.clone(), vtype);
                Ok(())
            }
        }
    }

    /// Number of series seen.
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_delimiters() {
        assert_eq!(detect_delimiter(b"a;b;c\n"), b';');
        assert_eq!(detect_delimiter(b"a\tb\n"), b'\t');
        assert_eq!(detect_delimiter(b"a,b\n"), b',');
        assert_eq!(detect_delimiter(b"a\n"), b',');
    }

    #[test]
    fn cells_fix_their_type() {
        let mut t = None;
        assert_eq!(parse_bits(b"1.5", &mut t), Ok(1.5f64.to_bits()));
        assert_eq!(t, Some(ValueType::F64));
        assert!(parse_bits(b"true", &mut t).is_err());
        let mut t = None;
        assert_eq!(parse_bits(b"TRUE", &mut t), Ok(1));
        assert!(parse_bits(b"1", &mut t).is_err());
        assert!(parse_bits(b"x", &mut None).is_err());
    }

    #[test]
    fn fast_decimals_match_std() {
        let cases = [
            "0",
            "-0",
            "-0.0",
            "+1.5",
            "1.",
            ".5",
            "0.1",
            "0.0265878",
            "233.062",
            "9007199254740992",
            "9007199254740993",
            "123456789012345678",
            "1.2345678901234567",
            "0.0000000000000000000001",
            "00000000000000000000001",
            "1e5",
            "inf",
            "-NaN",
        ];
        for c in cases {
            let want: f64 = c.parse().unwrap_or(f64::NAN);
            let got = parse_f64(c.as_bytes()).unwrap_or(f64::NAN);
            assert_eq!(got.to_bits(), want.to_bits(), "{c}");
        }
        for bad in ["", "-", ".", "1.2.3", "1,5", "--1"] {
            assert_eq!(parse_f64(bad.as_bytes()), None, "{bad}");
        }
    }
}
