//! The LEB128 and zigzag varints of codec headers. Stricter than the segment
//! index's `Cursor::uvarint`: an overlong encoding is corruption here, so every
//! value has exactly one encoding inside a codec section.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::bitpack::width_of;
use crate::bytes::{Cursor, DecodeError};

/// Zigzag: small magnitudes of either sign become small unsigned values.
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
pub fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// Bytes of the LEB128 varint of `v` (1..=10).
pub fn varint_len(v: u64) -> usize {
    (width_of(v).max(1) as usize).div_ceil(7)
}

/// Appends `v` as a LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 varint; overlong forms and values past `u64` are corruption.
pub fn read_varint(c: &mut Cursor<'_>) -> Result<u64, DecodeError> {
    let at = c.offset();
    let mut v = 0u64;
    for i in 0..10 {
        let b = c.u8()?;
        let part = u64::from(b & 0x7f);
        if (i == 9 && b > 1) || (i > 0 && b == 0) {
            return Err(DecodeError::invalid(at, "overlong varint"));
        }
        v |= part << (7 * i);
        if b < 0x80 {
            return Ok(v);
        }
    }
    Err(DecodeError::invalid(at, "overlong varint"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_reject_overlong() {
        for v in [
            0,
            1,
            127,
            128,
            300,
            u64::from(u32::MAX),
            u64::MAX >> 1,
            u64::MAX,
        ] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(b.len(), varint_len(v));
            let mut c = Cursor::new(&b, 0);
            assert_eq!(read_varint(&mut c), Ok(v));
            assert_eq!(c.remaining(), 0);
        }
        for bad in [&[0x80, 0x00][..], &[0xff; 10], &[0xff; 11], &[0x80]] {
            assert!(read_varint(&mut Cursor::new(bad, 0)).is_err(), "{bad:?}");
        }
        for v in [0, 1, -1, i64::MIN, i64::MAX, 12345, -12345] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
    }
}
