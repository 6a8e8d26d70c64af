//! Downsampling: [`Tenant::downsample`] runs a [`DownsampleRequest`] over
//! one snapshot and yields its windows group by group, in bounded pieces
//! ([`WindowRows`]); `arrow.rs` turns them into `RecordBatch`es.
//!
//! Semantics (CLI.md `downsample`):
//! * Window k is `[origin + k·every, origin + (k+1)·every)`; only points in
//!   the request's `[from, to)` count. Rows are ordered by series key (or
//!   group), then window start.
//! * `count` (u64), `sum`, `mean` (f64; NaN and ±inf propagate), `min`/`max`
//!   (NaN ignored unless every value is NaN; -0.0 < +0.0), `first`/`last`
//!   (the values at the earliest/latest timestamp), `stddev` (sample, n − 1,
//!   null below two points; per-slice two-pass mean and M2 merged by Chan's
//!   formula), `twa` (each value holds until the next point in the window,
//!   the last one until the window's end clamped to `to`:
//!   Σ vᵢ·(tᵢ₊₁ − tᵢ) / (t_end − t₀); a lone point gives its value).
//! * Types: min/max/first/last keep the series' type when every selected
//!   series has the same one, else f64; sum/mean/stddev/twa are f64; bools
//!   count as 0 and 1 (mean = share of true, twa = share of time true).
//! * `--by`: a group's window aggregates every point of its series in the
//!   window (twa: Σ of the series' areas over Σ of their spans); on equal
//!   timestamps `first` takes the series with the smallest key, `last` the
//!   largest.
//! * Fill: see `fill.rs` (only empty windows are filled; their count is 0).
//!
//! ```
//! use historian::query::{Agg, DownsampleRequest, Fill};
//! use historian::{vfs::SimFs, Durability, Engine, Options, Selector, SeriesKey, Value, WriteBatch};
//!
//! # fn main() -> historian::Result<()> {
//! let opts = Options::default().with_vfs(std::sync::Arc::new(SimFs::new()))
//!     .with_durability(Durability::None);
//! let acme = Engine::open("db", opts)?.tenant("acme")?;
//! let mut batch = WriteBatch::new();
//! for (machine, v) in [("press-1", 70.0), ("press-2", 74.0)] {
//!     let key = SeriesKey::new("temperature", [("machine", machine)])?;
//!     for s in [0, 30, 150] {
//!         batch.push_value(&key, s * 1_000_000_000, Value::F64(v + s as f64 / 30.0))?;
//!     }
//! }
//! acme.write(&batch)?;
//! let (from_ns, to_ns) = (0, 180_000_000_000);
//! let req = DownsampleRequest::new(Selector::parse("temperature")?, 60_000_000_000,
//!                                  &[Agg::Mean, Agg::Min, Agg::Max, Agg::Count])
//!     .with_range(Some(from_ns), Some(to_ns))
//!     .with_by(["machine"])
//!     .with_fill(Fill::Linear)
//!     .with_max_gap(Some(600_000_000_000))
//!     .with_threads(1);
//! let mut rows = 0;
//! for batch in acme.downsample(&req)?.record_batches() {
//!     let batch = batch?; // measurement, machine, window_start, mean, min, max, count
//!     assert_eq!(batch.num_columns(), 7);
//!     rows += batch.num_rows();
//! }
//! assert_eq!(rows, 6); // 3 windows per machine, the middle one filled
//! # Ok(())
//! # }
//! ```
//!
//! Invariants:
//! 1. The whole query reads one snapshot ([`Downsample::seq`]).
//! 2. Memory is bounded by the tasks in flight (each one series over one
//!    span of about `plan::SPAN_POINTS` points), one span's rows of one
//!    group, spare row vectors (per worker, at most its share of the
//!    largest batch of tasks, plus one), and one output piece of at most
//!    `batch_rows` rows; runs of overlapping sources are the exception
//!    (merged whole, see `source.rs`).
//! 3. The answer does not depend on the thread count or on push-down.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::Arc;

use super::fill::{Cells, ColumnKind, Filler, MAX_AGGS};
use super::group::GroupLabel;
use super::parallel::{map_ordered, thread_count};
use super::partial::Row;
use super::plan::{Plan, Task, TaskScratch, SPAN_POINTS};
use super::request::{Agg, DownsampleRequest};
use super::source::ReadStats;
use super::window::Windows;
use crate::engine::Tenant;
use crate::error::Result;
use crate::model::ValueType;

/// Rows allocated up front for an output piece.
const PIECE_CAPACITY: usize = 8192;

/// One aggregate's values for consecutive windows.
#[derive(Clone, Debug, PartialEq)]
pub enum AggColumn {
    Count(Vec<u64>),
    Float64(Vec<Option<f64>>),
    Int64(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
}

impl AggColumn {
    fn new(kind: ColumnKind, cap: usize) -> Self {
        match kind {
            ColumnKind::Count => AggColumn::Count(Vec::with_capacity(cap)),
            ColumnKind::Value(ValueType::F64) => AggColumn::Float64(Vec::with_capacity(cap)),
            ColumnKind::Value(ValueType::I64) => AggColumn::Int64(Vec::with_capacity(cap)),
            ColumnKind::Value(ValueType::Bool) => AggColumn::Bool(Vec::with_capacity(cap)),
        }
    }

    fn push(&mut self, cell: Option<u64>) {
        match self {
            AggColumn::Count(v) => v.push(cell.unwrap_or(0)),
            AggColumn::Float64(v) => v.push(cell.map(f64::from_bits)),
            AggColumn::Int64(v) => v.push(cell.map(|b| b as i64)),
            AggColumn::Bool(v) => v.push(cell.map(|b| b != 0)),
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            AggColumn::Count(v) => v.len(),
            AggColumn::Float64(v) => v.len(),
            AggColumn::Int64(v) => v.len(),
            AggColumn::Bool(v) => v.len(),
        }
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Consecutive windows of one series or group: one value per window in each
/// column, columns in request order. A group with many windows comes as
/// several pieces in a row.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowRows {
    pub group: Arc<GroupLabel>,
    /// Window starts (ns; clamped to `i64::MIN` for a window that begins
    /// before it).
    pub window_start: Vec<i64>,
    pub columns: Vec<AggColumn>,
}

impl WindowRows {
    /// Appends one window.
    fn push(&mut self, start: i64, cells: &[Option<u64>]) {
        self.window_start.push(start);
        for (col, &cell) in self.columns.iter_mut().zip(cells) {
            col.push(cell);
        }
    }

    /// Appends closed windows column by column (no fill).
    fn extend_rows(&mut self, rows: &[Row], aggs: &[Agg], w: &Windows) {
        self.window_start
            .extend(rows.iter().map(|r| w.start_i64(r.k)));
        for (col, &a) in self.columns.iter_mut().zip(aggs) {
            match col {
                AggColumn::Count(v) => v.extend(rows.iter().map(|r| r.count)),
                AggColumn::Float64(v) => extend_cells(v, rows, a, f64::from_bits),
                AggColumn::Int64(v) => extend_cells(v, rows, a, |b| b as i64),
                AggColumn::Bool(v) => extend_cells(v, rows, a, |b| b != 0),
            }
        }
    }

    /// Number of windows.
    pub fn len(&self) -> usize {
        self.window_start.len()
    }

    /// True when there are no windows.
    pub fn is_empty(&self) -> bool {
        self.window_start.is_empty()
    }
}

/// Appends aggregate `a` of `rows` to `v`, one loop per aggregate (the
/// choice of aggregate is made once, not per row).
fn extend_cells<T>(v: &mut Vec<Option<T>>, rows: &[Row], a: Agg, conv: impl Fn(u64) -> T) {
    macro_rules! each {
        ($($agg:ident),*) => {
            match a {
                $(Agg::$agg => v.extend(rows.iter().map(|r| r.cell(Agg::$agg).map(&conv))),)*
            }
        };
    }
    each!(Count, Sum, Mean, Min, Max, First, Last, Stddev, Twa)
}

/// The group being output.
struct Current {
    group: usize,
    next_span: usize,
    filler: Filler,
    /// The current span's rows, and the next one to output.
    rows: Vec<Row>,
    next_row: usize,
    out: WindowRows,
}

/// A running downsample: an iterator of [`WindowRows`] pieces.
pub struct Downsample {
    plan: Plan,
    by: Vec<String>,
    batch_rows: usize,
    fill: super::Fill,
    max_gap: Option<i64>,
    max_windows: u64,
    bufs: Vec<TaskScratch>,
    /// Spare row vectors kept per worker (see `recycle`).
    spare_rows: usize,
    next_task: usize,
    /// Results of tasks run but not consumed, in task order.
    ready: VecDeque<(Task, Vec<Row>)>,
    next_group: usize,
    current: Option<Current>,
    failed: bool,
}

impl Tenant {
    /// Runs a downsample on a snapshot taken now (see the module docs).
    pub fn downsample(&self, req: &DownsampleRequest) -> Result<Downsample> {
        let range = req.validate()?;
        let snap = self.snapshot(&req.selector, range);
        let plan = Plan::new(snap, req, range);
        Filler::check_constant(req.fill, &plan.aggs, &plan.columns)?;
        let threads = thread_count(req.threads);
        Ok(Downsample {
            plan,
            by: req.by.clone(),
            batch_rows: req.batch_rows,
            fill: req.fill,
            max_gap: req.max_gap,
            max_windows: req.max_windows,
            bufs: (0..threads).map(|_| TaskScratch::default()).collect(),
            spare_rows: 0,
            next_task: 0,
            ready: VecDeque::new(),
            next_group: 0,
            current: None,
            failed: false,
        })
    }
}

impl Downsample {
    /// The sequence number of the snapshot the query reads.
    pub fn seq(&self) -> u64 {
        self.plan.snap.seq()
    }

    /// The output type of min/max/first/last.
    pub fn value_kind(&self) -> ValueType {
        self.plan.kind
    }

    /// The grouping tags (empty: one row set per series).
    pub fn by(&self) -> &[String] {
        &self.by
    }

    /// The aggregates, in column order.
    pub fn aggs(&self) -> &[super::Agg] {
        &self.plan.aggs
    }

    /// What the query has read so far (blocks decoded, blocks answered from
    /// statistics).
    pub fn read_stats(&self) -> ReadStats {
        let mut total = ReadStats::default();
        for b in &self.bufs {
            total += b.read.stats;
        }
        total
    }

    /// Most rows per piece and per Arrow batch.
    pub fn batch_rows(&self) -> usize {
        self.batch_rows
    }

    /// The rows of the next task, which must be member `m` of span `span`
    /// of group `g`; computes a batch of tasks when none is ready.
    fn next_rows(&mut self, g: usize, span: usize) -> Result<Vec<Row>> {
        if self.ready.is_empty() {
            let threads = self.bufs.len();
            let budget = SPAN_POINTS * 2 * threads;
            let rest = self.plan.tasks.get(self.next_task..).unwrap_or_default();
            let (mut n, mut weight) = (0, 0);
            while let Some(t) = rest.get(n).filter(|_| n == 0 || weight < budget) {
                weight += t.weight;
                n += 1;
            }
            let batch = rest.get(..n).unwrap_or_default();
            // Small batches are not worth a thread.
            let use_threads = if weight < SPAN_POINTS / 4 { 1 } else { threads };
            let plan = &self.plan;
            let scratch = self.bufs.get_mut(..use_threads).unwrap_or_default();
            let results = map_ordered(batch, scratch, |t, b| Ok((*t, plan.run(t, b)?)))?;
            // Enough spares that the next batch like this one allocates no
            // rows (fresh ones fault in their pages, freed ones are unmapped).
            self.spare_rows = self.spare_rows.max(n.div_ceil(use_threads) + 1);
            self.next_task += n;
            self.ready.extend(results);
        }
        let (task, rows) = self.ready.pop_front().unzip();
        debug_assert!(task.is_some_and(|t| (t.group, t.span) == (g, span)));
        Ok(rows.unwrap_or_default())
    }

    /// Hands a consumed row vector back to the emptiest worker's spares,
    /// keeping at most one batch's worth per worker.
    fn recycle(&mut self, rows: Vec<Row>) {
        let limit = self.spare_rows;
        let spare = self.bufs.iter_mut().min_by_key(|b| b.spare_rows.len());
        if let Some(b) = spare.filter(|b| b.spare_rows.len() < limit) {
            b.spare_rows.push(rows);
        }
    }

    /// The rows of the next span of group `g`: its members' rows combined in
    /// key order.
    fn span_rows(&mut self, g: usize, span: usize) -> Result<Vec<Row>> {
        let members = self.plan.groups.get(g).map_or(0, |gr| gr.members.len());
        let mut rows = self.next_rows(g, span)?;
        for _ in 1..members {
            let next = self.next_rows(g, span)?;
            if rows.is_empty() {
                self.recycle(std::mem::replace(&mut rows, next));
                continue;
            }
            let spare = self.bufs.iter_mut().max_by_key(|b| b.spare_rows.len());
            let out = spare.and_then(|b| b.spare_rows.pop()).unwrap_or_default();
            let merged = merge(&rows, &next, out, &self.plan);
            self.recycle(std::mem::replace(&mut rows, merged));
            self.recycle(next);
        }
        Ok(rows)
    }

    fn start_group(&mut self, g: usize) -> Option<Current> {
        let group = self.plan.groups.get(g)?;
        let cap = self.batch_rows.min(PIECE_CAPACITY);
        let columns = self
            .plan
            .columns
            .iter()
            .map(|&k| AggColumn::new(k, cap))
            .collect();
        let every = self.plan.windows.every();
        let filler = Filler::new(self.fill, self.max_gap, every, self.plan.columns.clone())
            .with_max_windows(self.max_windows);
        Some(Current {
            group: g,
            next_span: 0,
            filler,
            rows: Vec::new(),
            next_row: 0,
            out: WindowRows {
                group: Arc::clone(&group.label),
                window_start: Vec::with_capacity(cap),
                columns,
            },
        })
    }

    /// Produces the next piece (see `Iterator::next`).
    fn step(&mut self) -> Result<Option<WindowRows>> {
        loop {
            let Some(cur) = self.current.as_mut() else {
                if self.next_group >= self.plan.groups.len() {
                    return Ok(None);
                }
                self.current = self.start_group(self.next_group);
                self.next_group += 1;
                continue;
            };
            let room = self.batch_rows.saturating_sub(cur.out.len());
            if room == 0 {
                let cap = self.batch_rows.min(PIECE_CAPACITY);
                return Ok(Some(take_rows(&mut cur.out, cap)));
            }
            let (w, aggs) = (&self.plan.windows, self.plan.aggs.as_slice());
            let out = &mut cur.out;
            if self.fill == super::Fill::None {
                // No fill: rows go straight to the output.
                let rows = cur.rows.get(cur.next_row..).unwrap_or_default();
                let n = rows.len().min(room);
                out.extend_rows(rows.get(..n).unwrap_or_default(), aggs, w);
                cur.next_row += n;
                if n > 0 {
                    continue;
                }
            } else {
                let emitted = cur
                    .filler
                    .drain(room, |c| out.push(w.start_i64(c.k), &c.cells));
                if emitted > 0 {
                    continue;
                }
                if let Some(row) = cur.rows.get(cur.next_row) {
                    cur.next_row += 1;
                    let label = &cur.out.group;
                    cur.filler
                        .push(cells(row, aggs), || label.describe(&self.by))?;
                    continue;
                }
            }
            let g = cur.group;
            if cur.next_span < self.plan.spans.get(g).copied().unwrap_or(0) {
                let span = cur.next_span;
                cur.next_span += 1;
                let rows = self.span_rows(g, span)?;
                if let Some(cur) = self.current.as_mut() {
                    let old = std::mem::replace(&mut cur.rows, rows);
                    cur.next_row = 0;
                    self.recycle(old);
                }
                continue;
            }
            let done = self.current.take().map(|c| c.out);
            if let Some(out) = done.filter(|o| !o.is_empty()) {
                return Ok(Some(out));
            }
        }
    }
}

/// The output cells of a row.
fn cells(r: &Row, aggs: &[super::Agg]) -> Cells {
    let mut cells = [None; MAX_AGGS];
    for (c, &a) in cells.iter_mut().zip(aggs) {
        *c = r.cell(a);
    }
    Cells {
        k: r.k,
        count: r.count,
        cells,
    }
}

/// Moves the rows out, leaving an empty piece of the same group.
fn take_rows(out: &mut WindowRows, cap: usize) -> WindowRows {
    let columns = out
        .columns
        .iter()
        .map(|c| match c {
            AggColumn::Count(_) => AggColumn::Count(Vec::with_capacity(cap)),
            AggColumn::Float64(_) => AggColumn::Float64(Vec::with_capacity(cap)),
            AggColumn::Int64(_) => AggColumn::Int64(Vec::with_capacity(cap)),
            AggColumn::Bool(_) => AggColumn::Bool(Vec::with_capacity(cap)),
        })
        .collect();
    let empty = WindowRows {
        group: Arc::clone(&out.group),
        window_start: Vec::with_capacity(cap),
        columns,
    };
    std::mem::replace(out, empty)
}

/// Merges the rows `b` of a later member (key order) into a group's rows
/// `a`, into `out` (a spare vector, cleared first).
fn merge(a: &[Row], b: &[Row], mut out: Vec<Row>, plan: &Plan) -> Vec<Row> {
    out.clear();
    out.reserve(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    loop {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.k == y.k => {
                let mut x = *x;
                x.combine(y, plan.need, plan.kind);
                out.push(x);
                (i, j) = (i + 1, j + 1);
            }
            (Some(x), Some(y)) if x.k < y.k => {
                out.push(*x);
                i += 1;
            }
            (Some(x), None) => {
                out.push(*x);
                i += 1;
            }
            (_, Some(y)) => {
                out.push(*y);
                j += 1;
            }
            (None, None) => return out,
        }
    }
}

impl Iterator for Downsample {
    type Item = Result<WindowRows>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.step() {
            Ok(Some(rows)) => Some(Ok(rows)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// A running query can move to another thread (an output writer, a server).
const _: fn() = || {
    fn send<T: Send>() {}
    send::<Downsample>();
    send::<super::ScanIter>();
};
