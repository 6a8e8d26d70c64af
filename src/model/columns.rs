//! Columnar point buffers shared by write batches, memtables and scan results.
//!
//! Invariants:
//! 1. `ts`, `values` and (when present) `quality` have the same length.
//! 2. `quality` is `None` until the first point with a quality arrives; from then
//!    on it holds one entry per point (`None` for points written without one).
//! 3. After [`Columns::sort_dedup_last_wins`], `ts` is strictly increasing and of
//!    equal timestamps the one appended last is kept (last write wins).

/// Timestamps, raw 64-bit values and optional qualities of one series.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    pub ts: Vec<i64>,
    pub values: Vec<u64>,
    pub quality: Option<Vec<Option<u8>>>,
}

impl Columns {
    /// Empty columns with room for `n` points.
    pub fn with_capacity(n: usize) -> Self {
        Columns {
            ts: Vec::with_capacity(n),
            values: Vec::with_capacity(n),
            quality: None,
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// True when there are no points.
    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// Writes points at index `at` (see [`room`]); `quality` None means none
    /// of these points has one.
    pub(crate) fn write_at(
        &mut self,
        at: usize,
        ts: &[i64],
        values: &[u64],
        quality: Option<&[Option<u8>]>,
    ) {
        let n = ts.len().min(values.len());
        room(&mut self.ts, at, n).copy_from_slice(ts.get(..n).unwrap_or_default());
        room(&mut self.values, at, n).copy_from_slice(values.get(..n).unwrap_or_default());
        match (quality, self.quality.as_mut()) {
            (Some(q), _) => {
                let all = self.quality.get_or_insert_with(Vec::new);
                all.resize(all.len().max(at), None);
                let dst = room(all, at, n);
                for (d, s) in dst
                    .iter_mut()
                    .zip(q.iter().copied().chain(std::iter::repeat(None)))
                {
                    *d = s;
                }
            }
            (None, Some(all)) => room(all, at, n).fill(None),
            (None, None) => {}
        }
    }

    /// Keeps the first `n` points.
    pub fn truncate(&mut self, n: usize) {
        self.ts.truncate(n);
        self.values.truncate(n);
        if let Some(q) = self.quality.as_mut() {
            q.truncate(n);
        }
    }

    /// Appends one point.
    pub fn push(&mut self, ts: i64, bits: u64, quality: Option<u8>) {
        let n = self.ts.len();
        self.ts.push(ts);
        self.values.push(bits);
        match (&mut self.quality, quality) {
            (Some(q), _) => q.push(quality),
            (None, Some(_)) => {
                let mut q = vec![None; n];
                q.push(quality);
                self.quality = Some(q);
            }
            (None, None) => {}
        }
    }

    /// Appends every point of `other`.
    pub fn extend_from(&mut self, other: &Columns) {
        self.extend_range(other, 0, other.len());
    }

    /// Appends points `start..end` of `other` (clamped to its length).
    pub fn extend_range(&mut self, other: &Columns, start: usize, end: usize) {
        let end = end.min(other.len());
        let start = start.min(end);
        let n = self.ts.len();
        self.ts
            .extend_from_slice(other.ts.get(start..end).unwrap_or(&[]));
        self.values
            .extend_from_slice(other.values.get(start..end).unwrap_or(&[]));
        match (&mut self.quality, &other.quality) {
            (Some(q), Some(o)) => q.extend_from_slice(o.get(start..end).unwrap_or(&[])),
            (Some(q), None) => q.resize(q.len() + (end - start), None),
            (None, Some(o)) => {
                let mut q = vec![None; n];
                q.extend_from_slice(o.get(start..end).unwrap_or(&[]));
                self.quality = Some(q);
            }
            (None, None) => {}
        }
    }

    /// Heap bytes held, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.ts.capacity() * 8
            + self.values.capacity() * 8
            + self.quality.as_ref().map_or(0, |q| q.capacity() * 2)
    }

    /// The quality of point `i`.
    pub fn quality_at(&self, i: usize) -> Option<u8> {
        self.quality
            .as_ref()
            .and_then(|q| q.get(i).copied().flatten())
    }

    /// True when `ts` is strictly increasing.
    pub fn is_strictly_sorted(&self) -> bool {
        self.ts.windows(2).all(|w| w[0] < w[1])
    }

    /// Sorts by timestamp (stable) and keeps, of equal timestamps, the point
    /// appended last.
    pub fn sort_dedup_last_wins(&mut self) {
        if self.is_strictly_sorted() {
            return;
        }
        let mut order: Vec<u32> = (0..self.ts.len() as u32).collect();
        if !self.ts.windows(2).all(|w| w[0] <= w[1]) {
            let ts = &self.ts;
            order.sort_by_key(|&i| ts[i as usize]);
        }
        // Keep the last index of each run of equal timestamps.
        let mut keep: Vec<u32> = Vec::with_capacity(order.len());
        for (k, &i) in order.iter().enumerate() {
            let next_same = order
                .get(k + 1)
                .is_some_and(|&j| self.ts[j as usize] == self.ts[i as usize]);
            if !next_same {
                keep.push(i);
            }
        }
        self.ts = keep.iter().map(|&i| self.ts[i as usize]).collect();
        self.values = keep.iter().map(|&i| self.values[i as usize]).collect();
        if let Some(q) = &self.quality {
            self.quality = Some(keep.iter().map(|&i| q[i as usize]).collect());
        }
    }

    /// Index range of the points with `from <= ts < to`; `ts` must be sorted.
    pub fn range_of(&self, from: i64, to: i64) -> (usize, usize) {
        let start = self.ts.partition_point(|&t| t < from);
        let end = self.ts.partition_point(|&t| t < to).max(start);
        (start, end)
    }
}

/// `v[at..at + n]`, growing `v` (with defaults) only when it is shorter: a
/// buffer reused from read to read is overwritten, not cleared and refilled.
pub(crate) fn room<T: Copy + Default>(v: &mut Vec<T>, at: usize, n: usize) -> &mut [T] {
    if v.len() < at + n {
        v.resize(at + n, T::default());
    }
    v.get_mut(at..at + n).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_keeps_the_last_written_duplicate() {
        let mut c = Columns::default();
        c.push(5, 50, None);
        c.push(1, 10, None);
        c.push(5, 51, Some(3));
        c.push(3, 30, None);
        c.push(1, 11, None);
        c.sort_dedup_last_wins();
        assert_eq!(c.ts, vec![1, 3, 5]);
        assert_eq!(c.values, vec![11, 30, 51]);
        assert_eq!(c.quality, Some(vec![None, None, Some(3)]));
    }

    #[test]
    fn extend_range_fills_missing_quality() {
        let mut a = Columns::default();
        a.push(1, 1, None);
        let mut b = Columns::default();
        b.push(2, 2, Some(7));
        b.push(3, 3, None);
        a.extend_range(&b, 0, 5);
        assert_eq!(a.quality, Some(vec![None, Some(7), None]));
        assert_eq!(a.range_of(2, 3), (1, 2));
    }
}
