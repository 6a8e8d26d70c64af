//! Reads a plan's series from one snapshot of a tenant and puts each
//! channel on the grid.
//!
//! Invariants:
//! 1. Every channel and the label series are read from ONE snapshot, taken
//!    with the plan's common selector over its read range: the set is
//!    consistent, and its [`ReadOut::seq`] is the snapshot's.
//! 2. Each channel selector (and the label selector) matches exactly one
//!    series of the snapshot, else `UnknownSeries` / `AmbiguousSelector`,
//!    reported before any point is read. Channel names are unique.
//! 3. Points are converted to f64 (`Value::as_f64`: i64 converted, bool 0/1);
//!    non-finite values (NaN, ±inf) are treated as absent readings.
//! 4. A series with no point in the read range gives an all-missing channel
//!    (or no label points); its value type is then unknown (None).
//! 5. With a pin, the snapshot is `Tenant::pinned_snapshot`: the same
//!    points whatever was written since, so the same dataset.
//! 6. One thread per core takes the next series index (an atomic counter),
//!    decodes that series into its own reused columns through its own
//!    [`crate::query::SeriesReader`] of the one snapshot, and resamples it:
//!    the threads decode at the same time, one decoded series per thread is
//!    in memory, and a long read touches fresh memory for the first series
//!    only. Only the bookkeeping (counts, progress, resolved types, label
//!    points) is under a lock. Each column is placed by its channel's index,
//!    so the result does not depend on which thread ran it or when.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use super::build::{Progress, ProgressFn};
use super::error::{DatasetError, Result};
use super::grid::{resample, GridColumn, Resample};
use super::spec::Interpolation;
use super::validate::{LabelSource, Method, Plan};
use crate::catalog::Selector;
use crate::engine::Tenant;
use crate::model::{Columns, SeriesKey, Value, ValueType};

/// A channel as built: its series and how it was put on the grid.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedChannel {
    pub name: String,
    /// The series key text.
    pub series: String,
    /// None when the series has no point in the read range.
    pub value_type: Option<ValueType>,
    /// `step`, `linear`, `none`, or `mean`, `min`, `max`, `last` (aggregates).
    pub method: &'static str,
    pub max_gap_ns: i64,
}

/// What the read produced.
#[derive(Debug)]
pub(crate) struct ReadOut {
    pub seq: u64,
    pub channels: Vec<ResolvedChannel>,
    pub columns: Vec<GridColumn>,
    /// The label series' finite points, when labels come from a series.
    pub label_points: Option<(Vec<i64>, Vec<f64>)>,
    /// Points read from the channel and label series.
    pub source_points: u64,
}

#[derive(Clone, Copy)]
enum Use {
    Channel(usize),
    Label,
}

/// Which channels (and whether the labels) read each series.
type Uses = BTreeMap<SeriesKey, Vec<Use>>;

/// Reads and resamples (see the module invariants).
pub(crate) fn read(
    tenant: &Tenant,
    plan: &Plan,
    pin: Option<&str>,
    progress: Option<ProgressFn<'_>>,
) -> Result<ReadOut> {
    let (sel, range) = (&plan.snapshot_selector, plan.read_range);
    let snap = match pin {
        Some(name) => tenant.pinned_snapshot(name, sel, range)?,
        None => tenant.snapshot(sel, range),
    };
    let keys: Vec<SeriesKey> = snap.keys().cloned().collect();
    let (mut channels, uses, has_label) = resolve_all(&keys, plan)?;
    let mut label_points = has_label.then(|| (Vec::new(), Vec::new()));
    let axis = plan.axis();
    // Filled as series are resampled; a channel whose series has no point
    // in the range becomes all-missing at the end.
    let mut columns: Vec<Option<GridColumn>> = vec![None; plan.channels.len()];
    let seq = snap.seq();
    let total = uses.len();
    let shared = Mutex::new(Shared {
        done: 0,
        source_points: 0,
        channels: &mut channels,
        label_points: &mut label_points,
    });
    let (next, failed) = (AtomicUsize::new(0), AtomicBool::new(false));
    let report = |done, points| {
        if let Some(p) = progress {
            p(Progress::Read {
                done,
                total,
                points,
            });
        }
    };
    report(0, 0);
    // One thread per core takes the next series index, decodes that series
    // through its own reader and resamples it while the other does the same;
    // each column lands at its channel's index, so thread timing changes
    // nothing.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let work = || -> Result<Vec<(usize, GridColumn)>> {
        let mut out = Vec::new();
        let mut reader = snap.reader();
        let mut cols = Columns::default();
        let (mut ts_buf, mut values_buf) = (Vec::new(), Vec::new());
        while !failed.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(key) = keys.get(i) else {
                break;
            };
            let Some(uses_of) = uses.get(key) else {
                continue;
            };
            let s = match reader.read_into(i, &mut cols) {
                Ok(Some(s)) => s,
                Ok(None) => continue,
                Err(e) => {
                    failed.store(true, Ordering::Relaxed);
                    return Err(e.into());
                }
            };
            let channels_of = shared
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .record(s.value_type, &cols, uses_of, plan, &report);
            // An f64 series with only finite values (the common case) is
            // resampled from its decoded bits in place; any other is first
            // converted, without its non-finite points (invariant 3).
            let in_place = s.value_type == ValueType::F64 && all_finite(&cols.values);
            let view = if in_place {
                None
            } else {
                Some(finite_view(
                    &cols,
                    s.value_type,
                    &mut ts_buf,
                    &mut values_buf,
                ))
            };
            for i in channels_of {
                if let Some(c) = plan.channels.get(i) {
                    let how = resample_of(c.method, s.value_type);
                    let column = match view {
                        None => resample(&cols.ts, &cols.values, axis, how, c.max_gap_ns),
                        Some((ts, values)) => resample(ts, values, axis, how, c.max_gap_ns),
                    };
                    out.push((i, column));
                }
            }
        }
        Ok(out)
    };
    let resampled = std::thread::scope(|s| -> Result<Vec<(usize, GridColumn)>> {
        let helpers: Vec<_> = (1..workers).map(|_| s.spawn(work)).collect();
        let mut out = work();
        for h in helpers {
            let theirs = h.join().map_err(|_| {
                DatasetError::BadOutput("internal: a resampling thread panicked".into())
            })?;
            // The first error wins; the columns of a failed read are dropped.
            out = out.and_then(|mut mine| {
                mine.extend(theirs?);
                Ok(mine)
            });
        }
        out
    })?;
    let source_points = shared
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .source_points;
    for (i, col) in resampled {
        if let Some(slot) = columns.get_mut(i) {
            *slot = Some(col);
        }
    }
    let columns = columns
        .into_iter()
        .map(|c| {
            c.unwrap_or_else(|| GridColumn {
                values: vec![0.0; plan.points],
                valid: vec![false; plan.points],
            })
        })
        .collect();
    Ok(ReadOut {
        seq,
        channels,
        columns,
        label_points,
        source_points,
    })
}

/// What the resampling threads have read so far.
struct Shared<'a> {
    done: usize,
    source_points: u64,
    channels: &'a mut Vec<ResolvedChannel>,
    label_points: &'a mut Option<(Vec<i64>, Vec<f64>)>,
}

impl Shared<'_> {
    /// Records a series just read into `cols` (its points, its type for the
    /// channels that read it, the label series' points) and reports
    /// progress; returns the channels to resample from it.
    fn record(
        &mut self,
        value_type: ValueType,
        cols: &Columns,
        uses: &[Use],
        plan: &Plan,
        report: &impl Fn(usize, u64),
    ) -> Vec<usize> {
        self.source_points += cols.len() as u64;
        self.done += 1;
        report(self.done, self.source_points);
        let mut channels_of = Vec::new();
        for u in uses {
            match *u {
                Use::Label => *self.label_points = Some(finite_points(cols, value_type)),
                Use::Channel(i) => {
                    if let (Some(c), Some(r)) = (plan.channels.get(i), self.channels.get_mut(i)) {
                        r.value_type = Some(value_type);
                        r.method = method_name(c.method, Some(value_type));
                        channels_of.push(i);
                    }
                }
            }
        }
        channels_of
    }
}

/// Resolves every channel and the label series to one key each; true when
/// the labels come from a series.
fn resolve_all(keys: &[SeriesKey], plan: &Plan) -> Result<(Vec<ResolvedChannel>, Uses, bool)> {
    let mut uses = Uses::new();
    let mut channels = Vec::with_capacity(plan.channels.len());
    for (i, c) in plan.channels.iter().enumerate() {
        let key = resolve(keys, &c.selector, &c.select, "channel")?;
        let name = c.name.clone().unwrap_or_else(|| key.to_string());
        if channels.iter().any(|r: &ResolvedChannel| r.name == name) {
            return Err(DatasetError::DuplicateChannelName(name));
        }
        channels.push(ResolvedChannel {
            name,
            series: key.to_string(),
            value_type: None,
            method: method_name(c.method, None),
            max_gap_ns: c.max_gap_ns,
        });
        uses.entry(key.clone()).or_default().push(Use::Channel(i));
    }
    let mut has_label = false;
    if let Some(l) = &plan.label {
        if let LabelSource::Series {
            select, selector, ..
        } = &l.source
        {
            let key = resolve(keys, selector, select, "label series")?;
            uses.entry(key.clone()).or_default().push(Use::Label);
            has_label = true;
        }
    }
    Ok((channels, uses, has_label))
}

/// The one key of `keys` that `selector` matches.
fn resolve<'k>(
    keys: &'k [SeriesKey],
    selector: &Selector,
    text: &str,
    what: &str,
) -> Result<&'k SeriesKey> {
    let mut matches = keys.iter().filter(|k| selector.matches(k));
    let first = matches.next().ok_or_else(|| DatasetError::UnknownSeries {
        what: what.to_string(),
        selector: text.to_string(),
    })?;
    let rest: Vec<&SeriesKey> = matches.collect();
    if let Some(second) = rest.first() {
        return Err(DatasetError::AmbiguousSelector {
            what: what.to_string(),
            selector: text.to_string(),
            count: rest.len() + 1,
            examples: format!("{first}, {second}"),
        });
    }
    Ok(first)
}

/// The default interpolation of a value type (no series metadata yet).
fn default_interpolation(t: ValueType) -> Interpolation {
    match t {
        ValueType::F64 => Interpolation::Linear,
        ValueType::I64 | ValueType::Bool => Interpolation::Step,
    }
}

fn resample_of(m: Method, t: ValueType) -> Resample {
    match m {
        Method::Interpolate(i) => Resample::Interpolate(i.unwrap_or(default_interpolation(t))),
        Method::Aggregate(a) => Resample::Aggregate(a),
    }
}

/// The method's name; an unknown type (no points) keeps the f64 default.
fn method_name(m: Method, t: Option<ValueType>) -> &'static str {
    match resample_of(m, t.unwrap_or(ValueType::F64)) {
        Resample::Interpolate(i) => i.name(),
        Resample::Aggregate(a) => a.name(),
    }
}

/// Whether every value of an f64 column (raw bits) is finite: its exponent
/// is not all ones. A plain fold over the slice, which vectorises.
fn all_finite(bits: &[u64]) -> bool {
    const EXPONENT: u64 = 0x7ff0_0000_0000_0000;
    bits.iter()
        .fold(true, |ok, &b| ok & (b & EXPONENT != EXPONENT))
}

/// The finite points of `cols` as f64 (invariant 3), in reused buffers:
/// when every value is finite (the common case) the timestamps are not
/// copied.
fn finite_view<'a>(
    cols: &'a Columns,
    t: ValueType,
    ts_buf: &'a mut Vec<i64>,
    values_buf: &'a mut Vec<f64>,
) -> (&'a [i64], &'a [f64]) {
    values_buf.clear();
    let as_f64 = |&bits| Value::from_bits(t, bits).as_f64();
    values_buf.extend(cols.values.iter().map(as_f64));
    if values_buf.iter().all(|v| v.is_finite()) {
        return (&cols.ts, values_buf);
    }
    ts_buf.clear();
    let mut kept = 0;
    for (&p, i) in cols.ts.iter().zip(0..values_buf.len()) {
        let v = values_buf.get(i).copied().unwrap_or(f64::NAN);
        if v.is_finite() {
            if let Some(slot) = values_buf.get_mut(kept) {
                *slot = v;
            }
            ts_buf.push(p);
            kept += 1;
        }
    }
    values_buf.truncate(kept);
    (ts_buf, values_buf)
}

/// The finite points of `cols` as f64 (invariant 3), copied.
fn finite_points(cols: &Columns, t: ValueType) -> (Vec<i64>, Vec<f64>) {
    let (mut ts, mut values) = (
        Vec::with_capacity(cols.len()),
        Vec::with_capacity(cols.len()),
    );
    for (&p, &bits) in cols.ts.iter().zip(&cols.values) {
        let v = Value::from_bits(t, bits).as_f64();
        if v.is_finite() {
            ts.push(p);
            values.push(v);
        }
    }
    (ts, values)
}

#[cfg(test)]
mod tests {
    use super::all_finite;

    #[test]
    fn all_finite_rejects_exactly_nan_and_infinities() {
        let finite = [0.0, -0.0, 1.5, -2.0e300, f64::MIN_POSITIVE / 4.0, f64::MAX];
        let bits: Vec<u64> = finite.iter().map(|v| v.to_bits()).collect();
        assert!(all_finite(&bits));
        assert!(all_finite(&[]));
        let nan_payload = f64::from_bits(0x7ff0_0000_0000_0001);
        for bad in [
            f64::NAN,
            -f64::NAN,
            nan_payload,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let mut with = bits.clone();
            with.insert(3, bad.to_bits());
            assert!(!all_finite(&with), "{bad:?}");
        }
    }
}
