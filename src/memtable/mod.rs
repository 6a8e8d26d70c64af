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

    /// A sorted, deduplicated copy of the points of `id` in `[from, to)`.
    pub fn read_range(&self, id: SeriesId, from: i64, to: i64) -> Option<Columns> {
        let buf = self.series.get(&id)?;
        let mut out = Columns::default();
        if buf.sorted {
            let (s, e) = buf.cols.range_of(from, to);
            out.extend_range(&buf.cols, s, e);
        } else {
            let mut all = buf.cols.clone();
            all.sort_dedup_last_wins();
            let (s, e) = all.range_of(from, to);
            out.extend_range(&all, s, e);
        }
        (!out.is_empty()).then_some(out)
    }

    /// The newest point of `id` as (ts, bits, quality), without copying the
    /// series: the last point when sorted, else the last-written point of the
    /// greatest timestamp (last write wins). `i64::MAX` included.
    pub fn latest(&self, id: SeriesId) -> Option<(i64, u64, Option<u8>)> {
        let buf = self.series.get(&id)?;
        let cols = &buf.cols;
        let i = if buf.sorted {
            cols.len().checked_sub(1)?
        } else {
            let newest = cols.ts.iter().enumerate().max_by_key(|&(i, &t)| (t, i));
            newest.map(|(i, _)| i)?
        };
        Some((*cols.ts.get(i)?, *cols.values.get(i)?, cols.quality_at(i)))
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
    /// The points of `id` in `[from, to)`.
    pub fn read_range(&self, id: SeriesId, from: i64, to: i64) -> Option<Columns> {
        let s = self.series.get(*self.index.get(&id)?)?;
        let (a, b) = s.cols.range_of(from, to);
        let mut out = Columns::default();
        out.extend_range(&s.cols, a, b);
        (!out.is_empty()).then_some(out)
    }

    /// The newest point of `id` as (ts, bits, quality) (series are sorted).
    pub fn latest(&self, id: SeriesId) -> Option<(i64, u64, Option<u8>)> {
        let cols = &self.series.get(*self.index.get(&id)?)?.cols;
        let i = cols.len().checked_sub(1)?;
        Some((*cols.ts.get(i)?, *cols.values.get(i)?, cols.quality_at(i)))
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

    fn le(vals: &[i64]) -> Vec<u8> {
        vals.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn insert_le_keeps_quality_and_detects_disorder() {
        let mut m = Memtable::default();
        m.insert_le(7, &le(&[1, 2]), &le(&[10, 20]), None, 1);
        m.insert_le(7, &le(&[5]), &le(&[50]), Some((&[1], &[192])), 2);
        let r = m.read_range(7, i64::MIN, i64::MAX).unwrap();
        assert_eq!(r.ts, vec![1, 2, 5]);
        assert_eq!(r.values, vec![10, 20, 50]);
        assert_eq!(r.quality, Some(vec![None, None, Some(192)]));
        m.insert_le(7, &le(&[3]), &le(&[30]), None, 3);
        let r = m.read_range(7, i64::MIN, i64::MAX).unwrap();
        assert_eq!(r.ts, vec![1, 2, 3, 5]);
        assert_eq!(r.quality, Some(vec![None, None, None, Some(192)]));
        assert_eq!((m.points(), m.min_seq()), (4, Some(1)));
    }

    #[test]
    fn latest_is_the_last_write_of_the_greatest_timestamp() {
        let mut m = Memtable::default();
        m.insert(0, &cols(&[5, i64::MAX, 1], 1), 1);
        m.insert(0, &cols(&[i64::MAX, 3], 2), 2);
        assert_eq!(m.latest(0), Some((i64::MAX, 2, None)));
        m.insert(1, &cols(&[1, 2], 7), 3);
        assert_eq!(m.latest(1), Some((2, 7, None)));
        assert_eq!(m.latest(9), None);
    }

    #[test]
    fn out_of_order_and_duplicates_read_back_sorted_last_wins() {
        let mut m = Memtable::default();
        m.insert(0, &cols(&[1, 2, 3], 1), 1);
        m.insert(0, &cols(&[2, 0], 2), 2);
        let r = m.read_range(0, i64::MIN, i64::MAX).unwrap();
        assert_eq!(r.ts, vec![0, 1, 2, 3]);
        assert_eq!(r.values, vec![2, 1, 2, 1]);
        assert_eq!(m.read_range(0, 1, 3).unwrap().ts, vec![1, 2]);
        let key = SeriesKey::new("m", Vec::<(String, String)>::new()).unwrap();
        let f = m.freeze(|_| Some((key.clone(), ValueType::I64)));
        assert_eq!(f.read_range(0, 0, 10).unwrap().values, vec![2, 1, 2, 1]);
        assert_eq!((f.min_seq, f.max_seq), (1, 2));
    }
}
