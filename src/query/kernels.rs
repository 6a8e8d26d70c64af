//! Slice kernels: the reductions every aggregate is built from, written as
//! tight loops over 8 independent lanes (`chunks_exact(8)`, no bounds checks
//! inside the loop) so the compiler vectorises them. Integer min/max is exact
//! in any order, so it is a plain fold, which LLVM vectorises by itself.
//!
//! Values arrive as raw 64-bit patterns (`&[u64]`, as blocks decode them);
//! "f64" kernels reinterpret the bits, "int" kernels read two's complement
//! `i64` (bools are the integers 0 and 1).
//!
//! Invariants:
//! 1. Every result depends only on the slice's contents, never on how it was
//!    cut into chunks by the caller: the lane structure is fixed (lane `i % 8`
//!    for the `i`-th element of the 8-aligned prefix, then the tail in order),
//!    and lanes are combined in one fixed tree order.
//! 2. The segment writer computes block statistics with [`sum_f64`],
//!    [`sum_int`], [`min_max_f64`] and [`min_max_int`] (`segment/stats.rs`),
//!    so an aggregate answered from a block's statistics is bit-identical to
//!    the same aggregate computed on the decoded block (statistics push-down).
//!    The one exception is the payload of a NaN sum, which Rust leaves
//!    unspecified and which changes with the code the compiler emits; every
//!    aggregate reports a NaN sum as the canonical NaN (`partial.rs`).
//! 3. `min`/`max` of f64 ignore NaN unless every value is NaN (then the
//!    canonical NaN); among equal zeros `min` prefers -0.0 and `max` +0.0, so
//!    the answer does not depend on the order of the values.
//! 4. Sums propagate NaN and infinities as IEEE addition does.
//! 5. The kernels are `#[inline(always)]`: the downsample fold (`plan.rs`)
//!    runs them inlined in its copies for each instruction-set level
//!    (`codec/isa.rs`). The same source gives the same bits at every level
//!    (IEEE add and compare per lane, no fused multiply-add), so invariant 2
//!    holds whichever level wrote the statistics or reads the block.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

/// Lanes of every reduction.
pub const LANES: usize = 8;

const NEG_ZERO: u64 = 0x8000_0000_0000_0000;

/// The lanes, through an optimisation barrier. Without it LLVM fits the
/// loop that fills the lanes to the scalar tree that reads them and keeps
/// the lanes in 128-bit pairs or scalars (seen in the downsample fold: one
/// `vaddsd` a value); behind it the loop works on whole vectors (one
/// `vaddpd` for eight lanes): 9% faster on `bench downsample` of the tiled
/// SKAB data. Costs a 64-byte spill per reduction.
#[inline(always)]
fn lanes_barrier(lanes: [f64; LANES]) -> [f64; LANES] {
    std::hint::black_box(lanes)
}

/// Combines eight lane sums in a fixed tree order.
#[inline(always)]
fn tree(acc: [f64; LANES]) -> f64 {
    let [a0, a1, a2, a3, a4, a5, a6, a7] = lanes_barrier(acc);
    ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
}

/// Combines eight lanes by `f` in a fixed tree (three steps deep, not eight).
#[inline(always)]
fn tree_by(lanes: [f64; LANES], f: impl Fn(f64, f64) -> f64) -> f64 {
    let [a0, a1, a2, a3, a4, a5, a6, a7] = lanes_barrier(lanes);
    f(f(f(a0, a1), f(a2, a3)), f(f(a4, a5), f(a6, a7)))
}

/// The smaller of two non-NaN bounds (either zero when they are equal).
#[inline(always)]
fn lower(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

/// Sum of f64 values given as bits: eight lane sums of the 8-aligned prefix,
/// combined by [`tree`], plus the tail summed in order.
#[inline(always)]
pub fn sum_f64(bits: &[u64]) -> f64 {
    lane_sum(bits, f64::from_bits)
}

/// Sum of `i64` values (bools: 0/1) each converted to f64, in the lane order
/// of [`sum_f64`].
#[inline(always)]
pub fn sum_int(values: &[u64]) -> f64 {
    lane_sum(values, int_f64)
}

/// An `i64` given as bits, as f64.
#[inline(always)]
pub fn int_f64(x: u64) -> f64 {
    x as i64 as f64
}

/// `Σ term(x)` in the lane order of [`sum_f64`].
#[inline(always)]
fn lane_sum(values: &[u64], term: impl Fn(u64) -> f64) -> f64 {
    let mut acc = [0f64; LANES];
    let mut chunks = values.chunks_exact(LANES);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += term(x);
        }
    }
    let tail = chunks.remainder().iter().fold(0f64, |s, &x| s + term(x));
    tree(acc) + tail
}

/// Lane bounds of a min/max pass: minima and *negated* maxima, so both
/// update with one `minpd` each (a one-instruction dependency chain; the
/// compiler does not turn the `max` select into `maxpd`).
struct Bounds {
    lo: [f64; LANES],
    neg_hi: [f64; LANES],
}

impl Bounds {
    #[inline(always)]
    fn new() -> Self {
        Bounds {
            lo: [f64::INFINITY; LANES],
            neg_hi: [f64::INFINITY; LANES],
        }
    }

    /// Folds one value into lane `l` / `h` (NaN compares false both ways, so
    /// it never replaces a bound).
    #[inline(always)]
    fn fold(l: &mut f64, h: &mut f64, v: f64) {
        *l = lower(*l, v);
        *h = lower(*h, -v);
    }

    /// The bounds of `bits` as bits (invariant 3), given its lanes and its
    /// unchunked `rest`.
    #[inline(always)]
    fn finish(self, bits: &[u64], rest: &[u64]) -> (u64, u64) {
        let mut min = tree_by(self.lo, lower);
        let mut neg_max = tree_by(self.neg_hi, lower);
        for &x in rest {
            Bounds::fold(&mut min, &mut neg_max, f64::from_bits(x));
        }
        let max = -neg_max;
        if min > max {
            // Only when no value is a number: every value is NaN.
            return (f64::NAN.to_bits(), f64::NAN.to_bits());
        }
        (fix_zero(bits, min, NEG_ZERO), fix_zero(bits, max, 0))
    }
}

/// Minimum and maximum of f64 values given as bits, as bits (invariant 3).
/// An empty slice gives the canonical NaN for both.
#[inline(always)]
pub fn min_max_f64(bits: &[u64]) -> (u64, u64) {
    let mut b = Bounds::new();
    let mut chunks = bits.chunks_exact(LANES);
    for c in &mut chunks {
        for ((l, h), &x) in b.lo.iter_mut().zip(b.neg_hi.iter_mut()).zip(c) {
            Bounds::fold(l, h, f64::from_bits(x));
        }
    }
    b.finish(bits, chunks.remainder())
}

/// [`sum_f64`] and [`min_max_f64`] in one pass (the same results, bit for
/// bit: the same lanes, the same tail, the same fixes).
#[inline(always)]
pub fn sum_min_max_f64(bits: &[u64]) -> (f64, u64, u64) {
    let mut acc = [0f64; LANES];
    let mut b = Bounds::new();
    let mut chunks = bits.chunks_exact(LANES);
    for c in &mut chunks {
        let lanes = acc.iter_mut().zip(b.lo.iter_mut()).zip(b.neg_hi.iter_mut());
        for (((a, l), h), &x) in lanes.zip(c) {
            let v = f64::from_bits(x);
            *a += v;
            Bounds::fold(l, h, v);
        }
    }
    let rest = chunks.remainder();
    let tail = rest.iter().fold(0f64, |s, &x| s + f64::from_bits(x));
    let (min, max) = b.finish(bits, rest);
    (tree(acc) + tail, min, max)
}

/// A zero bound takes the sign `preferred` when any value has that zero's
/// bits, the other zero otherwise; other bounds are returned as they are.
#[inline(always)]
fn fix_zero(bits: &[u64], bound: f64, preferred: u64) -> u64 {
    if bound != 0.0 {
        return bound.to_bits();
    }
    let found = bits.iter().fold(false, |f, &b| f | (b == preferred));
    if found {
        preferred
    } else {
        preferred ^ NEG_ZERO
    }
}

/// Minimum and maximum of `i64` values (bools: 0/1). An empty slice gives
/// `(i64::MAX, i64::MIN)`.
#[inline(always)]
pub fn min_max_int(values: &[u64]) -> (i64, i64) {
    // A plain fold: LLVM vectorises integer min/max reductions by itself. An
    // array of lane accumulators fed by `chunks_exact` was vectorised across
    // chunks, with strided gathers.
    values.iter().fold((i64::MAX, i64::MIN), |(lo, hi), &x| {
        (lo.min(x as i64), hi.max(x as i64))
    })
}

/// The smaller of two f64 minima (as bits) under invariant 3: NaN only when
/// both are NaN, -0.0 before +0.0. Associative and commutative.
#[inline(always)]
pub fn min_f64_bits(a: u64, b: u64) -> u64 {
    pick_f64(a, b, |x, y| x < y, NEG_ZERO)
}

/// The larger of two f64 maxima (as bits): NaN only when both are NaN,
/// +0.0 before -0.0.
#[inline(always)]
pub fn max_f64_bits(a: u64, b: u64) -> u64 {
    pick_f64(a, b, |x, y| x > y, 0)
}

#[inline(always)]
fn pick_f64(a: u64, b: u64, better: impl Fn(f64, f64) -> bool, zero: u64) -> u64 {
    let (x, y) = (f64::from_bits(a), f64::from_bits(b));
    if x.is_nan() {
        return b;
    }
    if y.is_nan() || better(x, y) {
        return a;
    }
    if better(y, x) {
        return b;
    }
    // Equal numbers have equal bits except the two zeros.
    if a == zero || b == zero {
        zero
    } else {
        a
    }
}

/// Sum of squared deviations from `mean` of f64 values given as bits (the
/// second pass of a two-pass variance), in the lane order of [`sum_f64`].
#[inline(always)]
pub fn m2_f64(bits: &[u64], mean: f64) -> f64 {
    lane_sum(bits, |x| {
        (f64::from_bits(x) - mean) * (f64::from_bits(x) - mean)
    })
}

/// [`m2_f64`] for `i64` values (bools: 0/1) converted to f64.
#[inline(always)]
pub fn m2_int(values: &[u64], mean: f64) -> f64 {
    lane_sum(values, |x| (int_f64(x) - mean) * (int_f64(x) - mean))
}

/// Step-interpolated area `Σ vᵢ·(tᵢ₊₁ − tᵢ)` over consecutive points of a
/// strictly increasing slice (the last point's own interval is the caller's:
/// it depends on what follows the slice). `value` reads one value as f64.
#[inline(always)]
pub fn step_area(ts: &[i64], values: &[u64], value: impl Fn(u64) -> f64) -> f64 {
    let mut acc = [0f64; LANES];
    let n = ts.len().min(values.len());
    let (ts, values) = (
        ts.get(..n).unwrap_or_default(),
        values.get(..n).unwrap_or_default(),
    );
    let next = ts.get(1..).unwrap_or_default();
    let mut chunks = ts.chunks_exact(LANES).zip(next.chunks_exact(LANES));
    let mut vchunks = values.chunks_exact(LANES);
    let mut done = 0;
    for ((t0, t1), v) in (&mut chunks).zip(&mut vchunks) {
        for (((a, &x0), &x1), &v) in acc.iter_mut().zip(t0).zip(t1).zip(v) {
            *a += value(v) * span_f64(x0, x1);
        }
        done += LANES;
    }
    let rest = ts.get(done..).unwrap_or_default();
    let rest_v = values.get(done..).unwrap_or_default();
    let tail = rest
        .windows(2)
        .zip(rest_v)
        .fold(0f64, |s, (w, &v)| match w {
            [a, b] => s + value(v) * span_f64(*a, *b),
            _ => s,
        });
    tree(acc) + tail
}

/// `b − a` as f64 for `a <= b`, exact in u64 however far apart they are.
#[inline]
pub fn span_f64(a: i64, b: i64) -> f64 {
    (b as u64).wrapping_sub(a as u64) as f64
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn sums_match_a_reference_lane_sum_and_propagate_specials() {
        let v: Vec<f64> = (0..37).map(|i| (i as f64 * 0.37).sin() * 1e3).collect();
        let mut lanes = [0f64; 8];
        for (i, x) in v.iter().take(32).enumerate() {
            lanes[i % 8] += x;
        }
        let tail: f64 = v[32..].iter().fold(0.0, |s, x| s + x);
        let want = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
            + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
            + tail;
        assert_eq!(sum_f64(&bits(&v)).to_bits(), want.to_bits());
        assert!(sum_f64(&bits(&[1.0, f64::NAN])).is_nan());
        assert_eq!(sum_f64(&bits(&[1.0, f64::INFINITY])), f64::INFINITY);
        assert_eq!(sum_f64(&[]), 0.0);
        let ints: Vec<u64> = [-3i64, 5, i64::MAX].iter().map(|&x| x as u64).collect();
        assert_eq!(sum_int(&ints), -3.0 + 5.0 + i64::MAX as f64);
    }

    #[test]
    fn min_max_ignore_nan_and_order_zeros() {
        let nan = f64::NAN;
        assert_eq!(
            min_max_f64(&bits(&[nan, 2.0, -1.0, nan])),
            ((-1.0f64).to_bits(), 2f64.to_bits())
        );
        let all_nan = bits(&[f64::from_bits(0x7ff8_0000_dead_beef); 9]);
        assert_eq!(min_max_f64(&all_nan), (nan.to_bits(), nan.to_bits()));
        for (p, q) in [(0, 12), (12, 0), (3, 9), (9, 3)] {
            let mut pos = vec![5.0; 13];
            pos[p] = 0.0;
            pos[q] = -0.0;
            assert_eq!(min_max_f64(&bits(&pos)).0, NEG_ZERO, "{p} {q}");
            let neg: Vec<f64> = pos
                .iter()
                .map(|&x| if x == 5.0 { -5.0 } else { x })
                .collect();
            assert_eq!(min_max_f64(&bits(&neg)).1, 0, "{p} {q}");
        }
        assert_eq!(min_max_f64(&bits(&[-0.0; 10])), (NEG_ZERO, NEG_ZERO));
        assert_eq!(min_max_f64(&bits(&[0.0; 3])), (0, 0));
        let inf = bits(&[nan, f64::INFINITY]);
        assert_eq!(min_max_f64(&inf), (inf[1], inf[1]));
    }

    #[test]
    fn pairwise_min_max_agree_with_the_slice_kernel() {
        let v = bits(&[0.0, -0.0, f64::NAN, 3.0, -0.0, f64::NEG_INFINITY, 0.0]);
        for split in 0..=v.len() {
            let (a, b) = v.split_at(split);
            let (la, ha) = min_max_f64(a);
            let (lb, hb) = min_max_f64(b);
            let whole = min_max_f64(&v);
            assert_eq!((min_f64_bits(la, lb), max_f64_bits(ha, hb)), whole);
        }
        let ints: Vec<u64> = [4i64, -9, 7, 0, 1, 2, 3, 5, 6, -2]
            .iter()
            .map(|&x| x as u64)
            .collect();
        assert_eq!(min_max_int(&ints), (-9, 7));
        assert_eq!(min_max_int(&[]), (i64::MAX, i64::MIN));
    }

    #[test]
    fn the_fused_kernel_equals_the_separate_ones() {
        let mut v: Vec<f64> = (0..77)
            .map(|i| ((i * 37 % 101) as f64 - 50.0) / 3.0)
            .collect();
        for n in [0, 1, 7, 8, 9, 16, 63, 77] {
            for special in [None, Some(f64::NAN), Some(-0.0), Some(f64::INFINITY)] {
                if let (Some(x), true) = (special, n > 0) {
                    v[n / 2] = x;
                }
                let b = bits(&v[..n]);
                let (s, lo, hi) = sum_min_max_f64(&b);
                assert_eq!(s.to_bits(), sum_f64(&b).to_bits(), "{n}");
                assert_eq!((lo, hi), min_max_f64(&b), "{n}");
            }
        }
    }

    #[test]
    fn m2_and_step_area() {
        let v = bits(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m2_f64(&v, 2.5), 5.0);
        let ints: Vec<u64> = [1i64, 2, 3, 4].iter().map(|&x| x as u64).collect();
        assert_eq!(m2_int(&ints, 2.5), 5.0);
        let ts: Vec<i64> = (0..20).map(|i| i * i).collect();
        let vals: Vec<u64> = (0..20).map(|i| (i as f64).to_bits()).collect();
        let want: f64 = (0..19)
            .map(|i| i as f64 * ((i + 1) * (i + 1) - i * i) as f64)
            .sum();
        assert_eq!(step_area(&ts, &vals, f64::from_bits), want);
        assert_eq!(step_area(&[5], &vals[..1], f64::from_bits), 0.0);
        assert_eq!(span_f64(i64::MIN, i64::MAX), u64::MAX as f64);
    }
}
