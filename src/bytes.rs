//! Little-endian byte cursor used by every decoder (WAL records, segment
//! blocks and indexes, manifests).
//!
//! Invariants:
//! 1. No method panics: running past the end returns [`CorruptionKind::Truncated`].
//! 2. Lengths read from input are checked with checked arithmetic before any
//!    allocation, so corrupt lengths cannot cause huge allocations.
//! 3. The cursor reports offsets relative to the start of its buffer plus a
//!    base offset, so errors name the byte position in the file.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use crate::error::CorruptionKind;

/// A decode failure at a file offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub offset: u64,
    pub kind: CorruptionKind,
}

impl DecodeError {
    /// Builds an error at `offset`.
    pub fn new(offset: u64, kind: CorruptionKind) -> Self {
        DecodeError { offset, kind }
    }

    /// Builds an `Invalid` error at `offset`.
    pub fn invalid(offset: u64, msg: impl Into<String>) -> Self {
        DecodeError::new(offset, CorruptionKind::Invalid(msg.into()))
    }

    /// Converts into the crate error, naming the file.
    pub fn into_error(self, file: &str) -> crate::Error {
        crate::Error::corruption(file, self.offset, self.kind)
    }
}

/// Reads little-endian values from a byte slice.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    base: u64,
}

impl<'a> Cursor<'a> {
    /// A cursor over `buf`, whose first byte is at file offset `base`.
    pub fn new(buf: &'a [u8], base: u64) -> Self {
        Cursor { buf, pos: 0, base }
    }

    /// File offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// An error at the current offset.
    pub fn invalid(&self, msg: impl Into<String>) -> DecodeError {
        DecodeError::invalid(self.offset(), msg)
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        match end.and_then(|e| self.buf.get(self.pos..e)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(DecodeError::new(
                self.offset(),
                CorruptionKind::Truncated {
                    needed: n as u64,
                    have: self.remaining() as u64,
                },
            )),
        }
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(u8::from_le_bytes(self.array()?))
    }

    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// A count of items of `item_size` bytes each, checked against the bytes
    /// left so a corrupt count cannot trigger a huge allocation.
    pub fn count(&mut self, item_size: usize) -> Result<usize, DecodeError> {
        let at = self.offset();
        let n = self.u32()? as usize;
        let needed = n.checked_mul(item_size.max(1));
        match needed {
            Some(b) if b <= self.remaining() => Ok(n),
            _ => Err(DecodeError::invalid(
                at,
                format!("count {n} exceeds the bytes left"),
            )),
        }
    }

    /// An unsigned LEB128 varint (at most 10 bytes, no bits past 64).
    pub fn uvarint(&mut self) -> Result<u64, DecodeError> {
        let at = self.offset();
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            if shift == 63 && b > 1 {
                return Err(DecodeError::invalid(at, "varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError::invalid(at, "varint longer than 10 bytes"))
    }

    /// A zigzag-encoded signed varint.
    pub fn ivarint(&mut self) -> Result<i64, DecodeError> {
        let u = self.uvarint()?;
        Ok((u >> 1) as i64 ^ -((u & 1) as i64))
    }

    /// A varint that must fit `usize` and be at most `max`.
    pub fn uvarint_max(&mut self, max: u64, what: &str) -> Result<usize, DecodeError> {
        let at = self.offset();
        let v = self.uvarint()?;
        if v > max {
            return Err(DecodeError::invalid(
                at,
                format!("{what} {v} exceeds {max}"),
            ));
        }
        Ok(v as usize)
    }

    /// A `u16`-length-prefixed UTF-8 string.
    pub fn str16(&mut self) -> Result<&'a str, DecodeError> {
        let at = self.offset();
        let len = self.u16()? as usize;
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes).map_err(|_| DecodeError::invalid(at, "string is not UTF-8"))
    }

    /// Reads `n` little-endian i64 values.
    pub fn i64s(&mut self, n: usize) -> Result<Vec<i64>, DecodeError> {
        let bytes = self.take(
            n.checked_mul(8)
                .ok_or_else(|| self.invalid("length overflow"))?,
        )?;
        Ok(bytes
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect())
    }

    /// Reads `n` little-endian u64 values.
    pub fn u64s(&mut self, n: usize) -> Result<Vec<u64>, DecodeError> {
        let bytes = self.take(
            n.checked_mul(8)
                .ok_or_else(|| self.invalid("length overflow"))?,
        )?;
        Ok(bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect())
    }
}

/// Appends a `u16`-length-prefixed string; the caller bounds its length.
pub fn put_str16(out: &mut Vec<u8>, s: &str) {
    let len = s.len().min(u16::MAX as usize);
    out.extend_from_slice(&(len as u16).to_le_bytes());
    out.extend_from_slice(s.as_bytes().get(..len).unwrap_or_default());
}

/// Appends an unsigned LEB128 varint.
pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a zigzag-encoded signed varint.
pub fn put_ivarint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Appends i64 values little-endian.
pub fn put_i64s(out: &mut Vec<u8>, vals: &[i64]) {
    out.reserve(vals.len() * 8);
    for v in vals {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Appends u64 values little-endian.
pub fn put_u64s(out: &mut Vec<u8>, vals: &[u64]) {
    out.reserve(vals.len() * 8);
    for v in vals {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_reject_overflow() {
        for v in [
            0u64,
            1,
            127,
            128,
            300,
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_uvarint(&mut out, v);
            let mut c = Cursor::new(&out, 0);
            assert_eq!(c.uvarint(), Ok(v));
            assert_eq!(c.remaining(), 0);
            for cut in 0..out.len() {
                assert!(Cursor::new(&out[..cut], 0).uvarint().is_err());
            }
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, -300] {
            let mut out = Vec::new();
            put_ivarint(&mut out, v);
            assert_eq!(Cursor::new(&out, 0).ivarint(), Ok(v));
        }
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(Cursor::new(&over, 0).uvarint().is_err());
        let long = [0x80; 11];
        assert!(Cursor::new(&long, 0).uvarint().is_err());
    }

    #[test]
    fn reads_past_the_end_are_errors() {
        let mut c = Cursor::new(&[1, 0, 0], 100);
        assert_eq!(c.u16(), Ok(1));
        let e = c.u32().unwrap_err();
        assert_eq!(e.offset, 102);
        assert!(matches!(
            e.kind,
            CorruptionKind::Truncated { needed: 4, have: 1 }
        ));
    }

    #[test]
    fn huge_counts_are_rejected_before_allocation() {
        let mut c = Cursor::new(&[0xff, 0xff, 0xff, 0xff, 0], 0);
        assert!(c.count(8).is_err());
    }
}
