//! A tenant: its catalog, memtables and live segments, and the handle through
//! which callers write and read it.
//!
//! Invariants:
//! 1. A [`Tenant`] handle reaches exactly one tenant: no method takes a tenant
//!    name, so a handle cannot read another tenant's data.
//! 2. `TenantState` is one lock: a reader copies what it needs (active memtable
//!    slices, `Arc`s of frozen memtables and of the segment list) in one
//!    critical section, so it never sees a flush half applied.
//! 3. Writes hold the WAL lock and then this tenant's state lock; nothing takes
//!    them in the other order.

use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::EngineInner;
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::memtable::{FrozenMemtable, Memtable, SeriesId};
use crate::model::{Limits, SeriesKey, WriteBatch};
use crate::query::LatestCache;
use crate::segment::Segment;
use crate::vfs::join;
use crate::wal::{Durability, EncodedRecord};

/// Everything of a tenant that changes, under one lock.
#[derive(Debug, Default)]
pub(crate) struct TenantState {
    pub catalog: Catalog,
    pub active: Memtable,
    /// Oldest first.
    pub frozen: Vec<Arc<FrozenMemtable>>,
    /// Live segments, oldest first (later segments hold newer writes).
    pub segments: Arc<Vec<Arc<Segment>>>,
    pub manifest: Manifest,
    /// The latest point of every series (query/last.rs).
    pub latest: LatestCache,
    /// Sequence number of the last write batch applied to this tenant (at
    /// open: the manifest's `flushed_seq`, then replayed records): a snapshot
    /// taken under this lock holds exactly the writes with `seq <= last_seq`.
    pub last_seq: u64,
    /// Next segment id to use; only grows, even when a flush fails.
    pub next_segment_id: u64,
    /// The tenant directory and its manifest exist on disk.
    pub on_disk: bool,
    /// The tenant is being dropped: writes are refused.
    pub dropped: bool,
    /// The drop marker is durable: the tenant is gone for flushes and WAL
    /// trimming, and stays in the map only until its drop is finished.
    pub drop_marked: bool,
}

impl TenantState {
    /// Lowest sequence number still only in memory (WAL needed for it).
    pub fn min_unflushed_seq(&self) -> Option<u64> {
        self.frozen
            .first()
            .map(|f| f.min_seq)
            .or_else(|| self.active.min_seq())
    }

    /// Bytes held by memtables.
    pub fn mem_bytes(&self) -> usize {
        self.active.bytes() + self.frozen.iter().map(|f| f.bytes).sum::<usize>()
    }
}

/// The shared part of a tenant.
#[derive(Debug)]
pub(crate) struct TenantInner {
    pub name: String,
    pub dir: String,
    pub state: RwLock<TenantState>,
}

impl TenantInner {
    pub fn new(name: &str, state: TenantState) -> Self {
        TenantInner {
            name: name.to_string(),
            dir: join("tenants", name),
            state: RwLock::new(state),
        }
    }

    pub fn read(&self) -> RwLockReadGuard<'_, TenantState> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, TenantState> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a successful write got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteReceipt {
    /// The batch's sequence number (0 for an empty batch).
    pub seq: u64,
    /// The guarantee the acknowledgement carries.
    pub durability: Durability,
}

/// A handle to one tenant.
#[derive(Clone)]
pub struct Tenant {
    pub(crate) inner: Arc<TenantInner>,
    pub(crate) engine: Arc<EngineInner>,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("name", &self.inner.name)
            .finish()
    }
}

impl Tenant {
    /// The tenant's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Writes a batch atomically. In `Sync` mode it returns once the batch is
    /// durable; an error means the batch was not acknowledged.
    pub fn write(&self, batch: &WriteBatch) -> Result<WriteReceipt> {
        let durability = self.engine.opts.durability;
        if batch.is_empty() {
            return Ok(WriteReceipt { seq: 0, durability });
        }
        check_batch(batch, &self.engine.opts.limits)?;
        if let Err(e) = self.engine.make_room() {
            // A poisoned WAL is the error to report: the caller must reopen.
            return Err(match self.engine.wal.poisoned() {
                Some(cause) => Error::Poisoned { cause },
                None => e,
            });
        }
        let mut record = EncodedRecord::new(&self.inner.name, batch);
        if record.too_large() {
            return Err(Error::LimitExceeded {
                what: "encoded batch bytes",
                got: record.frame_len() as u64,
                limit: crate::wal::MAX_PAYLOAD_LEN as u64,
            });
        }
        let limits = &self.engine.opts.limits;
        let ((added, seq), lsn) = self.engine.wal.append(
            &self.inner.name,
            &mut record,
            || self.prepare(batch, limits),
            |seq, (mut st, ids)| (apply(&mut st, batch, &ids, seq), seq),
        )?;
        self.engine.mem_bytes.fetch_add(added, Ordering::SeqCst);
        if durability == Durability::Sync {
            self.engine.wal.wait_durable(lsn)?;
        }
        self.engine.after_write();
        Ok(WriteReceipt { seq, durability })
    }

    /// Under the WAL lock: checks types and limits, returns the locked state
    /// and the ids of existing series (None = to create).
    fn prepare(
        &self,
        batch: &WriteBatch,
        limits: &Limits,
    ) -> Result<(RwLockWriteGuard<'_, TenantState>, Vec<Option<SeriesId>>)> {
        let st = self.inner.write();
        if st.dropped {
            return Err(Error::TenantNotFound(self.inner.name.clone()));
        }
        let mut ids = Vec::with_capacity(batch.series().len());
        let mut new = 0;
        for s in batch.series() {
            let id = st.catalog.check(&s.key, s.value_type, new, limits)?;
            new += usize::from(id.is_none());
            ids.push(id);
        }
        Ok((st, ids))
    }
}

/// Inserts a batch into the active memtable; returns the bytes added.
fn apply(st: &mut TenantState, batch: &WriteBatch, ids: &[Option<SeriesId>], seq: u64) -> usize {
    let before = st.active.bytes();
    for (s, id) in batch.series().iter().zip(ids) {
        let id = match id {
            Some(id) => *id,
            // Checked in `prepare`: the type matches and the limit holds.
            None => match st.catalog.get_or_create(&s.key, s.value_type) {
                Ok(id) => id,
                Err(_) => continue,
            },
        };
        st.active.insert(id, &s.cols, seq);
        st.latest.observe(id, &s.cols);
    }
    st.last_seq = seq;
    st.active.bytes() - before
}

/// Checks a batch against the configured limits (errors at limit + 1).
pub(crate) fn check_batch(batch: &WriteBatch, limits: &Limits) -> Result<()> {
    limit("points per batch", batch.len(), limits.max_batch_points)?;
    for s in batch.series() {
        check_key(&s.key, limits)?;
    }
    Ok(())
}

/// Checks a series key against the configured limits.
pub(crate) fn check_key(key: &SeriesKey, limits: &Limits) -> Result<()> {
    limit(
        "tags per series",
        key.tags().len(),
        limits.max_tags_per_series,
    )?;
    limit(
        "measurement name bytes",
        key.measurement().len(),
        limits.max_name_len,
    )?;
    for (k, v) in key.tags() {
        limit("tag key bytes", k.len(), limits.max_name_len)?;
        limit("tag value bytes", v.len(), limits.max_tag_value_len)?;
    }
    Ok(())
}

fn limit(what: &'static str, got: usize, limit: usize) -> Result<()> {
    if got > limit {
        return Err(Error::LimitExceeded {
            what,
            got: got as u64,
            limit: limit as u64,
        });
    }
    Ok(())
}

impl TenantState {
    /// The state of a tenant that has nothing on disk yet.
    pub fn new_empty() -> Self {
        TenantState {
            manifest: Manifest {
                next_segment_id: 1,
                ..Manifest::default()
            },
            next_segment_id: 1,
            ..TenantState::default()
        }
    }
}
