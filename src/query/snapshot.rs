//! [`Snapshot`]: a consistent read view of a tenant, the input of every
//! scan and downsample.
//!
//! Invariants:
//! 1. A snapshot is taken in one critical section of the tenant's state
//!    lock: the selected series (in key order), copies of their active
//!    memtable points inside the range, `Arc`s of the frozen memtables and
//!    of the segment list, and [`Snapshot::seq`], the sequence number of the
//!    last write applied to the tenant. It holds exactly the writes with
//!    `seq <= Snapshot::seq()`; later writes, flushes and file removals do
//!    not change what it reads (a segment file is removed only when its last
//!    `Arc` is dropped).
//! 2. The critical section only copies; sorting unsorted memtable copies
//!    happens after the lock is released.
//! 3. Series are listed in key order; each carries its shared key and text.
//! 4. A pinned snapshot (`Tenant::pinned_snapshot`, engine/pin.rs) has no
//!    memtable part: it reads the pin's segments, which hold exactly the
//!    writes with `seq <= pin.seq`, and selects only series present in them.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use super::TimeRange;
use crate::catalog::Selector;
use crate::engine::Tenant;
use crate::error::Result;
use crate::memtable::{FrozenMemtable, SeriesId};
use crate::model::{Columns, SeriesKey, ValueType};
use crate::segment::Segment;

/// One selected series of a snapshot.
#[derive(Debug)]
pub(crate) struct SnapSeries {
    pub id: SeriesId,
    pub key: Arc<SeriesKey>,
    pub text: Arc<str>,
    pub value_type: ValueType,
    /// The active memtable's points in the range: sorted, deduplicated.
    pub active: Option<Columns>,
}

/// A consistent read view of some series of a tenant over a time range.
#[derive(Debug)]
pub struct Snapshot {
    seq: u64,
    range: TimeRange,
    pub(crate) series: Vec<SnapSeries>,
    /// Oldest first.
    pub(crate) frozen: Vec<Arc<FrozenMemtable>>,
    /// Oldest first.
    pub(crate) segments: Arc<Vec<Arc<Segment>>>,
}

impl Snapshot {
    /// The sequence number of the last write the snapshot includes: it
    /// holds every write of the tenant with a `seq` up to this one, and no
    /// other.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The time range the snapshot reads.
    pub fn range(&self) -> TimeRange {
        self.range
    }

    /// Number of selected series.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// True when no series is selected.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// The selected series' keys, in key order.
    pub fn keys(&self) -> impl Iterator<Item = &SeriesKey> {
        self.series.iter().map(|s| s.key.as_ref())
    }
}

impl Tenant {
    /// Takes a snapshot of the series matching `selector` over `range`
    /// (see the module invariants).
    pub fn snapshot(&self, selector: &Selector, range: TimeRange) -> Snapshot {
        let (mut snap, unsorted) = {
            let st = self.inner.read();
            let ids = st.catalog.select_ordered(selector);
            let mut unsorted = Vec::new();
            let mut series = Vec::with_capacity(ids.len());
            for id in ids {
                let Some(e) = st.catalog.get(id) else {
                    continue;
                };
                let copy = st.active.copy_in_range(id, range.first(), range.last());
                if let Some((_, false)) = &copy {
                    unsorted.push(series.len());
                }
                series.push(SnapSeries {
                    id,
                    key: Arc::clone(&e.key),
                    text: Arc::clone(&e.text),
                    value_type: e.value_type,
                    active: copy.map(|(c, _)| c),
                });
            }
            let snap = Snapshot {
                seq: st.last_seq,
                range,
                series,
                frozen: st.frozen.clone(),
                segments: Arc::clone(&st.segments),
            };
            (snap, unsorted)
        };
        for i in unsorted {
            if let Some(c) = snap.series.get_mut(i).and_then(|s| s.active.as_mut()) {
                c.sort_dedup_last_wins();
            }
        }
        snap
    }
}

impl Tenant {
    /// Takes a snapshot of the series matching `selector` over `range` as of
    /// the pinned snapshot `name` (invariant 4): the same answer at any later
    /// time, whatever was written, flushed or reopened since.
    pub fn pinned_snapshot(
        &self,
        name: &str,
        selector: &Selector,
        range: TimeRange,
    ) -> Result<Snapshot> {
        let st = self.inner.read();
        let pin = st.manifest.pins.iter().find(|p| p.name == name);
        let Some(pin) = pin else {
            return Err(self.pin_error(name, false));
        };
        let segments: Vec<Arc<Segment>> = st
            .segments
            .iter()
            .filter(|s| pin.segment_ids.binary_search(&s.id).is_ok())
            .cloned()
            .collect();
        let mut series = Vec::new();
        for id in st.catalog.select_ordered(selector) {
            let Some(e) = st.catalog.get(id) else {
                continue;
            };
            if !segments.iter().any(|s| s.find(&e.key).is_some()) {
                continue;
            }
            series.push(SnapSeries {
                id,
                key: Arc::clone(&e.key),
                text: Arc::clone(&e.text),
                value_type: e.value_type,
                active: None,
            });
        }
        Ok(Snapshot {
            seq: pin.seq,
            range,
            series,
            frozen: Vec::new(),
            segments: Arc::new(segments),
        })
    }
}
