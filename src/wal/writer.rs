//! The WAL writer: appends sealed records, group commit and rotation.
//!
//! Positions are LSNs: byte offsets in the concatenation of all WAL files
//! written by this writer. `written_lsn` is the end of the data handed to the
//! OS, `durable_lsn` the end of what a completed `sync_data` covers.
//!
//! Invariants:
//! 1. Records are appended in sequence order under the state lock; the
//!    caller's `apply` closure (the memtable insert) runs under the same lock,
//!    so memtable order equals sequence order (last write wins by seq).
//! 2. Group commit: at most one `sync_data` runs at a time; a writer whose
//!    record is not yet durable either waits for the running sync or becomes the
//!    leader of the next one, covering everyone appended so far.
//! 3. A failed sync poisons the writer for good (no fsync retry on the same
//!    file, "fsyncgate"); every waiter not yet covered gets `Error::Poisoned`.
//! 4. A failed append is rolled back by truncating to the last good offset, so
//!    no half record precedes the next one; if that fails too, the writer is
//!    poisoned. An append failing with ENOSPC therefore leaves the writer usable:
//!    writes resume when space returns.
//! 5. A new file is entered only after the previous one is fully synced and the
//!    new file's header and directory entry are durable, so every WAL file but
//!    the last is complete on disk. A failed rotation durably removes what it
//!    created and keeps the old file current (not poisoned, so ENOSPC there
//!    is survivable); only a failed cleanup poisons.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::file_header::{encode_header, wal_file_name, WAL_HEADER_LEN};
use super::record::EncodedRecord;
use crate::error::{Error, Result};
use crate::vfs::{join, Vfs, VfsFile};

/// What replay or the writer knows of one WAL file.
#[derive(Clone, Debug, Default)]
pub struct WalFileInfo {
    pub index: u64,
    pub first_seq: u64,
    pub last_seq: Option<u64>,
    pub bytes: u64,
    /// Bytes of records per tenant.
    pub tenant_bytes: HashMap<String, u64>,
}

struct State {
    file: Arc<dyn VfsFile>,
    current: WalFileInfo,
    file_start_lsn: u64,
    written_lsn: u64,
    durable_lsn: u64,
    sync_running: bool,
    next_seq: u64,
    poisoned: Option<String>,
    closed_files: Vec<WalFileInfo>,
}

/// The shared write-ahead log of an engine.
pub struct WalWriter {
    vfs: Arc<dyn Vfs>,
    dir: String,
    max_file_bytes: u64,
    state: Mutex<State>,
    synced: Condvar,
}

impl WalWriter {
    /// Starts a new WAL file numbered `file_index` whose first record will carry
    /// `next_seq`. `closed_files` are the older files still on disk.
    pub fn create(
        vfs: Arc<dyn Vfs>,
        dir: &str,
        max_file_bytes: u64,
        file_index: u64,
        next_seq: u64,
        closed_files: Vec<WalFileInfo>,
    ) -> Result<Self> {
        let file = create_wal_file(vfs.as_ref(), dir, file_index, next_seq)?;
        let lsn = WAL_HEADER_LEN as u64;
        let state = State {
            file,
            current: new_info(file_index, next_seq),
            file_start_lsn: 0,
            written_lsn: lsn,
            durable_lsn: lsn,
            sync_running: false,
            next_seq,
            poisoned: None,
            closed_files,
        };
        Ok(WalWriter {
            vfs,
            dir: dir.to_string(),
            max_file_bytes: max_file_bytes.max(WAL_HEADER_LEN as u64 + 1),
            state: Mutex::new(state),
            synced: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends a record for `tenant`. Under the WAL lock, `prepare` runs first
    /// (it may refuse the write: nothing is appended), then the record is
    /// appended, then `apply(seq, prepared)` runs. Returns `apply`'s result and
    /// the LSN that must become durable before the write may be acknowledged
    /// in `Sync` mode.
    pub fn append<P, R>(
        &self,
        tenant: &str,
        record: &mut EncodedRecord,
        prepare: impl FnOnce() -> Result<P>,
        apply: impl FnOnce(u64, P) -> R,
    ) -> Result<(R, u64)> {
        let mut st = self.lock();
        if let Some(cause) = &st.poisoned {
            return Err(Error::Poisoned {
                cause: cause.clone(),
            });
        }
        if st.written_lsn - st.file_start_lsn >= self.max_file_bytes {
            self.rotate_locked(&mut st)?;
        }
        let prepared = prepare()?;
        let seq = st.next_seq;
        let synced_through = st.durable_lsn.saturating_sub(st.file_start_lsn);
        let frame = record.seal(seq, synced_through);
        let len = frame.len() as u64;
        let path = self.path(st.current.index);
        if let Err(e) = st.file.append(frame) {
            let good_len = st.written_lsn - st.file_start_lsn;
            if let Err(e2) = st.file.truncate(good_len) {
                st.poisoned = Some(format!("append failed ({e}) and rollback failed ({e2})"));
            }
            return Err(Error::io(path, e));
        }
        st.next_seq += 1;
        st.written_lsn += len;
        st.current.bytes += len;
        st.current.last_seq = Some(seq);
        *st.current
            .tenant_bytes
            .entry(tenant.to_string())
            .or_default() += len;
        let applied = apply(seq, prepared);
        Ok((applied, st.written_lsn))
    }

    /// Blocks until everything up to `lsn` is durable (group commit).
    pub fn wait_durable(&self, lsn: u64) -> Result<()> {
        let mut st = self.lock();
        loop {
            if st.durable_lsn >= lsn {
                return Ok(());
            }
            if let Some(cause) = &st.poisoned {
                return Err(Error::Poisoned {
                    cause: cause.clone(),
                });
            }
            if st.sync_running {
                st = self.synced.wait(st).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            // Become the leader: sync everything written so far, outside the lock.
            st.sync_running = true;
            let file = Arc::clone(&st.file);
            let upto = st.written_lsn;
            let index = st.current.index;
            drop(st);
            let result = file.sync_data();
            st = self.lock();
            st.sync_running = false;
            match result {
                Ok(()) => st.durable_lsn = st.durable_lsn.max(upto),
                Err(e) => {
                    let err = Error::io(self.path(index), e);
                    st.poisoned = Some(format!("fsync failed: {err}"));
                }
            }
            self.synced.notify_all();
        }
    }

    /// Makes everything appended so far durable.
    pub fn sync(&self) -> Result<()> {
        let lsn = self.lock().written_lsn;
        self.wait_durable(lsn)
    }

    /// Closes the current file (synced) and starts a new one.
    pub fn rotate(&self) -> Result<()> {
        let mut st = self.lock();
        if let Some(cause) = &st.poisoned {
            return Err(Error::Poisoned {
                cause: cause.clone(),
            });
        }
        self.rotate_locked(&mut st)
    }

    /// Rotates only when the current file holds records.
    pub fn rotate_if_used(&self) -> Result<()> {
        let used = self.lock().current.last_seq.is_some();
        if used {
            self.rotate()?;
        }
        Ok(())
    }

    fn rotate_locked(&self, st: &mut State) -> Result<()> {
        // A running group-commit leader may still sync the old file; syncing it
        // here as well is harmless and makes the whole old file durable.
        let old_path = self.path(st.current.index);
        if let Err(e) = st.file.sync_data() {
            let err = Error::io(old_path, e);
            st.poisoned = Some(format!("fsync failed: {err}"));
            return Err(err);
        }
        st.durable_lsn = st.durable_lsn.max(st.written_lsn);
        let index = st.current.index + 1;
        let file = match create_wal_file(self.vfs.as_ref(), &self.dir, index, st.next_seq) {
            Ok(f) => f,
            Err(e) => {
                // The old file stays current, so ENOSPC here does not poison:
                // writes resume when space returns. Whatever exists of the new
                // file must first be gone durably, or replay would find a
                // non-last file with a torn tail and a later rotation could
                // not create it.
                if let Err(e2) = self.discard_file(index) {
                    let msg = format!("WAL rotation failed ({e}) and cleanup failed ({e2})");
                    st.poisoned = Some(msg);
                }
                return Err(e);
            }
        };
        let old = std::mem::replace(&mut st.current, new_info(index, st.next_seq));
        st.closed_files.push(old);
        st.file = file;
        st.file_start_lsn = st.written_lsn;
        st.written_lsn += WAL_HEADER_LEN as u64;
        st.durable_lsn = st.written_lsn;
        self.synced.notify_all();
        Ok(())
    }

    /// Removes WAL file `index` if it exists and makes that durable.
    fn discard_file(&self, index: u64) -> Result<()> {
        let path = self.path(index);
        match self.vfs.remove(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(path, e)),
        }
        self.vfs
            .sync_dir(&self.dir)
            .map_err(|e| Error::io(self.dir.clone(), e))
    }

    /// Removes closed WAL files all of whose records have `seq < min_needed_seq`.
    /// Returns the number of files removed.
    pub fn trim(&self, min_needed_seq: u64) -> Result<usize> {
        let removable: Vec<u64> = self
            .lock()
            .closed_files
            .iter()
            .filter(|f| f.last_seq.is_none_or(|s| s < min_needed_seq))
            .map(|f| f.index)
            .collect();
        for &index in &removable {
            let path = self.path(index);
            match self.vfs.remove(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(path, e)),
            }
            self.lock().closed_files.retain(|f| f.index != index);
        }
        if !removable.is_empty() {
            self.vfs
                .sync_dir(&self.dir)
                .map_err(|e| Error::io(self.dir.clone(), e))?;
        }
        Ok(removable.len())
    }

    /// The sequence number the next record will carry.
    pub fn next_seq(&self) -> u64 {
        self.lock().next_seq
    }

    /// Total bytes of all WAL files on disk.
    pub fn total_bytes(&self) -> u64 {
        let st = self.lock();
        st.closed_files.iter().map(|f| f.bytes).sum::<u64>() + st.current.bytes
    }

    /// Every WAL file on disk, oldest first, the current one last.
    pub fn files(&self) -> Vec<WalFileInfo> {
        let st = self.lock();
        let mut files = st.closed_files.clone();
        files.push(st.current.clone());
        files
    }

    /// The poisoning cause, if any.
    pub fn poisoned(&self) -> Option<String> {
        self.lock().poisoned.clone()
    }

    fn path(&self, index: u64) -> String {
        join(&self.dir, &wal_file_name(index))
    }
}

fn new_info(index: u64, first_seq: u64) -> WalFileInfo {
    WalFileInfo {
        index,
        first_seq,
        last_seq: None,
        bytes: WAL_HEADER_LEN as u64,
        tenant_bytes: HashMap::new(),
    }
}

/// Creates a WAL file with its header, synced, with a durable directory entry.
fn create_wal_file(
    vfs: &dyn Vfs,
    dir: &str,
    index: u64,
    first_seq: u64,
) -> Result<Arc<dyn VfsFile>> {
    let path = join(dir, &wal_file_name(index));
    let file = vfs.create(&path).map_err(|e| Error::io(path.clone(), e))?;
    let header = encode_header(first_seq);
    file.append(&header)
        .map_err(|e| Error::io(path.clone(), e))?;
    file.sync_data().map_err(|e| Error::io(path.clone(), e))?;
    vfs.sync_dir(dir)
        .map_err(|e| Error::io(dir.to_string(), e))?;
    Ok(Arc::from(file))
}
