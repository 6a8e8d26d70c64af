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

/// Encodes the whole segment in memory.
pub fn encode_segment(series: &[SeriesToWrite<'_>]) -> (Vec<u8>, WrittenSegment) {
    let mut out = Vec::new();
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
            let offset = out.len() as u64;
            let crc = encode_block(&mut out, s.value_type, &block);
            let bm = BlockMeta {
                offset,
                len: (out.len() as u64 - offset) as u32,
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
        }
    }
    let footer = Footer {
        index_offset: out.len() as u64,
        index_len: index.len() as u64,
        index_crc: crc32fast::hash(&index),
    };
    out.extend_from_slice(&index);
    out.extend_from_slice(&footer.encode());
    meta.file_len = out.len() as u64;
    (out, meta)
}

/// Writes and syncs a segment file at `path` (which must not exist).
pub fn write_segment(
    vfs: &dyn Vfs,
    path: &str,
    series: &[SeriesToWrite<'_>],
) -> Result<WrittenSegment> {
    let (bytes, meta) = encode_segment(series);
    let file = vfs.create(path).map_err(|e| Error::io(path, e))?;
    let written = file.append(&bytes).and_then(|()| file.sync_data());
    if let Err(e) = written {
        drop(file);
        let _ = vfs.remove(path);
        return Err(Error::io(path, e));
    }
    Ok(meta)
}
