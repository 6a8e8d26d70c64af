//! Cutting windows: every `stride` steps from grid index 0, a window of
//! `length` steps followed by `horizon` steps, kept, dropped or kept with
//! its mask by the fraction of missing cells, and assigned to a split.
//!
//! Invariants:
//! 1. Window starts are `0, stride, 2·stride, …` with `start + span ≤
//!    points`; the same starts whatever the split, so a window's start
//!    depends only on the grid and the window spec.
//! 2. The missing fraction counts the invalid cells of the window's own
//!    steps over all channels (not the horizon's), divided by
//!    `channels × length`. A window above `max_missing` is dropped under
//!    `MissingPolicy::Drop`, kept (and counted) under `Keep`.
//! 3. Windows come out in start order, so each split's windows are
//!    contiguous and in time order; `index` numbers them within their split
//!    from 0.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use serde::{Deserialize, Serialize};

use super::grid::GridColumn;
use super::spec::MissingPolicy;
use super::split::Split;
use super::validate::Plan;

/// One window of the dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    pub split: Split,
    /// Position within its split, from 0.
    pub index: usize,
    /// Grid index of the first step.
    pub start: usize,
    pub start_ns: i64,
    pub missing_fraction: f64,
    /// None when the spec has no labels; NaN when unknown (labels.rs).
    pub label: Option<f64>,
}

/// Window counts of one split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitCounts {
    /// Windows in the set.
    pub windows: u64,
    /// Windows left out for too many missing values.
    pub dropped: u64,
    /// Windows in the set with more missing values than `max_missing` (Keep).
    pub over_missing: u64,
}

/// The windows of a dataset and their counts.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cut {
    pub windows: Vec<Window>,
    pub counts: [SplitCounts; 3],
    /// Windows in no split: straddling a boundary or touching an embargo.
    pub unassigned: u64,
}

/// Cuts the windows (see the invariants); `label(a, b)` labels a span.
pub(crate) fn cut(
    plan: &Plan,
    columns: &[GridColumn],
    label: impl Fn(i64, i64) -> Option<f64>,
) -> Cut {
    let prefix = missing_prefix(plan.points, columns);
    let cells = (columns.len() * plan.length).max(1) as f64;
    let span = plan.span();
    let mut out = Cut::default();
    let last_start = plan.points.saturating_sub(span);
    for start in (0..=last_start).step_by(plan.stride.max(1)) {
        let Some(split) = plan.split.of(start, span) else {
            out.unassigned += 1;
            continue;
        };
        let missing = prefix
            .get(start + plan.length)
            .zip(prefix.get(start))
            .map_or(0, |(b, a)| b - a);
        let missing_fraction = missing as f64 / cells;
        let Some(counts) = out.counts.get_mut(split.index()) else {
            continue;
        };
        if missing_fraction > plan.max_missing {
            if plan.missing == MissingPolicy::Drop {
                counts.dropped += 1;
                continue;
            }
            counts.over_missing += 1;
        }
        let index = counts.windows as usize;
        counts.windows += 1;
        let (a, b, c) = (
            plan.time_of(start),
            plan.time_of(start + plan.length),
            plan.time_of(start + span),
        );
        let over = plan.label.as_ref().map(|l| l.over);
        let label = match over {
            Some(super::spec::LabelSpan::Horizon) => label(b, c),
            _ => label(a, b),
        };
        out.windows.push(Window {
            split,
            index,
            start,
            start_ns: a,
            missing_fraction,
            label,
        });
    }
    out
}

/// `prefix[k]`: invalid cells over all channels at grid indices `< k`
/// (counted at `k + 1`, then summed in place: one grid-sized array).
fn missing_prefix(points: usize, columns: &[GridColumn]) -> Vec<u64> {
    let mut prefix = vec![0u64; points + 1];
    for c in columns {
        let counts = prefix.get_mut(1..).unwrap_or_default();
        for (n, &ok) in counts.iter_mut().zip(&c.valid) {
            *n += u64::from(!ok);
        }
    }
    let mut sum = 0u64;
    for n in &mut prefix {
        sum += *n;
        *n = sum;
    }
    prefix
}
