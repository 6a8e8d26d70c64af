//! Raw range scans: every point of the selected series in a range, series
//! by series in key order.
//!
//! Invariants:
//! 1. A scan reads one [`Snapshot`]: later writes and flushes do not change
//!    what it returns.
//! 2. Points come from `source.rs`: blocks wholly inside the range decode
//!    straight into the output columns (no intermediate buffer), the blocks
//!    cut by the range's ends through a block buffer, trimmed; only sources
//!    that overlap in time are merged (last write wins); blocks outside the
//!    range are never read.
//! 3. Each series' output is allocated once, at an upper bound of its size,
//!    or not at all when the caller passes a buffer ([`ScanIter::next_into`]):
//!    a passed buffer is overwritten from index 0 and truncated at the end,
//!    never cleared and zeroed first, so a loop of scans into one buffer
//!    touches no fresh memory (`tests/query_scan_reuse.rs`).
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use super::snapshot::Snapshot;
use super::source::{Points, ReadBufs, SeriesSources, Visitor};
use super::TimeRange;
use crate::catalog::Selector;
use crate::codec::lossy::Lossy;
use crate::engine::Tenant;
use crate::error::Result;
use crate::model::{Columns, Point, SeriesKey, Value, ValueType};

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
        let c = &self.cols;
        let pairs = c.ts.iter().zip(&c.values).enumerate();
        pairs.map(|(i, (&ts, &bits))| Point {
            ts,
            value: Value::from_bits(self.value_type, bits),
            quality: c.quality_at(i),
        })
    }
}

/// Which series [`ScanIter::next_into`] read.
#[derive(Clone, Debug, PartialEq)]
pub struct ScannedSeries {
    pub key: Arc<SeriesKey>,
    pub value_type: ValueType,
    /// As [`SeriesData::lossy`].
    pub lossy: Option<Lossy>,
}

/// An iterator over the series of a scan, in key order; each item is read
/// when it is reached. Series without points in the range are skipped.
pub struct ScanIter {
    snap: Option<Snapshot>,
    next: usize,
    bufs: ReadBufs,
}

impl ScanIter {
    /// Reads the next series with points into `cols` (cleared first, its
    /// allocation reused: a loop of scans into one buffer touches no fresh
    /// memory). Returns the series, or None at the end.
    pub fn next_into(&mut self, cols: &mut Columns) -> Result<Option<ScannedSeries>> {
        let Some(snap) = self.snap.as_ref() else {
            return Ok(None);
        };
        while self.next < snap.series.len() {
            self.next += 1;
            if let Some(s) = read_series(snap, self.next - 1, &mut self.bufs, cols)? {
                return Ok(Some(s));
            }
        }
        Ok(None)
    }

    /// The snapshot's sequence number (see [`Snapshot::seq`]); 0 for an
    /// empty range.
    pub fn seq(&self) -> u64 {
        self.snap.as_ref().map_or(0, Snapshot::seq)
    }
}

/// Reads the series of one snapshot by their index in key order
/// ([`Snapshot::keys`]), into buffers it reuses: several readers of one
/// snapshot, one per thread, read different series at the same time.
pub struct SeriesReader<'a> {
    snap: &'a Snapshot,
    bufs: ReadBufs,
}

impl SeriesReader<'_> {
    /// Reads series `i` into `cols` as [`ScanIter::next_into`] does (same
    /// buffer reuse); None when it has no points in the range or `i` is
    /// past the last series.
    pub fn read_into(&mut self, i: usize, cols: &mut Columns) -> Result<Option<ScannedSeries>> {
        read_series(self.snap, i, &mut self.bufs, cols)
    }
}

/// Reads series `i` of `snap` into `cols` (invariant 3); None when it has
/// no points or there is no series `i`.
fn read_series(
    snap: &Snapshot,
    i: usize,
    bufs: &mut ReadBufs,
    cols: &mut Columns,
) -> Result<Option<ScannedSeries>> {
    let Some(s) = snap.series.get(i) else {
        return Ok(None);
    };
    let sources = SeriesSources::new(snap, s, snap.range());
    // The buffer is overwritten from index 0 and truncated after, so a
    // reused one is not cleared and zeroed again (Columns::write_at).
    cols.quality = None;
    let grow = sources.points_upper_bound().saturating_sub(cols.len());
    cols.ts.reserve(grow);
    cols.values.reserve(grow);
    let mut sink = Collect { cols, at: 0 };
    let read = sources.visit(bufs, &mut sink);
    let n = sink.at;
    cols.truncate(n);
    read?;
    Ok((!cols.is_empty()).then(|| ScannedSeries {
        key: Arc::clone(&s.key),
        value_type: s.value_type,
        lossy: sources.lossy(),
    }))
}

/// Stores a series' points into `cols` from index 0; `at` is the next index.
struct Collect<'a> {
    cols: &'a mut Columns,
    at: usize,
}

impl Visitor for Collect<'_> {
    fn points(&mut self, p: Points<'_>) -> Result<()> {
        self.cols.write_at(self.at, p.ts, p.values, p.quality);
        self.at += p.ts.len().min(p.values.len());
        Ok(())
    }

    fn direct(&mut self) -> Option<(&mut Columns, &mut usize)> {
        Some((&mut *self.cols, &mut self.at))
    }
}

impl Iterator for ScanIter {
    type Item = Result<SeriesData>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut cols = Columns::default();
        match self.next_into(&mut cols) {
            Ok(Some(s)) => Some(Ok(SeriesData {
                key: SeriesKey::clone(&s.key),
                value_type: s.value_type,
                cols,
                lossy: s.lossy,
            })),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

impl Snapshot {
    /// A reader of this snapshot's series by index (see [`SeriesReader`]).
    pub fn reader(&self) -> SeriesReader<'_> {
        SeriesReader {
            snap: self,
            bufs: ReadBufs::default(),
        }
    }

    /// Scans the snapshot's series over its range.
    pub fn scan(self) -> ScanIter {
        ScanIter {
            snap: Some(self),
            next: 0,
            bufs: ReadBufs::default(),
        }
    }
}

impl Tenant {
    /// Scans the series matching `selector` over `[from, to)`, lazily.
    pub fn scan(&self, selector: &Selector, from: i64, to: i64) -> ScanIter {
        match TimeRange::half_open(from, to) {
            Some(range) => self.snapshot(selector, range).scan(),
            None => ScanIter {
                snap: None,
                next: 0,
                bufs: ReadBufs::default(),
            },
        }
    }

    /// Scans the series matching `selector` over an inclusive range.
    pub fn scan_range(&self, selector: &Selector, range: TimeRange) -> ScanIter {
        self.snapshot(selector, range).scan()
    }

    /// Scans and collects every series.
    pub fn scan_all(&self, selector: &Selector, from: i64, to: i64) -> Result<Vec<SeriesData>> {
        self.scan(selector, from, to).collect()
    }
}
