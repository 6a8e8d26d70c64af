//! The NumPy files: per split `X`, `mask`, `t`, `y`, `future`,
//! `future_mask` (form `npy`) or `index` (form `npy-grid`), and the grid
//! once, `grid_X` and `grid_mask` (form `npy-grid`); shapes and dtypes in
//! build.rs.
//!
//! Invariants:
//! 1. A window's cells are contiguous slices of the grid columns, so each
//!    (window, channel) row is copied as one slice of normalised values
//!    (0.0 where missing) or of validity flags: no per-cell branching.
//! 2. The bytes are a pure function of the dataset: same dataset, same files.
//! 3. `grid_X[c, k]` holds the same f64 as every `X[w, c, k - start(w)]`
//!    (one expression, [`ChannelStats::written`], for both), so
//!    `sliding_window_view(grid_X, length, axis=1)[:, index].transpose(1, 0, 2)`
//!    equals `X` bit for bit.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::ops::Range;

use super::build::Dataset;
use super::error::{DatasetError, Result};
use super::manifest::FileEntry;
#[cfg(doc)]
use super::normalize::ChannelStats;
use super::npy::{Dtype, NpyWriter};
use super::sink::OutDir;
use super::split::Split;

/// One `.npy` file of a split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tensor {
    X,
    Mask,
    Start,
    Label,
    Future,
    FutureMask,
    /// The grid index of each window's start (form `npy-grid`).
    Index,
}

impl Tensor {
    /// The tensors of a split: the windows themselves with `windows`, the
    /// grid indices of their starts with `grid`, and their start times and
    /// labels (optional) with either.
    pub fn present(windows: bool, grid: bool, has_labels: bool, horizon: usize) -> Vec<Tensor> {
        let mut v = Vec::new();
        if windows {
            v.extend([Tensor::X, Tensor::Mask]);
        }
        if grid {
            v.push(Tensor::Index);
        }
        if windows || grid {
            v.push(Tensor::Start);
            if has_labels {
                v.push(Tensor::Label);
            }
        }
        if windows && horizon > 0 {
            v.extend([Tensor::Future, Tensor::FutureMask]);
        }
        v
    }

    pub fn file_name(self, split: Split) -> String {
        let stem = match self {
            Tensor::X => "X",
            Tensor::Mask => "mask",
            Tensor::Start => "t",
            Tensor::Label => "y",
            Tensor::Future => "future",
            Tensor::FutureMask => "future_mask",
            Tensor::Index => "index",
        };
        format!("{stem}_{}.npy", split.name())
    }
}

/// Writes tensor `t` of `split` into `dir`; `norm` holds the normalised
/// grid columns (0.0 where missing).
pub(crate) fn write(
    dir: &OutDir,
    ds: &Dataset,
    norm: &[Vec<f64>],
    split: Split,
    t: Tensor,
) -> Result<FileEntry> {
    let file = dir.create(&t.file_name(split))?;
    let path = file.path().to_path_buf();
    let io_err = |e| DatasetError::io(&path, e);
    let windows = ds.windows_in(split);
    let (len, hor, chans) = (ds.length(), ds.horizon(), ds.channels.len());
    let steps = |w: usize, r: &Range<usize>| w + r.start..w + r.end;
    let (dtype, shape) = match t {
        Tensor::X | Tensor::Mask => (dtype_of(t), vec![windows.len(), chans, len]),
        Tensor::Future | Tensor::FutureMask => (dtype_of(t), vec![windows.len(), chans, hor]),
        Tensor::Start | Tensor::Label | Tensor::Index => (dtype_of(t), vec![windows.len()]),
    };
    let mut w = NpyWriter::new(file, dtype, &shape).map_err(io_err)?;
    let span = match t {
        Tensor::Future | Tensor::FutureMask => len..len + hor,
        _ => 0..len,
    };
    for win in windows {
        let cells = steps(win.start, &span);
        match t {
            Tensor::X | Tensor::Future => {
                for col in norm {
                    w.f64s(slice(col, &cells)?).map_err(io_err)?;
                }
            }
            Tensor::Mask | Tensor::FutureMask => {
                for col in &ds.columns {
                    w.bools(slice(&col.valid, &cells)?).map_err(io_err)?;
                }
            }
            Tensor::Start => w.i64(win.start_ns).map_err(io_err)?,
            // A grid index fits i64: the grid is bounded by MAX_GRID_CELLS.
            Tensor::Index => w
                .i64(i64::try_from(win.start).unwrap_or(i64::MAX))
                .map_err(io_err)?,
            Tensor::Label => w.f64(win.label.unwrap_or(f64::NAN)).map_err(io_err)?,
        }
    }
    w.finish().map_err(io_err)?.finish()
}

fn dtype_of(t: Tensor) -> Dtype {
    match t {
        Tensor::X | Tensor::Future | Tensor::Label => Dtype::F64,
        Tensor::Mask | Tensor::FutureMask => Dtype::Bool,
        Tensor::Start | Tensor::Index => Dtype::I64,
    }
}

/// One grid file of the `npy-grid` form, `[channels, points]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GridTensor {
    /// `grid_X.npy`: normalised values, 0.0 where missing.
    X,
    /// `grid_mask.npy`: true where the cell is valid.
    Mask,
}

impl GridTensor {
    pub fn file_name(self) -> &'static str {
        match self {
            GridTensor::X => "grid_X.npy",
            GridTensor::Mask => "grid_mask.npy",
        }
    }
}

/// Values normalised per chunk, so the grid is never copied whole.
const GRID_CHUNK: usize = 1 << 14;

/// Writes grid file `t` into `dir`, channel after channel, normalising
/// the values chunk by chunk.
pub(crate) fn write_grid(dir: &OutDir, ds: &Dataset, t: GridTensor) -> Result<FileEntry> {
    let file = dir.create(t.file_name())?;
    let path = file.path().to_path_buf();
    let io_err = |e| DatasetError::io(&path, e);
    let shape = [ds.channels.len(), ds.axis.points];
    let dtype = match t {
        GridTensor::X => Dtype::F64,
        GridTensor::Mask => Dtype::Bool,
    };
    let mut w = NpyWriter::new(file, dtype, &shape).map_err(io_err)?;
    let mut chunk = Vec::with_capacity(GRID_CHUNK);
    for (col, s) in ds.columns.iter().zip(&ds.stats) {
        match t {
            GridTensor::X => {
                let cells = col
                    .values
                    .chunks(GRID_CHUNK)
                    .zip(col.valid.chunks(GRID_CHUNK));
                for (values, valid) in cells {
                    chunk.clear();
                    let normalised = values.iter().zip(valid);
                    chunk.extend(normalised.map(|(&v, &ok)| s.written(v, ok)));
                    w.f64s(&chunk).map_err(io_err)?;
                }
            }
            GridTensor::Mask => w.bools(&col.valid).map_err(io_err)?,
        }
    }
    w.finish().map_err(io_err)?.finish()
}

/// `col[r]`; a window always lies inside the grid (window.rs), so a miss
/// is a bug reported as an error rather than a panic.
fn slice<'a, T>(col: &'a [T], r: &Range<usize>) -> Result<&'a [T]> {
    col.get(r.clone()).ok_or_else(|| {
        DatasetError::BadOutput(format!(
            "internal: window cells {r:?} outside a grid of {}",
            col.len()
        ))
    })
}
