//! The v2 index: one entry per series, varint-packed, so an index entry costs
//! a few bytes plus the block statistics (docs/FORMAT.md, "Segment v2 index").
//!
//! ```text
//! index  := n_series uvarint | series*
//! series := prefix uvarint | suffix_len uvarint | suffix |   key = previous key[..prefix] ‖ suffix
//!           value_type u8 | lossy u8 (0 none, 1 deadband, 2 swinging door) [| bound f64] |
//!           skip uvarint (first block offset - end of the previous series' blocks) |
//!           first_ts ivarint (wrapping difference from the previous series' first ts) |
//!           quantum uvarint (≥ 1; every gap and span below is in these units) |
//!           n_blocks uvarint (≥ 1) | block*
//! block  := len uvarint | crc u32 | count uvarint (1..=1024) |
//!           gap uvarint (first block: 0; else (ts_min - previous ts_max) / quantum > 0) |
//!           span uvarint ((ts_max - ts_min) / quantum) | stats
//! stats  := f64:  min u64 | max u64 | sum f64      (raw bits, LE)
//!           i64:  min ivarint | max ivarint | sum f64
//!           bool: bits u8 (1 min, 2 max) | ones uvarint
//! ```
//!
//! Sensors tick on whole seconds or milliseconds, so with the quantum a
//! block's time range costs two or three bytes instead of eleven; keys of one
//! machine share long prefixes. The first series starts right after the file
//! header.
//!
//! Invariants:
//! 1. A series' blocks are contiguous in the file: block k+1 starts where block
//!    k ends, so only the first offset is stored.
//! 2. Parsing checks every block lies in `[HEADER_LEN, index_offset)`, counts
//!    are in 1..=MAX_BLOCK_POINTS, and time ranges increase strictly across blocks
//!    without overflow; it allocates only in proportion to the bytes it has read.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::format::{BlockMeta, BlockStats, HEADER_LEN, MAX_BLOCK_POINTS};
use super::reader::SegmentSeries;
use crate::bytes::{put_ivarint, put_uvarint, Cursor, DecodeError};
use crate::codec::lossy::Lossy;
use crate::model::{SeriesKey, ValueType};

/// The fewest bytes one block entry can take (bool stats), to bound counts.
const MIN_BLOCK_ENTRY: usize = 1 + 4 + 1 + 1 + 1 + 1 + 1;

/// State carried from one series entry to the next (writer and parser alike).
#[derive(Default)]
pub struct IndexCursor {
    prev_key: String,
    prev_first_ts: i64,
    prev_end: Option<u64>,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl IndexCursor {
    /// Appends the entry of one series whose blocks are `blocks` (contiguous, ≥ 1).
    pub fn encode_series(
        &mut self,
        out: &mut Vec<u8>,
        key: &str,
        value_type: ValueType,
        lossy: Option<Lossy>,
        blocks: &[BlockMeta],
    ) {
        let prefix = self
            .prev_key
            .bytes()
            .zip(key.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        put_uvarint(out, prefix as u64);
        let suffix = key.as_bytes().get(prefix..).unwrap_or_default();
        put_uvarint(out, suffix.len() as u64);
        out.extend_from_slice(suffix);
        out.push(value_type.tag());
        match lossy {
            None => out.push(0),
            Some(l) => {
                out.push(l.kind_tag());
                out.extend_from_slice(&l.bound().to_le_bytes());
            }
        }
        let first = blocks.first().map_or(0, |b| b.offset);
        let expected = self.prev_end.unwrap_or(HEADER_LEN as u64);
        put_uvarint(out, first.wrapping_sub(expected));
        let first_ts = blocks.first().map_or(0, |b| b.ts_min);
        put_ivarint(out, first_ts.wrapping_sub(self.prev_first_ts));
        let mut quantum = 0;
        let mut prev_max: Option<i64> = None;
        for b in blocks {
            if let Some(p) = prev_max {
                quantum = gcd(quantum, (b.ts_min as u64).wrapping_sub(p as u64));
            }
            quantum = gcd(quantum, (b.ts_max as u64).wrapping_sub(b.ts_min as u64));
            prev_max = Some(b.ts_max);
        }
        let quantum = quantum.max(1);
        put_uvarint(out, quantum);
        put_uvarint(out, blocks.len() as u64);
        let mut prev_max: Option<i64> = None;
        for b in blocks {
            put_uvarint(out, u64::from(b.len));
            out.extend_from_slice(&b.crc.to_le_bytes());
            put_uvarint(out, u64::from(b.count));
            let gap = prev_max.map_or(0, |p| (b.ts_min as u64).wrapping_sub(p as u64));
            put_uvarint(out, gap / quantum);
            put_uvarint(
                out,
                (b.ts_max as u64).wrapping_sub(b.ts_min as u64) / quantum,
            );
            encode_stats(out, value_type, &b.stats);
            prev_max = Some(b.ts_max);
        }
        self.prev_key = key.to_string();
        self.prev_first_ts = first_ts;
        self.prev_end = blocks.last().map(|b| b.offset + u64::from(b.len));
    }

    /// Parses one series entry; `blocks_end` is where the index starts.
    pub fn parse_series(
        &mut self,
        c: &mut Cursor<'_>,
        blocks_end: u64,
    ) -> Result<SegmentSeries, DecodeError> {
        let at = c.offset();
        let prefix = c.uvarint_max(self.prev_key.len() as u64, "key prefix")?;
        let suffix_len = c.uvarint_max(u64::from(u16::MAX), "key suffix length")?;
        let mut key_bytes = self
            .prev_key
            .as_bytes()
            .get(..prefix)
            .unwrap_or_default()
            .to_vec();
        key_bytes.extend_from_slice(c.take(suffix_len)?);
        let key = String::from_utf8(key_bytes)
            .map_err(|_| DecodeError::invalid(at, "series key is not UTF-8"))?;
        let parsed = SeriesKey::parse(&key).map_err(|e| DecodeError::invalid(at, e.to_string()))?;
        let tag = c.u8()?;
        let value_type = ValueType::from_tag(tag)
            .ok_or_else(|| c.invalid(format!("unknown value type {tag}")))?;
        let lossy = parse_lossy(c)?;
        let skip = c.uvarint()?;
        let mut offset = self
            .prev_end
            .unwrap_or(HEADER_LEN as u64)
            .checked_add(skip)
            .ok_or_else(|| c.invalid("block offset overflows"))?;
        let first_ts = self.prev_first_ts.wrapping_add(c.ivarint()?);
        let quantum = c.uvarint()?;
        if quantum == 0 {
            return Err(c.invalid("time quantum 0"));
        }
        let max_blocks = (c.remaining() / MIN_BLOCK_ENTRY) as u64;
        let n_blocks = c.uvarint_max(max_blocks, "block count")?;
        if n_blocks == 0 {
            return Err(DecodeError::invalid(at, "series without blocks"));
        }
        let mut blocks = Vec::with_capacity(n_blocks);
        let mut prev_max: Option<i64> = None;
        for _ in 0..n_blocks {
            let at = c.offset();
            let len = c.uvarint_max(u64::from(u32::MAX), "block length")? as u32;
            let crc = c.u32()?;
            let count = c.uvarint_max(MAX_BLOCK_POINTS as u64, "block count")? as u32;
            let gap = i128::from(c.uvarint()?) * i128::from(quantum);
            let span = i128::from(c.uvarint()?) * i128::from(quantum);
            // Time arithmetic in i128, so every product and sum is exact.
            let ts_min = match prev_max {
                None if gap == 0 => Some(first_ts),
                Some(p) if gap > 0 => i64::try_from(i128::from(p) + gap).ok(),
                _ => None,
            };
            let ts_max = ts_min.and_then(|t| i64::try_from(i128::from(t) + span).ok());
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
        self.prev_key = key;
        self.prev_first_ts = first_ts;
        self.prev_end = Some(offset);
        Ok(SegmentSeries {
            key: parsed,
            value_type,
            lossy,
            blocks,
        })
    }
}

fn parse_lossy(c: &mut Cursor<'_>) -> Result<Option<Lossy>, DecodeError> {
    let at = c.offset();
    Ok(match c.u8()? {
        0 => None,
        kind @ (1 | 2) => {
            let bound = f64::from_bits(c.u64()?);
            if !(bound.is_finite() && bound > 0.0) {
                return Err(DecodeError::invalid(at, "lossy bound not finite and > 0"));
            }
            Lossy::from_tag(kind, bound)
        }
        k => return Err(DecodeError::invalid(at, format!("unknown lossy kind {k}"))),
    })
}

fn encode_stats(out: &mut Vec<u8>, value_type: ValueType, s: &BlockStats) {
    match value_type {
        ValueType::F64 => {
            for v in [s.min, s.max, s.sum.to_bits()] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        ValueType::I64 => {
            put_ivarint(out, s.min as i64);
            put_ivarint(out, s.max as i64);
            out.extend_from_slice(&s.sum.to_le_bytes());
        }
        ValueType::Bool => {
            out.push(u8::from(s.min != 0) | u8::from(s.max != 0) << 1);
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
            sum: f64::from_bits(c.u64()?),
        },
        ValueType::I64 => BlockStats {
            min: c.ivarint()? as u64,
            max: c.ivarint()? as u64,
            sum: f64::from_bits(c.u64()?),
        },
        ValueType::Bool => {
            let at = c.offset();
            let bits = c.u8()?;
            if bits > 3 {
                return Err(DecodeError::invalid(at, "bad bool statistics"));
            }
            let ones = c.uvarint_max(u64::from(count), "true count")?;
            BlockStats {
                min: u64::from(bits & 1),
                max: u64::from(bits >> 1),
                sum: ones as f64,
            }
        }
    })
}
