//! The wide form of a dataset: one row per window and step, one column per
//! channel, written as Parquet (`wide.parquet`) and as an Arrow IPC file
//! (`wide.arrow`) from the same record batches.
//!
//! Columns: `split` (Utf8), `window` (UInt64, index within the split),
//! `step` (UInt32, 0 .. length), `ts` (Timestamp(ns, "UTC"), the grid time),
//! then one Float64 column per channel, named by the channel, holding the
//! normalised value and null exactly where the mask is false. Rows are
//! ordered by split, window, step.
//!
//! Invariants:
//! 1. The cells are exactly those of the `X_*.npy` tensors (transposed per
//!    window: steps are rows, channels are columns).
//! 2. Batches hold whole windows (at most 64 Ki rows unless one window is
//!    longer); the IPC file is uncompressed with default options, so the
//!    same dataset gives the same bytes.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use arrow_array::builder::{
    StringBuilder, TimestampNanosecondBuilder, UInt32Builder, UInt64Builder,
};
use arrow_array::{ArrayRef, Float64Array, RecordBatch};
use arrow_buffer::NullBuffer;
use arrow_ipc::writer::FileWriter;
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::build::Dataset;
use super::error::{DatasetError, Result};
use super::manifest::FileEntry;
use super::parquet::{fail, ts_type, ParquetOut};
use super::sink::OutDir;
use super::split::Split;
use super::validate::{wide_name_clash, WIDE_FIXED_COLUMNS};

const BATCH_ROWS: usize = 1 << 16;

fn schema(ds: &Dataset) -> Result<SchemaRef> {
    let mut fields = vec![
        Field::new("split", DataType::Utf8, false),
        Field::new("window", DataType::UInt64, false),
        Field::new("step", DataType::UInt32, false),
        Field::new("ts", ts_type(), false),
    ];
    for c in &ds.channels {
        if WIDE_FIXED_COLUMNS.contains(&c.name.as_str()) {
            return Err(wide_name_clash(&c.name));
        }
        fields.push(Field::new(c.name.clone(), DataType::Float64, true));
    }
    Ok(Arc::new(Schema::new(fields)))
}

/// Calls `sink` with the wide form's batches in row order.
fn for_each_batch(
    ds: &Dataset,
    norm: &[Vec<f64>],
    schema: &SchemaRef,
    sink: &mut dyn FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    let len = ds.length();
    let per_batch = (BATCH_ROWS / len.max(1)).max(1);
    for split in Split::ALL {
        for chunk in ds.windows_in(split).chunks(per_batch) {
            let rows = chunk.len() * len;
            let mut s = StringBuilder::with_capacity(rows, rows * split.name().len());
            let mut window = UInt64Builder::with_capacity(rows);
            let mut step = UInt32Builder::with_capacity(rows);
            let mut ts = TimestampNanosecondBuilder::with_capacity(rows);
            for w in chunk {
                for k in 0..len {
                    s.append_value(split.name());
                    window.append_value(w.index as u64);
                    step.append_value(u32::try_from(k).unwrap_or(u32::MAX));
                    ts.append_value(ds.time_of(w.start + k));
                }
            }
            let mut columns: Vec<ArrayRef> = vec![
                Arc::new(s.finish()),
                Arc::new(window.finish()),
                Arc::new(step.finish()),
                Arc::new(ts.finish().with_timezone("UTC")),
            ];
            for (col, grid) in norm.iter().zip(&ds.columns) {
                let mut values = Vec::with_capacity(rows);
                let mut valid = Vec::with_capacity(rows);
                for w in chunk {
                    let cells = w.start..w.start + len;
                    values.extend_from_slice(col.get(cells.clone()).unwrap_or_default());
                    valid.extend_from_slice(grid.valid.get(cells).unwrap_or_default());
                }
                if values.len() != rows || valid.len() != rows {
                    return Err(DatasetError::BadOutput(
                        "internal: a window lies outside the grid".into(),
                    ));
                }
                let nulls = NullBuffer::from(valid);
                columns.push(Arc::new(Float64Array::new(values.into(), Some(nulls))));
            }
            let batch = RecordBatch::try_new(Arc::clone(schema), columns)
                .map_err(|e| fail("wide form", e))?;
            sink(batch)?;
        }
    }
    Ok(())
}

/// Writes `wide.parquet`.
pub(crate) fn write_parquet(dir: &OutDir, ds: &Dataset, norm: &[Vec<f64>]) -> Result<FileEntry> {
    let schema = schema(ds)?;
    let mut out = ParquetOut::create(dir, "wide.parquet", Arc::clone(&schema))?;
    for_each_batch(ds, norm, &schema, &mut |b| out.write_batch(&b))?;
    out.close()
}

/// Writes `wide.arrow` (Arrow IPC file format).
pub(crate) fn write_arrow(dir: &OutDir, ds: &Dataset, norm: &[Vec<f64>]) -> Result<FileEntry> {
    let schema = schema(ds)?;
    let file = dir.create("wide.arrow")?;
    let name = file.path().display().to_string();
    let buf = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut w = FileWriter::try_new(buf, &schema).map_err(|e| fail(&name, e))?;
    for_each_batch(ds, norm, &schema, &mut |b| {
        w.write(&b).map_err(|e| fail(&name, e))
    })?;
    w.finish().map_err(|e| fail(&name, e))?;
    let buf = w.into_inner().map_err(|e| fail(&name, e))?;
    let file = buf.into_inner().map_err(|e| fail(&name, e.error()))?;
    file.finish()
}
