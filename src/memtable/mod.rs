//! In-memory write buffers of one tenant.
//!
//! Invariants:
//! 1. Per series, points are appended in sequence-number order (the WAL lock
//!    orders inserts), so "appended later" means "written later" and
//!    last-write-wins reduces to keeping the last of equal timestamps.
//! 2. In-order appends are a push; the first out-of-order or duplicate point
//!    clears the series' `sorted` flag, and readers and `freeze` sort then.
//! 3. `bytes` is an upper bound of the heap held, for the engine's budget.
//! 4. A frozen memtable never changes; it is dropped only after its segment
//!    and manifest edit are durable and installed in the tenant's version.

use std::collections::HashMap;

use crate::model::{Columns, SeriesKey, ValueType};

/// Identifies a series inside one tenant (index in its catalog).
pub type SeriesId = u32;

#[derive(Debug, Default)]
struct SeriesBuffer {
    cols: Columns,
    /// True while `cols.ts` is strictly increasing.
    sorted: bool,
}

/// The active, growing memtable.
#[derive(Debug, Default)]
pub struct Memtable {
    series: HashMap<SeriesId, SeriesBuffer>,
    bytes: usize,
    points: usize,
    min_seq: Option<u64>,
    max_seq: Option<u64>,
}

impl Memtable {
    /// Appends the points of one series written by batch `seq`.
    pub fn insert(&mut self, id: SeriesId, cols: &Columns, seq: u64) {
        if cols.is_empty() {
            return;
        }
        let buf = self.series.entry(id).or_insert_with(|| SeriesBuffer {
            cols: Columns::default(),
            sorted: true,
        });
        let before = buf.cols.heap_bytes();
        let in_order = buf.sorted
            && buf
                .cols
                .ts
                .last()
                .is_none_or(|&l| cols.ts.first().is_some_and(|&f| f > l))
            && cols.is_strictly_sorted();
        buf.sorted = in_order;
        buf.cols.extend_from(cols);
        self.bytes += buf.cols.heap_bytes() - before;
        self.points += cols.len();
        self.min_seq = Some(self.min_seq.map_or(seq, |s| s.min(seq)));
        self.max_seq = Some(self.max_seq.map_or(seq, |s| s.max(seq)));
    }

    /// Appends points given as little-endian column bytes (WAL replay: one
    /// copy from the log straight into the buffer).
    pub fn insert_le(
        &mut self,
        id: SeriesId,
        ts_le: &[u8],
        values_le: &[u8],
        quality: Option<(&[u8], &[u8])>,
        seq: u64,
    ) {
        let n = ts_le.len() / 8;
        if n == 0 {
            return;
        }
        let buf = self.series.entry(id).or_insert_with(|| SeriesBuffer {
            cols: Columns::default(),
            sorted: true,
        });
        let before = buf.cols.heap_bytes();
        let old_len = buf.cols.len();
        append_le(&mut buf.cols, ts_le, values_le, quality);
        if buf.sorted {
            let start = old_len.saturating_sub(1);
            let new = buf.cols.ts.get(start..).unwrap_or_default();
            buf.sorted = new.windows(2).all(|w| w[0] < w[1]);
        }
        self.bytes += buf.cols.heap_bytes() - before;
        self.points += n;
        self.min_seq = Some(self.min_seq.map_or(seq, |s| s.min(seq)));
        self.max_seq = Some(self.max_seq.map_or(seq, |s| s.max(seq)));
    }

    /// Heap bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Points held (duplicates included).
    pub fn points(&self) -> usize {
        self.points
    }

    /// True when nothing was inserted.
    pub fn is_empty(&self) -> bool {
        self.points == 0
    }

    /// Lowest sequence number inserted.
    pub fn min_seq(&self) -> Option<u64> {
        self.min_seq
    }

    /// A copy of the points of `id` with `first <= ts <= last`, in write
    /// order, and whether they are already sorted and free of duplicates.
    /// Unsorted copies are left for the caller to sort (outside any lock).
    pub fn copy_in_range(&self, id: SeriesId, first: i64, last: i64) -> Option<(Columns, bool)> {
        let buf = self.series.get(&id)?;
        let mut out = Columns::default();
        if buf.sorted {
            let s = buf.cols.ts.partition_point(|&t| t < first);
            let e = buf.cols.ts.partition_point(|&t| t <= last).max(s);
            out.extend_range(&buf.cols, s, e);
        } else {
            let c = &buf.cols;
            for (i, &t) in c.ts.iter().enumerate() {
                if let (true, Some(&v)) = (first <= t && t <= last, c.values.get(i)) {
                    out.push(t, v, c.quality_at(i));
                }
            }
            if c.quality.is_some() && out.quality.is_none() && !out.is_empty() {
                out.quality = Some(vec![None; out.len()]);
            }
        }
        (!out.is_empty()).then_some((out, buf.sorted))
    }

    /// Freezes the memtable: sorts and deduplicates every series.
    pub fn freeze(
        self,
        resolve: impl Fn(SeriesId) -> Option<(SeriesKey, ValueType)>,
    ) -> FrozenMemtable {
        let mut series: Vec<FrozenSeries> = self
            .series
            .into_iter()
            .filter_map(|(id, mut buf)| {
                if !buf.sorted {
                    buf.cols.sort_dedup_last_wins();
                }
                let (key, value_type) = resolve(id)?;
                Some(FrozenSeries {
                    id,
                    key,
                    value_type,
                    cols: buf.cols,
                })
            })
            .collect();
        series.sort_by(|a, b| a.key.cmp(&b.key));
        let index = series.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
        FrozenMemtable {
            series,
            index,
            bytes: self.bytes,
            points: self.points,
            min_seq: self.min_seq.unwrap_or(0),
            max_seq: self.max_seq.unwrap_or(0),
        }
    }
}

/// Appends little-endian columns to `cols`: `ts_le` and `values_le` of 8
/// bytes per point, `quality` as presence bytes and value bytes.
pub fn append_le(
    cols: &mut Columns,
    ts_le: &[u8],
    values_le: &[u8],
    quality: Option<(&[u8], &[u8])>,
) {
    let n = ts_le.len().min(values_le.len()) / 8;
    let le = |c: &[u8]| <[u8; 8]>::try_from(c).unwrap_or([0; 8]);
    cols.ts.extend(
        ts_le
            .chunks_exact(8)
            .take(n)
            .map(|c| i64::from_le_bytes(le(c))),
    );
    cols.values.extend(
        values_le
            .chunks_exact(8)
            .take(n)
            .map(|c| u64::from_le_bytes(le(c))),
    );
    match quality {
        Some((present, vals)) => {
            let q = cols.quality.get_or_insert_with(Vec::new);
            q.resize(cols.ts.len() - n, None);
            q.extend(
                present
                    .iter()
                    .zip(vals)
                    .take(n)
                    .map(|(&p, &v)| (p != 0).then_some(v)),
            );
            q.resize(cols.ts.len(), None);
        }
        None => {
            if let Some(q) = &mut cols.quality {
                q.resize(cols.ts.len(), None);
            }
        }
    }
}

/// One series of a frozen memtable: sorted, deduplicated.
#[derive(Debug)]
pub struct FrozenSeries {
    pub id: SeriesId,
    pub key: SeriesKey,
    pub value_type: ValueType,
    pub cols: Columns,
}

/// An immutable memtable waiting to be flushed.
#[derive(Debug)]
pub struct FrozenMemtable {
    /// Sorted by series key (the segment's order).
    pub series: Vec<FrozenSeries>,
    index: HashMap<SeriesId, usize>,
    pub bytes: usize,
    pub points: usize,
    pub min_seq: u64,
    pub max_seq: u64,
}

impl FrozenMemtable {
    /// The sorted, deduplicated points of `id`.
    pub fn series_cols(&self, id: SeriesId) -> Option<&Columns> {
        self.series.get(*self.index.get(&id)?).map(|s| &s.cols)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(ts: &[i64], v: u64) -> Columns {
        let mut c = Columns::default();
        for &t in ts {
            c.push(t, v, None);
        }
        c
    }

    /// The points of `id` in `[first, last]`, sorted and deduplicated.
    fn read(m: &Memtable, id: SeriesId, first: i64, last: i64) -> Columns {
        let (mut c, sorted) = m.copy_in_range(id, first, last).unwrap();
        if !sorted {
            c.sort_dedup_last_wins();
        }
        c
    }

    fn le(vals: &[i64]) -> Vec<u8> {
        vals.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn insert_le_keeps_quality_and_detects_disorder() {
        let mut m = Memtable::default();
        m.insert_le(7, &le(&[1, 2]), &le(&[10, 20]), None, 1);
        m.insert_le(7, &le(&[5]), &le(&[50]), Some((&[1], &[192])), 2);
        let r = read(&m, 7, i64::MIN, i64::MAX);
        assert_eq!(r.ts, vec![1, 2, 5]);
        assert_eq!(r.values, vec![10, 20, 50]);
        assert_eq!(r.quality, Some(vec![None, None, Some(192)]));
        m.insert_le(7, &le(&[3]), &le(&[30]), None, 3);
        let r = read(&m, 7, i64::MIN, i64::MAX);
        assert_eq!(r.ts, vec![1, 2, 3, 5]);
        assert_eq!(r.quality, Some(vec![None, None, None, Some(192)]));
        assert_eq!((m.points(), m.min_seq()), (4, Some(1)));
    }

    #[test]
    fn copies_in_range_report_whether_they_are_sorted() {
        let mut m = Memtable::default();
        m.insert(0, &cols(&[5, i64::MAX, 1], 1), 1);
        let (c, sorted) = m.copy_in_range(0, 1, i64::MAX).unwrap();
        assert_eq!((c.ts, sorted), (vec![5, i64::MAX, 1], false));
        m.insert(1, &cols(&[1, 2], 7), 2);
        assert_eq!(m.copy_in_range(1, 2, 9), Some((cols(&[2], 7), true)));
        assert_eq!(m.copy_in_range(1, 3, 9), None);
        assert_eq!(m.copy_in_range(9, 0, 9), None);
    }

    #[test]
    fn out_of_order_and_duplicates_read_back_sorted_last_wins() {
        let mut m = Memtable::default();
        m.insert(0, &cols(&[1, 2, 3], 1), 1);
        m.insert(0, &cols(&[2, 0], 2), 2);
        let r = read(&m, 0, i64::MIN, i64::MAX);
        assert_eq!(r.ts, vec![0, 1, 2, 3]);
        assert_eq!(r.values, vec![2, 1, 2, 1]);
        assert_eq!(read(&m, 0, 1, 2).ts, vec![1, 2]);
        let key = SeriesKey::new("m", Vec::<(String, String)>::new()).unwrap();
        let f = m.freeze(|_| Some((key.clone(), ValueType::I64)));
        assert_eq!(f.series_cols(0).unwrap().values, vec![2, 1, 2, 1]);
        assert_eq!((f.min_seq, f.max_seq), (1, 2));
    }
}
