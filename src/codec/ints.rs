//! Integers (i64): constant, frame-of-reference, delta, dictionary and
//! run-length encodings over [`super::bitpack`], the cheapest chosen per call.
//! STUB: plain little-endian until the real codecs land.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::{check_count, CodecId};
use crate::bytes::{Cursor, DecodeError};

/// Appends one section encoding `values`.
pub fn encode(values: &[i64], out: &mut Vec<u8>) {
    out.push(CodecId::IntPlain as u8);
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Decodes one section of exactly `out.len()` values.
pub fn decode(section: &[u8], base: u64, out: &mut [i64]) -> Result<(), DecodeError> {
    check_count(out.len(), base)?;
    let mut c = Cursor::new(section, base);
    if c.u8()? != CodecId::IntPlain as u8 {
        return Err(DecodeError::invalid(base, "unknown int codec"));
    }
    for o in out.iter_mut() {
        *o = c.i64()?;
    }
    if c.remaining() != 0 {
        return Err(c.invalid("trailing bytes in int section"));
    }
    Ok(())
}
