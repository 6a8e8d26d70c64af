//! Dictionary lookups by vector permutes: `out[i] = table[out[i]]` for a table
//! of at most [`MAX_TABLE`] entries, the inner step of the int dictionary codec
//! (`ints::decode_dict`).
//!
//! A scalar lookup costs a load, a compare and a store per value. With AVX-512
//! a table of 16 u64 fits two registers and `vpermt2q` looks up eight indices
//! at once; 64 entries take four permutes and three blends, selected by index
//! bits 4 and 5. Gathers (`vpgatherqq`) measured no faster than the scalar
//! loop. Whole dictionary blocks (`cargo bench --bench codecs_int --
//! ints/decode/dict`, 2026-12-04): 5 entries 503 → 250 ns, 50 entries
//! 506 → 398 ns; 200 entries keep the scalar loop (533-554 ns).
//!
//! Invariants:
//! 1. Both paths return the same bits for every input: an index below `k`
//!    yields its entry; the return value is true iff some index is `≥ k`, and
//!    then the caller must discard `out` (it holds unspecified entries).
//! 2. The AVX-512 path runs only where `isa::detected()` confirmed AVX-512F
//!    (UNSAFE.md); [`isa::with_level`] below AVX-512 selects the scalar path, so
//!    tests compare the two.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]
#![allow(unsafe_code)]

use super::bitpack::Lane;
use super::isa::{self, Level};

/// Largest table the permute path handles (eight zmm registers).
pub const MAX_TABLE: usize = 64;

/// Replaces each index in `out` by `table[index]`; true if an index was `≥ k`
/// (`k ≤ N`, `N` a power of two). A table of [`MAX_TABLE`] entries takes the
/// permute path where the CPU has AVX-512.
#[inline(never)]
pub(crate) fn lookup<T: Lane, const N: usize>(out: &mut [T], table: &[T; N], k: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    if let Ok(t) = <&[T; MAX_TABLE]>::try_from(table.as_slice()) {
        if isa::level() >= Level::Avx512 && isa::detected() >= Level::Avx512 {
            // SAFETY: AVX-512F was confirmed by `is_x86_feature_detected!`
            // (`isa::detected`), the only precondition of `avx512::lookup`.
            return unsafe { avx512::lookup(out, t, k) };
        }
    }
    scalar(out, table, k)
}

/// The portable loop. `N` is a power of two, so `% N` is a mask and the
/// lookup has no bounds branch; an index `≥ k` still sets the flag.
fn scalar<T: Lane, const N: usize>(out: &mut [T], table: &[T; N], k: usize) -> bool {
    const { assert!(N.is_power_of_two()) };
    let mut bad = false;
    for o in out.iter_mut() {
        let i = o.to_bits();
        bad |= i >= k as u64;
        *o = table.get(i as usize % N).copied().unwrap_or_default();
    }
    bad
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{Lane, MAX_TABLE};
    use std::arch::x86_64::*;

    /// Loads eight lanes. `Lane` is implemented only for `u64` and `i64`:
    /// eight bytes each, every bit pattern valid.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn load<T: Lane>(c: &[T; 8]) -> __m512i {
        const { assert!(size_of::<T>() == 8) };
        // SAFETY: `c` is 64 readable bytes; `loadu` needs no alignment.
        unsafe { _mm512_loadu_si512(c.as_ptr().cast()) }
    }

    /// `super::lookup` with AVX-512F: each 16 table entries are two
    /// registers, looked up by one `vpermt2q` (index bits 0-3); the results
    /// are blended by index bits 4 and 5. The tail goes through a scalar loop.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn lookup<T: Lane>(out: &mut [T], table: &[T; MAX_TABLE], k: usize) -> bool {
        let (regs, _) = table.as_chunks::<8>();
        let mut t = [_mm512_setzero_si512(); 8];
        for (r, c) in t.iter_mut().zip(regs) {
            *r = load(c);
        }
        let [t0, t1, t2, t3, t4, t5, t6, t7] = t;
        let limit = _mm512_set1_epi64(k as i64);
        let (bit4, bit5) = (_mm512_set1_epi64(16), _mm512_set1_epi64(32));
        let mut bad: __mmask8 = 0;
        let (chunks, tail) = out.as_chunks_mut::<8>();
        for c in chunks {
            let idx = load(c);
            bad |= _mm512_cmpge_epu64_mask(idx, limit);
            let mut r = _mm512_permutex2var_epi64(t0, idx, t1);
            if k > 16 {
                let m4 = _mm512_test_epi64_mask(idx, bit4);
                r = _mm512_mask_blend_epi64(m4, r, _mm512_permutex2var_epi64(t2, idx, t3));
                if k > 32 {
                    let a = _mm512_permutex2var_epi64(t4, idx, t5);
                    let b = _mm512_permutex2var_epi64(t6, idx, t7);
                    let m5 = _mm512_test_epi64_mask(idx, bit5);
                    r = _mm512_mask_blend_epi64(m5, r, _mm512_mask_blend_epi64(m4, a, b));
                }
            }
            // SAFETY: `c` is 64 writable bytes; `storeu` needs no alignment;
            // every bit pattern is a valid `T` (see `load`).
            unsafe { _mm512_storeu_si512(c.as_mut_ptr().cast(), r) };
        }
        (bad != 0) | super::scalar(tail, table, k)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::test_rng::XorShift;

    /// Every table size, every tail length, good and bad indices: the
    /// AVX-512 path (where the CPU has it) returns exactly what the scalar
    /// loop returns.
    #[test]
    fn permute_and_scalar_paths_agree() {
        let mut rng = XorShift::new(0x9e37_79b9_7f4a_7c15);
        let mut next = move || rng.next_u64();
        for k in 1..=MAX_TABLE {
            let table: [u64; MAX_TABLE] = std::array::from_fn(|_| next());
            for n in [0usize, 1, 7, 8, 9, 63, 1000, 1024] {
                for bad_at in [None, Some(0), Some(n / 2), Some(n.saturating_sub(1))] {
                    let mut idx: Vec<u64> = (0..n).map(|_| next() % k as u64).collect();
                    if let Some(p) = bad_at.filter(|&p| p < n) {
                        idx[p] = k as u64 + next() % [1, 64, 1 << 40][p % 3];
                    }
                    let mut want = idx.clone();
                    let want_bad = scalar(&mut want, &table, k);
                    for level in Level::ALL {
                        let mut got = idx.clone();
                        let got_bad = isa::with_level(level, || lookup(&mut got, &table, k));
                        assert_eq!(got_bad, want_bad, "k {k} n {n} {level:?}");
                        assert_eq!(want_bad, bad_at.is_some_and(|p| p < n));
                        if !want_bad {
                            assert_eq!(got, want, "k {k} n {n} {level:?}");
                            let direct: Vec<u64> = idx.iter().map(|&i| table[i as usize]).collect();
                            assert_eq!(got, direct);
                        }
                    }
                }
            }
        }
    }
}
