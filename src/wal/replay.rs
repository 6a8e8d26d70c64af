//! WAL recovery: reads every WAL file in order and hands each record to the
//! caller (which routes it to its tenant's memtable).
//!
//! Strict rules (RELIABILITY.md §7, "Strict"):
//! 1. Every file but the last must decode completely: it was fully synced
//!    before the next one was started (wal/writer.rs invariant 5).
//! 2. Sequence numbers are consecutive within and across files; a file's
//!    header names its first sequence number, so a missing file is an error.
//! 3. In the last file, an undecodable record is a *torn tail* only if it lies
//!    beyond every `synced_through` mark of the records before it: nothing
//!    there was acknowledged in `Sync` mode. The tail is cut off (truncate +
//!    sync) and reported. Below such a mark, or when an intact record after
//!    it carries a mark past it, it is corruption of acknowledged data and
//!    replay fails with the file and offset.
//! 4. A last file whose header is unreadable was being created when the crash
//!    came (headers are synced before any record is written); it is removed.
//!
//! What cannot be told apart: corruption of the very last synced records when
//! no later record carries a higher `synced_through` looks like a torn tail.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use super::file_header::{decode_header, parse_wal_file_name, wal_file_name, WAL_HEADER_LEN};
use super::record::{decode_frame_view, RecordView, FRAME_HEADER_LEN, KIND_BATCH};
use super::writer::WalFileInfo;
use crate::error::{CorruptionKind, Error, Result};
use crate::vfs::{join, Vfs};

/// A torn tail cut off during replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TornTail {
    pub file: String,
    pub offset: u64,
    pub dropped_bytes: u64,
}

/// What replay found.
#[derive(Debug, Default)]
pub struct ReplayOutcome {
    /// The WAL files kept, oldest first.
    pub files: Vec<WalFileInfo>,
    /// The sequence number the next record must carry (None: no WAL at all).
    pub next_seq: Option<u64>,
    /// The number for the next WAL file.
    pub next_file_index: u64,
    pub torn_tail: Option<TornTail>,
    pub records: u64,
}

/// Replays the WAL in `dir`, calling `visit` for every record in order.
pub fn replay(
    vfs: &Arc<dyn Vfs>,
    dir: &str,
    mut visit: impl FnMut(RecordView<'_>) -> Result<()>,
) -> Result<ReplayOutcome> {
    let mut indexes: Vec<u64> = list_dir(vfs.as_ref(), dir)?
        .iter()
        .filter_map(|n| parse_wal_file_name(n))
        .collect();
    indexes.sort_unstable();
    let mut out = ReplayOutcome {
        next_file_index: indexes.last().map_or(1, |i| i + 1),
        ..Default::default()
    };
    let count = indexes.len();
    for (i, &index) in indexes.iter().enumerate() {
        let is_last = i + 1 == count;
        let path = join(dir, &wal_file_name(index));
        // Mapped, not read: replay touches each byte once and copies it
        // straight into the memtable. The map is dropped before any truncate.
        let map = vfs
            .map_readonly(&path)
            .map_err(|e| Error::io(path.clone(), e))?;
        let data: &[u8] = (*map).as_ref();
        let first_seq = match decode_header(data) {
            Ok(s) => s,
            // Headers are synced before any record is written, so a last file
            // no longer than a header with a bad header never held a record.
            Err(_) if is_last && data.len() <= WAL_HEADER_LEN => {
                let len = data.len();
                drop(map);
                remove_unborn_file(vfs.as_ref(), dir, &path, len, &mut out)?;
                break;
            }
            Err(e) => return Err(e.into_error(&path)),
        };
        if let Some(expected) = out.next_seq {
            if first_seq != expected {
                let msg = format!("file starts at seq {first_seq}, expected {expected}");
                return Err(Error::corruption(&path, 0, CorruptionKind::Invalid(msg)));
            }
        }
        let (info, torn_at) = replay_file(
            &path,
            data,
            (index, first_seq, is_last),
            &mut out,
            &mut visit,
        )?;
        let len = data.len() as u64;
        drop(map);
        if let Some(offset) = torn_at {
            truncate_tail(vfs.as_ref(), &path, offset, len, &mut out)?;
        }
        out.next_seq = Some(info.last_seq.map_or(first_seq, |s| s + 1));
        out.files.push(info);
    }
    Ok(out)
}

/// Replays one mapped file; returns its info and, for a torn tail in the last
/// file, the offset to cut it at.
fn replay_file(
    path: &str,
    data: &[u8],
    (index, first_seq, is_last): (u64, u64, bool),
    out: &mut ReplayOutcome,
    visit: &mut impl FnMut(RecordView<'_>) -> Result<()>,
) -> Result<(WalFileInfo, Option<u64>)> {
    let mut info = WalFileInfo {
        index,
        first_seq,
        bytes: WAL_HEADER_LEN as u64,
        ..Default::default()
    };
    let mut offset = WAL_HEADER_LEN;
    let mut synced_mark = WAL_HEADER_LEN as u64;
    let mut expected_seq = first_seq;
    while offset < data.len() {
        let rest = data.get(offset..).unwrap_or_default();
        let (record, len) = match decode_frame_view(rest, offset as u64) {
            Ok(r) => r,
            Err(e) => {
                if !is_last
                    || (offset as u64) < synced_mark
                    || later_record_synced_past(data, offset, expected_seq)
                {
                    return Err(e.into_error(path));
                }
                return Ok((info, Some(offset as u64)));
            }
        };
        if record.seq != expected_seq || record.synced_through > offset as u64 {
            let msg = format!(
                "record seq {} (expected {expected_seq}), synced_through {}",
                record.seq, record.synced_through
            );
            return Err(Error::corruption(
                path,
                offset as u64,
                CorruptionKind::Invalid(msg),
            ));
        }
        synced_mark = synced_mark.max(record.synced_through);
        expected_seq += 1;
        info.last_seq = Some(record.seq);
        info.bytes += len as u64;
        *info
            .tenant_bytes
            .entry(record.tenant.to_string())
            .or_default() += len as u64;
        out.records += 1;
        visit(record)?;
        offset += len;
    }
    Ok((info, None))
}

/// True when an intact record after `bad` says the file was durable past
/// `bad` when it was written: then the bytes at `bad` were synced, so they are
/// corrupted, not torn, and cutting the log there would drop acknowledged
/// records. Candidates are screened on their kind byte, sequence number and
/// `synced_through` before their checksum is computed.
fn later_record_synced_past(data: &[u8], bad: usize, bad_seq: u64) -> bool {
    let word = |at: usize| -> Option<u64> {
        let b: [u8; 8] = data.get(at..at.checked_add(8)?)?.try_into().ok()?;
        Some(u64::from_le_bytes(b))
    };
    (bad + 1..data.len()).any(|at| {
        let plausible = data.get(at + FRAME_HEADER_LEN) == Some(&KIND_BATCH)
            && word(at + FRAME_HEADER_LEN + 1)
                .is_some_and(|seq| seq > bad_seq && seq - bad_seq <= (at - bad) as u64)
            && word(at + FRAME_HEADER_LEN + 9)
                .is_some_and(|synced| synced > bad as u64 && synced <= at as u64);
        plausible
            && data
                .get(at..)
                .is_some_and(|rest| decode_frame_view(rest, at as u64).is_ok())
    })
}

fn truncate_tail(
    vfs: &dyn Vfs,
    path: &str,
    offset: u64,
    len: u64,
    out: &mut ReplayOutcome,
) -> Result<()> {
    let file = vfs.open_append(path).map_err(|e| Error::io(path, e))?;
    file.truncate(offset).map_err(|e| Error::io(path, e))?;
    file.sync_data().map_err(|e| Error::io(path, e))?;
    out.torn_tail = Some(TornTail {
        file: path.to_string(),
        offset,
        dropped_bytes: len - offset,
    });
    Ok(())
}

fn remove_unborn_file(
    vfs: &dyn Vfs,
    dir: &str,
    path: &str,
    len: usize,
    out: &mut ReplayOutcome,
) -> Result<()> {
    vfs.remove(path).map_err(|e| Error::io(path, e))?;
    vfs.sync_dir(dir).map_err(|e| Error::io(dir, e))?;
    out.torn_tail = Some(TornTail {
        file: path.to_string(),
        offset: 0,
        dropped_bytes: len as u64,
    });
    Ok(())
}

fn list_dir(vfs: &dyn Vfs, dir: &str) -> Result<Vec<String>> {
    match vfs.list(dir) {
        Ok(names) => Ok(names),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io(dir, e)),
    }
}
