//! Opening an engine: directories, tenants (manifest, segments, catalog,
//! orphan removal), WAL replay, unfinished drops, background threads.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};

use super::flush::DROPPED_MARKER;
use super::{Engine, EngineInner, Options, RecoveryReport, Signal, TenantInner, TenantState};
use crate::error::{CorruptionKind, Error, Result};
use crate::manifest::{read_manifest, MANIFEST_FILE};
use crate::model::validate_tenant_name;
use crate::query::LatestCache;
use crate::segment::{segment_file_name, Segment};
use crate::vfs::{join, StdFs, Vfs};
use crate::wal::{replay, Durability, RecordView, WalWriter};

pub(super) fn open(path: &Path, opts: Options) -> Result<Engine> {
    let (vfs, lock) = match &opts.vfs {
        Some(v) => (Arc::clone(v), None),
        None => {
            let fs = StdFs::new(path).map_err(|e| Error::io(path.display().to_string(), e))?;
            let lock = lock_dir(path)?;
            (Arc::new(fs) as Arc<dyn Vfs>, Some(lock))
        }
    };
    for dir in ["wal", "tenants"] {
        vfs.create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    vfs.sync_dir("").map_err(|e| Error::io("(root)", e))?;
    let mut report = RecoveryReport::default();
    let (mut tenants, pending_drops) = load_tenants(&vfs, &mut report)?;
    let mut mem_bytes = 0usize;
    let outcome = replay(&vfs, "wal", |rec| {
        replay_record(rec, &mut tenants, &pending_drops, &mut mem_bytes)
    })?;
    report.wal_records_replayed = outcome.records;
    report.torn_tail = outcome.torn_tail.clone();
    let max_flushed = tenants
        .values()
        .map(|t| t.read().manifest.flushed_seq)
        .max()
        .unwrap_or(0);
    let next_seq = outcome.next_seq.unwrap_or(1).max(max_flushed + 1);
    let wal = WalWriter::create(
        Arc::clone(&vfs),
        "wal",
        opts.wal_file_bytes,
        outcome.next_file_index,
        next_seq,
        outcome.files,
    )?;
    let inner = Arc::new(EngineInner {
        vfs,
        opts,
        wal,
        tenants: RwLock::new(tenants),
        flush_lock: Mutex::new(()),
        mem_bytes: AtomicUsize::new(mem_bytes),
        signal: (Mutex::new(Signal::default()), Condvar::new()),
        closed: AtomicBool::new(false),
    });
    for name in &pending_drops {
        let _g = inner.flush_lock.lock().unwrap_or_else(|e| e.into_inner());
        inner.finish_drop_locked(&join("tenants", name))?;
        report.drops_completed.push(name.clone());
    }
    let threads = start_threads(&inner);
    Ok(Engine {
        inner,
        threads: Mutex::new(threads),
        report,
        _lock: lock,
    })
}

fn lock_dir(path: &Path) -> Result<std::fs::File> {
    let lock_path = path.join("LOCK");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io(lock_path.display().to_string(), e))?;
    file.try_lock().map_err(|_| {
        Error::invalid(
            "data directory",
            format!("{} is in use by another process", path.display()),
        )
    })?;
    Ok(file)
}

type Tenants = BTreeMap<String, Arc<TenantInner>>;

fn load_tenants(
    vfs: &Arc<dyn Vfs>,
    report: &mut RecoveryReport,
) -> Result<(Tenants, HashSet<String>)> {
    let mut tenants = BTreeMap::new();
    let mut drops = HashSet::new();
    let names = vfs.list("tenants").map_err(|e| Error::io("tenants", e))?;
    for name in names {
        let dir = join("tenants", &name);
        if validate_tenant_name(&name).is_err() {
            let msg = format!("unexpected entry {name:?} in tenants/");
            return Err(Error::corruption(dir, 0, CorruptionKind::Invalid(msg)));
        }
        if vfs
            .exists(&join(&dir, DROPPED_MARKER))
            .map_err(|e| Error::io(dir.clone(), e))?
        {
            drops.insert(name);
            continue;
        }
        let state = load_tenant(vfs, &dir, report)?;
        tenants.insert(name.clone(), Arc::new(TenantInner::new(&name, state)));
    }
    Ok((tenants, drops))
}

fn load_tenant(vfs: &Arc<dyn Vfs>, dir: &str, report: &mut RecoveryReport) -> Result<TenantState> {
    let mut state = TenantState::new_empty();
    let Some(manifest) = read_manifest(vfs.as_ref(), dir)? else {
        // Created but never got a manifest: everything in it is garbage.
        remove_orphans(vfs, dir, &HashSet::new(), report)?;
        state.on_disk = true;
        return Ok(state);
    };
    let mut segments = Vec::with_capacity(manifest.segments.len());
    let mut live = HashSet::new();
    live.insert(MANIFEST_FILE.to_string());
    for entry in &manifest.segments {
        let name = segment_file_name(entry.id);
        let path = join(dir, &name);
        let segment = Segment::open(Arc::clone(vfs), &path, entry.id).map_err(|e| match e {
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                let msg = "segment named by the manifest is missing".to_string();
                Error::corruption(path.clone(), 0, CorruptionKind::Invalid(msg))
            }
            other => other,
        })?;
        if segment.file_len() != entry.file_len || segment.points() != entry.points {
            let msg = "segment length or point count differs from the manifest".to_string();
            return Err(Error::corruption(path, 0, CorruptionKind::Invalid(msg)));
        }
        for s in segment.series() {
            state.catalog.get_or_create(&s.key, s.value_type)?;
        }
        live.insert(name);
        segments.push(Arc::new(segment));
    }
    remove_orphans(vfs, dir, &live, report)?;
    state.latest = LatestCache::from_segments(&state.catalog, &segments)?;
    state.last_seq = manifest.flushed_seq;
    state.segments = Arc::new(segments);
    state.next_segment_id = manifest.next_segment_id;
    state.manifest = manifest;
    state.on_disk = true;
    Ok(state)
}

/// Removes files of a tenant directory that the manifest does not name.
fn remove_orphans(
    vfs: &Arc<dyn Vfs>,
    dir: &str,
    live: &HashSet<String>,
    report: &mut RecoveryReport,
) -> Result<()> {
    let names = vfs.list(dir).map_err(|e| Error::io(dir, e))?;
    let mut removed = false;
    for name in names.iter().filter(|n| !live.contains(*n)) {
        let path = join(dir, name);
        vfs.remove(&path).map_err(|e| Error::io(path.clone(), e))?;
        report.orphan_files_removed.push(path);
        removed = true;
    }
    if removed {
        vfs.sync_dir(dir).map_err(|e| Error::io(dir, e))?;
    }
    Ok(())
}

fn replay_record(
    rec: RecordView<'_>,
    tenants: &mut Tenants,
    drops: &HashSet<String>,
    mem_bytes: &mut usize,
) -> Result<()> {
    if drops.contains(rec.tenant) {
        return Ok(());
    }
    if validate_tenant_name(rec.tenant).is_err() {
        let msg = format!("record names an invalid tenant {:?}", rec.tenant);
        return Err(Error::corruption("wal", 0, CorruptionKind::Invalid(msg)));
    }
    let t = tenants
        .entry(rec.tenant.to_string())
        .or_insert_with(|| Arc::new(TenantInner::new(rec.tenant, TenantState::new_empty())));
    let mut st = t.write();
    if rec.seq <= st.manifest.flushed_seq {
        return Ok(());
    }
    let before = st.active.bytes();
    for s in &rec.series {
        let id = st.catalog.get_or_create(&s.key, s.value_type)?;
        st.active
            .insert_le(id, s.ts_le, s.values_le, s.quality, rec.seq);
        st.latest.observe_le(id, s.ts_le, s.values_le, s.quality);
    }
    st.last_seq = rec.seq;
    *mem_bytes += st.active.bytes() - before;
    Ok(())
}

fn start_threads(inner: &Arc<EngineInner>) -> Vec<std::thread::JoinHandle<()>> {
    let mut threads = Vec::new();
    if inner.opts.background_flush {
        let e = Arc::clone(inner);
        threads.push(std::thread::spawn(move || e.run_flusher()));
    }
    if let Durability::Periodic(interval) = inner.opts.durability {
        let e = Arc::clone(inner);
        threads.push(std::thread::spawn(move || run_periodic_sync(&e, interval)));
    }
    threads
}

fn run_periodic_sync(e: &EngineInner, interval: std::time::Duration) {
    let (lock, cv) = &e.signal;
    loop {
        // The condvar also wakes for flush signals: sleep out the whole interval.
        let deadline = std::time::Instant::now() + interval;
        let mut g = lock.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let now = std::time::Instant::now();
            if e.closed.load(Ordering::SeqCst) || now >= deadline {
                break;
            }
            g = match cv.wait_timeout(g, deadline - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
        drop(g);
        if e.closed.load(Ordering::SeqCst) {
            return;
        }
        // A failure poisons the WAL; the next write reports it.
        let _ = e.wal.sync();
    }
}
