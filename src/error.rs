//! The crate's one error type.
//!
//! Bad bytes (corruption of files the engine wrote) are kept apart from bad
//! arguments (input a caller gave us), so callers and the CLI can map them to
//! different exit codes: corruption is exit 3, everything else exit 1 or 2.

use std::io;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error the library returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system I/O error, with the file it happened on when known.
    #[error("I/O error on {path}: {source}")]
    Io { path: String, source: io::Error },

    /// The device ran out of space; nothing of the failed call was acknowledged.
    #[error("no space left on device while writing {path}")]
    NoSpace { path: String },

    /// A file the engine wrote does not hold what it should.
    #[error("corruption in {file} at offset {offset}: {kind}")]
    Corruption {
        file: String,
        offset: u64,
        kind: CorruptionKind,
    },

    /// An earlier fsync (or write) failure poisoned the write-ahead log; reopen
    /// the engine to continue. Nothing the failed call covered was acknowledged.
    #[error("the write-ahead log is poisoned by an earlier failure ({cause}); reopen the engine")]
    Poisoned { cause: String },

    /// A configured limit was exceeded.
    #[error("limit exceeded: {what} is {got}, the limit is {limit}")]
    LimitExceeded {
        what: &'static str,
        got: u64,
        limit: u64,
    },

    /// A caller-supplied argument is invalid.
    #[error("invalid {what}: {reason}")]
    InvalidArgument { what: &'static str, reason: String },

    /// A text input (selector, series key, timestamp, duration) does not parse.
    #[error("cannot parse {what} {input:?} at byte {offset}: {reason}")]
    Parse {
        what: &'static str,
        input: String,
        offset: usize,
        reason: String,
    },

    /// A series already exists with another value type.
    #[error("series {series} holds {existing} values, not {attempted}")]
    TypeMismatch {
        series: String,
        existing: &'static str,
        attempted: &'static str,
    },

    /// The named tenant does not exist.
    #[error("tenant {0:?} does not exist")]
    TenantNotFound(String),

    /// The tenant has no pinned snapshot of that name.
    #[error("tenant {tenant:?} has no pinned snapshot {name:?}")]
    PinNotFound { tenant: String, name: String },

    /// A pinned snapshot of that name already exists (release it first).
    #[error("tenant {tenant:?} already has a pinned snapshot {name:?}")]
    PinExists { tenant: String, name: String },

    /// The engine is shutting down or was closed.
    #[error("the engine is closed")]
    Closed,

    /// A query request is invalid (bad window, range, aggregate, fill, …).
    #[error("invalid query: {0}")]
    BadQuery(#[from] crate::query::QueryError),

    /// Arrow or Parquet output failed.
    #[error("output error: {0}")]
    Output(String),
}

/// What exactly is wrong with a corrupted file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CorruptionKind {
    #[error("checksum mismatch (stored {expected:#010x}, computed {got:#010x})")]
    ChecksumMismatch { expected: u32, got: u32 },
    #[error("bad magic number")]
    BadMagic,
    #[error("unsupported format version {0}")]
    UnsupportedVersion(u16),
    #[error("truncated: needed {needed} bytes, {have} available")]
    Truncated { needed: u64, have: u64 },
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// Wraps an I/O error with the path it happened on; ENOSPC becomes [`Error::NoSpace`].
    pub fn io(path: impl Into<String>, source: io::Error) -> Self {
        let path = path.into();
        if is_no_space(&source) {
            Error::NoSpace { path }
        } else {
            Error::Io { path, source }
        }
    }

    /// Builds a corruption error.
    pub fn corruption(file: impl Into<String>, offset: u64, kind: CorruptionKind) -> Self {
        Error::Corruption {
            file: file.into(),
            offset,
            kind,
        }
    }

    /// Builds an invalid-argument error.
    pub fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            what,
            reason: reason.into(),
        }
    }

    /// True when this error is about an argument the caller gave (bad
    /// usage), not about the engine or its files.
    pub fn is_bad_argument(&self) -> bool {
        matches!(
            self,
            Error::InvalidArgument { .. }
                | Error::Parse { .. }
                | Error::BadQuery(_)
                | Error::PinNotFound { .. }
                | Error::PinExists { .. }
        )
    }

    /// True when this error reports corruption of stored data.
    pub fn is_corruption(&self) -> bool {
        matches!(self, Error::Corruption { .. })
    }
}

/// True when an I/O error means the device is full.
pub fn is_no_space(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::StorageFull || e.raw_os_error() == Some(28)
}
