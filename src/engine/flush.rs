//! Flushing memtables to segments, trimming the WAL, dropping tenants, and
//! the background flusher.
//!
//! Flush order for one frozen memtable (each step durable before the next):
//! 1. segment file written and `sync_data`ed, tenant directory synced;
//! 2. manifest rewritten (tmp, sync, rename, directory sync) naming the
//!    segment and `flushed_seq = frozen.max_seq`;
//! 3. the segment is installed in the tenant's state and the frozen memtable
//!    dropped (one critical section: readers see one or the other);
//! 4. WAL files all of whose records are in segments are removed.
//!
//! A crash between any two steps leaves either an orphan segment (removed at
//! open; the WAL still has the data) or WAL records at or below `flushed_seq`
//! (skipped at replay): never a lost or duplicated point.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::lossy::LossyRules;
use super::{EngineInner, TenantInner};
use crate::error::{Error, Result};
use crate::manifest::{write_manifest, SegmentEntry};
use crate::memtable::FrozenMemtable;
use crate::model::SeriesKey;
use crate::segment::{segment_file_name, write_segment, Segment, SeriesToWrite};
use crate::vfs::join;

pub(crate) const DROPPED_MARKER: &str = "DROPPED";

impl EngineInner {
    pub(crate) fn lock_flush(&self) -> std::sync::MutexGuard<'_, ()> {
        self.flush_lock.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Live tenants: a tenant whose drop marker is durable is gone for
    /// flushes and WAL trimming, even while it stays in the map.
    fn tenant_list(&self) -> Vec<Arc<TenantInner>> {
        let map = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        map.values()
            .filter(|t| !t.read().drop_marked)
            .cloned()
            .collect()
    }

    /// Flushes every tenant and trims the WAL.
    pub fn flush_all(&self) -> Result<()> {
        let _g = self.lock_flush();
        for t in self.tenant_list() {
            self.flush_tenant_locked(&t)?;
        }
        // Everything is in segments now: start a new WAL file so that the old
        // ones, the current one included, can go.
        self.wal.rotate_if_used()?;
        self.trim_wal()
    }

    /// Freezes and flushes one tenant; the caller holds `flush_lock`.
    /// Returns the tenant's `last_seq` at the freeze: the live segments then
    /// hold exactly its writes up to that sequence number (engine/pin.rs).
    pub(crate) fn flush_tenant_locked(&self, t: &TenantInner) -> Result<u64> {
        let seq = freeze(t);
        loop {
            // Bind first: a guard in a `while let` scrutinee would live through
            // the body and deadlock with the write lock `flush_frozen` takes.
            let next = t.read().frozen.first().cloned();
            let Some(frozen) = next else { break };
            self.flush_frozen(t, &frozen)?;
        }
        Ok(seq)
    }

    fn flush_frozen(&self, t: &TenantInner, frozen: &Arc<FrozenMemtable>) -> Result<()> {
        let (id, mut manifest, on_disk) = {
            let mut st = t.write();
            let id = st.next_segment_id;
            st.next_segment_id += 1;
            (id, st.manifest.clone(), st.on_disk)
        };
        if !on_disk {
            self.create_tenant_dir(&t.dir)?;
        }
        let path = join(&t.dir, &segment_file_name(id));
        let rules = LossyRules::new(&manifest.lossy);
        let series: Vec<SeriesToWrite<'_>> = frozen
            .series
            .iter()
            .filter(|s| !s.cols.is_empty())
            .map(|s| SeriesToWrite {
                key: &s.key,
                value_type: s.value_type,
                cols: &s.cols,
                lossy: rules.for_key(&s.key),
            })
            .collect();
        let written = write_segment(self.vfs.as_ref(), &path, &series)?;
        self.vfs
            .sync_dir(&t.dir)
            .map_err(|e| Error::io(t.dir.clone(), e))?;
        let segment = Arc::new(Segment::open(Arc::clone(&self.vfs), &path, id)?);
        // The WAL must hold every record up to `flushed_seq` durably before the
        // manifest says so: otherwise, in Periodic/None mode, power loss could
        // keep this tenant's flushed batch but lose an earlier batch of another
        // tenant (not a prefix), or leave a sequence gap in the WAL.
        if let Err(e) = self.wal.sync() {
            segment.mark_obsolete();
            return Err(e);
        }
        manifest.generation += 1;
        manifest.flushed_seq = manifest.flushed_seq.max(frozen.max_seq);
        manifest.next_segment_id = id + 1;
        manifest.segments.push(SegmentEntry {
            id,
            file_len: written.file_len,
            points: written.points,
            ts_min: written.ts_min,
            ts_max: written.ts_max,
        });
        // On failure the segment is not marked obsolete: the failure may come
        // after the rename (the directory sync), so the manifest on disk may
        // name it. If it does not, the file is an orphan, removed at open.
        write_manifest(self.vfs.as_ref(), &t.dir, &manifest)?;
        let mut st = t.write();
        let mut segments = st.segments.as_ref().clone();
        segments.push(segment);
        st.segments = Arc::new(segments);
        st.manifest = manifest;
        st.on_disk = true;
        st.frozen.retain(|f| !Arc::ptr_eq(f, frozen));
        drop(st);
        self.mem_bytes.fetch_sub(frozen.bytes, Ordering::SeqCst);
        self.notify(|_| {});
        Ok(())
    }

    /// Creates a tenant directory durably (entry synced in `tenants/`).
    pub(crate) fn create_tenant_dir(&self, dir: &str) -> Result<()> {
        self.vfs
            .create_dir_all(dir)
            .map_err(|e| Error::io(dir, e))?;
        self.vfs
            .sync_dir("tenants")
            .map_err(|e| Error::io("tenants", e))
    }

    /// Removes WAL files whose records are all in segments.
    pub fn trim_wal(&self) -> Result<()> {
        // Read next_seq first: any record appended later has a higher seq.
        let mut min_needed = self.wal.next_seq();
        for t in self.tenant_list() {
            if let Some(s) = t.read().min_unflushed_seq() {
                min_needed = min_needed.min(s);
            }
        }
        self.wal.trim(min_needed).map(|_| ())
    }

    /// Flushes before a write when memory is over budget (inline mode), or
    /// waits for the background flusher while memtables fill the whole budget
    /// (it starts flushing at half the budget, see `after_write`).
    pub fn make_room(&self) -> Result<()> {
        let budget = self.opts.memtable_budget_bytes;
        if self.mem_bytes.load(Ordering::SeqCst) < budget {
            return Ok(());
        }
        if !self.opts.background_flush {
            return self.flush_largest();
        }
        self.notify(|s| s.flush_wanted = true);
        let (lock, cv) = &self.signal;
        let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
        while self.mem_bytes.load(Ordering::SeqCst) >= budget {
            if let Some(e) = &g.last_error {
                return Err(Error::Io {
                    path: "background flush".into(),
                    source: std::io::Error::other(e.clone()),
                });
            }
            if self.closed.load(Ordering::SeqCst) {
                return Err(Error::Closed);
            }
            g = cv
                .wait_timeout(g, Duration::from_millis(50))
                .map(|r| r.0)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        Ok(())
    }

    /// After a write: wake the flusher when memtables hold half the budget
    /// (so the other half takes writes while it runs) or the WAL is too big.
    pub fn after_write(&self) {
        let half = self.opts.memtable_budget_bytes / 2;
        let over_mem = self.mem_bytes.load(Ordering::SeqCst) >= half;
        let over_wal = self.wal.total_bytes() >= self.opts.wal_max_bytes;
        if self.opts.background_flush && (over_mem || over_wal) {
            self.notify(|s| s.flush_wanted = true);
        }
    }

    fn notify(&self, f: impl FnOnce(&mut super::Signal)) {
        let (lock, cv) = &self.signal;
        let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g);
        g.generation += 1;
        cv.notify_all();
    }

    /// Flushes the tenant with the most memtable bytes, then trims the WAL.
    pub fn flush_largest(&self) -> Result<()> {
        let _g = self.lock_flush();
        let largest = self
            .tenant_list()
            .into_iter()
            .max_by_key(|t| t.read().mem_bytes());
        if let Some(t) = largest {
            self.flush_tenant_locked(&t)?;
        }
        self.trim_wal()
    }

    /// Flushes the tenant pinning the oldest WAL record, then trims the WAL.
    fn flush_oldest(&self) -> Result<()> {
        let _g = self.lock_flush();
        let oldest = self
            .tenant_list()
            .into_iter()
            .filter_map(|t| t.read().min_unflushed_seq().map(|s| (s, t.clone())))
            .min_by_key(|(s, _)| *s);
        if let Some((_, t)) = oldest {
            self.flush_tenant_locked(&t)?;
        }
        self.trim_wal()
    }

    /// The background flusher's loop.
    pub fn run_flusher(self: Arc<Self>) {
        loop {
            {
                let (lock, cv) = &self.signal;
                let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
                while !g.flush_wanted && !self.closed.load(Ordering::SeqCst) {
                    g = cv.wait(g).unwrap_or_else(|e| e.into_inner());
                }
                g.flush_wanted = false;
            }
            if self.closed.load(Ordering::SeqCst) {
                return;
            }
            let half = self.opts.memtable_budget_bytes / 2;
            let over_mem = self.mem_bytes.load(Ordering::SeqCst) >= half;
            let result = if over_mem {
                self.flush_largest()
            } else if self.wal.total_bytes() >= self.opts.wal_max_bytes {
                self.flush_oldest()
            } else {
                Ok(())
            };
            self.notify(|s| s.last_error = result.err().map(|e| e.to_string()));
        }
    }

    /// Deletes a tenant: marker, flush of the others, WAL rotation and trim,
    /// then the directory.
    pub fn drop_tenant(&self, name: &str) -> Result<()> {
        let t = {
            let map = self.tenants.read().unwrap_or_else(|e| e.into_inner());
            map.get(name)
                .cloned()
                .ok_or_else(|| Error::TenantNotFound(name.to_string()))?
        };
        let _g = self.lock_flush();
        let (on_disk, marked) = {
            let mut st = t.write();
            st.dropped = true;
            (st.on_disk, st.drop_marked)
        };
        if !marked {
            // The marker is written even for a tenant only in the WAL: a crash
            // while old WAL files are being removed must not resurrect part of it.
            if !on_disk {
                self.create_tenant_dir(&t.dir)?;
            }
            let marker = join(&t.dir, DROPPED_MARKER);
            let exists = self.vfs.exists(&marker);
            if !exists.map_err(|e| Error::io(marker.clone(), e))? {
                let f = self.vfs.create(&marker);
                let f = f.map_err(|e| Error::io(marker.clone(), e))?;
                f.sync_data().map_err(|e| Error::io(marker.clone(), e))?;
            }
            let synced = self.vfs.sync_dir(&t.dir);
            synced.map_err(|e| Error::io(t.dir.clone(), e))?;
            let freed = {
                let mut st = t.write();
                st.drop_marked = true;
                st.mem_bytes()
            };
            self.mem_bytes.fetch_sub(freed, Ordering::SeqCst);
        }
        // The tenant leaves the map only once the drop is finished: if it
        // fails, `tenant(name)` keeps returning the dropped handle (writes
        // refused) instead of a new tenant whose acknowledged writes the
        // durable marker would delete at the next open. A retry finishes it.
        self.finish_drop_locked(&t.dir)?;
        let mut map = self.tenants.write().unwrap_or_else(|e| e.into_inner());
        if map.get(name).is_some_and(|m| Arc::ptr_eq(m, &t)) {
            map.remove(name);
        }
        Ok(())
    }

    /// Flushes every live tenant, rotates and trims the WAL so no record of a
    /// dropped tenant remains, then removes its directory.
    pub fn finish_drop_locked(&self, dir: &str) -> Result<()> {
        for t in self.tenant_list() {
            self.flush_tenant_locked(&t)?;
        }
        self.wal.rotate()?;
        self.trim_wal()?;
        match self.vfs.remove_dir_all(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(dir, e)),
        }
        self.vfs
            .sync_dir("tenants")
            .map_err(|e| Error::io("tenants", e))
    }
}

/// Moves the active memtable of `t` to its frozen list; returns `last_seq`
/// read in the same critical section.
fn freeze(t: &TenantInner) -> u64 {
    let mut st = t.write();
    if st.active.is_empty() {
        return st.last_seq;
    }
    let active = std::mem::take(&mut st.active);
    let catalog = &st.catalog;
    // Memtables only hold ids the catalog issued, so nothing is skipped.
    let resolve = |id| {
        catalog
            .get(id)
            .map(|e| (SeriesKey::clone(&e.key), e.value_type))
    };
    let frozen = active.freeze(resolve);
    st.frozen.push(Arc::new(frozen));
    st.last_seq
}
