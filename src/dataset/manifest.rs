//! `manifest.json`: how a dataset was made and what its files must hold,
//! and [`verify`], which re-checks the files against it.
//!
//! Invariants:
//! 1. The manifest records the full spec (times and durations as integer
//!    ns), the snapshot's `seq`, the resolved channels, per-split grid
//!    ranges and window counts, the normalisation statistics (always, also
//!    for `none`), the number of source points, and the size and sha256 of
//!    every other file in the dataset. It holds nothing of "now" (no
//!    wall-clock time, host or path), so a rebuild from the same snapshot
//!    and spec writes the same bytes.
//! 2. It is written last, after every file it lists has been written and
//!    synced: a directory with a manifest is a complete dataset.
//! 3. [`verify`] reads every listed file and fails with a typed error naming
//!    the first file that is missing, has another size or another sha256.
//!    File names in a manifest are plain names (no path separators, no
//!    `..`), so verification never reads outside the directory.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::{DatasetError, Result};
use super::normalize::ChannelStats;
use super::spec::{DatasetSpec, Normalization};
use super::split::Split;
use super::window::SplitCounts;

/// The manifest's file name inside a dataset directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The `format` field of every dataset manifest.
pub const FORMAT: &str = "historian-dataset";
/// The manifest version this code writes and reads.
pub const VERSION: u32 = 1;

/// Everything recorded about a built dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub spec: DatasetSpec,
    pub snapshot: SnapshotInfo,
    pub grid: GridInfo,
    pub channels: Vec<ChannelInfo>,
    pub splits: Vec<SplitInfo>,
    /// Windows in no split: straddling a boundary or touching an embargo.
    pub unassigned_windows: u64,
    pub normalization: NormalizationInfo,
    /// Points read from the channel and label series.
    pub source_points: u64,
    pub files: Vec<FileEntry>,
}

/// The snapshot a dataset was cut from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    /// The sequence number of the last write the snapshot holds.
    pub seq: u64,
    /// The pinned snapshot it was cut from (`Tenant::pin`), if any: a
    /// rebuild from the same pin gives the same files.
    pub pin: Option<String>,
}

/// The grid and tensor layout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridInfo {
    pub from_ns: i64,
    pub step_ns: i64,
    pub points: u64,
    pub window_length: u64,
    pub horizon: u64,
    /// The NumPy dtype of values, labels and future values.
    pub value_dtype: String,
}

/// One channel as built.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelInfo {
    pub name: String,
    pub series: String,
    /// None when the series had no point in the read range.
    pub value_type: Option<String>,
    pub method: String,
    pub max_gap_ns: i64,
}

/// One split's grid range and window counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitInfo {
    pub split: Split,
    /// Grid-index range `[grid_from, grid_to)` its windows lie in.
    pub grid_from: u64,
    pub grid_to: u64,
    /// The same range in time, `[from_ns, to_ns)`.
    pub from_ns: i64,
    pub to_ns: i64,
    #[serde(flatten)]
    pub counts: SplitCounts,
}

/// The normalisation applied and the train statistics behind it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NormalizationInfo {
    pub method: Normalization,
    pub channels: Vec<ChannelStats>,
}

/// One output file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub bytes: u64,
    /// Lowercase hex.
    pub sha256: String,
}

/// The size and sha256 (lowercase hex) of a file.
pub fn hash_file(path: &Path) -> Result<(u64, String)> {
    let mut f = File::open(path).map_err(|e| DatasetError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(DatasetError::io(path, e)),
        };
        hasher.update(buf.get(..n).unwrap_or_default());
        bytes += n as u64;
    }
    Ok((bytes, super::sink::hex(&hasher.finalize())))
}

/// Writes `manifest.json` into `dir` and, when `sync`, syncs it and the
/// directory.
pub(crate) fn write(dir: &Path, m: &Manifest, sync: bool) -> Result<()> {
    let path = dir.join(MANIFEST_FILE);
    let mut text = serde_json::to_vec_pretty(m).map_err(|e| DatasetError::BadManifest {
        file: path.display().to_string(),
        reason: e.to_string(),
    })?;
    text.push(b'\n');
    let mut f = File::create(&path).map_err(|e| DatasetError::io(&path, e))?;
    f.write_all(&text).map_err(|e| DatasetError::io(&path, e))?;
    if !sync {
        return Ok(());
    }
    f.sync_all().map_err(|e| DatasetError::io(&path, e))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| DatasetError::io(dir, e))
}

/// Reads and checks the manifest of the dataset in `dir`.
pub fn read(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST_FILE);
    let file = path.display().to_string();
    let bad = |reason: String| DatasetError::BadManifest {
        file: file.clone(),
        reason,
    };
    let text = std::fs::read(&path).map_err(|e| DatasetError::io(&path, e))?;
    let m: Manifest = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
    if m.format != FORMAT || m.version != VERSION {
        let (f, v) = (&m.format, m.version);
        return Err(bad(format!(
            "format {f:?} version {v}, expected {FORMAT:?} version {VERSION}"
        )));
    }
    if let Some(f) = m.files.iter().find(|f| !is_plain_name(&f.name)) {
        return Err(bad(format!(
            "file name {:?} is not a plain file name",
            f.name
        )));
    }
    Ok(m)
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && name != MANIFEST_FILE
}

/// Re-checks every file of the dataset in `dir` against its manifest
/// (invariant 3); returns the manifest.
pub fn verify(dir: &Path) -> Result<Manifest> {
    let m = read(dir)?;
    for f in &m.files {
        let path = dir.join(&f.name);
        let name = path.display().to_string();
        let (bytes, sha256) = match hash_file(&path) {
            Err(DatasetError::Io { source, .. }) if source.kind() == ErrorKind::NotFound => {
                return Err(DatasetError::FileMissing { file: name });
            }
            r => r?,
        };
        if bytes != f.bytes {
            return Err(DatasetError::FileSizeMismatch {
                file: name,
                expected: f.bytes,
                got: bytes,
            });
        }
        if sha256 != f.sha256 {
            return Err(DatasetError::FileChecksumMismatch {
                file: name,
                expected: f.sha256.clone(),
                got: sha256,
            });
        }
    }
    Ok(m)
}
