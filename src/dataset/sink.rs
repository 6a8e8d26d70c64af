//! [`HashedFile`]: an output file that computes its size and sha256 as it
//! is written, so the manifest's checksums cost no second read.
//!
//! Bytes are gathered into 1 MiB chunks; the caller's thread writes each
//! chunk to the file and hands it to a hashing thread, which returns it for
//! reuse. sha256 (about 1.5 GB/s with SHA-NI here) then overlaps with
//! producing the next chunks instead of adding to them.
//!
//! Every `SYNC_EVERY` bytes a third thread `fdatasync`s what is written
//! so far (on its own handle of the same open file), so the disk writes
//! back while the next chunks are produced and the final sync has only
//! the tail left, instead of the whole file at `finish`. A file written
//! without syncing has no such thread.
//!
//! Invariants:
//! 1. Every byte that reaches the file passed through the hasher, in order
//!    (one channel, FIFO): the entry describes exactly the file's contents.
//! 2. `finish` flushes and syncs the file before it returns its entry, so
//!    the manifest (written last) never names a file that is not durable;
//!    unless the [`OutDir`] was opened without syncing (`BuildOptions::sync`
//!    false), where a crash may leave a set that `verify` rejects.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

use super::error::{DatasetError, Result};
use super::manifest::FileEntry;

/// Bytes per chunk handed to the hashing thread.
const CHUNK: usize = 1 << 20;
/// Chunks in flight (bounds memory to a few MiB).
const IN_FLIGHT: usize = 4;
/// Bytes between early syncs.
const SYNC_EVERY: u64 = 64 << 20;

/// The directory a set is written into, and whether its files are synced.
#[derive(Clone, Debug)]
pub(crate) struct OutDir {
    pub path: PathBuf,
    pub sync: bool,
}

impl OutDir {
    /// Creates `name` in the directory (truncating it).
    pub fn create(&self, name: &str) -> Result<HashedFile> {
        HashedFile::create_in(&self.path, name, self.sync)
    }
}

/// A file being written, with its running sha256 and length.
pub(crate) struct HashedFile {
    path: PathBuf,
    name: String,
    file: File,
    bytes: u64,
    buf: Vec<u8>,
    to_hasher: Option<SyncSender<Vec<u8>>>,
    recycled: Receiver<Vec<u8>>,
    hasher: Option<JoinHandle<Sha256>>,
    /// Wakes the early-sync thread (a pending wake-up covers later bytes);
    /// None, as `syncer`, when the file is not synced.
    to_syncer: Option<SyncSender<()>>,
    /// Returns how many early syncs it ran.
    syncer: Option<JoinHandle<io::Result<u64>>>,
    synced_at: u64,
    sync_every: u64,
    /// Sync at `finish` (and early, every `sync_every` bytes).
    sync: bool,
}

impl HashedFile {
    /// Creates `dir/name` (truncating it), synced as it is written and at
    /// `finish` when `sync`.
    fn create_in(dir: &Path, name: &str, sync: bool) -> Result<HashedFile> {
        let path = dir.join(name);
        let file = File::create(&path).map_err(|e| DatasetError::io(&path, e))?;
        let (to_hasher, chunks) = mpsc::sync_channel::<Vec<u8>>(IN_FLIGHT);
        let (give_back, recycled) = mpsc::sync_channel::<Vec<u8>>(IN_FLIGHT + 1);
        let hasher = std::thread::Builder::new()
            .name("dataset-sha256".into())
            .spawn(move || {
                let mut h = Sha256::new();
                for chunk in chunks {
                    h.update(&chunk);
                    // The writer may be gone (error path): nothing to return then.
                    let _ = give_back.try_send(chunk);
                }
                h
            })
            .map_err(|e| DatasetError::io(&path, e))?;
        // Without syncing there is nothing for an early-sync thread to do.
        let (to_syncer, syncer) = if sync {
            let handle = file.try_clone().map_err(|e| DatasetError::io(&path, e))?;
            let (to_syncer, wake) = mpsc::sync_channel::<()>(1);
            let syncer = std::thread::Builder::new()
                .name("dataset-sync".into())
                .spawn(move || {
                    let mut syncs = 0;
                    for () in wake {
                        handle.sync_data()?;
                        syncs += 1;
                    }
                    Ok(syncs)
                })
                .map_err(|e| DatasetError::io(&path, e))?;
            (Some(to_syncer), Some(syncer))
        } else {
            (None, None)
        };
        Ok(HashedFile {
            path,
            name: name.to_string(),
            file,
            bytes: 0,
            buf: Vec::with_capacity(CHUNK),
            to_hasher: Some(to_hasher),
            recycled,
            hasher: Some(hasher),
            to_syncer,
            syncer,
            synced_at: 0,
            sync_every: SYNC_EVERY,
            sync,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the gathered chunk to the file and hands it to the hasher.
    fn flush_chunk(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.file.write_all(&self.buf)?;
        self.bytes += self.buf.len() as u64;
        if self.sync && self.bytes - self.synced_at >= self.sync_every {
            if let Some(tx) = &self.to_syncer {
                // Full: a sync is pending and will cover these bytes too.
                let _ = tx.try_send(());
            }
            self.synced_at = self.bytes;
        }
        let mut next = self.recycled.try_recv().unwrap_or_default();
        next.clear();
        next.reserve(CHUNK);
        let full = std::mem::replace(&mut self.buf, next);
        match &self.to_hasher {
            Some(tx) => tx
                .send(full)
                .map_err(|_| io::Error::other("the sha256 thread stopped")),
            None => Err(io::Error::other("file already finished")),
        }
    }

    /// Syncs the file and returns its manifest entry.
    pub fn finish(self) -> Result<FileEntry> {
        self.finish_counting().map(|(entry, _)| entry)
    }

    /// [`HashedFile::finish`], and how many early syncs ran.
    fn finish_counting(mut self) -> Result<(FileEntry, u64)> {
        let path = self.path.clone();
        let io_err = |e| DatasetError::io(&path, e);
        self.flush_chunk().map_err(io_err)?;
        // An early sync's error must fail the file: the final sync on the
        // same open file may no longer report it.
        let early_syncs = match self.syncer {
            Some(_) => close_and_join(&mut self.to_syncer, &mut self.syncer)
                .ok_or_else(|| io_err(io::Error::other("the sync thread panicked")))?
                .map_err(io_err)?,
            None => 0,
        };
        self.file.flush().map_err(io_err)?;
        if self.sync {
            self.file.sync_all().map_err(io_err)?;
        }
        let digest = close_and_join(&mut self.to_hasher, &mut self.hasher)
            .ok_or_else(|| io_err(io::Error::other("the sha256 thread panicked")))?
            .finalize();
        let entry = FileEntry {
            name: std::mem::take(&mut self.name),
            bytes: self.bytes,
            sha256: hex(&digest),
        };
        Ok((entry, early_syncs))
    }
}

impl Drop for HashedFile {
    fn drop(&mut self) {
        // Close the channels so the threads end, then reap them.
        let _ = close_and_join(&mut self.to_hasher, &mut self.hasher);
        let _ = close_and_join(&mut self.to_syncer, &mut self.syncer);
    }
}

/// Closes a helper thread's channel and waits for the thread: its result,
/// or None when it panicked or was already reaped.
fn close_and_join<M, T>(
    to: &mut Option<SyncSender<M>>,
    thread: &mut Option<JoinHandle<T>>,
) -> Option<T> {
    drop(to.take());
    thread.take().and_then(|h| h.join().ok())
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
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = CHUNK.saturating_sub(self.buf.len()).max(1);
        let take = data.get(..room.min(data.len())).unwrap_or(data);
        self.buf.extend_from_slice(take);
        if self.buf.len() >= CHUNK {
            self.flush_chunk()?;
        }
        Ok(take.len())
    }

    /// Gathered bytes stay until a chunk is full or `finish`: the file's
    /// readers only look at it after the manifest is written.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
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
        // Several chunks, written in pieces that straddle chunk boundaries.
        let mut f = HashedFile::create_in(&dir, "a.bin", true).unwrap();
        f.sync_every = 2 * CHUNK as u64;
        let piece: Vec<u8> = (0..77_777u32).map(|i| (i * 31 % 251) as u8).collect();
        for _ in 0..50 {
            f.write_all(&piece).unwrap();
        }
        let (e, early_syncs) = f.finish_counting().unwrap();
        // 3.9 MB in 1 MiB chunks: a sync is asked for after the 2nd chunk
        // (and may coalesce with the 4th's request).
        assert!(early_syncs >= 1, "no early sync ran");
        let (bytes, sha) = super::super::manifest::hash_file(&dir.join("a.bin")).unwrap();
        assert_eq!((e.bytes, e.sha256), (bytes, sha));
        assert_eq!(bytes, 50 * 77_777);
        assert!(bytes > 3 * CHUNK as u64);
        // Without syncs: the same entry, no early-sync thread, no early sync.
        let mut f = HashedFile::create_in(&dir, "c.bin", false).unwrap();
        assert!(f.syncer.is_none() && f.to_syncer.is_none());
        f.sync_every = 2 * CHUNK as u64;
        for _ in 0..50 {
            f.write_all(&piece).unwrap();
        }
        let (c, early_syncs) = f.finish_counting().unwrap();
        let (bytes, sha) = super::super::manifest::hash_file(&dir.join("c.bin")).unwrap();
        assert_eq!((c.bytes, c.sha256, early_syncs), (bytes, sha, 0));
        assert_eq!(bytes, 50 * 77_777);
        let empty = HashedFile::create_in(&dir, "b.bin", true)
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(
            empty.sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
