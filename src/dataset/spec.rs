//! [`DatasetSpec`]: what a training set is cut from and how, as a Rust
//! builder and as the same structure in TOML (`DatasetSpec::from_toml`).
//!
//! ```toml
//! normalize = "zscore"              # none | zscore | minmax (default none)
//!
//! [grid]
//! from = "2020-03-09T10:14:33Z"     # [from, to), RFC 3339 text or integer ns
//! to = "2020-03-09T11:00:00Z"
//! step = "1s"
//! max_gap = "5s"                    # default of every channel; default: the step
//!
//! [[channels]]
//! select = 'Pressure{file="valve1_0"}'
//! name = "pressure"                 # default: the series key
//! interpolation = "linear"          # step | linear | none
//! max_gap = "3s"
//!
//! [[channels]]
//! select = 'Current{file="valve1_0"}'
//! aggregate = "mean"                # mean | min | max | last, instead of interpolation
//!
//! [windows]
//! length = 60                       # steps
//! stride = 10                       # steps (default 1)
//! horizon = 0                       # steps after the window (default 0)
//! max_missing = 0.1                 # fraction of missing cells (default 0)
//! missing = "drop"                  # drop | keep (windows above max_missing)
//!
//! [labels]
//! series = 'anomaly{file="valve1_0"}'  # or events = [{ from = "...", to = "..." }]
//!                                   # or events_series = 'maintenance{machine="m1"}'
//! reduce = "any"                    # any | all | last
//! over = "window"                   # window | horizon
//!
//! [split]
//! train = 0.7                       # fractions of the grid (test is the rest) ...
//! validation = 0.15
//! # validation_from = "..."         # ... or times
//! # test_from = "..."
//! embargo = "1m"
//!
//! [output]
//! formats = ["npy", "parquet-long"] # npy | npy-grid | parquet-long | parquet-wide | arrow
//! ```
//!
//! Invariants:
//! 1. The spec is plain data: nothing here reads the engine; `validate.rs`
//!    checks it and resolves it into a plan before any point is read.
//! 2. Every field has one meaning in both forms; TOML durations and times
//!    are text or integer ns, the serialized form (in `manifest.json`) is
//!    integer ns, and it deserializes back to an equal spec.
//! 3. Unknown TOML keys are errors, so a typo is not silently ignored.
//!
//! Channels: each `select` must match exactly one series of the tenant
//! (a selector matching several is an error, so the channel order and count
//! are fixed by the spec alone). The default interpolation is `linear` for
//! f64 series and `step` for i64 and bool series: series metadata (a
//! per-series interpolation) does not exist yet; when it does, it becomes
//! the default.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use serde::{Deserialize, Serialize};

use super::error::{DatasetError, Result};
use super::serde_ns;

/// How a channel's values at grid times are obtained from its points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    /// The last point at or before the grid time, if within the max gap.
    Step,
    /// Between the neighbouring points, if both exist within the max gap.
    Linear,
    /// Only a point exactly on the grid time.
    None,
}

impl Interpolation {
    /// The name used in specs and manifests.
    pub fn name(self) -> &'static str {
        match self {
            Interpolation::Step => "step",
            Interpolation::Linear => "linear",
            Interpolation::None => "none",
        }
    }
}

/// An aggregate of the points in `[t, t + step)` as the value at grid time `t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Aggregation {
    Mean,
    Min,
    Max,
    Last,
}

impl Aggregation {
    /// The name used in specs and manifests.
    pub fn name(self) -> &'static str {
        match self {
            Aggregation::Mean => "mean",
            Aggregation::Min => "min",
            Aggregation::Max => "max",
            Aggregation::Last => "last",
        }
    }
}

/// The time grid: points `from + k·step` for `k < ⌊(to − from) / step⌋`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridSpec {
    #[serde(rename = "from", with = "serde_ns::timestamp")]
    pub from_ns: i64,
    #[serde(rename = "to", with = "serde_ns::timestamp")]
    pub to_ns: i64,
    #[serde(rename = "step", with = "serde_ns::duration")]
    pub step_ns: i64,
    /// The default max gap of every channel; None: one step.
    #[serde(rename = "max_gap", default, with = "serde_ns::opt_duration")]
    pub max_gap_ns: Option<i64>,
}

/// One channel: one series and how it is put on the grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSpec {
    /// A selector matching exactly one series.
    pub select: String,
    /// The channel's name in outputs; None: the series key.
    #[serde(default)]
    pub name: Option<String>,
    /// None: by value type (linear for f64, step otherwise).
    #[serde(default)]
    pub interpolation: Option<Interpolation>,
    /// None: the grid's `max_gap`.
    #[serde(rename = "max_gap", default, with = "serde_ns::opt_duration")]
    pub max_gap_ns: Option<i64>,
    /// Aggregate each step instead of interpolating.
    #[serde(default)]
    pub aggregate: Option<Aggregation>,
}

impl ChannelSpec {
    /// A channel of the one series `selector` matches, with the defaults.
    pub fn new(selector: impl Into<String>) -> Self {
        ChannelSpec {
            select: selector.into(),
            name: None,
            interpolation: None,
            max_gap_ns: None,
            aggregate: None,
        }
    }

    /// Names the channel in outputs.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the interpolation.
    pub fn with_interpolation(mut self, i: Interpolation) -> Self {
        self.interpolation = Some(i);
        self
    }

    /// Sets the maximum gap (ns).
    pub fn with_max_gap(mut self, gap_ns: i64) -> Self {
        self.max_gap_ns = Some(gap_ns);
        self
    }

    /// Aggregates each step instead of interpolating.
    pub fn with_aggregate(mut self, a: Aggregation) -> Self {
        self.aggregate = Some(a);
        self
    }
}

/// What happens to windows with more than `max_missing` missing cells.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissingPolicy {
    /// Left out of the set (counted in the manifest).
    #[default]
    Drop,
    /// Kept; the mask says which cells are missing.
    Keep,
}

/// Windows over the grid, in steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    pub length: u64,
    #[serde(default = "one")]
    pub stride: u64,
    /// Steps after the window that form its forecast target.
    #[serde(default)]
    pub horizon: u64,
    /// Largest fraction of missing cells (channels × length) a window may have.
    #[serde(default)]
    pub max_missing: f64,
    #[serde(default)]
    pub missing: MissingPolicy,
}

fn one() -> u64 {
    1
}

impl WindowSpec {
    /// Windows of `length` steps, stride 1, no horizon, complete windows only.
    pub fn new(length: u64) -> Self {
        WindowSpec {
            length,
            stride: 1,
            horizon: 0,
            max_missing: 0.0,
            missing: MissingPolicy::Drop,
        }
    }

    /// Sets the stride (steps between window starts).
    pub fn with_stride(mut self, stride: u64) -> Self {
        self.stride = stride;
        self
    }

    /// Sets the forecast horizon (steps).
    pub fn with_horizon(mut self, horizon: u64) -> Self {
        self.horizon = horizon;
        self
    }

    /// Windows with more than `fraction` missing cells are handled by `policy`.
    pub fn with_missing(mut self, fraction: f64, policy: MissingPolicy) -> Self {
        self.max_missing = fraction;
        self.missing = policy;
        self
    }
}

/// How a window's label is reduced from its span.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelReduce {
    /// 1 when any point is non-zero (any event overlaps the span), else 0.
    #[default]
    Any,
    /// 1 when every point is non-zero (events cover the whole span), else 0.
    All,
    /// The last point's value (1 when the span's last instant is in an event).
    Last,
}

/// Which span a window's label is computed over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelSpan {
    /// The window's own steps.
    #[default]
    Window,
    /// The horizon steps after it.
    Horizon,
}

/// A labelled time range `[from, to)` (maintenance, fault, ...).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRange {
    #[serde(rename = "from", with = "serde_ns::timestamp")]
    pub from_ns: i64,
    #[serde(rename = "to", with = "serde_ns::timestamp")]
    pub to_ns: i64,
    /// For people reading the spec; not used.
    #[serde(default)]
    pub name: Option<String>,
}

/// Where labels come from: exactly one of a series and events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelSpec {
    /// A selector matching exactly one series (values: 0 = normal).
    #[serde(default)]
    pub series: Option<String>,
    #[serde(default)]
    pub events: Vec<EventRange>,
    /// A selector matching exactly one state series (maintenance, faults):
    /// each point's value holds until the next point, non-zero meaning an
    /// event is in force; read from the start of the tenant's data.
    #[serde(default)]
    pub events_series: Option<String>,
    #[serde(default)]
    pub reduce: LabelReduce,
    #[serde(default)]
    pub over: LabelSpan,
}

impl LabelSpec {
    /// Labels from the one series `selector` matches.
    pub fn series(selector: impl Into<String>, reduce: LabelReduce) -> Self {
        LabelSpec {
            series: Some(selector.into()),
            events: Vec::new(),
            events_series: None,
            reduce,
            over: LabelSpan::Window,
        }
    }

    /// Labels from the events of the one state series `selector` matches.
    pub fn events_series(selector: impl Into<String>, reduce: LabelReduce) -> Self {
        LabelSpec {
            series: None,
            events: Vec::new(),
            events_series: Some(selector.into()),
            reduce,
            over: LabelSpan::Window,
        }
    }

    /// Labels from event ranges `[from, to)` in ns.
    pub fn events(ranges: &[(i64, i64)], reduce: LabelReduce) -> Self {
        let events = ranges.iter().map(|&(from_ns, to_ns)| EventRange {
            from_ns,
            to_ns,
            name: None,
        });
        LabelSpec {
            series: None,
            events: events.collect(),
            events_series: None,
            reduce,
            over: LabelSpan::Window,
        }
    }

    /// Computes labels over the horizon instead of the window.
    pub fn over(mut self, span: LabelSpan) -> Self {
        self.over = span;
        self
    }
}

/// The train / validation / test split by time: by fractions of the grid
/// or by times, never both. The default puts every window in train.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSpec {
    #[serde(default)]
    pub train: Option<f64>,
    #[serde(default)]
    pub validation: Option<f64>,
    #[serde(default, with = "serde_ns::opt_timestamp")]
    pub validation_from: Option<i64>,
    #[serde(default, with = "serde_ns::opt_timestamp")]
    pub test_from: Option<i64>,
    /// Gap after each boundary in which no window may lie.
    #[serde(rename = "embargo", default, with = "serde_ns::duration")]
    pub embargo_ns: i64,
}

impl SplitSpec {
    /// The first `train` of the grid, then `validation`, then the rest as test.
    pub fn fractions(train: f64, validation: f64) -> Self {
        SplitSpec {
            train: Some(train),
            validation: Some(validation),
            ..SplitSpec::default()
        }
    }

    /// Validation from `validation_from`, test from `test_from` (ns).
    pub fn at(validation_from: i64, test_from: Option<i64>) -> Self {
        SplitSpec {
            validation_from: Some(validation_from),
            test_from,
            ..SplitSpec::default()
        }
    }

    /// Sets the embargo (ns) after each boundary.
    pub fn with_embargo(mut self, embargo_ns: i64) -> Self {
        self.embargo_ns = embargo_ns;
        self
    }
}

/// Per-channel normalisation, with statistics of the train windows only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Normalization {
    #[default]
    None,
    /// `(x − mean) / std` (population std; a std of 0 divides by 1).
    Zscore,
    /// `(x − min) / (max − min)` (a range of 0 divides by 1).
    Minmax,
}

/// A file form of the set (`windows.parquet` and `manifest.json` are
/// always written).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputFormat {
    /// `X_*.npy`, `mask_*.npy`, `t_*.npy` (and `y_*`, `future_*`).
    Npy,
    /// The grid once, `grid_X.npy` and `grid_mask.npy` `[channels, points]`,
    /// and each split's window starts as grid indices (`index_*.npy`, with
    /// `t_*.npy` and `y_*`): NumPy's `sliding_window_view` gives the windows
    /// without copying, and the files are `length / stride` times smaller.
    NpyGrid,
    /// `long.parquet`: a row per window, channel and step.
    ParquetLong,
    /// `wide.parquet`: a row per window and step, a column per channel.
    ParquetWide,
    /// `wide.arrow`: the wide form as an Arrow IPC file.
    Arrow,
}

impl OutputFormat {
    pub const ALL: [OutputFormat; 5] = [
        OutputFormat::Npy,
        OutputFormat::NpyGrid,
        OutputFormat::ParquetLong,
        OutputFormat::ParquetWide,
        OutputFormat::Arrow,
    ];
}

/// Which files to write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// Default: `npy` and `parquet-long`.
    #[serde(default = "default_formats")]
    pub formats: Vec<OutputFormat>,
}

fn default_formats() -> Vec<OutputFormat> {
    vec![OutputFormat::Npy, OutputFormat::ParquetLong]
}

impl Default for OutputSpec {
    fn default() -> Self {
        OutputSpec {
            formats: default_formats(),
        }
    }
}

/// A whole dataset spec (see the module docs for the TOML form).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSpec {
    pub grid: GridSpec,
    pub channels: Vec<ChannelSpec>,
    pub windows: WindowSpec,
    #[serde(default)]
    pub labels: Option<LabelSpec>,
    #[serde(default)]
    pub split: SplitSpec,
    #[serde(default)]
    pub normalize: Normalization,
    #[serde(default)]
    pub output: OutputSpec,
}

impl DatasetSpec {
    /// A grid over `[from, to)` with `step` (ns), no channels yet, windows
    /// of one step, everything in train, no labels, no normalisation.
    pub fn new(from_ns: i64, to_ns: i64, step_ns: i64) -> Self {
        DatasetSpec {
            grid: GridSpec {
                from_ns,
                to_ns,
                step_ns,
                max_gap_ns: None,
            },
            channels: Vec::new(),
            windows: WindowSpec::new(1),
            labels: None,
            split: SplitSpec::default(),
            normalize: Normalization::None,
            output: OutputSpec::default(),
        }
    }

    /// Parses the TOML form.
    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| DatasetError::Toml(e.to_string().trim_end().to_string()))
    }

    /// Adds a channel (channels keep the order they are added in).
    pub fn with_channel(mut self, channel: ChannelSpec) -> Self {
        self.channels.push(channel);
        self
    }

    /// Sets the default max gap of every channel (ns).
    pub fn with_max_gap(mut self, gap_ns: i64) -> Self {
        self.grid.max_gap_ns = Some(gap_ns);
        self
    }

    /// Sets the windows.
    pub fn with_windows(mut self, windows: WindowSpec) -> Self {
        self.windows = windows;
        self
    }

    /// Sets the labels.
    pub fn with_labels(mut self, labels: LabelSpec) -> Self {
        self.labels = Some(labels);
        self
    }

    /// Sets the split.
    pub fn with_split(mut self, split: SplitSpec) -> Self {
        self.split = split;
        self
    }

    /// Sets the output formats.
    pub fn with_formats(mut self, formats: &[OutputFormat]) -> Self {
        self.output.formats = formats.to_vec();
        self
    }

    /// Sets the normalisation.
    pub fn with_normalize(mut self, n: Normalization) -> Self {
        self.normalize = n;
        self
    }
}
