//! AI training sets: many series aligned on one time grid, cut into
//! windows, labelled, split by time without look-ahead, normalised with
//! training statistics only, and written as NumPy `.npy` tensors, Parquet
//! (long and wide) and Arrow IPC with a `manifest.json` that records how to
//! rebuild them.
//!
//! Flow: [`DatasetSpec`] → `validate.rs` (a plan; every bad spec is refused
//! here, before any point is read) → `read.rs` (one snapshot, every
//! channel resampled by `grid.rs`) → `window.rs` (windows, missing
//! fractions, `split.rs`, `labels.rs`) → `normalize.rs` (train statistics)
//! → `build.rs` (`tensors.rs` + `npy.rs`, `parquet.rs`, `wide.rs`, each
//! file hashed as written by `sink.rs`; `manifest.rs` last) → [`verify`].
//!
//! Invariants:
//! 1. All channels and the label series come from ONE snapshot; the
//!    manifest records its `seq` and, when cut from a pinned snapshot
//!    (`Tenant::pin`, [`BuildOptions::pin`]), the pin's name.
//! 2. The same snapshot and spec give byte-identical files.
//! 3. No window straddles a split boundary or an embargo gap; normalisation
//!    statistics come from train windows only.
//! 4. Library code never panics on input; errors are [`DatasetError`]s.
//! 5. The same pin and spec give byte-identical files whatever was written
//!    since (tests/dataset_files.rs, tests/cli_dataset.rs).

mod build;
mod error;
mod grid;
mod labels;
mod manifest;
mod normalize;
mod npy;
mod parquet;
mod read;
mod serde_ns;
mod sink;
mod spec;
mod split;
mod tensors;
mod validate;
mod wide;
mod window;

pub use build::{build, build_with, validate, BuildOptions, Dataset, Progress, ProgressFn};
pub use error::{DatasetError, Result};
pub use grid::{GridAxis, GridColumn};
pub use manifest::{
    hash_file, read as read_manifest, verify, ChannelInfo, FileEntry, GridInfo, Manifest,
    NormalizationInfo, SnapshotInfo, SplitInfo, MANIFEST_FILE,
};
pub use normalize::ChannelStats;
pub use read::ResolvedChannel;
pub use spec::{
    Aggregation, ChannelSpec, DatasetSpec, EventRange, GridSpec, Interpolation, LabelReduce,
    LabelSpan, LabelSpec, MissingPolicy, Normalization, OutputFormat, OutputSpec, SplitSpec,
    WindowSpec,
};
pub use split::Split;
pub use validate::MAX_GRID_CELLS;
pub use window::{SplitCounts, Window};
