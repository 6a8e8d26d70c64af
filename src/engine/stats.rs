//! Per-tenant statistics (`historian stats`).

use super::Tenant;
use crate::error::{Error, Result};
use crate::vfs::join;

/// Sizes and counts of one tenant (CLI.md `stats`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TenantStats {
    pub tenant: String,
    pub series: u64,
    /// Points stored in segments and memtables (overwritten duplicates not yet
    /// merged away are counted).
    pub points: u64,
    pub segments: u64,
    /// Every file in the tenant's directory.
    pub bytes_on_disk: u64,
    pub segment_bytes: u64,
    /// `bytes_on_disk / points` (0 without points).
    pub bytes_per_point: f64,
    /// Bytes of WAL records of this tenant not yet trimmed.
    pub wal_bytes: u64,
    pub memtable_points: u64,
}

impl Tenant {
    /// Statistics of this tenant.
    pub fn stats(&self) -> Result<TenantStats> {
        let (series, segment_points, segments, segment_bytes, mem_points, on_disk) = {
            let st = self.inner.read();
            let mem = st.active.points() + st.frozen.iter().map(|f| f.points).sum::<usize>();
            (
                st.catalog.len() as u64,
                st.segments.iter().map(|s| s.points()).sum::<u64>(),
                st.segments.len() as u64,
                st.segments.iter().map(|s| s.file_len()).sum::<u64>(),
                mem as u64,
                st.on_disk,
            )
        };
        let bytes_on_disk = if on_disk { self.dir_bytes()? } else { 0 };
        let points = segment_points + mem_points;
        let wal_bytes = self
            .engine
            .wal
            .files()
            .iter()
            .filter_map(|f| f.tenant_bytes.get(&self.inner.name))
            .sum();
        Ok(TenantStats {
            tenant: self.inner.name.clone(),
            series,
            points,
            segments,
            bytes_on_disk,
            segment_bytes,
            bytes_per_point: if points == 0 {
                0.0
            } else {
                bytes_on_disk as f64 / points as f64
            },
            wal_bytes,
            memtable_points: mem_points,
        })
    }

    fn dir_bytes(&self) -> Result<u64> {
        let vfs = &self.engine.vfs;
        let dir = &self.inner.dir;
        let mut total = 0;
        for name in vfs.list(dir).map_err(|e| Error::io(dir.clone(), e))? {
            let path = join(dir, &name);
            let f = vfs
                .open_read(&path)
                .map_err(|e| Error::io(path.clone(), e))?;
            total += f.len().map_err(|e| Error::io(path, e))?;
        }
        Ok(total)
    }
}
