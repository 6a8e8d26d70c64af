//! Integers (i64): constant, frame-of-reference (with a common divisor and
//! patched outliers), delta, dictionary and run-length encodings over
//! [`super::frame`] and [`super::bitpack`], the smallest chosen per block from
//! sizes computed exactly (min/max, gcd, runs and distinct counts, bit-length
//! histograms), without writing the candidates.
//!
//! Section layouts (n = the count the caller passes; `zz` = zigzag varint,
//! `uv` = unsigned LEB128 varint; frames are defined in [`super::frame`]):
//!
//! ```text
//! IntConstant  1 | zz value
//! IntFor       2 | patched frame(n values)
//! IntDeltaFor  3 | zz first | patched frame(n: d[0] = min d, d[i] = v[i] - v[i-1])
//! IntDict      4 | u8 k-1 | frame(k distinct values, most frequent first)
//!                | patched frame(n indices into them)
//! IntRle       5 | uv runs (1..=256) | frame(runs values) | frame(runs lengths)
//! IntPlain     6 | n × i64 LE
//! ```
//!
//! `d[0]` is a placeholder (packed as 0, ignored by the decoder): it makes a full
//! block's deltas 1,024 values, which bit-pack through the fast interleaved path.
//!
//! Invariants:
//! 1. Arithmetic wraps: every i64 sequence round-trips, i64::MIN..=MAX included.
//! 2. `decode` checks what the layout promises (indices below k, run lengths ≥ 1
//!    summing to n, canonical varints, widths ≤ 64, no trailing bytes) and works
//!    in `out` and stack buffers of at most 256 entries.
//! 3. `encode` takes at most [`BLOCK_LEN`] values (a block), as `decode` does.
//!
//! Bool series use this codec too (values 0/1): constant, RLE for few runs, and
//! otherwise a frame at 1 bit per value, so they need no codec of their own.
//!
//! Measured (`benches/codecs_int.rs`, busy 2-core VM): decode 3-4 G values/s for
//! FOR blocks (with or without a divisor), 1.6 G/s for delta blocks (the prefix
//! sum is a serial add; 3.5 G/s since the AVX-512 scan of `prefix`:
//! `delta_walk` 325 → 291 ns on the Xeon VM, 2026-12-05), 1.1 G/s for
//! dictionaries (a scalar gather; since vectorised, see `permute`), 1.3-1.7 G/s
//! over all SKAB sensor columns as decimal ints; encode 40-90 M values/s. Size on
//! those columns: 390,305 bytes against pco's 389,442 on the same 1,024-value
//! blocks (+0.2%): pco's entropy coding wins 1-5% on noisy columns, the divisor,
//! patches and RLE win on quantised, flat and label columns.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::bitpack::{packed_len, Ident, Map};
use super::frame::{min_max, Frame, Plan};
use super::varint::{put_varint, read_varint, unzigzag, varint_len, zigzag};
use super::{check_count, permute, CodecId, BLOCK_LEN};
use crate::bytes::{Cursor, DecodeError};

/// Distinct values a dictionary holds at most (indices fit a byte).
const DICT_MAX: usize = 256;
/// Runs an RLE section holds at most; more runs are cheaper as a frame.
const MAX_RUNS: usize = 256;

/// A candidate encoding and its exact section size.
enum Choice {
    Plain,
    For(Plan),
    Delta(Plan),
    Rle(Plan, Plan),
    Dict(Plan, Plan),
}

/// Appends one section encoding `values` (at most [`BLOCK_LEN`]).
pub fn encode(values: &[i64], out: &mut Vec<u8>) {
    debug_assert!(values.len() <= BLOCK_LEN);
    let n = values.len();
    let (min, max) = min_max(values);
    let Some(&first) = values.first() else {
        out.push(CodecId::IntPlain as u8);
        return;
    };
    if min == max {
        out.push(CodecId::IntConstant as u8);
        put_varint(out, zigzag(first));
        return;
    }
    let mut best = (Choice::Plain, 1 + 8 * n);
    let consider = |best: &mut (Choice, usize), c: Choice, size: usize| {
        if size < best.1 {
            *best = (c, size);
        }
    };
    let plan = Plan::new(values, true);
    let size = 1 + plan.size();
    consider(&mut best, Choice::For(plan), size);
    let plan = Plan::new(&deltas(values), true);
    let size = 1 + varint_len(zigzag(first)) + plan.size();
    consider(&mut best, Choice::Delta(plan), size);
    let runs = 1 + values.windows(2).filter(|w| w.first() != w.last()).count();
    if runs <= MAX_RUNS && packed_len(runs, 1) + 6 < best.1 {
        let (vals, lens) = runs_of(values);
        let (vals, lens) = (Plan::new(&vals, false), Plan::new(&lens, false));
        let size = 1 + varint_len(runs as u64) + vals.size() + lens.size();
        consider(&mut best, Choice::Rle(vals, lens), size);
    }
    let mut dict = Dict::default();
    if best.1 > packed_len(n, 1) + 4 && dict.build(values) {
        let (vals, idx) = (
            Plan::new(&dict.order, false),
            Plan::new(&dict.indices(values), true),
        );
        let size = 2 + vals.size() + idx.size();
        consider(&mut best, Choice::Dict(vals, idx), size);
    }
    let start = out.len();
    match &best.0 {
        Choice::Plain => {
            out.push(CodecId::IntPlain as u8);
            crate::bytes::put_i64s(out, values);
        }
        Choice::For(plan) => {
            out.push(CodecId::IntFor as u8);
            plan.write(out);
        }
        Choice::Delta(plan) => {
            out.push(CodecId::IntDeltaFor as u8);
            put_varint(out, zigzag(first));
            plan.write(out);
        }
        Choice::Rle(vals, lens) => {
            out.push(CodecId::IntRle as u8);
            put_varint(out, runs as u64);
            vals.write(out);
            lens.write(out);
        }
        Choice::Dict(vals, idx) => {
            out.push(CodecId::IntDict as u8);
            out.push(dict.order.len().saturating_sub(1) as u8);
            vals.write(out);
            idx.write(out);
        }
    }
    debug_assert_eq!(out.len() - start, best.1);
}

/// `[min d, v[1]-v[0], v[2]-v[1], ...]`: the deltas behind a placeholder that
/// packs as 0.
fn deltas(values: &[i64]) -> Vec<i64> {
    let mut d = Vec::with_capacity(values.len());
    d.push(0);
    d.extend(values.windows(2).map(|w| match w {
        [a, b] => b.wrapping_sub(*a),
        _ => 0,
    }));
    let min = d
        .get(1..)
        .and_then(|r| r.iter().min().copied())
        .unwrap_or(0);
    if let Some(p) = d.first_mut() {
        *p = min;
    }
    d
}

/// The values and lengths of the runs of equal values.
fn runs_of(values: &[i64]) -> (Vec<i64>, Vec<i64>) {
    let (mut vals, mut lens) = (Vec::new(), Vec::new());
    for chunk in values.chunk_by(|a, b| a == b) {
        if let Some(&v) = chunk.first() {
            vals.push(v);
            lens.push(chunk.len() as i64);
        }
    }
    (vals, lens)
}

/// A dictionary of at most 256 distinct values, most frequent first (small
/// indices, so rare values become patched exceptions): an open-addressing set
/// at most half full.
struct Dict {
    keys: [i64; 2 * DICT_MAX],
    used: [bool; 2 * DICT_MAX],
    count: [u32; 2 * DICT_MAX],
    index: [u8; 2 * DICT_MAX],
    order: Vec<i64>,
}

impl Default for Dict {
    fn default() -> Self {
        Dict {
            keys: [0; 2 * DICT_MAX],
            used: [false; 2 * DICT_MAX],
            count: [0; 2 * DICT_MAX],
            index: [0; 2 * DICT_MAX],
            order: Vec::new(),
        }
    }
}

impl Dict {
    /// The slot of `v`: where it is, or the free slot where it would go.
    fn slot(&self, v: i64) -> usize {
        let mut h = ((v as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 55) as usize;
        while self.used.get(h) == Some(&true) && self.keys.get(h) != Some(&v) {
            h = (h + 1) % (2 * DICT_MAX);
        }
        h
    }

    /// Counts the distinct values; false past [`DICT_MAX`] of them.
    fn build(&mut self, values: &[i64]) -> bool {
        for run in values.chunk_by(|a, b| a == b) {
            let Some(&v) = run.first() else { continue };
            let h = self.slot(v);
            if self.used.get(h) == Some(&false) {
                if self.order.len() == DICT_MAX {
                    return false;
                }
                if let (Some(u), Some(k)) = (self.used.get_mut(h), self.keys.get_mut(h)) {
                    (*u, *k) = (true, v);
                }
                self.order.push(v);
            }
            if let Some(c) = self.count.get_mut(h) {
                *c += run.len() as u32;
            }
        }
        let mut order = std::mem::take(&mut self.order);
        let count = |v: &i64| self.count.get(self.slot(*v)).copied().unwrap_or(0);
        order.sort_unstable_by_key(|v| (std::cmp::Reverse(count(v)), *v));
        for (i, &v) in order.iter().enumerate() {
            let h = self.slot(v);
            if let Some(x) = self.index.get_mut(h) {
                *x = i as u8;
            }
        }
        self.order = order;
        true
    }

    fn indices(&self, values: &[i64]) -> Vec<i64> {
        let index = |v| self.index.get(self.slot(v)).copied().unwrap_or(0);
        values.iter().map(|&v| i64::from(index(v))).collect()
    }
}

/// Decodes one section of exactly `out.len()` values.
pub fn decode(section: &[u8], base: u64, out: &mut [i64]) -> Result<(), DecodeError> {
    decode_map(section, base, out, Ident::default())
}

/// As [`decode`], into raw 64-bit words (a block buffer's value column).
pub fn decode_words(section: &[u8], base: u64, out: &mut [u64]) -> Result<(), DecodeError> {
    decode_map(section, base, out, Ident::default())
}

/// Decodes one section of exactly `out.len()` values as `map(value)`, mapped
/// inside the unpacking pass where the encoding allows (constant, FOR), and
/// else in a second pass over raw values parked in `out` (delta, plain) or
/// over the few distinct values only (dictionary, RLE).
pub(crate) fn decode_map<M: Map>(
    section: &[u8],
    base: u64,
    out: &mut [M::Out],
    map: M,
) -> Result<(), DecodeError> {
    check_count(out.len(), base)?;
    let mut c = Cursor::new(section, base);
    let tag = c.u8()?;
    match CodecId::from_u8(tag) {
        Some(CodecId::IntConstant) => out.fill(map.map(read_varint(&mut c).map(unzigzag)? as u64)),
        Some(CodecId::IntFor) => Frame::read(&mut c)?.unpack_patched(&mut c, out, map)?,
        Some(CodecId::IntDeltaFor) => decode_delta(&mut c, out, map)?,
        Some(CodecId::IntDict) => decode_dict(&mut c, out, map)?,
        Some(CodecId::IntRle) => decode_rle(&mut c, out, map)?,
        Some(CodecId::IntPlain) => {
            let bytes = c.take(out.len() * 8)?;
            for (o, b) in out.iter_mut().zip(bytes.as_chunks::<8>().0) {
                *o = map.map(u64::from_le_bytes(*b));
            }
        }
        _ => {
            return Err(DecodeError::invalid(
                base,
                format!("not an int codec: {tag}"),
            ))
        }
    }
    if c.remaining() != 0 {
        return Err(c.invalid("trailing bytes in int section"));
    }
    Ok(())
}

/// Deltas are unpacked as raw words in `out`, then summed and mapped in
/// one pass.
fn decode_delta<M: Map>(c: &mut Cursor<'_>, out: &mut [M::Out], map: M) -> Result<(), DecodeError> {
    let first = unzigzag(read_varint(c)?);
    Frame::read(c)?.unpack_prefix(c, first, out, map)
}

/// The k entries are mapped once; indices are parked in `out`, then replaced
/// by their mapped entries.
fn decode_dict<M: Map>(c: &mut Cursor<'_>, out: &mut [M::Out], map: M) -> Result<(), DecodeError> {
    let k = usize::from(c.u8()?) + 1;
    // Tables sized to the dictionary: zeroing two 256-entry tables per block
    // showed in profiles as a memset, and 64 entries fit the permute lookup.
    if k <= permute::MAX_TABLE {
        decode_dict_with::<M, { permute::MAX_TABLE }>(c, out, map, k)
    } else {
        decode_dict_with::<M, DICT_MAX>(c, out, map, k)
    }
}

/// [`decode_dict`] with tables of `N ≥ k` entries.
fn decode_dict_with<M: Map, const N: usize>(
    c: &mut Cursor<'_>,
    out: &mut [M::Out],
    map: M,
    k: usize,
) -> Result<(), DecodeError> {
    let mut dict = [0i64; N];
    let entries = dict.get_mut(..k).unwrap_or_default();
    Frame::read(c)?.unpack(c, entries)?;
    let mut mapped = [M::Out::default(); N];
    for (m, &e) in mapped.iter_mut().zip(entries.iter()) {
        *m = map.map(e as u64);
    }
    let at = c.offset();
    Frame::read(c)?.unpack_patched(c, out, Ident::<M::Out>::default())?;
    if permute::lookup(out, &mapped, k) {
        return Err(DecodeError::invalid(at, "dictionary index out of range"));
    }
    Ok(())
}

fn decode_rle<M: Map>(c: &mut Cursor<'_>, out: &mut [M::Out], map: M) -> Result<(), DecodeError> {
    let at = c.offset();
    let runs = read_varint(c)?;
    if runs > out.len().min(MAX_RUNS) as u64 || (runs == 0) != out.is_empty() {
        return Err(DecodeError::invalid(
            at,
            format!("{runs} runs for {} values", out.len()),
        ));
    }
    let (mut vals, mut lens) = ([0i64; MAX_RUNS], [0i64; MAX_RUNS]);
    let vals = vals.get_mut(..runs as usize).unwrap_or_default();
    let lens = lens.get_mut(..runs as usize).unwrap_or_default();
    Frame::read(c)?.unpack(c, vals)?;
    let len_at = c.offset();
    Frame::read(c)?.unpack(c, lens)?;
    let mut rest = &mut *out;
    for (&v, &len) in vals.iter().zip(lens.iter()) {
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        match rest.split_at_mut_checked(len) {
            Some((run, tail)) if len > 0 => {
                run.fill(map.map(v as u64));
                rest = tail;
            }
            _ => {
                return Err(DecodeError::invalid(
                    len_at,
                    "run lengths do not sum to the count",
                ))
            }
        }
    }
    if !rest.is_empty() {
        return Err(DecodeError::invalid(
            len_at,
            "run lengths do not sum to the count",
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::codec::isa::{with_level, Level};
    use proptest::prelude::*;

    fn enc(v: &[i64]) -> Vec<u8> {
        let mut b = Vec::new();
        encode(v, &mut b);
        b
    }

    fn round_trip(v: &[i64]) -> Vec<u8> {
        let b = enc(v);
        for level in Level::ALL {
            let mut out = vec![0x5555; v.len()];
            with_level(level, || decode(&b, 0, &mut out))
                .unwrap_or_else(|e| panic!("{e:?} at {level:?} for {v:?}"));
            assert_eq!(out, v, "{level:?}");
        }
        b
    }

    fn tag(v: &[i64]) -> CodecId {
        CodecId::from_u8(round_trip(v)[0]).unwrap()
    }

    fn lcg(n: usize, seed: u64) -> impl Iterator<Item = u64> {
        let mut x = seed;
        (0..n).map(move |_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 11
        })
    }

    /// One block of each shape the selector distinguishes, with the codec it must pick.
    fn shapes() -> Vec<(&'static str, Vec<i64>, CodecId)> {
        let noise = |range: u64| lcg(1024, range).map(move |x| (x % range) as i64);
        vec![
            ("constant", vec![-7; 1024], CodecId::IntConstant),
            (
                "small range",
                noise(1000).map(|x| x + 906_000).collect(),
                CodecId::IntFor,
            ),
            (
                "adc steps",
                noise(16).map(|x| x * 327_927 - 273_216).collect(),
                CodecId::IntFor,
            ),
            (
                "counter",
                (0..1024).map(|i| (1 << 40) | (i * 3 + i % 2)).collect(),
                CodecId::IntDeltaFor,
            ),
            (
                "walk",
                lcg(1024, 3)
                    .scan(0i64, |a, x| {
                        *a += (x % 64) as i64 - 32;
                        Some(*a)
                    })
                    .collect(),
                CodecId::IntDeltaFor,
            ),
            (
                "few distinct",
                noise(5)
                    .map(|x| [0, 1_000_000, 17, -3_000_000_000, 5][x as usize])
                    .collect(),
                CodecId::IntDict,
            ),
            (
                "runs",
                lcg(30, 12)
                    .flat_map(|x| std::iter::repeat_n((x % 1000) as i64, 30 + (x % 41) as usize))
                    .take(1024)
                    .collect(),
                CodecId::IntRle,
            ),
            (
                "bools",
                lcg(1024, 11).map(|x| (x >> 20) as i64 & 1).collect(),
                CodecId::IntFor,
            ),
            (
                "random",
                lcg(1024, 9).map(|x| (x << 11 | x) as i64).collect(),
                CodecId::IntPlain,
            ),
        ]
    }

    #[test]
    fn shapes_pick_their_codec_and_round_trip() {
        for (name, v, want) in shapes() {
            let b = round_trip(&v);
            assert_eq!(
                CodecId::from_u8(b[0]),
                Some(want),
                "{name}: {} bytes",
                b.len()
            );
        }
    }

    #[test]
    fn edge_cases_round_trip() {
        assert_eq!(round_trip(&[]), [CodecId::IntPlain as u8]);
        assert_eq!(tag(&[42]), CodecId::IntConstant);
        assert_eq!(tag(&[i64::MIN]), CodecId::IntConstant);
        round_trip(&[i64::MIN, i64::MAX]);
        round_trip(&[i64::MAX, i64::MIN, i64::MAX, i64::MIN, 0]);
        round_trip(&[0, -1, i64::MIN, i64::MAX, 1]);
        // Deltas that wrap but stay constant: delta-FOR at width 0.
        let wrap: Vec<i64> = (0..1024)
            .map(|i: i64| i64::MAX.wrapping_add(i * (1 << 61)))
            .collect();
        assert_eq!(tag(&wrap), CodecId::IntDeltaFor);
        for n in [2, 63, 64, 65, 1000, 1023, 1024] {
            round_trip(&(0..n as i64).map(|i| i * i).collect::<Vec<_>>());
            round_trip(&lcg(n, n as u64).map(|x| x as i64).collect::<Vec<_>>());
        }
        assert_eq!(tag(&[3, 3, 3, 3, 9, 9, 9, 9, 9, 9, 9, 9]), CodecId::IntFor);
    }

    #[test]
    fn gcd_frames_shrink_quantised_values() {
        let v: Vec<i64> = lcg(1024, 5)
            .map(|x| (x % 8) as i64 * 1_000_000 + 12)
            .collect();
        let b = round_trip(&v);
        assert_eq!(b[0], CodecId::IntFor as u8);
        assert!(b.len() < 3 * 1024 / 8 + 12, "{} bytes", b.len());
    }

    #[test]
    fn outliers_are_patched_not_widening() {
        let mut v: Vec<i64> = lcg(1024, 8).map(|x| (x % 16) as i64).collect();
        v[10] = 1 << 40;
        v[900] = -5_000_000;
        let b = round_trip(&v);
        assert!(b.len() < 1024 / 2 + 40, "{} bytes", b.len());
        // Rare values of a dictionary are patched indices.
        let mut d: Vec<i64> = lcg(1024, 4)
            .map(|x| [5, 900, -7][(x % 3) as usize])
            .collect();
        d[3] = 123_456;
        d[700] = 99;
        let b = round_trip(&d);
        assert_eq!(b[0], CodecId::IntDict as u8);
        assert!(b.len() < 1024 * 2 / 8 + 30, "{} bytes", b.len());
    }

    #[test]
    fn bad_sections_are_errors() {
        let mut out = [0i64; 4];
        for bad in [
            &[][..],
            &[0],
            &[CodecId::FloatAlp as u8],
            &[CodecId::IntConstant as u8, 0, 0],
            &[CodecId::IntFor as u8, 65, 0],
            &[CodecId::IntFor as u8, 0x80, 0, 1],
            &[CodecId::IntRle as u8, 5, 0, 0, 0, 0],
            &[CodecId::IntDict as u8, 1, 1, 0, 0b1, 0b1000], // index 1 of 2 ok, padding not
            &[CodecId::IntDict as u8, 1, 1, 0, 0, 0b1010],   // dictionary [0, 0]
        ] {
            assert!(decode(bad, 0, &mut out).is_err(), "{bad:?}");
        }
        assert!(decode(&enc(&[1; 1025]), 0, &mut [0; 1025]).is_err());
        let ok = [CodecId::IntDict as u8, 1, 1, 0, 0b10, 1, 0, 0, 0b0110];
        decode(&ok, 0, &mut out).unwrap();
        assert_eq!(out, [0, 1, 1, 0]);
    }

    /// Every truncation is an error; every single-bit flip decodes or errs, never panics.
    #[test]
    fn corruption_never_panics() {
        for (_, v, _) in shapes() {
            for v in [&v[..], &v[..37]] {
                let b = enc(v);
                let mut out = vec![0; v.len()];
                for cut in 0..b.len() {
                    assert!(decode(&b[..cut], 0, &mut out).is_err(), "cut {cut}");
                }
                for bit in 0..b.len() * 8 {
                    let mut f = b.clone();
                    f[bit / 8] ^= 1 << (bit % 8);
                    let _ = decode(&f, 0, &mut out);
                }
            }
        }
    }

    fn arb_block() -> impl Strategy<Value = Vec<i64>> {
        prop_oneof![
            prop::collection::vec(any::<i64>(), 0..=1024),
            prop::collection::vec(-3i64..3, 0..=1024),
            prop::collection::vec(
                prop::sample::select(vec![i64::MIN, -1, 0, 7, i64::MAX]),
                0..=1024
            ),
            (
                any::<i64>(),
                1i64..1 << 40,
                prop::collection::vec(0i64..50, 0..=1024)
            )
                .prop_map(|(b, g, v)| v.iter().map(|x| b.wrapping_add(x * g)).collect()),
            (any::<i64>(), prop::collection::vec(-100i64..100, 0..=1024)).prop_map(|(b, v)| v
                .iter()
                .scan(b, |a, d| {
                    *a = a.wrapping_add(*d);
                    Some(*a)
                })
                .collect()),
            prop::collection::vec((any::<i64>(), 1usize..80), 0..40).prop_map(|r| r
                .iter()
                .flat_map(|&(v, n)| std::iter::repeat_n(v, n))
                .take(1024)
                .collect()),
        ]
    }

    proptest! {
        #[test]
        fn prop_round_trip(v in arb_block()) {
            round_trip(&v);
        }

        #[test]
        fn prop_arbitrary_bytes_never_panic(
            b in prop::collection::vec(any::<u8>(), 0..200),
            n in 0usize..300,
        ) {
            let mut out = vec![0; n];
            let _ = decode(&b, 0, &mut out);
        }
    }
}
