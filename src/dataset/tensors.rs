//! The NumPy files of one split: `X`, `mask`, `t`, `y`, `future`,
//! `future_mask` (shapes and dtypes in build.rs).
//!
//! Invariants:
//! 1. A window's cells are contiguous slices of the grid columns, so each
//!    (window, channel) row is copied as one slice of normalised values
//!    (0.0 where missing) or of validity flags: no per-cell branching.
//! 2. The bytes are a pure function of the dataset: same dataset, same files.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::ops::Range;
use std::path::Path;

use super::build::Dataset;
use super::error::{DatasetError, Result};
use super::manifest::FileEntry;
use super::npy::{Dtype, NpyWriter};
use super::sink::HashedFile;
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
}

impl Tensor {
    /// The tensors a dataset has (labels and horizon are optional).
    pub fn present(has_labels: bool, horizon: usize) -> Vec<Tensor> {
        let mut v = vec![Tensor::X, Tensor::Mask, Tensor::Start];
        if has_labels {
            v.push(Tensor::Label);
        }
        if horizon > 0 {
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
        };
        format!("{stem}_{}.npy", split.name())
    }
}

/// Writes tensor `t` of `split` into `dir`; `norm` holds the normalised
/// grid columns (0.0 where missing).
pub(crate) fn write(
    dir: &Path,
    ds: &Dataset,
    norm: &[Vec<f64>],
    split: Split,
    t: Tensor,
) -> Result<FileEntry> {
    let file = HashedFile::create(dir, &t.file_name(split))?;
    let path = file.path().to_path_buf();
    let io_err = |e| DatasetError::io(&path, e);
    let windows = ds.windows_in(split);
    let (len, hor, chans) = (ds.length(), ds.horizon(), ds.channels.len());
    let steps = |w: usize, r: &Range<usize>| w + r.start..w + r.end;
    let (dtype, shape) = match t {
        Tensor::X | Tensor::Mask => (dtype_of(t), vec![windows.len(), chans, len]),
        Tensor::Future | Tensor::FutureMask => (dtype_of(t), vec![windows.len(), chans, hor]),
        Tensor::Start | Tensor::Label => (dtype_of(t), vec![windows.len()]),
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
            Tensor::Label => w.f64(win.label.unwrap_or(f64::NAN)).map_err(io_err)?,
        }
    }
    w.finish().map_err(io_err)?.finish()
}

fn dtype_of(t: Tensor) -> Dtype {
    match t {
        Tensor::X | Tensor::Future | Tensor::Label => Dtype::F64,
        Tensor::Mask | Tensor::FutureMask => Dtype::Bool,
        Tensor::Start => Dtype::I64,
    }
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
