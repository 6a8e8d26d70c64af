//! Floats (f64 as raw bits): picks, per block, the smallest of ALP, XOR (Chimp),
//! plain, zstd-of-plain and pco, without fully encoding every candidate.
//!
//! The chooser, cheapest first (costs per 1,024-value block, measured by
//! `benches/codecs_float.rs`):
//! 1. ALP plans (e, f) on a 32-value sample (~1 µs). If at most half the sample
//!    would be exceptions, ALP is encoded for real (~3 µs of its own plus the int
//!    codec's `ints::encode`) and its exact size known.
//! 2. XOR's size is estimated from four runs of 32 consecutive values (<1 µs), and
//!    XOR encoded for real (~8 µs) only if the estimate beats the best so far.
//! 3. zstd (level 1, ~20-30 µs) only on hard blocks: best so far ≥ 4 bytes/value.
//! 4. pco (50-750 µs to encode, ~15 µs to decode, 10-20x ALP) only if a binned
//!    entropy model of it ([`pco_block::estimate_len`] on ALP's ints when ALP leads,
//!    [`pco_block::estimate_float_len`] on the float bits otherwise, ~4 µs, skipped
//!    below 1 byte/value) is at least [`PCO_MARGIN_PCT`]% below the best so far;
//!    and kept only if it really is.
//!
//! Section layouts: ALP, XOR and pco in their modules; the two here are
//!
//! ```text
//! plain: tag u8 = 35 | u64 LE × count
//! zstd:  tag u8 = 36 | one zstd frame of the plain payload (8 × count bytes)
//! ```
//!
//! Invariants:
//! 1. Every section starts with its CodecId, so [`codec_of`] names it from that byte.
//! 2. Round trips are bit-exact for every bit pattern, whichever codec is chosen.
//! 3. Decode of ALP, XOR, plain and zstd never allocates (zstd decompresses into a
//!    stack buffer of 8 × BLOCK_LEN bytes and must fill exactly 8 × count of it from
//!    exactly one frame); pco's own allocations are bounded (see [`pco_block`]).
//!
//! Callers pass at most [`BLOCK_LEN`] values per section.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::ops::Range;

use super::{alp, check_count, pco_block, xor, CodecId, BLOCK_LEN};
use crate::bytes::{Cursor, DecodeError};

/// pco must be at least this many percent smaller than the best fast codec.
pub const PCO_MARGIN_PCT: usize = 8;

/// Bytes per value from which a block counts as hard (half of plain).
const HARD_BYTES_PER_VALUE: usize = 4;

/// zstd level for float blocks: level 3 took ~2x the time for <1% on hard blocks.
const ZSTD_LEVEL: i32 = 1;

thread_local! {
    // A zstd context per call cost ~10% of import CPU in segment/block.rs.
    static ZSTD_C: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static ZSTD_D: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { RefCell::new(None) };
}

/// The float codec of a section, from its first byte; None if it is not one.
pub fn codec_of(section: &[u8]) -> Option<CodecId> {
    let id = CodecId::from_u8(*section.first()?)?;
    matches!(
        id,
        CodecId::FloatAlp
            | CodecId::FloatXor
            | CodecId::FloatPco
            | CodecId::FloatPlain
            | CodecId::FloatZstd
    )
    .then_some(id)
}

/// Appends one section encoding `bits` (f64 raw bits, at most [`BLOCK_LEN`]).
pub fn encode(bits: &[u64], out: &mut Vec<u8>) {
    let start = out.len();
    let n = bits.len();
    let mut best = Best {
        id: CodecId::FloatPlain,
        at: start..start + 1 + 8 * n,
    };
    let mut split = alp::Split::default();
    let plan = alp::plan(bits);
    if n > 0 && plan.sample_exceptions * 2 <= plan.sample_len {
        alp::split(bits, plan.params, &mut split);
        alp::write(plan.params, &split, out);
        best.consider(CodecId::FloatAlp, start..out.len());
    }
    if n > 1 && xor::estimate_len(bits) < best.len() {
        let at = out.len();
        xor::encode(bits, out);
        best.consider(CodecId::FloatXor, at..out.len());
    }
    let hard = best.len() >= HARD_BYTES_PER_VALUE * n;
    if hard && n > 1 {
        let at = out.len();
        zstd_encode(bits, out);
        best.consider(CodecId::FloatZstd, at..out.len());
    }
    // pco's estimate (~4 µs): from ALP's ints when ALP leads, else from the float
    // bits; skipped below 1 byte/value, where 8% is a few bytes a block.
    let pco_estimate = match best.id {
        _ if best.len() < n => usize::MAX,
        CodecId::FloatAlp => pco_block::estimate_len(&split.ints),
        _ => pco_block::estimate_float_len(bits),
    };
    if n > 1 && pco_estimate.saturating_mul(100) <= best.len() * (100 - PCO_MARGIN_PCT) {
        let at = out.len();
        let ok = pco_block::encode(bits, out).is_ok();
        if ok && (out.len() - at) * 100 <= best.len() * (100 - PCO_MARGIN_PCT) {
            best.consider(CodecId::FloatPco, at..out.len());
        }
    }
    keep(&best, bits, start, out);
}

/// The smallest candidate so far and where its section lies in the output.
struct Best {
    id: CodecId,
    at: Range<usize>,
}

impl Best {
    fn len(&self) -> usize {
        self.at.len()
    }

    fn consider(&mut self, id: CodecId, at: Range<usize>) {
        if at.len() < self.len() {
            *self = Best { id, at };
        }
    }
}

/// Leaves only the winner's section at `start` (writing plain if plain won).
fn keep(best: &Best, bits: &[u64], start: usize, out: &mut Vec<u8>) {
    if best.id == CodecId::FloatPlain {
        out.truncate(start);
        plain_encode(bits, out);
        return;
    }
    if best.at.start != start {
        out.copy_within(best.at.clone(), start);
    }
    out.truncate(start + best.len());
}

/// Decodes one section of exactly `out.len()` values (f64 raw bits).
pub fn decode(section: &[u8], base: u64, out: &mut [u64]) -> Result<(), DecodeError> {
    check_count(out.len(), base)?;
    match CodecId::of_section(section, base)? {
        CodecId::FloatAlp => alp::decode(section, base, out),
        CodecId::FloatXor => xor::decode(section, base, out),
        CodecId::FloatPco => pco_block::decode(section, base, out),
        CodecId::FloatPlain => plain_decode(section, base, out),
        CodecId::FloatZstd => zstd_decode(section, base, out),
        other => Err(DecodeError::invalid(
            base,
            format!("{} is not a float codec", other.name()),
        )),
    }
}

/// Appends a plain section.
pub fn plain_encode(bits: &[u64], out: &mut Vec<u8>) {
    out.reserve(1 + 8 * bits.len());
    out.push(CodecId::FloatPlain as u8);
    for v in bits {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn plain_decode(section: &[u8], base: u64, out: &mut [u64]) -> Result<(), DecodeError> {
    let mut c = Cursor::new(section, base);
    c.u8()?;
    let payload = c.take(8 * out.len())?;
    if c.remaining() != 0 {
        return Err(c.invalid("trailing bytes in plain float section"));
    }
    for (o, b) in out.iter_mut().zip(payload.chunks_exact(8)) {
        *o = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
    }
    Ok(())
}

/// Appends a zstd section; plain if zstd fails (it does not on valid input).
pub fn zstd_encode(bits: &[u64], out: &mut Vec<u8>) {
    let mut raw = Vec::with_capacity(8 * bits.len());
    for v in bits {
        raw.extend_from_slice(&v.to_le_bytes());
    }
    let frame = ZSTD_C.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = zstd::bulk::Compressor::new(ZSTD_LEVEL).ok();
        }
        c.as_mut()?.compress(&raw).ok()
    });
    match frame {
        Some(frame) => {
            out.push(CodecId::FloatZstd as u8);
            out.extend_from_slice(&frame);
        }
        None => plain_encode(bits, out),
    }
}

fn zstd_decode(section: &[u8], base: u64, out: &mut [u64]) -> Result<(), DecodeError> {
    let frame = section.get(1..).unwrap_or_default();
    let at = base + 1;
    // Exactly one frame, nothing after it (zstd would also accept more frames).
    match zstd::zstd_safe::find_frame_compressed_size(frame) {
        Ok(len) if len == frame.len() => {}
        _ => {
            return Err(DecodeError::invalid(
                at,
                "zstd section is not exactly one frame",
            ))
        }
    }
    let mut raw = [0u8; 8 * BLOCK_LEN];
    let want = 8 * out.len();
    let dst = raw.get_mut(..want).unwrap_or_default();
    let got = ZSTD_D.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_none() {
            *d = zstd::bulk::Decompressor::new().ok();
        }
        match d.as_mut() {
            Some(d) => d
                .decompress_to_buffer(frame, dst)
                .map_err(|e| e.to_string()),
            None => Err("no zstd context".to_owned()),
        }
    });
    match got {
        Ok(len) if len == want => {}
        Ok(len) => {
            return Err(DecodeError::invalid(
                at,
                format!("zstd gave {len} bytes, want {want}"),
            ))
        }
        Err(e) => return Err(DecodeError::invalid(at, format!("zstd: {e}"))),
    }
    for (o, b) in out.iter_mut().zip(dst.chunks_exact(8)) {
        *o = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
    }
    Ok(())
}

/// Helpers shared by the float codecs' tests.
#[cfg(test)]
#[path = "float_test_support.rs"]
pub(crate) mod test_support;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use proptest::prelude::*;

    use super::test_support::*;
    use super::*;

    fn chosen(bits: &[u64]) -> CodecId {
        let section = roundtrip(encode, decode, bits);
        codec_of(&section).unwrap()
    }

    #[test]
    fn decimals_choose_alp() {
        for k in [0, 2, 4, 7] {
            assert_eq!(
                chosen(&decimal_walk(7, 1024, k)),
                CodecId::FloatAlp,
                "k={k}"
            );
        }
    }

    #[test]
    fn empty_and_tiny_blocks_round_trip() {
        assert_eq!(chosen(&[]), CodecId::FloatPlain);
        for n in [1, 2, 3] {
            roundtrip(encode, decode, &decimal_walk(3, n, 2));
            roundtrip(encode, decode, &special_bits()[..n]);
        }
    }

    #[test]
    fn special_values_round_trip_alone_and_mixed() {
        let sp = special_bits();
        roundtrip(encode, decode, &sp);
        let mut v = decimal_walk(11, 1024, 3);
        for (i, b) in sp.iter().enumerate() {
            v[i * 37] = *b;
        }
        // 24 exceptions cost ALP 240 bytes; pco may win that block, never by less.
        let best = roundtrip(encode, decode, &v).len();
        let alp = roundtrip(alp::encode, decode, &v).len();
        assert!(best <= alp, "{best} > {alp}");
    }

    #[test]
    fn non_decimal_blocks_do_not_choose_alp() {
        // A smooth curve computed in f64: full mantissas, no decimal form.
        let smooth: Vec<u64> = (0..1024)
            .map(|i| (f64::from(i) * 0.013).sin().to_bits())
            .collect();
        assert_ne!(chosen(&smooth), CodecId::FloatAlp);
        // A slowly changing value: XOR codes repeats in 2 bits.
        let steps: Vec<u64> = (0..1024)
            .map(|i| (f64::from(i / 64) * std::f64::consts::PI).to_bits())
            .collect();
        assert_eq!(chosen(&steps), CodecId::FloatXor);
        // f32 readings widened to f64: 29 zero low bits, which pco and zstd exploit
        // (3.4 KB each here, XOR 4.7 KB, ALP all exceptions).
        let widened: Vec<u64> = (0..1024)
            .map(|i| f64::from((i as f32 * 0.37).sin() * 17.0).to_bits())
            .collect();
        let id = chosen(&widened);
        assert!(
            id == CodecId::FloatZstd || id == CodecId::FloatPco,
            "{id:?}"
        );
        // A few arbitrary doubles repeated out of step: zstd finds the repeats.
        let cycle = [
            0.123_456_789_012_345_67f64,
            2.0f64.sqrt(),
            1e-7 / 3.0,
            987.654_321_098_765,
        ];
        let rep: Vec<u64> = (0..1024).map(|i| cycle[(i * i) % 4].to_bits()).collect();
        let id = chosen(&rep);
        assert!(
            id == CodecId::FloatZstd || id == CodecId::FloatPco,
            "{id:?}"
        );
    }

    #[test]
    fn random_bits_stay_plain_sized() {
        let mut rng = crate::test_rng::XorShift::new(0x9e37_79b9_7f4a_7c15);
        let v: Vec<u64> = (0..1024).map(|_| rng.next_u64()).collect();
        let s = roundtrip(encode, decode, &v);
        assert!(s.len() <= 1 + 8 * 1024, "{} bytes", s.len());
    }

    #[test]
    fn codec_of_names_float_sections_only() {
        assert_eq!(codec_of(&[]), None);
        assert_eq!(codec_of(&[CodecId::IntPlain as u8]), None);
        assert_eq!(
            codec_of(&[CodecId::FloatZstd as u8]),
            Some(CodecId::FloatZstd)
        );
        assert!(decode(&[CodecId::IntPlain as u8], 0, &mut []).is_err());
    }

    #[test]
    fn every_codec_survives_corruption() {
        let dec_walk = decimal_walk(5, 300, 4);
        let smooth: Vec<u64> = (0..300)
            .map(|i| (f64::from(i) * 0.01).exp().to_bits())
            .collect();
        for bits in [&dec_walk, &smooth, &special_bits()] {
            for enc in [plain_encode as Enc, zstd_encode, encode] {
                let mut s = Vec::new();
                enc(bits, &mut s);
                corruption(decode, &s, bits.len());
            }
        }
    }

    #[test]
    fn zstd_rejects_a_second_frame() {
        let v = decimal_walk(1, 64, 1);
        let mut s = Vec::new();
        zstd_encode(&v, &mut s);
        let frame = s[1..].to_vec();
        s.extend_from_slice(&frame);
        assert!(decode(&s, 0, &mut vec![0; 64]).is_err());
    }

    #[test]
    fn block_sizes_round_trip() {
        for n in [1, 2, 1023, 1024] {
            roundtrip(encode, decode, &decimal_walk(n as u64, n, 5));
            let smooth: Vec<u64> = (0..n).map(|i| (i as f64 * 0.7).cos().to_bits()).collect();
            roundtrip(encode, decode, &smooth);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn arbitrary_bits_round_trip(bits in any_bits()) {
            roundtrip(encode, decode, &bits);
        }

        #[test]
        fn decimal_blocks_round_trip(bits in decimal_bits()) {
            roundtrip(encode, decode, &bits);
        }
    }
}
