//! Window labels: from the points of a label series or from event ranges,
//! reduced over the window's span or its horizon's.
//!
//! Invariants (the span is `[a, b)` in ns):
//! 1. Series: the label series' finite points with `a ≤ ts < b` are reduced:
//!    `any` 1.0 if one is non-zero else 0.0, `all` 1.0 if every one is
//!    non-zero else 0.0, `last` the value of the latest one. No point in
//!    the span gives NaN (unknown), never a guess.
//! 2. Events (`[from, to)` ranges, sorted by `from`): `any` 1.0 if an event
//!    overlaps the span, `all` 1.0 if the union of events covers it, `last`
//!    1.0 if the span's last instant `b − 1` is inside an event; else 0.0.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::spec::LabelReduce;
use super::validate::{LabelPlan, LabelSource};

/// The label of span `[a, b)` from a series' points (`ts` sorted).
pub(crate) fn from_series(ts: &[i64], values: &[f64], a: i64, b: i64, r: LabelReduce) -> f64 {
    let start = ts.partition_point(|&t| t < a);
    let end = ts.partition_point(|&t| t < b).max(start);
    let Some(vals) = values.get(start..end).filter(|v| !v.is_empty()) else {
        return f64::NAN;
    };
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    match r {
        LabelReduce::Any => flag(vals.iter().any(|&v| v != 0.0)),
        LabelReduce::All => flag(vals.iter().all(|&v| v != 0.0)),
        LabelReduce::Last => vals.last().copied().unwrap_or(f64::NAN),
    }
}

/// The label of span `[a, b)` from event ranges sorted by start.
pub(crate) fn from_events(events: &[(i64, i64)], a: i64, b: i64, r: LabelReduce) -> f64 {
    let hit = match r {
        LabelReduce::Any => events.iter().any(|&(f, t)| f < b && t > a),
        LabelReduce::Last => {
            let last = b.saturating_sub(1);
            events.iter().any(|&(f, t)| f <= last && last < t)
        }
        LabelReduce::All => {
            let mut covered = a; // [a, covered) is covered so far
            for &(f, t) in events {
                if f > covered || covered >= b {
                    break;
                }
                covered = covered.max(t);
            }
            covered >= b
        }
    };
    if hit {
        1.0
    } else {
        0.0
    }
}

/// The label of a span under `plan` (`points` are the label series' points
/// when the labels come from a series).
pub(crate) fn label(
    plan: &LabelPlan,
    points: Option<&(Vec<i64>, Vec<f64>)>,
    a: i64,
    b: i64,
) -> f64 {
    match (&plan.source, points) {
        (LabelSource::Events(ev), _) => from_events(ev, a, b, plan.reduce),
        (LabelSource::Series { .. }, Some((ts, v))) => from_series(ts, v, a, b, plan.reduce),
        (LabelSource::Series { .. }, None) => f64::NAN,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn series_reductions() {
        let ts = [0, 10, 20, 30];
        let v = [0.0, 1.0, 1.0, 0.0];
        assert_eq!(from_series(&ts, &v, 0, 20, LabelReduce::Any), 1.0);
        assert_eq!(from_series(&ts, &v, 0, 20, LabelReduce::All), 0.0);
        assert_eq!(from_series(&ts, &v, 10, 30, LabelReduce::All), 1.0);
        assert_eq!(from_series(&ts, &v, 0, 40, LabelReduce::Last), 0.0);
        assert!(from_series(&ts, &v, 31, 40, LabelReduce::Any).is_nan());
    }

    #[test]
    fn event_reductions() {
        let ev = [(10, 20), (20, 25), (40, 50)];
        assert_eq!(from_events(&ev, 0, 11, LabelReduce::Any), 1.0);
        assert_eq!(from_events(&ev, 0, 10, LabelReduce::Any), 0.0);
        assert_eq!(from_events(&ev, 12, 25, LabelReduce::All), 1.0);
        assert_eq!(from_events(&ev, 12, 26, LabelReduce::All), 0.0);
        assert_eq!(from_events(&ev, 30, 41, LabelReduce::Last), 1.0);
        assert_eq!(from_events(&ev, 30, 40, LabelReduce::Last), 0.0);
    }
}
