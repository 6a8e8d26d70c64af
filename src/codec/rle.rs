//! Run-length encoding of qualities (Option<u8> per point).
//! STUB: one presence byte and one value byte per point until the real codec lands.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::{check_count, CodecId};
use crate::bytes::{Cursor, DecodeError};

/// Appends one section encoding `q`.
pub fn encode_quality(q: &[Option<u8>], out: &mut Vec<u8>) {
    out.push(CodecId::QualityRle as u8);
    for v in q {
        out.push(u8::from(v.is_some()));
        out.push(v.unwrap_or(0));
    }
}

/// Decodes one section of exactly `out.len()` qualities.
pub fn decode_quality(
    section: &[u8],
    base: u64,
    out: &mut [Option<u8>],
) -> Result<(), DecodeError> {
    check_count(out.len(), base)?;
    let mut c = Cursor::new(section, base);
    if c.u8()? != CodecId::QualityRle as u8 {
        return Err(DecodeError::invalid(base, "unknown quality codec"));
    }
    for o in out.iter_mut() {
        let [p, v] = c.array()?;
        *o = match p {
            0 if v == 0 => None,
            1 => Some(v),
            _ => return Err(c.invalid("bad quality presence byte")),
        };
    }
    if c.remaining() != 0 {
        return Err(c.invalid("trailing bytes in quality section"));
    }
    Ok(())
}
