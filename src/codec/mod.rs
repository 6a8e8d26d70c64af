//! Encodings of one block's columns (docs/FORMAT.md, "Codecs").
//!
//! Every codec is a pure pair over slices:
//!
//! ```text
//! encode(values: &[T], out: &mut Vec<u8>)               appends one section
//! decode(section: &[u8], base: u64, out: &mut [T]) -> Result<(), DecodeError>
//! ```
//!
//! Invariants shared by every codec here:
//! 1. A section starts with its [`CodecId`] byte, so a reader needs nothing but
//!    the section and the count (`out.len()`, at most [`BLOCK_LEN`]) to decode it,
//!    and `historian stats` can report the codec mix from that byte alone.
//! 2. `decode(encode(x)) == x` bit for bit (floats included: NaN payloads, -0.0,
//!    ±inf, subnormals), except in `lossy`, whose bound is proven separately.
//! 3. `decode` of any bytes returns `Ok` or a `DecodeError` naming the offset
//!    (`base` is the section's file offset); it never panics, and never allocates
//!    more than a bound derived from `out.len()`, never from the input.
//! 4. `decode` must consume the section exactly: trailing bytes are corruption.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

pub mod alp;
pub mod bitpack;
pub mod floats;
pub mod frame;
pub mod ints;
pub mod isa;
pub mod lossy;
pub mod pco_block;
pub mod permute;
pub(crate) mod prefix;
pub mod rle;
pub mod timestamps;
pub mod varint;
pub mod xor;

use crate::bytes::DecodeError;

/// Values per block at most; decoders fill buffers of this many values.
pub const BLOCK_LEN: usize = 1024;

/// A 64-byte aligned buffer of one block's values, reused across blocks.
#[derive(Clone)]
#[repr(C, align(64))]
pub struct Aligned<T: Copy + Default>(pub [T; BLOCK_LEN]);

impl<T: Copy + Default> Default for Aligned<T> {
    fn default() -> Self {
        Aligned([T::default(); BLOCK_LEN])
    }
}

/// The first byte of every encoded section. The numbers are part of the file
/// format: never reuse or renumber one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum CodecId {
    // Integers (i64), also used inside other codecs.
    IntConstant = 1,
    IntFor = 2,
    IntDeltaFor = 3,
    IntDict = 4,
    IntRle = 5,
    IntPlain = 6,
    // Timestamps.
    TsLinear = 16,
    TsDeltaFor = 17,
    // Floats (f64 bits).
    FloatAlp = 32,
    FloatXor = 33,
    FloatPco = 34,
    FloatPlain = 35,
    FloatZstd = 36,
    // Qualities (Option<u8> per point).
    QualityNone = 48,
    QualityRle = 49,
}

impl CodecId {
    pub const ALL: [CodecId; 15] = [
        CodecId::IntConstant,
        CodecId::IntFor,
        CodecId::IntDeltaFor,
        CodecId::IntDict,
        CodecId::IntRle,
        CodecId::IntPlain,
        CodecId::TsLinear,
        CodecId::TsDeltaFor,
        CodecId::FloatAlp,
        CodecId::FloatXor,
        CodecId::FloatPco,
        CodecId::FloatPlain,
        CodecId::FloatZstd,
        CodecId::QualityNone,
        CodecId::QualityRle,
    ];

    pub fn from_u8(b: u8) -> Option<CodecId> {
        CodecId::ALL.into_iter().find(|c| *c as u8 == b)
    }

    /// Short stable name, as `historian stats` and `bench codecs` print it.
    pub fn name(self) -> &'static str {
        match self {
            CodecId::IntConstant => "int-constant",
            CodecId::IntFor => "int-for",
            CodecId::IntDeltaFor => "int-delta-for",
            CodecId::IntDict => "int-dict",
            CodecId::IntRle => "int-rle",
            CodecId::IntPlain => "int-plain",
            CodecId::TsLinear => "ts-linear",
            CodecId::TsDeltaFor => "ts-delta-for",
            CodecId::FloatAlp => "alp",
            CodecId::FloatXor => "xor",
            CodecId::FloatPco => "pco",
            CodecId::FloatPlain => "float-plain",
            CodecId::FloatZstd => "float-zstd",
            CodecId::QualityNone => "quality-none",
            CodecId::QualityRle => "quality-rle",
        }
    }

    /// The codec of an encoded section, read from its first byte.
    pub fn of_section(section: &[u8], base: u64) -> Result<CodecId, DecodeError> {
        let b = *section
            .first()
            .ok_or_else(|| DecodeError::invalid(base, "empty codec section"))?;
        CodecId::from_u8(b).ok_or_else(|| DecodeError::invalid(base, format!("unknown codec {b}")))
    }
}

/// Checks a decoder's output slice against the block bound.
pub(crate) fn check_count(n: usize, base: u64) -> Result<(), DecodeError> {
    if n > BLOCK_LEN {
        return Err(DecodeError::invalid(
            base,
            format!("{n} values exceed a block of {BLOCK_LEN}"),
        ));
    }
    Ok(())
}
