//! The plan of a downsample: groups, the time spans each group is cut into,
//! and the tasks (one series in one span) that worker threads run.
//!
//! Invariants:
//! 1. Spans are whole windows: no window crosses a span boundary, so a task
//!    produces complete windows, and every window is folded from exactly the
//!    slices a single pass over the whole range would fold (sources split at
//!    a span boundary only where no window lies across it). The answer is
//!    therefore the same for any span layout and any thread count.
//! 2. Tasks are ordered by group, then span, then member (key order): the
//!    consumer combines a span's member rows in that order.
//! 3. Spans are cut where the data is (from block and memtable metadata,
//!    not the calendar): each holds about [`SPAN_POINTS`] points or
//!    [`SPAN_WINDOWS`] non-empty windows of its group, so tasks are small
//!    enough to spread over threads, the rows in flight stay bounded, and a
//!    gap in time costs no task. Together the spans cover the whole range.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::fill::ColumnKind;
use super::group::{group_series, Group};
use super::partial::{Need, Row};
use super::request::{Agg, DownsampleRequest};
use super::snapshot::Snapshot;
use super::source::{Points, ReadBufs, SeriesSources, Visitor};
use super::window::{clamp_i64, split_before, Windows};
use super::TimeRange;
use crate::codec::isa::vectorized;
use crate::error::Result;
use crate::model::ValueType;
use crate::segment::BlockMeta;

/// Points of a group per span, about.
pub(crate) const SPAN_POINTS: usize = 1 << 18;
/// Non-empty windows of a series per span, about: 2,048 rows of 128 bytes
/// stay in cache (measured best of 512 to 8,192 on `benches/fill.rs` and
/// `benches/downsample.rs`).
const SPAN_WINDOWS: usize = 1 << 11;

/// A worker's reusable buffers: block buffers, and row vectors handed back
/// by the consumer (so tasks do not fault in fresh pages for their rows).
#[derive(Default)]
pub(crate) struct TaskScratch {
    pub read: ReadBufs,
    pub spare_rows: Vec<Vec<Row>>,
}

/// One series in one span.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Task {
    pub group: usize,
    pub span: usize,
    /// Index into the snapshot's series.
    pub member: usize,
    pub range: TimeRange,
    /// Points, about (for batching tasks).
    pub weight: usize,
    /// Windows in the span, at most (for sizing its rows).
    pub windows: usize,
}

/// Everything a downsample needs, shared by the worker threads.
pub(crate) struct Plan {
    pub snap: Snapshot,
    pub range: TimeRange,
    /// Where twa stops holding the last value of the last window: the
    /// request's `to`, or nothing when unbounded (not `i64::MAX + 1`).
    pub twa_end: i128,
    pub windows: Windows,
    pub aggs: Vec<Agg>,
    pub need: Need,
    /// Output type of min/max/first/last.
    pub kind: ValueType,
    pub columns: Vec<ColumnKind>,
    pub groups: Vec<Group>,
    /// Spans per group.
    pub spans: Vec<usize>,
    pub tasks: Vec<Task>,
    pub push_down: bool,
}

impl Plan {
    /// Plans `req` over `snap` (whose range is `range`).
    pub fn new(snap: Snapshot, req: &DownsampleRequest, range: TimeRange) -> Plan {
        let windows = Windows::new(req.origin, req.every);
        let kind = output_kind(&snap);
        let columns = req
            .aggs
            .iter()
            .map(|a| match a {
                Agg::Count => ColumnKind::Count,
                Agg::Min | Agg::Max | Agg::First | Agg::Last => ColumnKind::Value(kind),
                Agg::Sum | Agg::Mean | Agg::Stddev | Agg::Twa => ColumnKind::Value(ValueType::F64),
            })
            .collect();
        let groups = group_series(&snap.series, &req.by);
        let mut plan = Plan {
            range,
            twa_end: req.bounds.1.map_or(i128::MAX, i128::from),
            windows,
            aggs: req.aggs.clone(),
            need: Need::of(&req.aggs),
            kind,
            columns,
            spans: Vec::with_capacity(groups.len()),
            tasks: Vec::new(),
            push_down: req.push_down,
            groups,
            snap,
        };
        for g in 0..plan.groups.len() {
            plan.plan_group(g);
        }
        plan
    }

    /// Cuts group `g` into spans and appends its tasks.
    fn plan_group(&mut self, g: usize) {
        let Some(group) = self.groups.get(g) else {
            return;
        };
        // The in-range chunks (blocks, memtable parts) of every member.
        let mut chunks: Vec<(i64, i64, usize)> = Vec::new();
        for &m in &group.members {
            if let Some(s) = self.snap.series.get(m) {
                chunks.extend(SeriesSources::new(&self.snap, s, self.range).chunks());
            }
        }
        chunks.sort_unstable();
        let cuts = span_cuts(&self.windows, &chunks);
        let members = group.members.clone();
        let mut spans = 0;
        for (i, cut) in cuts.iter().enumerate() {
            let w = &self.windows;
            let first = match i {
                0 => self.range.first(),
                _ => clamp_i64(w.start(cut.k)).max(self.range.first()),
            };
            let last = match cuts.get(i + 1) {
                Some(next) => clamp_i64(w.start(next.k) - 1).min(self.range.last()),
                None => self.range.last(),
            };
            let Some(range) = TimeRange::inclusive(first, last) else {
                continue;
            };
            for &member in &members {
                let weight = cut.points / members.len() + 1;
                let (span, windows) = (spans, cut.windows);
                let task = Task {
                    group: g,
                    span,
                    member,
                    range,
                    weight,
                    windows,
                };
                self.tasks.push(task);
            }
            spans += 1;
        }
        self.spans.push(spans);
    }

    /// Runs one task: the closed windows of one series in one span.
    pub fn run(&self, task: &Task, scratch: &mut TaskScratch) -> Result<Vec<Row>> {
        let Some(s) = self.snap.series.get(task.member) else {
            return Ok(Vec::new());
        };
        let sources = SeriesSources::new(&self.snap, s, task.range);
        let mut v = WindowVisitor {
            plan: self,
            vt: s.value_type,
            open: false,
            bounds: (0, 0),
            last_split: 0,
            rows: scratch.spare_rows.pop().unwrap_or_default(),
        };
        v.rows.clear();
        // Rounded up, so recycled vectors fit the next task without growing.
        v.rows
            .reserve(task.windows.min(task.weight).next_power_of_two());
        sources.visit(&mut scratch.read, &mut v)?;
        v.close_open();
        Ok(v.rows)
    }
}

/// Where a span starts (window index) and what it holds, about.
#[derive(Clone, Copy, Debug)]
struct Cut {
    k: i128,
    points: usize,
    windows: usize,
}

/// Window-aligned span starts for chunks `(first, last, count)` sorted by
/// first timestamp: a new span starts at the window of the chunk that would
/// take the current one past [`SPAN_POINTS`] points or [`SPAN_WINDOWS`]
/// windows (so spans follow the data, not the calendar: gaps cost nothing).
fn span_cuts(w: &Windows, chunks: &[(i64, i64, usize)]) -> Vec<Cut> {
    let mut cuts: Vec<Cut> = Vec::new();
    for &(first, last, count) in chunks {
        let (k_first, k_last) = (w.index(first), w.index(last));
        let windows = usize::try_from(k_last - k_first + 1).map_or(count, |n| n.min(count));
        match cuts.last_mut() {
            Some(c) if c.points + count <= SPAN_POINTS && c.windows + windows <= SPAN_WINDOWS => {
                c.points += count;
                c.windows += windows;
            }
            Some(c) if k_first <= c.k => {
                c.points += count;
                c.windows += windows;
            }
            _ => cuts.push(Cut {
                k: k_first,
                points: count,
                windows,
            }),
        }
    }
    cuts
}

/// The type min/max/first/last are output in: the series' type when every
/// selected series has it, else f64.
fn output_kind(snap: &Snapshot) -> ValueType {
    let mut types = snap.series.iter().map(|s| s.value_type);
    match types.next() {
        Some(t) if types.all(|u| u == t) => t,
        _ => ValueType::F64,
    }
}

/// Folds one series' points into windows.
struct WindowVisitor<'p> {
    plan: &'p Plan,
    vt: ValueType,
    /// Whether the last row is an open window (filled in place).
    open: bool,
    /// `[start, end)` of the open window.
    bounds: (i128, i128),
    /// Points of the last window split off a slice (the next one's guess).
    last_split: usize,
    rows: Vec<Row>,
}

impl WindowVisitor<'_> {
    /// The open window's row.
    #[inline(always)]
    fn current(&mut self) -> Option<&mut Row> {
        self.rows.last_mut().filter(|_| self.open)
    }

    /// Makes `k` the open window, closing the previous one if it is not.
    #[inline(always)]
    fn window(&mut self, k: i128) {
        if self.current().is_some_and(|r| r.k == k) {
            return;
        }
        let next = self.current().is_some_and(|r| r.k + 1 == k);
        self.close_open();
        let w = &self.plan.windows;
        self.bounds = match next {
            true => (self.bounds.1, self.bounds.1 + w.every()),
            false => (w.start(k), w.end(k)),
        };
        self.rows.push(Row::open(k));
        self.open = true;
    }

    /// Closes the open window, if any.
    #[inline(always)]
    fn close_open(&mut self) {
        let (p, vt) = (self.plan, self.vt);
        if let Some(r) = self.current() {
            r.close(vt, p.kind, p.need, &p.windows, p.twa_end);
        }
        self.open = false;
    }

    /// The window holding `ts`.
    #[inline(always)]
    fn index(&self, ts: i64) -> i128 {
        let w = &self.plan.windows;
        match self.rows.last().filter(|_| self.open) {
            Some(r) => w.index_near(ts, r.k, self.bounds.0, self.bounds.1),
            None => w.index(ts),
        }
    }
}

impl Visitor for WindowVisitor<'_> {
    fn whole_block(&mut self, meta: &BlockMeta, lane_stats: bool) -> bool {
        let p = self.plan;
        let k = p.windows.index(meta.ts_min);
        if !p.push_down
            || p.windows.index(meta.ts_max) != k
            || !p.need.stats_usable(self.vt, meta, lane_stats)
        {
            return false;
        }
        self.window(k);
        let vt = self.vt;
        if let Some(r) = self.current() {
            r.add_stats(meta, vt);
        }
        true
    }

    fn points(&mut self, pts: Points<'_>) -> Result<()> {
        let v = self;
        vectorized!(v.fold(pts.ts, pts.values));
        Ok(())
    }
}

impl WindowVisitor<'_> {
    /// Folds sorted points into their windows (compiled for each
    /// instruction-set level, with the kernels inlined).
    #[inline(always)]
    fn fold(&mut self, mut ts: &[i64], mut vs: &[u64]) {
        let (need, vt) = (self.plan.need, self.vt);
        while let Some(&t0) = ts.first() {
            let k = self.index(t0);
            self.window(k);
            let n = split_before(ts, self.bounds.1, self.last_split);
            self.last_split = n;
            let (Some((a, rest)), Some((va, vrest))) =
                (ts.split_at_checked(n), vs.split_at_checked(n))
            else {
                break;
            };
            if let Some(r) = self.current() {
                r.add(a, va, vt, need);
            }
            (ts, vs) = (rest, vrest);
        }
    }
}
