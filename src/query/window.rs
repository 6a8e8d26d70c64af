//! Window arithmetic: window `k` is `[origin + k·every, origin + (k+1)·every)`.
//!
//! Invariants:
//! 1. All arithmetic is in `i128`: for any `i64` timestamp, origin and
//!    `every > 0`, the index `floor((ts − origin) / every)` and the bounds of
//!    its window are exact; nothing overflows or panics.
//! 2. A window that begins before `i64::MIN` reports `i64::MIN` as its start
//!    ([`Windows::start_i64`]): its part in representable time. No window can
//!    begin after `i64::MAX`, since it holds a point.
//! 3. [`split_before`] takes a sorted slice whose first point lies in a
//!    window ending at `end` and returns how many of its points do.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

/// Fixed windows aligned to an origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Windows {
    origin: i128,
    every: i128,
}

impl Windows {
    /// Windows of `every` ns (> 0, checked by the request) from `origin`.
    pub fn new(origin: i64, every: i64) -> Self {
        Windows {
            origin: i128::from(origin),
            every: i128::from(every.max(1)),
        }
    }

    /// The window length in ns.
    pub fn every(&self) -> i128 {
        self.every
    }

    /// The index of the window holding `ts`.
    #[inline]
    pub fn index(&self, ts: i64) -> i128 {
        // A 64-bit division when the distance fits (always, but for
        // timestamps near both ends of time); 128-bit division is a call.
        let (origin, every) = (self.origin as i64, self.every as i64);
        match ts.checked_sub(origin) {
            Some(d) => i128::from(d.div_euclid(every)),
            None => (i128::from(ts) - self.origin).div_euclid(self.every),
        }
    }

    /// The first instant of window `k`.
    #[inline]
    pub fn start(&self, k: i128) -> i128 {
        self.origin + k * self.every
    }

    /// The first instant after window `k`.
    #[inline]
    pub fn end(&self, k: i128) -> i128 {
        self.start(k) + self.every
    }

    /// The start of window `k` clamped to `i64` (invariant 2).
    pub fn start_i64(&self, k: i128) -> i64 {
        clamp_i64(self.start(k))
    }

    /// The window holding `ts`, given the open window `k` with bounds
    /// `[start, end)`: the next window is found without a division.
    #[inline(always)]
    pub fn index_near(&self, ts: i64, k: i128, start: i128, end: i128) -> i128 {
        let t = i128::from(ts);
        if start <= t && t < end {
            k
        } else if end <= t && t < end + self.every {
            k + 1
        } else {
            self.index(ts)
        }
    }
}

/// How many points of sorted `ts` lie before `end` (the end of the window
/// holding the first point, so at least one). `guess` is a likely answer
/// (the previous window's count: sensors sample regularly); the boundary is
/// searched from it, then by bisection.
#[inline(always)]
pub(crate) fn split_before(ts: &[i64], end: i128, guess: usize) -> usize {
    let Some(&last) = ts.last() else {
        return 0;
    };
    if end > i128::from(last) {
        return ts.len();
    }
    // Now `ts[0] < end <= last`: the answer is in 1..len.
    let end = end as i64;
    let n = ts.len();
    let before = |i: usize| ts.get(i).is_some_and(|&t| t < end);
    let mut i = guess.clamp(1, n - 1);
    for _ in 0..4 {
        match (before(i - 1), before(i)) {
            (true, false) => return i,
            (true, true) if i + 1 < n => i += 1,
            (false, _) if i > 1 => i -= 1,
            _ => break,
        }
    }
    ts.partition_point(|&t| t < end)
}

/// `v` clamped to the `i64` range.
pub(crate) fn clamp_i64(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn index_and_bounds_are_floor_division_and_never_overflow() {
        let w = Windows::new(7, 10);
        assert_eq!(w.index(7), 0);
        assert_eq!(w.index(16), 0);
        assert_eq!(w.index(17), 1);
        assert_eq!(w.index(6), -1);
        assert_eq!(w.index(-3), -1);
        assert_eq!(w.index(-4), -2);
        assert_eq!((w.start(-1), w.end(-1)), (-3, 7));
        let w = Windows::new(i64::MAX, 1);
        assert_eq!(w.index(i64::MIN), -(1i128 << 64) + 1);
        assert_eq!(w.start_i64(w.index(i64::MIN)), i64::MIN);
        let w = Windows::new(i64::MIN, i64::MAX);
        assert_eq!(w.index(i64::MAX), 2);
        assert_eq!(w.start_i64(2), i64::MAX - 1);
        assert_eq!(split_before(&[i64::MAX - 1, i64::MAX], w.end(2), 0), 2);
        let w = Windows::new(0, 3);
        assert_eq!(w.start_i64(w.index(i64::MIN)), i64::MIN);
    }

    #[test]
    fn splits_equal_a_bisection_from_any_guess() {
        // Gaps of 1 to 4: windows end anywhere, slices start anywhere, and
        // guesses hit, fall just short or past, or lie far off.
        let ts: Vec<i64> = (0..120i64)
            .scan(-40, |t, i| {
                *t += 1 + (i * i) % 4;
                Some(*t)
            })
            .collect();
        for at in 0..ts.len() {
            let s = &ts[at..];
            for end in s[0] + 1..s[s.len() - 1] + 3 {
                let want = s.partition_point(|&t| t < end);
                for guess in [0, 1, want.saturating_sub(5), want, want + 1, want + 4, 500] {
                    let got = split_before(s, i128::from(end), guess);
                    assert_eq!(got, want, "at {at}, end {end}, guess {guess}");
                }
            }
        }
    }

    #[test]
    fn splits_count_the_points_of_the_window() {
        let w = Windows::new(0, 10);
        let mut ts: Vec<i64> = (0..100).map(|i| i * 3).collect();
        ts.extend((0..50).map(|i| 1_000 + i * i * i));
        let mut at = 0;
        while at < ts.len() {
            let k = w.index(ts[at]);
            let n = split_before(&ts[at..], w.end(k), at % 7);
            assert!(n >= 1);
            assert!(ts[at..at + n].iter().all(|&t| w.index(t) == k));
            assert!(ts.get(at + n).is_none_or(|&t| w.index(t) > k));
            at += n;
        }
        assert_eq!(split_before(&[5], w.end(0), 3), 1);
        assert_eq!(split_before(&[5, 9, 10], w.end(0), 0), 2);
        assert_eq!(split_before(&[5, 9, 10], w.end(0), 9), 2);
        assert_eq!(split_before(&[i64::MIN, 0, i64::MAX], 1, 1), 2);
        assert_eq!(w.index_near(10, 0, 0, 10), 1);
        assert_eq!(w.index_near(9, 0, 0, 10), 0);
        assert_eq!(w.index_near(25, 0, 0, 10), 2);
        assert_eq!(w.index_near(-1, 0, 0, 10), -1);
    }
}
