//! Optional lossy compression of one series' points, applied before they are stored, as
//! plant historians offer it (OSIsoft PI's exception and compression tests).
//!
//! A series carries an `Option<Lossy>`; `None`, the default, stores every point bit for bit.
//! With a setting, [`select`] picks the indices of the points to store, and the query side
//! answers for a dropped point at time `t` with [`reconstruct`] over the stored points. Nothing
//! here touches bytes: the kept points then go through the lossless codecs.
//!
//! Setting text ([`Lossy::parse`]; `Display` prints the same form and round-trips exactly):
//! `deadband:BOUND` or `swinging-door:BOUND` (alias `sdt`), kind in any ASCII case, BOUND an
//! f64 in the series' own unit, finite and > 0.
//!
//! Invariants of `select(kind, ts, values)`, for n points with ts strictly increasing:
//! 1. The indices are strictly increasing and in `0..n`; for n > 0 they hold 0 and n - 1.
//! 2. Every non-finite value (NaN, ±inf) is kept, and so is the finite point right after it
//!    (both kinds) and, for swinging door, the finite point right before it: no hold or
//!    interpolation ever uses a non-finite value or spans one.
//! 3. The bound, for every dropped point (all of them finite), evaluated in f64 exactly as
//!    written: `(reconstruct(kind, kept_ts, kept_values, t_i).unwrap() - v_i).abs() <= bound`.
//!    This is exact, not approximate: rounding is part of the check. A kept point
//!    reconstructs to its own value, bit for bit.
//! 4. O(n) time; the returned Vec is the only allocation.
//!
//! Deadband (absolute; PI's "exception deviation"): walking in order, a point is kept when it
//! is the first or the last, is not finite, follows a non-finite point, or when
//! `(v - h).abs() > bound`, h being the last kept value. Timestamps play no part in the choice.
//! `reconstruct` = the value of the last kept point at or before t (step, "hold last").
//!
//! Swinging door trending (Bristol 1990; PI's "compression deviation"): a segment starts at a
//! kept finite point a, the anchor. Each point i the segment passes over narrows two doors
//! hinged at the anchor: the upper door slope is the min of `(v_i - v_a + bound) / (t_i - t_a)`,
//! the lower the max of `(v_i - v_a - bound) / (t_i - t_a)`. The next point j stays in the
//! segment while its slope `(v_j - v_a) / (t_j - t_a)` lies between the doors of the points
//! before it; the first point outside the doors (or non-finite, or the end of input) ends the
//! segment at the point before it, which is kept and anchors the next segment.
//! `reconstruct` = `v0 + (v1 - v0) * ((t - t0) / (t1 - t0))` over the kept points around t,
//! the time differences taken exactly in i128 from the segment start, then converted to f64
//! (so 1e18 ns timestamps and huge gaps lose nothing before the division).
//! Door slopes are rounded, so every closed segment is then checked point by point with this
//! very formula. A segment that fails (a point misses by the last ulps) is covered again, within
//! its own two ends, by segments whose doors are half the bound wide, each checked the same
//! way; a piece that still fails keeps all its points. Each point is thus scanned at most twice
//! and checked at most twice beyond the plain pass: the guarantee is exact and the pass O(n).
//!
//! Why the doors hinge at the anchor, not at `v_a ± bound` as in Bristol's figure: pivots at
//! `v_a ± bound` only prove that every point lies within bound of *some* line, and the line
//! between the stored points can miss a dropped point by up to 2 × bound
//! (`tests::pivot_doors_miss_the_bound`).
//!
//! `reconstruct` returns `None` when t is before the first or after the last kept point, when
//! the two slices differ in length, or when the kept neighbours it needs are not finite
//! (invariant 2: `select` never drops a point there).
//!
//! Callers: `ts.len() == values.len()` (else the shorter length is used) and ts strictly
//! increasing (else lookups by time are meaningless and swinging door keeps more points,
//! but nothing panics); `kept_ts` ascending. A `kind` whose bound fails [`Lossy::validate`]
//! keeps every point.

use std::fmt;
use std::str::FromStr;

/// A per-series lossy setting, stored with the series; `None` = lossless (the default).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Lossy {
    /// Keep a point when it moves more than `bound` from the last kept value; hold between.
    Deadband { bound: f64 },
    /// Swinging door trending; linear interpolation between kept points.
    SwingingDoor { bound: f64 },
}

const DEADBAND: &str = "deadband";
const SWINGING_DOOR: &str = "swinging-door";
const SWINGING_DOOR_ALIAS: &str = "sdt";

impl Lossy {
    /// The largest error allowed on a finite value, in the series' unit.
    pub fn bound(&self) -> f64 {
        match *self {
            Lossy::Deadband { bound } | Lossy::SwingingDoor { bound } => bound,
        }
    }

    /// The kind's stable name, as the setting text spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Lossy::Deadband { .. } => DEADBAND,
            Lossy::SwingingDoor { .. } => SWINGING_DOOR,
        }
    }

    /// The byte naming the kind in files (segment index, manifest):
    /// 1 deadband, 2 swinging door (0 is "lossless" there).
    pub fn kind_tag(&self) -> u8 {
        match self {
            Lossy::Deadband { .. } => 1,
            Lossy::SwingingDoor { .. } => 2,
        }
    }

    /// The setting a file names by `kind` and `bound`; None for an unknown kind.
    /// The bound is not checked here ([`Lossy::validate`]).
    pub fn from_tag(kind: u8, bound: f64) -> Option<Lossy> {
        match kind {
            1 => Some(Lossy::Deadband { bound }),
            2 => Some(Lossy::SwingingDoor { bound }),
            _ => None,
        }
    }

    /// Checks that the bound is finite and > 0.
    pub fn validate(&self) -> Result<(), String> {
        let bound = self.bound();
        if bound.is_finite() && bound > 0.0 {
            Ok(())
        } else {
            Err(format!(
                "{} bound must be finite and > 0, got {bound}",
                self.name()
            ))
        }
    }

    /// Parses `deadband:0.5` or `swinging-door:0.1` (also `sdt:0.1`).
    pub fn parse(s: &str) -> Result<Lossy, String> {
        let bad = |why: String| format!("lossy setting {s:?}: {why}");
        let (kind, bound) = s.trim().split_once(':').ok_or_else(|| {
            bad("expected KIND:BOUND, e.g. deadband:0.5 or swinging-door:0.1".into())
        })?;
        let bound: f64 = bound
            .trim()
            .parse()
            .map_err(|e| bad(format!("bound: {e}")))?;
        let lossy = match kind.trim().to_ascii_lowercase().as_str() {
            DEADBAND => Lossy::Deadband { bound },
            SWINGING_DOOR | SWINGING_DOOR_ALIAS => Lossy::SwingingDoor { bound },
            other => {
                return Err(bad(format!(
                    "unknown kind {other:?}, expected {DEADBAND} or {SWINGING_DOOR}"
                )))
            }
        };
        lossy.validate().map_err(bad)?;
        Ok(lossy)
    }
}

impl FromStr for Lossy {
    type Err = String;

    fn from_str(s: &str) -> Result<Lossy, String> {
        Lossy::parse(s)
    }
}

impl fmt::Display for Lossy {
    /// `KIND:BOUND`; both float forms print the shortest text that parses back to the same bits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bound = self.bound();
        if (1e-4..1e16).contains(&bound.abs()) {
            write!(f, "{}:{bound}", self.name())
        } else {
            // Plain notation would print hundreds of digits for 1e-300.
            write!(f, "{}:{bound:e}", self.name())
        }
    }
}

/// Indices of the points to keep, in order. Always keeps the first and the last point.
pub fn select(kind: Lossy, ts: &[i64], values: &[f64]) -> Vec<usize> {
    let n = ts.len().min(values.len());
    let (ts, values) = (ts.get(..n).unwrap_or(&[]), values.get(..n).unwrap_or(&[]));
    if kind.validate().is_err() {
        return (0..n).collect();
    }
    let mut kept = Vec::new();
    match kind {
        Lossy::Deadband { bound } => deadband(bound, values, &mut kept),
        Lossy::SwingingDoor { bound } => {
            swinging_door(bound, ts, values, &mut kept);
        }
    }
    kept
}

/// Reconstruction the query side uses for a dropped point at time t, given the kept points.
pub fn reconstruct(kind: Lossy, kept_ts: &[i64], kept_values: &[f64], t: i64) -> Option<f64> {
    if kept_ts.len() != kept_values.len() {
        return None;
    }
    let next = kept_ts.partition_point(|&k| k <= t);
    let prev = next.checked_sub(1)?;
    let (&t0, &v0) = (kept_ts.get(prev)?, kept_values.get(prev)?);
    if t0 == t {
        return Some(v0);
    }
    // Past the last kept point there is nothing to reconstruct: the last point is always kept.
    let (&t1, &v1) = (kept_ts.get(next)?, kept_values.get(next)?);
    match kind {
        Lossy::Deadband { .. } => v0.is_finite().then_some(v0),
        Lossy::SwingingDoor { .. } => {
            (v0.is_finite() && v1.is_finite()).then(|| interpolate(t0, v0, t1, v1, t))
        }
    }
}

/// Appends the deadband's kept indices.
fn deadband(bound: f64, values: &[f64], kept: &mut Vec<usize>) {
    let last = values.len().saturating_sub(1);
    // The last kept value, or None at the start and after a non-finite point (nothing to hold).
    let mut held: Option<f64> = None;
    for (i, &v) in values.iter().enumerate() {
        let keep = match held {
            None => true,
            // Both finite, so the difference is never NaN (at worst ±inf, which is kept).
            Some(h) => i == last || !v.is_finite() || (v - h).abs() > bound,
        };
        if keep {
            kept.push(i);
            held = v.is_finite().then_some(v);
        }
    }
}

/// How often swinging door's exact check failed (tests watch that this stays rare).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Fallbacks {
    /// Segments that failed the check and were re-covered with doors at half the bound.
    resplit: usize,
    /// Pieces of those that failed again and were kept whole.
    kept_whole: usize,
}

/// Appends swinging door's kept indices.
fn swinging_door(bound: f64, ts: &[i64], values: &[f64], kept: &mut Vec<usize>) -> Fallbacks {
    let mut fallbacks = Fallbacks::default();
    let mut anchor = 0;
    while let Some(v) = values.get(anchor) {
        kept.push(anchor);
        let end = if v.is_finite() {
            segment_end(bound, ts, values, anchor)
        } else {
            anchor
        };
        if end == anchor {
            // A non-finite point, the point before one, or the last point: restart after it.
            anchor += 1;
            continue;
        }
        if !segment_holds(bound, ts, values, anchor, end) {
            fallbacks.resplit += 1;
            fallbacks.kept_whole += resplit(bound, ts, values, anchor, end, kept);
        }
        anchor = end;
    }
    fallbacks
}

/// Re-covers the segment `anchor..=end`, which failed the exact check, with doors at half the
/// bound, so that rounding has a margin of bound / 2 to eat into; a piece that still fails
/// is kept whole. Pushes the kept indices strictly between `anchor` and `end`, and returns the
/// number of pieces kept whole. Never looks past `end`, so the whole pass stays O(n).
fn resplit(
    bound: f64,
    ts: &[i64],
    values: &[f64],
    anchor: usize,
    end: usize,
    kept: &mut Vec<usize>,
) -> usize {
    let (ts, values) = (
        ts.get(..=end).unwrap_or(&[]),
        values.get(..=end).unwrap_or(&[]),
    );
    let mut kept_whole = 0;
    let mut start = anchor;
    while start < end {
        // Every point up to `end` is finite and later than the one before (the segment passed
        // over them), so a piece always advances; `max` only guards that reasoning.
        let stop = segment_end(bound / 2.0, ts, values, start).max(start + 1);
        if !segment_holds(bound, ts, values, start, stop) {
            kept_whole += 1;
            kept.extend(start + 1..stop);
        }
        if stop < end {
            kept.push(stop);
        }
        start = stop;
    }
    kept_whole
}

/// The index that ends the segment anchored at the finite point `anchor`, for doors `door` wide
/// (see the module doc); `anchor` itself when the next point is non-finite, not later in time,
/// or absent.
fn segment_end(door: f64, ts: &[i64], values: &[f64], anchor: usize) -> usize {
    let (Some(&t_a), Some(&v_a)) = (ts.get(anchor), values.get(anchor)) else {
        return anchor;
    };
    let rest_ts = ts.get(anchor + 1..).unwrap_or(&[]);
    let rest_values = values.get(anchor + 1..).unwrap_or(&[]);
    let (mut lower, mut upper) = (f64::NEG_INFINITY, f64::INFINITY);
    let (mut end, mut t_end) = (anchor, t_a);
    for (&t, &v) in rest_ts.iter().zip(rest_values) {
        if !v.is_finite() || t <= t_end {
            break;
        }
        let dt = offset(t_a, t);
        let dv = v - v_a;
        let slope = dv / dt;
        let inside_doors = lower <= slope && slope <= upper;
        if !inside_doors {
            break;
        }
        // The point is passed over from now on: it narrows the doors for the points after it.
        lower = lower.max((dv - door) / dt);
        upper = upper.min((dv + door) / dt);
        end += 1;
        t_end = t;
    }
    end
}

/// Whether every point strictly between `start` and `end` is within `bound` of its
/// reconstruction, computed exactly as [`reconstruct`] does.
fn segment_holds(bound: f64, ts: &[i64], values: &[f64], start: usize, end: usize) -> bool {
    let (Some(&t0), Some(&v0), Some(&t1), Some(&v1)) = (
        ts.get(start),
        values.get(start),
        ts.get(end),
        values.get(end),
    ) else {
        return false;
    };
    let inner = start + 1..end;
    let (Some(inner_ts), Some(inner_values)) = (ts.get(inner.clone()), values.get(inner)) else {
        return false;
    };
    inner_ts
        .iter()
        .zip(inner_values)
        .all(|(&t, &v)| (interpolate(t0, v0, t1, v1, t) - v).abs() <= bound)
}

/// The line through (t0, v0) and (t1, v1) at t, for t0 < t1; the one formula both the
/// segment check and the query side use, so the bound holds as computed.
fn interpolate(t0: i64, v0: f64, t1: i64, v1: f64, t: i64) -> f64 {
    v0 + (v1 - v0) * (offset(t0, t) / offset(t0, t1))
}

/// `to - from` as f64, exact in i128 before the one rounding (i64 differences can overflow).
fn offset(from: i64, to: i64) -> f64 {
    (i128::from(to) - i128::from(from)) as f64
}

#[cfg(test)]
#[expect(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    reason = "tests: a panic is the failure report"
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SEC: i64 = 1_000_000_000;

    fn with_bound(kind: Lossy, bound: f64) -> Lossy {
        match kind {
            Lossy::Deadband { .. } => Lossy::Deadband { bound },
            Lossy::SwingingDoor { .. } => Lossy::SwingingDoor { bound },
        }
    }

    /// Checks every promise of the module doc through the public API; Err names the first
    /// broken one.
    fn check(kind: Lossy, ts: &[i64], values: &[f64], kept: &[usize]) -> Result<(), String> {
        let n = values.len();
        if kept.windows(2).any(|w| w[0] >= w[1]) {
            return Err(format!("kept indices not strictly increasing: {kept:?}"));
        }
        if kept.last().is_some_and(|&k| k >= n) {
            return Err(format!("kept index out of 0..{n}"));
        }
        let ends_kept = kept.first() == Some(&0) && kept.last().copied() == n.checked_sub(1);
        if (n > 0 && !ends_kept) || (n == 0 && !kept.is_empty()) {
            return Err("first or last point dropped".into());
        }
        let is_kept = |i: usize| kept.binary_search(&i).is_ok();
        for (i, v) in values.iter().enumerate() {
            let sdt = matches!(kind, Lossy::SwingingDoor { .. });
            let neighbours_kept =
                (i + 1 >= n || is_kept(i + 1)) && (!sdt || i == 0 || is_kept(i - 1));
            let ok = v.is_finite() || (is_kept(i) && neighbours_kept);
            if !ok {
                return Err(format!("non-finite point {i} or a neighbour dropped"));
            }
        }
        let kept_ts: Vec<i64> = kept.iter().map(|&k| ts[k]).collect();
        let kept_values: Vec<f64> = kept.iter().map(|&k| values[k]).collect();
        for (i, (&t, &v)) in ts.iter().zip(values).enumerate() {
            let r = reconstruct(kind, &kept_ts, &kept_values, t);
            if is_kept(i) {
                if r.map(f64::to_bits) != Some(v.to_bits()) {
                    return Err(format!("kept point {i} reconstructs to {r:?}, not {v}"));
                }
                continue;
            }
            let r = r.ok_or_else(|| format!("dropped point {i} has no reconstruction"))?;
            let within = (r - v).abs() <= kind.bound();
            if !within {
                let err = (r - v).abs();
                return Err(format!(
                    "point {i}: |{r} - {v}| = {err} > bound {}",
                    kind.bound()
                ));
            }
        }
        Ok(())
    }

    /// splitmix64: the series below are a pure function of their parameters and seed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let z = (self.0 ^ (self.0 >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        /// Uniform in [-1, 1).
        fn signed(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        }
        fn chance(&mut self, p: f64) -> bool {
            self.signed() * 0.5 + 0.5 < p
        }
    }

    #[derive(Clone, Copy, Debug)]
    struct Params {
        shape: u8,
        n: usize,
        seed: u64,
        offset: f64,
        bound: f64,
        special_rate: f64,
        ts_start: i64,
        gap: u8,
    }

    fn params() -> impl Strategy<Value = Params> {
        let offsets = prop::sample::select(vec![0.0, 1.0, -1e3, 1e9, 1e15, -1e15, 1e300]);
        let bounds = prop::sample::select(vec![1e-9, 1e-3, 0.05, 1.0, 1e3, 1e6]);
        let rates = prop::sample::select(vec![0.0, 0.0, 0.01, 0.2]);
        let starts =
            prop::sample::select(vec![i64::MIN, -SEC, 0, 1_583_748_873 * SEC, i64::MAX / 2]);
        (
            0u8..6,
            0usize..400,
            any::<u64>(),
            offsets,
            bounds,
            rates,
            starts,
            0u8..5,
        )
            .prop_map(
                |(shape, n, seed, offset, bound, special_rate, ts_start, gap)| Params {
                    shape,
                    n,
                    seed,
                    offset,
                    bound,
                    special_rate,
                    ts_start,
                    gap,
                },
            )
    }

    /// Random walks, noisy sines, steps, spikes, walks on a grid of `bound`, constants; each
    /// around `offset`, sometimes hit by NaN/±inf, on regular, jittered, tiny or huge gaps.
    fn series(p: Params) -> (Vec<i64>, Vec<f64>) {
        let mut rng = Rng(p.seed);
        // In units of the bound, or of the offset's ulps (1e15: ulp 0.125, so values only ever
        // repeat or differ by far more than a 1e-9 bound: the rounding edge cases).
        let amplitude = match rng.next() % 6 {
            k @ 0..=3 => p.bound * [0.3, 3.0, 30.0, 1e4][k as usize],
            4 => p.offset.abs() * 1e-15,
            _ => p.offset.abs() * 1e-9,
        };
        let amplitude = if amplitude > 0.0 { amplitude } else { p.bound };
        let period = 2.0 + (rng.next() % 500) as f64;
        let (mut ts, mut values) = (Vec::new(), Vec::new());
        let (mut t, mut x, mut level) = (p.ts_start, 0.0_f64, 0.0_f64);
        for i in 0..p.n {
            x = match p.shape {
                0 => x + amplitude * rng.signed(),
                1 => {
                    let phase = std::f64::consts::TAU * i as f64 / period;
                    amplitude * phase.sin() + 0.1 * amplitude * rng.signed()
                }
                2 => {
                    if rng.chance(0.05) {
                        level = amplitude * 10.0 * rng.signed();
                    }
                    level + 0.01 * amplitude * rng.signed()
                }
                3 if rng.chance(0.03) => amplitude * 100.0 * rng.signed(),
                3 => 0.1 * amplitude * rng.signed(),
                4 => (x / p.bound + (rng.next() % 3) as f64 - 1.0) * p.bound,
                _ => 0.0,
            };
            let v = if rng.chance(p.special_rate) {
                [f64::NAN, f64::INFINITY, f64::NEG_INFINITY][(rng.next() % 3) as usize]
            } else {
                p.offset + x
            };
            ts.push(t);
            values.push(v);
            let gap = match p.gap {
                0 => SEC,
                1 => 1 + (rng.next() % SEC as u64) as i64,
                2 => 1,
                3 => (rng.next() >> 2) as i64 + 1,
                _ if rng.chance(0.05) => (rng.next() >> 8) as i64 + 1,
                _ => SEC,
            };
            let Some(next) = t.checked_add(gap) else {
                break;
            };
            t = next;
        }
        (ts, values)
    }

    /// The exact check's fallback, over a grid of magnitudes and bounds: segments get resplit
    /// now and then (last-ulp misses), but half-width doors have never needed to keep a
    /// piece whole.
    #[test]
    fn exact_check_fallbacks_are_rare() {
        let (mut segments, mut fallbacks) = (0, Fallbacks::default());
        for offset in [0.0, 1.0, -1e3, 1e9, 1e15, -1e15, 1e300] {
            for bound in [1e-9, 1e-3, 0.05, 1.0, 1e3, 1e6] {
                for seed in 0..60u64 {
                    let (shape, gap) = ((seed % 6) as u8, (seed % 5) as u8);
                    let p = Params {
                        shape,
                        n: 400,
                        seed,
                        offset,
                        bound,
                        special_rate: 0.0,
                        ts_start: 0,
                        gap,
                    };
                    let (ts, values) = series(p);
                    let mut kept = Vec::new();
                    let f = swinging_door(bound, &ts, &values, &mut kept);
                    check(Lossy::SwingingDoor { bound }, &ts, &values, &kept).unwrap();
                    segments += kept.len();
                    fallbacks.resplit += f.resplit;
                    fallbacks.kept_whole += f.kept_whole;
                }
            }
        }
        println!("fallbacks: {fallbacks:?} in {segments} segments");
        assert!(fallbacks.resplit * 100 < segments);
        assert_eq!(fallbacks.kept_whole, 0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn every_value_is_within_the_bound(p in params()) {
            let (ts, values) = series(p);
            let bound = p.bound;
            for kind in [Lossy::Deadband { bound }, Lossy::SwingingDoor { bound }] {
                let kept = select(kind, &ts, &values);
                prop_assert_eq!(check(kind, &ts, &values, &kept), Ok(()), "{}", kind);
            }
        }

        #[test]
        fn setting_text_round_trips(bits in 1u64..0x7ff0_0000_0000_0000, sdt in any::<bool>()) {
            let bound = f64::from_bits(bits);
            let kind = if sdt { Lossy::SwingingDoor { bound } } else { Lossy::Deadband { bound } };
            prop_assert_eq!(Lossy::parse(&kind.to_string()), Ok(kind));
        }
    }

    #[test]
    fn parse_accepts_the_documented_forms() {
        assert_eq!(
            Lossy::parse("deadband:0.5"),
            Ok(Lossy::Deadband { bound: 0.5 })
        );
        assert_eq!(
            Lossy::parse("swinging-door:0.1"),
            Ok(Lossy::SwingingDoor { bound: 0.1 })
        );
        assert_eq!(
            " SDT : 1e-9 ".parse(),
            Ok(Lossy::SwingingDoor { bound: 1e-9 })
        );
        assert_eq!(Lossy::Deadband { bound: 0.5 }.to_string(), "deadband:0.5");
        assert_eq!(
            Lossy::SwingingDoor { bound: 0.1 }.to_string(),
            "swinging-door:0.1"
        );
        assert_eq!(
            Lossy::SwingingDoor { bound: 1e-9 }.to_string(),
            "swinging-door:1e-9"
        );
        assert_eq!(Lossy::Deadband { bound: 1e20 }.to_string(), "deadband:1e20");
        for bad in [
            "",
            "deadband",
            "deadband:",
            "deadband:0",
            "deadband:-1",
            "deadband:-0",
            "deadband:NaN",
            "deadband:inf",
            "deadband:1e400",
            "exception:1",
            "sdt:abc",
        ] {
            assert!(Lossy::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn invalid_bounds_keep_every_point() {
        let (ts, values) = ([1, 2, 3], [1.0, 1.0, 1.0]);
        for bound in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            for kind in [Lossy::Deadband { bound }, Lossy::SwingingDoor { bound }] {
                assert_eq!(select(kind, &ts, &values), [0, 1, 2]);
            }
        }
    }

    #[test]
    fn deadband_keeps_moves_beyond_the_bound_and_holds() {
        let kind = Lossy::Deadband { bound: 0.5 };
        let ts = [10, 20, 30, 40, 50, 60];
        let values = [1.0, 1.5, 1.75, 0.5, 0.9, 0.9];
        // 1.5 is exactly the bound away: dropped; 1.75 moves 0.75: kept; 0.5 moves 1.25.
        assert_eq!(select(kind, &ts, &values), [0, 2, 3, 5]);
        let (kt, kv) = ([10, 30, 40, 60], [1.0, 1.75, 0.5, 0.9]);
        assert_eq!(reconstruct(kind, &kt, &kv, 20), Some(1.0));
        assert_eq!(reconstruct(kind, &kt, &kv, 50), Some(0.5));
        assert_eq!(reconstruct(kind, &kt, &kv, 9), None);
        assert_eq!(reconstruct(kind, &kt, &kv, 61), None);
        assert_eq!(reconstruct(kind, &kt, &kv[..3], 20), None);
    }

    #[test]
    fn swinging_door_drops_a_line_and_interpolates() {
        let kind = Lossy::SwingingDoor { bound: 0.1 };
        let ts: Vec<i64> = (0..10).map(|i| i * SEC).collect();
        let values = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 5.0, 5.0];
        let kept = select(kind, &ts, &values);
        assert_eq!(kept, [0, 5, 9]);
        let (kt, kv) = ([0, 5 * SEC, 9 * SEC], [0.0, 5.0, 5.0]);
        assert_eq!(reconstruct(kind, &kt, &kv, SEC / 2), Some(0.5));
        assert_eq!(reconstruct(kind, &kt, &kv, 7 * SEC), Some(5.0));
    }

    #[test]
    fn non_finite_values_split_segments() {
        let ts: Vec<i64> = (0..9).collect();
        let values = [0.0, 0.0, 0.0, f64::NAN, 0.0, 0.0, f64::INFINITY, 0.0, 0.0];
        let deadband = Lossy::Deadband { bound: 1.0 };
        assert_eq!(select(deadband, &ts, &values), [0, 3, 4, 6, 7, 8]);
        let sdt = Lossy::SwingingDoor { bound: 1.0 };
        assert_eq!(select(sdt, &ts, &values), [0, 2, 3, 4, 5, 6, 7, 8]);
        let (kt, kv) = ([0, 1], [f64::NAN, 0.0]);
        assert_eq!(reconstruct(sdt, &[0, 2], &[0.0, f64::NAN], 1), None);
        assert_eq!(
            reconstruct(deadband, &kt, &kv, 0).map(f64::is_nan),
            Some(true)
        );
    }

    #[test]
    fn extreme_timestamps_and_magnitudes() {
        let ts = [i64::MIN, -1, 0, i64::MAX];
        let values = [-1e15, 0.0, 0.0, 1e15];
        for kind in [
            Lossy::Deadband { bound: 1e-9 },
            Lossy::SwingingDoor { bound: 1e-9 },
        ] {
            check(kind, &ts, &values, &select(kind, &ts, &values)).unwrap();
        }
        let values = [-f64::MAX, f64::MAX, -f64::MAX, f64::MAX];
        for kind in [
            Lossy::Deadband { bound: 1.0 },
            Lossy::SwingingDoor { bound: 1.0 },
        ] {
            assert_eq!(select(kind, &ts, &values), [0, 1, 2, 3]);
        }
    }

    /// The checker is what the property test trusts: it must reject a selection made with a
    /// bound twice too wide.
    #[test]
    fn checker_catches_a_doubled_bound() {
        let (ts, values) = ([0, 1, 2], [0.0, 1.5, 0.0]);
        for kind in [
            Lossy::Deadband { bound: 1.0 },
            Lossy::SwingingDoor { bound: 1.0 },
        ] {
            assert_eq!(
                check(kind, &ts, &values, &select(kind, &ts, &values)),
                Ok(())
            );
            let wrong = select(with_bound(kind, 2.0), &ts, &values);
            assert_eq!(wrong, [0, 2]);
            let err = check(kind, &ts, &values, &wrong).unwrap_err();
            assert!(err.contains("point 1"), "{err}");
        }
        let sdt = Lossy::SwingingDoor { bound: 1.0 };
        assert!(
            check(sdt, &ts, &values, &[0, 1]).is_err(),
            "last point dropped"
        );
        assert!(
            check(sdt, &ts, &values, &[0, 2, 2]).is_err(),
            "not increasing"
        );
        assert!(
            check(sdt, &ts, &[0.0, f64::NAN, 0.0], &[0, 2]).is_err(),
            "NaN dropped"
        );
    }

    /// Bristol's doors with pivots at anchor ± bound, archiving the point before the doors
    /// cross: the textbook variant this module does not use.
    fn pivot_doors(bound: f64, ts: &[i64], values: &[f64]) -> Vec<usize> {
        let mut kept = vec![0];
        let (mut a, mut up, mut low) = (0, f64::NEG_INFINITY, f64::INFINITY);
        for j in 1..values.len() {
            let dt = offset(ts[a], ts[j]);
            up = up.max((values[j] - values[a] - bound) / dt);
            low = low.min((values[j] - values[a] + bound) / dt);
            if up > low {
                a = j - 1;
                kept.push(a);
                let dt = offset(ts[a], ts[j]);
                up = (values[j] - values[a] - bound) / dt;
                low = (values[j] - values[a] + bound) / dt;
            }
        }
        kept.push(values.len() - 1);
        kept.dedup();
        kept
    }

    #[test]
    fn pivot_doors_miss_the_bound() {
        let kind = Lossy::SwingingDoor { bound: 1.0 };
        let (ts, values) = ([0, 1, 2], [0.0, 0.0, 2.9]);
        let kept = pivot_doors(1.0, &ts, &values);
        assert_eq!(kept, [0, 2]);
        // The line from (0, 0) to (2, 2.9) passes 1.45 above the dropped (1, 0).
        assert!(check(kind, &ts, &values, &kept)
            .unwrap_err()
            .contains("1.45"));
        assert_eq!(select(kind, &ts, &values), [0, 1, 2]);
    }

    #[test]
    fn swinging_door_beats_deadband_on_a_smooth_signal() {
        let ts: Vec<i64> = (0..10_000).map(|i| i * SEC).collect();
        let phase = |i: i64| std::f64::consts::TAU * i as f64 / 2_000.0;
        let values: Vec<f64> = (0..10_000).map(|i| 20.0 + 10.0 * phase(i).sin()).collect();
        let (deadband, sdt) = (
            Lossy::Deadband { bound: 0.01 },
            Lossy::SwingingDoor { bound: 0.01 },
        );
        let kept_deadband = select(deadband, &ts, &values);
        let mut kept_sdt = Vec::new();
        let failed = swinging_door(0.01, &ts, &values, &mut kept_sdt).resplit;
        check(deadband, &ts, &values, &kept_deadband).unwrap();
        check(sdt, &ts, &values, &kept_sdt).unwrap();
        println!(
            "sine, bound 0.01: deadband keeps {}, swinging door {} (failed segments {failed})",
            kept_deadband.len(),
            kept_sdt.len()
        );
        assert!(kept_sdt.len() * 10 < kept_deadband.len());
        assert_eq!(failed, 0);
    }

    /// Seconds since 1970-01-01 of a `YYYY-MM-DD HH:MM:SS` text (treated as UTC).
    fn unix_s(text: &str) -> Option<i64> {
        let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
        // Howard Hinnant's days_from_civil.
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * m + 2) / 5 + d - 1;
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
        Some(days * 86_400 + num(11..13)? * 3_600 + num(14..16)? * 60 + num(17..19)?)
    }

    /// One SKAB file: ts (ns) and its eight sensor columns.
    type SkabFile = (Vec<i64>, Vec<Vec<f64>>);

    /// Every SKAB file, or why there are none.
    fn skab() -> Result<Vec<SkabFile>, String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/skab");
        let mut files = Vec::new();
        for dir in ["anomaly-free", "valve1", "valve2"] {
            let dir = std::fs::read_dir(root.join(dir)).map_err(|e| format!("{root:?}: {e}"))?;
            for entry in dir {
                files.push(entry.map_err(|e| e.to_string())?.path());
            }
        }
        files.sort();
        let mut out = Vec::new();
        for path in files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path:?}: {e}"))?;
            let (mut ts, mut columns) = (Vec::new(), vec![Vec::new(); 8]);
            for line in text.lines().skip(1) {
                let mut cells = line.split(';');
                let t = cells
                    .next()
                    .and_then(unix_s)
                    .ok_or(format!("{path:?}: {line}"))?;
                if ts.last().is_some_and(|&last| last >= t * SEC) {
                    continue; // The engine keeps the last write per timestamp anyway.
                }
                ts.push(t * SEC);
                for column in &mut columns {
                    let cell = cells.next().and_then(|c| c.trim().parse().ok());
                    column.push(cell.ok_or(format!("{path:?}: {line}"))?);
                }
            }
            out.push((ts, columns));
        }
        Ok(out)
    }

    /// Kept ratios on the real SKAB test bed data; `--nocapture` shows the table.
    #[test]
    fn skab_kept_ratios() {
        let files = match skab() {
            Ok(files) if !files.is_empty() => files,
            Ok(_) => return println!("skab: skipped, no CSV files"),
            Err(why) => return println!("skab: skipped, {why}"),
        };
        let names = [
            "Accelerometer1RMS",
            "Accelerometer2RMS",
            "Current",
            "Pressure",
            "Temperature",
            "Thermocouple",
            "Voltage",
            "Volume Flow RateRMS",
        ];
        let mut rows: Vec<(usize, f64, &str)> = vec![(4, 0.05, "")];
        for (c, _) in names.iter().enumerate() {
            let all = files
                .iter()
                .flat_map(|(_, columns)| columns[c].iter().copied());
            let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
            rows.push((c, (hi - lo) / 100.0, " (1% of range)"));
        }
        println!("skab: {} files; kept points / all points", files.len());
        for (c, bound, note) in rows {
            let (mut all, mut kept_db, mut kept_sdt, mut resplit) = (0, 0, 0, 0);
            for (ts, columns) in &files {
                let values = &columns[c];
                let deadband = Lossy::Deadband { bound };
                let kept = select(deadband, ts, values);
                check(deadband, ts, values, &kept).unwrap();
                kept_db += kept.len();
                let mut kept = Vec::new();
                resplit += swinging_door(bound, ts, values, &mut kept).resplit;
                check(Lossy::SwingingDoor { bound }, ts, values, &kept).unwrap();
                kept_sdt += kept.len();
                all += values.len();
            }
            let pct = |k: usize| 100.0 * k as f64 / all as f64;
            println!(
                "skab: {:<19} bound {bound:<9.4}{note:<15} deadband {:5.1}%  \
                 swinging door {:5.1}%  ({all} points, {resplit} segments resplit)",
                names[c],
                pct(kept_db),
                pct(kept_sdt)
            );
        }
    }
}
