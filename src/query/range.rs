//! [`TimeRange`]: the time span a query reads.
//!
//! Invariants:
//! 1. Bounds are inclusive and `first <= last`, so every non-empty span of
//!    `i64` timestamps is representable, `i64::MAX` included (a half-open
//!    `[from, to)` cannot reach it), and an empty range cannot be built.
//! 2. The exclusive end is `last + 1` computed in `i128`: it never overflows.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

/// An inclusive, non-empty range of timestamps (ns since the epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeRange {
    first: i64,
    last: i64,
}

impl TimeRange {
    /// Every timestamp.
    pub const ALL: TimeRange = TimeRange {
        first: i64::MIN,
        last: i64::MAX,
    };

    /// `[first, last]`; None when `first > last`.
    pub fn inclusive(first: i64, last: i64) -> Option<Self> {
        (first <= last).then_some(TimeRange { first, last })
    }

    /// `[from, to)`; None when empty.
    pub fn half_open(from: i64, to: i64) -> Option<Self> {
        TimeRange::inclusive(from, to.checked_sub(1)?)
    }

    /// `[from, to)` where a missing bound is unbounded (a missing `to`
    /// includes `i64::MAX`); None when empty.
    pub fn from_bounds(from: Option<i64>, to: Option<i64>) -> Option<Self> {
        let first = from.unwrap_or(i64::MIN);
        match to {
            Some(to) => TimeRange::half_open(first, to),
            None => TimeRange::inclusive(first, i64::MAX),
        }
    }

    /// The first timestamp in the range.
    pub fn first(&self) -> i64 {
        self.first
    }

    /// The last timestamp in the range.
    pub fn last(&self) -> i64 {
        self.last
    }

    /// The exclusive end, `last + 1`.
    pub fn end(&self) -> i128 {
        i128::from(self.last) + 1
    }

    /// True when `ts` is in the range.
    pub fn contains(&self, ts: i64) -> bool {
        self.first <= ts && ts <= self.last
    }

    /// True when `[a, b]` lies wholly inside the range.
    pub fn covers(&self, a: i64, b: i64) -> bool {
        self.first <= a && b <= self.last
    }

    /// The index range of the points of sorted `ts` inside the range.
    /// A slice the range covers whole (the common case of a block or
    /// memtable run inside a long query) costs two compares, no bisection.
    pub fn slice_of(&self, ts: &[i64]) -> (usize, usize) {
        if let (Some(&a), Some(&b)) = (ts.first(), ts.last()) {
            if self.covers(a, b) {
                return (0, ts.len());
            }
        }
        let s = ts.partition_point(|&t| t < self.first);
        let e = ts.partition_point(|&t| t <= self.last).max(s);
        (s, e)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_slices() {
        assert_eq!(TimeRange::half_open(5, 5), None);
        assert_eq!(TimeRange::half_open(i64::MIN, i64::MIN), None);
        let r = TimeRange::from_bounds(None, None).unwrap();
        assert_eq!(r, TimeRange::ALL);
        assert!(r.contains(i64::MAX) && r.contains(i64::MIN));
        assert_eq!(r.end(), i128::from(i64::MAX) + 1);
        let r = TimeRange::from_bounds(Some(2), Some(5)).unwrap();
        assert_eq!((r.first(), r.last()), (2, 4));
        assert_eq!(r.slice_of(&[0, 2, 3, 4, 5, 6]), (1, 4));
        assert_eq!(r.slice_of(&[7, 8]), (0, 0));
        assert_eq!(r.slice_of(&[2, 3, 4]), (0, 3));
        assert_eq!(r.slice_of(&[]), (0, 0));
        assert!(r.covers(2, 4) && !r.covers(1, 3));
    }
}
