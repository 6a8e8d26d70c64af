//! Output of `downsample`: one row per series (or group) and window.
//!
//! Columns (CLI.md): `series,window_start,<aggregates in request order>`, or with
//! `--by` `measurement,<tag>...,window_start,<aggregates>`. CSV and JSON lines follow
//! the value rules of `text.rs`; a null cell (no value: an empty window's mean, a
//! stddev below two points, a window filled with null) is an empty CSV field and JSON
//! `null`; a missing grouping tag is null too. Parquet and Arrow IPC files hold the
//! library's record batches ([`historian::query::downsample_schema`]) as they stream.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use historian::query::{AggColumn, Downsample, GroupLabel};
use historian::ValueType;

use super::text::{csv_field, push_ts, push_value};
use super::{destination, format_name};
use crate::args::{OutputArgs, OutputFormat};
use crate::error::{output_error, CliError, CliResult};

/// Streams the windows of `ds` as the flags say.
pub fn write(ds: Downsample, args: &OutputArgs) -> CliResult {
    match (args.format, args.out.as_deref()) {
        (OutputFormat::Csv | OutputFormat::Jsonl, out) => {
            let what = out.map_or("stdout".to_string(), |p| p.display().to_string());
            let mut w = destination(out)?;
            write_text(
                ds,
                &mut w,
                args.format == OutputFormat::Jsonl,
                args.epoch,
                &what,
            )?;
            w.flush().map_err(|e| output_error(&what, e))
        }
        (format, Some(path)) => write_file(ds, path, format),
        (format, None) => Err(CliError::usage(format!(
            "--format {} needs --out FILE",
            format_name(format)
        ))),
    }
}

/// Writes the windows of `ds` as CSV with RFC 3339 window starts (the demo prints
/// through this).
pub fn write_csv(ds: Downsample, w: &mut impl Write) -> CliResult {
    write_text(ds, w, false, false, "output")
}

/// The output's column names, in order.
fn header(ds: &Downsample) -> Vec<String> {
    let mut names = Vec::new();
    if ds.by().is_empty() {
        names.push("series".to_string());
    } else {
        names.push("measurement".to_string());
        names.extend(ds.by().iter().cloned());
    }
    names.push("window_start".to_string());
    names.extend(ds.aggs().iter().map(|a| a.name().to_string()));
    names
}

fn write_text(
    mut ds: Downsample,
    w: &mut impl Write,
    json: bool,
    epoch: bool,
    what: &str,
) -> CliResult {
    let names = header(&ds);
    let io = |e| output_error(what, e);
    if !json {
        let fields: Vec<_> = names.iter().map(|n| csv_field(n).into_owned()).collect();
        writeln!(w, "{}", fields.join(",")).map_err(io)?;
    }
    let keys: Vec<String> = names
        .iter()
        .map(|n| serde_json::Value::from(n.as_str()).to_string())
        .collect();
    let mut line = String::with_capacity(256);
    for piece in ds.by_ref() {
        let piece = piece?;
        let labels = label_cells(&piece.group, json);
        for row in 0..piece.len() {
            line.clear();
            let mut cells = labels.iter().map(|c| c.as_deref());
            let mut k = keys.iter();
            let mut sep = if json { "{" } else { "" };
            let mut cell = |line: &mut String, f: &dyn Fn(&mut String)| {
                line.push_str(sep);
                if json {
                    line.push_str(k.next().map_or("\"?\"", String::as_str));
                    line.push(':');
                }
                f(line);
                sep = ",";
            };
            for c in cells.by_ref() {
                cell(&mut line, &|l| {
                    l.push_str(c.unwrap_or(if json { "null" } else { "" }))
                });
            }
            let start = piece.window_start.get(row).copied().unwrap_or(0);
            cell(&mut line, &|l| push_ts(l, start, epoch, json));
            for col in &piece.columns {
                cell(&mut line, &|l| push_cell(l, col, row, json));
            }
            line.push_str(if json { "}\n" } else { "\n" });
            w.write_all(line.as_bytes()).map_err(io)?;
        }
    }
    Ok(())
}

/// The label columns of a group, already escaped for the format; `None` is null.
fn label_cells(group: &GroupLabel, json: bool) -> Vec<Option<String>> {
    let text = |s: &str| {
        if json {
            serde_json::Value::from(s).to_string()
        } else {
            csv_field(s).into_owned()
        }
    };
    match group {
        GroupLabel::Series { text: key, .. } => vec![Some(text(key))],
        GroupLabel::Tags {
            measurement,
            values,
        } => std::iter::once(Some(text(measurement)))
            .chain(values.iter().map(|v| v.as_deref().map(text)))
            .collect(),
    }
}

/// Appends cell `row` of `col` (null as an empty CSV field or JSON `null`).
fn push_cell(line: &mut String, col: &AggColumn, row: usize, json: bool) {
    let null = if json { "null" } else { "" };
    match col {
        AggColumn::Count(v) => {
            let _ = write!(line, "{}", v.get(row).copied().unwrap_or(0));
        }
        AggColumn::Float64(v) => match v.get(row).copied().flatten() {
            Some(x) => push_value(line, ValueType::F64, x.to_bits(), json),
            None => line.push_str(null),
        },
        AggColumn::Int64(v) => match v.get(row).copied().flatten() {
            Some(x) => push_value(line, ValueType::I64, x as u64, json),
            None => line.push_str(null),
        },
        AggColumn::Bool(v) => match v.get(row).copied().flatten() {
            Some(x) => push_value(line, ValueType::Bool, u64::from(x), json),
            None => line.push_str(null),
        },
    }
}

/// Writes the record batches to a Parquet (zstd) or Arrow IPC file.
fn write_file(ds: Downsample, path: &Path, format: OutputFormat) -> CliResult {
    let batches = ds.record_batches();
    let schema = batches.schema();
    super::columnar::write_batches(path, format, schema, batches.map(|b| Ok(b?)))
}
