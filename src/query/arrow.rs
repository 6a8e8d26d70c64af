//! Arrow output: one `RecordBatch` per series with columns
//! `series` (Utf8), `ts` (Timestamp(ns, "UTC")), `value` (Float64, Int64 or
//! Boolean) and, when any point has one, `quality` (UInt8, nullable).

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampNanosecondArray, UInt8Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

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
