//! CSV and JSON-lines rows: `series,ts,value[,quality]`.
//!
//! Formatting rules (CLI.md): `ts` is RFC 3339 UTC with nine fraction digits, or integer
//! nanoseconds with `--epoch`; floats use Rust's `{}` (shortest round-trip form; `NaN`,
//! `inf`, `-inf`, `-0`), which JSON lines quote when not finite; integers as integers;
//! booleans `true`/`false`. The CSV `series` field is quoted (RFC 4180) when it holds a
//! comma, a quote or a line break.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use historian::text::time::write_rfc3339_nanos;
use historian::{SeriesData, ValueType};

use super::has_quality;

/// Writes the header (CSV only) and one row per point.
pub fn write_rows(
    data: &[SeriesData],
    w: &mut impl Write,
    json: bool,
    epoch: bool,
) -> io::Result<()> {
    let quality = has_quality(data);
    if !json {
        w.write_all(if quality {
            b"series,ts,value,quality\n"
        } else {
            b"series,ts,value\n"
        })?;
    }
    let mut line = String::with_capacity(256);
    for s in data {
        let key = s.key.to_string();
        let series = if json {
            Cow::Owned(serde_json::Value::from(key.as_str()).to_string())
        } else {
            csv_field(&key)
        };
        for i in 0..s.cols.len() {
            line.clear();
            let (Some(&ts), Some(&bits)) = (s.cols.ts.get(i), s.cols.values.get(i)) else {
                continue;
            };
            let q = if quality {
                Some(s.cols.quality_at(i))
            } else {
                None
            };
            if json {
                json_line(&mut line, &series, ts, s.value_type, bits, q, epoch);
            } else {
                csv_line(&mut line, &series, ts, s.value_type, bits, q, epoch);
            }
            w.write_all(line.as_bytes())?;
        }
    }
    Ok(())
}

fn csv_line(
    line: &mut String,
    series: &str,
    ts: i64,
    vt: ValueType,
    bits: u64,
    quality: Option<Option<u8>>,
    epoch: bool,
) {
    line.push_str(series);
    line.push(',');
    push_ts(line, ts, epoch, false);
    line.push(',');
    push_value(line, vt, bits, false);
    if let Some(q) = quality {
        line.push(',');
        if let Some(q) = q {
            let _ = write!(line, "{q}");
        }
    }
    line.push('\n');
}

fn json_line(
    line: &mut String,
    series: &str,
    ts: i64,
    vt: ValueType,
    bits: u64,
    quality: Option<Option<u8>>,
    epoch: bool,
) {
    line.push_str("{\"series\":");
    line.push_str(series);
    line.push_str(",\"ts\":");
    push_ts(line, ts, epoch, true);
    line.push_str(",\"value\":");
    push_value(line, vt, bits, true);
    if let Some(q) = quality {
        line.push_str(",\"quality\":");
        match q {
            Some(q) => {
                let _ = write!(line, "{q}");
            }
            None => line.push_str("null"),
        }
    }
    line.push_str("}\n");
}

/// Appends a timestamp: RFC 3339 (quoted in JSON) or integer ns with `epoch`.
pub fn push_ts(line: &mut String, ts: i64, epoch: bool, json: bool) {
    if epoch {
        let _ = write!(line, "{ts}");
    } else if json {
        line.push('"');
        write_rfc3339_nanos(ts, line);
        line.push('"');
    } else {
        write_rfc3339_nanos(ts, line);
    }
}

/// Appends a value; JSON quotes NaN and the infinities.
pub fn push_value(line: &mut String, vt: ValueType, bits: u64, json: bool) {
    // Writing into a String cannot fail.
    let _ = match vt {
        ValueType::F64 => {
            let v = f64::from_bits(bits);
            if json && !v.is_finite() {
                write!(line, "\"{v}\"")
            } else {
                write!(line, "{v}")
            }
        }
        ValueType::I64 => write!(line, "{}", bits as i64),
        ValueType::Bool => write!(line, "{}", bits != 0),
    };
}

/// `s` as one CSV field (RFC 4180 quoting when needed).
pub fn csv_field(s: &str) -> Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_values() {
        let f = |v: f64, json: bool| {
            let mut s = String::new();
            push_value(&mut s, ValueType::F64, v.to_bits(), json);
            s
        };
        assert_eq!(f(f64::NAN, false), "NaN");
        assert_eq!(f(f64::NEG_INFINITY, true), "\"-inf\"");
        assert_eq!(f(-0.0, false), "-0");
        assert_eq!(f(0.1, true), "0.1");
        assert_eq!(csv_field("a{b=\"x,y\"}"), "\"a{b=\"\"x,y\"\"}\"");
    }
}
