//! The sources of one series in a snapshot, and the one way to read them.
//!
//! Invariants:
//! 1. A series' sources are the blocks of every segment that intersect the
//!    range (found by binary search on each series' sorted, disjoint block
//!    list), the in-range part of each frozen memtable and the active copy;
//!    each source alone is sorted and free of duplicates.
//! 2. Sources are ordered by their first in-range timestamp and cut into
//!    runs whose in-range spans overlap (transitively). A run of one source
//!    is read in place: no copy, no sort. Only a run of several is merged:
//!    its points concatenated oldest source first (segments by age, then
//!    frozen memtables, then the active one) and resolved by a stable sort
//!    that keeps the last of equal timestamps: last write wins.
//! 3. A visit hands out runs in time order; across the whole visit the
//!    points are strictly increasing and all inside the range.
//! 4. A block inside the range that is alone in its run is offered to the
//!    visitor before it is decoded ([`Visitor::whole_block`]), so aggregates
//!    can answer it from its statistics; a visitor that only appends points
//!    ([`Visitor::direct`], scans) has it decoded straight into its columns. Nothing else overlaps it, and there
//!    are no deletions (tombstones do not exist yet; when they do, a block
//!    they touch must not be offered).
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::snapshot::{SnapSeries, Snapshot};
use super::TimeRange;
use crate::codec::lossy::Lossy;
use crate::error::Result;
use crate::model::{Columns, ValueType};
use crate::segment::{BlockBuf, BlockMeta, Segment, SegmentSeries, LANE_STATS_VERSION};

/// Points handed to a visitor: sorted, in range, qualities when stored.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Points<'a> {
    pub ts: &'a [i64],
    pub values: &'a [u64],
    pub quality: Option<&'a [Option<u8>]>,
}

/// What reads a series.
pub(crate) trait Visitor {
    /// A block wholly inside the range that overlaps no other source.
    /// Returns true when it was answered from `meta` (it is then not
    /// decoded); `lane_stats` tells whether its statistics were computed
    /// by the query kernels (segment v3).
    fn whole_block(&mut self, _meta: &BlockMeta, _lane_stats: bool) -> bool {
        false
    }

    /// The next points, after every point handed out before.
    fn points(&mut self, p: Points<'_>) -> Result<()>;

    /// The visitor's own output columns and the index the next point goes
    /// to, when all it does is store points: a block wholly inside the range
    /// and alone in its run is then decoded straight into them (and the index
    /// advanced) instead of being handed to `points`.
    fn direct(&mut self) -> Option<(&mut Columns, &mut usize)> {
        None
    }
}

/// Reusable buffers of a reader (one per thread), and what it read.
#[derive(Default)]
pub(crate) struct ReadBufs {
    block: BlockBuf,
    merged: Columns,
    pub stats: ReadStats,
}

/// What a query read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Segment blocks decoded.
    pub blocks_decoded: u64,
    /// Whole blocks answered from their statistics, not decoded.
    pub blocks_from_stats: u64,
}

impl std::ops::AddAssign for ReadStats {
    fn add_assign(&mut self, o: ReadStats) {
        self.blocks_decoded += o.blocks_decoded;
        self.blocks_from_stats += o.blocks_from_stats;
    }
}

fn is_block(p: &Placed<'_>) -> bool {
    matches!(p.src, Source::Block { .. })
}

enum Source<'a> {
    Block {
        seg: &'a Segment,
        series: &'a SegmentSeries,
        meta: &'a BlockMeta,
    },
    Mem {
        cols: &'a Columns,
        start: usize,
        end: usize,
    },
}

struct Placed<'a> {
    /// In-range time span.
    first: i64,
    last: i64,
    /// Higher is newer.
    age: usize,
    src: Source<'a>,
}

impl Placed<'_> {
    /// Points of the source (a block's whole count, even when clipped).
    fn points(&self) -> usize {
        match self.src {
            Source::Block { meta, .. } => meta.count as usize,
            Source::Mem { start, end, .. } => end - start,
        }
    }
}

/// The sources of one series of a snapshot.
pub(crate) struct SeriesSources<'a> {
    placed: Vec<Placed<'a>>,
    range: TimeRange,
    value_type: ValueType,
}

impl<'a> SeriesSources<'a> {
    /// Collects and orders the sources of `s` in `range` (inside the
    /// snapshot's range).
    pub fn new(snap: &'a Snapshot, s: &'a SnapSeries, range: TimeRange) -> Self {
        let mut placed = Vec::new();
        for (age, seg) in snap.segments.iter().enumerate() {
            let Some(series) = seg.find(&s.key) else {
                continue;
            };
            // Two probes rule out a segment the range misses, before a
            // binary search that would walk a cold block index.
            let (Some(head), Some(tail)) = (series.blocks.first(), series.blocks.last()) else {
                continue;
            };
            if head.ts_min > range.last() || tail.ts_max < range.first() {
                continue;
            }
            let start = series.blocks.partition_point(|b| b.ts_max < range.first());
            let blocks = series.blocks.get(start..).unwrap_or_default();
            for meta in blocks.iter().take_while(|b| b.ts_min <= range.last()) {
                placed.push(Placed {
                    first: meta.ts_min.max(range.first()),
                    last: meta.ts_max.min(range.last()),
                    age,
                    src: Source::Block { seg, series, meta },
                });
            }
        }
        let mems = snap.frozen.iter().map(|f| f.series_cols(s.id));
        for (i, cols) in mems.chain([s.active.as_ref()]).enumerate() {
            let Some(cols) = cols else { continue };
            let (start, end) = range.slice_of(&cols.ts);
            let span = (
                cols.ts.get(start),
                end.checked_sub(1).and_then(|e| cols.ts.get(e)),
            );
            if let (Some(&first), Some(&last)) = span {
                let age = snap.segments.len() + i;
                let src = Source::Mem { cols, start, end };
                placed.push(Placed {
                    first,
                    last,
                    age,
                    src,
                });
            }
        }
        placed.sort_by_key(|p| (p.first, p.age));
        SeriesSources {
            placed,
            range,
            value_type: s.value_type,
        }
    }

    /// Each source's in-range span and (at most) its number of points.
    pub fn chunks(&self) -> impl Iterator<Item = (i64, i64, usize)> + '_ {
        self.placed.iter().map(|p| (p.first, p.last, p.points()))
    }

    /// The widest lossy setting among the segments read.
    pub fn lossy(&self) -> Option<Lossy> {
        let mut widest: Option<Lossy> = None;
        for p in &self.placed {
            if let Source::Block { series, .. } = p.src {
                if let Some(l) = series.lossy {
                    widest = match widest {
                        Some(w) if w.bound() >= l.bound() => Some(w),
                        _ => Some(l),
                    };
                }
            }
        }
        widest
    }

    /// At least as many points as a visit hands out.
    pub fn points_upper_bound(&self) -> usize {
        self.placed.iter().map(Placed::points).sum()
    }

    /// Hands every point of the series in the range to `v`, run by run.
    pub fn visit(&self, bufs: &mut ReadBufs, v: &mut impl Visitor) -> Result<()> {
        let mut rest = self.placed.as_slice();
        if let Some(Source::Block { seg, meta, .. }) = rest.get(1).map(|p| &p.src) {
            seg.prefetch_block(meta);
        }
        while let Some(head) = rest.first() {
            let mut end = head.last;
            let mut n = 1;
            while let Some(next) = rest.get(n).filter(|p| p.first <= end) {
                end = end.max(next.last);
                n += 1;
            }
            let (run, tail) = rest.split_at(n);
            rest = tail;
            // Start loading what the next runs read while this one decodes:
            // the block after next, and the shared timestamps of the next
            // (whose header was loaded the same way one run ago).
            if let Some(Source::Block { seg, meta, .. }) = rest.get(1).map(|p| &p.src) {
                seg.prefetch_block(meta);
            }
            if let Some(Source::Block { seg, meta, .. }) = rest.first().map(|p| &p.src) {
                seg.prefetch_shared_ts(meta);
            }
            match run {
                [one] => self.visit_one(one, bufs, v)?,
                _ => self.visit_merged(run, bufs, v)?,
            }
        }
        Ok(())
    }

    fn visit_one(&self, p: &Placed<'_>, bufs: &mut ReadBufs, v: &mut impl Visitor) -> Result<()> {
        if let Source::Block { seg, series, meta } = p.src {
            let inside = self.range.covers(meta.ts_min, meta.ts_max);
            let lane_stats = seg.version() >= LANE_STATS_VERSION;
            if inside && v.whole_block(meta, lane_stats) {
                bufs.stats.blocks_from_stats += 1;
                return Ok(());
            }
            bufs.stats.blocks_decoded += 1;
            if let Some((out, at)) = v.direct().filter(|_| inside) {
                *at += seg.decode_block_at(series, meta, out, *at, &mut bufs.block)?;
                return Ok(());
            }
        }
        self.read(p, &mut bufs.block, |pts| v.points(pts))
    }

    fn visit_merged(
        &self,
        run: &[Placed<'_>],
        bufs: &mut ReadBufs,
        v: &mut impl Visitor,
    ) -> Result<()> {
        bufs.stats.blocks_decoded += run.iter().filter(|p| is_block(p)).count() as u64;
        let mut order: Vec<&Placed<'_>> = run.iter().collect();
        order.sort_by_key(|p| p.age);
        let merged = &mut bufs.merged;
        merged.ts.clear();
        merged.values.clear();
        merged.quality = None;
        for p in order {
            self.read(p, &mut bufs.block, |pts| {
                append(merged, pts);
                Ok(())
            })?;
        }
        merged.sort_dedup_last_wins();
        v.points(Points {
            ts: &merged.ts,
            values: &merged.values,
            quality: merged.quality.as_deref(),
        })
    }

    /// Reads one source's in-range points.
    fn read(
        &self,
        p: &Placed<'_>,
        buf: &mut BlockBuf,
        mut f: impl FnMut(Points<'_>) -> Result<()>,
    ) -> Result<()> {
        match p.src {
            Source::Block { seg, series, meta } => {
                debug_assert_eq!(series.value_type, self.value_type);
                seg.decode_block_into(series, meta, buf)?;
                let (a, b) = self.range.slice_of(buf.ts());
                let quality = buf.quality.0.get(a..b).filter(|_| buf.has_quality);
                f(Points {
                    ts: buf.ts().get(a..b).unwrap_or_default(),
                    values: buf.values().get(a..b).unwrap_or_default(),
                    quality,
                })
            }
            Source::Mem { cols, start, end } => f(Points {
                ts: cols.ts.get(start..end).unwrap_or_default(),
                values: cols.values.get(start..end).unwrap_or_default(),
                quality: cols.quality.as_ref().and_then(|q| q.get(start..end)),
            }),
        }
    }
}

/// Appends points to columns (qualities as [`Columns`] keeps them).
pub(crate) fn append(out: &mut Columns, p: Points<'_>) {
    let n0 = out.len();
    let n = p.ts.len().min(p.values.len());
    out.ts.extend_from_slice(p.ts.get(..n).unwrap_or_default());
    out.values
        .extend_from_slice(p.values.get(..n).unwrap_or_default());
    match (p.quality, &mut out.quality) {
        (Some(q), Some(oq)) => oq.extend(q.iter().copied().chain(std::iter::repeat(None)).take(n)),
        (Some(q), None) => {
            let mut oq = vec![None; n0];
            oq.extend(q.iter().copied().chain(std::iter::repeat(None)).take(n));
            out.quality = Some(oq);
        }
        (None, Some(oq)) => oq.resize(n0 + n, None),
        (None, None) => {}
    }
}
