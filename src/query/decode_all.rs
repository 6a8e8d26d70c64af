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
    /// Decodes every block of every live segment of this tenant.
    pub fn decode_all(&self) -> Result<DecodeTotals> {
        let segments = Arc::clone(&self.inner.read().segments);
        let mut t = DecodeTotals::default();
        for seg in segments.iter() {
            for ss in seg.series() {
                for b in &ss.blocks {
                    let c = seg.read_block(ss, b)?;
                    t.blocks += 1;
                    t.points += c.ts.len() as u64;
                    t.ts_sum = c.ts.iter().fold(t.ts_sum, |a, &x| a.wrapping_add(x));
                    match ss.value_type {
                        ValueType::F64 => {
                            t.f64_sum += c.values.iter().map(|&b| f64::from_bits(b)).sum::<f64>()
                        }
                        ValueType::I64 | ValueType::Bool => {
                            t.int_sum = c
                                .values
                                .iter()
                                .fold(t.int_sum, |a, &x| a.wrapping_add(x as i64))
                        }
                    }
                }
            }
        }
        Ok(t)
    }
}
