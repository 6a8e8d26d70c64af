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
    let starts = (last_start / plan.stride.max(1)).saturating_add(1);
    out.windows.reserve_exact(starts);
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

/// `prefix[k]`: invalid cells over all channels at grid indices `< k`.
/// One pass over the grid: the channels' invalid cells are counted into a
/// small block of per-point counts (which stays in cache), then the block
/// is summed onto the prefix, so the grid-sized array is written once.
fn missing_prefix(points: usize, columns: &[GridColumn]) -> Vec<u64> {
    const BLOCK: usize = 4096;
    let mut prefix = vec![0u64; points + 1];
    let mut block = [0u32; BLOCK];
    let mut sum = 0u64;
    let rest = prefix.get_mut(1..).unwrap_or_default();
    for (out, start) in rest.chunks_mut(BLOCK).zip((0..points).step_by(BLOCK)) {
        let counts = block.get_mut(..out.len()).unwrap_or_default();
        counts.fill(0);
        for c in columns {
            let valid = c.valid.get(start..).unwrap_or_default();
            for (n, &ok) in counts.iter_mut().zip(valid) {
                *n += u32::from(!ok);
            }
        }
        for (p, &n) in out.iter_mut().zip(counts.iter()) {
            sum += u64::from(n);
            *p = sum;
        }
    }
    prefix
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The blocked prefix equals counting cell by cell, across block edges
    /// and with a channel shorter than the grid (its missing tail is valid).
    #[test]
    fn missing_prefix_counts_every_invalid_cell_before_k() {
        let points = 3 * 4096 + 17;
        let mut rng = crate::test_rng::XorShift::new(0x9e37_79b9_7f4a_7c15);
        let mut flip = || !rng.next_u64().is_multiple_of(3);
        let columns: Vec<GridColumn> = [points, points, 5000]
            .iter()
            .map(|&n| {
                let valid: Vec<bool> = (0..n).map(|_| flip()).collect();
                GridColumn {
                    values: vec![0.0; n],
                    valid,
                }
            })
            .collect();
        let prefix = missing_prefix(points, &columns);
        assert_eq!(prefix.len(), points + 1);
        let mut want = 0u64;
        for (k, &got) in prefix.iter().enumerate() {
            assert_eq!(got, want, "k = {k}");
            let invalid = columns.iter().filter(|c| c.valid.get(k) == Some(&false));
            want += invalid.count() as u64;
        }
    }
}
