//! Checks a [`DatasetSpec`] and resolves it into a [`Plan`]: grid size,
//! windows, split boundaries in grid indices, the time range to read and
//! the one selector of the snapshot. Nothing here reads points.
//!
//! Invariants:
//! 1. A plan has `step_ns > 0`, `points ≥ 1` grid points whose last bucket
//!    `[t, t + step)` ends at or before `to`, `length ≥ 1`, `stride ≥ 1`,
//!    `span = length + horizon ≤ points`, positive max gaps, a
//!    `max_missing` in `[0, 1]`, and `points × channels ≤ MAX_GRID_CELLS`.
//! 2. Split ranges are index ranges of grid points, in order and disjoint:
//!    `train = [0, k1)`, `validation = [k1 + e, k2)`, `test = [k2 + e, points)`
//!    (each clamped so it is never reversed), with `e` the embargo rounded up
//!    to whole steps. The train range holds at least one window span.
//! 3. The read range covers every point any channel's resampling may use:
//!    `[from − G, max(t_last + G, to_grid − 1)]` with `G` the largest max gap
//!    of an interpolated channel (saturating at the i64 ends).
//! 4. The snapshot selector keeps the matchers common to every channel and
//!    label selector, so it selects a superset of every series they select.
//! 5. With more than one split, no cell of a split can read a point at or
//!    after the first grid time of the next split: a spec whose embargo is
//!    shorter than its channels' linear look-ahead is refused
//!    ([`DatasetError::EmbargoShorterThanLookAhead`]).
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::error::{DatasetError, Result};
use super::grid::GridAxis;
use super::spec::{
    Aggregation, DatasetSpec, Interpolation, LabelReduce, LabelSpan, MissingPolicy, Normalization,
    OutputFormat, SplitSpec,
};
use crate::catalog::Selector;
use crate::query::TimeRange;

/// The largest grid (points × channels) a build may allocate (4.3 GB of
/// values): grids are held in memory whole.
pub const MAX_GRID_CELLS: u64 = 1 << 29;

/// How a channel's grid values are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    /// None: by the series' value type.
    Interpolate(Option<Interpolation>),
    Aggregate(Aggregation),
}

/// One checked channel.
#[derive(Clone, Debug)]
pub(crate) struct ChannelPlan {
    pub name: Option<String>,
    pub select: String,
    pub selector: Selector,
    pub method: Method,
    pub max_gap_ns: i64,
}

/// Where labels come from, checked.
#[derive(Clone, Debug)]
pub(crate) enum LabelSource {
    /// A label series; with `states`, an events series: each point's value
    /// holds until the next point, non-zero meaning an event is in force.
    Series {
        select: String,
        selector: Selector,
        states: bool,
    },
    /// `[from, to)` ranges, each non-empty.
    Events(Vec<(i64, i64)>),
}

/// Labels, checked.
#[derive(Clone, Debug)]
pub(crate) struct LabelPlan {
    pub source: LabelSource,
    pub reduce: LabelReduce,
    pub over: LabelSpan,
}

/// Index ranges `[start, end)` of grid points a window's whole span must
/// lie in to belong to each split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SplitPlan {
    pub train: (usize, usize),
    pub validation: (usize, usize),
    pub test: (usize, usize),
}

/// A checked spec, in grid indices.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub from_ns: i64,
    pub step_ns: i64,
    pub points: usize,
    pub channels: Vec<ChannelPlan>,
    pub label: Option<LabelPlan>,
    pub length: usize,
    pub stride: usize,
    pub horizon: usize,
    pub max_missing: f64,
    pub missing: MissingPolicy,
    pub split: SplitPlan,
    pub normalize: Normalization,
    pub read_range: TimeRange,
    pub snapshot_selector: Selector,
}

impl Plan {
    /// Window plus horizon, in steps.
    pub fn span(&self) -> usize {
        self.length + self.horizon
    }

    /// The grid's axis.
    pub fn axis(&self) -> GridAxis {
        GridAxis {
            from_ns: self.from_ns,
            step_ns: self.step_ns,
            points: self.points,
        }
    }

    /// The time of grid point `k` (in range for `k ≤ points`, invariant 1).
    pub fn time_of(&self, k: usize) -> i64 {
        self.axis().time(k)
    }
}

/// Checks `spec` and resolves it into a plan (see the module invariants).
pub(crate) fn plan(spec: &DatasetSpec) -> Result<Plan> {
    let g = &spec.grid;
    if g.from_ns >= g.to_ns {
        return Err(DatasetError::EmptyRange {
            from: g.from_ns,
            to: g.to_ns,
        });
    }
    if g.step_ns <= 0 {
        return Err(DatasetError::StepNotPositive(g.step_ns));
    }
    let points_wide = (i128::from(g.to_ns) - i128::from(g.from_ns)) / i128::from(g.step_ns);
    if points_wide == 0 {
        return Err(DatasetError::RangeShorterThanStep {
            from: g.from_ns,
            to: g.to_ns,
            step: g.step_ns,
        });
    }
    if spec.channels.is_empty() {
        return Err(DatasetError::NoChannels);
    }
    let cells = points_wide.unsigned_abs() * spec.channels.len() as u128;
    let points = usize::try_from(points_wide)
        .ok()
        .filter(|_| cells <= u128::from(MAX_GRID_CELLS))
        .ok_or(DatasetError::GridTooLarge {
            cells,
            limit: MAX_GRID_CELLS,
        })?;
    let default_gap = g.max_gap_ns.unwrap_or(g.step_ns);
    check_gap("grid.max_gap".into(), default_gap)?;
    let channels = spec
        .channels
        .iter()
        .enumerate()
        .map(|(i, c)| channel_plan(i, c, default_gap))
        .collect::<Result<Vec<_>>>()?;
    let (length, stride, horizon) = windows(spec, points)?;
    let label = label_plan(spec, horizon)?;
    let split = split_plan(&spec.split, g.from_ns, g.step_ns, points)?;
    check_look_ahead(&spec.split, &channels, g.step_ns, &split, points)?;
    let span = length + horizon;
    if split.train.1 < span {
        return Err(DatasetError::TrainEmpty {
            train_steps: split.train.1 as u64,
            span: span as u64,
        });
    }
    check_output(spec)?;
    let mut plan = Plan {
        from_ns: g.from_ns,
        step_ns: g.step_ns,
        points,
        channels,
        label,
        length,
        stride,
        horizon,
        max_missing: spec.windows.max_missing,
        missing: spec.windows.missing,
        split,
        normalize: spec.normalize,
        read_range: TimeRange::ALL,
        snapshot_selector: Selector::all(),
    };
    plan.read_range = read_range(&plan);
    plan.snapshot_selector = common_selector(&plan);
    Ok(plan)
}

/// Names the wide forms give their fixed columns: a channel may not use them.
pub(crate) const WIDE_FIXED_COLUMNS: [&str; 4] = ["split", "window", "step", "ts"];

/// At least one format, none twice; explicit channel names that the wide
/// forms could not use are refused here (default names, the series keys,
/// are checked when the channels are resolved).
fn check_output(spec: &DatasetSpec) -> Result<()> {
    let f = &spec.output.formats;
    if f.is_empty() {
        return Err(DatasetError::BadOutput("formats is empty".into()));
    }
    if let Some((i, dup)) = f
        .iter()
        .enumerate()
        .find(|(i, x)| f.get(..*i).is_some_and(|p| p.contains(x)))
    {
        return Err(DatasetError::BadOutput(format!(
            "format {dup:?} is listed twice (entry {i})"
        )));
    }
    let wide = f
        .iter()
        .any(|x| matches!(x, OutputFormat::ParquetWide | OutputFormat::Arrow));
    if wide {
        for c in &spec.channels {
            if let Some(n) = c.name.as_deref().filter(|n| WIDE_FIXED_COLUMNS.contains(n)) {
                return Err(wide_name_clash(n));
            }
        }
    }
    Ok(())
}

pub(crate) fn wide_name_clash(name: &str) -> DatasetError {
    DatasetError::BadOutput(format!(
        "channel name {name:?} is a fixed column of the wide forms ({}); rename the channel",
        WIDE_FIXED_COLUMNS.join(", ")
    ))
}

fn check_gap(what: String, gap: i64) -> Result<()> {
    if gap <= 0 {
        return Err(DatasetError::MaxGapNotPositive { what, gap });
    }
    Ok(())
}

fn channel_plan(i: usize, c: &super::spec::ChannelSpec, default_gap: i64) -> Result<ChannelPlan> {
    let label = || c.name.clone().unwrap_or_else(|| c.select.clone());
    let selector = Selector::parse(&c.select).map_err(|e| DatasetError::BadSelector {
        what: format!("channel {i}"),
        selector: c.select.clone(),
        source: Box::new(e),
    })?;
    let method = match (c.interpolation, c.aggregate) {
        (Some(_), Some(_)) => return Err(DatasetError::InterpolationAndAggregate(label())),
        (i, None) => Method::Interpolate(i),
        (None, Some(a)) => Method::Aggregate(a),
    };
    let max_gap_ns = c.max_gap_ns.unwrap_or(default_gap);
    check_gap(format!("channel {}", label()), max_gap_ns)?;
    Ok(ChannelPlan {
        name: c.name.clone(),
        select: c.select.clone(),
        selector,
        method,
        max_gap_ns,
    })
}

/// (length, stride, horizon) in steps, checked against the grid.
fn windows(spec: &DatasetSpec, points: usize) -> Result<(usize, usize, usize)> {
    let w = &spec.windows;
    if w.length == 0 {
        return Err(DatasetError::WindowLengthZero);
    }
    if w.stride == 0 {
        return Err(DatasetError::StrideZero);
    }
    fraction("windows.max_missing", w.max_missing, 1.0)?;
    let span = w.length.saturating_add(w.horizon);
    let too_long = DatasetError::WindowLongerThanRange {
        span,
        grid: points as u64,
    };
    if span > points as u64 {
        return Err(too_long);
    }
    // All three are at most `points`, a usize.
    let to_usize = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    Ok((to_usize(w.length), to_usize(w.stride), to_usize(w.horizon)))
}

fn fraction(what: &'static str, value: f64, max: f64) -> Result<()> {
    if (0.0..=max).contains(&value) {
        Ok(())
    } else {
        Err(DatasetError::BadFraction {
            what,
            value,
            min: 0.0,
            max,
        })
    }
}

fn label_plan(spec: &DatasetSpec, horizon: usize) -> Result<Option<LabelPlan>> {
    let Some(l) = &spec.labels else {
        return Ok(None);
    };
    if l.over == LabelSpan::Horizon && horizon == 0 {
        return Err(DatasetError::HorizonLabelsWithoutHorizon);
    }
    let given = [
        l.series.is_some(),
        !l.events.is_empty(),
        l.events_series.is_some(),
    ];
    let count = given.iter().filter(|&&g| g).count();
    if count != 1 {
        return Err(DatasetError::BadLabelSource(if count == 0 {
            "none"
        } else {
            "several"
        }));
    }
    let series = |s: &String, states: bool| -> Result<LabelSource> {
        Ok(LabelSource::Series {
            select: s.clone(),
            selector: Selector::parse(s).map_err(|e| DatasetError::BadSelector {
                what: "label series".to_string(),
                selector: s.clone(),
                source: Box::new(e),
            })?,
            states,
        })
    };
    let source = match (&l.series, &l.events_series) {
        (Some(s), _) => series(s, false)?,
        (None, Some(s)) => series(s, true)?,
        (None, None) => {
            let mut ranges = Vec::with_capacity(l.events.len());
            for (index, e) in l.events.iter().enumerate() {
                if e.from_ns >= e.to_ns {
                    let (from, to) = (e.from_ns, e.to_ns);
                    return Err(DatasetError::EmptyEvent { index, from, to });
                }
                ranges.push((e.from_ns, e.to_ns));
            }
            ranges.sort_unstable();
            LabelSource::Events(ranges)
        }
    };
    Ok(Some(LabelPlan {
        source,
        reduce: l.reduce,
        over: l.over,
    }))
}

/// The split's index ranges (invariant 2); the train-empty check is the caller's.
fn split_plan(s: &SplitSpec, from_ns: i64, step_ns: i64, points: usize) -> Result<SplitPlan> {
    if s.embargo_ns < 0 {
        return Err(DatasetError::EmbargoNegative(s.embargo_ns));
    }
    let by_fraction = s.train.is_some() || s.validation.is_some();
    let by_time = s.validation_from.is_some() || s.test_from.is_some();
    let (k1, k2) = match (by_fraction, by_time) {
        (true, true) => {
            let why = "give fractions (train, validation) or times (validation_from, test_from)";
            return Err(DatasetError::BadSplit(format!("{why}, not both")));
        }
        (false, false) => (points, points),
        (true, false) => {
            let train = s.train.unwrap_or(1.0);
            let validation = s.validation.unwrap_or(0.0);
            fraction("split.train", train, 1.0)?;
            // A little slack so that 0.7 + 0.3 is accepted.
            fraction("split.validation", validation, 1.0 - train + 1e-9)?;
            let at = |f: f64| ((f * points as f64).floor() as usize).min(points);
            (at(train), at(train + validation))
        }
        (false, true) => {
            let index = |t: i64| {
                let d = i128::from(t) - i128::from(from_ns);
                let k = d.div_euclid(i128::from(step_ns))
                    + i128::from(d.rem_euclid(i128::from(step_ns)) != 0);
                usize::try_from(k.clamp(0, points as i128)).unwrap_or(points)
            };
            let k2 = s.test_from.map_or(points, index);
            let k1 = s.validation_from.map_or(k2, index);
            if let (Some(v), Some(t)) = (s.validation_from, s.test_from) {
                if v > t {
                    let why = format!("validation_from {v} is after test_from {t}");
                    return Err(DatasetError::BadSplit(why));
                }
            }
            (k1, k2)
        }
    };
    let e = usize::try_from(whole_steps(s.embargo_ns, step_ns)).unwrap_or(usize::MAX);
    let v_start = k1.saturating_add(e).min(k2);
    let t_start = k2.saturating_add(e).min(points);
    Ok(SplitPlan {
        train: (0, k1),
        validation: (v_start, k2),
        test: (t_start, points),
    })
}

/// Invariant 5. A linear cell at `t` reads the first point after `t`, and only
/// when it lies less than `max_gap` after the point before `t`, so strictly
/// before `t + max_gap`. The last cell of a split is at `(k − 1)·step`, the
/// first of the next at `(k + e)·step`: no point of the next split is read
/// iff `max_gap ≤ (e + 1)·step`. Step, exact and aggregated cells read
/// nothing at or after `t + step`. A channel without an interpolation counts
/// as linear (its series' type decides, and it is not known before reading).
fn check_look_ahead(
    s: &SplitSpec,
    channels: &[ChannelPlan],
    step_ns: i64,
    split: &SplitPlan,
    points: usize,
) -> Result<()> {
    if split.train.1 >= points {
        return Ok(()); // one split: no boundary
    }
    let may_be_linear = |c: &&ChannelPlan| {
        matches!(
            c.method,
            Method::Interpolate(None | Some(Interpolation::Linear))
        )
    };
    // The first channel with the widest gap (max_by_key keeps the last).
    let Some(c) = channels
        .iter()
        .rev()
        .filter(may_be_linear)
        .max_by_key(|c| c.max_gap_ns)
    else {
        return Ok(());
    };
    let needed = (whole_steps(c.max_gap_ns, step_ns) - 1).max(0);
    if whole_steps(s.embargo_ns, step_ns) >= needed {
        return Ok(());
    }
    Err(DatasetError::EmbargoShorterThanLookAhead {
        channel: c.name.clone().unwrap_or_else(|| c.select.clone()),
        embargo_ns: s.embargo_ns,
        max_gap_ns: c.max_gap_ns,
        needed_ns: i64::try_from(needed * i128::from(step_ns)).unwrap_or(i64::MAX),
    })
}

/// `ns ≥ 0` rounded up to whole steps of `step_ns > 0`.
fn whole_steps(ns: i64, step_ns: i64) -> i128 {
    (i128::from(ns) + i128::from(step_ns) - 1) / i128::from(step_ns)
}

fn read_range(plan: &Plan) -> TimeRange {
    let gap = plan
        .channels
        .iter()
        .filter(|c| matches!(c.method, Method::Interpolate(_)))
        .map(|c| c.max_gap_ns)
        .max()
        .unwrap_or(0);
    let t_last = i128::from(plan.time_of(plan.points.saturating_sub(1)));
    let grid_end = i128::from(plan.time_of(plan.points));
    // An events series must be read from the start, so that the state in
    // force when the grid begins is known.
    let states = matches!(
        &plan.label,
        Some(LabelPlan {
            source: LabelSource::Series { states: true, .. },
            ..
        })
    );
    let first = if states {
        i128::from(i64::MIN)
    } else {
        i128::from(plan.from_ns) - i128::from(gap)
    };
    let last = (t_last + i128::from(gap)).max(grid_end - 1);
    let clamp = |v: i128| i64::try_from(v.clamp(i64::MIN.into(), i64::MAX.into()));
    let first = clamp(first).unwrap_or(i64::MIN);
    let last = clamp(last).unwrap_or(i64::MAX);
    TimeRange::inclusive(first, last).unwrap_or(TimeRange::ALL)
}

/// The matchers every channel and label selector shares (invariant 4).
fn common_selector(plan: &Plan) -> Selector {
    let mut all = plan
        .channels
        .iter()
        .map(|c| &c.selector)
        .collect::<Vec<_>>();
    if let Some(LabelPlan {
        source: LabelSource::Series { selector, .. },
        ..
    }) = &plan.label
    {
        all.push(selector);
    }
    let Some((first, rest)) = all.split_first() else {
        return Selector::all();
    };
    let common = first
        .matchers()
        .iter()
        .filter(|m| rest.iter().all(|s| s.matchers().contains(m)))
        .cloned()
        .collect::<Vec<_>>();
    Selector::new(common)
}
