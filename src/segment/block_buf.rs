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
//!    slots, each allocated once when first used. A new slot is allocated only
//!    while every slot was used in the last [`SHARED_TS_SLOTS`] lookups;
//!    otherwise the least recently used one is taken. The series of a clock are
//!    usually read one after another, so a scan holds a few slots, not 64
//!    freshly zeroed 8 KiB buffers (in the SKAB decode profile their zeroing
//!    and allocation were 3% of the time, and they pushed the data out of L2).
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
    /// Timestamp lookups so far, the clock of the slots' `last_used`.
    lookups: u64,
}

/// A decoded shared timestamp section.
#[derive(Clone, Default)]
struct SharedTs {
    section: Vec<u8>,
    ts: Box<Aligned<i64>>,
    /// Timestamps decoded from `section`; 0 while the slot is invalid.
    len: usize,
    /// The lookup that last found or filled this slot.
    last_used: u64,
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
        self.lookups += 1;
        // A section of the block's own is cached too: the series after it
        // that share its clock point back at these same bytes, and find them
        // decoded instead of decoding them a second time.
        let hit = self
            .shared_ts
            .iter()
            .position(|s| s.len == n && s.section == l.ts);
        if let Some(i) = hit {
            self.ts_slot = Some(i);
            if let Some(slot) = self.shared_ts.get_mut(i) {
                slot.last_used = self.lookups;
            }
            return Ok(());
        }
        let i = self.free_slot();
        self.ts_slot = Some(i);
        let Some(slot) = self.shared_ts.get_mut(i) else {
            return Ok(());
        };
        slot.len = 0;
        slot.last_used = self.lookups;
        let ts = slot.ts.0.get_mut(..n).unwrap_or_default();
        codec::timestamps::decode(l.ts, l.ts_at, ts)?;
        slot.section.clear();
        slot.section.extend_from_slice(l.ts);
        slot.len = n;
        Ok(())
    }

    /// A slot to decode a new section into: the least recently used one if
    /// it has gone unused for [`SHARED_TS_SLOTS`] lookups or no slot is left
    /// to allocate, else a new one.
    fn free_slot(&mut self) -> usize {
        let full = self.shared_ts.len() >= SHARED_TS_SLOTS;
        let lru = self
            .shared_ts
            .iter()
            .enumerate()
            .min_by_key(|(_, s)| s.last_used);
        match lru {
            Some((i, s)) if full || self.lookups - s.last_used > SHARED_TS_SLOTS as u64 => i,
            _ => {
                self.shared_ts.push(SharedTs::default());
                self.shared_ts.len() - 1
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const N: usize = 100;

    /// The encoded section of a jittered clock starting at `t0`.
    fn section(t0: i64) -> Vec<u8> {
        let ts: Vec<i64> = (0..N as i64).map(|i| t0 + i * 1000 + i % 7).collect();
        let mut b = Vec::new();
        codec::timestamps::encode(&ts, &mut b);
        b
    }

    /// Looks up `sec` as a block would; returns the slot it is read from.
    fn lookup(buf: &mut BlockBuf, sec: &[u8], t0: i64) -> usize {
        let l = BlockLayout {
            count: N,
            ts: sec,
            ts_at: 0,
            ts_shared: true,
            values: &[],
            values_at: 0,
            quality: None,
        };
        buf.decode_ts(&l).unwrap();
        buf.len = N;
        assert_eq!((buf.ts()[0], buf.ts()[N - 1]), (t0, t0 + 99_000 + 99 % 7));
        buf.ts_slot.unwrap()
    }

    #[test]
    fn a_scan_clock_by_clock_reuses_a_few_slots() {
        let mut buf = BlockBuf::default();
        for c in 0..200 {
            let t0 = c * 1_000_000;
            let sec = section(t0);
            let slot = lookup(&mut buf, &sec, t0);
            for _ in 1..8 {
                assert_eq!(lookup(&mut buf, &sec, t0), slot, "clock {c} decoded again");
            }
        }
        // A slot goes stale 64 lookups (eight clocks) after its last use.
        assert!(buf.shared_ts.len() <= 10, "{} slots", buf.shared_ts.len());
    }

    #[test]
    fn interleaved_clocks_keep_their_slots() {
        let mut buf = BlockBuf::default();
        let sections: Vec<_> = (0..40).map(|c| section(c * 1_000_000)).collect();
        let slots: Vec<_> = (0..40)
            .map(|c| lookup(&mut buf, &sections[c], c as i64 * 1_000_000))
            .collect();
        for _ in 0..5 {
            for c in 0..40 {
                let slot = lookup(&mut buf, &sections[c], c as i64 * 1_000_000);
                assert_eq!(slot, slots[c], "clock {c} lost its slot");
            }
        }
        assert_eq!(buf.shared_ts.len(), 40);
        // More clocks than slots: the least recently used is evicted, and
        // every lookup still reads its own clock.
        for c in 0..200 {
            let sec = section(c * 1_000_000);
            lookup(&mut buf, &sec, c * 1_000_000);
        }
        assert_eq!(buf.shared_ts.len(), SHARED_TS_SLOTS);
    }
}
