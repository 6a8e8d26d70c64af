//! Floats (f64 as raw bits): ALP, XOR and pco candidates tried on a sample,
//! the smallest kept. STUB: plain until the real chooser lands.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::{check_count, CodecId};
use crate::bytes::{Cursor, DecodeError};

/// Appends one section encoding `bits` (f64 raw bits).
pub fn encode(bits: &[u64], out: &mut Vec<u8>) {
    out.push(CodecId::FloatPlain as u8);
    for v in bits {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Decodes one section of exactly `out.len()` values (f64 raw bits).
pub fn decode(section: &[u8], base: u64, out: &mut [u64]) -> Result<(), DecodeError> {
    check_count(out.len(), base)?;
    let mut c = Cursor::new(section, base);
    if c.u8()? != CodecId::FloatPlain as u8 {
        return Err(DecodeError::invalid(base, "unknown float codec"));
    }
    for o in out.iter_mut() {
        *o = c.u64()?;
    }
    if c.remaining() != 0 {
        return Err(c.invalid("trailing bytes in float section"));
    }
    Ok(())
}
