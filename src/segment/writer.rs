//! Writes a segment file from sorted, deduplicated series columns.
//!
//! Invariants:
//! 1. Series are written in the order given (the caller sorts by key), each
//!    cut into blocks of at most MAX_BLOCK_POINTS points.
//! 2. The file is complete and `sync_data`ed before this returns; making its
//!    directory entry durable and referencing it from the manifest is the
//!    caller's job (a file the manifest does not name is garbage at open).

use super::block::{block_stats, encode_block};
use super::format::{encode_header, BlockMeta, Footer, MAX_BLOCK_POINTS};
use crate::bytes::put_str16;
use crate::error::{Error, Result};
use crate::model::{Columns, SeriesKey, ValueType};
use crate::vfs::Vfs;

/// One series to write.
pub struct SeriesToWrite<'a> {
    pub key: &'a SeriesKey,
    pub value_type: ValueType,
    pub cols: &'a Columns,
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
    index.extend_from_slice(&(series.len() as u32).to_le_bytes());
    let mut meta = WrittenSegment {
        file_len: 0,
        points: 0,
        ts_min: i64::MAX,
        ts_max: i64::MIN,
    };
    let mut block = Columns::with_capacity(MAX_BLOCK_POINTS);
    for s in series {
        let n_blocks = s.cols.len().div_ceil(MAX_BLOCK_POINTS);
        put_str16(&mut index, &s.key.to_string());
        index.push(s.value_type.tag());
        index.extend_from_slice(&(n_blocks as u32).to_le_bytes());
        for b in 0..n_blocks {
            let start = b * MAX_BLOCK_POINTS;
            block.ts.clear();
            block.values.clear();
            block.quality = None;
            block.extend_range(s.cols, start, start + MAX_BLOCK_POINTS);
            let at = out.len();
            let crc = encode_block(&mut out, s.value_type, &block);
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
            bm.encode(&mut index);
            if out.len() >= WRITE_CHUNK_BYTES {
                sink(&out)?;
                flushed += out.len() as u64;
                out.clear();
            }
        }
    }
    let footer = Footer {
        index_offset: flushed + out.len() as u64,
        index_len: index.len() as u64,
        index_crc: crc32fast::hash(&index),
    };
    out.extend_from_slice(&index);
    out.extend_from_slice(&footer.encode());
    sink(&out)?;
    meta.file_len = flushed + out.len() as u64;
    Ok(meta)
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
