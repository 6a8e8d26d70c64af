//! Timestamps (strictly increasing i64): a block sampled at a fixed stride costs
//! a few bytes (`TsLinear`); any other block stores its gaps as a frame of
//! reference over the smallest gap, divided by their common divisor, bit-packed,
//! with the few gaps too wide for the chosen width patched (`TsDeltaFor`).
//!
//! Section layouts (n = the count the caller passes; `zz` = zigzag varint,
//! `uv` = unsigned LEB128 varint; patches as in [`super::frame`]):
//!
//! ```text
//! TsLinear    16 | zz t0 | uv stride          stride ≥ 1 if n ≥ 2, else 0
//! TsDeltaFor  17 | zz t0 | uv min_gap ≥ 1 | u8 width | 0x80 if a divisor follows
//!                | [uv gcd ≥ 2] | uv e | bitpack(n low parts, width bits) | patches(e)
//! ```
//!
//! For `i ≥ 1`, `t[i] = t[i-1] + min_gap + gcd * q[i]`, where `q[i]` is its low
//! part plus, for an exception, `high << width`. `q[0]` is a placeholder (packed
//! as 0, ignored), so a full block packs 1,024 values through the fast path.
//! Regular sampling with jitter packs at the width of the jitter; holes in it
//! are exceptions, a few bits each, instead of widening every gap.
//!
//! Invariants:
//! 1. `decode` returns strictly increasing timestamps or an error. When the
//!    header's largest possible gap, n-1 times, cannot pass i64::MAX from `t0`
//!    (always, short of blocks near the end of time or gaps near 2^64), the
//!    prefix sum is a plain wrapping loop; otherwise an exact i128 loop checks
//!    each step.
//! 2. `encode` takes strictly increasing timestamps, at most [`BLOCK_LEN`] of
//!    them (the caller sorts and deduplicates); otherwise its section fails to
//!    decode rather than decoding to other values.
//!
//! Measured (`benches/codecs_int.rs`, busy 2-core VM): a regular block is 15
//! bytes and decodes at 4-5 G/s (a vectorised induction); 2 ms jitter at 1 s costs
//! 22 bits a point and decodes at 1.5-1.7 G/s (3.9 G/s with the AVX-512 scan of
//! `prefix`: `jitter_2ms` 321 → 262 ns, 2026-12-05); a width-0 block with holes fills
//! linear runs between exceptions (3.2 G/s with 5 holes per block, 2.5 G/s with
//! SKAB's one hole in twenty, `holes_5pct`, in eight-lane stores). The SKAB
//! clock (1 s with 5% 2 s holes) costs 0.58 bits a point against pco's 0.94.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::bitpack::{packed_len, unpack_map, Ident};
use super::frame::{
    gcd_of, patch_width, read_gcd, read_patch_count, read_width, ExactDiv, Frame, Patches, Plan,
};
use super::prefix::prefix_sum_map;
use super::varint::{put_varint, read_varint, unzigzag, zigzag};
use super::{check_count, CodecId, BLOCK_LEN};
use crate::bytes::{Cursor, DecodeError};

/// Set in the width byte when a divisor follows.
const GCD_FLAG: u8 = 0x80;

/// Appends one section encoding `ts` (strictly increasing, at most [`BLOCK_LEN`]).
pub fn encode(ts: &[i64], out: &mut Vec<u8>) {
    debug_assert!(ts.len() <= BLOCK_LEN);
    debug_assert!(ts.windows(2).all(|w| matches!(w, [a, b] if a < b)));
    let t0 = ts.first().copied().unwrap_or(0);
    let gaps = ts.windows(2).map(|w| match w {
        [a, b] => b.wrapping_sub(*a) as u64,
        _ => 0,
    });
    let min_gap = gaps.clone().min().unwrap_or(0);
    if gaps.clone().all(|g| g == min_gap) {
        out.push(CodecId::TsLinear as u8);
        put_varint(out, zigzag(t0));
        put_varint(out, min_gap);
        return;
    }
    let gcd = gcd_of(gaps.clone().map(|g| g - min_gap)).max(1);
    let div = ExactDiv::new(gcd);
    let q: Vec<u64> = std::iter::once(0)
        .chain(gaps.map(|g| div.div(g - min_gap)))
        .collect();
    let width = patch_width(&q);
    out.push(CodecId::TsDeltaFor as u8);
    put_varint(out, zigzag(t0));
    put_varint(out, min_gap);
    out.push(width as u8 | if gcd > 1 { GCD_FLAG } else { 0 });
    if gcd > 1 {
        put_varint(out, gcd);
    }
    let frame = Frame {
        min: 0,
        gcd: 1,
        width,
    };
    Plan::with_width(frame, q, true).write_body(out);
}

/// Decodes one section of exactly `out.len()` timestamps, strictly increasing.
pub fn decode(section: &[u8], base: u64, out: &mut [i64]) -> Result<(), DecodeError> {
    check_count(out.len(), base)?;
    let mut c = Cursor::new(section, base);
    let tag = c.u8()?;
    let linear = match CodecId::from_u8(tag) {
        Some(CodecId::TsLinear) => true,
        Some(CodecId::TsDeltaFor) => false,
        _ => {
            return Err(DecodeError::invalid(
                base,
                format!("not a timestamp codec: {tag}"),
            ))
        }
    };
    let t0 = unzigzag(read_varint(&mut c)?);
    if linear {
        decode_linear(&mut c, t0, out)?;
    } else {
        decode_gaps(&mut c, t0, out)?;
    }
    if c.remaining() != 0 {
        return Err(c.invalid("trailing bytes in timestamp section"));
    }
    Ok(())
}

fn decode_linear(c: &mut Cursor<'_>, t0: i64, out: &mut [i64]) -> Result<(), DecodeError> {
    let at = c.offset();
    let stride = read_varint(c)?;
    let n = out.len() as u64;
    let last = i128::from(t0) + i128::from(stride) * i128::from(n.saturating_sub(1));
    if (n >= 2) != (stride >= 1) || last > i128::from(i64::MAX) {
        return Err(DecodeError::invalid(
            at,
            format!("bad stride {stride} for {n} timestamps"),
        ));
    }
    let mut t = t0;
    for o in out.iter_mut() {
        *o = t;
        t = t.wrapping_add(stride as i64);
    }
    Ok(())
}

fn decode_gaps(c: &mut Cursor<'_>, t0: i64, out: &mut [i64]) -> Result<(), DecodeError> {
    let at = c.offset();
    let min_gap = read_varint(c)?;
    let b = c.u8()?;
    let width = read_width(b, at)?;
    let gcd = if b & GCD_FLAG != 0 { read_gcd(c)? } else { 1 };
    let n = out.len();
    if n == 0 || (n >= 2 && min_gap == 0) {
        return Err(DecodeError::invalid(
            at,
            format!("gap {min_gap} for {n} timestamps"),
        ));
    }
    let e = read_patch_count(c, n, width)?;
    let packed_at = c.offset();
    let packed = c.take(packed_len(n, width))?;
    let unpack = |patches: &Patches<'_>| {
        // The largest gap the header allows. If even n-1 of them cannot carry
        // the first timestamp past i64::MAX, no gap wraps and no sum overflows:
        // every gap is exact and ≥ min_gap ≥ 1, and a wrapping prefix sum is exact.
        let q_max = patches.q_max(width);
        let gap_max = u128::from(min_gap) + u128::from(gcd) * u128::from(q_max);
        let room = u128::from((i64::MAX as u64).wrapping_sub(t0 as u64));
        if gap_max
            .checked_mul(n as u128 - 1)
            .is_none_or(|total| total > room)
        {
            unpack_map(packed, packed_at, width, (0, 1), out, Ident::default())?;
            patches.apply(out, 1);
            if !prefix_sum_exact(t0, out, min_gap, gcd) {
                return Err(DecodeError::invalid(packed_at, "timestamps overflow i64"));
            }
            return Ok(());
        }
        if width == 0 {
            patches.prefix_linear(t0, min_gap as i64, gcd as i64, out);
            return Ok(());
        }
        unpack_map(
            packed,
            packed_at,
            width,
            (min_gap, gcd),
            out,
            Ident::default(),
        )?;
        patches.apply(out, gcd);
        prefix_sum_map(t0, out, Ident::default());
        Ok(())
    };
    Patches::read(c, e, n, width, unpack)?
}

/// As [`prefix_sum_map`] from raw `q`, for headers that allow an overflow: checked
/// i128 steps.
fn prefix_sum_exact(t0: i64, out: &mut [i64], min_gap: u64, gcd: u64) -> bool {
    let Some((head, rest)) = out.split_first_mut() else {
        return true;
    };
    *head = t0;
    let mut acc = i128::from(t0);
    for o in rest.iter_mut() {
        let gap = u128::from(gcd) * u128::from(*o as u64) + u128::from(min_gap);
        match i128::try_from(gap).ok().and_then(|g| acc.checked_add(g)) {
            Some(t) if t <= i128::from(i64::MAX) => acc = t,
            _ => return false,
        }
        *o = acc as i64;
    }
    true
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::codec::isa::{with_level, Level};
    use proptest::prelude::*;

    const SEC: i64 = 1_000_000_000;

    fn enc(ts: &[i64]) -> Vec<u8> {
        let mut b = Vec::new();
        encode(ts, &mut b);
        b
    }

    fn round_trip(ts: &[i64]) -> Vec<u8> {
        let b = enc(ts);
        for level in Level::ALL {
            let mut out = vec![0; ts.len()];
            with_level(level, || decode(&b, 0, &mut out))
                .unwrap_or_else(|e| panic!("{e:?} at {level:?} for {ts:?}"));
            assert_eq!(out, ts, "{level:?}");
        }
        b
    }

    fn jitter(n: usize, seed: u64) -> Vec<i64> {
        let mut x = seed | 1;
        (0..n as i64)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                1_583_748_873 * SEC + i * SEC + (x >> 40) as i64 % 2_000_000
            })
            .collect()
    }

    #[test]
    fn regular_blocks_cost_a_few_bytes() {
        let ts: Vec<i64> = (0..1024).map(|i| 1_583_748_873 * SEC + i * SEC).collect();
        let b = round_trip(&ts);
        assert_eq!(b[0], CodecId::TsLinear as u8);
        assert!(b.len() <= 15, "{}", b.len());
        assert_eq!(round_trip(&[]), [CodecId::TsLinear as u8, 0, 0]);
        assert_eq!(round_trip(&[-5]), [CodecId::TsLinear as u8, 9, 0]);
        round_trip(&[i64::MIN, i64::MAX]);
        round_trip(&[i64::MAX - 2, i64::MAX - 1, i64::MAX]);
    }

    #[test]
    fn irregular_blocks_round_trip() {
        let j = round_trip(&jitter(1024, 7));
        assert_eq!(j[0], CodecId::TsDeltaFor as u8);
        assert!(j.len() < 1024 * 22 / 8 + 24, "jitter: {} bytes", j.len());
        // 1 s sampling with 2 s holes (as in SKAB): a divisor of 1 s, holes patched.
        let mut t = 0;
        let holes: Vec<i64> = (0..1024)
            .map(|i| {
                t += if i % 97 == 0 { 2 * SEC } else { SEC };
                t
            })
            .collect();
        let h = round_trip(&holes);
        assert!(h.len() < 40, "holes: {} bytes", h.len());
        // Holes next to either end, and runs shorter and longer than the
        // eight-lane stores that fill them, for block lengths around a
        // multiple of eight.
        for n in [2usize, 7, 8, 9, 17, 1016, 1023, 1024] {
            for holes in [
                vec![1],
                vec![n - 1],
                vec![n - 2, n - 1],
                vec![1, 2, 9, n.saturating_sub(8)],
            ] {
                let mut t = -5 * SEC;
                let ts: Vec<i64> = (0..n)
                    .map(|i| {
                        t += if holes.contains(&i) { 2 * SEC } else { SEC };
                        t
                    })
                    .collect();
                round_trip(&ts);
            }
        }
        // Many holes (more than eight exceptions, short runs between them):
        // one in twenty, some in adjacent or nearby slots, at both ends, and
        // past the last multiple of eight.
        let mut rng = crate::test_rng::XorShift::new(0x9e37_79b9_7f4a_7c15);
        for n in [9usize, 63, 100, 1017, 1023, 1024] {
            for crowd in [0usize, 3, 7] {
                let mut t = 7 * SEC;
                let ts: Vec<i64> = (0..n)
                    .map(|i| {
                        let x = rng.next_u64();
                        let hole = i == 1
                            || i + 1 == n
                            || x.is_multiple_of(20)
                            || (crowd > 0 && i % 50 < crowd);
                        t += if hole { 2 * SEC } else { SEC };
                        t
                    })
                    .collect();
                round_trip(&ts);
            }
        }
        // Jitter plus an hour-long gap: the gap is an exception.
        let mut gap = jitter(1024, 9);
        for t in &mut gap[500..] {
            *t += 3600 * SEC;
        }
        let g = round_trip(&gap);
        assert!(
            g.len() < j.len() + 12,
            "gap: {} bytes vs {}",
            g.len(),
            j.len()
        );
        round_trip(&[i64::MIN, -1, 0, 1, i64::MAX]);
        round_trip(&[i64::MIN, i64::MIN + 1, i64::MAX]);
        for n in [2, 3, 63, 64, 65, 1000, 1023] {
            round_trip(&jitter(n, n as u64));
        }
    }

    #[test]
    fn invalid_timestamps_are_errors() {
        let mut out = [0i64; 3];
        let lin = |t0: i64, stride: u64| {
            let mut b = vec![CodecId::TsLinear as u8];
            put_varint(&mut b, zigzag(t0));
            put_varint(&mut b, stride);
            b
        };
        assert!(decode(&lin(0, 0), 0, &mut out).is_err());
        assert!(decode(&lin(i64::MAX - 1, 1), 0, &mut out).is_err());
        assert!(decode(&lin(i64::MAX - 2, 1), 0, &mut out).is_ok());
        assert!(decode(&lin(0, 1), 0, &mut [0; 1]).is_err());
        // Gaps: min gap 0 with no offsets repeats a timestamp.
        let zero_gap = [CodecId::TsDeltaFor as u8, 0, 0, 0, 0];
        assert!(decode(&zero_gap, 0, &mut out).is_err());
        // A gap that overflows i64.
        let mut b = vec![CodecId::TsDeltaFor as u8];
        put_varint(&mut b, zigzag(i64::MAX - 10));
        b.extend([6, 0, 0]);
        assert!(decode(&b, 0, &mut out).is_err());
        assert!(decode(&[CodecId::IntFor as u8, 0, 0], 0, &mut out).is_err());
        assert!(decode(&enc(&[1, 2, 3]), 0, &mut [0; 1025]).is_err());
    }

    /// Every truncation is an error; every single-bit flip decodes to strictly
    /// increasing timestamps or errs, never panics.
    #[test]
    fn corruption_never_panics() {
        let mut gap = jitter(300, 3);
        gap[200..].iter_mut().for_each(|t| *t += 86_400 * SEC);
        let regular: Vec<i64> = (0..100).map(|i| i * SEC).collect();
        for ts in [jitter(1024, 1), gap, regular] {
            let b = enc(&ts);
            let mut out = vec![0; ts.len()];
            for cut in 0..b.len() {
                assert!(decode(&b[..cut], 0, &mut out).is_err(), "cut {cut}");
            }
            for bit in 0..b.len() * 8 {
                let mut f = b.clone();
                f[bit / 8] ^= 1 << (bit % 8);
                if decode(&f, 0, &mut out).is_ok() {
                    assert!(out.windows(2).all(|w| w[0] < w[1]), "bit {bit}");
                }
            }
        }
    }

    fn arb_ts() -> impl Strategy<Value = Vec<i64>> {
        let gaps = prop_oneof![
            prop::collection::vec(1u64..3, 0..1024),
            prop::collection::vec(
                prop::sample::select(vec![1_000u64, 1_001, 2_000, 3_600_000]),
                0..1024
            ),
            prop::collection::vec(1u64..u64::MAX / 1024, 0..1024),
            // A clock with holes: exceptions of a width-0 frame.
            prop::collection::vec(
                prop::sample::select(vec![5u64, 5, 5, 5, 5, 5, 5, 5, 10, 15]),
                0..1024
            ),
        ];
        (any::<i64>(), gaps).prop_map(|(t0, gaps)| {
            let mut t = t0;
            let mut v = vec![t];
            for g in gaps {
                match t.checked_add_unsigned(g) {
                    Some(n) => t = n,
                    None => break,
                }
                v.push(t);
            }
            v
        })
    }

    proptest! {
        #[test]
        fn prop_round_trip(ts in arb_ts()) {
            round_trip(&ts);
        }

        #[test]
        fn prop_arbitrary_bytes_never_panic(
            b in prop::collection::vec(any::<u8>(), 0..100),
            n in 0usize..200,
        ) {
            let mut out = vec![0; n];
            if decode(&b, 0, &mut out).is_ok() {
                prop_assert!(out.windows(2).all(|w| w[0] < w[1]));
            }
        }
    }
}
