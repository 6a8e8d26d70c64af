//! Full decode of a tenant's stored points, for measuring decode speed: every
//! timestamp and every value of every segment block is decoded and summed, so
//! nothing can be optimised away. Memtables are not included (flush first).
//!
//! Invariant: the totals depend only on the stored points, never on how the
//! blocks were encoded, so two builds (or two codecs) can be compared by them.

use std::sync::Arc;

use crate::codec::isa::vectorized;
use crate::engine::Tenant;
use crate::error::Result;
use crate::model::ValueType;
use crate::segment::BlockBuf;

/// What a full decode saw.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DecodeTotals {
    /// Points decoded.
    pub points: u64,
    /// Blocks decoded.
    pub blocks: u64,
    /// Wrapping sum of every timestamp.
    pub ts_sum: i64,
    /// Sum of every f64 value (NaN if any value is NaN).
    pub f64_sum: f64,
    /// Wrapping sum of every i64 and bool value.
    pub int_sum: i64,
}

impl Tenant {
    /// Decodes every block of every live segment of this tenant, one block at
    /// a time into reused aligned buffers.
    ///
    /// Within a segment the blocks are visited block-major (block 0 of every
    /// series, then block 1, ...), so the series of one clock, whose k-th
    /// blocks share one timestamp section, meet it while the buffer's cache of
    /// decoded shared sections still holds it: each timestamp is decoded once
    /// per clock, as a wide table would, and still counted and summed per point.
    pub fn decode_all(&self) -> Result<DecodeTotals> {
        let segments = Arc::clone(&self.inner.read().segments);
        let mut t = DecodeTotals::default();
        let mut buf = BlockBuf::default();
        for seg in segments.iter() {
            let rounds = seg.series().iter().map(|s| s.blocks.len()).max();
            let order = (0..rounds.unwrap_or(0)).flat_map(|k| {
                seg.series()
                    .iter()
                    .filter_map(move |ss| Some((ss, ss.blocks.get(k)?)))
            });
            let mut order = order.peekable();
            while let Some((ss, b)) = order.next() {
                if let Some((_, next)) = order.peek() {
                    seg.prefetch_block(next);
                }
                seg.decode_block_into(ss, b, &mut buf)?;
                t.add(ss.value_type, &buf);
            }
        }
        Ok(t)
    }
}

impl DecodeTotals {
    fn add(&mut self, value_type: ValueType, buf: &BlockBuf) {
        self.blocks += 1;
        self.points += buf.len as u64;
        self.ts_sum = self.ts_sum.wrapping_add(wrapping_sum(buf.ts()));
        match value_type {
            ValueType::F64 => self.f64_sum += lane_sum(buf.values()),
            ValueType::I64 | ValueType::Bool => {
                let s = buf.values().iter().fold(0u64, |a, &x| a.wrapping_add(x));
                self.int_sum = self.int_sum.wrapping_add(s as i64);
            }
        }
    }
}

/// Wrapping sum of every timestamp.
#[inline(never)]
fn wrapping_sum(xs: &[i64]) -> i64 {
    vectorized!(wrapping_sum_lanes(xs))
}

/// Integer addition is associative, so LLVM vectorises this fold by itself
/// (`vpaddq` on whole vectors). Hand-made lanes (chunks of eight zipped into
/// an accumulator array) were vectorised across chunks instead, with a
/// strided gather (`vpgatherdq`) per add: a quarter of the decode benchmark's
/// time went to summing the timestamps.
#[inline(always)]
fn wrapping_sum_lanes(xs: &[i64]) -> i64 {
    xs.iter().fold(0i64, |a, &x| a.wrapping_add(x))
}

/// Sum of f64 bits in 32 lanes (a float sum in one chain would cost four
/// cycles a value in latency); rounding differs from a sequential sum.
#[inline(never)]
fn lane_sum(bits: &[u64]) -> f64 {
    vectorized!(lane_sum_lanes(bits))
}

#[inline(always)]
fn lane_sum_lanes(bits: &[u64]) -> f64 {
    // 32 lanes: four vectors of eight, so AVX-512 keeps four adds in flight.
    let mut acc = [0f64; 32];
    let mut chunks = bits.chunks_exact(32);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += f64::from_bits(x);
        }
    }
    let tail: f64 = chunks.remainder().iter().map(|&x| f64::from_bits(x)).sum();
    acc.iter().sum::<f64>() + tail
}
