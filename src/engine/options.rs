//! [`Options`]: how an engine is opened.

use std::sync::Arc;

use crate::model::Limits;
use crate::vfs::Vfs;
use crate::wal::Durability;

/// Engine configuration, built with `with_*` setters.
#[derive(Clone, Debug)]
pub struct Options {
    pub(crate) durability: Durability,
    pub(crate) memtable_budget_bytes: usize,
    pub(crate) wal_file_bytes: u64,
    pub(crate) wal_max_bytes: u64,
    pub(crate) limits: Limits,
    pub(crate) background_flush: bool,
    pub(crate) vfs: Option<Arc<dyn Vfs>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            durability: Durability::Sync,
            memtable_budget_bytes: 256 << 20,
            wal_file_bytes: 64 << 20,
            wal_max_bytes: 1 << 30,
            limits: Limits::default(),
            background_flush: true,
            vfs: None,
        }
    }
}

impl Options {
    /// When writes are acknowledged (default `Sync`).
    pub fn with_durability(mut self, d: Durability) -> Self {
        self.durability = d;
        self
    }

    /// Bytes of memtables (active and frozen, all tenants). A background flush
    /// starts at half of it; writers stall at all of it until flushes catch up.
    pub fn with_memtable_budget(mut self, bytes: usize) -> Self {
        self.memtable_budget_bytes = bytes.max(1);
        self
    }

    /// Size at which a WAL file is closed and a new one started.
    pub fn with_wal_file_bytes(mut self, bytes: u64) -> Self {
        self.wal_file_bytes = bytes;
        self
    }

    /// WAL bytes kept before the tenant pinning the oldest file is flushed.
    pub fn with_wal_max_bytes(mut self, bytes: u64) -> Self {
        self.wal_max_bytes = bytes;
        self
    }

    /// Limits on series, names and batches.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Whether a background thread flushes memtables over budget (default on).
    /// Off, memtables are flushed inline by the writer that crosses the budget.
    pub fn with_background_flush(mut self, on: bool) -> Self {
        self.background_flush = on;
        self
    }

    /// Uses this file system instead of the real one rooted at the engine path
    /// (tests pass a `SimFs` or `FaultFs`).
    pub fn with_vfs(mut self, vfs: Arc<dyn Vfs>) -> Self {
        self.vfs = Some(vfs);
        self
    }
}
