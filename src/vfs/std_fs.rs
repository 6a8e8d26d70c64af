//! [`StdFs`]: the production [`Vfs`], backed by `std::fs` under one root
//! directory, with `fdatasync`, directory fsync and `memmap2` for sealed files.
//!
//! Invariants:
//! 1. Every path is resolved below `root`; absolute paths and paths with `..`
//!    components are refused with `InvalidInput` before touching the disk.
//! 2. Writable files are opened with `read + append` (`create` adds
//!    `create_new`, so it fails with `AlreadyExists`): every write lands at the
//!    end of the file.
//! 3. `sync_data` is `File::sync_data` (`fdatasync`); `sync_dir` opens the
//!    directory and calls `sync_all` on it (`fsync`).
//! 4. `map_readonly` is the crate's only unsafe code. It is meant for sealed,
//!    never rewritten files (segments); an empty file maps to an empty slice
//!    without calling `mmap`.
//! 5. `list` returns entry names sorted bytewise; a non-UTF-8 name is an
//!    `InvalidData` error rather than a silently altered name.

use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Write};
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::{Mapping, Vfs, VfsFile};

/// The real file system, rooted at one directory.
#[derive(Debug, Clone)]
pub struct StdFs {
    root: PathBuf,
}

impl StdFs {
    /// Uses `root` as the root directory, creating it (and its parents) if missing.
    pub fn new(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root)?;
        Ok(StdFs { root })
    }

    /// The root directory all paths are relative to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The absolute path of a relative one, refusing absolute paths and `..`.
    fn full(&self, path: &str) -> io::Result<PathBuf> {
        let rel = Path::new(path);
        for comp in rel.components() {
            match comp {
                Component::Normal(_) | Component::CurDir => {}
                Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                    return Err(io::Error::new(
                        ErrorKind::InvalidInput,
                        format!("{path:?}: path must be relative and must not contain `..`"),
                    ));
                }
            }
        }
        Ok(self.root.join(rel))
    }

    fn open_with(&self, path: &str, opts: &OpenOptions) -> io::Result<Box<dyn VfsFile>> {
        let file = opts.open(self.full(path)?)?;
        Ok(Box::new(StdFile { file }))
    }
}

impl Vfs for StdFs {
    fn create(&self, path: &str) -> io::Result<Box<dyn VfsFile>> {
        self.open_with(
            path,
            OpenOptions::new().read(true).append(true).create_new(true),
        )
    }

    fn open_append(&self, path: &str) -> io::Result<Box<dyn VfsFile>> {
        self.open_with(path, OpenOptions::new().read(true).append(true))
    }

    fn open_read(&self, path: &str) -> io::Result<Box<dyn VfsFile>> {
        self.open_with(path, OpenOptions::new().read(true))
    }

    fn map_readonly(&self, path: &str) -> io::Result<Mapping> {
        let file = File::open(self.full(path)?)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(
                ErrorKind::InvalidInput,
                format!("{path:?}: not a file"),
            ));
        }
        if meta.len() == 0 {
            return Ok(Arc::new(Vec::<u8>::new()));
        }
        // SAFETY: the mapping is only ever taken of sealed files (segments)
        // that the engine wrote, fsynced and never rewrites, truncates or
        // reopens for writing while they are referenced; they are removed only
        // by unlinking, which keeps mapped pages valid. So the mapped bytes do
        // not change under the `&[u8]` we hand out. Residual risk (documented,
        // RELIABILITY.md §5): an I/O error on a mapped page raises SIGBUS;
        // callers mitigate it by verifying the file with `pread` before mapping.
        #[allow(unsafe_code)]
        let map = unsafe { memmap2::Mmap::map(&file)? };
        Ok(Arc::new(map))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        fs::rename(self.full(from)?, self.full(to)?)
    }

    fn remove(&self, path: &str) -> io::Result<()> {
        fs::remove_file(self.full(path)?)
    }

    fn create_dir_all(&self, path: &str) -> io::Result<()> {
        fs::create_dir_all(self.full(path)?)
    }

    fn remove_dir_all(&self, path: &str) -> io::Result<()> {
        let full = self.full(path)?;
        if full == self.root {
            return Err(io::Error::new(
                ErrorKind::InvalidInput,
                "cannot remove the root",
            ));
        }
        fs::remove_dir_all(full)
    }

    fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(self.full(dir)?)? {
            let name = entry?.file_name().into_string().map_err(|raw| {
                io::Error::new(
                    ErrorKind::InvalidData,
                    format!("non-UTF-8 file name {raw:?}"),
                )
            })?;
            names.push(name);
        }
        names.sort();
        Ok(names)
    }

    fn exists(&self, path: &str) -> io::Result<bool> {
        self.full(path)?.try_exists()
    }

    fn sync_dir(&self, dir: &str) -> io::Result<()> {
        File::open(self.full(dir)?)?.sync_all()
    }
}

/// An open file of a [`StdFs`].
struct StdFile {
    file: File,
}

impl VfsFile for StdFile {
    fn append(&self, buf: &[u8]) -> io::Result<()> {
        (&self.file).write_all(buf)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    fn truncate(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn fs() -> (tempfile::TempDir, StdFs) {
        let dir = tempfile::tempdir().unwrap();
        let fs = StdFs::new(dir.path().join("root/nested")).unwrap();
        (dir, fs)
    }

    #[test]
    fn file_round_trip() {
        let (_dir, fs) = fs();
        assert!(fs.root().is_dir());
        let f = fs.create("a").unwrap();
        f.append(b"hello").unwrap();
        f.append(b" world").unwrap();
        f.sync_data().unwrap();
        assert_eq!(f.len().unwrap(), 11);
        let mut buf = [0u8; 5];
        f.read_at(6, &mut buf).unwrap();
        assert_eq!(&buf, b"world");
        assert_eq!(
            f.read_at(7, &mut buf).unwrap_err().kind(),
            ErrorKind::UnexpectedEof
        );
        f.truncate(5).unwrap();
        f.append(b"!").unwrap();
        assert_eq!(fs.read_all("a").unwrap(), b"hello!");
        assert_eq!(
            fs.create("a").err().unwrap().kind(),
            ErrorKind::AlreadyExists
        );
        drop(f);
        let f = fs.open_append("a").unwrap();
        f.append(b"?").unwrap();
        assert_eq!(fs.read_all("a").unwrap(), b"hello!?");
        let r = fs.open_read("a").unwrap();
        assert!(r.append(b"x").is_err());
        assert_eq!(
            fs.open_read("missing").err().unwrap().kind(),
            ErrorKind::NotFound
        );
    }

    #[test]
    fn namespace_round_trip() {
        let (_dir, fs) = fs();
        fs.create_dir_all("d/e").unwrap();
        fs.create_dir_all("d/e").unwrap();
        for name in ["d/b", "d/a", "d/e/x"] {
            fs.create(name).unwrap().append(name.as_bytes()).unwrap();
        }
        assert_eq!(fs.list("d").unwrap(), vec!["a", "b", "e"]);
        assert_eq!(fs.list("").unwrap(), vec!["d"]);
        assert_eq!(fs.list("nope").unwrap_err().kind(), ErrorKind::NotFound);
        fs.rename("d/a", "d/b").unwrap();
        assert_eq!(fs.read_all("d/b").unwrap(), b"d/a");
        assert!(!fs.exists("d/a").unwrap());
        fs.sync_dir("d").unwrap();
        fs.sync_dir("").unwrap();
        fs.remove("d/b").unwrap();
        assert!(!fs.exists("d/b").unwrap());
        fs.remove_dir_all("d").unwrap();
        assert!(!fs.exists("d").unwrap());
        assert!(fs.remove_dir_all("").is_err());
        assert!(fs.root().is_dir());
    }

    #[test]
    fn map_readonly_maps_content_and_empty_files() {
        let (_dir, fs) = fs();
        fs.create("empty").unwrap();
        assert!((*fs.map_readonly("empty").unwrap()).as_ref().is_empty());
        let f = fs.create("seg").unwrap();
        f.append(&[7u8; 10_000]).unwrap();
        f.sync_data().unwrap();
        let map = fs.map_readonly("seg").unwrap();
        assert_eq!((*map).as_ref(), &[7u8; 10_000][..]);
        fs.create_dir_all("dir").unwrap();
        assert!(fs.map_readonly("dir").is_err());
    }

    #[test]
    fn bad_paths_are_rejected() {
        let (_dir, fs) = fs();
        for p in ["/etc/passwd", "../x", "a/../../x"] {
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
            assert_eq!(
                fs.remove_dir_all(p).unwrap_err().kind(),
                ErrorKind::InvalidInput
            );
        }
        assert_eq!(
            fs.discard_unsynced("x").unwrap_err().kind(),
            ErrorKind::Unsupported
        );
    }
}
