//! Normalisation statistics, computed on the training windows only and
//! recorded whatever the method.
//!
//! Invariants:
//! 1. The statistics of a channel are those of the multiset of its valid
//!    cells in the train windows' own steps (not the horizon): a grid point
//!    covered by `w` overlapping train windows counts `w` times, exactly as
//!    `X_train[mask]` in NumPy would count it. Validation and test data
//!    never enter them.
//! 2. `std` is the population standard deviation (ddof 0), computed in two
//!    passes (mean, then squared deviations) for accuracy.
//! 3. Every output value is `(x − offset) / scale`: `none` is (0, 1),
//!    `zscore` (mean, std), `minmax` (min, max − min); a scale of 0 is
//!    replaced by 1 so a constant channel maps to 0, never to NaN.
//! 4. With a method other than `none`, a channel without any valid train
//!    cell is an error (`NoTrainValues`): it cannot be normalised.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use serde::{Deserialize, Serialize};

use super::error::{DatasetError, Result};
use super::grid::GridColumn;
use super::spec::Normalization;
use super::split::Split;
use super::window::Window;

/// One channel's train statistics and the scaling applied to every split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelStats {
    pub channel: String,
    /// Valid train cells counted (with multiplicity, invariant 1).
    pub cells: u64,
    /// None when `cells` is 0.
    pub mean: Option<f64>,
    pub std: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub offset: f64,
    pub scale: f64,
}

impl ChannelStats {
    /// The normalised value of `x`.
    pub fn apply(&self, x: f64) -> f64 {
        (x - self.offset) / self.scale
    }

    /// A cell as the tensors hold it: normalised where `valid`, else 0.0.
    pub fn written(&self, x: f64, valid: bool) -> f64 {
        if valid {
            self.apply(x)
        } else {
            0.0
        }
    }
}

/// How many train windows cover each grid point with their own steps: +1
/// where a window starts, −1 where it ends (wrapping, as u64), then summed
/// in place, so one grid-sized array is all it allocates.
fn train_coverage(points: usize, length: usize, windows: &[Window]) -> Vec<u64> {
    let mut weight = vec![0u64; points + 1];
    for w in windows.iter().filter(|w| w.split == Split::Train) {
        if let Some(d) = weight.get_mut(w.start) {
            *d = d.wrapping_add(1);
        }
        if let Some(d) = weight.get_mut(w.start + length) {
            *d = d.wrapping_sub(1);
        }
    }
    let mut run = 0u64;
    for d in &mut weight {
        run = run.wrapping_add(*d);
        *d = run;
    }
    weight.truncate(points);
    weight
}

/// The statistics of every channel (see the invariants); channels are
/// independent, so they are computed on scoped threads (each channel's sums
/// run in grid order whatever the thread count).
pub(crate) fn stats(
    method: Normalization,
    names: &[String],
    columns: &[GridColumn],
    points: usize,
    length: usize,
    windows: &[Window],
) -> Result<Vec<ChannelStats>> {
    let weight = train_coverage(points, length, windows);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = names.len().div_ceil(threads.max(1)).max(1);
    let jobs: Vec<(&[String], &[GridColumn])> =
        names.chunks(per).zip(columns.chunks(per)).collect();
    let parts: Vec<Vec<Result<ChannelStats>>> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|&(n, c)| {
                let weight = &weight;
                s.spawn(move || {
                    n.iter()
                        .zip(c)
                        .map(|(n, c)| channel(method, n, c, weight))
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![Err(DatasetError::BadOutput(
                        "internal: a statistics thread panicked".into(),
                    ))]
                })
            })
            .collect()
    });
    parts.into_iter().flatten().collect()
}

/// One channel's statistics: pass 1 count, sum, min and max, pass 2 the
/// squared deviations, both over the valid train cells in grid order.
fn channel(
    method: Normalization,
    name: &str,
    col: &GridColumn,
    weight: &[u64],
) -> Result<ChannelStats> {
    let cells = || {
        weight
            .iter()
            .zip(col.values.iter().zip(&col.valid))
            .filter(|(&w, (_, &ok))| ok && w > 0)
            .map(|(&w, (&v, _))| (w, v))
    };
    let (mut count, mut sum) = (0u64, -0.0f64);
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for (w, v) in cells() {
        count += w;
        sum += w as f64 * v;
        min = min.min(v);
        max = max.max(v);
    }
    if count == 0 {
        if method != Normalization::None {
            return Err(DatasetError::NoTrainValues(name.to_string()));
        }
        return Ok(ChannelStats {
            channel: name.to_string(),
            cells: 0,
            mean: None,
            std: None,
            min: None,
            max: None,
            offset: 0.0,
            scale: 1.0,
        });
    }
    let n = count as f64;
    let mean = sum / n;
    let var = cells()
        .map(|(w, v)| w as f64 * (v - mean) * (v - mean))
        .fold(-0.0, |a, b| a + b)
        / n;
    let std = var.sqrt();
    let nonzero = |s: f64| if s == 0.0 { 1.0 } else { s };
    let (offset, scale) = match method {
        Normalization::None => (0.0, 1.0),
        Normalization::Zscore => (mean, nonzero(std)),
        Normalization::Minmax => (min, nonzero(max - min)),
    };
    Ok(ChannelStats {
        channel: name.to_string(),
        cells: count,
        mean: Some(mean),
        std: Some(std),
        min: Some(min),
        max: Some(max),
        offset,
        scale,
    })
}
