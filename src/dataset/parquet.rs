//! Parquet outputs of a dataset: the long form (one row per window,
//! channel and step) and the window table (one row per window).
//!
//! `long.parquet`: `split` (Utf8), `window` (UInt64, index within the split),
//! `channel` (Utf8, the channel name), `step` (UInt32, 0 .. length), `ts`
//! (Timestamp(ns, "UTC"), the grid time), `value` (Float64, the normalised
//! value, null exactly where `valid` is false), `valid` (Boolean: the mask).
//! Rows are ordered by split (train, validation, test), window, channel
//! (spec order), step: the order of the `.npy` tensors flattened.
//!
//! `windows.parquet`: `split`, `window`, `start` (Timestamp(ns, "UTC")),
//! `missing_fraction` (Float64), `label` (Float64, null when the spec has
//! no labels or the label is unknown).
//!
//! Invariants:
//! 1. Writer properties are fixed here (zstd at its default level, row
//!    groups of at most 1 Mi rows, batches of 64 Ki rows, a fixed
//!    `created_by`), so the same dataset gives byte-identical files, also
//!    across parquet crate versions as far as the encoders allow.
//! 2. The long form holds exactly the cells of the `X_*.npy` tensors.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::io::BufWriter;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, StringBuilder, TimestampNanosecondBuilder, UInt32Builder,
    UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{WriterProperties, WriterVersion};

use super::build::Dataset;
use super::error::{DatasetError, Result};
use super::manifest::FileEntry;
use super::sink::{HashedFile, OutDir};
use super::split::Split;

/// Rows per record batch.
const BATCH_ROWS: usize = 1 << 16;
/// Rows per row group.
const ROW_GROUP_ROWS: usize = 1 << 20;

pub(crate) fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

fn props() -> WriterProperties {
    WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_1_0)
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by("historian dataset".to_string())
        .build()
}

/// A Parquet file being written (hashed as it is written).
pub(crate) struct ParquetOut {
    name: String,
    schema: SchemaRef,
    writer: ArrowWriter<BufWriter<HashedFile>>,
}

impl ParquetOut {
    pub fn create(dir: &OutDir, file: &str, schema: SchemaRef) -> Result<ParquetOut> {
        let out = dir.create(file)?;
        let name = out.path().display().to_string();
        let buf = BufWriter::with_capacity(1 << 20, out);
        let writer = ArrowWriter::try_new(buf, Arc::clone(&schema), Some(props()))
            .map_err(|e| fail(&name, e))?;
        Ok(ParquetOut {
            name,
            schema,
            writer,
        })
    }

    fn write(&mut self, columns: Vec<ArrayRef>) -> Result<()> {
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns)
            .map_err(|e| fail(&self.name, e))?;
        self.write_batch(&batch)
    }

    pub fn write_batch(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer.write(batch).map_err(|e| fail(&self.name, e))
    }

    /// Finishes, syncs and returns the file's manifest entry.
    pub fn close(self) -> Result<FileEntry> {
        let name = self.name;
        let buf = self.writer.into_inner().map_err(|e| fail(&name, e))?;
        let file = buf.into_inner().map_err(|e| fail(&name, e.error()))?;
        file.finish()
    }
}

pub(crate) fn fail(file: &str, e: impl std::fmt::Display) -> DatasetError {
    DatasetError::Parquet {
        file: file.to_string(),
        reason: e.to_string(),
    }
}

/// Column builders of the long form.
#[derive(Default)]
struct LongRows {
    split: StringBuilder,
    window: UInt64Builder,
    channel: StringBuilder,
    step: UInt32Builder,
    ts: TimestampNanosecondBuilder,
    value: Float64Builder,
    valid: BooleanBuilder,
    rows: usize,
}

impl LongRows {
    fn take(&mut self) -> Vec<ArrayRef> {
        self.rows = 0;
        vec![
            Arc::new(self.split.finish()),
            Arc::new(self.window.finish()),
            Arc::new(self.channel.finish()),
            Arc::new(self.step.finish()),
            Arc::new(self.ts.finish().with_timezone("UTC")),
            Arc::new(self.value.finish()),
            Arc::new(self.valid.finish()),
        ]
    }
}

fn long_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("split", DataType::Utf8, false),
        Field::new("window", DataType::UInt64, false),
        Field::new("channel", DataType::Utf8, false),
        Field::new("step", DataType::UInt32, false),
        Field::new("ts", ts_type(), false),
        Field::new("value", DataType::Float64, true),
        Field::new("valid", DataType::Boolean, false),
    ]))
}

/// Writes `long.parquet` (see the module docs).
pub(crate) fn write_long(dir: &OutDir, ds: &Dataset) -> Result<FileEntry> {
    let mut out = ParquetOut::create(dir, "long.parquet", long_schema())?;
    let mut rows = LongRows::default();
    for split in Split::ALL {
        for w in ds.windows_in(split) {
            for (c, ch) in ds.channels.iter().enumerate() {
                for step in 0..ds.length() {
                    let k = w.start + step;
                    let value = ds.cell(c, k);
                    rows.split.append_value(split.name());
                    rows.window.append_value(w.index as u64);
                    rows.channel.append_value(&ch.name);
                    rows.step
                        .append_value(u32::try_from(step).unwrap_or(u32::MAX));
                    rows.ts.append_value(ds.time_of(k));
                    rows.value.append_option(value);
                    rows.valid.append_value(value.is_some());
                    rows.rows += 1;
                    if rows.rows == BATCH_ROWS {
                        out.write(rows.take())?;
                    }
                }
            }
        }
    }
    if rows.rows > 0 {
        out.write(rows.take())?;
    }
    out.close()
}

/// Writes `windows.parquet` (see the module docs).
pub(crate) fn write_windows(dir: &OutDir, ds: &Dataset) -> Result<FileEntry> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("split", DataType::Utf8, false),
        Field::new("window", DataType::UInt64, false),
        Field::new("start", ts_type(), false),
        Field::new("missing_fraction", DataType::Float64, false),
        Field::new("label", DataType::Float64, true),
    ]));
    let mut out = ParquetOut::create(dir, "windows.parquet", schema)?;
    for chunk in ds.windows.chunks(BATCH_ROWS) {
        let mut split = StringBuilder::new();
        let mut window = UInt64Builder::new();
        let mut start = TimestampNanosecondBuilder::new();
        let mut missing = Float64Builder::new();
        let mut label = Float64Builder::new();
        for w in chunk {
            split.append_value(w.split.name());
            window.append_value(w.index as u64);
            start.append_value(w.start_ns);
            missing.append_value(w.missing_fraction);
            label.append_option(w.label.filter(|l| !l.is_nan()));
        }
        out.write(vec![
            Arc::new(split.finish()),
            Arc::new(window.finish()),
            Arc::new(start.finish().with_timezone("UTC")),
            Arc::new(missing.finish()),
            Arc::new(label.finish()),
        ])?;
    }
    out.close()
}
