//! ALP: decimal floats as integers (Afroozeh & Boncz, SIGMOD 2023, "ALP: Adaptive
//! Lossless floating-Point compression").
//!
//! A block of f64 that were written as decimals (`79.3366`, `0.0265878`) becomes
//! `d = round(v * 10^e * 10^-f)` as i64, stored through [`super::ints`], which picks
//! FOR / delta / dictionary / RLE itself. Decoding is one multiply-multiply loop,
//! `v = (d as f64) * 10^f * 10^-e`, then a patch of the few values it misses.
//!
//! Misses come in two kinds. Under the best (e, f), about 0.8% of true decimals
//! decode one ulp off (the two multiplies round; no single factor is exact for all
//! values: measured over every 3- to 10-digit decimal, `e = 14` misses least, at
//! 0.76-0.80%, and always by one ulp). Those keep their int and get a 2-byte
//! *patch*, a small signed correction of the decoded bits. Everything else (NaN,
//! -0.0, ±inf, subnormals, |v·10^e·10^-f| beyond 2^50, too many digits) is an
//! *exception*: its raw bits, as in the paper.
//!
//! Section layout (all little-endian):
//!
//! ```text
//! tag u8 = 32 (CodecId::FloatAlp) | e u8 (0..=18) | f u8 (0..=e)
//! patch_count u16 | patch u16 × patch_count   patch = (delta + 32) << 10 | pos,
//!                                             delta in -32..=31 but not 0
//! exc_count u16   | exc_pos u16 × exc_count | exc_bits u64 × exc_count
//! ints section (super::ints, `count` values; runs to the end of the section)
//! ```
//! Positions are below `count` and strictly increasing within each list. Decode
//! computes every value from its int, adds each patch's delta to that value's bits
//! (wrapping), then overwrites each exception with its raw bits.
//!
//! Invariants:
//! 1. Encode checks every value against [`decode_one`] (the exact code decode runs),
//!    so the codec is bit-exact for every bit pattern.
//! 2. An exception's slot in the int stream holds the previous int (the first
//!    non-exception int for leading exceptions, else 0), so it costs the int codec
//!    nothing; a patched value keeps its own int.
//! 3. Every int encode emits satisfies |d| ≤ 2^50, where the int→f64 step below is
//!    exact and equal to `d as f64`.
//! 4. Decode allocates nothing: the int codec writes each value's float
//!    straight into the output (`ints::decode_map`), then patches and exceptions
//!    are applied in place.
//!
//! Callers pass at most [`BLOCK_LEN`] (1,024, so a position fits 10 bits) values.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::bitpack::Map;
use super::{check_count, ints, CodecId, BLOCK_LEN};
use crate::bytes::{Cursor, DecodeError};

/// Largest exponent: 10^18 is the largest power of ten below 2^63.
pub const MAX_EXPONENT: u8 = 18;

/// Bytes per patch and per exception.
pub const PATCH_LEN: usize = 2;
pub const EXCEPTION_LEN: usize = 2 + 8;

/// A patch's position takes the low 10 bits, its delta + 32 the high 6.
const POS_BITS: u32 = 10;
const DELTA_BIAS: i64 = 32;

/// The exponent tried first: the fewest one-ulp misses for every digit count.
const PREFERRED_E: u8 = 14;

/// 10^i, all exact in f64.
const F10: [f64; 19] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18,
];

/// 10^-i, each the nearest f64 (not exact); encode verifies against the same constants.
const IF10: [f64; 19] = [
    1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13, 1e-14,
    1e-15, 1e-16, 1e-17, 1e-18,
];

/// 2^52 + 2^51. For |x| < 2^51, `x + MAGIC` has an ulp of 1, so the add rounds x to
/// the nearest integer (ties to even) and its low mantissa bits hold that integer;
/// conversely `from_bits(d + MAGIC_BITS) - MAGIC == d as f64`. Unlike `as` casts,
/// both directions vectorise on baseline x86-64 (SSE2 has no i64↔f64 conversion).
const MAGIC: f64 = 6_755_399_441_055_744.0;
const MAGIC_BITS: u64 = 0x4338_0000_0000_0000;

/// Largest |v·10^e·10^-f| kept: well inside the magic trick's 2^51.
const MAX_SCALED: f64 = 1_125_899_906_842_624.0; // 2^50

/// Values sampled per block to pick (e, f).
const SAMPLE_LEN: usize = 32;

/// Values per pass-1 chunk; pass 2 revisits only chunks with misses.
const CHUNK: usize = 16;

/// The exponent pair of one block: `d = round(v * 10^e * 10^-f)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    pub e: u8,
    pub f: u8,
}

/// What the planner saw on its sample.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub params: Params,
    /// Sampled values that would be exceptions (not patches) under `params`.
    pub sample_exceptions: usize,
    pub sample_len: usize,
}

/// One block split into ints, patches and exceptions, ready to write.
#[derive(Debug, Default)]
pub struct Split {
    pub ints: Vec<i64>,
    /// Encoded patches: `(delta + 32) << 10 | pos`.
    pub patches: Vec<u16>,
    pub exc_pos: Vec<u16>,
    pub exc_bits: Vec<u64>,
}

/// The multipliers of `p` as (10^e, 10^-f, 10^f, 10^-e).
fn factors(p: Params) -> (f64, f64, f64, f64) {
    let at = |t: &[f64; 19], i: u8| t.get(usize::from(i)).copied().unwrap_or(1.0);
    (at(&F10, p.e), at(&IF10, p.f), at(&F10, p.f), at(&IF10, p.e))
}

/// The decode formula, shared by encode's verification and by decode.
#[inline(always)]
fn decode_one(d: i64, f10_f: f64, if10_e: f64) -> f64 {
    let x = f64::from_bits((d as u64).wrapping_add(MAGIC_BITS)) - MAGIC;
    x * f10_f * if10_e
}

/// The int-to-float step as a [`Map`], so the int codec applies it inside its
/// unpacking loop (one pass over the block, no int buffer).
#[derive(Clone, Copy)]
struct Decimal {
    f10_f: f64,
    if10_e: f64,
}

impl Map for Decimal {
    type Out = u64;
    #[inline(always)]
    fn map(self, word: u64) -> u64 {
        decode_one(word as i64, self.f10_f, self.if10_e).to_bits()
    }
}

/// One value under `fs`: its int (0 if out of range) and the bits decode gives.
#[inline(always)]
fn encode_one(v: f64, (f10_e, if10_f, f10_f, if10_e): (f64, f64, f64, f64)) -> (i64, u64) {
    let t = v * f10_e * if10_f;
    // NaN and ±inf fail this comparison too.
    let t = if t.abs() <= MAX_SCALED { t } else { 0.0 };
    let m = t + MAGIC;
    let d = (m.to_bits() as i64).wrapping_sub(MAGIC_BITS as i64);
    // (m - MAGIC) is decode_one's x for this d, computed without the round trip.
    (d, ((m - MAGIC) * f10_f * if10_e).to_bits())
}

/// The patch delta that turns `got` into `want`, if it fits one.
#[inline]
fn patch_delta(want: u64, got: u64) -> Option<i64> {
    let delta = want.wrapping_sub(got) as i64;
    (-DELTA_BIAS..DELTA_BIAS).contains(&delta).then_some(delta)
}

/// Up to SAMPLE_LEN values spread evenly over the block.
fn sample(bits: &[u64]) -> impl Iterator<Item = u64> + '_ {
    let n = bits.len();
    let take = n.min(SAMPLE_LEN);
    (0..take).filter_map(move |i| bits.get(i * n / take).copied())
}

/// Whether `round(v·10^k) / 10^k == v`: division is correctly rounded, so this
/// holds iff v is the nearest f64 to a decimal with k digits after the point.
fn exact_at(v: f64, k: u8) -> bool {
    let p = F10.get(usize::from(k)).copied().unwrap_or(1.0);
    let t = v * p;
    t.abs() <= MAX_SCALED && (((t + MAGIC) - MAGIC) / p).to_bits() == v.to_bits()
}

/// The fewest digits after the point that give back `v` (its shortest decimal
/// form), if any fit; searches from `hint` (the previous value's count), since a
/// block's values mostly share theirs.
fn decimals(v: f64, hint: u8) -> Option<u8> {
    if exact_at(v, hint) {
        let below = (0..hint).rev().take_while(|&k| exact_at(v, k)).last();
        Some(below.unwrap_or(hint))
    } else {
        (hint + 1..=MAX_EXPONENT).find(|&k| exact_at(v, k))
    }
}

/// Bits to bit-pack `hi - lo`.
fn width(lo: i64, hi: i64) -> u32 {
    64 - (hi.wrapping_sub(lo) as u64).leading_zeros()
}

/// Picks (e, f) from a sample: first the digit count `k = e - f` that minimises an
/// estimate of (bit-packed ints + exceptions), then the factor: `e = 14` first,
/// then outwards, stopping at the first with at most two avoidable sampled misses.
pub fn plan(bits: &[u64]) -> Plan {
    let mut ks = [None; SAMPLE_LEN];
    let (mut len, mut hint) = (0, 0);
    for (slot, b) in ks.iter_mut().zip(sample(bits)) {
        let v = f64::from_bits(b);
        *slot = decimals(v, hint).map(|k| (k, v));
        hint = slot.map_or(hint, |(k, _)| k);
        len += 1;
    }
    let ks = ks.get(..len).unwrap_or_default();
    let k = best_decimals(ks);
    // Values with more digits than k, or none, are exceptions under every factor.
    let floor = ks
        .iter()
        .filter(|s| !matches!(s, Some((kv, _)) if *kv <= k))
        .count();
    let mut best = (usize::MAX, Params { e: k, f: 0 }, 0);
    for params in factor_order(k) {
        let (cost, exceptions) = sample_cost(bits, params);
        if cost < best.0 {
            best = (cost, params, exceptions);
        }
        // Good enough: the unavoidable exceptions and at most two one-ulp patches.
        if cost <= floor * EXCEPTION_LEN + 2 * PATCH_LEN {
            break;
        }
    }
    Plan {
        params: best.1,
        sample_exceptions: best.2,
        sample_len: len,
    }
}

/// Every (e, f) with e - f = k, by distance of e from [`PREFERRED_E`].
fn factor_order(k: u8) -> impl Iterator<Item = Params> {
    (0..=MAX_EXPONENT)
        .flat_map(|dist| {
            [
                PREFERRED_E.checked_sub(dist),
                (dist > 0).then(|| PREFERRED_E + dist),
            ]
        })
        .flatten()
        .filter(move |e| (k..=MAX_EXPONENT).contains(e))
        .map(move |e| Params { e, f: e - k })
}

/// Patch and exception bytes `p` costs on the sample, and the exceptions.
fn sample_cost(bits: &[u64], p: Params) -> (usize, usize) {
    let fs = factors(p);
    let (mut cost, mut exceptions) = (0, 0);
    for b in sample(bits) {
        let (_, got) = encode_one(f64::from_bits(b), fs);
        if got != b {
            if patch_delta(b, got).is_some() {
                cost += PATCH_LEN;
            } else {
                cost += EXCEPTION_LEN;
                exceptions += 1;
            }
        }
    }
    (cost, exceptions)
}

/// The digit count with the smallest estimated cost over the sample.
fn best_decimals(ks: &[Option<(u8, f64)>]) -> u8 {
    let mut best = (u64::MAX, 0u8);
    let mut seen = 0u32; // bit set of digit counts present
    for (k, _) in ks.iter().flatten() {
        seen |= 1 << k;
    }
    for k in (0..=MAX_EXPONENT).filter(|k| seen & (1 << k) != 0) {
        let p = F10.get(usize::from(k)).copied().unwrap_or(1.0);
        let (mut lo, mut hi, mut kept) = (i64::MAX, i64::MIN, 0u64);
        for (kv, v) in ks.iter().flatten() {
            if *kv <= k {
                let d = ((v * p + MAGIC).to_bits() as i64).wrapping_sub(MAGIC_BITS as i64);
                lo = lo.min(d);
                hi = hi.max(d);
                kept += 1;
            }
        }
        let exceptions = ks.len() as u64 - kept;
        let cost = kept * u64::from(width(lo, hi)) + exceptions * 8 * EXCEPTION_LEN as u64;
        if cost < best.0 {
            best = (cost, k);
        }
    }
    best.1
}

/// Splits `bits` under `p` into ints, patches and exceptions.
pub fn split(bits: &[u64], p: Params, s: &mut Split) {
    let fs = factors(p);
    s.ints.clear();
    s.ints.resize(bits.len(), 0);
    s.patches.clear();
    s.exc_pos.clear();
    s.exc_bits.clear();
    // Pass 1, branch-free so it vectorises: every value's int; which chunks missed.
    let mut dirty = Vec::new();
    for (c, (ints, vals)) in s.ints.chunks_mut(CHUNK).zip(bits.chunks(CHUNK)).enumerate() {
        let mut misses = 0u32;
        for (d, &b) in ints.iter_mut().zip(vals) {
            let (di, got) = encode_one(f64::from_bits(b), fs);
            *d = di;
            misses += u32::from(got != b);
        }
        if misses > 0 {
            dirty.push(c);
        }
    }
    if !dirty.is_empty() {
        classify_misses(bits, fs, &dirty, s);
    }
}

/// Pass 2, over the chunks with misses: patches where a delta fits, else
/// exceptions with the previous int as filler.
fn classify_misses(bits: &[u64], fs: (f64, f64, f64, f64), dirty: &[usize], s: &mut Split) {
    // Leading exceptions all take the block's first non-exception int: found once.
    let mut first_kept = None;
    for &c in dirty {
        let at = c * CHUNK;
        // Exceptions take the int before them (whatever it is); a leading one, the next.
        let mut prev = at.checked_sub(1).and_then(|i| s.ints.get(i).copied());
        let vals = bits.get(at..).unwrap_or_default().iter().take(CHUNK);
        for (i, &b) in (at..).zip(vals) {
            let (d, got) = encode_one(f64::from_bits(b), fs);
            if got == b {
                prev = Some(d);
                continue;
            }
            match patch_delta(b, got) {
                Some(delta) if i < 1 << POS_BITS => {
                    s.patches
                        .push((((delta + DELTA_BIAS) as u16) << POS_BITS) | i as u16);
                    prev = Some(d);
                }
                _ => {
                    s.exc_pos.push(i as u16);
                    s.exc_bits.push(b);
                    let first = || *first_kept.get_or_insert_with(|| next_kept(bits, fs, i));
                    let filler = prev.or_else(first).unwrap_or(0);
                    if let Some(slot) = s.ints.get_mut(i) {
                        *slot = filler;
                    }
                }
            }
        }
    }
}

/// The first int after `i` that is not an exception.
fn next_kept(bits: &[u64], fs: (f64, f64, f64, f64), i: usize) -> Option<i64> {
    bits.iter().skip(i + 1).find_map(|&b| {
        let (d, got) = encode_one(f64::from_bits(b), fs);
        patch_delta(b, got).map(|_| d)
    })
}

/// Appends the section for a split made with `p`.
pub fn write(p: Params, s: &Split, out: &mut Vec<u8>) {
    let lists = 4 + s.patches.len() * PATCH_LEN + s.exc_pos.len() * EXCEPTION_LEN;
    out.reserve(3 + lists);
    out.extend_from_slice(&[CodecId::FloatAlp as u8, p.e, p.f]);
    // At most BLOCK_LEN entries each (the caller's contract): these never saturate.
    let count = |n: usize| u16::try_from(n).unwrap_or(u16::MAX).to_le_bytes();
    out.extend_from_slice(&count(s.patches.len()));
    for patch in &s.patches {
        out.extend_from_slice(&patch.to_le_bytes());
    }
    out.extend_from_slice(&count(s.exc_pos.len()));
    for pos in &s.exc_pos {
        out.extend_from_slice(&pos.to_le_bytes());
    }
    for b in &s.exc_bits {
        out.extend_from_slice(&b.to_le_bytes());
    }
    ints::encode(&s.ints, out);
}

/// Appends one ALP section encoding `bits` (f64 raw bits, at most [`BLOCK_LEN`]).
pub fn encode(bits: &[u64], out: &mut Vec<u8>) {
    debug_assert!(
        bits.len() <= BLOCK_LEN,
        "ALP block of {} values",
        bits.len()
    );
    let p = plan(bits).params;
    let mut s = Split::default();
    split(bits, p, &mut s);
    write(p, &s, out);
}

/// Decodes one ALP section of exactly `out.len()` values (f64 raw bits).
pub fn decode(section: &[u8], base: u64, out: &mut [u64]) -> Result<(), DecodeError> {
    check_count(out.len(), base)?;
    let n = out.len();
    let mut c = Cursor::new(section, base);
    if c.u8()? != CodecId::FloatAlp as u8 {
        return Err(DecodeError::invalid(base, "not an ALP section"));
    }
    let (e, f) = (c.u8()?, c.u8()?);
    if e > MAX_EXPONENT || f > e {
        let msg = format!("bad ALP exponents e={e} f={f}");
        return Err(DecodeError::invalid(base + 1, msg));
    }
    let patch_count = read_count(&mut c, n)?;
    let patches_at = c.offset();
    let patches = c.take(PATCH_LEN * patch_count)?;
    let exc_count = read_count(&mut c, n)?;
    let exc_at = c.offset();
    let exc_pos = c.take(2 * exc_count)?;
    let exc_bits = c.take(8 * exc_count)?;
    check_patches(patches, patches_at, n)?;
    check_positions(exc_pos, exc_at, n)?;
    let ints_at = c.offset();
    let ints_section = c.take(c.remaining())?;
    let (_, _, f10_f, if10_e) = factors(Params { e, f });
    ints::decode_map(ints_section, ints_at, out, Decimal { f10_f, if10_e })?;
    for patch in pairs(patches) {
        let delta = i64::from(patch >> POS_BITS) - DELTA_BIAS;
        if let Some(o) = out.get_mut(usize::from(patch) & ((1 << POS_BITS) - 1)) {
            *o = o.wrapping_add_signed(delta);
        }
    }
    for (p, b) in pairs(exc_pos).zip(exc_bits.chunks_exact(8)) {
        if let Some(o) = out.get_mut(usize::from(p)) {
            *o = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
        }
    }
    Ok(())
}

/// A list count: a u16, at most the block's `n`.
fn read_count(c: &mut Cursor, n: usize) -> Result<usize, DecodeError> {
    let at = c.offset();
    let count = usize::from(c.u16()?);
    if count > n {
        return Err(DecodeError::invalid(
            at,
            format!("{count} entries in {n} values"),
        ));
    }
    Ok(count)
}

/// The little-endian u16s of `bytes`.
fn pairs(bytes: &[u8]) -> impl Iterator<Item = u16> + '_ {
    bytes
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes(p.try_into().unwrap_or([0; 2])))
}

/// Patch positions strictly increase below `n`; no patch has a zero delta.
fn check_patches(patches: &[u8], at: u64, n: usize) -> Result<(), DecodeError> {
    let mut next = 0usize;
    for (i, patch) in pairs(patches).enumerate() {
        let pos = usize::from(patch) & ((1 << POS_BITS) - 1);
        if pos < next || pos >= n || i64::from(patch >> POS_BITS) == DELTA_BIAS {
            let msg = format!("bad ALP patch {patch:#06x} in {n} values");
            return Err(DecodeError::invalid(at + 2 * i as u64, msg));
        }
        next = pos + 1;
    }
    Ok(())
}

/// Exception positions strictly increase below `n`.
fn check_positions(pos: &[u8], at: u64, n: usize) -> Result<(), DecodeError> {
    let mut next = 0usize;
    for (i, p) in pairs(pos).enumerate() {
        let p = usize::from(p);
        if p < next || p >= n {
            let msg = format!("exception position {p} out of order or past {n}");
            return Err(DecodeError::invalid(at + 2 * i as u64, msg));
        }
        next = p + 1;
    }
    Ok(())
}

#[cfg(test)]
#[path = "alp_tests.rs"]
mod tests;
