//! [`Dataset`]: cutting a training set from a tenant ([`Dataset::cut`]) and
//! writing it to a directory ([`Dataset::write`], [`build`]).
//!
//! Files written (`{split}` is `train`, `validation`, `test`; all three are
//! written, possibly with 0 windows):
//! * `X_{split}.npy` — `<f8` `[windows, channels, length]`, normalised
//!   values; a missing cell holds 0.0.
//! * `mask_{split}.npy` — `|b1`, same shape, true where the cell is valid.
//! * `t_{split}.npy` — `<i8` `[windows]`, window start (ns since the epoch).
//! * `y_{split}.npy` — `<f8` `[windows]`, labels (NaN: unknown), with labels.
//! * `future_{split}.npy`, `future_mask_{split}.npy` — `[windows, channels,
//!   horizon]`, the forecast target, when the horizon is > 0.
//! * `long.parquet`, `windows.parquet` — see `parquet.rs`.
//! * `manifest.json` — see `manifest.rs`, written last.
//!
//! Invariants:
//! 1. The spec is checked and the output directory found absent or empty
//!    before any point is read.
//! 2. Cutting is a pure function of the snapshot's points and the spec:
//!    no clock, randomness, hash-map order or thread timing enters any
//!    output, so the same snapshot and spec give byte-identical files.
//! 3. `f64` is written as `<f8`: values keep full precision and a Python
//!    check can compare bit-exactly; cast to f32 when training.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;

use super::error::{DatasetError, Result};
use super::grid::{GridAxis, GridColumn};
use super::manifest::{
    self, ChannelInfo, FileEntry, GridInfo, Manifest, NormalizationInfo, SnapshotInfo, SplitInfo,
};
use super::normalize::{self, ChannelStats};
use super::npy::{Dtype, NpyWriter};
use super::read::{self, ResolvedChannel};
use super::spec::DatasetSpec;
use super::split::Split;
use super::validate::{self, Plan};
use super::window::{self, SplitCounts, Window};
use super::{labels, parquet};
use crate::engine::Tenant;

/// A cut dataset, in memory: the grid, the windows and the statistics.
#[derive(Debug)]
pub struct Dataset {
    pub spec: DatasetSpec,
    /// The snapshot's sequence number.
    pub seq: u64,
    pub axis: GridAxis,
    pub channels: Vec<ResolvedChannel>,
    /// Raw (not normalised) channel values on the grid.
    pub columns: Vec<GridColumn>,
    /// In start order; each split's windows are contiguous.
    pub windows: Vec<Window>,
    /// Per split, in [`Split::ALL`] order.
    pub counts: [SplitCounts; 3],
    pub unassigned_windows: u64,
    pub stats: Vec<ChannelStats>,
    pub source_points: u64,
    plan: Plan,
}

/// Checks a spec without reading anything.
pub fn validate(spec: &DatasetSpec) -> Result<()> {
    validate::plan(spec).map(|_| ())
}

/// Cuts the dataset `spec` describes from `tenant` and writes it into `dir`
/// (absent or empty); returns the manifest written.
pub fn build(tenant: &Tenant, spec: &DatasetSpec, dir: &Path) -> Result<Manifest> {
    validate(spec)?;
    check_out_dir(dir)?;
    Dataset::cut(tenant, spec)?.write(dir)
}

impl Dataset {
    /// Checks `spec`, reads one snapshot of `tenant`, puts the channels on
    /// the grid, cuts, labels and splits windows and computes statistics.
    pub fn cut(tenant: &Tenant, spec: &DatasetSpec) -> Result<Dataset> {
        let plan = validate::plan(spec)?;
        let read = read::read(tenant, &plan)?;
        let points = read.label_points.as_ref();
        let cut = window::cut(&plan, &read.columns, |a, b| {
            plan.label.as_ref().map(|l| labels::label(l, points, a, b))
        });
        if cut.counts.first().is_none_or(|c| c.windows == 0) {
            return Err(DatasetError::NoTrainWindows);
        }
        let names: Vec<String> = read.channels.iter().map(|c| c.name.clone()).collect();
        let stats = normalize::stats(
            plan.normalize,
            &names,
            &read.columns,
            plan.points,
            plan.length,
            &cut.windows,
        )?;
        Ok(Dataset {
            spec: spec.clone(),
            seq: read.seq,
            axis: GridAxis {
                from_ns: plan.from_ns,
                step_ns: plan.step_ns,
                points: plan.points,
            },
            channels: read.channels,
            columns: read.columns,
            windows: cut.windows,
            counts: cut.counts,
            unassigned_windows: cut.unassigned,
            stats,
            source_points: read.source_points,
            plan,
        })
    }

    /// Window length in steps.
    pub fn length(&self) -> usize {
        self.plan.length
    }

    /// Horizon in steps.
    pub fn horizon(&self) -> usize {
        self.plan.horizon
    }

    /// The time of grid point `k`.
    pub fn time_of(&self, k: usize) -> i64 {
        self.plan.time_of(k)
    }

    /// The windows of one split, in time order.
    pub fn windows_in(&self, split: Split) -> &[Window] {
        let i = split.index();
        let a = self.windows.partition_point(|w| w.split.index() < i);
        let b = self.windows.partition_point(|w| w.split.index() <= i);
        self.windows.get(a..b).unwrap_or_default()
    }

    /// The raw value of channel `c` at grid point `k`; None when missing.
    pub fn raw(&self, c: usize, k: usize) -> Option<f64> {
        let col = self.columns.get(c)?;
        col.valid
            .get(k)
            .copied()
            .unwrap_or(false)
            .then(|| col.values.get(k).copied())
            .flatten()
    }

    /// The normalised value of channel `c` at grid point `k`, as written.
    pub fn cell(&self, c: usize, k: usize) -> Option<f64> {
        let s = self.stats.get(c)?;
        self.raw(c, k).map(|x| s.apply(x))
    }

    /// Writes every file into `dir` (absent or empty), the manifest last.
    pub fn write(&self, dir: &Path) -> Result<Manifest> {
        check_out_dir(dir)?;
        std::fs::create_dir_all(dir).map_err(|e| DatasetError::io(dir, e))?;
        let mut names = Vec::new();
        for split in Split::ALL {
            self.write_split(dir, split, &mut names)?;
        }
        parquet::write_long(&dir.join("long.parquet"), self)?;
        names.push("long.parquet".to_string());
        parquet::write_windows(&dir.join("windows.parquet"), self)?;
        names.push("windows.parquet".to_string());
        let files = names
            .iter()
            .map(|n| manifest::entry(dir, n))
            .collect::<Result<Vec<_>>>()?;
        let m = self.manifest(files);
        manifest::write(dir, &m)?;
        Ok(m)
    }

    fn write_split(&self, dir: &Path, split: Split, names: &mut Vec<String>) -> Result<()> {
        let s = split.name();
        let windows = self.windows_in(split);
        let (len, hor, chans) = (self.length(), self.horizon(), self.channels.len());
        let shape = [windows.len(), chans, len];
        let cells = |steps: std::ops::Range<usize>| {
            let steps2 = steps.clone();
            windows.iter().flat_map(move |w| {
                let steps = steps2.clone();
                (0..chans).flat_map(move |c| steps.clone().map(move |k| (c, w.start + k)))
            })
        };
        let mut add =
            |name: String, dtype, shape: &[usize], f: &dyn Fn(&mut Npy) -> io::Result<()>| {
                write_npy(&dir.join(&name), dtype, shape, f)?;
                names.push(name);
                Ok::<(), DatasetError>(())
            };
        add(format!("X_{s}.npy"), Dtype::F64, &shape, &|w| {
            cells(0..len).try_for_each(|(c, k)| w.f64(self.cell(c, k).unwrap_or(0.0)))
        })?;
        add(format!("mask_{s}.npy"), Dtype::Bool, &shape, &|w| {
            cells(0..len).try_for_each(|(c, k)| w.bool(self.raw(c, k).is_some()))
        })?;
        add(format!("t_{s}.npy"), Dtype::I64, &[windows.len()], &|w| {
            windows.iter().try_for_each(|win| w.i64(win.start_ns))
        })?;
        if self.plan.label.is_some() {
            add(format!("y_{s}.npy"), Dtype::F64, &[windows.len()], &|w| {
                windows
                    .iter()
                    .try_for_each(|win| w.f64(win.label.unwrap_or(f64::NAN)))
            })?;
        }
        if hor > 0 {
            let shape = [windows.len(), chans, hor];
            add(format!("future_{s}.npy"), Dtype::F64, &shape, &|w| {
                cells(len..len + hor).try_for_each(|(c, k)| w.f64(self.cell(c, k).unwrap_or(0.0)))
            })?;
            add(format!("future_mask_{s}.npy"), Dtype::Bool, &shape, &|w| {
                cells(len..len + hor).try_for_each(|(c, k)| w.bool(self.raw(c, k).is_some()))
            })?;
        }
        Ok(())
    }

    /// The manifest of this dataset with `files`.
    fn manifest(&self, files: Vec<FileEntry>) -> Manifest {
        let channels = self.channels.iter().map(|c| ChannelInfo {
            name: c.name.clone(),
            series: c.series.clone(),
            value_type: c.value_type.map(|t| t.name().to_string()),
            method: c.method.to_string(),
            max_gap_ns: c.max_gap_ns,
        });
        let splits = Split::ALL.iter().zip(&self.counts).map(|(&s, &counts)| {
            let (a, b) = self.plan.split.range(s);
            SplitInfo {
                split: s,
                grid_from: a as u64,
                grid_to: b as u64,
                from_ns: self.time_of(a),
                to_ns: self.time_of(b),
                counts,
            }
        });
        Manifest {
            format: manifest::FORMAT.to_string(),
            version: manifest::VERSION,
            spec: self.spec.clone(),
            snapshot: SnapshotInfo {
                seq: self.seq,
                pinned: false,
            },
            grid: GridInfo {
                from_ns: self.axis.from_ns,
                step_ns: self.axis.step_ns,
                points: self.axis.points as u64,
                window_length: self.length() as u64,
                horizon: self.horizon() as u64,
                value_dtype: Dtype::F64.descr().to_string(),
            },
            channels: channels.collect(),
            splits: splits.collect(),
            unassigned_windows: self.unassigned_windows,
            normalization: NormalizationInfo {
                method: self.plan.normalize,
                channels: self.stats.clone(),
            },
            source_points: self.source_points,
            files,
        }
    }
}

type Npy = NpyWriter<BufWriter<File>>;

/// Writes one `.npy` file and syncs it.
fn write_npy(
    path: &Path,
    dtype: Dtype,
    shape: &[usize],
    fill: &dyn Fn(&mut Npy) -> io::Result<()>,
) -> Result<()> {
    let io_err = |e| DatasetError::io(path, e);
    let file = File::create(path).map_err(io_err)?;
    let mut w =
        NpyWriter::new(BufWriter::with_capacity(1 << 20, file), dtype, shape).map_err(io_err)?;
    fill(&mut w).map_err(io_err)?;
    let file = w
        .finish()
        .map_err(io_err)?
        .into_inner()
        .map_err(|e| io_err(e.into_error()))?;
    file.sync_all().map_err(io_err)
}

/// Fails unless `dir` is absent or an empty directory.
fn check_out_dir(dir: &Path) -> Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(DatasetError::OutputNotEmpty(dir.display().to_string())),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(DatasetError::io(dir, e)),
    }
}
