//! Full decode of a tenant's stored points, for measuring decode speed: every
//! timestamp and every value of every segment block is decoded and summed, so
//! nothing can be optimised away. Memtables are not included (flush first).
//!
//! Invariant: the totals depend only on the stored points, never on how the
//! blocks were encoded, so two builds (or two codecs) can be compared by them.

use std::sync::Arc;

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
    pub fn decode_all(&self) -> Result<DecodeTotals> {
        let segments = Arc::clone(&self.inner.read().segments);
        let mut t = DecodeTotals::default();
        let mut buf = BlockBuf::default();
        for seg in segments.iter() {
            for ss in seg.series() {
                for b in &ss.blocks {
                    seg.decode_block_into(ss, b, &mut buf)?;
                    t.blocks += 1;
                    t.points += buf.len as u64;
                    t.ts_sum = t.ts_sum.wrapping_add(wrapping_sum(buf.ts()));
                    match ss.value_type {
                        ValueType::F64 => t.f64_sum += lane_sum(buf.values()),
                        ValueType::I64 | ValueType::Bool => {
                            let s = buf.values().iter().fold(0u64, |a, &x| a.wrapping_add(x));
                            t.int_sum = t.int_sum.wrapping_add(s as i64);
                        }
                    }
                }
            }
        }
        Ok(t)
    }
}

/// Wrapping sum in eight independent lanes, so the loop vectorises.
fn wrapping_sum(xs: &[i64]) -> i64 {
    let mut acc = [0i64; 8];
    let mut chunks = xs.chunks_exact(8);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = a.wrapping_add(x);
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(0i64, |a, &x| a.wrapping_add(x));
    acc.iter().fold(tail, |a, &x| a.wrapping_add(x))
}

/// Sum of f64 bits in eight lanes (a float sum in one chain would cost four
/// cycles a value in latency); rounding differs from a sequential sum.
fn lane_sum(bits: &[u64]) -> f64 {
    let mut acc = [0f64; 8];
    let mut chunks = bits.chunks_exact(8);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += f64::from_bits(x);
        }
    }
    let tail: f64 = chunks.remainder().iter().map(|&x| f64::from_bits(x)).sum();
    acc.iter().sum::<f64>() + tail
}
