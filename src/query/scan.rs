//! Raw range scans.
//!
//! Invariants:
//! 1. A scan works on one snapshot taken in a single critical section of the
//!    tenant's state: copies of the active memtable's matching points, and
//!    `Arc`s of the frozen memtables and the segment list. Later writes and
//!    flushes do not change what it returns.
//! 2. Sources are merged oldest first (segments by id, then frozen memtables,
//!    then the active memtable), so keeping the last of equal timestamps is
//!    last-write-wins by sequence number.
//! 3. Blocks whose time range misses `[from, to)` are never read.

use std::sync::Arc;

use crate::catalog::Selector;
use crate::codec::lossy::Lossy;
use crate::engine::Tenant;
use crate::error::Result;
use crate::memtable::{FrozenMemtable, SeriesId};
use crate::model::{Columns, Point, SeriesKey, Value, ValueType};
use crate::segment::Segment;

/// The points of one series in a range.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesData {
    pub key: SeriesKey,
    pub value_type: ValueType,
    pub cols: Columns,
    /// The widest lossy setting among the segments the points came from:
    /// each returned value is within its bound of the value written (None:
    /// every value is exactly as written).
    pub lossy: Option<Lossy>,
}

impl SeriesData {
    /// The points as typed values.
    pub fn points(&self) -> impl Iterator<Item = Point> + '_ {
        (0..self.cols.len()).map(|i| Point {
            ts: self.cols.ts[i],
            value: Value::from_bits(self.value_type, self.cols.values[i]),
            quality: self.cols.quality_at(i),
        })
    }
}

struct SnapSeries {
    id: SeriesId,
    key: SeriesKey,
    value_type: ValueType,
    active: Option<Columns>,
}

/// An iterator over the series of a scan, in key order; each item is decoded
/// when it is reached.
pub struct ScanIter {
    series: std::vec::IntoIter<SnapSeries>,
    frozen: Vec<Arc<FrozenMemtable>>,
    segments: Arc<Vec<Arc<Segment>>>,
    from: i64,
    to: i64,
}

impl Iterator for ScanIter {
    type Item = Result<SeriesData>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let s = self.series.next()?;
            match self.read_series(s) {
                Ok(Some(d)) => return Some(Ok(d)),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl ScanIter {
    fn read_series(&self, s: SnapSeries) -> Result<Option<SeriesData>> {
        let mut parts: Vec<Columns> = Vec::new();
        let mut lossy: Option<Lossy> = None;
        for seg in self.segments.iter() {
            let Some(ss) = seg.find(&s.key) else { continue };
            for b in &ss.blocks {
                if b.ts_max < self.from || b.ts_min >= self.to {
                    continue;
                }
                if let Some(l) = ss.lossy {
                    lossy = Some(match lossy {
                        Some(o) if o.bound() >= l.bound() => o,
                        _ => l,
                    });
                }
                let cols = seg.read_block(ss, b)?;
                let (a, e) = cols.range_of(self.from, self.to);
                let mut part = Columns::default();
                part.extend_range(&cols, a, e);
                parts.push(part);
            }
        }
        for f in &self.frozen {
            if let Some(c) = f.read_range(s.id, self.from, self.to) {
                parts.push(c);
            }
        }
        parts.extend(s.active);
        let cols = merge_last_wins(parts);
        Ok((!cols.is_empty()).then_some(SeriesData {
            key: s.key,
            value_type: s.value_type,
            cols,
            lossy,
        }))
    }
}

/// Concatenates sorted parts given oldest first and resolves duplicates.
pub(crate) fn merge_last_wins(parts: Vec<Columns>) -> Columns {
    let mut parts = parts.into_iter().filter(|p| !p.is_empty());
    let Some(mut out) = parts.next() else {
        return Columns::default();
    };
    for p in parts {
        out.extend_from(&p);
    }
    out.sort_dedup_last_wins();
    out
}

impl Tenant {
    /// Scans the series matching `selector` over `[from, to)`, lazily.
    pub fn scan(&self, selector: &Selector, from: i64, to: i64) -> ScanIter {
        let st = self.inner.read();
        let mut ids = st.catalog.select(selector);
        ids.sort_by(|&a, &b| {
            let ka = st.catalog.get(a).map(|e| &e.key);
            let kb = st.catalog.get(b).map(|e| &e.key);
            ka.cmp(&kb)
        });
        let series: Vec<SnapSeries> = ids
            .into_iter()
            .filter_map(|id| {
                let e = st.catalog.get(id)?;
                Some(SnapSeries {
                    id,
                    key: e.key.clone(),
                    value_type: e.value_type,
                    active: st.active.read_range(id, from, to),
                })
            })
            .collect();
        ScanIter {
            series: series.into_iter(),
            frozen: st.frozen.clone(),
            segments: Arc::clone(&st.segments),
            from,
            to,
        }
    }

    /// Scans and collects every series.
    pub fn scan_all(&self, selector: &Selector, from: i64, to: i64) -> Result<Vec<SeriesData>> {
        self.scan(selector, from, to).collect()
    }

    /// The latest point of each series matching `selector`.
    pub fn last(&self, selector: &Selector) -> Result<Vec<(SeriesKey, ValueType, Point)>> {
        let mut out = Vec::new();
        let (series, frozen, segments) = {
            let st = self.inner.read();
            let ids = st.catalog.select(selector);
            let series: Vec<(SeriesId, SeriesKey, ValueType, Option<Point>)> = ids
                .into_iter()
                .filter_map(|id| {
                    let e = st.catalog.get(id)?;
                    let active = st.active.latest(id).map(|p| to_point(p, e.value_type));
                    Some((id, e.key.clone(), e.value_type, active))
                })
                .collect();
            (series, st.frozen.clone(), Arc::clone(&st.segments))
        };
        for (id, key, vt, active) in series {
            // Newest source first; a strictly later timestamp replaces the best.
            let mut best: Option<Point> = active;
            for f in frozen.iter().rev() {
                best = newer(best, f.latest(id).map(|p| to_point(p, vt)));
            }
            for seg in segments.iter().rev() {
                let Some(ss) = seg.find(&key) else { continue };
                let Some(b) = ss.blocks.last() else { continue };
                if best.is_some_and(|p| p.ts >= b.ts_max) {
                    continue;
                }
                let c = seg.read_block(ss, b)?;
                best = newer(best, last_point(&c, vt));
            }
            if let Some(p) = best {
                out.push((key, vt, p));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

fn to_point((ts, bits, quality): (i64, u64, Option<u8>), vt: ValueType) -> Point {
    Point {
        ts,
        value: Value::from_bits(vt, bits),
        quality,
    }
}

fn last_point(c: &Columns, vt: ValueType) -> Option<Point> {
    let i = c.len().checked_sub(1)?;
    Some(Point {
        ts: *c.ts.get(i)?,
        value: Value::from_bits(vt, *c.values.get(i)?),
        quality: c.quality_at(i),
    })
}

/// Keeps `best` unless `cand` (from an older source) is strictly later.
fn newer(best: Option<Point>, cand: Option<Point>) -> Option<Point> {
    match (best, cand) {
        (Some(b), Some(c)) if c.ts > b.ts => Some(c),
        (None, c) => c,
        (b, _) => b,
    }
}
