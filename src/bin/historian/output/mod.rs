//! Result output of `query`, `last` and `downsample`: CSV and JSON lines streamed
//! through a `BufWriter` (to stdout or `--out`), Parquet and Arrow IPC files (need
//! `--out`).
//!
//! Points (`query`, `last`) have the columns `series`, `ts`, `value` and, when any
//! point of the result carries one, `quality`; windows (`downsample`) are in
//! `windows.rs`.

mod columnar;
mod text;
mod windows;

pub use windows::{write as write_windows, write_csv as write_windows_csv};

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use historian::SeriesData;

use crate::args::{OutputArgs, OutputFormat};
use crate::error::{output_error, CliError, CliResult};

/// Output buffer size.
const BUF_BYTES: usize = 1 << 18;

/// Checks the output flags before any work (exit 2 when parquet/arrow lack `--out`).
pub fn check(args: &OutputArgs) -> CliResult {
    match (args.format, &args.out) {
        (OutputFormat::Parquet | OutputFormat::Arrow, None) => Err(CliError::usage(format!(
            "--format {} needs --out FILE",
            format_name(args.format)
        ))),
        _ => Ok(()),
    }
}

/// Writes `data` as the flags say.
pub fn write(data: &[SeriesData], args: &OutputArgs) -> CliResult {
    check(args)?;
    // CSV and JSONL columns are fixed by CLI.md: the lossy bound goes to stderr
    // (Parquet and Arrow carry it in their schema metadata too).
    for s in data {
        if let Some(l) = s.lossy {
            eprintln!(
                "note: {} is stored lossy ({l}): each value is within {} of the value written",
                s.key,
                l.bound()
            );
        }
    }
    match (args.format, args.out.as_deref()) {
        (OutputFormat::Csv | OutputFormat::Jsonl, out) => {
            let what = out.map_or("stdout".to_string(), |p| p.display().to_string());
            let mut w = destination(out)?;
            let json = args.format == OutputFormat::Jsonl;
            text::write_rows(data, &mut w, json, args.epoch)
                .and_then(|()| w.flush())
                .map_err(|e| output_error(&what, e))
        }
        (format, Some(path)) => columnar::write_file(data, path, format),
        (_, None) => check(args),
    }
}

/// Writes `data` as CSV with RFC 3339 timestamps (the demo prints through this).
pub fn write_csv(data: &[SeriesData], w: &mut impl Write) -> std::io::Result<()> {
    text::write_rows(data, w, false, false)
}

/// Schema metadata naming each lossy series' setting, as one JSON object
/// under `historian.lossy` (`{"series key": "deadband:0.5"}`); empty when none is.
pub fn lossy_metadata(data: &[SeriesData]) -> std::collections::HashMap<String, String> {
    let lossy: serde_json::Map<String, serde_json::Value> = data
        .iter()
        .filter_map(|s| Some((s.key.to_string(), s.lossy?.to_string().into())))
        .collect();
    let mut m = std::collections::HashMap::new();
    if !lossy.is_empty() {
        m.insert(
            "historian.lossy".to_string(),
            serde_json::Value::Object(lossy).to_string(),
        );
    }
    m
}

/// True when any point of `data` carries a quality.
pub fn has_quality(data: &[SeriesData]) -> bool {
    data.iter().any(|s| {
        s.cols
            .quality
            .as_ref()
            .is_some_and(|q| q.iter().any(Option::is_some))
    })
}

fn format_name(f: OutputFormat) -> &'static str {
    match f {
        OutputFormat::Csv => "csv",
        OutputFormat::Jsonl => "jsonl",
        OutputFormat::Parquet => "parquet",
        OutputFormat::Arrow => "arrow",
    }
}

/// A buffered writer to `out`, or to stdout.
fn destination(out: Option<&Path>) -> CliResult<BufWriter<Box<dyn Write>>> {
    let inner: Box<dyn Write> = match out {
        Some(path) => Box::new(File::create(path).map_err(|e| CliError::io(path.display(), e))?),
        None => Box::new(std::io::stdout().lock()),
    };
    Ok(BufWriter::with_capacity(BUF_BYTES, inner))
}
