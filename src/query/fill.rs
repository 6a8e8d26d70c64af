//! Fill: the windows without points between a series' (or group's) first
//! and last non-empty window in range, emitted as the request's [`Fill`]
//! says, one window at a time so a long gap never needs memory.
//!
//! Invariants:
//! 1. With [`Fill::None`] only non-empty windows are emitted; with any other
//!    fill every window from the first non-empty one to the last, in order.
//!    No window is emitted before the first or after the last non-empty one.
//! 2. Only empty windows are filled; a non-empty window's null (the stddev
//!    of one point) stays null. An empty window's `count` is 0.
//! 3. Each column is filled from the same column of the non-empty windows
//!    around the gap: `previous` copies the earlier one, `linear`
//!    interpolates by window start (`a + (b − a)·(k − ka)/(kb − ka)`, NaN
//!    as the canonical NaN; i64
//!    columns round half away from zero, bool columns take the previous
//!    value), a constant is written as is (to i64/bool columns only when it
//!    is an integer / 0 or 1). A null neighbour fills null.
//! 4. A gap longer than `max_gap` (the distance between the starts of the
//!    non-empty windows around it) is emitted with nulls.
//! 5. At most `max_windows` windows are emitted per series or group; one more
//!    is an error, so a tiny window over a huge gap cannot run forever.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::partial::canonical_nan;
use super::request::{Agg, Fill, QueryError};
use crate::error::Result;
use crate::model::ValueType;

/// Most aggregates a request can hold (each at most once).
pub(crate) const MAX_AGGS: usize = Agg::ALL.len();

/// One output window: index, point count, and one cell per requested
/// aggregate (bits of its column's type; None = null).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Cells {
    pub k: i128,
    pub count: u64,
    pub cells: [Option<u64>; MAX_AGGS],
}

/// The type of an output column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ColumnKind {
    Count,
    Value(ValueType),
}

/// A pending run of empty windows `next..end` between `before` and `after`.
#[derive(Clone, Copy, Debug)]
struct Gap {
    next: i128,
    end: i128,
    before: Cells,
    after: Cells,
    nulls: bool,
}

/// Turns the non-empty windows of one group into its output windows.
pub(crate) struct Filler {
    fill: Fill,
    /// Longest gap filled, in windows.
    max_gap_windows: Option<i128>,
    kinds: Vec<ColumnKind>,
    prev: Option<Cells>,
    gap: Option<Gap>,
    pending: Option<Cells>,
    emitted: u64,
    max_windows: u64,
}

impl Filler {
    /// A filler for columns of `kinds`; `max_gap` in ns, `every` > 0.
    pub fn new(fill: Fill, max_gap: Option<i64>, every: i128, kinds: Vec<ColumnKind>) -> Self {
        Filler {
            fill,
            max_gap_windows: max_gap.map(|g| i128::from(g) / every),
            kinds,
            prev: None,
            gap: None,
            pending: None,
            emitted: 0,
            max_windows: u64::MAX,
        }
    }

    /// Fails a group that would emit more than `n` windows.
    pub fn with_max_windows(mut self, n: u64) -> Self {
        self.max_windows = n;
        self
    }

    /// Checks that a constant fill fits every column (invariant 3).
    pub fn check_constant(fill: Fill, aggs: &[Agg], kinds: &[ColumnKind]) -> Result<()> {
        let Fill::Constant(c) = fill else {
            return Ok(());
        };
        for (a, kind) in aggs.iter().zip(kinds) {
            let fits = match kind {
                ColumnKind::Count | ColumnKind::Value(ValueType::F64) => true,
                ColumnKind::Value(ValueType::I64) => c.fract() == 0.0 && c.abs() < 9.2e18,
                ColumnKind::Value(ValueType::Bool) => c == 0.0 || c == 1.0,
            };
            if !fits {
                let kind = match kind {
                    ColumnKind::Value(t) => t.name(),
                    ColumnKind::Count => "u64",
                };
                let column = a.name();
                return Err(QueryError::FillDoesNotFit {
                    value: c,
                    column,
                    kind,
                }
                .into());
            }
        }
        Ok(())
    }

    /// True when everything pushed has been emitted.
    #[cfg(test)]
    pub fn is_drained(&self) -> bool {
        self.gap.is_none() && self.pending.is_none()
    }

    /// Queues the next non-empty window (after draining the previous one);
    /// `group` names the group in a too-many-windows error.
    pub fn push(&mut self, row: Cells, group: impl FnOnce() -> String) -> Result<()> {
        let gap_len = match (self.fill, self.prev) {
            (Fill::None, _) | (_, None) => 0,
            (_, Some(p)) => row.k - p.k - 1,
        };
        let total = i128::from(self.emitted) + gap_len + 1;
        if total > i128::from(self.max_windows) {
            let limit = self.max_windows;
            return Err(QueryError::TooManyWindows {
                group: group(),
                limit,
            }
            .into());
        }
        if let (true, Some(before)) = (gap_len > 0, self.prev) {
            let nulls = self.max_gap_windows.is_some_and(|m| gap_len + 1 > m);
            self.gap = Some(Gap {
                next: before.k + 1,
                end: row.k,
                before,
                after: row,
                nulls,
            });
        }
        self.pending = Some(row);
        Ok(())
    }

    /// Emits up to `room` windows to `out`; returns how many.
    pub fn drain(&mut self, room: usize, mut out: impl FnMut(&Cells)) -> usize {
        let mut n = 0;
        while n < room {
            if let Some(g) = &mut self.gap {
                let k = g.next;
                g.next += 1;
                let g = *g;
                if g.next >= g.end {
                    self.gap = None;
                }
                out(&self.filled(&g, k));
            } else if let Some(row) = self.pending.take() {
                out(&row);
                self.prev = Some(row);
            } else {
                break;
            }
            n += 1;
            self.emitted += 1;
        }
        n
    }

    /// The empty window `k` of gap `g`.
    fn filled(&self, g: &Gap, k: i128) -> Cells {
        let mut out = Cells {
            k,
            count: 0,
            cells: [None; MAX_AGGS],
        };
        let frac = (k - g.before.k) as f64 / (g.after.k - g.before.k) as f64;
        let cols = out.cells.iter_mut().zip(&self.kinds);
        for ((cell, kind), (a, b)) in cols.zip(g.before.cells.iter().zip(&g.after.cells)) {
            *cell = match (kind, self.fill) {
                (ColumnKind::Count, _) => Some(0),
                _ if g.nulls => None,
                (_, Fill::None | Fill::Null) => None,
                (_, Fill::Previous) => *a,
                (ColumnKind::Value(t), Fill::Linear) => {
                    a.zip(*b).map(|(a, b)| lerp(*t, a, b, frac))
                }
                (ColumnKind::Value(t), Fill::Constant(c)) => Some(constant(*t, c)),
            };
        }
        out
    }
}

fn lerp(t: ValueType, a: u64, b: u64, frac: f64) -> u64 {
    match t {
        ValueType::F64 => {
            let (a, b) = (f64::from_bits(a), f64::from_bits(b));
            canonical_nan(a + (b - a) * frac).to_bits()
        }
        ValueType::I64 => {
            let (a, b) = (a as i64 as f64, b as i64 as f64);
            (a + (b - a) * frac).round() as i64 as u64
        }
        ValueType::Bool => a,
    }
}

fn constant(t: ValueType, c: f64) -> u64 {
    match t {
        ValueType::F64 => c.to_bits(),
        ValueType::I64 => c as i64 as u64,
        ValueType::Bool => u64::from(c != 0.0),
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn row(k: i128, v: f64) -> Cells {
        let mut cells = [None; MAX_AGGS];
        cells[0] = Some(1);
        cells[1] = Some(v.to_bits());
        Cells { k, count: 1, cells }
    }

    fn run(fill: Fill, max_gap: Option<i64>, rows: &[Cells]) -> Vec<(i128, u64, Option<f64>)> {
        let kinds = vec![ColumnKind::Count, ColumnKind::Value(ValueType::F64)];
        let mut f = Filler::new(fill, max_gap, 10, kinds);
        let mut out = Vec::new();
        for r in rows {
            f.push(*r, String::new).unwrap();
            while f.drain(2, |c| {
                out.push((c.k, c.cells[0].unwrap(), c.cells[1].map(f64::from_bits)))
            }) > 0
            {}
        }
        assert!(f.is_drained());
        out
    }

    #[test]
    fn fills_between_non_empty_windows() {
        let rows = [row(1, 1.0), row(4, 4.0), row(5, 5.0)];
        assert_eq!(run(Fill::None, None, &rows).len(), 3);
        let lin = run(Fill::Linear, None, &rows);
        let want = [
            (1, 1, 1.0),
            (2, 0, 2.0),
            (3, 0, 3.0),
            (4, 1, 4.0),
            (5, 1, 5.0),
        ];
        let want: Vec<_> = want.iter().map(|&(k, c, v)| (k, c, Some(v))).collect();
        assert_eq!(lin, want);
        let prev = run(Fill::Previous, None, &rows);
        assert_eq!(prev[2], (3, 0, Some(1.0)));
        let null = run(Fill::Null, None, &rows);
        assert_eq!(null[1], (2, 0, None));
        let c = run(Fill::Constant(-7.0), None, &rows);
        assert_eq!(c[1], (2, 0, Some(-7.0)));
        // Gap from window 1 to 4 spans 30 ns: filled at max_gap 30, not 29.
        assert_eq!(run(Fill::Previous, Some(30), &rows)[1].2, Some(1.0));
        assert_eq!(run(Fill::Previous, Some(29), &rows)[1].2, None);
    }

    #[test]
    fn limits_and_constants_are_checked() {
        let kinds = vec![ColumnKind::Count];
        let mut f = Filler::new(Fill::Null, None, 1, kinds).with_max_windows(3);
        f.push(row(0, 0.0), String::new).unwrap();
        assert_eq!(f.drain(10, |_| {}), 1);
        assert!(f.push(row(3, 0.0), || "g".into()).is_err());
        let kinds = [ColumnKind::Value(ValueType::I64)];
        assert!(Filler::check_constant(Fill::Constant(1.5), &[Agg::Min], &kinds).is_err());
        assert!(Filler::check_constant(Fill::Constant(2.0), &[Agg::Min], &kinds).is_ok());
        assert_eq!(lerp(ValueType::I64, 1, 2, 0.5), 2);
        assert_eq!(
            lerp(ValueType::I64, (-1i64) as u64, (-2i64) as u64, 0.5),
            (-2i64) as u64
        );
    }
}
