//! The namespace half of [`SimFs`](super::SimFs): the shared state, path
//! resolution, the metadata log, directory commits and node collection.
//!
//! Invariants:
//! 1. Node 0 is the root directory; it is never freed or unlinked.
//! 2. [`State::change`] is the only way the volatile directory maps change, and
//!    it logs every change, so the durable maps plus the log replay to the
//!    volatile maps.
//! 3. [`State::commit_dir`] moves ops from the log to the durable maps in log
//!    order and never reorders the ops left in the log.
//! 4. [`State::gc`] frees only nodes unreachable from the volatile and durable
//!    maps, the log and open handles, so no handle or crash image loses data.
//! 5. Path handling never panics: bad paths are `InvalidInput` errors.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, ErrorKind};

use super::{DirNode, Edit, FileNode, MetaOp, Node, NodeId, ROOT};
use crate::vfs::join;

pub(super) struct State {
    pub(super) nodes: BTreeMap<NodeId, Node>,
    pub(super) next_id: NodeId,
    pub(super) meta_log: Vec<MetaOp>,
    pub(super) ops: u64,
    pub(super) halt_at: Option<u64>,
    pub(super) halted: bool,
    pub(super) unlink_while_mapped: u64,
}

pub(super) fn err(kind: ErrorKind, path: &str, what: &str) -> io::Error {
    io::Error::new(kind, format!("{path:?}: {what}"))
}

pub(super) fn not_found(path: &str) -> io::Error {
    err(ErrorKind::NotFound, path, "no such file or directory")
}

/// Splits a relative path into its components (`""` and `.` are skipped).
pub(super) fn split_path(path: &str) -> io::Result<Vec<&str>> {
    if path.starts_with('/') {
        return Err(err(ErrorKind::InvalidInput, path, "absolute path"));
    }
    let mut out = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => return Err(err(ErrorKind::InvalidInput, path, "`..` in path")),
            c => out.push(c),
        }
    }
    Ok(out)
}

impl State {
    pub(super) fn new() -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(ROOT, Node::Dir(DirNode::default()));
        State {
            nodes,
            next_id: ROOT + 1,
            meta_log: Vec::new(),
            ops: 0,
            halt_at: None,
            halted: false,
            unlink_while_mapped: 0,
        }
    }

    /// Admits one I/O op, or refuses it when the file system is halted.
    pub(super) fn begin(&mut self) -> io::Result<()> {
        if !self.halted && self.halt_at.is_some_and(|limit| self.ops >= limit) {
            self.halted = true;
        }
        if self.halted {
            return Err(io::Error::other("simulated crash"));
        }
        self.ops += 1;
        Ok(())
    }

    pub(super) fn alloc(&mut self, node: Node) -> NodeId {
        let id = self.next_id;
        self.next_id += 1;
        self.nodes.insert(id, node);
        id
    }

    pub(super) fn dir(&self, id: NodeId) -> Option<&DirNode> {
        match self.nodes.get(&id) {
            Some(Node::Dir(d)) => Some(d),
            _ => None,
        }
    }

    pub(super) fn file_mut(&mut self, id: NodeId) -> Option<&mut FileNode> {
        match self.nodes.get_mut(&id) {
            Some(Node::File(f)) => Some(f),
            _ => None,
        }
    }

    pub(super) fn is_dir(&self, id: NodeId) -> bool {
        self.dir(id).is_some()
    }

    pub(super) fn entry(&self, dir: NodeId, name: &str) -> Option<NodeId> {
        self.dir(dir).and_then(|d| d.live.get(name).copied())
    }

    /// Resolves a path in the volatile namespace.
    pub(super) fn resolve(&self, path: &str) -> io::Result<NodeId> {
        let mut cur = ROOT;
        for comp in split_path(path)? {
            let dir = self
                .dir(cur)
                .ok_or_else(|| err(ErrorKind::NotADirectory, path, "not a directory"))?;
            cur = *dir.live.get(comp).ok_or_else(|| not_found(path))?;
        }
        Ok(cur)
    }

    /// Resolves the parent directory of a path and returns it with the last name.
    pub(super) fn resolve_parent(&self, path: &str) -> io::Result<(NodeId, String)> {
        let mut comps = split_path(path)?;
        let name = comps
            .pop()
            .ok_or_else(|| err(ErrorKind::InvalidInput, path, "names the root directory"))?;
        let dir = self.resolve(&comps.join("/"))?;
        if !self.is_dir(dir) {
            return Err(err(
                ErrorKind::NotADirectory,
                path,
                "parent is not a directory",
            ));
        }
        Ok((dir, name.to_string()))
    }

    /// Applies edits to the volatile maps and logs them as one metadata op.
    pub(super) fn change(&mut self, edits: Vec<Edit>) {
        for e in &edits {
            if let Some(Node::Dir(d)) = self.nodes.get_mut(&e.dir) {
                match e.target {
                    Some(t) => d.live.insert(e.name.clone(), t),
                    None => d.live.remove(&e.name),
                };
            }
        }
        self.meta_log.push(MetaOp { edits });
    }

    /// Marks a node (and, for a directory, its subtree) unlinked and counts
    /// files that still have live mappings.
    pub(super) fn note_unlink(&mut self, id: NodeId) {
        let mut stack = vec![id];
        let mut seen = BTreeSet::new();
        while let Some(cur) = stack.pop() {
            if !seen.insert(cur) {
                continue;
            }
            match self.nodes.get_mut(&cur) {
                Some(Node::File(f)) => {
                    f.unlinked = true;
                    if f.is_mapped() {
                        self.unlink_while_mapped += 1;
                    }
                }
                Some(Node::Dir(d)) => stack.extend(d.live.values().copied()),
                None => {}
            }
        }
    }

    /// True when `target` is `dir` or lies below it in the volatile namespace.
    pub(super) fn is_within(&self, target: NodeId, dir: NodeId) -> bool {
        let mut stack = vec![dir];
        let mut seen = BTreeSet::new();
        while let Some(cur) = stack.pop() {
            if cur == target {
                return true;
            }
            if seen.insert(cur) {
                if let Some(d) = self.dir(cur) {
                    stack.extend(d.live.values().copied());
                }
            }
        }
        false
    }

    /// Checks that `src` may replace `old` in a rename (POSIX rules).
    pub(super) fn check_replace(&self, src: NodeId, old: NodeId, to: &str) -> io::Result<()> {
        match (self.dir(src), self.dir(old)) {
            (None, None) => Ok(()),
            (None, Some(_)) => Err(err(ErrorKind::IsADirectory, to, "is a directory")),
            (Some(_), None) => Err(err(ErrorKind::NotADirectory, to, "not a directory")),
            (Some(_), Some(o)) if !o.live.is_empty() => {
                Err(err(ErrorKind::DirectoryNotEmpty, to, "directory not empty"))
            }
            (Some(_), Some(_)) => Ok(()),
        }
    }

    /// Makes durable, in order, every logged metadata op that touches `dir`.
    pub(super) fn commit_dir(&mut self, dir: NodeId) {
        let log = std::mem::take(&mut self.meta_log);
        let mut rest = Vec::with_capacity(log.len());
        for op in log {
            if op.edits.iter().any(|e| e.dir == dir) {
                for e in &op.edits {
                    if let Some(Node::Dir(d)) = self.nodes.get_mut(&e.dir) {
                        match e.target {
                            Some(t) => d.durable.insert(e.name.clone(), t),
                            None => d.durable.remove(&e.name),
                        };
                    }
                }
            } else {
                rest.push(op);
            }
        }
        self.meta_log = rest;
    }

    /// Frees nodes reachable from neither namespace, the log nor a handle.
    pub(super) fn gc(&mut self) {
        let mut stack = vec![ROOT];
        for op in &self.meta_log {
            for e in &op.edits {
                stack.push(e.dir);
                stack.extend(e.target);
            }
        }
        for (id, node) in &self.nodes {
            if matches!(node, Node::File(f) if f.handles > 0) {
                stack.push(*id);
            }
        }
        let mut keep = BTreeSet::new();
        while let Some(id) = stack.pop() {
            if keep.insert(id) {
                if let Some(d) = self.dir(id) {
                    stack.extend(d.live.values().copied());
                    stack.extend(d.durable.values().copied());
                }
            }
        }
        self.nodes.retain(|id, _| keep.contains(id));
    }

    /// Visits every file reachable in the volatile namespace, with its path.
    pub(super) fn live_files(&self) -> Vec<(String, NodeId)> {
        let mut out = Vec::new();
        let mut stack = vec![(String::new(), ROOT)];
        let mut seen = BTreeSet::new();
        while let Some((path, id)) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            match self.nodes.get(&id) {
                Some(Node::Dir(d)) => {
                    for (name, child) in &d.live {
                        stack.push((join(&path, name), *child));
                    }
                }
                Some(Node::File(_)) => out.push((path, id)),
                None => {}
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn split_path_accepts_relative_paths_only() {
        assert_eq!(split_path("").unwrap(), Vec::<&str>::new());
        assert_eq!(split_path("a//b/./c/").unwrap(), vec!["a", "b", "c"]);
        for bad in ["/a", "a/..", "../a", "a/../b"] {
            assert_eq!(
                split_path(bad).unwrap_err().kind(),
                ErrorKind::InvalidInput,
                "{bad}"
            );
        }
    }

    #[test]
    fn commit_dir_keeps_other_ops_in_order() {
        let mut st = State::new();
        let a = st.alloc(Node::Dir(DirNode::default()));
        let edit = |dir, name: &str, target| Edit {
            dir,
            name: name.to_string(),
            target,
        };
        st.change(vec![edit(ROOT, "a", Some(a))]);
        st.change(vec![edit(a, "x", Some(a + 10))]);
        st.change(vec![edit(ROOT, "b", Some(a + 11))]);
        st.commit_dir(ROOT);
        assert_eq!(st.meta_log.len(), 1);
        assert_eq!(st.meta_log[0].edits[0].name, "x");
        let root = st.dir(ROOT).unwrap();
        assert_eq!(root.durable.keys().collect::<Vec<_>>(), vec!["a", "b"]);
        assert!(st.dir(a).unwrap().durable.is_empty());
    }
}
