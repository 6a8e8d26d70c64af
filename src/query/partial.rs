//! Per-window partial aggregates: a [`Row`] is opened for a window of a
//! series, filled in place as slices arrive, closed, and can then still be
//! combined with the same window of other series (`--by` groups) before it
//! is finalized into cells.
//!
//! Invariants:
//! 1. Points reach an open [`Row`] as slices in time order; each slice goes
//!    through the slice kernels once (`kernels.rs`) and is folded into the
//!    window left to right: `sum` by addition, variance by Chan's parallel
//!    formula over per-slice two-pass (mean, M2), twa by step areas joined
//!    at the slice boundaries.
//! 2. A whole block answered from statistics enters as the slice it would
//!    have been, with the same `count`, `sum`, `min`, `max` (bit-identical
//!    when `stats_usable` says so), so push-down never changes an answer.
//! 3. `min`/`max`/`first`/`last` are kept in the series' type while reading
//!    and converted to the request's output type when the window closes
//!    (i64 and bool to f64 only when the selection mixes types).
//! 4. Computed aggregates (sum, mean, stddev, twa) report NaN as the
//!    canonical NaN; min/max of all-NaN windows are the canonical NaN, and
//!    first/last return the stored bits.
//! 5. Rows of a group are combined in series-key order, so `first` keeps the
//!    smallest key on equal timestamps and `last` the largest, and sums fold
//!    in a fixed order whatever the thread count.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::kernels::{self, int_f64, span_f64};
use super::request::Agg;
use super::window::Windows;
use crate::model::ValueType;
use crate::segment::BlockMeta;

/// Which partial statistics the requested aggregates need.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Need {
    pub sum: bool,
    pub min_max: bool,
    pub first: bool,
    pub last: bool,
    pub var: bool,
    pub twa: bool,
}

impl Need {
    pub fn of(aggs: &[Agg]) -> Need {
        let has = |a: Agg| aggs.contains(&a);
        Need {
            sum: has(Agg::Sum) || has(Agg::Mean),
            min_max: has(Agg::Min) || has(Agg::Max),
            first: has(Agg::First),
            last: has(Agg::Last),
            var: has(Agg::Stddev),
            twa: has(Agg::Twa),
        }
    }

    /// True when a block's statistics answer this block for these
    /// aggregates exactly as decoding it would (see docs/FORMAT.md, "Block
    /// statistics": only v3 sums are the kernels' sums; v1/v2 zero bounds may
    /// carry the other sign).
    pub fn stats_usable(&self, vt: ValueType, meta: &BlockMeta, lane_stats: bool) -> bool {
        if self.first || self.last || self.var || self.twa {
            return false;
        }
        let sum_ok = !self.sum || lane_stats || vt == ValueType::Bool;
        let zero = |b: u64| f64::from_bits(b) == 0.0;
        let unsigned_zero = zero(meta.stats.min) || zero(meta.stats.max);
        let min_max_ok = !self.min_max || lane_stats || vt != ValueType::F64 || !unsigned_zero;
        sum_ok && min_max_ok
    }
}

/// A closed window of one series, or of a group of series.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Row {
    pub k: i128,
    pub count: u64,
    pub sum: f64,
    /// Bits in the output type.
    pub min: u64,
    pub max: u64,
    /// (ts, bits in the output type).
    pub first: (i64, u64),
    pub last: (i64, u64),
    pub mean: f64,
    pub m2: f64,
    /// Σ v·dt up to the window's end (clamped to the range), the span it
    /// covers, and the last value (that of a lone point once closed).
    pub area: f64,
    pub span: f64,
    pub single: f64,
}

/// Chan et al.: merges (count, mean, M2) of two disjoint sets.
#[inline(always)]
fn chan(na: u64, ma: f64, m2a: f64, nb: u64, mb: f64, m2b: f64) -> (f64, f64) {
    if na == 0 {
        return (mb, m2b);
    }
    let (fa, fb) = (na as f64, nb as f64);
    let n = fa + fb;
    let delta = mb - ma;
    (
        ma + delta * (fb / n),
        m2a + m2b + delta * delta * (fa * fb / n),
    )
}

/// `v`, with any NaN replaced by the canonical one: Rust leaves the payload
/// of a NaN produced by arithmetic unspecified (it may differ between two
/// inlined copies of one function), so computed aggregates report the
/// canonical NaN and stay reproducible bit for bit.
pub(crate) fn canonical_nan(v: f64) -> f64 {
    // On the bits: LLVM may fold a float select between NaN and `v` into `v`.
    let bits = v.to_bits();
    let is_nan = bits & 0x7fff_ffff_ffff_ffff > 0x7ff0_0000_0000_0000;
    f64::from_bits(if is_nan { CANONICAL_NAN } else { bits })
}

const CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;

/// Smaller and larger of two bounds in `kind`.
#[inline(always)]
fn min_in(kind: ValueType, a: u64, b: u64) -> u64 {
    match kind {
        ValueType::F64 => kernels::min_f64_bits(a, b),
        _ => (a as i64).min(b as i64) as u64,
    }
}

#[inline(always)]
fn max_in(kind: ValueType, a: u64, b: u64) -> u64 {
    match kind {
        ValueType::F64 => kernels::max_f64_bits(a, b),
        _ => (a as i64).max(b as i64) as u64,
    }
}

/// `bits` of type `from` as bits of type `to` (invariant 3).
pub(crate) fn convert(bits: u64, from: ValueType, to: ValueType) -> u64 {
    match (from, to) {
        (ValueType::I64 | ValueType::Bool, ValueType::F64) => int_f64(bits).to_bits(),
        _ => bits,
    }
}

impl Row {
    /// Folds `b` (the same window of a later series in key order) into `self`.
    pub fn combine(&mut self, b: &Row, need: Need, kind: ValueType) {
        if need.var {
            (self.mean, self.m2) = chan(self.count, self.mean, self.m2, b.count, b.mean, b.m2);
        }
        self.count += b.count;
        self.sum += b.sum;
        if need.min_max {
            self.min = min_in(kind, self.min, b.min);
            self.max = max_in(kind, self.max, b.max);
        }
        if b.first.0 < self.first.0 {
            self.first = b.first;
        }
        if b.last.0 >= self.last.0 {
            self.last = b.last;
        }
        self.area += b.area;
        self.span += b.span;
    }

    /// The value of aggregate `agg` as bits of its column (None: null).
    #[inline(always)]
    pub fn cell(&self, agg: Agg) -> Option<u64> {
        let n = self.count as f64;
        let f = |v: f64| Some(canonical_nan(v).to_bits());
        match agg {
            Agg::Count => Some(self.count),
            Agg::Sum => f(self.sum),
            Agg::Mean => f(self.sum / n),
            Agg::Min => Some(self.min),
            Agg::Max => Some(self.max),
            Agg::First => Some(self.first.1),
            Agg::Last => Some(self.last.1),
            Agg::Stddev if self.count < 2 => None,
            Agg::Stddev => f((self.m2 / (n - 1.0)).sqrt()),
            Agg::Twa if self.count == 1 => f(self.single),
            Agg::Twa => f(self.area / self.span),
        }
    }
}

impl Row {
    /// An empty window `k`, to be filled by [`Row::add`] and
    /// [`Row::add_stats`] and then closed by [`Row::close`].
    #[inline]
    pub fn open(k: i128) -> Row {
        Row {
            k,
            ..Row::default()
        }
    }

    /// Adds the next points of the window (sorted, after the ones before).
    #[inline(always)]
    pub fn add(&mut self, ts: &[i64], vs: &[u64], vt: ValueType, need: Need) {
        let (Some(&t0), Some(&tl), Some(&v0), Some(&vl)) =
            (ts.first(), ts.last(), vs.first(), vs.last())
        else {
            return;
        };
        let float = vt == ValueType::F64;
        let value = |b: u64| if float { f64::from_bits(b) } else { int_f64(b) };
        let s = match (need.sum || need.var, need.min_max, float) {
            (true, true, true) => {
                let (s, lo, hi) = kernels::sum_min_max_f64(vs);
                self.fold_min_max(lo, hi, vt);
                s
            }
            (false, _, _) => 0.0,
            (true, _, true) => kernels::sum_f64(vs),
            (true, _, false) => kernels::sum_int(vs),
        };
        self.sum += s;
        if need.min_max && !(float && (need.sum || need.var)) {
            let (lo, hi) = match float {
                true => kernels::min_max_f64(vs),
                false => {
                    let (lo, hi) = kernels::min_max_int(vs);
                    (lo as u64, hi as u64)
                }
            };
            self.fold_min_max(lo, hi, vt);
        }
        if need.var {
            let mean = s / vs.len() as f64;
            let m2 = match float {
                true => kernels::m2_f64(vs, mean),
                false => kernels::m2_int(vs, mean),
            };
            let n = vs.len() as u64;
            (self.mean, self.m2) = chan(self.count, self.mean, self.m2, n, mean, m2);
        }
        if need.twa {
            if self.count > 0 {
                self.area += self.single * span_f64(self.last.0, t0);
            }
            self.area += kernels::step_area(ts, vs, value);
            self.single = value(vl);
        }
        if self.count == 0 {
            self.first = (t0, v0);
        }
        self.last = (tl, vl);
        self.count += vs.len() as u64;
    }

    #[inline(always)]
    fn fold_min_max(&mut self, lo: u64, hi: u64, vt: ValueType) {
        if self.count == 0 {
            (self.min, self.max) = (lo, hi);
        } else {
            let kind = if vt == ValueType::F64 {
                vt
            } else {
                ValueType::I64
            };
            self.min = min_in(kind, self.min, lo);
            self.max = max_in(kind, self.max, hi);
        }
    }

    /// Adds a whole block from its statistics (the caller checked
    /// [`Need::stats_usable`]).
    pub fn add_stats(&mut self, meta: &BlockMeta, vt: ValueType) {
        self.sum += meta.stats.sum;
        self.fold_min_max(meta.stats.min, meta.stats.max, vt);
        self.count += u64::from(meta.count);
    }

    /// Closes the window in place: converts min/max/first/last to output
    /// type `kind` and lets twa hold the last value until the window's end
    /// clamped to `end` (the request's `to`).
    #[inline(always)]
    pub fn close(&mut self, vt: ValueType, kind: ValueType, need: Need, w: &Windows, end: i128) {
        if need.twa {
            let t_end = w.end(self.k).min(end);
            self.area += self.single * (t_end - i128::from(self.last.0)) as f64;
            self.span = (t_end - i128::from(self.first.0)) as f64;
        }
        if vt != kind {
            self.min = convert(self.min, vt, kind);
            self.max = convert(self.max, vt, kind);
            self.first.1 = convert(self.first.1, vt, kind);
            self.last.1 = convert(self.last.1, vt, kind);
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn f(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    const ALL: Need = Need {
        sum: true,
        min_max: true,
        first: true,
        last: true,
        var: true,
        twa: true,
    };

    #[test]
    fn slices_fold_into_one_window() {
        let w = Windows::new(0, 100);
        let ts = [10, 20, 40, 70];
        let vs = f(&[1.0, 2.0, 4.0, 8.0]);
        let mut a = Row::open(0);
        a.add(&ts[..1], &vs[..1], ValueType::F64, ALL);
        a.add(&ts[1..], &vs[1..], ValueType::F64, ALL);
        a.close(ValueType::F64, ValueType::F64, ALL, &w, 80);
        let r = a;
        assert_eq!(r.count, 4);
        assert_eq!(r.sum, 15.0);
        assert_eq!((f64::from_bits(r.min), f64::from_bits(r.max)), (1.0, 8.0));
        assert_eq!((r.first.0, r.last.0), (10, 70));
        let mean = 15.0 / 4.0;
        let m2: f64 = [1.0, 2.0, 4.0, 8.0]
            .iter()
            .map(|x| (x - mean) * (x - mean))
            .sum();
        assert!((r.m2 - m2).abs() < 1e-12);
        // 1·10 + 2·20 + 4·30 + 8·(80 − 70) over 80 − 10.
        assert_eq!(r.cell(Agg::Twa), Some((250.0f64 / 70.0).to_bits()));
        let one = {
            let mut a = Row::open(0);
            a.add(&[5], &f(&[0.3]), ValueType::F64, ALL);
            a.close(ValueType::F64, ValueType::F64, ALL, &w, i128::MAX);
            a
        };
        assert_eq!(one.cell(Agg::Twa), Some(0.3f64.to_bits()));
        assert_eq!(one.cell(Agg::Stddev), None);
    }

    #[test]
    fn computed_nans_are_canonical() {
        let payload = f64::from_bits(0xfff8_0000_dead_beef);
        assert_eq!(canonical_nan(payload).to_bits(), f64::NAN.to_bits());
        assert_eq!(canonical_nan(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(canonical_nan(f64::NEG_INFINITY), f64::NEG_INFINITY);
        let mut r = Row {
            count: 2,
            sum: payload,
            ..Row::default()
        };
        r.m2 = payload;
        assert_eq!(r.cell(Agg::Sum), Some(f64::NAN.to_bits()));
        assert_eq!(r.cell(Agg::Stddev), Some(f64::NAN.to_bits()));
    }

    #[test]
    fn statistics_answer_only_what_they_hold_exactly() {
        use crate::segment::BlockStats;
        let meta = |min: f64, max: f64| BlockMeta {
            offset: 0,
            len: 0,
            crc: 0,
            count: 3,
            ts_min: 0,
            ts_max: 2,
            stats: BlockStats {
                min: min.to_bits(),
                max: max.to_bits(),
                sum: 1.0,
            },
        };
        let of = |aggs: &[Agg]| Need::of(aggs);
        let m = meta(-1.0, 2.0);
        assert!(of(&[Agg::Count, Agg::Mean, Agg::Min]).stats_usable(ValueType::F64, &m, true));
        // v1/v2: sums were sequential, zero bounds may carry either sign.
        assert!(!of(&[Agg::Sum]).stats_usable(ValueType::F64, &m, false));
        assert!(!of(&[Agg::Mean]).stats_usable(ValueType::I64, &m, false));
        assert!(of(&[Agg::Mean]).stats_usable(ValueType::Bool, &m, false));
        assert!(of(&[Agg::Min, Agg::Count]).stats_usable(ValueType::F64, &m, false));
        assert!(!of(&[Agg::Max]).stats_usable(ValueType::F64, &meta(-1.0, -0.0), false));
        assert!(of(&[Agg::Max]).stats_usable(ValueType::F64, &meta(-1.0, -0.0), true));
        for a in [Agg::First, Agg::Last, Agg::Stddev, Agg::Twa] {
            assert!(!of(&[Agg::Count, a]).stats_usable(ValueType::F64, &m, true));
        }
    }

    #[test]
    fn group_rows_break_ties_by_key_order_and_convert_types() {
        let w = Windows::new(0, 100);
        let mut a = Row::open(0);
        a.add(&[1, 9], &[3, 4], ValueType::I64, ALL);
        a.close(ValueType::I64, ValueType::F64, ALL, &w, 100);
        let mut g = a;
        let mut b = Row::open(0);
        b.add(&[1, 9], &f(&[-1.5, 2.5]), ValueType::F64, ALL);
        b.close(ValueType::F64, ValueType::F64, ALL, &w, 100);
        g.combine(&b, ALL, ValueType::F64);
        assert_eq!(f64::from_bits(g.first.1), 3.0);
        assert_eq!(f64::from_bits(g.last.1), 2.5);
        assert_eq!(f64::from_bits(g.min), -1.5);
        assert_eq!(g.count, 4);
        assert_eq!(g.cell(Agg::Mean), Some(2.0f64.to_bits()));
    }
}
