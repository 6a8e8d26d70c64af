//! An open, immutable segment: its mapped bytes and its decoded index.
//!
//! Invariants:
//! 1. `open` checks header, footer and index checksums and that every block
//!    lies between the header and the index; blocks are checked (crc in the
//!    block and in the index entry) each time they are read.
//! 2. A `Segment` never changes after open. When it is marked obsolete, its file
//!    is removed once the last `Arc<Segment>` (held by versions and queries)
//!    is dropped, so no query ever loses a file it is reading.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::block::{block_breakdown, decode_block_at, decode_block_into, BlockBreakdown};
use super::block_buf::BlockBuf;
use super::format::{check_header, BlockMeta, Footer, FOOTER_LEN, HEADER_LEN};
use super::{index, v1};
use crate::bytes::{Cursor, DecodeError};
use crate::codec::lossy::Lossy;
use crate::error::{Error, Result};
use crate::model::{Columns, SeriesKey, ValueType};
use crate::vfs::{Mapping, Vfs};

/// The index entry of one series in a segment.
#[derive(Debug)]
pub struct SegmentSeries {
    pub key: SeriesKey,
    pub value_type: ValueType,
    /// The lossy setting the points were stored with (always None in v1).
    pub lossy: Option<Lossy>,
    pub blocks: Vec<BlockMeta>,
}

/// An open segment file.
pub struct Segment {
    pub id: u64,
    path: String,
    map: Mapping,
    version: u16,
    series: Vec<SegmentSeries>,
    by_key: HashMap<SeriesKey, usize>,
    points: u64,
    obsolete: AtomicBool,
    vfs: Arc<dyn Vfs>,
}

impl std::fmt::Debug for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segment").field("path", &self.path).finish()
    }
}

impl Segment {
    /// Maps and validates the segment at `path`.
    pub fn open(vfs: Arc<dyn Vfs>, path: &str, id: u64) -> Result<Segment> {
        let map = vfs.map_readonly(path).map_err(|e| Error::io(path, e))?;
        let (version, series) = parse_index((*map).as_ref()).map_err(|e| e.into_error(path))?;
        let mut by_key = HashMap::with_capacity(series.len());
        let mut points = 0;
        for (i, s) in series.iter().enumerate() {
            points += s.blocks.iter().map(|b| u64::from(b.count)).sum::<u64>();
            if by_key.insert(s.key.clone(), i).is_some() {
                let msg = format!("series {} listed twice", s.key);
                return Err(DecodeError::invalid(0, msg).into_error(path));
            }
        }
        Ok(Segment {
            id,
            path: path.to_string(),
            map,
            version,
            series,
            by_key,
            points,
            obsolete: AtomicBool::new(false),
            vfs,
        })
    }

    /// The file's path relative to the engine root.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The file's format version.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// File length in bytes.
    pub fn file_len(&self) -> u64 {
        (*self.map).as_ref().len() as u64
    }

    /// Points stored (sum of block counts).
    pub fn points(&self) -> u64 {
        self.points
    }

    /// Every series of the segment.
    pub fn series(&self) -> &[SegmentSeries] {
        &self.series
    }

    /// The index entry of `key`, if the segment holds it.
    pub fn find(&self, key: &SeriesKey) -> Option<&SegmentSeries> {
        self.by_key.get(key).and_then(|&i| self.series.get(i))
    }

    /// Decodes one block of a series into `buf`, checking both checksums and
    /// that the block matches its index entry.
    pub fn decode_block_into(
        &self,
        series: &SegmentSeries,
        block: &BlockMeta,
        buf: &mut BlockBuf,
    ) -> Result<()> {
        self.check_block_crc(block)?;
        let bytes = (*self.map).as_ref();
        if self.version == 1 {
            let cols = self.read_block_v1(series, block)?;
            buf.fill_from(&cols);
            return Ok(());
        }
        decode_block_into(bytes, block.offset, block.len, series.value_type, buf)
            .map_err(|e| e.into_error(&self.path))?;
        if buf.len != block.count as usize
            || buf.ts().first() != Some(&block.ts_min)
            || buf.ts().last() != Some(&block.ts_max)
        {
            let msg = "block contents differ from its index entry";
            return Err(DecodeError::invalid(block.offset, msg).into_error(&self.path));
        }
        Ok(())
    }

    /// Decodes one block of a series into `out` at point `at` with no copy
    /// (see [`super::block::decode_block_at`]; `scratch` only carries
    /// qualities, and v1 blocks, decoded the old way). Returns the number of
    /// points written.
    pub fn decode_block_at(
        &self,
        series: &SegmentSeries,
        block: &BlockMeta,
        out: &mut Columns,
        at: usize,
        scratch: &mut BlockBuf,
    ) -> Result<usize> {
        if self.version == 1 {
            self.decode_block_into(series, block, scratch)?;
            out.truncate(at);
            out.extend_from(&scratch.to_columns());
            return Ok(scratch.len);
        }
        self.check_block_crc(block)?;
        let bytes = (*self.map).as_ref();
        let vt = series.value_type;
        let n = decode_block_at(bytes, block.offset, block.len, vt, out, at, scratch)
            .map_err(|e| e.into_error(&self.path))?;
        if n != block.count as usize
            || out.ts.get(at) != Some(&block.ts_min)
            || out.ts.get(at + n - 1) != Some(&block.ts_max)
        {
            let msg = "block contents differ from its index entry";
            return Err(DecodeError::invalid(block.offset, msg).into_error(&self.path));
        }
        Ok(n)
    }

    /// Decodes one block of a series into owned columns.
    pub fn read_block(&self, series: &SegmentSeries, block: &BlockMeta) -> Result<Columns> {
        if self.version == 1 {
            self.check_block_crc(block)?;
            return self.read_block_v1(series, block);
        }
        let mut buf = BlockBuf::default();
        self.decode_block_into(series, block, &mut buf)?;
        Ok(buf.to_columns())
    }

    /// The codecs and section sizes of one block; None for v1 blocks, whose
    /// codecs predate `crate::codec`.
    pub fn block_breakdown(
        &self,
        series: &SegmentSeries,
        block: &BlockMeta,
    ) -> Result<Option<BlockBreakdown>> {
        if self.version == 1 {
            return Ok(None);
        }
        let bytes = (*self.map).as_ref();
        block_breakdown(bytes, block.offset, block.len, series.value_type)
            .map(Some)
            .map_err(|e| e.into_error(&self.path))
    }

    /// Hints the CPU to start loading a block's bytes, so that reading it
    /// next does not wait on memory. Decoders call it for the block they
    /// visit next; a block outside the file is ignored (decoding reports it).
    pub fn prefetch_block(&self, block: &BlockMeta) {
        let bytes = (*self.map).as_ref();
        let start = usize::try_from(block.offset).unwrap_or(usize::MAX);
        let end = start.saturating_add(block.len as usize);
        if let Some(b) = bytes.get(start..end) {
            crate::codec::isa::prefetch(b);
        }
    }

    /// As [`Segment::prefetch_block`] for the timestamp section a v2 block
    /// shares with an earlier block (often another series' block, far away
    /// in the file). It reads the block's header, so call it once the block
    /// itself was prefetched a while before.
    pub fn prefetch_shared_ts(&self, block: &BlockMeta) {
        if self.version == 1 {
            return;
        }
        let bytes = (*self.map).as_ref();
        let span = super::block::shared_ts_span(bytes, block.offset, block.len);
        if let Some(b) = span.and_then(|r| bytes.get(r)) {
            crate::codec::isa::prefetch(b);
        }
    }

    /// Checks the block's stored crc against its index entry (a misdirected
    /// write leaves a valid block where another was expected).
    fn check_block_crc(&self, block: &BlockMeta) -> Result<()> {
        let bytes = (*self.map).as_ref();
        let end = block.offset.checked_add(u64::from(block.len));
        let buf = end
            .and_then(|e| bytes.get(block.offset as usize..e as usize))
            .ok_or_else(|| DecodeError::invalid(block.offset, "block outside the file"))
            .map_err(|e| e.into_error(&self.path))?;
        let crc_at = buf.len().saturating_sub(4);
        let stored = buf
            .get(crc_at..)
            .map(|b| b.iter().rev().fold(0u32, |a, &x| a << 8 | u32::from(x)));
        if stored != Some(block.crc) {
            let msg = "block crc differs from its index entry (misdirected write?)";
            return Err(DecodeError::invalid(block.offset, msg).into_error(&self.path));
        }
        Ok(())
    }

    fn read_block_v1(&self, series: &SegmentSeries, block: &BlockMeta) -> Result<Columns> {
        let bytes = (*self.map).as_ref();
        let buf = bytes
            .get(block.offset as usize..(block.offset + u64::from(block.len)) as usize)
            .unwrap_or_default();
        let cols = v1::decode_block(buf, block.offset, series.value_type)
            .map_err(|e| e.into_error(&self.path))?;
        if cols.len() != block.count as usize
            || cols.ts.first() != Some(&block.ts_min)
            || cols.ts.last() != Some(&block.ts_max)
        {
            let msg = "block contents differ from its index entry";
            return Err(DecodeError::invalid(block.offset, msg).into_error(&self.path));
        }
        Ok(cols)
    }

    /// Reads every block of every series (used by `verify`).
    pub fn verify(&self) -> Result<u64> {
        let mut points = 0;
        let mut buf = BlockBuf::default();
        for s in &self.series {
            for b in &s.blocks {
                self.decode_block_into(s, b, &mut buf)?;
                points += buf.len as u64;
            }
        }
        Ok(points)
    }

    /// Marks the file for removal once the last reference is gone.
    pub fn mark_obsolete(&self) {
        self.obsolete.store(true, Ordering::SeqCst);
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        if self.obsolete.load(Ordering::SeqCst) {
            // Best effort: a file left behind is collected at the next open.
            let _ = self.vfs.remove(&self.path);
        }
    }
}

fn parse_index(bytes: &[u8]) -> Result<(u16, Vec<SegmentSeries>), DecodeError> {
    let version = check_header(bytes)?;
    let footer_at = bytes
        .len()
        .checked_sub(FOOTER_LEN)
        .filter(|&f| f >= HEADER_LEN)
        .ok_or_else(|| DecodeError::invalid(0, "file too short for a segment"))?;
    let footer = Footer::decode(bytes.get(footer_at..).unwrap_or_default(), footer_at as u64)?;
    let index_end = footer.index_offset.checked_add(footer.index_len);
    if footer.version != version {
        return Err(DecodeError::invalid(
            footer_at as u64 + 20,
            "footer version differs from the header's",
        ));
    }
    if footer.index_offset < HEADER_LEN as u64 || index_end != Some(footer_at as u64) {
        return Err(DecodeError::invalid(
            footer_at as u64,
            "index bounds do not fit the file",
        ));
    }
    let index = bytes
        .get(footer.index_offset as usize..footer_at)
        .unwrap_or_default();
    let got = crc32fast::hash(index);
    if got != footer.index_crc {
        let kind = crate::error::CorruptionKind::ChecksumMismatch {
            expected: footer.index_crc,
            got,
        };
        return Err(DecodeError::new(footer.index_offset, kind));
    }
    let mut c = Cursor::new(index, footer.index_offset);
    let n = if version == 1 {
        c.count(1)?
    } else {
        c.uvarint_max(c.remaining() as u64, "series count")?
    };
    let mut series = Vec::with_capacity(n.min(1 << 16));
    let mut cursor = index::IndexCursor::default();
    for _ in 0..n {
        series.push(if version == 1 {
            v1::parse_series(&mut c, footer.index_offset)?
        } else {
            cursor.parse_series(&mut c, footer.index_offset)?
        });
    }
    if c.remaining() != 0 {
        return Err(c.invalid("trailing bytes in the index"));
    }
    Ok((version, series))
}
