//! One v2 block: up to [`MAX_BLOCK_POINTS`] points of one series, each column
//! encoded by `crate::codec` (docs/FORMAT.md, "Segment v2 block").
//!
//! ```text
//! block := flags u8 (1 qualities present, 2 timestamps shared) | value_type u8 |
//!          count uvarint | [ts_back uvarint if shared] | ts_len uvarint |
//!          values_len uvarint | [quality_len uvarint if qualities] |
//!          [ts section unless shared] | values section | [quality section] |
//!          crc u32
//! crc   := crc32(every byte of the block before the crc ‖ the shared ts section)
//! ```
//!
//! A block whose encoded timestamps equal those of an earlier block of the
//! same file (the sensors of one machine share a clock) stores no timestamps:
//! `ts_back` is the distance from its own start back to that section.
//!
//! Invariants:
//! 1. Timestamps in a block are strictly increasing; decode rejects anything else.
//! 2. Decoding checks the crc (covering a shared section too) before parsing,
//!    then every length against the block; a shared section must lie wholly
//!    before the block, after the file header.
//! 3. Decoders write into caller-owned aligned buffers ([`BlockBuf`]); nothing is
//!    allocated per block on the read path.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use super::block_buf::BlockBuf;
use super::format::{HEADER_LEN, MAX_BLOCK_POINTS};
use crate::bytes::{put_uvarint, Cursor, DecodeError};
use crate::codec::{self, CodecId};
use crate::error::CorruptionKind;
use crate::model::columns::room;
use crate::model::{Columns, ValueType};

const FLAG_QUALITY: u8 = 1;
const FLAG_SHARED_TS: u8 = 2;

/// Encoded timestamp sections already in the file, by content, so equal ones
/// are stored once. Bounded: when it grows past its budget it starts over.
#[derive(Default)]
pub struct TsShare {
    /// (crc, length) → (file offset, section bytes) of sections written.
    by_hash: HashMap<(u32, usize), Vec<SectionAt>>,
    bytes: usize,
}

/// A timestamp section at a file offset.
type SectionAt = (u64, Vec<u8>);

/// Memory the share table may hold before it is cleared.
const TS_SHARE_BUDGET: usize = 8 << 20;

impl TsShare {
    fn find(&self, section: &[u8], hash: u32) -> Option<u64> {
        let list = self.by_hash.get(&(hash, section.len()))?;
        list.iter()
            .find(|(_, bytes)| bytes.as_slice() == section)
            .map(|(at, _)| *at)
    }

    fn insert(&mut self, section: &[u8], hash: u32, at: u64) {
        if self.bytes + section.len() > TS_SHARE_BUDGET {
            self.by_hash.clear();
            self.bytes = 0;
        }
        self.bytes += section.len() + 32;
        self.by_hash
            .entry((hash, section.len()))
            .or_default()
            .push((at, section.to_vec()));
    }
}

/// Reusable encoder buffers.
#[derive(Default)]
pub struct BlockEncoder {
    ts: Vec<u8>,
    values: Vec<u8>,
    quality: Vec<u8>,
    ints: Vec<i64>,
    header: Vec<u8>,
    pub share: TsShare,
}

impl BlockEncoder {
    /// Encodes `cols` (sorted, deduplicated, 1..=MAX_BLOCK_POINTS points) into
    /// `out`, whose end is at file offset `at`. Returns the block's crc.
    pub fn encode(
        &mut self,
        out: &mut Vec<u8>,
        at: u64,
        value_type: ValueType,
        cols: &Columns,
    ) -> u32 {
        self.ts.clear();
        self.values.clear();
        self.quality.clear();
        self.header.clear();
        codec::timestamps::encode(&cols.ts, &mut self.ts);
        match value_type {
            ValueType::F64 => codec::floats::encode(&cols.values, &mut self.values),
            ValueType::I64 | ValueType::Bool => {
                self.ints.clear();
                self.ints.extend(cols.values.iter().map(|&v| v as i64));
                codec::ints::encode(&self.ints, &mut self.values);
            }
        }
        if let Some(q) = &cols.quality {
            codec::rle::encode_quality(q, &mut self.quality);
        }
        let ts_hash = crc32fast::hash(&self.ts);
        let shared = self.share.find(&self.ts, ts_hash);
        let mut flags = 0;
        if cols.quality.is_some() {
            flags |= FLAG_QUALITY;
        }
        if shared.is_some() {
            flags |= FLAG_SHARED_TS;
        }
        self.header.push(flags);
        self.header.push(value_type.tag());
        put_uvarint(&mut self.header, cols.len() as u64);
        if let Some(ts_at) = shared {
            put_uvarint(&mut self.header, at - ts_at);
        }
        put_uvarint(&mut self.header, self.ts.len() as u64);
        put_uvarint(&mut self.header, self.values.len() as u64);
        if cols.quality.is_some() {
            put_uvarint(&mut self.header, self.quality.len() as u64);
        }
        let start = out.len();
        out.extend_from_slice(&self.header);
        if shared.is_none() {
            self.share
                .insert(&self.ts, ts_hash, at + self.header.len() as u64);
            out.extend_from_slice(&self.ts);
        }
        out.extend_from_slice(&self.values);
        out.extend_from_slice(&self.quality);
        let mut h = crc32fast::Hasher::new();
        h.update(out.get(start..).unwrap_or_default());
        if shared.is_some() {
            h.update(&self.ts);
        }
        let crc = h.finalize();
        out.extend_from_slice(&crc.to_le_bytes());
        crc
    }
}

/// Where a block's sections are, once its header is parsed.
pub struct BlockLayout<'a> {
    pub count: usize,
    pub ts: &'a [u8],
    pub ts_at: u64,
    pub ts_shared: bool,
    pub values: &'a [u8],
    pub values_at: u64,
    pub quality: Option<(&'a [u8], u64)>,
}

/// The file range of the timestamp section the block at `offset..offset+len`
/// shares with an earlier block, from its header alone (for a prefetch hint:
/// nothing is checked against the crc, which the decode that follows does).
pub fn shared_ts_span(file: &[u8], offset: u64, len: u32) -> Option<std::ops::Range<usize>> {
    let block = file.get(offset as usize..offset.checked_add(u64::from(len))? as usize)?;
    let head = read_header(&mut Cursor::new(block, offset), offset, len).ok()?;
    let r = head.shared_range(offset).ok()??;
    Some(usize::try_from(r.start).ok()?..usize::try_from(r.end).ok()?)
}

/// A block's header fields, each bounded by the block or the file, before
/// the crc is checked.
struct Header {
    flags: u8,
    type_tag: u8,
    count: usize,
    /// Distance back to a shared timestamp section.
    ts_back: Option<u64>,
    ts_len: usize,
    values_len: usize,
    quality_len: Option<usize>,
}

fn read_header(c: &mut Cursor<'_>, offset: u64, len: u32) -> Result<Header, DecodeError> {
    let flags = c.u8()?;
    let type_tag = c.u8()?;
    let count = c.uvarint_max(MAX_BLOCK_POINTS as u64, "block count")?;
    let ts_back = if flags & FLAG_SHARED_TS != 0 {
        Some(c.uvarint()?)
    } else {
        None
    };
    // A shared section lies before the block, so only the offset bounds it.
    let ts_bound = if ts_back.is_some() {
        offset
    } else {
        u64::from(len)
    };
    let ts_len = c.uvarint_max(ts_bound, "timestamp section length")?;
    let values_len = c.uvarint_max(u64::from(len), "value section length")?;
    let quality_len = if flags & FLAG_QUALITY != 0 {
        Some(c.uvarint_max(u64::from(len), "quality section length")?)
    } else {
        None
    };
    Ok(Header {
        flags,
        type_tag,
        count,
        ts_back,
        ts_len,
        values_len,
        quality_len,
    })
}

impl Header {
    /// The file range of the shared timestamp section (None when the block
    /// has its own); an error unless it lies wholly between the file header
    /// and the block at `offset`.
    fn shared_range(&self, offset: u64) -> Result<Option<std::ops::Range<u64>>, DecodeError> {
        let Some(back) = self.ts_back else {
            return Ok(None);
        };
        let at = offset.checked_sub(back).filter(|&a| a >= HEADER_LEN as u64);
        let end = at.and_then(|a| a.checked_add(self.ts_len as u64));
        match (at, end) {
            (Some(a), Some(e)) if e <= offset => Ok(Some(a..e)),
            _ => Err(DecodeError::invalid(
                offset,
                "shared timestamps outside the file",
            )),
        }
    }
}

/// Checks the crc and parses the header of the block at `offset..offset+len`
/// of `file`.
pub fn parse_block<'a>(
    file: &'a [u8],
    offset: u64,
    len: u32,
    value_type: ValueType,
) -> Result<BlockLayout<'a>, DecodeError> {
    let end = offset.checked_add(u64::from(len));
    let block = end
        .and_then(|e| file.get(offset as usize..e as usize))
        .ok_or_else(|| DecodeError::invalid(offset, "block outside the file"))?;
    let body_len = block
        .len()
        .checked_sub(4)
        .ok_or_else(|| DecodeError::invalid(offset, "block shorter than its crc"))?;
    let (body, crc_bytes) = block.split_at(body_len);
    let stored = u32::from_le_bytes(crc_bytes.try_into().unwrap_or([0; 4]));
    let mut c = Cursor::new(body, offset);
    let head = read_header(&mut c, offset, len)?;
    // The shared section is located before the crc is known good, but only
    // read (hashed) when it lies wholly between the header and this block.
    let shared = head.shared_range(offset)?.map(|r| {
        (
            file.get(r.start as usize..r.end as usize)
                .unwrap_or_default(),
            r.start,
        )
    });
    let Header {
        flags,
        type_tag,
        count,
        ts_len,
        values_len,
        quality_len,
        ..
    } = head;
    let mut h = crc32fast::Hasher::new();
    h.update(body);
    if let Some((ts, _)) = shared {
        h.update(ts);
    }
    let got = h.finalize();
    if got != stored {
        let kind = CorruptionKind::ChecksumMismatch {
            expected: stored,
            got,
        };
        return Err(DecodeError::new(offset, kind));
    }
    if flags & !(FLAG_QUALITY | FLAG_SHARED_TS) != 0 {
        return Err(DecodeError::invalid(
            offset,
            format!("unknown block flags {flags:#x}"),
        ));
    }
    if type_tag != value_type.tag() {
        return Err(DecodeError::invalid(
            offset + 1,
            "block value type differs from its series",
        ));
    }
    if count == 0 {
        return Err(DecodeError::invalid(offset + 2, "empty block"));
    }
    let (ts, ts_at) = match shared {
        Some(s) => s,
        None => {
            let at = c.offset();
            (c.take(ts_len)?, at)
        }
    };
    let values_at = c.offset();
    let values = c.take(values_len)?;
    let quality = match quality_len {
        Some(n) => {
            let at = c.offset();
            Some((c.take(n)?, at))
        }
        None => None,
    };
    if c.remaining() != 0 {
        return Err(c.invalid("trailing bytes in block"));
    }
    Ok(BlockLayout {
        count,
        ts,
        ts_at,
        ts_shared: shared.is_some(),
        values,
        values_at,
        quality,
    })
}

/// Decodes the block at `offset..offset+len` of `file` into `out`.
pub fn decode_block_into(
    file: &[u8],
    offset: u64,
    len: u32,
    value_type: ValueType,
    out: &mut BlockBuf,
) -> Result<(), DecodeError> {
    let l = parse_block(file, offset, len, value_type)?;
    let n = l.count;
    out.len = 0;
    out.decode_ts(&l)?;
    decode_values(
        &l,
        value_type,
        out.values.0.get_mut(..n).unwrap_or_default(),
    )?;
    out.has_quality = false;
    if let Some((q, at)) = l.quality {
        let quality = out.quality.0.get_mut(..n).unwrap_or_default();
        codec::rle::decode_quality(q, at, quality)?;
        out.has_quality = true;
    }
    out.len = n;
    Ok(())
}

/// Decodes the block at `offset..offset+len` of `file` straight into `out`
/// at point `at` (a scan's own columns: no intermediate buffer, no copy),
/// growing the columns only when they are shorter than `at` plus the block,
/// so a buffer reused from scan to scan is written without being cleared or
/// zeroed first. Points past `at` plus the block are left as they were (the
/// caller truncates at the end). Only qualities, when the block has any, pass
/// through `scratch`. Returns the number of points written.
pub fn decode_block_at(
    file: &[u8],
    offset: u64,
    len: u32,
    value_type: ValueType,
    out: &mut Columns,
    at: usize,
    scratch: &mut BlockBuf,
) -> Result<usize, DecodeError> {
    let l = parse_block(file, offset, len, value_type)?;
    let n = l.count;
    let ts = room(&mut out.ts, at, n);
    codec::timestamps::decode(l.ts, l.ts_at, ts)?;
    decode_values(&l, value_type, room(&mut out.values, at, n))?;
    match l.quality {
        Some((q, at_q)) => {
            let quality = scratch.quality.0.get_mut(..n).unwrap_or_default();
            codec::rle::decode_quality(q, at_q, quality)?;
            let all = out.quality.get_or_insert_with(Vec::new);
            all.resize(all.len().max(at), None);
            room(all, at, n).copy_from_slice(quality);
        }
        None => {
            if let Some(all) = out.quality.as_mut() {
                room(all, at, n).fill(None);
            }
        }
    }
    Ok(n)
}

/// Decodes the value section of `l` into `values` (`l.count` long).
fn decode_values(
    l: &BlockLayout<'_>,
    value_type: ValueType,
    values: &mut [u64],
) -> Result<(), DecodeError> {
    match value_type {
        ValueType::F64 => codec::floats::decode(l.values, l.values_at, values),
        ValueType::I64 | ValueType::Bool => {
            codec::ints::decode_words(l.values, l.values_at, values)?;
            if value_type == ValueType::Bool && values.iter().any(|&v| v > 1) {
                return Err(DecodeError::invalid(
                    l.values_at,
                    "bool value other than 0 or 1",
                ));
            }
            Ok(())
        }
    }
}

/// Where a block's bytes go, for `historian stats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockBreakdown {
    pub ts_codec: CodecId,
    /// The timestamps are another block's section (and cost no bytes here).
    pub ts_shared: bool,
    pub ts_bytes: u64,
    pub value_codec: CodecId,
    pub value_bytes: u64,
    pub quality_codec: Option<CodecId>,
    pub quality_bytes: u64,
    /// Block header and crc.
    pub overhead_bytes: u64,
}

/// The codecs and section sizes of the block at `offset..offset+len` of `file`.
pub fn block_breakdown(
    file: &[u8],
    offset: u64,
    len: u32,
    value_type: ValueType,
) -> Result<BlockBreakdown, DecodeError> {
    let l = parse_block(file, offset, len, value_type)?;
    let ts_bytes = if l.ts_shared { 0 } else { l.ts.len() as u64 };
    let value_bytes = l.values.len() as u64;
    let (quality_codec, quality_bytes) = match l.quality {
        Some((q, at)) => (Some(CodecId::of_section(q, at)?), q.len() as u64),
        None => (None, 0),
    };
    Ok(BlockBreakdown {
        ts_codec: CodecId::of_section(l.ts, l.ts_at)?,
        ts_shared: l.ts_shared,
        ts_bytes,
        value_codec: CodecId::of_section(l.values, l.values_at)?,
        value_bytes,
        quality_codec,
        quality_bytes,
        overhead_bytes: u64::from(len) - ts_bytes - value_bytes - quality_bytes,
    })
}
