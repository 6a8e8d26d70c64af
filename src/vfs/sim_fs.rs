//! [`SimFs`]: an in-memory, deterministic file system that remembers what was
//! made durable, so tests can build power-loss images (RELIABILITY.md §6.1).
//!
//! It owns the whole simulated namespace and file contents; crash images are
//! built by the child module `crash` ([`SimFs::crash`], [`CrashConfig`]).
//!
//! Model: every file and directory is a node. A file node holds a *volatile*
//! image (what reads see), a *durable* image (its content at the last
//! successful `sync_data`) and the ordered list of data ops (appends and
//! truncations) made since then. A directory node holds a volatile and a
//! durable name -> node map. Each create / rename / remove / mkdir /
//! `remove_dir_all` is applied to the volatile maps at once and recorded in one
//! global, ordered log of unsynced metadata ops; `sync_dir(d)` makes durable
//! (in order) every logged op that touches `d`, and only those.
//!
//! Invariants:
//! 1. For every file node, applying its pending data ops in order to its
//!    durable image yields exactly its volatile image.
//! 2. Applying every logged metadata op in order to the durable directory maps
//!    yields exactly the volatile maps (of reachable directories).
//! 3. The root directory (node 0) always exists and can never be removed.
//! 4. Every trait call on the file system or on one of its files is one I/O op:
//!    once [`SimFs::halt_after`]'s budget is spent, every op fails with
//!    "simulated crash" and changes nothing, until [`SimFs::resume`].
//!    `discard_unsynced` and the test helpers are not counted and never halt.
//! 5. An open handle refers to its node, not its path: it keeps working after
//!    the file is removed or renamed (POSIX), and the node is freed only when
//!    it is unreachable from both namespaces, the log and every open handle.
//! 6. `map_readonly` returns an immutable snapshot; removing or renaming over a
//!    file with a live snapshot still happens but is counted
//!    ([`SimFs::unlink_while_mapped_events`]).
//! 7. No input makes it panic: paths are validated (`InvalidInput` for absolute
//!    paths and `..`), sizes are capped at [`MAX_FILE_SIZE`] (`FileTooLarge`).
//! 8. Everything is deterministic: ordered maps only, randomness only from the
//!    seed given to [`SimFs::crash`].

mod crash;
mod file;
mod state;

pub use crash::CrashConfig;
pub(crate) use crash::SplitMix64;

use std::collections::BTreeMap;
use std::io::{self, ErrorKind};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use self::file::SimFile;
use self::state::{err, not_found, split_path, State};
use super::{Mapping, Vfs, VfsFile};

/// Largest size a simulated file may reach (appends or truncations beyond it
/// fail with `FileTooLarge` instead of exhausting memory).
pub(crate) const MAX_FILE_SIZE: usize = u32::MAX as usize;

type NodeId = u64;
const ROOT: NodeId = 0;

/// A handle on a simulated file system; clones share the same state.
#[derive(Clone)]
pub struct SimFs {
    state: Arc<Mutex<State>>,
}

/// The bytes behind one `map_readonly` call.
struct Snapshot(Arc<Vec<u8>>);

impl AsRef<[u8]> for Snapshot {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// One change to a file's content since its last `sync_data`.
#[derive(Debug, Clone)]
enum DataOp {
    /// `bytes` appended at `offset` (the length of the file at the time).
    Write { offset: usize, bytes: Vec<u8> },
    /// The file was cut (or zero-extended) to this length.
    Truncate(usize),
}

#[derive(Default)]
struct FileNode {
    volatile: Vec<u8>,
    durable: Vec<u8>,
    pending: Vec<DataOp>,
    /// Cached snapshot of `volatile`, dropped on every change.
    snapshot: Option<Arc<Vec<u8>>>,
    mappings: Vec<Weak<Snapshot>>,
    handles: usize,
    /// Set once the node has been unlinked from the volatile namespace.
    unlinked: bool,
}

impl FileNode {
    fn with_image(image: Vec<u8>) -> Self {
        FileNode {
            durable: image.clone(),
            volatile: image,
            ..FileNode::default()
        }
    }

    fn is_mapped(&self) -> bool {
        self.mappings.iter().any(|w| w.strong_count() > 0)
    }
}

#[derive(Default)]
struct DirNode {
    live: BTreeMap<String, NodeId>,
    durable: BTreeMap<String, NodeId>,
}

enum Node {
    File(FileNode),
    Dir(DirNode),
}

/// One directory-entry change: `dir[name] = target` (`None` removes the entry).
#[derive(Debug, Clone)]
struct Edit {
    dir: NodeId,
    name: String,
    target: Option<NodeId>,
}

/// One unsynced metadata op; its edits always become durable together.
#[derive(Debug, Clone)]
struct MetaOp {
    edits: Vec<Edit>,
}

impl Default for SimFs {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for SimFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("SimFs");
        match self.state.try_lock() {
            Ok(st) => d
                .field("ops", &st.ops)
                .field("nodes", &st.nodes.len())
                .field("unsynced_meta_ops", &st.meta_log.len())
                .field("halted", &st.halted),
            Err(_) => d.field("state", &"<locked>"),
        };
        d.finish()
    }
}

impl SimFs {
    /// An empty file system holding only the root directory.
    pub fn new() -> Self {
        Self::from_state(State::new())
    }

    fn from_state(state: State) -> Self {
        SimFs {
            state: Arc::new(Mutex::new(state)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of I/O ops admitted so far (fs and file calls; refused ops excluded).
    pub fn op_count(&self) -> u64 {
        self.lock().ops
    }

    /// Lets `ops` more ops succeed; every op after them fails with
    /// "simulated crash" and the file system stays halted until [`Self::resume`].
    pub fn halt_after(&self, ops: u64) {
        let mut st = self.lock();
        st.halt_at = Some(st.ops.saturating_add(ops));
    }

    /// True once the halt budget was exceeded.
    pub fn is_halted(&self) -> bool {
        self.lock().halted
    }

    /// Clears halting and any pending halt budget.
    pub fn resume(&self) {
        let mut st = self.lock();
        st.halted = false;
        st.halt_at = None;
    }

    /// How often a file with a live mapping was removed or renamed over.
    pub fn unlink_while_mapped_events(&self) -> u64 {
        self.lock().unlink_while_mapped
    }

    /// Sum of the volatile sizes of all files in the namespace.
    pub fn total_bytes(&self) -> u64 {
        let st = self.lock();
        st.live_files()
            .iter()
            .filter_map(|(_, id)| match st.nodes.get(id) {
                Some(Node::File(f)) => Some(f.volatile.len() as u64),
                _ => None,
            })
            .sum()
    }

    /// Paths of all files in the volatile namespace, sorted.
    pub fn file_paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self
            .lock()
            .live_files()
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        paths.sort();
        paths
    }

    /// Opens a handle on an existing file.
    fn open(&self, path: &str, writable: bool) -> io::Result<Box<dyn VfsFile>> {
        let mut st = self.lock();
        st.begin()?;
        let id = st.resolve(path)?;
        let file = st
            .file_mut(id)
            .ok_or_else(|| err(ErrorKind::IsADirectory, path, "is a directory"))?;
        file.handles += 1;
        Ok(Box::new(SimFile {
            fs: self.clone(),
            id,
            writable,
        }))
    }

    /// Removes the entry `path` after checking it with `check`.
    fn unlink(&self, path: &str, check: fn(bool, &str) -> io::Result<()>) -> io::Result<()> {
        let mut st = self.lock();
        st.begin()?;
        let (dir, name) = st.resolve_parent(path)?;
        let id = st.entry(dir, &name).ok_or_else(|| not_found(path))?;
        check(st.is_dir(id), path)?;
        st.note_unlink(id);
        st.change(vec![Edit {
            dir,
            name,
            target: None,
        }]);
        Ok(())
    }
}

impl Vfs for SimFs {
    fn create(&self, path: &str) -> io::Result<Box<dyn VfsFile>> {
        let mut st = self.lock();
        st.begin()?;
        let (dir, name) = st.resolve_parent(path)?;
        if st.entry(dir, &name).is_some() {
            return Err(err(ErrorKind::AlreadyExists, path, "already exists"));
        }
        let id = st.alloc(Node::File(FileNode {
            handles: 1,
            ..FileNode::default()
        }));
        st.change(vec![Edit {
            dir,
            name,
            target: Some(id),
        }]);
        Ok(Box::new(SimFile {
            fs: self.clone(),
            id,
            writable: true,
        }))
    }

    fn open_append(&self, path: &str) -> io::Result<Box<dyn VfsFile>> {
        self.open(path, true)
    }

    fn open_read(&self, path: &str) -> io::Result<Box<dyn VfsFile>> {
        self.open(path, false)
    }

    fn map_readonly(&self, path: &str) -> io::Result<Mapping> {
        let mut st = self.lock();
        st.begin()?;
        let id = st.resolve(path)?;
        let file = st
            .file_mut(id)
            .ok_or_else(|| err(ErrorKind::IsADirectory, path, "is a directory"))?;
        let volatile = &file.volatile;
        let data = file
            .snapshot
            .get_or_insert_with(|| Arc::new(volatile.clone()))
            .clone();
        let snap = Arc::new(Snapshot(data));
        file.mappings.retain(|w| w.strong_count() > 0);
        file.mappings.push(Arc::downgrade(&snap));
        Ok(snap)
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let mut st = self.lock();
        st.begin()?;
        let (from_dir, from_name) = st.resolve_parent(from)?;
        let src = st
            .entry(from_dir, &from_name)
            .ok_or_else(|| not_found(from))?;
        let (to_dir, to_name) = st.resolve_parent(to)?;
        if from_dir == to_dir && from_name == to_name {
            return Ok(());
        }
        let replaced = st.entry(to_dir, &to_name);
        if let Some(old) = replaced {
            st.check_replace(src, old, to)?;
        }
        if st.is_dir(src) && st.is_within(to_dir, src) {
            return Err(err(
                ErrorKind::InvalidInput,
                to,
                "cannot move a directory into itself",
            ));
        }
        if let Some(old) = replaced {
            st.note_unlink(old);
        }
        let remove = Edit {
            dir: from_dir,
            name: from_name,
            target: None,
        };
        let insert = Edit {
            dir: to_dir,
            name: to_name,
            target: Some(src),
        };
        st.change(vec![remove, insert]);
        Ok(())
    }

    fn remove(&self, path: &str) -> io::Result<()> {
        self.unlink(path, |is_dir, path| match is_dir {
            true => Err(err(ErrorKind::IsADirectory, path, "is a directory")),
            false => Ok(()),
        })
    }

    fn create_dir_all(&self, path: &str) -> io::Result<()> {
        let mut st = self.lock();
        st.begin()?;
        let mut cur = ROOT;
        let comps = split_path(path)?;
        for (i, comp) in comps.iter().enumerate() {
            cur = match st.entry(cur, comp) {
                Some(id) if st.is_dir(id) => id,
                Some(_) if i + 1 == comps.len() => {
                    return Err(err(ErrorKind::AlreadyExists, path, "a file is in the way"))
                }
                Some(_) => return Err(err(ErrorKind::NotADirectory, path, "not a directory")),
                None => {
                    let id = st.alloc(Node::Dir(DirNode::default()));
                    let edit = Edit {
                        dir: cur,
                        name: (*comp).to_string(),
                        target: Some(id),
                    };
                    st.change(vec![edit]);
                    id
                }
            };
        }
        Ok(())
    }

    fn remove_dir_all(&self, path: &str) -> io::Result<()> {
        self.unlink(path, |is_dir, path| match is_dir {
            true => Ok(()),
            false => Err(err(ErrorKind::NotADirectory, path, "not a directory")),
        })
    }

    fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        let mut st = self.lock();
        st.begin()?;
        let id = st.resolve(dir)?;
        let d = st
            .dir(id)
            .ok_or_else(|| err(ErrorKind::NotADirectory, dir, "not a directory"))?;
        Ok(d.live.keys().cloned().collect())
    }

    fn exists(&self, path: &str) -> io::Result<bool> {
        let mut st = self.lock();
        st.begin()?;
        split_path(path)?;
        match st.resolve(path) {
            Ok(_) => Ok(true),
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    fn sync_dir(&self, dir: &str) -> io::Result<()> {
        let mut st = self.lock();
        st.begin()?;
        let id = st.resolve(dir)?;
        if !st.is_dir(id) {
            return Err(err(ErrorKind::NotADirectory, dir, "not a directory"));
        }
        st.commit_dir(id);
        st.gc();
        Ok(())
    }

    /// Resets the file's volatile image to its durable image (fsyncgate: the
    /// kernel dropped the dirty pages). Not counted as an op; works when halted.
    fn discard_unsynced(&self, path: &str) -> io::Result<()> {
        let mut st = self.lock();
        let id = st.resolve(path)?;
        let file = st
            .file_mut(id)
            .ok_or_else(|| err(ErrorKind::IsADirectory, path, "is a directory"))?;
        file.volatile = file.durable.clone();
        file.pending.clear();
        file.snapshot = None;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn write(fs: &SimFs, path: &str, data: &[u8]) -> Box<dyn VfsFile> {
        let f = fs.create(path).unwrap();
        f.append(data).unwrap();
        f
    }

    #[test]
    fn namespace_ops() {
        let fs = SimFs::new();
        fs.create_dir_all("x/y/z").unwrap();
        fs.create_dir_all("x/y").unwrap();
        write(&fs, "x/y/b", b"1");
        write(&fs, "x/y/a", b"22");
        write(&fs, "top", b"333");
        assert_eq!(fs.list("x/y").unwrap(), vec!["a", "b", "z"]);
        assert_eq!(fs.list("").unwrap(), vec!["top", "x"]);
        assert_eq!(fs.list("top").unwrap_err().kind(), ErrorKind::NotADirectory);
        assert_eq!(fs.list("missing").unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(fs.file_paths(), vec!["top", "x/y/a", "x/y/b"]);
        assert_eq!(fs.total_bytes(), 6);
        fs.rename("x/y/a", "x/y/b").unwrap();
        assert_eq!(fs.read_all("x/y/b").unwrap(), b"22");
        assert!(!fs.exists("x/y/a").unwrap());
        assert!(!fs.exists("top/sub").unwrap());
        assert_eq!(fs.remove("x").unwrap_err().kind(), ErrorKind::IsADirectory);
        assert_eq!(
            fs.rename("x", "x/y/q").unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        fs.remove_dir_all("x").unwrap();
        assert_eq!(fs.file_paths(), vec!["top"]);
        assert_eq!(
            fs.remove_dir_all("").unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            fs.create_dir_all("top/q").unwrap_err().kind(),
            ErrorKind::NotADirectory
        );
    }

    #[test]
    fn bad_paths_are_rejected() {
        let fs = SimFs::new();
        for p in ["/abs", "a/../b", ".."] {
            assert_eq!(
                fs.create(p).err().unwrap().kind(),
                ErrorKind::InvalidInput,
                "{p}"
            );
            assert_eq!(
                fs.exists(p).unwrap_err().kind(),
                ErrorKind::InvalidInput,
                "{p}"
            );
        }
        assert_eq!(fs.create("").err().unwrap().kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn halt_after_fails_op_k_plus_one() {
        let fs = SimFs::new();
        let f = fs.create("a").unwrap();
        assert_eq!(fs.op_count(), 1);
        fs.halt_after(2);
        f.append(b"1").unwrap();
        f.sync_data().unwrap();
        assert!(!fs.is_halted());
        let e = f.append(b"2").unwrap_err();
        assert_eq!(e.to_string(), "simulated crash");
        assert!(fs.is_halted());
        assert!(fs.exists("a").is_err(), "stays halted");
        assert_eq!(fs.op_count(), 3);
        fs.resume();
        assert_eq!(fs.read_all("a").unwrap(), b"1");
    }

    #[test]
    fn unlink_while_mapped_is_counted() {
        let fs = SimFs::new();
        write(&fs, "seg", b"immutable");
        write(&fs, "other", b"x");
        let map = fs.map_readonly("seg").unwrap();
        assert_eq!((*map).as_ref(), b"immutable");
        fs.rename("other", "seg").unwrap();
        assert_eq!(fs.unlink_while_mapped_events(), 1);
        assert_eq!(
            (*map).as_ref(),
            b"immutable",
            "snapshot outlives the unlink"
        );
        drop(map);
        let _m2 = fs.map_readonly("seg").unwrap();
        write(&fs, "plain", b"y");
        fs.remove("plain").unwrap();
        assert_eq!(fs.unlink_while_mapped_events(), 1);
        fs.remove("seg").unwrap();
        assert_eq!(fs.unlink_while_mapped_events(), 2);
    }

    #[test]
    fn map_snapshot_is_immutable_and_empty_files_map() {
        let fs = SimFs::new();
        let f = write(&fs, "a", b"");
        assert!((*fs.map_readonly("a").unwrap()).as_ref().is_empty());
        f.append(b"12").unwrap();
        let m = fs.map_readonly("a").unwrap();
        f.append(b"3").unwrap();
        assert_eq!((*m).as_ref(), b"12");
        assert_eq!((*fs.map_readonly("a").unwrap()).as_ref(), b"123");
    }

    #[test]
    fn clones_share_state() {
        let fs = SimFs::new();
        let other = fs.clone();
        write(&fs, "a", b"1");
        assert!(other.exists("a").unwrap());
        assert_eq!(other.op_count(), fs.op_count());
    }
}
