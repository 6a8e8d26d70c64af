//! [`BlockBuf`]: one decoded block in aligned buffers that are reused from
//! block to block, so the read path allocates nothing per block.
//!
//! Invariants:
//! 1. `ts()`, `values()` and the qualities hold the last block decoded into
//!    the buffer, `len` points each; after a failed decode `len` is 0.
//! 2. The series of one clock share timestamp sections (`FLAG_SHARED_TS` in
//!    `block.rs`): the first block carries the section, the later ones point
//!    back at its bytes. Every v2 section, carried or shared, is decoded once
//!    into a slot of the buffer's cache and `ts()` reads the slot, with no
//!    copy; the buffer's own timestamps serve v1 blocks. A slot matches only the
//!    same section bytes and count, compared in full, so nothing stale or
//!    colliding can match; a slot whose decode failed matches nothing.
//! 3. Memory is bounded: three block buffers plus at most [`SHARED_TS_SLOTS`]
//!    slots, each allocated once when first used.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::block::BlockLayout;
use crate::bytes::DecodeError;
use crate::codec::{self, Aligned};
use crate::model::Columns;

/// Shared timestamp sections a buffer keeps decoded at most.
const SHARED_TS_SLOTS: usize = 64;

/// One decoded block in aligned, reusable buffers.
#[derive(Clone, Default)]
pub struct BlockBuf {
    ts: Box<Aligned<i64>>,
    pub(crate) values: Box<Aligned<u64>>,
    pub(crate) quality: Box<Aligned<Option<u8>>>,
    /// Points in the block.
    pub len: usize,
    /// Whether the buffer holds this block's qualities (else all are absent).
    pub has_quality: bool,
    /// Where `ts()` reads: `None` the buffer's own, `Some(i)` cache slot i.
    ts_slot: Option<usize>,
    shared_ts: Vec<SharedTs>,
    next_evict: usize,
}

/// A decoded shared timestamp section.
#[derive(Clone, Default)]
struct SharedTs {
    section: Vec<u8>,
    ts: Box<Aligned<i64>>,
    /// Timestamps decoded from `section`; 0 while the slot is invalid.
    len: usize,
}

impl BlockBuf {
    /// The decoded timestamps.
    pub fn ts(&self) -> &[i64] {
        let ts = match self.ts_slot.and_then(|i| self.shared_ts.get(i)) {
            Some(slot) => &slot.ts.0,
            None => &self.ts.0,
        };
        ts.get(..self.len).unwrap_or_default()
    }

    /// The decoded values (raw bits of the series' type).
    pub fn values(&self) -> &[u64] {
        self.values.0.get(..self.len).unwrap_or_default()
    }

    /// The decoded qualities, if the block has any.
    pub fn quality(&self) -> Option<&[Option<u8>]> {
        self.has_quality
            .then(|| self.quality.0.get(..self.len).unwrap_or_default())
    }

    /// Copies the block into owned columns.
    pub fn to_columns(&self) -> Columns {
        Columns {
            ts: self.ts().to_vec(),
            values: self.values().to_vec(),
            quality: self.quality().map(<[_]>::to_vec),
        }
    }

    /// Fills the buffer from owned columns (v1 blocks, decoded the old way).
    pub(crate) fn fill_from(&mut self, cols: &Columns) {
        let n = cols.len().min(codec::BLOCK_LEN);
        self.ts_slot = None;
        for (d, s) in self.ts.0.iter_mut().zip(&cols.ts) {
            *d = *s;
        }
        for (d, s) in self.values.0.iter_mut().zip(&cols.values) {
            *d = *s;
        }
        self.has_quality = cols.quality.is_some();
        for (d, s) in self.quality.0.iter_mut().zip(cols.quality.iter().flatten()) {
            *d = *s;
        }
        self.len = n;
    }

    /// Decodes the timestamps of the block laid out by `l` into a cache slot,
    /// or finds them there already decoded.
    pub(crate) fn decode_ts(&mut self, l: &BlockLayout<'_>) -> Result<(), DecodeError> {
        let n = l.count;
        // A section of the block's own is cached too: the series after it
        // that share its clock point back at these same bytes, and find them
        // decoded instead of decoding them a second time.
        let hit = self
            .shared_ts
            .iter()
            .position(|s| s.len == n && s.section == l.ts);
        if let Some(i) = hit {
            self.ts_slot = Some(i);
            return Ok(());
        }
        let i = self.free_slot();
        self.ts_slot = Some(i);
        let Some(slot) = self.shared_ts.get_mut(i) else {
            return Ok(());
        };
        slot.len = 0;
        let ts = slot.ts.0.get_mut(..n).unwrap_or_default();
        codec::timestamps::decode(l.ts, l.ts_at, ts)?;
        slot.section.clear();
        slot.section.extend_from_slice(l.ts);
        slot.len = n;
        Ok(())
    }

    /// A slot to decode a new shared section into: a new one while there is
    /// room, then the slots in turn.
    fn free_slot(&mut self) -> usize {
        if self.shared_ts.len() < SHARED_TS_SLOTS {
            self.shared_ts.push(SharedTs::default());
            return self.shared_ts.len() - 1;
        }
        self.next_evict = (self.next_evict + 1) % SHARED_TS_SLOTS;
        self.next_evict
    }
}
