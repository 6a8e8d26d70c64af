//! Run-length encoding of qualities (`Option<u8>` per point).
//!
//! Section layouts (n = the count the caller passes; `uv` = LEB128 varint):
//!
//! ```text
//! QualityNone  48                      every quality absent (and n = 0)
//! QualityRle   49 | runs until n points are covered, each:
//!                   uv (length << 1 | present) | u8 value, only if present
//! ```
//!
//! A block whose points all carry one quality costs 4 bytes; a quality that changes
//! at every point costs 2 bytes a point (the worst case).
//!
//! Invariants:
//! 1. `decode_quality` rejects runs of length 0, runs past `n`, too few runs and
//!    trailing bytes; it allocates nothing and loops at most `n` times.
//! 2. Bool series are not encoded here: they go through [`super::ints`], whose
//!    constant, run-length and 1-bit frame encodings cover them.
//!
//! Decoding is a `fill` per run: 10-20 G qualities/s for blocks of a few runs.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::varint::{put_varint, read_varint};
use super::{check_count, CodecId};
use crate::bytes::{Cursor, DecodeError};

/// Appends one section encoding `q`.
pub fn encode_quality(q: &[Option<u8>], out: &mut Vec<u8>) {
    if q.iter().all(Option::is_none) {
        out.push(CodecId::QualityNone as u8);
        return;
    }
    out.push(CodecId::QualityRle as u8);
    for run in q.chunk_by(|a, b| a == b) {
        let value = run.first().copied().flatten();
        put_varint(out, (run.len() as u64) << 1 | u64::from(value.is_some()));
        if let Some(v) = value {
            out.push(v);
        }
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
    match CodecId::from_u8(c.u8()?) {
        Some(CodecId::QualityNone) => out.fill(None),
        Some(CodecId::QualityRle) => {
            let mut rest = &mut *out;
            while !rest.is_empty() {
                let at = c.offset();
                let head = read_varint(&mut c)?;
                let value = if head & 1 == 1 { Some(c.u8()?) } else { None };
                let len = usize::try_from(head >> 1).unwrap_or(usize::MAX);
                match rest.split_at_mut_checked(len) {
                    Some((run, tail)) if len > 0 => {
                        run.fill(value);
                        rest = tail;
                    }
                    _ => return Err(DecodeError::invalid(at, format!("bad quality run {len}"))),
                }
            }
        }
        _ => return Err(DecodeError::invalid(base, "not a quality codec")),
    }
    if c.remaining() != 0 {
        return Err(c.invalid("trailing bytes in quality section"));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(q: &[Option<u8>]) -> Vec<u8> {
        let mut b = Vec::new();
        encode_quality(q, &mut b);
        let mut out = vec![Some(0xEE); q.len()];
        decode_quality(&b, 0, &mut out).unwrap_or_else(|e| panic!("{e:?} for {q:?}"));
        assert_eq!(out, q);
        b
    }

    #[test]
    fn shapes_round_trip_at_their_size() {
        assert_eq!(round_trip(&[]), [CodecId::QualityNone as u8]);
        assert_eq!(round_trip(&[None; 1024]), [CodecId::QualityNone as u8]);
        assert_eq!(round_trip(&[Some(192); 1024]).len(), 4);
        assert_eq!(round_trip(&[Some(0)]), [CodecId::QualityRle as u8, 3, 0]);
        let mut mixed = vec![Some(192); 1024];
        mixed[100..110].fill(None);
        mixed[500] = Some(64);
        assert_eq!(round_trip(&mixed).len(), 1 + 3 + 1 + 3 + 2 + 3);
        let alternating: Vec<_> = (0..1024).map(|i| (i % 2 == 0).then_some(i as u8)).collect();
        assert!(round_trip(&alternating).len() <= 1 + 1024 * 2);
    }

    #[test]
    fn bad_sections_are_errors() {
        let mut out = [None; 3];
        for bad in [
            &[][..],
            &[CodecId::IntFor as u8],
            &[CodecId::QualityRle as u8],
            &[CodecId::QualityRle as u8, 0],       // run of 0
            &[CodecId::QualityRle as u8, 8],       // run of 4 > 3
            &[CodecId::QualityRle as u8, 7],       // value missing
            &[CodecId::QualityRle as u8, 6, 0],    // trailing
            &[CodecId::QualityNone as u8, 0],      // trailing
            &[CodecId::QualityRle as u8, 0x86, 0], // overlong varint
        ] {
            assert!(decode_quality(bad, 0, &mut out).is_err(), "{bad:?}");
        }
        assert!(decode_quality(&[CodecId::QualityNone as u8], 0, &mut [None; 1025]).is_err());
    }

    #[test]
    fn corruption_never_panics() {
        let q: Vec<_> = (0..1024u32)
            .map(|i| (i % 13 != 0).then_some((i / 50) as u8))
            .collect();
        let b = round_trip(&q);
        let mut out = vec![None; q.len()];
        for cut in 0..b.len() {
            assert!(decode_quality(&b[..cut], 0, &mut out).is_err(), "cut {cut}");
        }
        for bit in 0..b.len() * 8 {
            let mut f = b.clone();
            f[bit / 8] ^= 1 << (bit % 8);
            let _ = decode_quality(&f, 0, &mut out);
        }
    }

    proptest! {
        #[test]
        fn prop_round_trip(
            runs in prop::collection::vec((any::<Option<u8>>(), 1usize..60), 0..60),
        ) {
            let runs = runs.iter().flat_map(|&(v, n)| std::iter::repeat_n(v, n));
            let q: Vec<_> = runs.take(1024).collect();
            round_trip(&q);
        }

        #[test]
        fn prop_arbitrary_bytes_never_panic(
            b in prop::collection::vec(any::<u8>(), 0..60),
            n in 0usize..100,
        ) {
            let _ = decode_quality(&b, 0, &mut vec![None; n]);
        }
    }
}
