//! [`Catalog`]: every series of a tenant, with an inverted tag index.
//!
//! Invariants:
//! 1. Series ids are dense indexes into `entries`, assigned in creation order
//!    and never reused while the catalog lives; they exist only in memory (files
//!    name series by key), so the catalog is rebuilt at open from segment
//!    indexes and the WAL.
//! 2. Posting lists are sorted ascending (ids only grow).
//! 3. A series' value type never changes.
//! 4. `ordered` holds every id once, in series-key order, maintained on
//!    creation, so listing series in key order (`last`, scans, downsample)
//!    is a walk, never a sort of string keys per query.
//! 5. Keys are shared (`Arc`) with their canonical text computed once, so
//!    queries copy pointers, not strings.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::Selector;
use crate::error::{Error, Result};
use crate::memtable::SeriesId;
use crate::model::{Limits, SeriesKey, ValueType};

/// One series.
#[derive(Clone, Debug)]
pub struct SeriesEntry {
    pub key: Arc<SeriesKey>,
    /// The key's canonical text (`measurement{k="v",…}`).
    pub text: Arc<str>,
    pub value_type: ValueType,
}

/// Every series of a tenant.
#[derive(Debug, Default)]
pub struct Catalog {
    entries: Vec<SeriesEntry>,
    by_key: HashMap<Arc<SeriesKey>, SeriesId>,
    ordered: BTreeMap<Arc<SeriesKey>, SeriesId>,
    /// (label, value) → ids; the label `__name__` indexes measurements.
    postings: HashMap<(String, String), Vec<SeriesId>>,
}

impl Catalog {
    /// Number of series.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no series.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The id of `key`, if known.
    pub fn lookup(&self, key: &SeriesKey) -> Option<SeriesId> {
        self.by_key.get(key).copied()
    }

    /// The entry of `id`.
    pub fn get(&self, id: SeriesId) -> Option<&SeriesEntry> {
        self.entries.get(id as usize)
    }

    /// Checks that `key` may be written with `value_type`: Ok(Some(id)) for an
    /// existing series, Ok(None) for a new one that fits the limits.
    pub fn check(
        &self,
        key: &SeriesKey,
        value_type: ValueType,
        new_so_far: usize,
        limits: &Limits,
    ) -> Result<Option<SeriesId>> {
        match self.by_key.get(key) {
            Some(&id) => {
                let existing = self.entries.get(id as usize).map(|e| e.value_type);
                match existing {
                    Some(t) if t != value_type => Err(Error::TypeMismatch {
                        series: key.to_string(),
                        existing: t.name(),
                        attempted: value_type.name(),
                    }),
                    _ => Ok(Some(id)),
                }
            }
            None => {
                let total = self.entries.len() + new_so_far + 1;
                if total > limits.max_series_per_tenant {
                    return Err(Error::LimitExceeded {
                        what: "series per tenant",
                        got: total as u64,
                        limit: limits.max_series_per_tenant as u64,
                    });
                }
                Ok(None)
            }
        }
    }

    /// Returns the id of `key`, creating the series if needed (no limit check:
    /// callers check first, and replay restores what was already accepted).
    pub fn get_or_create(&mut self, key: &SeriesKey, value_type: ValueType) -> Result<SeriesId> {
        if let Some(&id) = self.by_key.get(key) {
            let t = self.entries.get(id as usize).map(|e| e.value_type);
            if t != Some(value_type) {
                return Err(Error::TypeMismatch {
                    series: key.to_string(),
                    existing: t.map_or("?", ValueType::name),
                    attempted: value_type.name(),
                });
            }
            return Ok(id);
        }
        let id = SeriesId::try_from(self.entries.len())
            .map_err(|_| Error::invalid("catalog", "too many series"))?;
        self.postings
            .entry(("__name__".to_string(), key.measurement().to_string()))
            .or_default()
            .push(id);
        for (k, v) in key.tags() {
            self.postings
                .entry((k.clone(), v.clone()))
                .or_default()
                .push(id);
        }
        let key = Arc::new(key.clone());
        self.by_key.insert(Arc::clone(&key), id);
        self.ordered.insert(Arc::clone(&key), id);
        let text = Arc::from(key.to_string());
        self.entries.push(SeriesEntry {
            key,
            text,
            value_type,
        });
        Ok(id)
    }

    /// Every id in series-key order.
    pub fn ids_in_key_order(&self) -> impl Iterator<Item = SeriesId> + '_ {
        self.ordered.values().copied()
    }

    /// Ids of the series `selector` matches, in series-key order: a walk of
    /// the ordered ids when the selector has no equality matcher (or selects
    /// a large share of the series), else the posting-list candidates sorted.
    pub fn select_ordered(&self, selector: &Selector) -> Vec<SeriesId> {
        let matches = |id: SeriesId| self.get(id).is_some_and(|e| selector.matches(&e.key));
        let Some(candidates) = self.candidates(selector) else {
            return self.ids_in_key_order().filter(|&id| matches(id)).collect();
        };
        if candidates.len() * 8 > self.entries.len() {
            let mut member = vec![false; self.entries.len()];
            for &id in &candidates {
                if let Some(m) = member.get_mut(id as usize) {
                    *m = true;
                }
            }
            let chosen = |id: SeriesId| member.get(id as usize).copied().unwrap_or(false);
            return self
                .ids_in_key_order()
                .filter(|&id| chosen(id) && matches(id))
                .collect();
        }
        let mut ids: Vec<SeriesId> = candidates.into_iter().filter(|&id| matches(id)).collect();
        ids.sort_unstable_by(|&a, &b| {
            let key = |id| self.get(id).map(|e| &e.key);
            key(a).cmp(&key(b))
        });
        ids
    }

    /// Ids of the series `selector` matches, ascending. Equality matchers are
    /// answered from the posting lists; the rest filter the candidates.
    pub fn select(&self, selector: &Selector) -> Vec<SeriesId> {
        let all = || (0..self.entries.len() as SeriesId).collect::<Vec<_>>();
        self.candidates(selector)
            .unwrap_or_else(all)
            .into_iter()
            .filter(|&id| self.get(id).is_some_and(|e| selector.matches(&e.key)))
            .collect()
    }

    /// The intersection of the posting lists of the selector's non-empty
    /// equality matchers, ascending; None when it has none.
    fn candidates(&self, selector: &Selector) -> Option<Vec<SeriesId>> {
        let mut candidates: Option<Vec<SeriesId>> = None;
        for m in selector.matchers() {
            if m.op() != super::MatchOp::Eq || m.value().is_empty() {
                continue;
            }
            let key = (m.label().to_string(), m.value().to_string());
            let list = self.postings.get(&key).map(Vec::as_slice).unwrap_or(&[]);
            candidates = Some(match candidates {
                None => list.to_vec(),
                Some(c) => intersect(&c, list),
            });
        }
        candidates
    }
}

fn intersect(a: &[SeriesId], b: &[SeriesId]) -> Vec<SeriesId> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        match x.cmp(&y) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(x);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(m: &str, tags: &[(&str, &str)]) -> SeriesKey {
        SeriesKey::new(m, tags.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap()
    }

    #[test]
    fn select_uses_postings_and_regex() {
        let mut c = Catalog::default();
        let a = c
            .get_or_create(&key("temp", &[("m", "a")]), ValueType::F64)
            .unwrap();
        let b = c
            .get_or_create(&key("temp", &[("m", "b")]), ValueType::F64)
            .unwrap();
        let p = c
            .get_or_create(&key("pressure", &[("m", "a")]), ValueType::F64)
            .unwrap();
        assert_eq!(c.select(&Selector::parse("temp").unwrap()), vec![a, b]);
        assert_eq!(
            c.select(&Selector::parse(r#"{m="a"}"#).unwrap()),
            vec![a, p]
        );
        assert_eq!(
            c.select(&Selector::parse(r#"temp{m=~"b|c"}"#).unwrap()),
            vec![b]
        );
        assert_eq!(c.select(&Selector::parse("*").unwrap()).len(), 3);
        let all = Selector::parse("*").unwrap();
        assert_eq!(c.select_ordered(&all), vec![p, a, b]);
        assert_eq!(
            c.select_ordered(&Selector::parse(r#"{m="a"}"#).unwrap()),
            vec![p, a]
        );
        assert_eq!(
            c.select_ordered(&Selector::parse("temp").unwrap()),
            vec![a, b]
        );
        assert!(c
            .get_or_create(&key("temp", &[("m", "a")]), ValueType::I64)
            .is_err());
    }

    #[test]
    fn select_ordered_sorts_few_candidates_and_walks_many() {
        let mut c = Catalog::default();
        for i in (0..40).rev() {
            let (m, p, g) = (format!("{i:02}"), (i % 2).to_string(), (i / 4).to_string());
            let k = key("temp", &[("m", &m), ("p", &p), ("g", &g)]);
            c.get_or_create(&k, ValueType::F64).unwrap();
        }
        let text = |ids: Vec<SeriesId>| -> Vec<String> {
            ids.iter()
                .map(|&i| c.get(i).unwrap().text.to_string())
                .collect()
        };
        let few = c.select_ordered(&Selector::parse(r#"temp{g="2",p=~"1|2"}"#).unwrap());
        let want = [r#"temp{g="2",m="09",p="1"}"#, r#"temp{g="2",m="11",p="1"}"#];
        assert_eq!(text(few), want);
        let many = text(c.select_ordered(&Selector::parse(r#"{p="0"}"#).unwrap()));
        assert_eq!(many.len(), 20);
        assert!(many.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn series_limit_errors_at_limit_plus_one() {
        let limits = Limits {
            max_series_per_tenant: 1,
            ..Limits::default()
        };
        let c = Catalog::default();
        assert!(c.check(&key("a", &[]), ValueType::F64, 0, &limits).is_ok());
        assert!(c.check(&key("a", &[]), ValueType::F64, 1, &limits).is_err());
    }
}
