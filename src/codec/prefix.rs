//! Prefix sums of deltas, mapped: `out[0] = map(first)`, then
//! `out[i] = map(s[i])` with `s[i] = s[i-1] + out[i]` (wrapping), the last
//! step of delta decoding (`ints::decode_delta`, ALP's delta blocks and the
//! timestamps of jittered clocks).
//!
//! A running sum is one chain of dependent adds, a cycle a value, and LLVM
//! compiles the in-register scan of eight lanes (`frame::prefix_sum`) to
//! scalar adds as well. With AVX-512 each group of eight is scanned in three
//! `valignq` shifts and adds, the running total is carried as a vector
//! (`vpermq` of the group's last lane, off the chain), and the map (ALP's
//! int-to-float step) runs on the sums in the same pass instead of a second
//! one. `cargo bench --bench codecs_int` (2026-12-05, Xeon VM, against
//! `frame::prefix_sum`): `ints/decode/delta_walk` 325 → 291 ns,
//! `timestamps/decode/jitter_2ms` 321 → 262 ns a block of 1,024; the range
//! query over a series of ALP delta blocks (Thermocouple) 81.7 → 76.0 µs.
//!
//! Invariants:
//! 1. Both paths return the same bits for every input (sums wrap); tests
//!    compare them at every level and length, with and without a map.
//! 2. The AVX-512 path runs only where `isa::detected()` confirmed every
//!    feature it is compiled with (UNSAFE.md); [`isa::with_level`] below
//!    AVX-512 selects the portable path.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]
#![allow(unsafe_code)]

use super::bitpack::{Lane, Map};
use super::frame::prefix_sum;
use super::isa::{self, Level};

/// `out[0] = map(first)`, `out[i] = map(first + out[1] + … + out[i])`
/// (wrapping): the deltas in `out` (the one at 0 a placeholder) summed and
/// mapped in place.
#[inline(never)]
pub(crate) fn prefix_sum_map<M: Map>(first: i64, out: &mut [M::Out], map: M) {
    #[cfg(target_arch = "x86_64")]
    if isa::level() >= Level::Avx512 && isa::detected() >= Level::Avx512 {
        // SAFETY: every feature `avx512::prefix_sum_map` is compiled with was
        // confirmed by `is_x86_feature_detected!` (`isa::detected`), its only
        // precondition.
        return unsafe { avx512::prefix_sum_map(first, out, map) };
    }
    portable(first, out, map);
}

/// The portable path: the running sum, then the map in a second pass.
fn portable<M: Map>(first: i64, out: &mut [M::Out], map: M) {
    prefix_sum(first, out);
    map.map_in_place(out);
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{Lane, Map};
    use std::arch::x86_64::*;

    /// `super::prefix_sum_map` with AVX-512: groups of eight scanned in
    /// registers, the total carried as a vector, the tail one at a time.
    ///
    /// # Safety
    /// The CPU must support every feature this is compiled with.
    #[target_feature(
        enable = "avx512f,avx512bw,avx512cd,avx512dq,avx512vl,avx2,fma,bmi1,bmi2,lzcnt,popcnt"
    )]
    pub(super) unsafe fn prefix_sum_map<M: Map>(first: i64, out: &mut [M::Out], map: M) {
        const { assert!(size_of::<M::Out>() == 8) };
        let Some(head) = out.first_mut() else {
            return;
        };
        // The delta at 0 is a placeholder: the sum starts from `first`.
        *head = M::Out::from_bits(0);
        let zero = _mm512_setzero_si512();
        let last_lane = _mm512_set1_epi64(7);
        let mut carry = _mm512_set1_epi64(first);
        let (groups, tail) = out.as_chunks_mut::<8>();
        for g in groups.iter_mut() {
            // SAFETY: `g` is 64 readable bytes; `loadu` needs no alignment;
            // `Lane` is implemented only for `u64` and `i64` (eight bytes,
            // checked above), whose every bit pattern is valid.
            let mut x = unsafe { _mm512_loadu_si512(g.as_ptr().cast()) };
            x = _mm512_add_epi64(x, _mm512_alignr_epi64::<7>(x, zero));
            x = _mm512_add_epi64(x, _mm512_alignr_epi64::<6>(x, zero));
            x = _mm512_add_epi64(x, _mm512_alignr_epi64::<4>(x, zero));
            let mut sums = [0u64; 8];
            // SAFETY: `sums` is 64 writable bytes; `storeu` needs no alignment.
            unsafe { _mm512_storeu_si512(sums.as_mut_ptr().cast(), _mm512_add_epi64(x, carry)) };
            *g = sums.map(|s| map.map(s));
            carry = _mm512_add_epi64(carry, _mm512_permutexvar_epi64(last_lane, x));
        }
        let mut total = _mm_cvtsi128_si64(_mm512_castsi512_si128(carry)) as u64;
        for o in tail {
            total = total.wrapping_add(o.to_bits());
            *o = map.map(total);
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::codec::bitpack::Ident;

    /// Doubles a word's value: a map whose result shows the sum it was given.
    #[derive(Clone, Copy)]
    struct Twice;
    impl Map for Twice {
        type Out = u64;
        fn map(self, word: u64) -> u64 {
            word.wrapping_mul(2) ^ 1
        }
    }

    fn want(first: i64, deltas: &[u64]) -> Vec<u64> {
        let mut acc = first as u64;
        let mut v = Vec::with_capacity(deltas.len());
        for (i, &d) in deltas.iter().enumerate() {
            acc = if i == 0 {
                first as u64
            } else {
                acc.wrapping_add(d)
            };
            v.push(acc);
        }
        v
    }

    /// Every length around the eight-lane groups, sums that wrap, with and
    /// without a map: each level returns the plain running sum.
    #[test]
    fn every_level_sums_and_maps_as_the_plain_loop() {
        let mut rng = crate::test_rng::XorShift::new(0x9e37_79b9_7f4a_7c15);
        for n in [
            0usize, 1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 1023, 1024,
        ] {
            for scale in [3u64, 1 << 20, u64::MAX] {
                let deltas: Vec<u64> = (0..n).map(|_| rng.next_u64() % scale).collect();
                for first in [0i64, -977, i64::MAX - 5] {
                    let plain = want(first, &deltas);
                    let mapped: Vec<u64> = plain.iter().map(|&s| Twice.map(s)).collect();
                    for level in Level::ALL {
                        let mut got = deltas.clone();
                        isa::with_level(level, || {
                            prefix_sum_map(first, &mut got, Ident::<u64>::default())
                        });
                        assert_eq!(got, plain, "n {n} scale {scale} {level:?}");
                        let mut got = deltas.clone();
                        isa::with_level(level, || prefix_sum_map(first, &mut got, Twice));
                        assert_eq!(got, mapped, "mapped n {n} scale {scale} {level:?}");
                    }
                }
            }
        }
    }
}
