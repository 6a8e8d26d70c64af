//! Offline verification of a data directory: reads every file and checks
//! every checksum and every manifest reference, without repairing anything.
//!
//! Unlike opening the engine, verification is strict about the WAL: an
//! undecodable tail is reported as corruption (opening would cut it off as a
//! torn write and report it in [`crate::RecoveryReport`]).

use std::sync::Arc;

use crate::error::{CorruptionKind, Error, Result};
use crate::manifest::read_manifest;
use crate::segment::{segment_file_name, Segment};
use crate::vfs::{join, Vfs};
use crate::wal::{decode_frame_view, parse_wal_file_name, wal_file_name, WAL_HEADER_LEN};

/// What verification read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub tenants: usize,
    pub segments: usize,
    pub segment_points: u64,
    pub wal_files: usize,
    pub wal_records: u64,
    /// Files in tenant directories that no manifest names (removed at open).
    pub orphan_files: Vec<String>,
}

/// Verifies every tenant (or only `tenant`) and the WAL.
pub fn verify_dir(vfs: &Arc<dyn Vfs>, tenant: Option<&str>) -> Result<VerifyReport> {
    let mut report = VerifyReport::default();
    let names = match vfs.list("tenants") {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io("tenants", e)),
    };
    for name in names
        .iter()
        .filter(|n| tenant.is_none_or(|t| t == n.as_str()))
    {
        verify_tenant(vfs, &join("tenants", name), &mut report)?;
        report.tenants += 1;
    }
    verify_wal(vfs.as_ref(), &mut report)?;
    Ok(report)
}

fn verify_tenant(vfs: &Arc<dyn Vfs>, dir: &str, report: &mut VerifyReport) -> Result<()> {
    let manifest = read_manifest(vfs.as_ref(), dir)?.unwrap_or_default();
    let mut live = vec!["MANIFEST".to_string(), "DROPPED".to_string()];
    for entry in &manifest.segments {
        let name = segment_file_name(entry.id);
        let path = join(dir, &name);
        if !vfs.exists(&path).map_err(|e| Error::io(path.clone(), e))? {
            let msg = "segment named by the manifest is missing".to_string();
            return Err(Error::corruption(path, 0, CorruptionKind::Invalid(msg)));
        }
        let seg = Segment::open(Arc::clone(vfs), &path, entry.id)?;
        if seg.file_len() != entry.file_len || seg.points() != entry.points {
            let msg = "segment length or point count differs from the manifest".to_string();
            return Err(Error::corruption(path, 0, CorruptionKind::Invalid(msg)));
        }
        report.segment_points += seg.verify()?;
        report.segments += 1;
        live.push(name);
    }
    let files = vfs.list(dir).map_err(|e| Error::io(dir, e))?;
    for f in files.into_iter().filter(|f| !live.contains(f)) {
        report.orphan_files.push(join(dir, &f));
    }
    Ok(())
}

fn verify_wal(vfs: &dyn Vfs, report: &mut VerifyReport) -> Result<()> {
    let mut indexes: Vec<u64> = match vfs.list("wal") {
        Ok(n) => n.iter().filter_map(|n| parse_wal_file_name(n)).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io("wal", e)),
    };
    indexes.sort_unstable();
    let mut expected: Option<u64> = None;
    for index in indexes {
        let path = join("wal", &wal_file_name(index));
        let data = vfs
            .read_all(&path)
            .map_err(|e| Error::io(path.clone(), e))?;
        let first = crate::wal::decode_header_for_verify(&data).map_err(|e| e.into_error(&path))?;
        if expected.is_some_and(|e| e != first) {
            let msg = format!("file starts at seq {first}, expected {expected:?}");
            return Err(Error::corruption(path, 0, CorruptionKind::Invalid(msg)));
        }
        let mut seq = first;
        let mut offset = WAL_HEADER_LEN;
        while offset < data.len() {
            let rest = data.get(offset..).unwrap_or_default();
            let (rec, len) =
                decode_frame_view(rest, offset as u64).map_err(|e| e.into_error(&path))?;
            if rec.seq != seq {
                let msg = format!("record seq {} where {seq} was expected", rec.seq);
                return Err(Error::corruption(
                    path,
                    offset as u64,
                    CorruptionKind::Invalid(msg),
                ));
            }
            seq += 1;
            offset += len;
            report.wal_records += 1;
        }
        expected = Some(seq);
        report.wal_files += 1;
    }
    Ok(())
}
