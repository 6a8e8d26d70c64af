//! pco (pcodec) for one block of f64, behind our section tag: the strongest ratio on
//! noisy or skewed data (tANS entropy coding, float-multiplier and quantisation
//! modes, delta), at 11-18 µs per 1,024-value block to decode (10-20x ALP) and
//! 100-750 µs to encode, so [`super::floats`] tries it only when a cheap estimate
//! says it should win.
//!
//! Section layout: `tag u8 = 34 (CodecId::FloatPco)`, then pco's *wrapped* format
//! for one chunk of one page: pco header (format version) | chunk metadata | page
//! of `count` values. An empty block is the tag alone. The wrapped format (rather
//! than standalone's `simple_compress`) leaves out the magic, the count hint and
//! the footer, which our block header already covers: the count is `out.len()`.
//!
//! Invariants:
//! 1. Bit-exact: pco is lossless for every f64 bit pattern (NaN payloads included).
//! 2. Decode checks the page decodes exactly `out.len()` values and that nothing of
//!    the section is left over; pco errors become `DecodeError`s at the section.
//! 3. Allocation stays bounded (about a MiB at worst, by pco's format limits: bins
//!    ≤ 2^15, ANS tables ≤ 2^14, delta order ≤ 7), never by a count read from the
//!    input: the page size is our `out.len()` (≤ BLOCK_LEN). pco 1.1 itself would
//!    allocate from two input fields, so decode refuses both before pco acts on
//!    them: dictionary mode (its 25-bit entry count is allocated before the bytes
//!    are checked; we never write that mode) and lookback windows above 2^10 (the
//!    decoder allocates two windows up front; pco sizes them to the chunk, so ours
//!    never exceed a block).
//! 4. Panics: pco 1.1 documents and tests (every byte mutated, every truncation)
//!    that decode returns errors rather than panicking, and our own tests and the
//!    `codec_floats` fuzz target check the same through this module. As a second
//!    line, decode runs pco under `catch_unwind` and reports a panic as corruption
//!    (with `panic = "unwind"`, this crate's profile). What neither can rule out is
//!    undefined behaviour inside pco's own `unsafe` bit reader; we rely on its
//!    fuzzing there, and block crcs keep random corruption from reaching it.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use pco::errors::PcoError;
use pco::metadata::DeltaEncoding;
use pco::wrapped::{FileCompressor, FileDecompressor};
use pco::{ChunkConfig, PagingSpec};

use super::{check_count, CodecId, BLOCK_LEN};
use crate::bytes::DecodeError;

/// pco's default level: levels below it were as slow per 1,024 values (fixed costs
/// dominate) and up to 25% larger on the SKAB columns.
const LEVEL: usize = 8;

/// Appends one pco section encoding `bits` (f64 raw bits). Fails only if pco
/// rejects its input or config, which it does not for ≤ BLOCK_LEN f64 values; on
/// failure `out` is left as it was.
pub fn encode(bits: &[u64], out: &mut Vec<u8>) -> Result<(), PcoError> {
    let start = out.len();
    let r = encode_into(bits, out);
    if r.is_err() {
        out.truncate(start);
    }
    r
}

fn encode_into(bits: &[u64], out: &mut Vec<u8>) -> Result<(), PcoError> {
    out.push(CodecId::FloatPco as u8);
    if bits.is_empty() {
        return Ok(());
    }
    let vals: Vec<f64> = bits.iter().map(|b| f64::from_bits(*b)).collect();
    let config = ChunkConfig::default()
        .with_compression_level(LEVEL)
        .with_paging_spec(PagingSpec::Exact(vec![vals.len()]));
    let file = FileCompressor::default();
    file.write_header(&mut *out)?;
    let mut chunk = file.chunk_compressor(&vals, &config)?;
    chunk.write_meta(&mut *out)?;
    chunk.write_page(0, &mut *out)?;
    Ok(())
}

/// Decodes one pco section of exactly `out.len()` values (f64 raw bits).
pub fn decode(section: &[u8], base: u64, out: &mut [u64]) -> Result<(), DecodeError> {
    check_count(out.len(), base)?;
    let Some((&tag, body)) = section.split_first() else {
        return Err(DecodeError::invalid(base, "empty pco section"));
    };
    if tag != CodecId::FloatPco as u8 {
        return Err(DecodeError::invalid(base, "not a pco section"));
    }
    let at = base + 1;
    if out.is_empty() {
        if body.is_empty() {
            return Ok(());
        }
        return Err(DecodeError::invalid(
            at,
            "trailing bytes in empty pco section",
        ));
    }
    check_mode(body, at)?;
    let mut vals = [0f64; BLOCK_LEN];
    let vals = vals.get_mut(..out.len()).unwrap_or_default();
    let n = vals.len();
    match catch_unwind(AssertUnwindSafe(|| decode_page(body, vals))) {
        Ok(Ok((got, true, 0))) if got == n => {}
        Ok(Ok((got, finished, _))) if got != n || !finished => {
            let msg = format!("pco page gave {got} of {n} values");
            return Err(DecodeError::invalid(at, msg));
        }
        Ok(Ok((_, _, left))) => {
            let msg = format!("{left} trailing bytes in pco section");
            return Err(DecodeError::invalid(at + (body.len() - left) as u64, msg));
        }
        Ok(Err(PageError::Pco(e))) => return Err(DecodeError::invalid(at, format!("pco: {e}"))),
        Ok(Err(PageError::Refused(msg))) => return Err(DecodeError::invalid(at, msg)),
        Err(_) => return Err(DecodeError::invalid(at, "pco panicked on this section")),
    }
    for (o, v) in out.iter_mut().zip(vals.iter()) {
        *o = v.to_bits();
    }
    Ok(())
}

/// Refuses pco's dictionary mode before pco parses it: pco 1.1 allocates the
/// dictionary (a 25-bit count of 8-byte entries, up to 256 MiB) before checking
/// the bytes are there, and our encoder never writes that mode (pco's automatic
/// mode choice leaves it out). The chunk metadata starts right after the format
/// version (major, then minor from major 4), with the mode variant in its low 4
/// bits (pco reads bits least-significant first).
fn check_mode(body: &[u8], at: u64) -> Result<(), DecodeError> {
    const DICT_MODE: u8 = 4;
    let meta_at = match body.first() {
        Some(&major) if major >= 4 => 2,
        _ => 1,
    };
    match body.get(meta_at) {
        Some(b) if b & 0x0f == DICT_MODE => Err(DecodeError::invalid(
            at + meta_at as u64,
            "pco dictionary mode is not a historian encoding",
        )),
        _ => Ok(()),
    }
}

/// Why a page did not decode: pco's error, or a chunk we refuse to hand to pco.
enum PageError {
    Pco(PcoError),
    Refused(&'static str),
}

impl From<PcoError> for PageError {
    fn from(e: PcoError) -> Self {
        PageError::Pco(e)
    }
}

/// Largest lookback window (log2) pco picks for ≤ BLOCK_LEN values: it sizes the
/// window to the chunk, and its decoder allocates 2 windows of latents up front.
const MAX_WINDOW_N_LOG: u32 = BLOCK_LEN.ilog2();

/// Decodes one page into `dst`: (values decoded, page finished, bytes left over).
fn decode_page(src: &[u8], dst: &mut [f64]) -> Result<(usize, bool, usize), PageError> {
    let (file, rest) = FileDecompressor::new(src)?;
    let (mut chunk, rest) = file.chunk_decompressor::<f64, &[u8]>(rest)?;
    if let DeltaEncoding::Lookback { config, .. } = &chunk.meta().delta_encoding {
        if config.window_n_log > MAX_WINDOW_N_LOG {
            return Err(PageError::Refused(
                "pco lookback window larger than a block",
            ));
        }
    }
    let mut page = chunk.page_decompressor(rest, dst.len())?;
    let progress = page.read(dst)?;
    Ok((
        progress.n_processed,
        progress.finished,
        page.into_src().len(),
    ))
}

/// Estimated pco section size for a block whose ALP ints are `ints`: pco's float
/// modes reach about what its classic mode reaches on these ints. See
/// [`estimate_latents_len`].
pub fn estimate_len(ints: &[i64]) -> usize {
    estimate_latents_len(ints)
}

/// Estimated pco section size for f64 `bits` that ALP cannot express, from their
/// order-preserving integer images (what pco's classic mode codes).
pub fn estimate_float_len(bits: &[u64]) -> usize {
    let mut latents = [0i64; BLOCK_LEN];
    for (l, &b) in latents.iter_mut().zip(bits) {
        // Negative floats: flip all bits; positive: flip the sign bit. Then centre.
        let ordered = if b >> 63 == 1 { !b } else { b | 1 << 63 };
        *l = (ordered ^ 1 << 63) as i64;
    }
    estimate_latents_len(latents.get(..bits.len()).unwrap_or_default())
}

/// Models pco's classic mode as equal-width bins (entropy of the bin, plus the
/// offset bits inside it, plus ~3 bytes of metadata per used bin) at 64 and at 16
/// bins, on the values, their first and their second differences, after dropping
/// trailing zero bits they all share; takes the cheapest. Used only to decide
/// whether running pco (50-750 µs a block) is worth it.
fn estimate_latents_len(v: &[i64]) -> usize {
    if v.len() < 3 {
        return 16 + 8 * v.len();
    }
    let shared_zeros = v
        .iter()
        .fold(0i64, |acc, x| acc | x)
        .trailing_zeros()
        .min(63);
    let mut d1 = [0i64; BLOCK_LEN];
    let mut d2 = [0i64; BLOCK_LEN];
    for ((a, b), w) in d1.iter_mut().zip(d2.iter_mut()).zip(v.windows(3)) {
        if let [x, y, z] = w {
            *a = y.wrapping_sub(*x) >> shared_zeros;
            *b = z.wrapping_sub(*y).wrapping_sub(y.wrapping_sub(*x)) >> shared_zeros;
        }
    }
    let m = v.len() - 2;
    let mut d0 = [0i64; BLOCK_LEN];
    for (a, x) in d0.iter_mut().zip(v) {
        *a = x >> shared_zeros;
    }
    let order = |d: &[i64; BLOCK_LEN], len: usize| binned_len(d.get(..len).unwrap_or_default());
    let model = order(&d0, v.len())
        .min(order(&d1, m) + 8)
        .min(order(&d2, m) + 16);
    // pco lands ~8% above the ideal model (ANS and bin choices): measured est/pco
    // = 0.87-0.95 over the SKAB blocks where the two were close.
    16 + model * 109 / 100
}

/// `c·log2(c)` for every count a block can hold; a libm log2 per bin was most of
/// the estimate's time.
fn c_log2_c() -> &'static [f64; BLOCK_LEN + 1] {
    static TABLE: OnceLock<[f64; BLOCK_LEN + 1]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [0.0; BLOCK_LEN + 1];
        for (c, x) in t.iter_mut().enumerate().skip(1) {
            *x = c as f64 * (c as f64).log2();
        }
        t
    })
}

/// Bytes of `v` under the binned entropy model (see [`estimate_len`]).
fn binned_len(v: &[i64]) -> usize {
    const BIN_META_BYTES: f64 = 3.0;
    let (lo, hi) = v
        .iter()
        .fold((i64::MAX, i64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let width = 64 - (hi.wrapping_sub(lo) as u64).leading_zeros();
    let shift = width.saturating_sub(6);
    let mut hist = [0u32; 64];
    for &x in v {
        let bin = (x.wrapping_sub(lo) as u64 >> shift) as usize;
        if let Some(h) = hist.get_mut(bin) {
            *h += 1;
        }
    }
    let mut coarse = [0u32; 16];
    for (c, four) in coarse.iter_mut().zip(hist.chunks_exact(4)) {
        *c = four.iter().sum();
    }
    let n = v.len() as f64;
    let table = c_log2_c();
    let n_log2_n = n * n.log2();
    // Entropy in bits: Σ -c·log2(c/n) = n·log2(n) - Σ c·log2(c).
    let cost = |hist: &[u32], offset_bits: u32| {
        let (mut bits, mut used) = (n_log2_n + n * f64::from(offset_bits), 0.0);
        for &h in hist.iter().filter(|h| **h > 0) {
            bits -= table.get(h as usize).copied().unwrap_or(0.0);
            used += 1.0;
        }
        bits / 8.0 + used * BIN_META_BYTES
    };
    let fine = cost(&hist, shift);
    let coarse = cost(&coarse, (shift + 2).min(width));
    fine.min(coarse) as usize
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::codec::floats::test_support::*;

    fn enc(bits: &[u64], out: &mut Vec<u8>) {
        encode(bits, out).unwrap();
    }

    #[test]
    fn special_values_and_block_sizes_round_trip() {
        roundtrip(enc, decode, &special_bits());
        for n in [0, 1, 2, 1023, 1024] {
            roundtrip(enc, decode, &decimal_walk(n as u64, n, 3));
        }
    }

    /// A section of `vals` written by pco with `config` (one chunk, one page).
    fn section_with(vals: &[f64], config: ChunkConfig) -> Vec<u8> {
        let mut s = vec![CodecId::FloatPco as u8];
        let file = FileCompressor::default();
        file.write_header(&mut s).unwrap();
        let config = config.with_paging_spec(PagingSpec::Exact(vec![vals.len()]));
        let mut chunk = file.chunk_compressor(vals, &config).unwrap();
        chunk.write_meta(&mut s).unwrap();
        chunk.write_page(0, &mut s).unwrap();
        s
    }

    #[test]
    fn dictionary_mode_is_refused_before_pco_reads_it() {
        let vals: Vec<f64> = (0..512).map(|i| [1.5, -2.25, 1e300][i % 3]).collect();
        let s = section_with(
            &vals,
            ChunkConfig::default().with_mode_spec(pco::ModeSpec::TryDict),
        );
        let e = decode(&s, 0, &mut vec![0; 512]).unwrap_err();
        assert!(format!("{e:?}").contains("dictionary mode"), "{e:?}");
        // A forged dictionary of 2^25 - 1 entries with no bytes behind it.
        let mut forged = s[..4].to_vec();
        forged.extend_from_slice(&[0xff; 8]);
        assert!(decode(&forged, 0, &mut vec![0; 512]).is_err());
    }

    #[test]
    fn our_sections_never_look_like_dictionary_mode() {
        let widened: Vec<u64> = (0..1024)
            .map(|i| f64::from(i as f32 * 0.37).to_bits())
            .collect();
        let smooth: Vec<u64> = (0..1024)
            .map(|i| (f64::from(i) * 0.013).sin().to_bits())
            .collect();
        for bits in [decimal_walk(1, 1024, 3), widened, smooth, special_bits()] {
            let mut s = Vec::new();
            enc(&bits, &mut s);
            assert!(check_mode(&s[1..], 1).is_ok());
            assert!(
                [0, 2, 3].contains(&(s[3] & 0x0f)),
                "mode nibble {:#x}",
                s[3]
            );
        }
    }

    #[test]
    fn lookback_windows_beyond_a_block_are_refused() {
        let vals: Vec<f64> = (0..4096).map(|i| f64::from(i % 700) * 0.5).collect();
        let config = ChunkConfig::default().with_delta_spec(pco::DeltaSpec::TryLookback);
        let s = section_with(&vals, config);
        let e = decode(&s, 0, &mut vec![0; 1024]).unwrap_err();
        assert!(format!("{e:?}").contains("lookback window"), "{e:?}");
        let small = section_with(
            &vals[..1024],
            ChunkConfig::default().with_delta_spec(pco::DeltaSpec::TryLookback),
        );
        let mut out = vec![0; 1024];
        decode(&small, 0, &mut out).unwrap();
        assert!(out.iter().zip(&vals).all(|(o, v)| *o == v.to_bits()));
    }

    #[test]
    fn count_must_match_the_page() {
        let bits = decimal_walk(1, 300, 2);
        let mut s = Vec::new();
        enc(&bits, &mut s);
        for n in [0, 1, 256, 299, 301, 512, 1024] {
            assert!(decode(&s, 0, &mut vec![0; n]).is_err(), "count {n}");
        }
        assert!(decode(&s, 0, &mut vec![0; 1025]).is_err());
    }

    #[test]
    fn estimate_is_in_the_right_range() {
        // Uniform steps of ±100: entropy ≈ 7.65 bits per delta.
        let bits = decimal_walk(3, 1024, 2);
        let ints: Vec<i64> = bits
            .iter()
            .map(|b| (f64::from_bits(*b) * 100.0).round() as i64)
            .collect();
        let mut s = Vec::new();
        enc(&bits, &mut s);
        let est = estimate_len(&ints);
        assert!(
            est.abs_diff(s.len()) * 4 < s.len(),
            "est {est} vs {}",
            s.len()
        );
    }

    #[test]
    fn corruption_never_panics_and_truncation_fails() {
        let smooth: Vec<u64> = (0..300)
            .map(|i| (f64::from(i) * 0.02).cos().to_bits())
            .collect();
        for bits in [decimal_walk(8, 300, 4), smooth, special_bits(), vec![7]] {
            let s = roundtrip(enc, decode, &bits);
            corruption(decode, &s, bits.len());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn arbitrary_bits_round_trip(bits in any_bits()) {
            roundtrip(enc, decode, &bits);
        }

        #[test]
        fn decimal_blocks_round_trip(bits in decimal_bits()) {
            roundtrip(enc, decode, &bits);
        }

        #[test]
        fn arbitrary_sections_never_panic(
            body in prop::collection::vec(any::<u8>(), 0..200),
            n in 0usize..=1024,
        ) {
            let mut s = vec![CodecId::FloatPco as u8];
            s.extend_from_slice(&body);
            let _ = decode(&s, 0, &mut vec![0; n]);
        }
    }
}
