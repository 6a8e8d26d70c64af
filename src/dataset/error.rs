//! [`DatasetError`]: why a dataset spec is refused, a build fails, or a
//! built set does not verify.
//!
//! Invariants:
//! 1. Every spec problem has its own variant naming the offending value
//!    (channel, selector, field), and is reported before any point is read.
//! 2. Bad arguments ([`DatasetError::is_bad_argument`]) are kept apart from
//!    damaged output files ([`DatasetError::is_corruption`]) and from engine
//!    failures ([`DatasetError::Engine`]), so a CLI can map them to exit 2, 3
//!    and 1.
//!
//! The dataset layer returns its own error type rather than a variant of
//! [`crate::Error`] so that it adds no line to `src/error.rs`; the engine's
//! errors are wrapped in [`DatasetError::Engine`].
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::io;

/// Result alias of the dataset layer.
pub type Result<T, E = DatasetError> = std::result::Result<T, E>;

/// Everything that can go wrong cutting or verifying a dataset.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// The TOML text of a spec does not parse or has unknown fields.
    #[error("dataset spec: {0}")]
    Toml(String),
    /// `from` is not before `to`.
    #[error("empty time range: from {from} is not before to {to}")]
    EmptyRange { from: i64, to: i64 },
    /// The grid step is zero or negative.
    #[error("the grid step must be > 0 ns, got {0}")]
    StepNotPositive(i64),
    /// The range holds no whole step.
    #[error("the range [{from}, {to}) is shorter than one step of {step} ns")]
    RangeShorterThanStep { from: i64, to: i64, step: i64 },
    /// The grid would hold more cells than the limit.
    #[error("the grid has {cells} cells (points × channels), the limit is {limit}")]
    GridTooLarge { cells: u128, limit: u64 },
    /// The spec names no channel.
    #[error("the spec has no channels")]
    NoChannels,
    /// A channel selector does not parse.
    #[error("{what}: bad selector {selector}: {source}")]
    BadSelector {
        what: String,
        selector: String,
        source: Box<crate::Error>,
    },
    /// Two channels have the same name.
    #[error("channel name {0:?} is used twice")]
    DuplicateChannelName(String),
    /// A channel asks for both interpolation and aggregation.
    #[error("channel {0:?}: give either an interpolation or an aggregate, not both")]
    InterpolationAndAggregate(String),
    /// A maximum gap is zero or negative.
    #[error("{what}: the maximum gap must be > 0 ns, got {gap}")]
    MaxGapNotPositive { what: String, gap: i64 },
    /// The window length is zero.
    #[error("the window length must be at least one step")]
    WindowLengthZero,
    /// The stride is zero.
    #[error("the window stride must be at least one step")]
    StrideZero,
    /// Window plus horizon is longer than the grid.
    #[error("a window plus its horizon spans {span} steps, the grid has only {grid} points")]
    WindowLongerThanRange { span: u64, grid: u64 },
    /// A fraction is outside its range (or NaN).
    #[error("{what} must be within [{min}, {max}], got {value}")]
    BadFraction {
        what: &'static str,
        value: f64,
        min: f64,
        max: f64,
    },
    /// The split gives both fractions and times, or times out of order.
    #[error("bad split: {0}")]
    BadSplit(String),
    /// The embargo is negative.
    #[error("the embargo must be >= 0 ns, got {0}")]
    EmbargoNegative(i64),
    /// The embargo is shorter than a linear channel's look-ahead: the last
    /// cells of a split could read points of the next one.
    #[error(
        "the embargo ({embargo_ns} ns) is shorter than channel {channel} can look ahead: \
         linear interpolation with max_gap {max_gap_ns} ns reads the first point after a \
         cell, up to max_gap later, so the last training cells could read points of the \
         next split; set split.embargo to at least {needed_ns} ns (or use step interpolation)"
    )]
    EmbargoShorterThanLookAhead {
        channel: String,
        embargo_ns: i64,
        max_gap_ns: i64,
        needed_ns: i64,
    },
    /// No whole window fits in the training part of the grid.
    #[error(
        "the training split holds {train_steps} grid points, fewer than one window \
         plus horizon ({span} steps): the train set would be empty"
    )]
    TrainEmpty { train_steps: u64, span: u64 },
    /// Labels over the horizon need a horizon.
    #[error("labels over the horizon need windows.horizon > 0")]
    HorizonLabelsWithoutHorizon,
    /// The label spec names none or several of a series, events and an
    /// events series.
    #[error("labels: give exactly one of series, events and events_series, not {0}")]
    BadLabelSource(&'static str),
    /// An event range is empty.
    #[error("label event {index}: from {from} is not before to {to}")]
    EmptyEvent { index: usize, from: i64, to: i64 },
    /// A selector matches no series of the tenant.
    #[error("{what} selector {selector} matches no series")]
    UnknownSeries { what: String, selector: String },
    /// A selector matches several series; a channel is exactly one series.
    #[error(
        "{what} selector {selector} matches {count} series (e.g. {examples}); it must match one"
    )]
    AmbiguousSelector {
        what: String,
        selector: String,
        count: usize,
        examples: String,
    },
    /// After dropping windows with too many missing values, no train window is left.
    #[error("no training window is left after dropping windows with missing values")]
    NoTrainWindows,
    /// A channel has no valid value in any training window, so it cannot be normalised.
    #[error("channel {0:?} has no valid value in the training windows; cannot normalise")]
    NoTrainValues(String),
    /// The output directory exists and is not empty.
    #[error("output directory {0} is not empty")]
    OutputNotEmpty(String),
    /// A file operation failed.
    #[error("I/O error on {path}: {source}")]
    Io { path: String, source: io::Error },
    /// Arrow or Parquet output failed.
    #[error("output file {file}: {reason}")]
    Parquet { file: String, reason: String },
    /// `manifest.json` does not parse or is not a dataset manifest.
    #[error("bad manifest {file}: {reason}")]
    BadManifest { file: String, reason: String },
    /// A file the manifest lists is missing.
    #[error("{file}: listed in the manifest but missing")]
    FileMissing { file: String },
    /// A file the manifest lists has another size than recorded.
    #[error("{file}: {got} bytes, the manifest records {expected}")]
    FileSizeMismatch {
        file: String,
        expected: u64,
        got: u64,
    },
    /// A file the manifest lists has another sha256 than recorded.
    #[error("{file}: sha256 {got}, the manifest records {expected}")]
    FileChecksumMismatch {
        file: String,
        expected: String,
        got: String,
    },
    /// The output formats are empty or repeat one.
    #[error("output: {0}")]
    BadOutput(String),
    /// The engine failed (I/O, corruption of its files, ...).
    #[error(transparent)]
    Engine(#[from] crate::Error),
}

impl DatasetError {
    /// Wraps an I/O error with the path it happened on.
    pub(crate) fn io(path: &std::path::Path, source: io::Error) -> Self {
        DatasetError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    /// True when the spec (an argument) is at fault, not the engine or files.
    pub fn is_bad_argument(&self) -> bool {
        match self {
            DatasetError::Engine(e) => e.is_bad_argument(),
            DatasetError::Io { .. }
            | DatasetError::Parquet { .. }
            | DatasetError::BadManifest { .. }
            | DatasetError::FileMissing { .. }
            | DatasetError::FileSizeMismatch { .. }
            | DatasetError::FileChecksumMismatch { .. } => false,
            _ => true,
        }
    }

    /// True when a file (of the dataset or of the engine) is damaged.
    pub fn is_corruption(&self) -> bool {
        match self {
            DatasetError::Engine(e) => e.is_corruption(),
            DatasetError::BadManifest { .. }
            | DatasetError::FileMissing { .. }
            | DatasetError::FileSizeMismatch { .. }
            | DatasetError::FileChecksumMismatch { .. } => true,
            _ => false,
        }
    }
}
