//! [`Split`]: train, validation and test, and which one a window belongs to.
//!
//! Invariants:
//! 1. A window belongs to the split whose grid-index range holds its whole
//!    span (window plus horizon); a window that straddles a boundary or
//!    touches an embargo gap belongs to none and is left out.
//! 2. The ranges are ordered and disjoint (`validate.rs`), so every train
//!    window ends at or before the first validation window starts, and every
//!    validation window at or before the first test window starts.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use serde::{Deserialize, Serialize};

use super::validate::SplitPlan;

/// One part of a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Validation,
    Test,
}

impl Split {
    /// Every split, in time order (also the order of outputs).
    pub const ALL: [Split; 3] = [Split::Train, Split::Validation, Split::Test];

    /// The name used in file names and outputs.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
        }
    }

    /// Position in [`Split::ALL`].
    pub fn index(self) -> usize {
        match self {
            Split::Train => 0,
            Split::Validation => 1,
            Split::Test => 2,
        }
    }
}

impl SplitPlan {
    /// The grid-index range `[start, end)` of a split.
    pub(crate) fn range(&self, split: Split) -> (usize, usize) {
        match split {
            Split::Train => self.train,
            Split::Validation => self.validation,
            Split::Test => self.test,
        }
    }

    /// The split holding the span `[start, start + span)`, if any (invariant 1).
    pub(crate) fn of(&self, start: usize, span: usize) -> Option<Split> {
        let end = start.checked_add(span)?;
        Split::ALL.into_iter().find(|&s| {
            let (a, b) = self.range(s);
            a <= start && end <= b
        })
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn windows_straddling_a_boundary_or_in_the_embargo_belong_to_none() {
        let p = SplitPlan {
            train: (0, 10),
            validation: (12, 20),
            test: (22, 30),
        };
        assert_eq!(p.of(0, 10), Some(Split::Train));
        assert_eq!(p.of(1, 10), None);
        assert_eq!(p.of(10, 4), None);
        assert_eq!(p.of(12, 8), Some(Split::Validation));
        assert_eq!(p.of(21, 4), None);
        assert_eq!(p.of(26, 4), Some(Split::Test));
        assert_eq!(p.of(27, 4), None);
        assert_eq!(p.of(usize::MAX, 4), None);
    }
}
