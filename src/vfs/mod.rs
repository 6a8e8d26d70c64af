//! The I/O seam: every file operation of the engine goes through [`Vfs`].
//!
//! Implementations:
//! - [`StdFs`]: the real file system (`std::fs`, `fdatasync`, directory fsync,
//!   `memmap2` for sealed segment files).
//! - [`SimFs`]: an in-memory, deterministic file system that remembers what was
//!   synced and can build "crash images" (RELIABILITY.md §6.1).
//! - [`FaultFs`]: a wrapper that injects EIO, ENOSPC and failed fsyncs.
//!
//! Invariants every implementation keeps:
//! 1. Paths are relative to the file system's root, `/`-separated, never absolute,
//!    never containing `..`; the empty string is the root directory.
//! 2. `create` fails with `AlreadyExists` when the path exists.
//! 3. `rename` atomically replaces the target.
//! 4. A file's data survives a crash only after `sync_data`; a directory entry
//!    (create, rename, remove) only after `sync_dir` of its parent directory.
//! 5. `list` returns entry names (not paths) sorted bytewise.

mod fault_fs;
mod sim_fs;
mod std_fs;

pub use fault_fs::{FaultConfig, FaultFs, FaultKind, OpKind};
pub use sim_fs::{CrashConfig, SimFs};
pub use std_fs::StdFs;

use std::io;
use std::sync::Arc;

/// Read-only bytes of a whole file (a memory map for [`StdFs`]).
pub type Mapping = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// A file system rooted at one directory.
pub trait Vfs: Send + Sync + std::fmt::Debug {
    /// Creates a new, empty file opened for append and read; fails if it exists.
    fn create(&self, path: &str) -> io::Result<Box<dyn VfsFile>>;
    /// Opens an existing file for append and read.
    fn open_append(&self, path: &str) -> io::Result<Box<dyn VfsFile>>;
    /// Opens an existing file for reading.
    fn open_read(&self, path: &str) -> io::Result<Box<dyn VfsFile>>;
    /// Maps a whole (sealed, never rewritten) file read-only.
    fn map_readonly(&self, path: &str) -> io::Result<Mapping>;
    /// Atomically renames `from` to `to`, replacing `to` if it exists.
    fn rename(&self, from: &str, to: &str) -> io::Result<()>;
    /// Removes a file.
    fn remove(&self, path: &str) -> io::Result<()>;
    /// Creates a directory and any missing parents (Ok if it exists).
    fn create_dir_all(&self, path: &str) -> io::Result<()>;
    /// Removes a directory and everything below it.
    fn remove_dir_all(&self, path: &str) -> io::Result<()>;
    /// Names of the entries of a directory, sorted; `NotFound` if it is missing.
    fn list(&self, dir: &str) -> io::Result<Vec<String>>;
    /// True when a file or directory exists at `path`.
    fn exists(&self, path: &str) -> io::Result<bool>;
    /// Makes the directory's entries (creates, renames, removes) durable.
    fn sync_dir(&self, dir: &str) -> io::Result<()>;
    /// Drops the unsynced data of a file from its durable image (fsyncgate model).
    /// Only simulated file systems support it.
    fn discard_unsynced(&self, _path: &str) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "discard_unsynced",
        ))
    }

    /// Reads a whole file into memory.
    fn read_all(&self, path: &str) -> io::Result<Vec<u8>> {
        let file = self.open_read(path)?;
        let len = usize::try_from(file.len()?)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "file too large"))?;
        let mut buf = vec![0u8; len];
        file.read_at(0, &mut buf)?;
        Ok(buf)
    }
}

/// An open file. All methods take `&self`: appends are serialised by the caller,
/// while `sync_data` may run concurrently with reads.
// `len` is an I/O call returning `io::Result`, not a collection length, so an
// `is_empty` companion would be misleading.
#[allow(clippy::len_without_is_empty)]
pub trait VfsFile: Send + Sync {
    /// Appends bytes at the end of the file. On error, a prefix of `buf` may
    /// have been written.
    fn append(&self, buf: &[u8]) -> io::Result<()>;
    /// Reads exactly `buf.len()` bytes at `offset` (`UnexpectedEof` if short).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Current length in bytes.
    fn len(&self) -> io::Result<u64>;
    /// Cuts the file to `len` bytes.
    fn truncate(&self, len: u64) -> io::Result<()>;
    /// Makes the file's data durable (`fdatasync`).
    fn sync_data(&self) -> io::Result<()>;
}

/// Joins a directory and a name into a relative path.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The parent directory of a relative path (`""` for the root).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    }
}
