//! The header at the start of every WAL file (docs/FORMAT.md, "WAL file").
//!
//! `magic "HWAL" | version u16 | reserved u16 (0) | first_seq u64 | crc u32`,
//! the crc covering the 16 bytes before it. `first_seq` is the sequence number
//! the file's first record carries (or would carry), which lets replay prove
//! that no file is missing between two others.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use crate::bytes::{Cursor, DecodeError};
use crate::error::CorruptionKind;

pub const WAL_MAGIC: [u8; 4] = *b"HWAL";
pub const WAL_VERSION: u16 = 1;
/// magic + version + reserved + first_seq + crc.
pub const WAL_HEADER_LEN: usize = 4 + 2 + 2 + 8 + 4;

/// Encodes a WAL file header.
pub fn encode_header(first_seq: u64) -> [u8; WAL_HEADER_LEN] {
    let mut h = [0u8; WAL_HEADER_LEN];
    let mut body = Vec::with_capacity(WAL_HEADER_LEN);
    body.extend_from_slice(&WAL_MAGIC);
    body.extend_from_slice(&WAL_VERSION.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&first_seq.to_le_bytes());
    let crc = crc32fast::hash(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    h.copy_from_slice(&body);
    h
}

/// Decodes a WAL file header and returns `first_seq`.
pub fn decode_header(buf: &[u8]) -> Result<u64, DecodeError> {
    let mut c = Cursor::new(buf, 0);
    let magic: [u8; 4] = c.array()?;
    if magic != WAL_MAGIC {
        return Err(DecodeError::new(0, CorruptionKind::BadMagic));
    }
    let version = c.u16()?;
    let _reserved = c.u16()?;
    let first_seq = c.u64()?;
    let stored = c.u32()?;
    let got = crc32fast::hash(buf.get(..WAL_HEADER_LEN - 4).unwrap_or_default());
    if got != stored {
        let kind = CorruptionKind::ChecksumMismatch {
            expected: stored,
            got,
        };
        return Err(DecodeError::new(0, kind));
    }
    if version != WAL_VERSION {
        return Err(DecodeError::new(
            4,
            CorruptionKind::UnsupportedVersion(version),
        ));
    }
    Ok(first_seq)
}

/// The file name of WAL file number `index`.
pub fn wal_file_name(index: u64) -> String {
    format!("{index:020}.wal")
}

/// Parses a WAL file name back into its index.
pub fn parse_wal_file_name(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".wal")?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_detects_flips() {
        let h = encode_header(42);
        assert_eq!(decode_header(&h), Ok(42));
        for bit in 0..WAL_HEADER_LEN * 8 {
            let mut b = h;
            b[bit / 8] ^= 1 << (bit % 8);
            assert!(decode_header(&b).is_err(), "bit {bit}");
        }
    }

    #[test]
    fn names_round_trip() {
        assert_eq!(parse_wal_file_name(&wal_file_name(7)), Some(7));
        assert_eq!(parse_wal_file_name("7.wal"), None);
    }
}
