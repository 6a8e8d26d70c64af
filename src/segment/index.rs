//! The v2 index: one entry per series, varint-packed, so an index entry costs
//! a few bytes plus the block statistics (docs/FORMAT.md, "Segment v2 index").
//!
//! ```text
//! index  := n_series uvarint | series*
//! series := key_len uvarint | key utf-8 | value_type u8 |
//!           lossy u8 (0 none, 1 deadband, 2 swinging door) [| bound f64 if lossy != 0] |
//!           first_offset uvarint | n_blocks uvarint | block*
//! block  := len uvarint | crc u32 | count uvarint (1..=1024) |
//!           ts_min (first block: ivarint; later: uvarint gap > 0 after the previous ts_max) |
//!           span uvarint (ts_max - ts_min) | stats
//! stats  := f64:  min u64 | max u64 | first u64 | last u64 | sum f64   (raw bits, LE)
//!           i64:  min ivarint | max ivarint | first ivarint | last ivarint | sum f64
//!           bool: bits u8 (1 min, 2 max, 4 first, 8 last) | ones uvarint
//! ```
//!
//! Invariants:
//! 1. A series' blocks are contiguous in the file: block k+1 starts where block
//!    k ends, so only the first offset is stored.
//! 2. Parsing checks every block lies in `[HEADER_LEN, index_offset)`, counts
//!    are in 1..=MAX_BLOCK_POINTS, and time ranges increase strictly across blocks;
//!    it allocates only in proportion to the bytes it has read.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::format::{BlockMeta, BlockStats, HEADER_LEN, MAX_BLOCK_POINTS};
use super::reader::SegmentSeries;
use crate::bytes::{put_ivarint, put_uvarint, Cursor, DecodeError};
use crate::codec::lossy::Lossy;
use crate::model::{SeriesKey, ValueType};

/// The fewest bytes one block entry can take (bool stats), to bound counts.
const MIN_BLOCK_ENTRY: usize = 1 + 4 + 1 + 1 + 1 + 1 + 1;

/// Appends the entry of one series whose blocks are `blocks` (contiguous).
pub fn encode_series(
    out: &mut Vec<u8>,
    key: &str,
    value_type: ValueType,
    lossy: Option<Lossy>,
    blocks: &[BlockMeta],
) {
    put_uvarint(out, key.len() as u64);
    out.extend_from_slice(key.as_bytes());
    out.push(value_type.tag());
    match lossy {
        None => out.push(0),
        Some(Lossy::Deadband { bound }) => {
            out.push(1);
            out.extend_from_slice(&bound.to_le_bytes());
        }
        Some(Lossy::SwingingDoor { bound }) => {
            out.push(2);
            out.extend_from_slice(&bound.to_le_bytes());
        }
    }
    put_uvarint(out, blocks.first().map_or(0, |b| b.offset));
    put_uvarint(out, blocks.len() as u64);
    let mut prev_max: Option<i64> = None;
    for b in blocks {
        put_uvarint(out, u64::from(b.len));
        out.extend_from_slice(&b.crc.to_le_bytes());
        put_uvarint(out, u64::from(b.count));
        match prev_max {
            None => put_ivarint(out, b.ts_min),
            Some(p) => put_uvarint(out, (b.ts_min as u64).wrapping_sub(p as u64)),
        }
        put_uvarint(out, (b.ts_max as u64).wrapping_sub(b.ts_min as u64));
        encode_stats(out, value_type, &b.stats);
        prev_max = Some(b.ts_max);
    }
}

fn encode_stats(out: &mut Vec<u8>, value_type: ValueType, s: &BlockStats) {
    match value_type {
        ValueType::F64 => {
            for v in [s.min, s.max, s.first, s.last, s.sum.to_bits()] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        ValueType::I64 => {
            for v in [s.min, s.max, s.first, s.last] {
                put_ivarint(out, v as i64);
            }
            out.extend_from_slice(&s.sum.to_le_bytes());
        }
        ValueType::Bool => {
            let bit = |v: u64, b: u8| if v != 0 { b } else { 0 };
            out.push(bit(s.min, 1) | bit(s.max, 2) | bit(s.first, 4) | bit(s.last, 8));
            put_uvarint(out, s.sum as u64);
        }
    }
}

fn decode_stats(
    c: &mut Cursor<'_>,
    value_type: ValueType,
    count: u32,
) -> Result<BlockStats, DecodeError> {
    Ok(match value_type {
        ValueType::F64 => BlockStats {
            min: c.u64()?,
            max: c.u64()?,
            first: c.u64()?,
            last: c.u64()?,
            sum: f64::from_bits(c.u64()?),
        },
        ValueType::I64 => BlockStats {
            min: c.ivarint()? as u64,
            max: c.ivarint()? as u64,
            first: c.ivarint()? as u64,
            last: c.ivarint()? as u64,
            sum: f64::from_bits(c.u64()?),
        },
        ValueType::Bool => {
            let at = c.offset();
            let bits = c.u8()?;
            if bits > 15 {
                return Err(DecodeError::invalid(at, "bad bool statistics"));
            }
            let ones = c.uvarint_max(u64::from(count), "true count")?;
            BlockStats {
                min: u64::from(bits & 1),
                max: u64::from(bits >> 1 & 1),
                first: u64::from(bits >> 2 & 1),
                last: u64::from(bits >> 3 & 1),
                sum: ones as f64,
            }
        }
    })
}

/// Parses one series entry; `blocks_end` is where the index starts.
pub fn parse_series(c: &mut Cursor<'_>, blocks_end: u64) -> Result<SegmentSeries, DecodeError> {
    let at = c.offset();
    let key_len = c.uvarint_max(u64::from(u16::MAX), "key length")?;
    let key = std::str::from_utf8(c.take(key_len)?)
        .map_err(|_| DecodeError::invalid(at, "series key is not UTF-8"))?;
    let key = SeriesKey::parse(key).map_err(|e| DecodeError::invalid(at, e.to_string()))?;
    let tag = c.u8()?;
    let value_type =
        ValueType::from_tag(tag).ok_or_else(|| c.invalid(format!("unknown value type {tag}")))?;
    let lossy_at = c.offset();
    let lossy = match c.u8()? {
        0 => None,
        kind @ (1 | 2) => {
            let bound = f64::from_bits(c.u64()?);
            if !(bound.is_finite() && bound > 0.0) {
                return Err(DecodeError::invalid(
                    lossy_at,
                    "lossy bound not finite and > 0",
                ));
            }
            Some(if kind == 1 {
                Lossy::Deadband { bound }
            } else {
                Lossy::SwingingDoor { bound }
            })
        }
        k => {
            return Err(DecodeError::invalid(
                lossy_at,
                format!("unknown lossy kind {k}"),
            ))
        }
    };
    let mut offset = c.uvarint()?;
    let max_blocks = (c.remaining() / MIN_BLOCK_ENTRY) as u64;
    let n_blocks = c.uvarint_max(max_blocks, "block count")?;
    let mut blocks = Vec::with_capacity(n_blocks);
    let mut prev_max: Option<i64> = None;
    for _ in 0..n_blocks {
        let at = c.offset();
        let len = c.uvarint_max(u64::from(u32::MAX), "block length")? as u32;
        let crc = c.u32()?;
        let count = c.uvarint_max(MAX_BLOCK_POINTS as u64, "block count")? as u32;
        // Time arithmetic in i128, so gaps and spans up to 2^64 - 1 are exact.
        let ts_min = match prev_max {
            None => Some(c.ivarint()?),
            Some(p) => {
                let gap = c.uvarint()?;
                let t = i128::from(p) + i128::from(gap);
                i64::try_from(t).ok().filter(|_| gap > 0)
            }
        };
        let span = c.uvarint()?;
        let ts_max = ts_min.and_then(|t| i64::try_from(i128::from(t) + i128::from(span)).ok());
        let (Some(ts_min), Some(ts_max)) = (ts_min, ts_max) else {
            return Err(DecodeError::invalid(
                at,
                "block time range overflows or is out of order",
            ));
        };
        let stats = decode_stats(c, value_type, count)?;
        let end = offset.checked_add(u64::from(len));
        let in_file = offset >= HEADER_LEN as u64 && end.is_some_and(|e| e <= blocks_end);
        if !in_file || count == 0 || (count == 1) != (span == 0) || len < 5 {
            return Err(DecodeError::invalid(
                at,
                "block entry out of bounds or inconsistent",
            ));
        }
        blocks.push(BlockMeta {
            offset,
            len,
            crc,
            count,
            ts_min,
            ts_max,
            stats,
        });
        offset = end.unwrap_or(offset);
        prev_max = Some(ts_max);
    }
    if blocks.is_empty() {
        return Err(DecodeError::invalid(at, "series without blocks"));
    }
    Ok(SegmentSeries {
        key,
        value_type,
        lossy,
        blocks,
    })
}
