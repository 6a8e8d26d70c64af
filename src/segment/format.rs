//! Byte layout constants and fixed-size structures of segment files
//! (docs/FORMAT.md, "Segment file"). Offsets are built from size chains.
//!
//! ```text
//! header  : magic "HSEG" | version u16 | flags u16
//! blocks  : block*           (v2: block.rs; v1: v1.rs)
//! index   : v2: index.rs; v1: n_series u32 | series_entry* (v1.rs)
//! footer  : index_offset u64 | index_len u64 | index_crc u32 | version u16 |
//!           flags u16 | magic "HSEG" | footer_crc u32
//! ```
//! This build writes [`SEGMENT_VERSION`] and reads every version from
//! [`OLDEST_READABLE_VERSION`] on; header and footer must agree. Versions 2
//! and 3 share one layout and differ only in how block statistics were
//! computed ([`LANE_STATS_VERSION`]).
//! All integers little-endian.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use crate::bytes::{Cursor, DecodeError};
use crate::error::CorruptionKind;

pub const SEGMENT_MAGIC: [u8; 4] = *b"HSEG";
/// The version this build writes.
pub const SEGMENT_VERSION: u16 = 3;
/// The first version whose block statistics are computed by the query
/// kernels (8-lane sums; -0.0/+0.0 ordered in min/max), so a block's `sum`
/// equals the sum a query computes on its decoded values bit for bit. v3
/// has v2's layout; v1 and v2 summed in order.
pub const LANE_STATS_VERSION: u16 = 3;
/// The oldest version this build reads.
pub const OLDEST_READABLE_VERSION: u16 = 1;
pub const HEADER_LEN: usize = 4 + 2 + 2;
pub const FOOTER_LEN: usize = 8 + 8 + 4 + 2 + 2 + 4 + 4;
/// Points per block at most (a SIMD-friendly vector size).
pub const MAX_BLOCK_POINTS: usize = 1024;

/// Where a block is and what it holds; kept in the index so blocks can be
/// skipped by time without being read, and its crc catches misdirected data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlockMeta {
    pub offset: u64,
    pub len: u32,
    pub crc: u32,
    pub count: u32,
    pub ts_min: i64,
    pub ts_max: i64,
    pub stats: BlockStats,
}

/// Statistics of a block's values, as raw bits of the series' type
/// (`min`/`max` ignore NaN unless every value is NaN); `sum` is an f64.
/// (v1 files also stored the first and last value; they are read and dropped.)
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlockStats {
    pub min: u64,
    pub max: u64,
    pub sum: f64,
}

/// Encoded size of a v1 [`BlockMeta`].
pub const BLOCK_META_LEN: usize = 8 + 4 + 4 + 4 + 8 + 8 + 8 * 5;

impl BlockMeta {
    /// The v1 encoding (tests only: this build writes v2).
    #[cfg(test)]
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&self.len.to_le_bytes());
        out.extend_from_slice(&self.crc.to_le_bytes());
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.ts_min.to_le_bytes());
        out.extend_from_slice(&self.ts_max.to_le_bytes());
        for v in [self.stats.min, self.stats.max, 0, 0] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.stats.sum.to_bits().to_le_bytes());
    }

    /// Decodes a v1 entry.
    pub fn decode(c: &mut Cursor<'_>) -> Result<Self, DecodeError> {
        Ok(BlockMeta {
            offset: c.u64()?,
            len: c.u32()?,
            crc: c.u32()?,
            count: c.u32()?,
            ts_min: c.i64()?,
            ts_max: c.i64()?,
            stats: BlockStats {
                min: c.u64()?,
                max: c.u64()?,
                sum: {
                    let _first_and_last = (c.u64()?, c.u64()?);
                    f64::from_bits(c.u64()?)
                },
            },
        })
    }
}

/// The fixed footer at the end of a segment file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footer {
    pub index_offset: u64,
    pub index_len: u64,
    pub index_crc: u32,
    /// Format version (always [`SEGMENT_VERSION`] when encoding).
    pub version: u16,
}

impl Footer {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FOOTER_LEN);
        out.extend_from_slice(&self.index_offset.to_le_bytes());
        out.extend_from_slice(&self.index_len.to_le_bytes());
        out.extend_from_slice(&self.index_crc.to_le_bytes());
        out.extend_from_slice(&SEGMENT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&SEGMENT_MAGIC);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes the footer from the last [`FOOTER_LEN`] bytes (at file offset `base`).
    pub fn decode(buf: &[u8], base: u64) -> Result<Self, DecodeError> {
        let mut c = Cursor::new(buf, base);
        let mut footer = Footer {
            index_offset: c.u64()?,
            index_len: c.u64()?,
            index_crc: c.u32()?,
            version: 0,
        };
        let version = c.u16()?;
        footer.version = version;
        let _flags = c.u16()?;
        let magic: [u8; 4] = c.array()?;
        let stored = c.u32()?;
        let got = crc32fast::hash(buf.get(..FOOTER_LEN - 4).unwrap_or_default());
        if magic != SEGMENT_MAGIC {
            return Err(DecodeError::new(base + 24, CorruptionKind::BadMagic));
        }
        if got != stored {
            let kind = CorruptionKind::ChecksumMismatch {
                expected: stored,
                got,
            };
            return Err(DecodeError::new(base, kind));
        }
        if !(OLDEST_READABLE_VERSION..=SEGMENT_VERSION).contains(&version) {
            return Err(DecodeError::new(
                base + 20,
                CorruptionKind::UnsupportedVersion(version),
            ));
        }
        Ok(footer)
    }
}

/// The file header.
pub fn encode_header() -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    let v = SEGMENT_VERSION.to_le_bytes();
    h[0] = SEGMENT_MAGIC[0];
    h[1] = SEGMENT_MAGIC[1];
    h[2] = SEGMENT_MAGIC[2];
    h[3] = SEGMENT_MAGIC[3];
    h[4] = v[0];
    h[5] = v[1];
    h
}

/// Checks the file header and returns its version.
pub fn check_header(buf: &[u8]) -> Result<u16, DecodeError> {
    let mut c = Cursor::new(buf, 0);
    let magic: [u8; 4] = c.array()?;
    if magic != SEGMENT_MAGIC {
        return Err(DecodeError::new(0, CorruptionKind::BadMagic));
    }
    let version = c.u16()?;
    if !(OLDEST_READABLE_VERSION..=SEGMENT_VERSION).contains(&version) {
        return Err(DecodeError::new(
            4,
            CorruptionKind::UnsupportedVersion(version),
        ));
    }
    let flags = c.u16()?;
    if flags != 0 {
        return Err(DecodeError::invalid(6, format!("unknown flags {flags:#x}")));
    }
    Ok(version)
}

/// The file name of segment `id`.
pub fn segment_file_name(id: u64) -> String {
    format!("{id:020}.seg")
}

/// Parses a segment file name back into its id.
pub fn parse_segment_file_name(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".seg")?;
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
    fn footer_len_matches_encoding() {
        let f = Footer {
            index_offset: 8,
            index_len: 4,
            index_crc: 7,
            version: SEGMENT_VERSION,
        };
        let bytes = f.encode();
        assert_eq!(bytes.len(), FOOTER_LEN);
        assert_eq!(Footer::decode(&bytes, 0), Ok(f));
    }

    #[test]
    fn block_meta_len_matches_encoding() {
        let m = BlockMeta {
            offset: 1,
            len: 2,
            crc: 3,
            count: 4,
            ts_min: -5,
            ts_max: 6,
            stats: BlockStats {
                min: 7,
                max: 8,
                sum: 1.5,
            },
        };
        let mut out = Vec::new();
        m.encode(&mut out);
        assert_eq!(out.len(), BLOCK_META_LEN);
        assert_eq!(BlockMeta::decode(&mut Cursor::new(&out, 0)), Ok(m));
    }
}
