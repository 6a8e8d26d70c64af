//! Format v1, read only: one block and one index entry (docs/FORMAT.md,
//! "Segment v1"). Files of v1 stay readable forever (tests/golden_segments.rs);
//! this build writes v2 (block.rs, index.rs). The encoder is kept for tests.
//!
//! ```text
//! ts_codec u8 | value_codec u8 | quality_codec u8 | value_type u8 |
//! count u32 | ts_len u32 | values_len u32 | quality_len u32 |
//! ts bytes | value bytes | quality bytes | crc u32 (over everything before it)
//! ```
//! v1 codecs: timestamps `1` = first ts (i64) then LEB128 varints of the
//! (unsigned, non-zero) gaps; values `1` = raw u64 LE, `2` = zstd of raw;
//! qualities `0` = none, `1` = count presence bytes then count value bytes.
//!
//! Invariants:
//! 1. Timestamps in a block are strictly increasing; decode rejects anything else.
//! 2. Decoding checks the crc first, then every length against the block, and
//!    never allocates more than `count` (≤ MAX_BLOCK_POINTS) entries.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;

use super::format::{BlockMeta, BLOCK_META_LEN, HEADER_LEN, MAX_BLOCK_POINTS};
use super::reader::SegmentSeries;
use crate::bytes::{Cursor, DecodeError};
use crate::error::CorruptionKind;
use crate::model::{Columns, SeriesKey, ValueType};

const TS_DELTA_VARINT: u8 = 1;
const VALUES_RAW: u8 = 1;
const VALUES_ZSTD: u8 = 2;
const QUALITY_NONE: u8 = 0;
const QUALITY_PLAIN: u8 = 1;

/// Encodes `cols` (sorted, deduplicated, at most MAX_BLOCK_POINTS) into `out`.
/// Returns the block's crc.
#[cfg(test)]
pub fn encode_block(out: &mut Vec<u8>, value_type: ValueType, cols: &Columns) -> u32 {
    let start = out.len();
    let ts = encode_ts(&cols.ts);
    let mut raw = Vec::with_capacity(cols.len() * 8);
    crate::bytes::put_u64s(&mut raw, &cols.values);
    let (value_codec, values) = match zstd_compress(&raw) {
        Some(z) if z.len() * 10 < raw.len() * 9 => (VALUES_ZSTD, z),
        _ => (VALUES_RAW, raw),
    };
    let (quality_codec, quality) = match &cols.quality {
        Some(q) => {
            let mut b: Vec<u8> = q.iter().map(|q| u8::from(q.is_some())).collect();
            b.extend(q.iter().map(|q| q.unwrap_or(0)));
            (QUALITY_PLAIN, b)
        }
        None => (QUALITY_NONE, Vec::new()),
    };
    out.extend_from_slice(&[
        TS_DELTA_VARINT,
        value_codec,
        quality_codec,
        value_type.tag(),
    ]);
    for n in [cols.len(), ts.len(), values.len(), quality.len()] {
        out.extend_from_slice(&(n as u32).to_le_bytes());
    }
    out.extend_from_slice(&ts);
    out.extend_from_slice(&values);
    out.extend_from_slice(&quality);
    let crc = crc32fast::hash(out.get(start..).unwrap_or_default());
    out.extend_from_slice(&crc.to_le_bytes());
    crc
}

#[cfg(test)]
fn encode_ts(ts: &[i64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + ts.len() * 2);
    let Some(&first) = ts.first() else {
        return out;
    };
    out.extend_from_slice(&first.to_le_bytes());
    let mut prev = first;
    for &t in ts.iter().skip(1) {
        let mut gap = (t as u64).wrapping_sub(prev as u64);
        while gap >= 0x80 {
            out.push((gap as u8) | 0x80);
            gap >>= 7;
        }
        out.push(gap as u8);
        prev = t;
    }
    out
}

/// Decodes a whole v1 block (`buf` = exactly the block's bytes, at file offset `base`).
pub fn decode_block(buf: &[u8], base: u64, value_type: ValueType) -> Result<Columns, DecodeError> {
    let body_len = buf
        .len()
        .checked_sub(4)
        .ok_or_else(|| DecodeError::invalid(base, "block shorter than its crc"))?;
    let body = buf.get(..body_len).unwrap_or_default();
    let mut tail = Cursor::new(
        buf.get(body_len..).unwrap_or_default(),
        base + body_len as u64,
    );
    let stored = tail.u32()?;
    let got = crc32fast::hash(body);
    if got != stored {
        let kind = CorruptionKind::ChecksumMismatch {
            expected: stored,
            got,
        };
        return Err(DecodeError::new(base, kind));
    }
    let mut c = Cursor::new(body, base);
    let [ts_codec, value_codec, quality_codec, type_tag]: [u8; 4] = c.array()?;
    if type_tag != value_type.tag() {
        return Err(DecodeError::invalid(
            base + 3,
            "block value type differs from its series",
        ));
    }
    let count = c.u32()? as usize;
    if count == 0 || count > MAX_BLOCK_POINTS {
        return Err(DecodeError::invalid(
            base + 4,
            format!("block count {count} out of range"),
        ));
    }
    let ts_len = c.u32()? as usize;
    let values_len = c.u32()? as usize;
    let quality_len = c.u32()? as usize;
    let ts_at = c.offset();
    let ts = decode_ts(c.take(ts_len)?, ts_at, ts_codec, count)?;
    let values_at = c.offset();
    let values = decode_values(c.take(values_len)?, values_at, value_codec, count)?;
    let q_at = c.offset();
    let quality = decode_quality(c.take(quality_len)?, q_at, quality_codec, count)?;
    if c.remaining() != 0 {
        return Err(c.invalid("trailing bytes in block"));
    }
    Ok(Columns {
        ts,
        values,
        quality,
    })
}

fn decode_ts(buf: &[u8], base: u64, codec: u8, count: usize) -> Result<Vec<i64>, DecodeError> {
    if codec != TS_DELTA_VARINT {
        return Err(DecodeError::invalid(
            base,
            format!("unknown timestamp codec {codec}"),
        ));
    }
    let mut c = Cursor::new(buf, base);
    let mut prev = c.i64()?;
    let mut out = Vec::with_capacity(count);
    out.push(prev);
    let mut rest = buf.get(8..).unwrap_or_default().iter();
    while out.len() < count {
        let mut gap: u64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&b) = rest.next() else {
                return Err(DecodeError::invalid(base, "timestamps end early"));
            };
            if shift > 63 || (shift == 63 && b > 1) {
                return Err(DecodeError::invalid(base, "timestamp gap overflows"));
            }
            gap |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        let next = (prev as u64).wrapping_add(gap) as i64;
        if gap == 0 || next <= prev {
            return Err(DecodeError::invalid(
                base,
                "timestamps not strictly increasing",
            ));
        }
        out.push(next);
        prev = next;
    }
    if rest.next().is_some() {
        return Err(DecodeError::invalid(base, "trailing timestamp bytes"));
    }
    Ok(out)
}

fn decode_values(buf: &[u8], base: u64, codec: u8, count: usize) -> Result<Vec<u64>, DecodeError> {
    let raw_len = count * 8;
    let raw: std::borrow::Cow<'_, [u8]> = match codec {
        VALUES_RAW => buf.into(),
        VALUES_ZSTD => zstd_decompress(buf, raw_len)
            .map_err(|e| DecodeError::invalid(base, format!("zstd: {e}")))?
            .into(),
        _ => {
            return Err(DecodeError::invalid(
                base,
                format!("unknown value codec {codec}"),
            ))
        }
    };
    if raw.len() != raw_len {
        return Err(DecodeError::invalid(
            base,
            "value bytes do not match the count",
        ));
    }
    Cursor::new(&raw, base).u64s(count)
}

fn decode_quality(
    buf: &[u8],
    base: u64,
    codec: u8,
    count: usize,
) -> Result<Option<Vec<Option<u8>>>, DecodeError> {
    match codec {
        QUALITY_NONE if buf.is_empty() => Ok(None),
        QUALITY_PLAIN if buf.len() == 2 * count => {
            let (present, vals) = buf.split_at(count);
            let mut q = Vec::with_capacity(count);
            for (&p, &v) in present.iter().zip(vals) {
                match p {
                    0 if v == 0 => q.push(None),
                    1 => q.push(Some(v)),
                    _ => return Err(DecodeError::invalid(base, "bad quality presence byte")),
                }
            }
            Ok(Some(q))
        }
        _ => Err(DecodeError::invalid(base, "bad quality section")),
    }
}

thread_local! {
    // Creating a zstd context per block cost about 10% of import CPU.
    #[cfg(test)]
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { RefCell::new(None) };
}

/// zstd (level 3) with this thread's reusable context; None if zstd fails.
#[cfg(test)]
fn zstd_compress(raw: &[u8]) -> Option<Vec<u8>> {
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = zstd::bulk::Compressor::new(3).ok();
        }
        c.as_mut()?.compress(raw).ok()
    })
}

/// Decompresses at most `capacity` bytes with this thread's reusable context.
fn zstd_decompress(buf: &[u8], capacity: usize) -> std::io::Result<Vec<u8>> {
    DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_none() {
            *d = Some(zstd::bulk::Decompressor::new()?);
        }
        match d.as_mut() {
            Some(d) => d.decompress(buf, capacity),
            None => Err(std::io::Error::other("no zstd context")),
        }
    })
}

/// Parses one v1 index entry (`blocks_end` = where the index starts).
pub fn parse_series(c: &mut Cursor<'_>, blocks_end: u64) -> Result<SegmentSeries, DecodeError> {
    let at = c.offset();
    let key = SeriesKey::parse(c.str16()?).map_err(|e| DecodeError::invalid(at, e.to_string()))?;
    let tag = c.u8()?;
    let value_type =
        ValueType::from_tag(tag).ok_or_else(|| c.invalid(format!("unknown value type {tag}")))?;
    let n_blocks = c.count(BLOCK_META_LEN)?;
    let mut blocks = Vec::with_capacity(n_blocks);
    let mut prev_max: Option<i64> = None;
    for _ in 0..n_blocks {
        let at = c.offset();
        let b = BlockMeta::decode(c)?;
        let end = b.offset.checked_add(u64::from(b.len));
        let in_file = b.offset >= HEADER_LEN as u64 && end.is_some_and(|e| e <= blocks_end);
        let ordered = b.ts_min <= b.ts_max && prev_max.is_none_or(|p| p < b.ts_min);
        if !in_file || !ordered || b.count == 0 {
            return Err(DecodeError::invalid(
                at,
                "block entry out of bounds or out of order",
            ));
        }
        prev_max = Some(b.ts_max);
        blocks.push(b);
    }
    Ok(SegmentSeries {
        key,
        value_type,
        lossy: None,
        blocks,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn cols(ts: &[i64], vals: &[u64]) -> Columns {
        Columns {
            ts: ts.to_vec(),
            values: vals.to_vec(),
            quality: None,
        }
    }

    #[test]
    fn round_trips_extreme_timestamps() {
        let c = cols(&[i64::MIN, -1, 0, i64::MAX], &[1, 2, 3, u64::MAX]);
        let mut out = Vec::new();
        encode_block(&mut out, ValueType::I64, &c);
        assert_eq!(decode_block(&out, 0, ValueType::I64), Ok(c));
    }

    #[test]
    fn every_bit_flip_is_detected() {
        let mut c = cols(&[1, 2, 10], &[7, 8, 9]);
        c.quality = Some(vec![None, Some(192), None]);
        let mut out = Vec::new();
        encode_block(&mut out, ValueType::F64, &c);
        for bit in 0..out.len() * 8 {
            let mut b = out.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            assert!(decode_block(&b, 0, ValueType::F64).is_err(), "bit {bit}");
        }
        for cut in 0..out.len() {
            assert!(decode_block(&out[..cut], 0, ValueType::F64).is_err());
        }
    }
}
