//! Per-series lossy settings: rules (selector → deadband or swinging door)
//! kept in the tenant's manifest and applied when points are written to
//! segments. Off unless a user sets a rule.
//!
//! Invariants:
//! 1. A rule changes only through a manifest rewrite under the flush lock, so
//!    it is durable when `set_lossy` returns and no flush can overwrite it
//!    with an older manifest.
//! 2. Points still in the WAL and memtables are exact; a rule applies to the
//!    points of the flushes after it is set, never to segments already written.
//! 3. For a series, the last rule (in the order set) whose selector matches it
//!    applies; each segment records the setting its points were stored with.

use crate::catalog::Selector;
use crate::codec::lossy::Lossy;
use crate::engine::Tenant;
use crate::error::{Error, Result};
use crate::manifest::{write_manifest, LossyRule, Manifest};
use crate::model::SeriesKey;

impl Tenant {
    /// Sets the lossy setting of the series `selector` matches (replacing a rule
    /// with the same selector text), or with `None` removes that rule.
    pub fn set_lossy(&self, selector: &str, lossy: Option<Lossy>) -> Result<()> {
        Selector::parse(selector)?;
        if let Some(l) = lossy {
            l.validate().map_err(|reason| Error::InvalidArgument {
                what: "lossy setting",
                reason,
            })?;
        }
        let engine = &self.engine;
        let _flush = engine.lock_flush();
        let (mut manifest, on_disk) = {
            let st = self.inner.read();
            (st.manifest.clone(), st.on_disk)
        };
        manifest.lossy.retain(|r| r.selector != selector);
        if let Some(lossy) = lossy {
            manifest.lossy.push(LossyRule {
                selector: selector.to_string(),
                lossy,
            });
        }
        self.commit_manifest(manifest, on_disk)
    }

    /// Makes `manifest` (edited from the current one under the flush lock,
    /// which the caller holds) the tenant's: next generation, tenant
    /// directory created if it is not on disk yet, written durably
    /// (`write_manifest`), then installed in the state.
    pub(crate) fn commit_manifest(&self, mut manifest: Manifest, on_disk: bool) -> Result<()> {
        manifest.generation += 1;
        if !on_disk {
            self.engine.create_tenant_dir(&self.inner.dir)?;
        }
        write_manifest(self.engine.vfs.as_ref(), &self.inner.dir, &manifest)?;
        let mut st = self.inner.write();
        st.manifest = manifest;
        st.on_disk = true;
        Ok(())
    }

    /// The lossy rules, in the order they were set.
    pub fn lossy_rules(&self) -> Vec<LossyRule> {
        self.inner.read().manifest.lossy.clone()
    }
}

/// Parsed rules, to look up many series at flush time.
pub(crate) struct LossyRules(Vec<(Selector, Lossy)>);

impl LossyRules {
    /// Parses the rules; a rule whose selector no longer parses is skipped
    /// (it was checked when set, so this needs a changed grammar).
    pub fn new(rules: &[LossyRule]) -> Self {
        LossyRules(
            rules
                .iter()
                .filter_map(|r| Selector::parse(&r.selector).ok().map(|s| (s, r.lossy)))
                .collect(),
        )
    }

    /// The setting of `key`: the last matching rule's.
    pub fn for_key(&self, key: &SeriesKey) -> Option<Lossy> {
        self.0
            .iter()
            .rev()
            .find(|(s, _)| s.matches(key))
            .map(|(_, l)| *l)
    }
}
