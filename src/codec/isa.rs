//! The instruction set the hot decode loops run with, chosen at run time.
//!
//! The crate is built for baseline x86-64 (SSE2: two u64 or f64 lanes per
//! instruction), so that one binary runs on every x86-64 machine. The loops
//! that bound decode speed (bit-unpacking, ALP's int-to-float step, sums) are
//! written once, as plain Rust the compiler vectorises, and compiled three
//! times by [`vectorized!`]: for baseline, for AVX2 (x86-64-v3: four lanes)
//! and for AVX-512 (eight lanes). Each call picks the widest the CPU has.
//!
//! Invariants:
//! 1. The three versions are the same source, so they compute the same bits;
//!    tests run the codecs under every level this CPU has ([`with_level`]).
//! 2. Code compiled for AVX2 or AVX-512 runs only after
//!    `is_x86_feature_detected!` confirmed every feature it was compiled with:
//!    [`run_avx2`] and [`run_avx512`] check it themselves, whatever level
//!    the caller asked for. This and [`prefetch`] are the module's only `unsafe`, audited in
//!    UNSAFE.md.
//! 3. The level is detected once per process; a thread may lower (never raise)
//!    it for the calls it makes ([`with_level`]), for tests and benchmarks.
//!
//! Callers: put the loop body in `vectorized!(...)` inside an `#[inline(never)]`
//! kernel, so the choice is made once per block, not per value, and keep what
//! the body calls `#[inline(always)]` (a call that is not inlined runs at
//! baseline).
#![allow(unsafe_code)]

use std::cell::Cell;
use std::sync::atomic::{AtomicU8, Ordering};

/// An instruction-set level, from narrowest to widest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// x86-64 baseline (SSE2), or any other architecture.
    Baseline = 1,
    /// x86-64-v3: AVX2, FMA, BMI1/2, LZCNT, POPCNT.
    Avx2 = 2,
    /// x86-64-v4: AVX-512 F, BW, CD, DQ, VL on top of AVX2.
    Avx512 = 3,
}

impl Level {
    /// Every level, narrowest first.
    pub const ALL: [Level; 3] = [Level::Baseline, Level::Avx2, Level::Avx512];

    /// Short stable name, as benchmarks print it.
    pub fn name(self) -> &'static str {
        match self {
            Level::Baseline => "baseline",
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512",
        }
    }

    fn from_u8(b: u8) -> Option<Level> {
        Level::ALL.into_iter().find(|l| *l as u8 == b)
    }
}

/// 0 until detected, then a `Level`.
static DETECTED: AtomicU8 = AtomicU8::new(0);

thread_local! {
    static CAP: Cell<Level> = const { Cell::new(Level::Avx512) };
}

/// The widest level this CPU supports (detected on first use).
pub fn detected() -> Level {
    if let Some(l) = Level::from_u8(DETECTED.load(Ordering::Relaxed)) {
        return l;
    }
    let l = detect();
    DETECTED.store(l as u8, Ordering::Relaxed);
    l
}

#[cfg(target_arch = "x86_64")]
fn detect() -> Level {
    let v3 = is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma")
        && is_x86_feature_detected!("bmi1")
        && is_x86_feature_detected!("bmi2")
        && is_x86_feature_detected!("lzcnt")
        && is_x86_feature_detected!("popcnt");
    let v4 = v3
        && is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512cd")
        && is_x86_feature_detected!("avx512dq")
        && is_x86_feature_detected!("avx512vl");
    match (v3, v4) {
        (_, true) => Level::Avx512,
        (true, false) => Level::Avx2,
        _ => Level::Baseline,
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> Level {
    Level::Baseline
}

/// The level kernels run with on this thread: the detected one, lowered by
/// [`with_level`] if a caller asked.
#[inline]
pub fn level() -> Level {
    detected().min(CAP.with(Cell::get))
}

/// Runs `f` with this thread's kernels at most at `cap` (they still never
/// exceed what the CPU has). For tests that cover every path and benchmarks
/// that compare them.
pub fn with_level<R>(cap: Level, f: impl FnOnce() -> R) -> R {
    let old = CAP.with(|c| c.replace(cap));
    let r = f();
    CAP.with(|c| c.set(old));
    r
}

/// Runs `body` compiled for the widest level [`level`] allows. `body` is an
/// expression; it is pasted into three closures, each inlined into a function
/// compiled for its level.
macro_rules! vectorized {
    ($body:expr) => {
        match $crate::codec::isa::level() {
            $crate::codec::isa::Level::Avx512 => $crate::codec::isa::run_avx512(
                #[inline(always)]
                move || $body,
            ),
            $crate::codec::isa::Level::Avx2 => $crate::codec::isa::run_avx2(
                #[inline(always)]
                move || $body,
            ),
            $crate::codec::isa::Level::Baseline => $body,
        }
    };
}
pub(crate) use vectorized;

/// Runs `f` compiled for AVX2 if this CPU has it, else as it is.
#[inline(always)]
pub fn run_avx2<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if detected() >= Level::Avx2 {
        // SAFETY: `avx2` may run only where the CPU has every feature it is
        // compiled with; `detected()` returned Avx2 or wider only after
        // `is_x86_feature_detected!` confirmed each of them (see `detect`).
        return unsafe { avx2(f) };
    }
    f()
}

/// Runs `f` compiled for AVX-512 if this CPU has it, else as it is.
#[inline(always)]
pub fn run_avx512<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if detected() >= Level::Avx512 {
        // SAFETY: as in `run_avx2`: every feature `avx512` is compiled with
        // was confirmed by `is_x86_feature_detected!` in `detect`.
        return unsafe { avx512(f) };
    }
    f()
}

/// Asks the CPU to start loading `bytes` into its caches, one hint per
/// 64-byte line, and returns at once. A hint only: it never faults, changes no
/// value and may be dropped, so callers issue it for data they will read soon
/// (the next block) while they work on the current one.
#[inline]
pub fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in bytes.chunks(64) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch reads no memory architecturally and cannot
        // fault, whatever the address; SSE, which it needs, is part of
        // baseline x86-64.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,bmi1,bmi2,lzcnt,popcnt")]
#[inline(never)]
fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(
    enable = "avx512f,avx512bw,avx512cd,avx512dq,avx512vl,avx2,fma,bmi1,bmi2,lzcnt,popcnt"
)]
#[inline(never)]
fn avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum_squares(xs: &[f64]) -> f64 {
        vectorized!(xs.iter().map(|x| x * x).sum::<f64>())
    }

    #[test]
    fn every_level_computes_the_same_bits() {
        let xs: Vec<f64> = (0..1000).map(|i| f64::from(i) * 0.37 - 11.0).collect();
        let want = with_level(Level::Baseline, || sum_squares(&xs));
        for l in Level::ALL {
            assert_eq!(with_level(l, || sum_squares(&xs)).to_bits(), want.to_bits());
        }
    }

    #[test]
    fn with_level_lowers_and_restores() {
        let top = level();
        assert_eq!(top, detected());
        with_level(Level::Baseline, || assert_eq!(level(), Level::Baseline));
        assert_eq!(level(), top);
        with_level(Level::Avx512, || assert!(level() <= detected()));
    }
}
