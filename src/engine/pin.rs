//! Pinned snapshots: a named read view of a tenant that survives restarts,
//! for cutting training sets that can be rebuilt byte for byte later.
//!
//! `Tenant::pin(name)` flushes the tenant and records, in its manifest, the
//! sequence number `seq` of the last write it holds and the list of live
//! segments at that moment. `Tenant::pinned_snapshot(name, ..)` reads those
//! segments and nothing else; `Tenant::release(name)` forgets the pin.
//!
//! Invariants:
//! 1. The pinned segments hold exactly the tenant's writes with
//!    `seq <= pin.seq`: under the flush lock (which every freeze and every
//!    segment install takes), the active memtable is frozen in the same
//!    critical section that reads `last_seq`, every frozen memtable is
//!    flushed, and the live segment list is recorded before the lock is
//!    released. Later writes go to later segments, never into these files.
//! 2. The pin is durable when `pin` returns (manifest rewrite: tmp, sync,
//!    rename, directory sync) and is read back at open.
//! 3. Segments are immutable and nothing removes a pinned one: today no code
//!    path removes a live segment except dropping the whole tenant, which
//!    deletes its pins with its data (the manufacturer's right to delete
//!    wins over reproducibility). Compaction and retention, when they come,
//!    must keep every segment a pin names (manifest invariant 6).
//! 4. A pinned snapshot selects only series that have points in the pinned
//!    segments, so a series created after the pin cannot make a selector
//!    ambiguous when a dataset is rebuilt.
//!
//! Cost: pinning flushes the tenant's memtables (one small segment when they
//! hold little), so pin when a dataset is cut, not per query.

use super::Tenant;
use crate::error::{Error, Result};
use crate::manifest::PinEntry;

/// What a pinned snapshot is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinInfo {
    pub name: String,
    /// The sequence number of the last write the pin holds.
    pub seq: u64,
    /// Number of segment files the pin keeps.
    pub segments: usize,
    /// Points in those segments.
    pub points: u64,
}

/// Longest pin name, in bytes.
pub const MAX_PIN_NAME_LEN: usize = 128;

/// A pin name is 1 to 128 bytes of `[A-Za-z0-9_.:-]`, starting with a
/// letter or digit (it appears in file names, URLs and shell commands).
fn check_pin_name(name: &str) -> Result<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-');
    let starts_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if !starts_ok || name.len() > MAX_PIN_NAME_LEN || !name.chars().all(ok_char) {
        return Err(Error::invalid(
            "pin name",
            format!(
                "{name:?}: use 1 to {MAX_PIN_NAME_LEN} characters of A-Z a-z 0-9 _ . : -, \
                 starting with a letter or digit"
            ),
        ));
    }
    Ok(())
}

impl Tenant {
    /// Pins the tenant's current version under `name` (see the module docs);
    /// an existing pin of that name is an error, not moved.
    pub fn pin(&self, name: &str) -> Result<PinInfo> {
        check_pin_name(name)?;
        let engine = &self.engine;
        let _flush = engine.lock_flush();
        {
            let st = self.inner.read();
            if st.dropped {
                return Err(Error::TenantNotFound(self.inner.name.clone()));
            }
            if st.manifest.pins.iter().any(|p| p.name == name) {
                return Err(self.pin_error(name, true));
            }
        }
        let seq = engine.flush_tenant_locked(&self.inner)?;
        let (mut manifest, on_disk) = {
            let st = self.inner.read();
            (st.manifest.clone(), st.on_disk)
        };
        let entry = PinEntry {
            name: name.to_string(),
            seq,
            segment_ids: manifest.segments.iter().map(|s| s.id).collect(),
        };
        let info = PinInfo {
            name: name.to_string(),
            seq,
            segments: manifest.segments.len(),
            points: manifest.segments.iter().map(|s| s.points).sum(),
        };
        let at = manifest.pins.partition_point(|p| p.name.as_str() < name);
        manifest.pins.insert(at, entry);
        self.commit_manifest(manifest, on_disk)?;
        Ok(info)
    }

    /// Releases the pin `name`; its segments stay live (nothing removes
    /// segments yet) but are no longer protected.
    pub fn release(&self, name: &str) -> Result<()> {
        let engine = &self.engine;
        let _flush = engine.lock_flush();
        let (mut manifest, on_disk) = {
            let st = self.inner.read();
            (st.manifest.clone(), st.on_disk)
        };
        let before = manifest.pins.len();
        manifest.pins.retain(|p| p.name != name);
        if manifest.pins.len() == before {
            return Err(self.pin_error(name, false));
        }
        self.commit_manifest(manifest, on_disk)
    }

    /// The tenant's pins, in name order.
    pub fn pins(&self) -> Vec<PinInfo> {
        let st = self.inner.read();
        let m = &st.manifest;
        m.pins
            .iter()
            .map(|p| PinInfo {
                name: p.name.clone(),
                seq: p.seq,
                segments: p.segment_ids.len(),
                points: m
                    .segments
                    .iter()
                    .filter(|s| p.segment_ids.binary_search(&s.id).is_ok())
                    .map(|s| s.points)
                    .sum(),
            })
            .collect()
    }

    pub(crate) fn pin_error(&self, name: &str, exists: bool) -> Error {
        let (tenant, name) = (self.inner.name.clone(), name.to_string());
        if exists {
            Error::PinExists { tenant, name }
        } else {
            Error::PinNotFound { tenant, name }
        }
    }
}
