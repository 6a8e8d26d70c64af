//! Timestamps (strictly increasing i64): linear runs cost a few bytes per
//! block, other blocks are delta-of-delta over frame-of-reference bit-packing.
//! STUB: deltas through `ints` until the real codec lands.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::{check_count, CodecId};
use crate::bytes::DecodeError;

/// Appends one section encoding `ts` (strictly increasing).
pub fn encode(ts: &[i64], out: &mut Vec<u8>) {
    out.push(CodecId::TsDeltaFor as u8);
    super::ints::encode(ts, out);
}

/// Decodes one section of exactly `out.len()` timestamps, strictly increasing.
pub fn decode(section: &[u8], base: u64, out: &mut [i64]) -> Result<(), DecodeError> {
    check_count(out.len(), base)?;
    match section.split_first() {
        Some((&tag, rest)) if tag == CodecId::TsDeltaFor as u8 => {
            super::ints::decode(rest, base + 1, out)?
        }
        _ => return Err(DecodeError::invalid(base, "unknown timestamp codec")),
    }
    if out.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
        return Err(DecodeError::invalid(
            base,
            "timestamps not strictly increasing",
        ));
    }
    Ok(())
}
