//! Parquet (zstd) and Arrow IPC file output, one record batch per series, through the
//! library's `value_schema` and `series_to_record_batch`.
//!
//! A file has one schema, so every selected series must have the same value type;
//! mixed types are an error naming two of them.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use arrow_array::RecordBatch;
use arrow_ipc::writer::FileWriter;
use arrow_schema::SchemaRef;
use historian::query::{series_to_record_batch, value_schema};
use historian::{SeriesData, ValueType};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::{has_quality, lossy_metadata};
use crate::args::OutputFormat;
use crate::error::{CliError, CliResult};

/// Writes `data` to `path` as Parquet or Arrow IPC.
pub fn write_file(data: &[SeriesData], path: &Path, format: OutputFormat) -> CliResult {
    let vt = common_type(data)?;
    let base = value_schema(vt, has_quality(data));
    let schema = std::sync::Arc::new(base.as_ref().clone().with_metadata(lossy_metadata(data)));
    let batches = data
        .iter()
        .map(|s| series_to_record_batch(s, &schema).map_err(CliError::from));
    write_batches(path, format, schema.clone(), batches)
}

/// Writes record batches of `schema` to `path`: Parquet (zstd) or Arrow IPC file.
pub fn write_batches(
    path: &Path,
    format: OutputFormat,
    schema: SchemaRef,
    batches: impl Iterator<Item = CliResult<RecordBatch>>,
) -> CliResult {
    let file = File::create(path).map_err(|e| CliError::io(path.display(), e))?;
    let fail = |e: &dyn std::fmt::Display| CliError::failure(format!("{}: {e}", path.display()));
    let out = BufWriter::with_capacity(1 << 20, file);
    if format == OutputFormat::Parquet {
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .build();
        let mut w = ArrowWriter::try_new(out, schema, Some(props)).map_err(|e| fail(&e))?;
        for b in batches {
            w.write(&b?).map_err(|e| fail(&e))?;
        }
        w.close().map_err(|e| fail(&e))?;
    } else {
        let mut w = FileWriter::try_new(out, &schema).map_err(|e| fail(&e))?;
        for b in batches {
            w.write(&b?).map_err(|e| fail(&e))?;
        }
        w.finish().map_err(|e| fail(&e))?;
    }
    Ok(())
}

/// The one value type of every series (f64 when there is none).
fn common_type(data: &[SeriesData]) -> CliResult<ValueType> {
    let Some(first) = data.first() else {
        return Ok(ValueType::F64);
    };
    match data.iter().find(|s| s.value_type != first.value_type) {
        None => Ok(first.value_type),
        Some(other) => Err(CliError::failure(format!(
            "the selected series have different value types ({} is {}, {} is {}); \
             parquet and arrow output need one type: narrow --select",
            first.key, first.value_type, other.key, other.value_type
        ))),
    }
}
