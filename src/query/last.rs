//! The latest point of every series, kept in memory so `last` answers
//! without reading memtables or segments.
//!
//! Invariants:
//! 1. For every series id, [`LatestCache`] holds the point with the greatest
//!    timestamp among all writes applied to the tenant; of equal timestamps,
//!    the one written last (last write wins, as everywhere).
//! 2. It is updated in the same critical section as the memtable insert (the
//!    tenant's state lock, taken under the WAL lock), so any reader of the
//!    state sees the cache agree with the memtables and segments.
//! 3. At open it is rebuilt from the segment indexes (per series the block
//!    with the greatest `ts_max`, the newest segment on ties: one block
//!    decoded per series), then WAL replay updates it like writes do.
//! 4. Flushes move points from memtables to segments and never change it.
//! 5. `last` lists series in key order by walking the catalog's ordered ids:
//!    no key is sorted, formatted or copied per call (keys are `Arc`s).
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use crate::catalog::{Catalog, Selector};
use crate::engine::Tenant;
use crate::error::Result;
use crate::memtable::SeriesId;
use crate::model::{Columns, Point, SeriesKey, Value, ValueType};
use crate::segment::{BlockBuf, Segment};

/// One series' latest point, as raw bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Latest {
    pub ts: i64,
    pub bits: u64,
    pub quality: Option<u8>,
}

/// Latest point per series id (dense, like the catalog's ids).
#[derive(Clone, Debug, Default)]
pub(crate) struct LatestCache {
    points: Vec<Option<Latest>>,
}

impl LatestCache {
    /// The latest point of `id`.
    pub fn get(&self, id: SeriesId) -> Option<Latest> {
        self.points.get(id as usize).copied().flatten()
    }

    /// Records `p` unless the cache holds a strictly later point for `id`
    /// (an equal timestamp written now replaces the older write).
    pub fn offer(&mut self, id: SeriesId, p: Latest) {
        let i = id as usize;
        if self.points.len() <= i {
            self.points.resize(i + 1, None);
        }
        if let Some(slot) = self.points.get_mut(i) {
            if slot.is_none_or(|c| p.ts >= c.ts) {
                *slot = Some(p);
            }
        }
    }

    /// Records the newest point of a write's columns for `id`.
    pub fn observe(&mut self, id: SeriesId, cols: &Columns) {
        let newest = cols.ts.iter().enumerate().max_by_key(|&(i, &t)| (t, i));
        let Some((i, &ts)) = newest else { return };
        if let Some(&bits) = cols.values.get(i) {
            let quality = cols.quality_at(i);
            self.offer(id, Latest { ts, bits, quality });
        }
    }

    /// [`LatestCache::observe`] for little-endian WAL columns (replay).
    pub fn observe_le(
        &mut self,
        id: SeriesId,
        ts_le: &[u8],
        values_le: &[u8],
        quality: Option<(&[u8], &[u8])>,
    ) {
        let le = |c: &[u8]| <[u8; 8]>::try_from(c).unwrap_or([0; 8]);
        let ts = ts_le.chunks_exact(8).map(|c| i64::from_le_bytes(le(c)));
        let newest = ts.enumerate().max_by_key(|&(i, t)| (t, i));
        let Some((i, ts)) = newest else { return };
        let Some(bits) = values_le.chunks_exact(8).nth(i) else {
            return;
        };
        let quality = quality.and_then(|(present, values)| {
            let has = present.get(i).is_some_and(|&p| p != 0);
            has.then(|| values.get(i).copied()).flatten()
        });
        let bits = u64::from_le_bytes(le(bits));
        self.offer(id, Latest { ts, bits, quality });
    }

    /// The cache of a tenant whose data is all in `segments` (oldest first).
    pub fn from_segments(catalog: &Catalog, segments: &[Arc<Segment>]) -> Result<Self> {
        // Per id: (ts_max, segment index, series index) of the newest block.
        let mut best: Vec<Option<(i64, usize, usize)>> = vec![None; catalog.len()];
        for (si, seg) in segments.iter().enumerate() {
            for (ki, ss) in seg.series().iter().enumerate() {
                let (Some(id), Some(b)) = (catalog.lookup(&ss.key), ss.blocks.last()) else {
                    continue;
                };
                if let Some(slot) = best.get_mut(id as usize) {
                    if slot.is_none_or(|(t, _, _)| b.ts_max >= t) {
                        *slot = Some((b.ts_max, si, ki));
                    }
                }
            }
        }
        let mut cache = LatestCache::default();
        let mut buf = BlockBuf::default();
        for (id, found) in best.iter().enumerate() {
            let Some((_, si, ki)) = *found else { continue };
            let Some(seg) = segments.get(si) else {
                continue;
            };
            let Some(ss) = seg.series().get(ki) else {
                continue;
            };
            let Some(b) = ss.blocks.last() else { continue };
            seg.decode_block_into(ss, b, &mut buf)?;
            let i = buf.len.saturating_sub(1);
            if let (Some(&ts), Some(&bits)) = (buf.ts().get(i), buf.values().get(i)) {
                let quality = match buf.has_quality {
                    true => buf.quality.0.get(i).copied().flatten(),
                    false => None,
                };
                cache.offer(id as SeriesId, Latest { ts, bits, quality });
            }
        }
        Ok(cache)
    }
}

/// The latest point of one series.
#[derive(Clone, Debug, PartialEq)]
pub struct LastPoint {
    pub key: Arc<SeriesKey>,
    /// The key's canonical text.
    pub key_text: Arc<str>,
    pub value_type: ValueType,
    pub point: Point,
}

impl Tenant {
    /// The latest point of each series matching `selector`, in key order,
    /// from memory (see the module invariants).
    pub fn latest(&self, selector: &Selector) -> Vec<LastPoint> {
        self.latest_with_seq(selector).1
    }

    /// [`Tenant::latest`], with the sequence number of the last write it
    /// includes (as [`crate::query::Snapshot::seq`]).
    pub fn latest_with_seq(&self, selector: &Selector) -> (u64, Vec<LastPoint>) {
        let st = self.inner.read();
        let ids = st.catalog.select_ordered(selector);
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let (Some(e), Some(p)) = (st.catalog.get(id), st.latest.get(id)) else {
                continue;
            };
            out.push(LastPoint {
                key: Arc::clone(&e.key),
                key_text: Arc::clone(&e.text),
                value_type: e.value_type,
                point: Point {
                    ts: p.ts,
                    value: Value::from_bits(e.value_type, p.bits),
                    quality: p.quality,
                },
            });
        }
        (st.last_seq, out)
    }

    /// The latest point of each series matching `selector`, in key order
    /// (owned keys; [`Tenant::latest`] avoids the copies).
    pub fn last(&self, selector: &Selector) -> Result<Vec<(SeriesKey, ValueType, Point)>> {
        Ok(self
            .latest(selector)
            .into_iter()
            .map(|l| (SeriesKey::clone(&l.key), l.value_type, l.point))
            .collect())
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cols(points: &[(i64, u64)]) -> Columns {
        let mut c = Columns::default();
        for &(t, v) in points {
            c.push(t, v, None);
        }
        c
    }

    #[test]
    fn newest_wins_and_equal_timestamps_take_the_later_write() {
        let mut c = LatestCache::default();
        c.observe(3, &cols(&[(5, 1), (9, 2), (9, 3), (1, 4)]));
        assert_eq!(c.get(3).map(|p| (p.ts, p.bits)), Some((9, 3)));
        c.observe(3, &cols(&[(8, 5)]));
        assert_eq!(c.get(3).map(|p| p.bits), Some(3));
        c.observe(3, &cols(&[(9, 6)]));
        assert_eq!(c.get(3).map(|p| p.bits), Some(6));
        assert_eq!(c.get(0), None);
        assert_eq!(c.get(99), None);
    }

    #[test]
    fn wal_columns_update_like_writes() {
        let mut c = LatestCache::default();
        let ts: Vec<u8> = [4i64, i64::MAX, 2]
            .iter()
            .flat_map(|t| t.to_le_bytes())
            .collect();
        let vals: Vec<u8> = [1u64, 2, 3].iter().flat_map(|v| v.to_le_bytes()).collect();
        c.observe_le(0, &ts, &vals, Some((&[0, 1, 0], &[0, 7, 0])));
        let want = Latest {
            ts: i64::MAX,
            bits: 2,
            quality: Some(7),
        };
        assert_eq!(c.get(0), Some(want));
        c.observe_le(0, &[], &[], None);
        assert_eq!(c.get(0), Some(want));
    }
}
