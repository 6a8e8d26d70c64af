//! [`FaultFs`]: a [`Vfs`] wrapper that injects EIO, ENOSPC and failed fsyncs
//! into the calls it forwards (RELIABILITY.md §6.1).
//!
//! It owns the fault plan ([`FaultConfig`]) and the counters; every file it
//! opens is wrapped so file calls are counted and faulted too.
//!
//! Invariants:
//! 1. Every trait call through the wrapper (fs or file) gets the next 0-based
//!    op index, faulted or not; `discard_unsynced` is forwarded uncounted.
//! 2. An injected fault returns before the inner call, so nothing of the op
//!    happens, except (a) a quota overrun, which really writes the bytes that
//!    still fit and then fails with ENOSPC, and (b) a `SyncData` fault under
//!    fsyncgate, which first drops the file's unsynced data in the inner fs.
//! 3. Once a targeted fault (`fail_at` / `fail_nth`) marked persistent fires,
//!    every later *mutating* op fails with the same kind until [`FaultFs::clear`];
//!    reads keep working.
//! 4. Random faults (`fail_prob`) only hit mutating ops and are reproducible:
//!    same seed and same op sequence => same faults.
//! 5. The quota bounds the bytes appended through the wrapper since it was set;
//!    it never lets more through.
//! 6. Clones share the plan and the counters.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use super::sim_fs::SplitMix64;
use super::{Mapping, Vfs, VfsFile};

/// The kinds of operation a fault can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    Create,
    OpenAppend,
    OpenRead,
    Map,
    Rename,
    Remove,
    CreateDir,
    RemoveDir,
    List,
    Exists,
    SyncDir,
    Append,
    ReadAt,
    Len,
    Truncate,
    SyncData,
}

impl OpKind {
    const COUNT: usize = 16;

    /// True for ops that change the file system (the ones persistent and
    /// random faults hit).
    pub fn is_mutating(self) -> bool {
        use OpKind::*;
        matches!(
            self,
            Create
                | Rename
                | Remove
                | CreateDir
                | RemoveDir
                | SyncDir
                | Append
                | Truncate
                | SyncData
        )
    }
}

/// The error an injected fault produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// `EIO` (raw OS error 5).
    Eio,
    /// `ENOSPC` (raw OS error 28).
    NoSpace,
}

impl FaultKind {
    /// The `io::Error` this fault returns.
    pub fn to_error(self) -> io::Error {
        match self {
            FaultKind::Eio => io::Error::from_raw_os_error(5),
            FaultKind::NoSpace => io::Error::from_raw_os_error(28),
        }
    }
}

/// The armed fault plan of a [`FaultFs`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultConfig {
    /// The op with this 0-based index (over all ops) fails.
    pub fail_at: Option<(u64, FaultKind)>,
    /// The n-th (0-based) op of this kind fails.
    pub fail_nth: Option<(OpKind, u64, FaultKind)>,
    /// After a `fail_at` / `fail_nth` fault, every later mutating op fails too.
    pub persistent: bool,
    /// Mutating ops fail with probability `p`: `(seed, p, kind)`.
    pub fail_prob: Option<(u64, f64, FaultKind)>,
    /// Bytes that may still be appended since the quota was set (`None`: no quota).
    pub quota: Option<u64>,
    /// A failed `SyncData` drops the file's unsynced data (fsyncgate).
    pub fsyncgate: bool,
}

#[derive(Debug)]
struct FaultState {
    cfg: FaultConfig,
    ops: u64,
    ops_by_kind: [u64; OpKind::COUNT],
    /// Set when a persistent fault fired.
    tripped: Option<FaultKind>,
    rng: SplitMix64,
    quota_used: u64,
    injected: u64,
}

impl FaultState {
    /// Counts one op and decides whether it fails.
    fn admit(&mut self, kind: OpKind) -> Option<FaultKind> {
        let index = self.ops;
        self.ops += 1;
        let nth = self.ops_by_kind.get_mut(kind as usize).map_or(0, |n| {
            *n += 1;
            *n - 1
        });
        let mut fault = self.tripped.filter(|_| kind.is_mutating());
        let targeted = match (self.cfg.fail_at, self.cfg.fail_nth) {
            (Some((at, k)), _) if at == index => Some(k),
            (_, Some((op, at, k))) if op == kind && at == nth => Some(k),
            _ => None,
        };
        if let Some(k) = targeted {
            fault = Some(k);
            if self.cfg.persistent {
                self.tripped = Some(k);
            }
        }
        if let Some((_, p, k)) = self.cfg.fail_prob {
            if kind.is_mutating() && self.rng.chance(p) && fault.is_none() {
                fault = Some(k);
            }
        }
        if fault.is_some() {
            self.injected += 1;
        }
        fault
    }

    /// Reserves quota for an append of `len` bytes; returns how many may be
    /// written when that is fewer than `len`.
    fn reserve(&mut self, len: usize) -> Option<usize> {
        let quota = self.cfg.quota?;
        let left = quota.saturating_sub(self.quota_used);
        if len as u64 <= left {
            self.quota_used += len as u64;
            return None;
        }
        self.quota_used = quota;
        self.injected += 1;
        Some(usize::try_from(left).unwrap_or(usize::MAX).min(len))
    }
}

/// A fault-injecting wrapper around another [`Vfs`]; clones share the plan.
#[derive(Debug, Clone)]
pub struct FaultFs {
    inner: Arc<dyn Vfs>,
    state: Arc<Mutex<FaultState>>,
}

impl FaultFs {
    /// Wraps `inner` with no faults armed.
    pub fn new(inner: Arc<dyn Vfs>) -> Self {
        Self::with_config(inner, FaultConfig::default())
    }

    /// Wraps `inner` with a fault plan.
    pub fn with_config(inner: Arc<dyn Vfs>, cfg: FaultConfig) -> Self {
        let seed = cfg.fail_prob.map_or(0, |(seed, _, _)| seed);
        let state = FaultState {
            cfg,
            ops: 0,
            ops_by_kind: [0; OpKind::COUNT],
            tripped: None,
            rng: SplitMix64::new(seed),
            quota_used: 0,
            injected: 0,
        };
        FaultFs {
            inner,
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// The wrapped file system.
    pub fn inner(&self) -> &Arc<dyn Vfs> {
        &self.inner
    }

    fn lock(&self) -> MutexGuard<'_, FaultState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The armed plan (the quota shows its full size, not what is left).
    pub fn config(&self) -> FaultConfig {
        self.lock().cfg.clone()
    }

    /// Ops seen so far (fs and file ops, faulted or not).
    pub fn op_count(&self) -> u64 {
        self.lock().ops
    }

    /// Ops of one kind seen so far.
    pub fn ops_of_kind(&self, kind: OpKind) -> u64 {
        self.lock()
            .ops_by_kind
            .get(kind as usize)
            .copied()
            .unwrap_or(0)
    }

    /// Faults injected so far (quota overruns included).
    pub fn faults_injected(&self) -> u64 {
        self.lock().injected
    }

    /// The op with 0-based index `op_index` fails with `kind`; with
    /// `persistent`, every later mutating op fails too, until [`Self::clear`].
    pub fn fail_at(&self, op_index: u64, kind: FaultKind, persistent: bool) {
        let mut st = self.lock();
        st.cfg.fail_at = Some((op_index, kind));
        st.cfg.persistent = persistent;
    }

    /// The `nth` (0-based) op of kind `op` fails with `kind`; `persistent` as
    /// for [`Self::fail_at`].
    pub fn fail_nth(&self, op: OpKind, nth: u64, kind: FaultKind, persistent: bool) {
        let mut st = self.lock();
        st.cfg.fail_nth = Some((op, nth, kind));
        st.cfg.persistent = persistent;
    }

    /// Every mutating op fails with probability `p`, drawn from `seed`.
    pub fn fail_prob(&self, seed: u64, p: f64, kind: FaultKind) {
        let mut st = self.lock();
        st.cfg.fail_prob = Some((seed, p, kind));
        st.rng = SplitMix64::new(seed);
    }

    /// Bounds the bytes appended from now on (`None` lifts the bound). An
    /// append that does not fit writes what fits and fails with ENOSPC.
    pub fn set_quota(&self, bytes: Option<u64>) {
        let mut st = self.lock();
        st.cfg.quota = bytes;
        st.quota_used = 0;
    }

    /// Adds `extra` bytes to the quota (no-op without a quota).
    pub fn raise_quota(&self, extra: u64) {
        let mut st = self.lock();
        if let Some(q) = st.cfg.quota.as_mut() {
            *q = q.saturating_add(extra);
        }
    }

    /// With `on`, a failed `SyncData` first drops that file's unsynced data in
    /// the inner fs (`discard_unsynced`), so the next sync "succeeds".
    pub fn set_fsyncgate(&self, on: bool) {
        self.lock().cfg.fsyncgate = on;
    }

    /// Removes every fault source (targeted, persistent, random, quota); the
    /// counters and the fsyncgate mode stay.
    pub fn clear(&self) {
        let mut st = self.lock();
        st.cfg = FaultConfig {
            fsyncgate: st.cfg.fsyncgate,
            ..FaultConfig::default()
        };
        st.tripped = None;
        st.quota_used = 0;
    }

    /// Counts one op; `Err` when a fault is injected.
    fn gate(&self, kind: OpKind) -> io::Result<()> {
        match self.lock().admit(kind) {
            Some(fault) => Err(fault.to_error()),
            None => Ok(()),
        }
    }

    fn wrap(&self, path: &str, file: io::Result<Box<dyn VfsFile>>) -> io::Result<Box<dyn VfsFile>> {
        Ok(Box::new(FaultFile {
            inner: file?,
            path: path.to_string(),
            fs: self.clone(),
        }))
    }
}

impl Vfs for FaultFs {
    fn create(&self, path: &str) -> io::Result<Box<dyn VfsFile>> {
        self.gate(OpKind::Create)?;
        self.wrap(path, self.inner.create(path))
    }

    fn open_append(&self, path: &str) -> io::Result<Box<dyn VfsFile>> {
        self.gate(OpKind::OpenAppend)?;
        self.wrap(path, self.inner.open_append(path))
    }

    fn open_read(&self, path: &str) -> io::Result<Box<dyn VfsFile>> {
        self.gate(OpKind::OpenRead)?;
        self.wrap(path, self.inner.open_read(path))
    }

    fn map_readonly(&self, path: &str) -> io::Result<Mapping> {
        self.gate(OpKind::Map)?;
        self.inner.map_readonly(path)
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        self.gate(OpKind::Rename)?;
        self.inner.rename(from, to)
    }

    fn remove(&self, path: &str) -> io::Result<()> {
        self.gate(OpKind::Remove)?;
        self.inner.remove(path)
    }

    fn create_dir_all(&self, path: &str) -> io::Result<()> {
        self.gate(OpKind::CreateDir)?;
        self.inner.create_dir_all(path)
    }

    fn remove_dir_all(&self, path: &str) -> io::Result<()> {
        self.gate(OpKind::RemoveDir)?;
        self.inner.remove_dir_all(path)
    }

    fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        self.gate(OpKind::List)?;
        self.inner.list(dir)
    }

    fn exists(&self, path: &str) -> io::Result<bool> {
        self.gate(OpKind::Exists)?;
        self.inner.exists(path)
    }

    fn sync_dir(&self, dir: &str) -> io::Result<()> {
        self.gate(OpKind::SyncDir)?;
        self.inner.sync_dir(dir)
    }

    fn discard_unsynced(&self, path: &str) -> io::Result<()> {
        self.inner.discard_unsynced(path)
    }
}

/// A file opened through a [`FaultFs`]; `path` is the path it was opened by.
struct FaultFile {
    inner: Box<dyn VfsFile>,
    path: String,
    fs: FaultFs,
}

impl VfsFile for FaultFile {
    fn append(&self, buf: &[u8]) -> io::Result<()> {
        let fits = {
            let mut st = self.fs.lock();
            if let Some(fault) = st.admit(OpKind::Append) {
                return Err(fault.to_error());
            }
            st.reserve(buf.len())
        };
        match fits {
            None => self.inner.append(buf),
            Some(n) => {
                if let Some(part) = buf.get(..n).filter(|p| !p.is_empty()) {
                    self.inner.append(part)?;
                }
                Err(FaultKind::NoSpace.to_error())
            }
        }
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.fs.gate(OpKind::ReadAt)?;
        self.inner.read_at(offset, buf)
    }

    fn len(&self) -> io::Result<u64> {
        self.fs.gate(OpKind::Len)?;
        self.inner.len()
    }

    fn truncate(&self, len: u64) -> io::Result<()> {
        self.fs.gate(OpKind::Truncate)?;
        self.inner.truncate(len)
    }

    fn sync_data(&self) -> io::Result<()> {
        let (fault, fsyncgate) = {
            let mut st = self.fs.lock();
            (st.admit(OpKind::SyncData), st.cfg.fsyncgate)
        };
        if let Some(fault) = fault {
            if fsyncgate {
                // Best effort: the file may have been renamed or removed since.
                let _ = self.fs.inner.discard_unsynced(&self.path);
            }
            return Err(fault.to_error());
        }
        self.inner.sync_data()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::error::is_no_space;
    use crate::vfs::{CrashConfig, SimFs};

    fn setup() -> (SimFs, FaultFs) {
        let sim = SimFs::new();
        let fault = FaultFs::new(Arc::new(sim.clone()));
        (sim, fault)
    }

    /// A small workload; returns the result of every op it issued, in order.
    fn workload(fs: &FaultFs) -> Vec<io::Result<()>> {
        let mut out = Vec::new();
        out.push(fs.create_dir_all("d"));
        match fs.create("d/f") {
            Ok(f) => {
                out.push(Ok(()));
                out.push(f.append(b"abc"));
                out.push(f.sync_data());
                let mut buf = [0u8; 3];
                out.push(f.read_at(0, &mut buf));
            }
            Err(e) => out.push(Err(e)),
        }
        out.push(fs.sync_dir("d"));
        out
    }

    #[test]
    fn fail_at_hits_exactly_that_op() {
        let (_, probe) = setup();
        let clean = workload(&probe);
        assert!(clean.iter().all(|r| r.is_ok()));
        let n = probe.op_count();
        assert_eq!(n, clean.len() as u64);
        for k in 0..n {
            let (_, fs) = setup();
            fs.fail_at(k, FaultKind::Eio, false);
            let results = workload(&fs);
            for (i, r) in results.iter().enumerate() {
                if i as u64 == k {
                    assert_eq!(r.as_ref().unwrap_err().raw_os_error(), Some(5), "op {i}");
                } else if (i as u64) < k {
                    assert!(r.is_ok(), "op {i} before the fault (k = {k})");
                }
            }
            assert_eq!(fs.faults_injected(), 1);
        }
    }

    #[test]
    fn persistent_fault_hits_mutations_but_not_reads() {
        let (_, fs) = setup();
        let f = fs.create("f").unwrap();
        f.append(b"xy").unwrap();
        fs.fail_nth(OpKind::SyncData, 0, FaultKind::Eio, true);
        assert!(f.sync_data().is_err());
        assert!(f.append(b"z").is_err());
        assert!(fs.create("g").is_err());
        assert_eq!(fs.read_all("f").unwrap(), b"xy");
        assert!(fs.exists("f").unwrap());
        assert_eq!(fs.faults_injected(), 3);
        assert_eq!(fs.ops_of_kind(OpKind::SyncData), 1);
        fs.clear();
        f.append(b"z").unwrap();
        f.sync_data().unwrap();
        assert_eq!(fs.read_all("f").unwrap(), b"xyz");
    }

    #[test]
    fn quota_partial_write_then_enospc() {
        let (sim, fs) = setup();
        let f = fs.create("wal").unwrap();
        fs.set_quota(Some(10));
        f.append(b"123456").unwrap();
        let e = f.append(b"abcdefgh").unwrap_err();
        assert!(is_no_space(&e));
        assert_eq!(e.raw_os_error(), Some(28));
        assert_eq!(
            sim.read_all("wal").unwrap(),
            b"123456abcd",
            "real partial write"
        );
        assert!(is_no_space(&f.append(b"x").unwrap_err()));
        assert_eq!(sim.read_all("wal").unwrap().len(), 10);
        fs.raise_quota(2);
        f.append(b"xy").unwrap();
        assert!(f.append(b"!").is_err());
        fs.set_quota(None);
        f.append(&[0u8; 1000]).unwrap();
        assert_eq!(fs.faults_injected(), 3);
    }

    #[test]
    fn fsyncgate_drops_unsynced_data() {
        let (sim, fs) = setup();
        fs.set_fsyncgate(true);
        let f = fs.create("wal").unwrap();
        fs.sync_dir("").unwrap();
        f.append(b"acked").unwrap();
        f.sync_data().unwrap();
        f.append(b"lost").unwrap();
        fs.fail_nth(OpKind::SyncData, 1, FaultKind::Eio, false);
        assert_eq!(f.sync_data().unwrap_err().raw_os_error(), Some(5));
        f.sync_data().unwrap();
        assert_eq!(fs.read_all("wal").unwrap(), b"acked");
        let img = sim.crash(9, &CrashConfig::keep_all());
        assert_eq!(img.read_all("wal").unwrap(), b"acked");
    }

    #[test]
    fn random_faults_are_reproducible_and_only_mutating() {
        let run = |seed| {
            let (_, fs) = setup();
            fs.fail_prob(seed, 0.3, FaultKind::NoSpace);
            let f = fs.create("f").ok();
            let mut pattern = Vec::new();
            for i in 0..50u8 {
                if let Some(f) = &f {
                    pattern.push(f.append(&[i]).is_ok());
                    assert!(f.len().is_ok(), "reads are never hit");
                }
                assert!(fs.exists("f").is_ok(), "reads are never hit");
            }
            (pattern, fs.faults_injected())
        };
        let (a, faults) = run(11);
        assert_eq!(run(11), (a.clone(), faults));
        assert!(faults > 0);
        assert!(run(12).0 != a || run(13).0 != a);
    }

    #[test]
    fn fault_kinds_map_to_os_errors() {
        assert_eq!(FaultKind::Eio.to_error().raw_os_error(), Some(5));
        assert!(is_no_space(&FaultKind::NoSpace.to_error()));
        assert!(OpKind::SyncDir.is_mutating());
        assert!(!OpKind::ReadAt.is_mutating());
        let (_, fs) = setup();
        fs.fail_at(0, FaultKind::NoSpace, false);
        assert_eq!(fs.config().fail_at, Some((0, FaultKind::NoSpace)));
    }
}
