//! Writes a segment file from sorted, deduplicated series columns.
//!
//! Invariants:
//! 1. Series are written in the order given (the caller sorts by key), each
//!    cut into blocks of at most MAX_BLOCK_POINTS points, contiguous in the file.
//! 2. A series with a lossy setting has its f64 points thinned by
//!    `codec::lossy::select` before encoding, and the setting is recorded in
//!    its index entry; every other series is stored bit-exactly.
//! 3. The file is complete and `sync_data`ed before this returns; making its
//!    directory entry durable and referencing it from the manifest is the
//!    caller's job (a file the manifest does not name is garbage at open).

use super::block::BlockEncoder;
use super::format::{encode_header, BlockMeta, Footer, MAX_BLOCK_POINTS, SEGMENT_VERSION};
use super::index::IndexCursor;
use super::stats::block_stats;
use crate::bytes::put_uvarint;
use crate::codec::lossy::{self, Lossy};
use crate::error::{Error, Result};
use crate::model::{Columns, SeriesKey, ValueType};
use crate::vfs::Vfs;

/// One series to write.
pub struct SeriesToWrite<'a> {
    pub key: &'a SeriesKey,
    pub value_type: ValueType,
    pub cols: &'a Columns,
    /// Lossy setting of the series (f64 only; None = bit-exact).
    pub lossy: Option<Lossy>,
}

/// What was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenSegment {
    pub file_len: u64,
    pub points: u64,
    pub ts_min: i64,
    pub ts_max: i64,
}

/// Bytes buffered before they are appended to the file, so flushing a large
/// memtable never holds its whole segment in memory.
const WRITE_CHUNK_BYTES: usize = 1 << 20;

/// Encodes a segment, handing out full chunks to `sink` as they fill up.
fn encode_into(
    series: &[SeriesToWrite<'_>],
    sink: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<WrittenSegment> {
    let mut out = Vec::with_capacity(WRITE_CHUNK_BYTES + (64 << 10));
    let mut flushed: u64 = 0;
    out.extend_from_slice(&encode_header());
    let mut index = Vec::new();
    // Empty series get no entry (lossy thinning never empties one).
    let non_empty = series.iter().filter(|s| !s.cols.is_empty()).count();
    put_uvarint(&mut index, non_empty as u64);
    let mut encoder = BlockEncoder::default();
    let mut index_cursor = IndexCursor::default();
    let mut metas: Vec<BlockMeta> = Vec::new();
    let mut thinned = Columns::default();
    let mut meta = WrittenSegment {
        file_len: 0,
        points: 0,
        ts_min: i64::MAX,
        ts_max: i64::MIN,
    };
    let mut block = Columns::with_capacity(MAX_BLOCK_POINTS);
    for s in series {
        let lossy = s.lossy.filter(|_| s.value_type == ValueType::F64);
        let cols = match lossy {
            Some(kind) => {
                thin(kind, s.cols, &mut thinned);
                &thinned
            }
            None => s.cols,
        };
        let n_blocks = cols.len().div_ceil(MAX_BLOCK_POINTS);
        metas.clear();
        for b in 0..n_blocks {
            let start = b * MAX_BLOCK_POINTS;
            block.ts.clear();
            block.values.clear();
            block.quality = None;
            block.extend_range(cols, start, start + MAX_BLOCK_POINTS);
            let at = out.len();
            let crc = encoder.encode(&mut out, flushed + at as u64, s.value_type, &block);
            let bm = BlockMeta {
                offset: flushed + at as u64,
                len: (out.len() - at) as u32,
                crc,
                count: block.len() as u32,
                ts_min: block.ts.first().copied().unwrap_or(0),
                ts_max: block.ts.last().copied().unwrap_or(0),
                stats: block_stats(s.value_type, &block),
            };
            meta.ts_min = meta.ts_min.min(bm.ts_min);
            meta.ts_max = meta.ts_max.max(bm.ts_max);
            meta.points += u64::from(bm.count);
            metas.push(bm);
            if out.len() >= WRITE_CHUNK_BYTES {
                sink(&out)?;
                flushed += out.len() as u64;
                out.clear();
            }
        }
        if !metas.is_empty() {
            let key = s.key.to_string();
            index_cursor.encode_series(&mut index, &key, s.value_type, lossy, &metas);
        }
    }
    let footer = Footer {
        index_offset: flushed + out.len() as u64,
        index_len: index.len() as u64,
        index_crc: crc32fast::hash(&index),
        version: SEGMENT_VERSION,
    };
    out.extend_from_slice(&index);
    out.extend_from_slice(&footer.encode());
    sink(&out)?;
    meta.file_len = flushed + out.len() as u64;
    Ok(meta)
}

/// The points of `cols` that `kind` keeps, into `out`.
fn thin(kind: Lossy, cols: &Columns, out: &mut Columns) {
    let values: Vec<f64> = cols.values.iter().map(|&b| f64::from_bits(b)).collect();
    let keep = lossy::select(kind, &cols.ts, &values);
    *out = Columns::with_capacity(keep.len());
    for i in keep {
        if let (Some(&t), Some(&v)) = (cols.ts.get(i), cols.values.get(i)) {
            out.push(t, v, cols.quality_at(i));
        }
    }
    if cols.quality.is_none() {
        out.quality = None;
    }
}

/// Encodes the whole segment in memory (tests, fuzz corpora).
pub fn encode_segment(series: &[SeriesToWrite<'_>]) -> (Vec<u8>, WrittenSegment) {
    let mut bytes = Vec::new();
    let mut sink = |chunk: &[u8]| {
        bytes.extend_from_slice(chunk);
        Ok(())
    };
    match encode_into(series, &mut sink) {
        Ok(meta) => (bytes, meta),
        // The in-memory sink never fails.
        Err(_) => (
            Vec::new(),
            WrittenSegment {
                file_len: 0,
                points: 0,
                ts_min: 0,
                ts_max: 0,
            },
        ),
    }
}

/// Writes and syncs a segment file at `path` (which must not exist).
pub fn write_segment(
    vfs: &dyn Vfs,
    path: &str,
    series: &[SeriesToWrite<'_>],
) -> Result<WrittenSegment> {
    let file = vfs.create(path).map_err(|e| Error::io(path, e))?;
    let mut sink = |chunk: &[u8]| file.append(chunk);
    let written = encode_into(series, &mut sink).and_then(|meta| {
        file.sync_data()?;
        Ok(meta)
    });
    match written {
        Ok(meta) => Ok(meta),
        Err(e) => {
            drop(file);
            let _ = vfs.remove(path);
            Err(Error::io(path, e))
        }
    }
}
