//! [`Dataset`]: cutting a training set from a tenant ([`Dataset::cut`]) and
//! writing it to a directory ([`Dataset::write`], [`build`]).
//!
//! Files written, by the spec's output formats (`{split}` is `train`,
//! `validation`, `test`; all three are written, possibly with 0 windows).
//! `npy` (`tensors.rs`):
//! * `X_{split}.npy` — `<f8` `[windows, channels, length]`, normalised
//!   values; a missing cell holds 0.0.
//! * `mask_{split}.npy` — `|b1`, same shape, true where the cell is valid.
//! * `t_{split}.npy` — `<i8` `[windows]`, window start (ns since the epoch).
//! * `y_{split}.npy` — `<f8` `[windows]`, labels (NaN: unknown), with labels.
//! * `future_{split}.npy`, `future_mask_{split}.npy` — `[windows, channels,
//!   horizon]`, the forecast target, when the horizon is > 0.
//!
//! `npy-grid` (`tensors.rs`): the grid once, and where the windows start.
//! * `grid_X.npy` — `<f8` `[channels, points]`, normalised values; a
//!   missing cell holds 0.0. `grid_mask.npy` — `|b1`, same shape.
//! * `index_{split}.npy` — `<i8` `[windows]`, the grid index of each
//!   window's start; `X_{split}` is `sliding_window_view(grid_X, length,
//!   axis=1)[:, index].transpose(1, 0, 2)`, and the future the same view
//!   of `horizon` steps at `index + length`.
//! * `t_{split}.npy`, `y_{split}.npy` as for `npy` (written once when both
//!   forms are asked for).
//!
//! * `parquet-long`: `long.parquet` (`parquet.rs`); `parquet-wide`:
//!   `wide.parquet`; `arrow`: `wide.arrow` (`wide.rs`).
//! * always: `windows.parquet` (`parquet.rs`) and `manifest.json`
//!   (`manifest.rs`), written last. Each file's sha256 is computed as it is
//!   written (`sink.rs`).
//!
//! Invariants:
//! 1. The spec is checked and the output directory found absent or empty
//!    before any point is read.
//! 2. Cutting is a pure function of the snapshot's points and the spec:
//!    no clock, randomness, hash-map order or thread timing enters any
//!    output, so the same snapshot and spec give byte-identical files.
//! 3. `f64` is written as `<f8`: values keep full precision and a Python
//!    check can compare bit-exactly; cast to f32 when training.
//! 4. With [`BuildOptions::sync`] (the default) every file is synced
//!    before the manifest names it, and the manifest and directory after
//!    it; without, a crash may leave a set that [`super::verify`] rejects.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::error::{DatasetError, Result};
use super::grid::{GridAxis, GridColumn};
use super::manifest::{
    self, ChannelInfo, FileEntry, GridInfo, Manifest, NormalizationInfo, SnapshotInfo, SplitInfo,
};
use super::normalize::{self, ChannelStats};
use super::npy::Dtype;
use super::read::{self, ResolvedChannel};
use super::sink::OutDir;
use super::spec::{DatasetSpec, OutputFormat};
use super::split::Split;
use super::tensors::{self, GridTensor, Tensor};
use super::validate::{self, Plan};
use super::window::{self, SplitCounts, Window};
use super::{labels, parquet, wide};
use crate::engine::Tenant;

/// A cut dataset, in memory: the grid, the windows and the statistics.
#[derive(Debug)]
pub struct Dataset {
    pub spec: DatasetSpec,
    /// The snapshot's sequence number.
    pub seq: u64,
    /// The pinned snapshot it was cut from, if any.
    pub pin: Option<String>,
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

/// How far a build has got, for progress displays.
#[derive(Clone, Copy, Debug)]
pub enum Progress<'a> {
    /// Reading: `done` of `total` source series read, `points` so far.
    Read {
        done: usize,
        total: usize,
        points: u64,
    },
    /// Writing: `file` is next, `done` of `total` files are written.
    Write {
        file: &'a str,
        done: usize,
        total: usize,
    },
}

/// A progress callback.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress<'_>) + Sync);

/// Options of a build beyond the spec (they do not change the files but
/// for the snapshot they are cut from).
#[derive(Clone, Copy)]
pub struct BuildOptions<'a> {
    /// Cut from this pinned snapshot (`Tenant::pin`) instead of the
    /// tenant's current version.
    pub pin: Option<&'a str>,
    /// Called as the build advances.
    pub progress: Option<ProgressFn<'a>>,
    /// Sync every file before the manifest names it (default true). A set
    /// is derived data that a pin can rebuild byte for byte: scratch sets
    /// may skip the syncs, and the disk, to be written at memory speed.
    pub sync: bool,
}

impl Default for BuildOptions<'_> {
    fn default() -> Self {
        BuildOptions {
            pin: None,
            progress: None,
            sync: true,
        }
    }
}

impl std::fmt::Debug for BuildOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildOptions")
            .field("pin", &self.pin)
            .field("progress", &self.progress.is_some())
            .field("sync", &self.sync)
            .finish()
    }
}

/// Cuts the dataset `spec` describes from `tenant`'s current version and
/// writes it into `dir` (absent or empty); returns the manifest written.
pub fn build(tenant: &Tenant, spec: &DatasetSpec, dir: &Path) -> Result<Manifest> {
    build_with(tenant, spec, dir, BuildOptions::default())
}

/// [`build`] with options: a pinned snapshot, a progress callback.
pub fn build_with(
    tenant: &Tenant,
    spec: &DatasetSpec,
    dir: &Path,
    opts: BuildOptions<'_>,
) -> Result<Manifest> {
    validate(spec)?;
    check_out_dir(dir)?;
    Dataset::cut_with(tenant, spec, opts)?.write_with(dir, opts)
}

impl Dataset {
    /// Checks `spec`, reads one snapshot of `tenant`, puts the channels on
    /// the grid, cuts, labels and splits windows and computes statistics.
    pub fn cut(tenant: &Tenant, spec: &DatasetSpec) -> Result<Dataset> {
        Dataset::cut_with(tenant, spec, BuildOptions::default())
    }

    /// [`Dataset::cut`] with options.
    pub fn cut_with(
        tenant: &Tenant,
        spec: &DatasetSpec,
        opts: BuildOptions<'_>,
    ) -> Result<Dataset> {
        let plan = validate::plan(spec)?;
        let read = read::read(tenant, &plan, opts.pin, opts.progress)?;
        let points = read.label_points.as_ref();
        let input = plan
            .label
            .as_ref()
            .map(|l| (l.reduce, labels::LabelInput::new(l, points)));
        let cut = window::cut(&plan, &read.columns, |a, b| {
            input.as_ref().map(|(reduce, i)| i.label(*reduce, a, b))
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
            pin: opts.pin.map(str::to_string),
            axis: plan.axis(),
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
        self.write_with(dir, BuildOptions::default())
    }

    /// [`Dataset::write`] with options: the progress callback and whether
    /// to sync (the pin is the cut's: it does not matter here).
    pub fn write_with(&self, dir: &Path, opts: BuildOptions<'_>) -> Result<Manifest> {
        check_out_dir(dir)?;
        std::fs::create_dir_all(dir).map_err(|e| DatasetError::io(dir, e))?;
        let progress = opts.progress;
        let out = OutDir {
            path: PathBuf::from(dir),
            sync: opts.sync,
        };
        let jobs = self.file_jobs();
        // The window tensors and the wide forms copy slices of normalised
        // columns (one grid's worth of f64 per channel); the long form reads
        // cells one by one, the grid form normalises as it writes.
        let slices = jobs.iter().any(|j| match j {
            FileJob::Npy(_, t) => matches!(t, Tensor::X | Tensor::Future),
            FileJob::ParquetWide | FileJob::Arrow => true,
            _ => false,
        });
        let norm = if slices {
            self.normalised_columns()
        } else {
            Vec::new()
        };
        let files = self.write_files(&out, &norm, &jobs, progress)?;
        if let Some(p) = progress {
            let total = jobs.len();
            p(Progress::Write {
                file: manifest::MANIFEST_FILE,
                done: total,
                total,
            });
        }
        let m = self.manifest(files);
        manifest::write(dir, &m, opts.sync)?;
        Ok(m)
    }

    /// Writes the files of `jobs` on up to two threads (each file also has
    /// its own hashing thread, `sink.rs`), the heaviest first, so the big
    /// tensor and the small files are written at the same time. Returns
    /// their entries in `jobs` order, whatever order they finished in; on
    /// failure, the first failed job's error in that order.
    fn write_files(
        &self,
        out: &OutDir,
        norm: &[Vec<f64>],
        jobs: &[FileJob],
        progress: Option<ProgressFn<'_>>,
    ) -> Result<Vec<FileEntry>> {
        let mut order: Vec<usize> = (0..jobs.len()).collect();
        order.sort_by_key(|&i| jobs.get(i).map_or(0, |j| j.weight_rank()));
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Result<FileEntry>>>> =
            Mutex::new(jobs.iter().map(|_| None).collect());
        let worker = || {
            while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                let Some(&job) = jobs.get(i) else { break };
                if let Some(p) = progress {
                    p(Progress::Write {
                        file: &job.file_name(),
                        done: done.load(Ordering::Relaxed),
                        total: jobs.len(),
                    });
                }
                let r = match job {
                    FileJob::Npy(split, t) => tensors::write(out, self, norm, split, t),
                    FileJob::Grid(t) => tensors::write_grid(out, self, t),
                    FileJob::ParquetLong => parquet::write_long(out, self),
                    FileJob::ParquetWide => wide::write_parquet(out, self, norm),
                    FileJob::Arrow => wide::write_arrow(out, self, norm),
                    FileJob::Windows => parquet::write_windows(out, self),
                };
                done.fetch_add(1, Ordering::Relaxed);
                let failed = r.is_err();
                if let Some(slot) = results.lock().unwrap_or_else(|e| e.into_inner()).get_mut(i) {
                    *slot = Some(r);
                }
                if failed {
                    // Stop taking jobs; the other writer finishes its own.
                    next.store(order.len(), Ordering::Relaxed);
                }
            }
        };
        let writers = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
        std::thread::scope(|s| {
            for _ in 1..writers {
                s.spawn(worker);
            }
            worker();
        });
        let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut files = Vec::with_capacity(jobs.len());
        for r in results {
            match r {
                Some(r) => files.push(r?),
                None => {
                    return Err(DatasetError::BadOutput(
                        "internal: a file job was not run".into(),
                    ))
                }
            }
        }
        Ok(files)
    }

    /// The files the spec asks for, in the order they are written.
    fn file_jobs(&self) -> Vec<FileJob> {
        let mut jobs = Vec::new();
        let asked = |f| self.spec.output.formats.contains(&f);
        let (windows, grid) = (asked(OutputFormat::Npy), asked(OutputFormat::NpyGrid));
        let labels = self.plan.label.is_some();
        let present = Tensor::present(windows, grid, labels, self.horizon());
        for split in Split::ALL {
            jobs.extend(present.iter().map(|&t| FileJob::Npy(split, t)));
        }
        if grid {
            jobs.extend([GridTensor::X, GridTensor::Mask].map(FileJob::Grid));
        }
        for f in OutputFormat::ALL {
            if !asked(f) {
                continue;
            }
            match f {
                OutputFormat::Npy | OutputFormat::NpyGrid => {}
                OutputFormat::ParquetLong => jobs.push(FileJob::ParquetLong),
                OutputFormat::ParquetWide => jobs.push(FileJob::ParquetWide),
                OutputFormat::Arrow => jobs.push(FileJob::Arrow),
            }
        }
        jobs.push(FileJob::Windows);
        jobs
    }

    /// Every channel's grid column normalised, 0.0 where missing.
    fn normalised_columns(&self) -> Vec<Vec<f64>> {
        let cols = self.columns.iter().zip(&self.stats);
        cols.map(|(col, s)| {
            let cells = col.values.iter().zip(&col.valid);
            cells.map(|(&v, &ok)| s.written(v, ok)).collect()
        })
        .collect()
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
                pin: self.pin.clone(),
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

/// One file to write.
#[derive(Clone, Copy, Debug)]
enum FileJob {
    Npy(Split, Tensor),
    Grid(GridTensor),
    ParquetLong,
    ParquetWide,
    Arrow,
    Windows,
}

impl FileJob {
    /// 0 for files of a grid's size or more, 1 for a mask or the window
    /// table, 2 for a value per window: writers take the heaviest first.
    fn weight_rank(self) -> u8 {
        match self {
            FileJob::Grid(GridTensor::X) | FileJob::ParquetLong => 0,
            FileJob::ParquetWide | FileJob::Arrow => 0,
            FileJob::Npy(_, Tensor::X | Tensor::Future) => 0,
            FileJob::Grid(GridTensor::Mask) | FileJob::Windows => 1,
            FileJob::Npy(_, Tensor::Mask | Tensor::FutureMask) => 1,
            FileJob::Npy(..) => 2,
        }
    }

    fn file_name(self) -> String {
        match self {
            FileJob::Npy(split, t) => t.file_name(split),
            FileJob::Grid(t) => t.file_name().into(),
            FileJob::ParquetLong => "long.parquet".into(),
            FileJob::ParquetWide => "wide.parquet".into(),
            FileJob::Arrow => "wide.arrow".into(),
            FileJob::Windows => "windows.parquet".into(),
        }
    }
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
