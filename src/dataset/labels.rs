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
//! 3. An events series (a state series) is turned into events once: each
//!    point's value holds until the next point, a non-zero value is an event
//!    in force, the last point's state holds for ever; then as 2.
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

/// The event ranges of a state series (invariant 3), merged and sorted.
pub(crate) fn events_of_states(ts: &[i64], values: &[f64]) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    let mut points = ts.iter().zip(values).peekable();
    while let Some((&t, &v)) = points.next() {
        if v == 0.0 {
            continue;
        }
        let end = points.peek().map_or(i64::MAX, |(&next, _)| next);
        match out.last_mut() {
            Some(last) if last.1 == t => last.1 = end,
            _ => out.push((t, end)),
        }
    }
    out
}

/// What labels are computed from, prepared once per build.
pub(crate) enum LabelInput<'a> {
    Points(&'a [i64], &'a [f64]),
    Events(std::borrow::Cow<'a, [(i64, i64)]>),
    /// The label series has no point in the read range.
    Nothing,
}

impl<'a> LabelInput<'a> {
    /// `points` are the label series' points when labels come from a series.
    pub fn new(plan: &'a LabelPlan, points: Option<&'a (Vec<i64>, Vec<f64>)>) -> Self {
        match (&plan.source, points) {
            (LabelSource::Events(ev), _) => LabelInput::Events(ev.as_slice().into()),
            (LabelSource::Series { states: true, .. }, Some((ts, v))) => {
                LabelInput::Events(events_of_states(ts, v).into())
            }
            (LabelSource::Series { states: true, .. }, None) => {
                LabelInput::Events(Vec::new().into())
            }
            (LabelSource::Series { .. }, Some((ts, v))) => LabelInput::Points(ts, v),
            (LabelSource::Series { .. }, None) => LabelInput::Nothing,
        }
    }

    /// The label of span `[a, b)`.
    pub fn label(&self, reduce: LabelReduce, a: i64, b: i64) -> f64 {
        match self {
            LabelInput::Events(ev) => from_events(ev, a, b, reduce),
            LabelInput::Points(ts, v) => from_series(ts, v, a, b, reduce),
            LabelInput::Nothing => f64::NAN,
        }
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
    fn state_series_become_events() {
        let ts = [5, 10, 20, 30, 40, 50];
        let v = [0.0, 1.0, 1.0, 0.0, 2.0, 0.0];
        assert_eq!(events_of_states(&ts, &v), [(10, 30), (40, 50)]);
        assert_eq!(events_of_states(&[7], &[1.0]), [(7, i64::MAX)]);
        assert!(events_of_states(&[], &[]).is_empty());
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
