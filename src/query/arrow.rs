//! Arrow output.
//!
//! * Scans: one `RecordBatch` per series with columns `series` (Utf8), `ts`
//!   (Timestamp(ns, "UTC")), `value` (Float64, Int64 or Boolean) and, when
//!   any point has one, `quality` (UInt8, nullable).
//! * Downsamples: [`downsample_schema`]; batches of at most the request's
//!   `batch_rows` rows built lazily from [`WindowRows`] pieces.
//!
//! Invariants:
//! 1. Every batch of a downsample has the schema [`Downsample::schema`]
//!    announced before the first batch, whatever the pieces hold.
//! 2. A batch holds at most `batch_rows` rows and whole pieces; pieces are
//!    never larger than that, so no piece is split.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, RecordBatchIterator,
    RecordBatchReader, StringArray, TimestampNanosecondArray, UInt64Array, UInt8Array,
};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};

use super::downsample::{AggColumn, Downsample, WindowRows};
use super::group::GroupLabel;
use super::request::Agg;
use super::source::ReadStats;
use super::SeriesData;
use crate::error::{Error, Result};
use crate::model::ValueType;

/// The schema of scan output for a value type.
pub fn value_schema(value_type: ValueType, with_quality: bool) -> SchemaRef {
    let value = match value_type {
        ValueType::F64 => DataType::Float64,
        ValueType::I64 => DataType::Int64,
        ValueType::Bool => DataType::Boolean,
    };
    let mut fields = vec![
        Field::new("series", DataType::Utf8, false),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            false,
        ),
        Field::new("value", value, false),
    ];
    if with_quality {
        fields.push(Field::new("quality", DataType::UInt8, true));
    }
    Arc::new(Schema::new(fields))
}

/// Converts one series' points to a record batch with `schema`
/// (from [`value_schema`] for the series' type).
pub fn series_to_record_batch(data: &SeriesData, schema: &SchemaRef) -> Result<RecordBatch> {
    let n = data.cols.len();
    let key = data.key.to_string();
    let series: ArrayRef = Arc::new(StringArray::from_iter_values(std::iter::repeat_n(&key, n)));
    let ts: ArrayRef =
        Arc::new(TimestampNanosecondArray::from(data.cols.ts.clone()).with_timezone("UTC"));
    let bits = &data.cols.values;
    let value: ArrayRef = match data.value_type {
        ValueType::F64 => Arc::new(Float64Array::from_iter_values(
            bits.iter().map(|&b| f64::from_bits(b)),
        )),
        ValueType::I64 => Arc::new(Int64Array::from_iter_values(bits.iter().map(|&b| b as i64))),
        ValueType::Bool => Arc::new(BooleanArray::from_iter(bits.iter().map(|&b| Some(b != 0)))),
    };
    let mut columns = vec![series, ts, value];
    if schema.fields().len() == 4 {
        let q: UInt8Array = (0..n).map(|i| data.cols.quality_at(i)).collect();
        columns.push(Arc::new(q));
    }
    RecordBatch::try_new(Arc::clone(schema), columns).map_err(|e| Error::Output(e.to_string()))
}

/// The timestamp type of every output: nanoseconds, UTC.
fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

/// The schema of downsample output: `series` (or `measurement` and one
/// nullable column per grouping tag), `window_start`, then one column per
/// aggregate named after it (`count` UInt64; the others Float64, or Int64 /
/// Boolean for min/max/first/last of an all-i64 / all-bool selection).
pub fn downsample_schema(by: &[String], aggs: &[Agg], kind: ValueType) -> SchemaRef {
    let mut fields = Vec::with_capacity(by.len() + aggs.len() + 2);
    if by.is_empty() {
        fields.push(Field::new("series", DataType::Utf8, false));
    } else {
        fields.push(Field::new("measurement", DataType::Utf8, false));
        fields.extend(by.iter().map(|t| Field::new(t, DataType::Utf8, true)));
    }
    fields.push(Field::new("window_start", ts_type(), false));
    for a in aggs {
        let t = match a {
            Agg::Count => DataType::UInt64,
            Agg::Min | Agg::Max | Agg::First | Agg::Last => match kind {
                ValueType::F64 => DataType::Float64,
                ValueType::I64 => DataType::Int64,
                ValueType::Bool => DataType::Boolean,
            },
            Agg::Sum | Agg::Mean | Agg::Stddev | Agg::Twa => DataType::Float64,
        };
        fields.push(Field::new(a.name(), t, *a != Agg::Count));
    }
    Arc::new(Schema::new(fields))
}

/// Builds one record batch from consecutive pieces (all of `schema`'s shape).
pub fn window_rows_to_record_batch(
    pieces: &[WindowRows],
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let n: usize = pieces.iter().map(WindowRows::len).sum();
    let mut columns: Vec<ArrayRef> = label_columns(pieces, n);
    let starts = pieces.iter().flat_map(|p| p.window_start.iter().copied());
    let starts: TimestampNanosecondArray = starts.map(Some).collect();
    columns.push(Arc::new(starts.with_timezone("UTC")));
    let width = pieces.first().map_or(0, |p| p.columns.len());
    for c in 0..width {
        let col = pieces.iter().filter_map(|p| p.columns.get(c));
        let t = schema
            .fields()
            .get(columns.len())
            .map(|f| f.data_type().clone());
        columns.push(concat_column(col, &t.unwrap_or(DataType::Float64)));
    }
    RecordBatch::try_new(Arc::clone(schema), columns).map_err(|e| Error::Output(e.to_string()))
}

fn label_columns(pieces: &[WindowRows], n: usize) -> Vec<ArrayRef> {
    let grouped = pieces
        .first()
        .map(|p| match p.group.as_ref() {
            GroupLabel::Series { .. } => 0,
            GroupLabel::Tags { values, .. } => values.len() + 1,
        })
        .unwrap_or(0);
    if grouped == 0 {
        let mut b = StringBuilder::with_capacity(n, n * 16);
        for p in pieces {
            if let GroupLabel::Series { text, .. } = p.group.as_ref() {
                (0..p.len()).for_each(|_| b.append_value(text.as_ref()));
            }
        }
        return vec![Arc::new(b.finish())];
    }
    (0..grouped)
        .map(|i| {
            let mut b = StringBuilder::with_capacity(n, n * 8);
            for p in pieces {
                if let GroupLabel::Tags {
                    measurement,
                    values,
                } = p.group.as_ref()
                {
                    let v = match i {
                        0 => Some(measurement.as_str()),
                        _ => values.get(i - 1).and_then(|v| v.as_deref()),
                    };
                    (0..p.len()).for_each(|_| b.append_option(v));
                }
            }
            Arc::new(b.finish()) as ArrayRef
        })
        .collect()
}

fn concat_column<'a>(cols: impl Iterator<Item = &'a AggColumn>, t: &DataType) -> ArrayRef {
    let mut u = Vec::new();
    let mut f = Vec::new();
    let mut i = Vec::new();
    let mut b = Vec::new();
    for c in cols {
        match c {
            AggColumn::Count(v) => u.extend_from_slice(v),
            AggColumn::Float64(v) => f.extend_from_slice(v),
            AggColumn::Int64(v) => i.extend_from_slice(v),
            AggColumn::Bool(v) => b.extend_from_slice(v),
        }
    }
    match t {
        DataType::UInt64 => Arc::new(UInt64Array::from(u)),
        DataType::Int64 => Arc::new(Int64Array::from(i)),
        DataType::Boolean => Arc::new(BooleanArray::from(b)),
        _ => Arc::new(Float64Array::from(f)),
    }
}

/// Downsample output as Arrow record batches of at most `batch_rows` rows,
/// produced lazily piece by piece (bounded memory).
pub struct DownsampleBatches {
    inner: Downsample,
    schema: SchemaRef,
    pending: Option<WindowRows>,
}

impl Downsample {
    /// The Arrow schema of this query's output.
    pub fn schema(&self) -> SchemaRef {
        downsample_schema(self.by(), self.aggs(), self.value_kind())
    }

    /// The output as record batches.
    pub fn record_batches(self) -> DownsampleBatches {
        DownsampleBatches {
            schema: self.schema(),
            inner: self,
            pending: None,
        }
    }
}

impl DownsampleBatches {
    /// The batches' schema.
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    /// The sequence number of the snapshot the query reads.
    pub fn seq(&self) -> u64 {
        self.inner.seq()
    }

    /// What the query has read so far.
    pub fn read_stats(&self) -> ReadStats {
        self.inner.read_stats()
    }

    /// An `arrow` reader over the batches (for Parquet and IPC writers).
    pub fn into_reader(self) -> impl RecordBatchReader + Send {
        let schema = self.schema();
        let batches = self.map(|b| b.map_err(|e| ArrowError::ExternalError(Box::new(e))));
        RecordBatchIterator::new(batches, schema)
    }
}

impl Iterator for DownsampleBatches {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let max = self.inner.batch_rows();
        let mut pieces: Vec<WindowRows> = Vec::new();
        let mut rows = 0;
        loop {
            let piece = match self.pending.take() {
                Some(p) => p,
                None => match self.inner.next() {
                    Some(Ok(p)) => p,
                    Some(Err(e)) => return Some(Err(e)),
                    None => break,
                },
            };
            if rows > 0 && rows + piece.len() > max {
                self.pending = Some(piece);
                break;
            }
            rows += piece.len();
            pieces.push(piece);
        }
        (!pieces.is_empty()).then(|| window_rows_to_record_batch(&pieces, &self.schema))
    }
}
