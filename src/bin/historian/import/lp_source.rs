//! Line-protocol import: each field of a line becomes series `measurement_field` (or
//! `measurement` when the field is `value`) with the line's tags plus the `--tag` tags.
//!
//! Invariants:
//! 1. A line is converted completely (keys built, types checked) before any of its
//!    points enters the batch, so a bad line leaves the batch holding whole lines only.
//! 2. Values: floats → f64, `5i` → i64, `5u` → i64 when it fits, bools → bool; strings,
//!    unsigned values above `i64::MAX` and lines without a timestamp are errors naming
//!    `file:line:column` (columns counted in characters, 1-based).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use historian::text::lineproto::{parse_line, LpLine, LpValue};
use historian::{Point, SeriesKey, Value};

use super::cells::located;
use super::ParseState;
use crate::error::{CliError, CliResult};

/// Read buffer of the input file.
const BUF_BYTES: usize = 1 << 20;

/// Imports one line-protocol file; returns its size in bytes.
pub fn import_lp(path: &Path, st: &mut ParseState<'_>) -> CliResult<u64> {
    let file = File::open(path).map_err(|e| CliError::io(path.display(), e))?;
    let mut input = BufReader::with_capacity(BUF_BYTES, file);
    let mut text = String::new();
    let mut points: Vec<(SeriesKey, Value)> = Vec::new();
    let (mut line_no, mut bytes) = (0u64, 0u64);
    loop {
        text.clear();
        let n = input.read_line(&mut text).map_err(|e| {
            let why = format!("cannot read the line: {e}");
            located(path, line_no + 1, 1, why)
        })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        bytes += n as u64;
        let line = match parse_line(&text) {
            Ok(Some(line)) => line,
            Ok(None) => continue,
            Err(e) => return Err(located(path, line_no, e.column as u64, e.reason)),
        };
        let ts = line.timestamp.ok_or_else(|| {
            let end = text.trim_end().chars().count() as u64 + 1;
            located(path, line_no, end, "the line has no timestamp")
        })?;
        points.clear();
        convert(&line, &text, st, &mut points)
            .map_err(|(column, why)| located(path, line_no, column, why))?;
        for (key, value) in &points {
            st.out.batch().push(key, Point::new(ts, *value))?;
        }
        st.out.end_row(st.bytes_before + bytes)?;
    }
    Ok(bytes)
}

/// Builds the series key and value of every field of `line`; a failure is the column
/// to blame and the reason.
fn convert(
    line: &LpLine<'_>,
    text: &str,
    st: &mut ParseState<'_>,
    out: &mut Vec<(SeriesKey, Value)>,
) -> Result<(), (u64, String)> {
    let tags: Vec<(&str, &str)> = line
        .tags
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .chain(
            st.settings
                .tags
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .collect();
    for (field, value) in &line.fields {
        let column = field_column(text, field);
        let value = field_value(field, value).map_err(|why| (column, why))?;
        let name = if field == "value" {
            line.measurement.to_string()
        } else {
            format!("{}_{field}", line.measurement)
        };
        let key = SeriesKey::new(name, tags.iter().copied())
            .map_err(|e| (1, format!("field {field:?}: {e}")))?;
        st.series
            .check(&key, value.value_type())
            .map_err(|why| (column, why))?;
        if out.iter().any(|(k, _)| *k == key) {
            return Err((column, format!("field {field:?} is given twice")));
        }
        out.push((key, value));
    }
    Ok(())
}

/// The stored value of a field, or why it cannot be stored.
fn field_value(field: &str, value: &LpValue) -> Result<Value, String> {
    match value {
        LpValue::F64(v) => Ok(Value::F64(*v)),
        LpValue::I64(v) => Ok(Value::I64(*v)),
        LpValue::U64(v) => i64::try_from(*v).map(Value::I64).map_err(|_| {
            format!("field {field:?}: unsigned value {v} does not fit in a 64-bit integer")
        }),
        LpValue::Bool(v) => Ok(Value::Bool(*v)),
        LpValue::Str(_) => Err(format!(
            "field {field:?} is a string; only numbers and booleans can be imported"
        )),
    }
}

/// The 1-based character column where field `field` starts, best effort: the first
/// `field=` after the first unescaped space, else the start of the field set.
fn field_column(text: &str, field: &str) -> u64 {
    let set_start = field_set_start(text);
    let rest = text.get(set_start..).unwrap_or_default();
    let pattern = format!("{field}=");
    let at = rest
        .match_indices(&pattern)
        .map(|(i, _)| i)
        .find(|&i| i == 0 || matches!(rest.as_bytes().get(i - 1), Some(b',' | b' ')))
        .map_or(set_start, |i| set_start + i);
    text.get(..at).map_or(1, |s| s.chars().count() as u64 + 1)
}

/// Byte offset of the field set: after the first space not escaped by a backslash
/// (leading whitespace skipped).
fn field_set_start(text: &str) -> usize {
    let b = text.as_bytes();
    let mut i = b.len() - text.trim_start().len();
    while i < b.len() {
        match b.get(i) {
            Some(b'\\') => i += 2,
            Some(b' ') => {
                while b.get(i) == Some(&b' ') {
                    i += 1;
                }
                return i;
            }
            _ => i += 1,
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_columns() {
        assert_eq!(field_column("m,t=a x=1,s=\"v\" 5", "s"), 11);
        assert_eq!(field_column("m\\ x,t=a x=1 5", "x"), 10);
        assert_eq!(field_column("m value=1 5", "value"), 3);
    }
}
