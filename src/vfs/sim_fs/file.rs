//! Open files of a [`SimFs`]: [`SimFile`] handles and the exact application
//! of data ops.
//!
//! Invariants:
//! 1. A handle refers to its node, never to a path: removing or renaming the
//!    file does not affect it (POSIX), and the node lives while it is open.
//! 2. Each call is one admitted I/O op of the file system (halting applies).
//! 3. `append` and `truncate` change the volatile image and record the op, so
//!    `durable + pending == volatile` holds; `sync_data` applies the pending
//!    ops to the durable image and forgets them.
//! 4. Reads past the end fail with `UnexpectedEof`; sizes beyond
//!    [`MAX_FILE_SIZE`] fail with `FileTooLarge`; nothing panics.

use std::io::{self, ErrorKind};

use super::{DataOp, FileNode, NodeId, SimFs, MAX_FILE_SIZE};
use crate::vfs::VfsFile;

/// Applies one data op to an image exactly (used by `sync_data`).
pub(super) fn apply_data_op(image: &mut Vec<u8>, op: &DataOp) {
    match op {
        DataOp::Write { offset, bytes } => {
            let end = offset.saturating_add(bytes.len());
            if image.len() < end {
                image.resize(end, 0);
            }
            if let Some(dst) = image.get_mut(*offset..end) {
                dst.copy_from_slice(bytes);
            }
        }
        DataOp::Truncate(len) => image.resize(*len, 0),
    }
}

fn too_large() -> io::Error {
    io::Error::new(
        ErrorKind::FileTooLarge,
        "simulated file would exceed MAX_FILE_SIZE",
    )
}

/// An open simulated file: a reference to its node.
pub(super) struct SimFile {
    pub(super) fs: SimFs,
    pub(super) id: NodeId,
    pub(super) writable: bool,
}

impl SimFile {
    /// Runs `f` on the file node as one admitted I/O op.
    fn with_node<R>(
        &self,
        mutating: bool,
        f: impl FnOnce(&mut FileNode) -> io::Result<R>,
    ) -> io::Result<R> {
        let mut st = self.fs.lock();
        st.begin()?;
        if mutating && !self.writable {
            return Err(io::Error::new(
                ErrorKind::PermissionDenied,
                "file opened read-only",
            ));
        }
        match st.file_mut(self.id) {
            Some(node) => f(node),
            None => Err(io::Error::new(ErrorKind::NotFound, "file node vanished")),
        }
    }
}

impl Drop for SimFile {
    fn drop(&mut self) {
        let mut st = self.fs.lock();
        let mut collect = false;
        if let Some(node) = st.file_mut(self.id) {
            node.handles = node.handles.saturating_sub(1);
            collect = node.handles == 0 && node.unlinked;
        }
        if collect {
            st.gc();
        }
    }
}

impl VfsFile for SimFile {
    fn append(&self, buf: &[u8]) -> io::Result<()> {
        self.with_node(true, |node| {
            let offset = node.volatile.len();
            if offset.saturating_add(buf.len()) > MAX_FILE_SIZE {
                return Err(too_large());
            }
            if !buf.is_empty() {
                node.volatile.extend_from_slice(buf);
                node.pending.push(DataOp::Write {
                    offset,
                    bytes: buf.to_vec(),
                });
                node.snapshot = None;
            }
            Ok(())
        })
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.with_node(false, |node| {
            let src = usize::try_from(offset)
                .ok()
                .and_then(|start| node.volatile.get(start..start.checked_add(buf.len())?));
            match src {
                Some(src) => {
                    buf.copy_from_slice(src);
                    Ok(())
                }
                None => Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "read past end of file",
                )),
            }
        })
    }

    fn len(&self) -> io::Result<u64> {
        self.with_node(false, |node| Ok(node.volatile.len() as u64))
    }

    fn truncate(&self, len: u64) -> io::Result<()> {
        self.with_node(true, |node| {
            let len = usize::try_from(len)
                .ok()
                .filter(|l| *l <= MAX_FILE_SIZE)
                .ok_or_else(too_large)?;
            node.volatile.resize(len, 0);
            node.pending.push(DataOp::Truncate(len));
            node.snapshot = None;
            Ok(())
        })
    }

    fn sync_data(&self) -> io::Result<()> {
        self.with_node(false, |node| {
            for op in std::mem::take(&mut node.pending) {
                apply_data_op(&mut node.durable, &op);
            }
            Ok(())
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::vfs::Vfs;

    fn write(fs: &SimFs, path: &str, data: &[u8]) -> Box<dyn VfsFile> {
        let f = fs.create(path).unwrap();
        f.append(data).unwrap();
        f
    }

    #[test]
    fn posix_file_semantics() {
        let fs = SimFs::new();
        let f = write(&fs, "a", b"hello");
        f.append(b" world").unwrap();
        assert_eq!(f.len().unwrap(), 11);
        let mut buf = [0u8; 5];
        f.read_at(6, &mut buf).unwrap();
        assert_eq!(&buf, b"world");
        let e = f.read_at(7, &mut buf).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEof);
        assert_eq!(
            f.read_at(u64::MAX, &mut buf).unwrap_err().kind(),
            ErrorKind::UnexpectedEof
        );
        f.truncate(3).unwrap();
        assert_eq!(fs.read_all("a").unwrap(), b"hel");
        f.truncate(5).unwrap();
        assert_eq!(fs.read_all("a").unwrap(), b"hel\0\0");
        assert_eq!(
            f.truncate(u64::MAX).unwrap_err().kind(),
            ErrorKind::FileTooLarge
        );
        let e = fs.create("a").err().unwrap();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists);
        let r = fs.open_read("a").unwrap();
        assert_eq!(
            r.append(b"x").unwrap_err().kind(),
            ErrorKind::PermissionDenied
        );
        assert_eq!(
            fs.open_read("nope").err().unwrap().kind(),
            ErrorKind::NotFound
        );
    }

    #[test]
    fn removed_file_keeps_working_for_open_handle() {
        let fs = SimFs::new();
        let f = write(&fs, "a", b"abc");
        fs.remove("a").unwrap();
        assert!(!fs.exists("a").unwrap());
        f.append(b"def").unwrap();
        let mut buf = [0u8; 6];
        f.read_at(0, &mut buf).unwrap();
        assert_eq!(&buf, b"abcdef");
        fs.sync_dir("").unwrap();
        f.sync_data().unwrap();
        drop(f);
        assert_eq!(fs.lock().nodes.len(), 1, "only the root is left after gc");
    }
}
