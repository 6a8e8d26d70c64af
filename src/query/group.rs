//! `--by` grouping: which series aggregate together, and in what order
//! groups are output.
//!
//! Invariants:
//! 1. Without grouping tags every series is its own group, in key order.
//! 2. With tags, a group is every selected series with the same measurement
//!    and the same value of each tag (a missing tag is its own value, null
//!    in output, sorted before every present value); groups are ordered by
//!    (measurement, tag values) and a group's members stay in key order.
//! 3. Group labels are shared (`Arc`) by every output item of the group.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use super::snapshot::SnapSeries;
use crate::model::SeriesKey;

/// What an output row is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupLabel {
    /// One series.
    Series {
        key: Arc<SeriesKey>,
        /// The key's canonical text.
        text: Arc<str>,
    },
    /// The series of one measurement sharing the values of the grouping
    /// tags (in request order; None where the tag is absent).
    Tags {
        measurement: String,
        values: Vec<Option<String>>,
    },
}

impl GroupLabel {
    /// Text naming the group in messages.
    pub fn describe(&self, by: &[String]) -> String {
        match self {
            GroupLabel::Series { text, .. } => text.to_string(),
            GroupLabel::Tags {
                measurement,
                values,
            } => {
                let tags: Vec<String> = by
                    .iter()
                    .zip(values)
                    .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("")))
                    .collect();
                format!("{measurement} by ({})", tags.join(","))
            }
        }
    }
}

/// A group: its label and its members (indexes into the snapshot's series,
/// in key order).
#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub label: Arc<GroupLabel>,
    pub members: Vec<usize>,
}

/// Groups the series of a snapshot (module invariants 1 and 2).
pub(crate) fn group_series(series: &[SnapSeries], by: &[String]) -> Vec<Group> {
    if by.is_empty() {
        return series
            .iter()
            .enumerate()
            .map(|(i, s)| Group {
                label: Arc::new(GroupLabel::Series {
                    key: Arc::clone(&s.key),
                    text: Arc::clone(&s.text),
                }),
                members: vec![i],
            })
            .collect();
    }
    let mut groups: BTreeMap<(&str, Vec<Option<&str>>), Vec<usize>> = BTreeMap::new();
    for (i, s) in series.iter().enumerate() {
        let values = by.iter().map(|t| s.key.tag(t)).collect();
        groups
            .entry((s.key.measurement(), values))
            .or_default()
            .push(i);
    }
    groups
        .into_iter()
        .map(|((m, values), members)| Group {
            label: Arc::new(GroupLabel::Tags {
                measurement: m.to_string(),
                values: values.into_iter().map(|v| v.map(str::to_string)).collect(),
            }),
            members,
        })
        .collect()
}
