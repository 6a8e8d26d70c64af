//! `historian import`: CSV and line-protocol files into a tenant.
//!
//! A parser thread turns the files into batches ([`pipeline`]); this thread writes them
//! and prints acks and progress. On a bad row the import stops: every row before it is
//! committed, the report shows the counts and the error names `file:line:column`.

mod cells;
mod csv_source;
mod lp_source;
mod pipeline;
mod report;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use historian::text::time::{TimeFormat, Timezone};
use historian::{Limits, SeriesKey};
use indicatif::{ProgressBar, ProgressStyle};

use self::cells::SeriesTypes;
use self::pipeline::{pipeline, BatchOut, Committed};
use self::report::ImportReport;
use crate::args::{ImportArgs, InputFormat};
use crate::context::{check_tenant_name, Context};
use crate::error::{CliError, CliResult};

/// Points kept free below the engine's batch limit for the row that fills a batch.
const ROW_ROOM: usize = 1 << 16;

/// The import flags, checked.
#[derive(Debug)]
pub struct Settings {
    pub format: Option<InputFormat>,
    pub delimiter: Option<u8>,
    pub time_column: Option<String>,
    pub time_format: TimeFormat,
    pub timezone: Timezone,
    pub tags: Vec<(String, String)>,
    pub skip_columns: Vec<String>,
}

/// What the parser thread works with.
pub struct ParseState<'a> {
    pub settings: &'a Settings,
    pub out: BatchOut,
    pub series: SeriesTypes,
    /// Bytes of the files before the current one (for the progress bar).
    pub bytes_before: u64,
}

/// Runs `import`.
pub fn run(ctx: &Context, args: &ImportArgs) -> CliResult {
    check_tenant_name(&args.tenant)?;
    let settings = settings(args)?;
    let limit = batch_limit(args.batch_points)?;
    let engine = ctx.open()?;
    let tenant = engine.tenant(&args.tenant)?;
    let progress = progress_bar(&args.files);
    let started = Instant::now();
    let (out, input) = pipeline(limit);
    let mut committed = Committed::default();
    let (parsed, written) = std::thread::scope(|scope| {
        let parser = scope.spawn(|| parse_files(&args.files, &settings, out));
        let written = input.write_all(&tenant, args.ack_lines, &progress, &mut committed);
        let parsed = parser
            .join()
            .unwrap_or_else(|_| (0, Err(CliError::failure("the parser thread panicked"))));
        (parsed, written)
    });
    progress.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let (series, parsed) = parsed;
    let error = written.err().or(parsed.err());
    let report = ImportReport {
        files: args.files.len(),
        rows: committed.rows,
        points: committed.points,
        series,
        seconds,
        error: error.as_ref().map(ToString::to_string),
    };
    report.print(args.json)?;
    match error {
        None => Ok(()),
        Some(e) => Err(CliError {
            code: e.code,
            message: format!(
                "{} (import stopped; the {} rows and {} points before it are committed)",
                e.message, committed.rows, committed.points
            ),
        }),
    }
}

/// The parser thread: every file in order; returns the number of series seen and how
/// parsing ended.
fn parse_files(files: &[PathBuf], settings: &Settings, out: BatchOut) -> (usize, CliResult) {
    let mut st = ParseState {
        settings,
        out,
        series: SeriesTypes::default(),
        bytes_before: 0,
    };
    let result = files.iter().try_for_each(|path| {
        let size = match format_of(settings, path) {
            InputFormat::Csv => csv_source::import_csv(path, &mut st)?,
            InputFormat::Lp => lp_source::import_lp(path, &mut st)?,
        };
        st.bytes_before += size;
        Ok(())
    });
    // Whole rows before an error are committed too.
    let sent = st.out.send(st.bytes_before);
    (st.series.len(), result.and(sent))
}

/// `--format`, else `lp` for `*.lp` files and `csv` otherwise.
fn format_of(settings: &Settings, path: &Path) -> InputFormat {
    settings
        .format
        .unwrap_or_else(|| match path.extension().and_then(|e| e.to_str()) {
            Some("lp") => InputFormat::Lp,
            _ => InputFormat::Csv,
        })
}

/// Checks the flags (exit 2 on a bad value).
fn settings(args: &ImportArgs) -> CliResult<Settings> {
    let delimiter = args.delimiter.as_deref().map(delimiter).transpose()?;
    let time_format =
        TimeFormat::parse(&args.time_format).map_err(|e| CliError::flag("--time-format", e))?;
    let timezone = Timezone::parse(&args.timezone).map_err(|e| CliError::flag("--timezone", e))?;
    let mut tags = Vec::new();
    for t in &args.tags {
        let (k, v) = t
            .split_once('=')
            .ok_or_else(|| CliError::usage(format!("--tag {t:?}: expected KEY=VALUE")))?;
        tags.push((k.trim().to_string(), v.trim().to_string()));
    }
    SeriesKey::new("m", tags.iter().cloned()).map_err(|e| CliError::flag("--tag", e))?;
    Ok(Settings {
        format: args.format,
        delimiter,
        time_column: args.time_column.as_ref().map(|c| c.trim().to_string()),
        time_format,
        timezone,
        tags,
        skip_columns: args
            .skip_columns
            .iter()
            .map(|c| c.trim().to_string())
            .collect(),
    })
}

/// The batch size for `--batch-points`: at most the engine's points-per-batch limit,
/// less room for the row that crosses the threshold (rows never straddle batches).
fn batch_limit(points: u64) -> CliResult<usize> {
    let max = Limits::default().max_batch_points;
    match usize::try_from(points) {
        Ok(n) if n <= max => Ok(n.min(max.saturating_sub(ROW_ROOM)).max(1)),
        _ => Err(CliError::usage(format!(
            "--batch-points {points}: the engine takes at most {max} points per batch"
        ))),
    }
}

/// A `--delimiter` value: one ASCII character, or `tab`/`\t`.
fn delimiter(text: &str) -> CliResult<u8> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if text.len() == 1 && text.is_ascii() && text != "\"" => Ok(text.as_bytes()[0]),
        _ => Err(CliError::usage(format!(
            "--delimiter {text:?}: expected one ASCII character (or `tab`)"
        ))),
    }
}

/// A progress bar over the input bytes when stdout is a terminal; hidden otherwise.
fn progress_bar(files: &[PathBuf]) -> ProgressBar {
    if !std::io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let total = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = ProgressBar::new(total);
    let template = "{spinner} importing [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
