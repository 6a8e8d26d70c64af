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
/// where a window starts, −1 where it ends (wrapping), then summed in
/// place, so one grid-sized array is all it allocates. A point is covered
/// by at most `length` windows, and the plan bounds the grid far below
/// 2^32 points, so `u32` holds every count (half the memory of `u64`).
fn train_coverage(points: usize, length: usize, windows: &[Window]) -> Vec<u32> {
    let mut weight = vec![0u32; points + 1];
    for w in windows.iter().filter(|w| w.split == Split::Train) {
        if let Some(d) = weight.get_mut(w.start) {
            *d = d.wrapping_add(1);
        }
        if let Some(d) = weight.get_mut(w.start + length) {
            *d = d.wrapping_sub(1);
        }
    }
    let mut run = 0u32;
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
    // Whole groups of LANES channels per thread where the count allows.
    let per = if names.len() >= LANES * threads {
        per.next_multiple_of(LANES)
    } else {
        per
    };
    let jobs: Vec<(&[String], &[GridColumn])> =
        names.chunks(per).zip(columns.chunks(per)).collect();
    let parts: Vec<Vec<Result<ChannelStats>>> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|&(n, c)| {
                let weight = &weight;
                s.spawn(move || channels(method, n, c, weight))
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

/// Channels whose sums run side by side in one pass over the grid.
const LANES: usize = 4;

/// The statistics of `cols` (named `names`), in their order: groups of
/// [`LANES`] channels walk the grid together, one accumulator each, so four
/// dependent chains of float adds overlap instead of running one after the
/// other. Each channel's own sums still run in grid order with the same
/// operations as [`channel`], so every result is bit-identical to it
/// (tested).
fn channels(
    method: Normalization,
    names: &[String],
    cols: &[GridColumn],
    weight: &[u32],
) -> Vec<Result<ChannelStats>> {
    let mut out = Vec::with_capacity(names.len());
    for (names, cols) in names.chunks(LANES).zip(cols.chunks(LANES)) {
        // A short group repeats its last channel; the copies are dropped.
        let Some(last) = cols.last() else { break };
        let n = weight.len();
        if cols.iter().any(|c| c.values.len() < n || c.valid.len() < n) {
            let msg = "internal: a grid column is shorter than the grid";
            out.extend(
                names
                    .iter()
                    .map(|_| Err(DatasetError::BadOutput(msg.into()))),
            );
            continue;
        }
        let group: [&GridColumn; LANES] = std::array::from_fn(|j| cols.get(j).unwrap_or(last));
        let moments = group_moments(group, weight);
        for (name, m) in names.iter().zip(moments) {
            out.push(finish(method, name, m));
        }
    }
    out
}

/// Pass results of one channel: count, sum, min, max, and the sum of
/// squared deviations from the mean.
#[derive(Clone, Copy)]
struct Moments {
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    squares: f64,
}

/// Both passes over a group of channels (see [`channels`]), each column at
/// least as long as `weight`.
fn group_moments(cols: [&GridColumn; LANES], weight: &[u32]) -> [Moments; LANES] {
    let n = weight.len();
    let values = cols.map(|c| c.values.get(..n).unwrap_or_default());
    let valid = cols.map(|c| c.valid.get(..n).unwrap_or_default());
    let grid = || {
        let [a, b, c, d] = std::array::from_fn(|j| {
            let v: &[f64] = values.get(j).copied().unwrap_or_default();
            v.iter().zip(valid.get(j).copied().unwrap_or_default())
        });
        weight.iter().zip(a.zip(b).zip(c.zip(d)))
    };
    let mut m = [Moments {
        count: 0,
        sum: -0.0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        squares: -0.0,
    }; LANES];
    for (&w, ((a, b), (c, d))) in grid() {
        if w == 0 {
            continue;
        }
        for (m, (&v, &ok)) in m.iter_mut().zip([a, b, c, d]) {
            if ok {
                m.count += u64::from(w);
                m.sum += w as f64 * v;
                m.min = m.min.min(v);
                m.max = m.max.max(v);
            }
        }
    }
    let means = m.map(|m| m.sum / m.count as f64);
    for (&w, ((a, b), (c, d))) in grid() {
        if w == 0 {
            continue;
        }
        for ((m, &mean), (&v, &ok)) in m.iter_mut().zip(&means).zip([a, b, c, d]) {
            if ok {
                m.squares += w as f64 * (v - mean) * (v - mean);
            }
        }
    }
    m
}

/// One channel's statistics from its pass results.
fn finish(method: Normalization, name: &str, m: Moments) -> Result<ChannelStats> {
    let Moments {
        count,
        sum,
        min,
        max,
        squares,
    } = m;
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
    let var = squares / n;
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

/// One channel's statistics: pass 1 count, sum, min and max, pass 2 the
/// squared deviations, both over the valid train cells in grid order. The
/// definition [`channels`] must match bit for bit.
#[cfg(test)]
fn channel(
    method: Normalization,
    name: &str,
    col: &GridColumn,
    weight: &[u32],
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
        count += u64::from(w);
        sum += w as f64 * v;
        min = min.min(v);
        max = max.max(v);
    }
    let mean = sum / count as f64;
    let squares = cells()
        .map(|(w, v)| w as f64 * (v - mean) * (v - mean))
        .fold(-0.0, |a, b| a + b);
    let m = Moments {
        count,
        sum,
        min,
        max,
        squares,
    };
    finish(method, name, m)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Columns of mixed scale with invalid cells, a constant channel, an
    /// all-invalid one and -0.0 cells, under a weight with gaps and
    /// overlaps: every channel count from 1 to 9 (full and short groups).
    #[test]
    fn grouped_statistics_are_bit_identical_to_one_channel_at_a_time() {
        let points = 5_003;
        let mut rng = crate::test_rng::XorShift::new(0x2545_f491_4f6c_dd1d);
        let mut next = move || rng.next_u64();
        let columns: Vec<GridColumn> = (0..9)
            .map(|c| {
                let (mut values, mut valid) = (Vec::new(), Vec::new());
                for _ in 0..points {
                    let r = next();
                    let v = match c {
                        3 => 7.25,
                        5 => -0.0,
                        _ => (r >> 11) as f64 / (1u64 << 53) as f64 * 10f64.powi(c - 4),
                    };
                    values.push(v);
                    valid.push(c != 7 && r % 5 != 0);
                }
                GridColumn { values, valid }
            })
            .collect();
        let weight: Vec<u32> = (0..points).map(|_| (next() % 4) as u32).collect();
        let names: Vec<String> = (0..9).map(|c| format!("c{c}")).collect();
        for method in [
            Normalization::None,
            Normalization::Zscore,
            Normalization::Minmax,
        ] {
            for k in 1..=9 {
                let got = channels(method, &names[..k], &columns[..k], &weight);
                assert_eq!(got.len(), k);
                for (c, got) in got.into_iter().enumerate() {
                    let want = channel(method, &names[c], &columns[c], &weight);
                    match (got, want) {
                        (Ok(g), Ok(w)) => {
                            let bits = |s: &ChannelStats| {
                                [s.mean, s.std, s.min, s.max, Some(s.offset), Some(s.scale)]
                                    .map(|v| v.map(f64::to_bits))
                            };
                            assert_eq!(bits(&g), bits(&w), "{method:?} {k} channels, c{c}");
                            assert_eq!(g, w);
                        }
                        (Err(g), Err(w)) => assert_eq!(g.to_string(), w.to_string()),
                        (g, w) => panic!("c{c}: {g:?} vs {w:?}"),
                    }
                }
            }
        }
    }
}
