//! [`HashedFile`]: an output file that computes its size and sha256 as it
//! is written, so the manifest's checksums cost no second read.
//!
//! Invariants:
//! 1. Every byte that reaches the file passed through the hasher, in order:
//!    the entry describes exactly the file's contents.
//! 2. `finish` flushes and syncs the file before it returns its entry, so
//!    the manifest (written last) never names a file that is not durable.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::error::{DatasetError, Result};
use super::manifest::FileEntry;

/// A file being written, with its running sha256 and length.
pub(crate) struct HashedFile {
    path: PathBuf,
    name: String,
    file: File,
    hasher: Sha256,
    bytes: u64,
}

impl HashedFile {
    /// Creates `dir/name` (truncating it).
    pub fn create(dir: &Path, name: &str) -> Result<HashedFile> {
        let path = dir.join(name);
        let file = File::create(&path).map_err(|e| DatasetError::io(&path, e))?;
        Ok(HashedFile {
            path,
            name: name.to_string(),
            file,
            hasher: Sha256::new(),
            bytes: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Syncs the file and returns its manifest entry.
    pub fn finish(mut self) -> Result<FileEntry> {
        self.file
            .flush()
            .and_then(|()| self.file.sync_all())
            .map_err(|e| DatasetError::io(&self.path, e))?;
        Ok(FileEntry {
            name: self.name,
            bytes: self.bytes,
            sha256: hex(&self.hasher.finalize()),
        })
    }
}

/// Lowercase hex of a digest.
pub(crate) fn hex(digest: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(digest.len() * 2);
    for &b in digest {
        for nibble in [b >> 4, b & 15] {
            s.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    s
}

impl Write for HashedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        let written = buf.get(..n).unwrap_or_default();
        self.hasher.update(written);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_matches_a_hash_of_the_file_read_back() {
        let dir = std::env::temp_dir().join(format!("historian-sink-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut f = HashedFile::create(&dir, "a.bin").unwrap();
        for i in 0..1000u32 {
            f.write_all(&i.to_le_bytes()).unwrap();
        }
        let e = f.finish().unwrap();
        let (bytes, sha) = super::super::manifest::hash_file(&dir.join("a.bin")).unwrap();
        assert_eq!((e.bytes, e.sha256), (bytes, sha));
        assert_eq!(bytes, 4000);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
