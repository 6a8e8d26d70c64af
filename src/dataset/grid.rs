//! Resampling one series onto the time grid: step, linear and exact
//! ("none") interpolation with a maximum gap, and aggregation of each step.
//!
//! Invariants (for `ts` strictly increasing and `values` finite, as the
//! caller guarantees; `t` is a grid time, `gap` the max gap):
//! 1. `Step`: the value of the last point with `ts ≤ t`, valid iff it exists
//!    and `t − ts ≤ gap`.
//! 2. `Linear`: a point exactly at `t` gives its value; otherwise the
//!    straight line between the last point before `t` and the first after
//!    it, valid iff both exist and they are at most `gap` apart.
//! 3. `None`: valid iff a point lies exactly at `t`.
//! 4. `Aggregate`: mean, min, max or last of the points in `[t, t + step)`,
//!    valid iff there is at least one; the gap plays no part.
//! 5. An invalid cell's value is 0.0. Every kernel is one pass over the
//!    points and the grid (O(points + grid)), never panics, and is
//!    deterministic (sums in time order).
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::spec::{Aggregation, Interpolation};

/// The grid's times: `from + k·step` for `k < points`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridAxis {
    pub from_ns: i64,
    pub step_ns: i64,
    pub points: usize,
}

impl GridAxis {
    /// The grid times in order (saturating; the plan keeps them in range).
    fn times(self) -> impl Iterator<Item = i64> {
        let (from, step) = (self.from_ns, self.step_ns);
        (0..self.points).scan(from, move |t, _| {
            let now = *t;
            *t = t.saturating_add(step);
            Some(now)
        })
    }

    /// The time of cell `k` (the plan keeps every cell's time in range,
    /// and `time(points)` too; saturates beyond).
    pub(crate) fn time(self, k: usize) -> i64 {
        let t = i128::from(self.from_ns) + i128::from(self.step_ns) * k as i128;
        i64::try_from(t).unwrap_or(i64::MAX)
    }

    /// The first cell whose time is ≥ `t` (may be `points` or beyond).
    fn first_at_or_after(self, t: i64) -> usize {
        self.first_after_i128(i128::from(t) - 1)
    }

    /// The first cell whose time is > `t` (may be `points` or beyond).
    fn first_after_i128(self, t: i128) -> usize {
        let (from, step) = (i128::from(self.from_ns), i128::from(self.step_ns.max(1)));
        let d = t - from;
        if d < 0 {
            return 0;
        }
        usize::try_from(d / step + 1).unwrap_or(usize::MAX)
    }
}

/// How one channel is put on the grid (the value type already decided).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resample {
    Interpolate(Interpolation),
    Aggregate(Aggregation),
}

/// One channel on the grid; `values[k]` means something only where `valid[k]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GridColumn {
    pub values: Vec<f64>,
    pub valid: Vec<bool>,
}

/// A point's value as the resampler reads it: an `f64`, or the raw bits of
/// one (`u64`), so a decoded f64 column is read in place, not copied.
pub trait Sample: Copy {
    fn as_f64(self) -> f64;
}

impl Sample for f64 {
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self
    }
}

impl Sample for u64 {
    #[inline(always)]
    fn as_f64(self) -> f64 {
        f64::from_bits(self)
    }
}

/// Resamples the points `(ts, values)` onto `axis` (see the invariants).
pub fn resample<S: Sample>(
    ts: &[i64],
    values: &[S],
    axis: GridAxis,
    how: Resample,
    gap_ns: i64,
) -> GridColumn {
    let mut out = GridColumn {
        values: vec![0.0; axis.points],
        valid: vec![false; axis.points],
    };
    let n = ts.len().min(values.len());
    let (ts, values) = (
        ts.get(..n).unwrap_or_default(),
        values.get(..n).unwrap_or_default(),
    );
    match how {
        Resample::Interpolate(i) => interpolate_segments(ts, values, axis, i, gap_ns, &mut out),
        Resample::Aggregate(a) => {
            let cells = out.values.iter_mut().zip(out.valid.iter_mut());
            let mut at = 0usize; // first point with ts ≥ t
            for (t, (v, ok)) in axis.times().zip(cells) {
                while ts.get(at).is_some_and(|&p| p < t) {
                    at += 1;
                }
                let end = i128::from(t) + i128::from(axis.step_ns);
                let start = at;
                while ts.get(at).is_some_and(|&p| i128::from(p) < end) {
                    at += 1;
                }
                if let Some(x) = values.get(start..at).and_then(|b| aggregate(b, a)) {
                    (*v, *ok) = (x, true);
                }
            }
        }
    }
    out
}

/// Interpolation walked segment by segment: for each point `p`, the grid
/// cells `k` with `ts[p] ≤ time(k) < ts[p + 1]` (all cells from `ts[p]` on
/// for the last point) have `p` as their last point at or before them and
/// `p + 1` as the first after. One cursor (a cell and its time) walks the
/// grid once, so finding a segment's cells costs compares and adds, no
/// division: the walk is O(points + cells). Each cell then costs (linear)
/// one conversion and one division, in the same arithmetic as
/// [`interpolate_at`], so the cells are bit-identical to it (tested). An
/// axis with a step ≤ 0 (refused by the plan) leaves every cell missing.
fn interpolate_segments<S: Sample>(
    ts: &[i64],
    values: &[S],
    axis: GridAxis,
    how: Interpolation,
    gap_ns: i64,
    out: &mut GridColumn,
) {
    let n = ts.len().min(values.len());
    let cells = axis.points.min(out.values.len()).min(out.valid.len());
    let (Some(vals), Some(valid)) = (out.values.get_mut(..cells), out.valid.get_mut(..cells))
    else {
        return;
    };
    let step = axis.step_ns;
    let Some(&first) = ts.first().filter(|_| step > 0) else {
        return;
    };
    // The cursor: cell `k` is the first at or after the current point, `tk`
    // its time (saturating: the plan keeps every cell's time in range).
    let mut k = axis.first_at_or_after(first).min(cells);
    let mut tk = axis.time(k);
    let gap = i128::from(gap_ns);
    for p in 0..n {
        let (Some(&t0), Some(v0)) = (ts.get(p), values.get(p).map(|v| v.as_f64())) else {
            return;
        };
        let next = ts
            .get(p + 1)
            .copied()
            .zip(values.get(p + 1).map(|v| v.as_f64()));
        let (k0, tk0) = (k, tk);
        match next {
            Some((t1, _)) => {
                while k < cells && tk < t1 {
                    k += 1;
                    tk = tk.saturating_add(step);
                }
            }
            None => k = cells,
        }
        let k1 = k;
        if k0 >= k1 {
            continue;
        }
        // k0 is the first cell at or after t0: a cell exactly at t0 takes v0.
        let (mut from, mut t) = (k0, tk0);
        if tk0 == t0 {
            if let (Some(v), Some(ok)) = (vals.get_mut(k0), valid.get_mut(k0)) {
                (*v, *ok) = (v0, true);
            }
            (from, t) = (k0 + 1, tk0.saturating_add(step));
        }
        let (Some(vs), Some(oks)) = (vals.get_mut(from..k1), valid.get_mut(from..k1)) else {
            continue;
        };
        match how {
            Interpolation::None => {}
            Interpolation::Step => {
                // Valid while time(k) − t0 ≤ gap.
                let limit = i64::try_from(i128::from(t0) + gap).unwrap_or(i64::MAX);
                for (v, ok) in vs.iter_mut().zip(oks.iter_mut()) {
                    if t > limit {
                        break;
                    }
                    (*v, *ok) = (v0, true);
                    t = t.saturating_add(step);
                }
            }
            Interpolation::Linear => {
                let Some((t1, v1)) = next else { continue };
                if i128::from(t1) - i128::from(t0) > gap {
                    continue;
                }
                // width ≤ gap ≤ i64::MAX, and every cell lies in [t0, t1).
                let (width, rise) = ((t1 - t0) as f64, v1 - v0);
                for (v, ok) in vs.iter_mut().zip(oks.iter_mut()) {
                    let frac = (t - t0) as f64 / width;
                    (*v, *ok) = (v0 + rise * frac, true);
                    t = t.wrapping_add(step);
                }
            }
        }
    }
}

/// The value at `t`, where `after` points lie at or before `t` (the
/// per-cell definition; the oracle of `interpolate_segments` in tests).
#[cfg(test)]
fn interpolate_at(
    ts: &[i64],
    values: &[f64],
    after: usize,
    t: i64,
    how: Interpolation,
    gap_ns: i64,
) -> Option<f64> {
    let prev = after
        .checked_sub(1)
        .and_then(|p| Some((*ts.get(p)?, *values.get(p)?)));
    let exact = prev.filter(|&(pt, _)| pt == t).map(|(_, v)| v);
    let dist = |a: i64, b: i64| i128::from(b) - i128::from(a);
    match how {
        Interpolation::None => exact,
        Interpolation::Step => prev
            .filter(|&(pt, _)| dist(pt, t) <= i128::from(gap_ns))
            .map(|(_, v)| v),
        Interpolation::Linear => exact.or_else(|| {
            let (t0, v0) = prev?;
            let (t1, v1) = (*ts.get(after)?, *values.get(after)?);
            let width = dist(t0, t1);
            if width > i128::from(gap_ns) {
                return None;
            }
            // Both fit in i64 here (0 ≤ t − t0 < width ≤ gap); i64 → f64
            // rounds the same integers as i128 → f64, at a fraction of the cost.
            let (d, w) = (i64::try_from(dist(t0, t)).ok()?, i64::try_from(width).ok()?);
            let frac = d as f64 / w as f64;
            Some(v0 + (v1 - v0) * frac)
        }),
    }
}

/// The aggregate of a non-empty bucket.
fn aggregate<S: Sample>(bucket: &[S], how: Aggregation) -> Option<f64> {
    let first = bucket.first()?.as_f64();
    let all = || bucket.iter().map(|v| v.as_f64());
    Some(match how {
        Aggregation::Mean => all().sum::<f64>() / bucket.len() as f64,
        Aggregation::Min => all().fold(first, f64::min),
        Aggregation::Max => all().fold(first, f64::max),
        Aggregation::Last => bucket.last()?.as_f64(),
    })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    const AXIS: GridAxis = GridAxis {
        from_ns: 0,
        step_ns: 10,
        points: 6,
    };

    fn cells(c: &GridColumn) -> Vec<Option<f64>> {
        c.values
            .iter()
            .zip(&c.valid)
            .map(|(&v, &ok)| ok.then_some(v))
            .collect()
    }

    #[test]
    fn step_holds_within_the_gap() {
        let c = resample(
            &[5, 20],
            &[1.0, 2.0],
            AXIS,
            Resample::Interpolate(Interpolation::Step),
            15,
        );
        assert_eq!(
            cells(&c),
            [None, Some(1.0), Some(2.0), Some(2.0), None, None]
        );
    }

    #[test]
    fn linear_needs_both_neighbours_within_the_gap() {
        let lin = Resample::Interpolate(Interpolation::Linear);
        let c = resample(&[5, 25, 60], &[1.0, 3.0, 0.0], AXIS, lin, 20);
        // t=10: 1 + 2·(5/20) = 1.5; t=20: 1 + 2·(15/20) = 2.5; 25→60 is 35 > 20 apart.
        assert_eq!(cells(&c), [None, Some(1.5), Some(2.5), None, None, None]);
        let c = resample(&[5, 25, 60], &[1.0, 3.0, 0.0], AXIS, lin, 35);
        assert_eq!(c.valid, [false, true, true, true, true, true]);
    }

    #[test]
    fn none_takes_exact_points_only() {
        let none = Resample::Interpolate(Interpolation::None);
        let c = resample(&[0, 11, 30], &[1.0, 2.0, 3.0], AXIS, none, 1);
        assert_eq!(cells(&c), [Some(1.0), None, None, Some(3.0), None, None]);
    }

    #[test]
    fn aggregates_each_step() {
        let ts = [0, 3, 9, 10, 35];
        let v = [1.0, 5.0, 3.0, 7.0, -1.0];
        let agg = |a| cells(&resample(&ts, &v, AXIS, Resample::Aggregate(a), 1));
        assert_eq!(
            agg(Aggregation::Mean)[..4],
            [Some(3.0), Some(7.0), None, Some(-1.0)]
        );
        assert_eq!(agg(Aggregation::Min)[0], Some(1.0));
        assert_eq!(agg(Aggregation::Max)[0], Some(5.0));
        assert_eq!(agg(Aggregation::Last)[0], Some(3.0));
    }

    proptest::proptest! {
        /// The segment walk gives, bit for bit, the per-cell definition.
        #[test]
        fn segments_equal_the_per_cell_definition(
            mut ts in proptest::collection::btree_set(-300i64..300, 0..40),
            from in -320i64..320,
            step in 1i64..40,
            points in 0usize..60,
            gap in 1i64..120,
            how in 0u8..3,
        ) {
            let ts: Vec<i64> = std::mem::take(&mut ts).into_iter().collect();
            let values: Vec<f64> = ts.iter().map(|&t| (t as f64 * 0.37).sin() * 100.0).collect();
            let how = [Interpolation::Step, Interpolation::Linear, Interpolation::None][usize::from(how)];
            let axis = GridAxis { from_ns: from, step_ns: step, points };
            let got = resample(&ts, &values, axis, Resample::Interpolate(how), gap);
            let mut after = 0usize;
            for (k, t) in axis.times().enumerate() {
                while ts.get(after).is_some_and(|&p| p <= t) {
                    after += 1;
                }
                let want = interpolate_at(&ts, &values, after, t, how, gap);
                let have = got.valid[k].then_some(got.values[k]);
                proptest::prop_assert_eq!(have.map(f64::to_bits), want.map(f64::to_bits), "cell {} at {}", k, t);
                if want.is_none() {
                    proptest::prop_assert_eq!(got.values[k].to_bits(), 0f64.to_bits());
                }
            }
        }
    }

    #[test]
    fn empty_and_mismatched_inputs_do_not_panic() {
        let c = resample::<f64>(
            &[],
            &[],
            AXIS,
            Resample::Interpolate(Interpolation::Linear),
            5,
        );
        assert_eq!(c.valid, [false; 6]);
        let c = resample(
            &[0, 10],
            &[1.0],
            AXIS,
            Resample::Aggregate(Aggregation::Mean),
            5,
        );
        assert_eq!(cells(&c)[..2], [Some(1.0), None]);
    }
}
