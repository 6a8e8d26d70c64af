//! The public entry point: [`Engine::open`] and tenant handles.
//!
//! Directory layout (relative to the engine root):
//! ```text
//! LOCK                      advisory lock (real file system only)
//! wal/<index>.wal           the shared write-ahead log
//! tenants/<name>/MANIFEST   live segments and flushed sequence number
//! tenants/<name>/<id>.seg   segment files
//! tenants/<name>/DROPPED    marker: the tenant is being deleted
//! ```
//!
//! Invariants:
//! 1. One WAL for all tenants; a WAL file is removed only when every tenant's
//!    records in it are in durable segments named by a durable manifest.
//! 2. Flushes are serialised by `flush_lock`; writes continue during a flush.
//! 3. A dropped tenant's directory is removed only after the WAL holds none of
//!    its records, so a crash at any point cannot bring it back.

mod flush;
mod lossy;
mod open;
mod options;
mod pin;
mod stats;
mod storage;
mod tenant;

pub use options::Options;
pub use pin::{PinInfo, MAX_PIN_NAME_LEN};
pub use stats::TenantStats;
pub use storage::{CodecUse, SeriesStorage, StorageReport};
pub use tenant::{Tenant, WriteReceipt};

pub(crate) use tenant::{TenantInner, TenantState};

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;

use crate::error::{Error, Result};
use crate::model::validate_tenant_name;
use crate::vfs::Vfs;
use crate::wal::{TornTail, WalWriter};

/// State shared by the engine, its tenant handles and its background threads.
pub(crate) struct EngineInner {
    pub vfs: Arc<dyn Vfs>,
    pub opts: Options,
    pub wal: WalWriter,
    pub tenants: RwLock<BTreeMap<String, Arc<TenantInner>>>,
    pub flush_lock: Mutex<()>,
    /// Bytes of all memtables, active and frozen.
    pub mem_bytes: AtomicUsize,
    /// Wakes the background flusher and writers stalled on memory.
    pub signal: (Mutex<Signal>, Condvar),
    pub closed: AtomicBool,
}

#[derive(Default)]
pub(crate) struct Signal {
    pub flush_wanted: bool,
    pub last_error: Option<String>,
    pub generation: u64,
}

/// What recovery found at open.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    pub wal_records_replayed: u64,
    pub torn_tail: Option<TornTail>,
    pub orphan_files_removed: Vec<String>,
    pub drops_completed: Vec<String>,
}

/// An open storage engine.
pub struct Engine {
    inner: Arc<EngineInner>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    report: RecoveryReport,
    _lock: Option<std::fs::File>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("vfs", &self.inner.vfs)
            .finish()
    }
}

impl Engine {
    /// Opens (or creates) the engine at `path`, recovering from the WAL.
    pub fn open(path: impl AsRef<Path>, opts: Options) -> Result<Engine> {
        open::open(path.as_ref(), opts)
    }

    /// What recovery did at open.
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.report
    }

    /// The handle of tenant `name`, created (in memory) if it does not exist.
    pub fn tenant(&self, name: &str) -> Result<Tenant> {
        validate_tenant_name(name)?;
        let mut map = self
            .inner
            .tenants
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let inner = map
            .entry(name.to_string())
            .or_insert_with(|| Arc::new(TenantInner::new(name, TenantState::new_empty())))
            .clone();
        Ok(Tenant {
            inner,
            engine: Arc::clone(&self.inner),
        })
    }

    /// The handle of an existing tenant.
    pub fn existing_tenant(&self, name: &str) -> Result<Tenant> {
        let map = self.inner.tenants.read().unwrap_or_else(|e| e.into_inner());
        let inner = map
            .get(name)
            .cloned()
            .ok_or_else(|| Error::TenantNotFound(name.to_string()))?;
        Ok(Tenant {
            inner,
            engine: Arc::clone(&self.inner),
        })
    }

    /// Names of all tenants, sorted.
    pub fn tenants(&self) -> Vec<String> {
        let map = self.inner.tenants.read().unwrap_or_else(|e| e.into_inner());
        map.keys().cloned().collect()
    }

    /// Flushes every tenant's memtables to segments and trims the WAL.
    pub fn flush(&self) -> Result<()> {
        self.inner.flush_all()
    }

    /// Makes every acknowledged write durable (a barrier for `Periodic`/`None`).
    pub fn sync(&self) -> Result<()> {
        self.inner.wal.sync()
    }

    /// Deletes a tenant and all its data, including its WAL records.
    /// If it fails, the tenant refuses writes until a retried `drop_tenant`
    /// or the next open finishes the drop (its data may be gone either way).
    pub fn drop_tenant(&self, name: &str) -> Result<()> {
        self.inner.drop_tenant(name)
    }

    /// The file system the engine runs on.
    pub fn vfs(&self) -> &Arc<dyn Vfs> {
        &self.inner.vfs
    }

    /// Total bytes of WAL files on disk.
    pub fn wal_bytes(&self) -> u64 {
        self.inner.wal.total_bytes()
    }

    /// Stops background work and syncs the WAL. Dropping the engine does the same.
    pub fn close(self) -> Result<()> {
        self.shutdown()
    }

    fn shutdown(&self) -> Result<()> {
        if self.inner.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        {
            let (lock, cv) = &self.inner.signal;
            let _g = lock.lock().unwrap_or_else(|e| e.into_inner());
            cv.notify_all();
        }
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for t in threads {
            let _ = t.join();
        }
        if self.inner.wal.poisoned().is_none() {
            self.inner.wal.sync()?;
        }
        Ok(())
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}
