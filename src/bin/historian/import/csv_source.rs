//! CSV import: a header row, one time column, every other column one series.
//!
//! The hot loop reads into one reused `csv::ByteRecord`, parses the timestamp with the
//! library's hand-written parser, and pushes each cell through a batch slot resolved
//! once per column and batch, so no series key is hashed per point.
//!
//! Invariants:
//! 1. A row is parsed completely before any of its points enters the batch, so a bad
//!    cell leaves the batch holding whole rows only.
//! 2. A column's type is fixed by its first non-empty cell (or by the type the series
//!    got earlier in this import); a later cell of another type is a bad cell.
//! 3. Line numbers are the CSV reader's (1-based, header = line 1); columns are 1-based
//!    field positions.

use std::fs::File;
use std::io::{BufRead, BufReader, Chain, Cursor, Read};
use std::path::Path;

use csv::ByteRecord;
use historian::text::time::parse_timestamp_as;
use historian::{Point, SeriesKey, Value, ValueType};

use super::cells::{detect_delimiter, located, parse_bits, trim};
use super::ParseState;
use crate::error::{CliError, CliResult};

type Input = Chain<Cursor<Vec<u8>>, BufReader<File>>;

/// Read buffer of the input file and of the CSV reader.
const BUF_BYTES: usize = 1 << 20;

/// One value column.
struct Column {
    field: usize,
    name: String,
    key: SeriesKey,
    vtype: Option<ValueType>,
    /// Slot of `key` in the current batch.
    slot: Option<usize>,
}

/// The per-file state of the row loop.
struct CsvFile<'a> {
    path: &'a Path,
    time_field: usize,
    columns: Vec<Column>,
    /// The parsed cells of the current row as raw bits, one per column, and whether
    /// the cell held a value (plain vectors: the hot loop moves no enums around).
    bits: Vec<u64>,
    present: Vec<bool>,
}

/// Imports one CSV file; returns its size in bytes.
pub fn import_csv(path: &Path, st: &mut ParseState<'_>) -> CliResult<u64> {
    let (mut reader, size) = open_reader(path, st.settings.delimiter)?;
    let headers = reader
        .byte_headers()
        .map_err(|e| csv_error(path, e))?
        .clone();
    let mut file = CsvFile::new(path, &headers, st)?;
    let mut rec = ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, e)),
        }
        let (line, byte) = rec.position().map_or((0, 0), |p| (p.line(), p.byte()));
        let ts = file.parse_row(&rec, line, st)?;
        file.push_row(ts, line, st)?;
        if st.out.end_row(st.bytes_before + byte)? {
            file.columns.iter_mut().for_each(|c| c.slot = None);
        }
    }
    Ok(size)
}

/// Opens `path`, detects the delimiter from its first line unless given, and returns a
/// CSV reader over the whole file with the file's size.
fn open_reader(path: &Path, delimiter: Option<u8>) -> CliResult<(csv::Reader<Input>, u64)> {
    let file = File::open(path).map_err(|e| CliError::io(path.display(), e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut input = BufReader::with_capacity(BUF_BYTES, file);
    let mut header = Vec::new();
    input
        .read_until(b'\n', &mut header)
        .map_err(|e| CliError::io(path.display(), e))?;
    if header.is_empty() {
        return Err(located(
            path,
            1,
            1,
            "the file is empty (a header row is needed)",
        ));
    }
    let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(&header));
    let reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .buffer_capacity(BUF_BYTES)
        .from_reader(Cursor::new(header).chain(input));
    Ok((reader, size))
}

impl<'a> CsvFile<'a> {
    /// Maps the header to the time field and the value columns.
    fn new(path: &'a Path, headers: &ByteRecord, st: &ParseState<'_>) -> CliResult<Self> {
        let names = header_names(path, headers)?;
        let s = st.settings;
        let time_field = match &s.time_column {
            None => 0,
            Some(t) => names.iter().position(|n| n == t).ok_or_else(|| {
                CliError::usage(format!(
                    "--time-column {t:?} is not a column of {} (columns: {})",
                    path.display(),
                    names.join(", ")
                ))
            })?,
        };
        for skip in &s.skip_columns {
            if !names.contains(skip) {
                let msg = format!(
                    "--skip-columns: {skip:?} is not a column of {}",
                    path.display()
                );
                return Err(CliError::usage(msg));
            }
        }
        let mut columns = Vec::new();
        for (field, name) in names.into_iter().enumerate() {
            if field == time_field || s.skip_columns.contains(&name) {
                continue;
            }
            let column = field as u64 + 1;
            if columns.iter().any(|c: &Column| c.name == name) {
                return Err(located(
                    path,
                    1,
                    column,
                    format!("column {name:?} appears twice"),
                ));
            }
            let tags = s.tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            let key = SeriesKey::new(name.as_str(), tags)
                .map_err(|e| located(path, 1, column, format!("column {name:?}: {e}")))?;
            let vtype = st.series.get(&key);
            columns.push(Column {
                field,
                name,
                key,
                vtype,
                slot: None,
            });
        }
        Ok(CsvFile {
            path,
            time_field,
            bits: vec![0; columns.len()],
            present: vec![false; columns.len()],
            columns,
        })
    }

    /// Parses the timestamp and every value cell of a row into `self.values`.
    fn parse_row(&mut self, rec: &ByteRecord, line: u64, st: &ParseState<'_>) -> CliResult<i64> {
        let path = self.path;
        let time_column = self.time_field as u64 + 1;
        let cell = rec.get(self.time_field).unwrap_or_default();
        let text = std::str::from_utf8(cell)
            .map_err(|_| located(path, line, time_column, "the timestamp is not UTF-8"))?;
        if text.trim().is_empty() {
            return Err(located(path, line, time_column, "empty timestamp"));
        }
        let s = st.settings;
        let ts = parse_timestamp_as(text, &s.time_format, s.timezone)
            .map_err(|e| located(path, line, time_column, e))?;
        let cells = self
            .columns
            .iter_mut()
            .zip(&mut self.bits)
            .zip(&mut self.present);
        for ((col, bits), present) in cells {
            let cell = trim(rec.get(col.field).unwrap_or_default());
            *present = !cell.is_empty();
            if *present {
                *bits = parse_bits(cell, &mut col.vtype).map_err(|e| {
                    let reason = format!("column {:?}: {}", col.name, e.reason(cell));
                    located(path, line, col.field as u64 + 1, reason)
                })?;
            }
        }
        Ok(ts)
    }

    /// Pushes the parsed row into the batch.
    fn push_row(&mut self, ts: i64, line: u64, st: &mut ParseState<'_>) -> CliResult {
        let cells = self.columns.iter_mut().zip(&self.bits).zip(&self.present);
        for ((col, &bits), &present) in cells {
            let (true, Some(vt)) = (present, col.vtype) else {
                continue;
            };
            let slot = match col.slot {
                Some(slot) => slot,
                None => {
                    st.series
                        .check(&col.key, vt)
                        .map_err(|reason| located(self.path, line, col.field as u64 + 1, reason))?;
                    let slot = st.out.batch().slot(&col.key, vt)?;
                    col.slot = Some(slot);
                    slot
                }
            };
            let point = Point::new(ts, Value::from_bits(vt, bits));
            st.out.batch().push_to_slot(slot, point)?;
        }
        Ok(())
    }
}

/// The trimmed column names of a header (a leading byte-order mark removed).
fn header_names(path: &Path, headers: &ByteRecord) -> CliResult<Vec<String>> {
    let mut names = Vec::with_capacity(headers.len());
    for (i, raw) in headers.iter().enumerate() {
        let raw = if i == 0 {
            raw.strip_prefix("\u{feff}".as_bytes()).unwrap_or(raw)
        } else {
            raw
        };
        let name = std::str::from_utf8(trim(raw))
            .map_err(|_| located(path, 1, i as u64 + 1, "the column name is not UTF-8"))?;
        names.push(name.to_string());
    }
    Ok(names)
}

/// A CSV reader error, located.
fn csv_error(path: &Path, e: csv::Error) -> CliError {
    let line = e.position().map_or(0, |p| p.line());
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            let column = (*len).min(*expected_len) + 1;
            let why = format!("the row has {len} fields, the header has {expected_len}");
            located(path, line, column, why)
        }
        csv::ErrorKind::Io(err) => CliError::failure(format!("{}: {err}", path.display())),
        _ => CliError::failure(format!("{}:{line}: {e}", path.display())),
    }
}
