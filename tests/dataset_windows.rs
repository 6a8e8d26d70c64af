//! Windows, labels, splits and normalisation of datasets, checked by hand:
//! length, stride and horizon; dropping or keeping windows with missing
//! cells; labels any/all/last over the window or the horizon, from a series
//! or from event ranges; train/validation/test with an embargo (no train
//! window ends after the first validation window starts); statistics equal
//! to those of the train windows alone and blind to later data.

mod dataset_support;

use dataset_support::{engine, write, write_f64, S};
use historian::dataset::{
    ChannelSpec, Dataset, DatasetSpec, Interpolation, LabelReduce, LabelSpan, LabelSpec,
    MissingPolicy, Normalization, Split, SplitSpec, WindowSpec,
};
use historian::{Tenant, Value};

/// Channel `x` = k at k seconds for k in 0..n, except the seconds in `holes`.
fn ramp(t: &Tenant, n: i64, holes: &[i64]) {
    let pts: Vec<(i64, f64)> = (0..n)
        .filter(|k| !holes.contains(k))
        .map(|k| (k * S, k as f64))
        .collect();
    write_f64(t, "x", &pts);
}

fn exact_x() -> ChannelSpec {
    ChannelSpec::new("x").with_interpolation(Interpolation::None)
}

fn starts(ds: &Dataset, split: Split) -> Vec<usize> {
    ds.windows_in(split).iter().map(|w| w.start).collect()
}

#[test]
fn length_stride_and_missing_drop_or_keep() {
    let (_d, e) = engine();
    let t = e.tenant("acme").unwrap();
    ramp(&t, 20, &[5]);
    let base = DatasetSpec::new(0, 20 * S, S).with_channel(exact_x());
    // Starts 0, 2, …, 16; those at 2 and 4 hold the hole (1 of 4 cells).
    let ds = Dataset::cut(
        &t,
        &base.clone().with_windows(WindowSpec::new(4).with_stride(2)),
    )
    .unwrap();
    assert_eq!(starts(&ds, Split::Train), [0, 6, 8, 10, 12, 14, 16]);
    assert_eq!(ds.counts[0].dropped, 2);
    assert_eq!(ds.windows[1].start_ns, 6 * S);
    assert_eq!(ds.windows[1].index, 1);

    let keep = WindowSpec::new(4)
        .with_stride(2)
        .with_missing(0.1, MissingPolicy::Keep);
    let ds = Dataset::cut(&t, &base.clone().with_windows(keep)).unwrap();
    assert_eq!(starts(&ds, Split::Train), [0, 2, 4, 6, 8, 10, 12, 14, 16]);
    assert_eq!((ds.counts[0].dropped, ds.counts[0].over_missing), (0, 2));
    assert_eq!(ds.windows[1].missing_fraction, 0.25);

    let at_limit = WindowSpec::new(4)
        .with_stride(2)
        .with_missing(0.25, MissingPolicy::Drop);
    let ds = Dataset::cut(&t, &base.with_windows(at_limit)).unwrap();
    assert_eq!(ds.counts[0].windows, 9);
}

#[test]
fn horizon_windows_leave_room_for_the_target() {
    let (_d, e) = engine();
    let t = e.tenant("acme").unwrap();
    ramp(&t, 20, &[]);
    let w = WindowSpec::new(4).with_stride(3).with_horizon(2);
    let spec = DatasetSpec::new(0, 20 * S, S)
        .with_channel(exact_x())
        .with_windows(w);
    let ds = Dataset::cut(&t, &spec).unwrap();
    // start + 6 ≤ 20.
    assert_eq!(starts(&ds, Split::Train), [0, 3, 6, 9, 12]);
    assert_eq!(ds.horizon(), 2);
    let last = ds.windows.last().unwrap();
    assert_eq!(ds.cell(0, last.start + 4), Some(16.0));
    assert_eq!(ds.cell(0, last.start + 5), Some(17.0));
}

/// Labels 1 at seconds 6 and 7, 0 elsewhere in 0..16; the grid runs to 20 s.
fn labelled() -> (tempfile::TempDir, historian::Engine, Tenant) {
    let (d, e) = engine();
    let t = e.tenant("acme").unwrap();
    ramp(&t, 20, &[]);
    let lab: Vec<(i64, Value)> = (0..16)
        .map(|k| (k * S, Value::I64(i64::from(k == 6 || k == 7))))
        .collect();
    write(&t, "anomaly", &lab);
    (d, e, t)
}

fn labels(t: &Tenant, l: LabelSpec, horizon: u64) -> Vec<(usize, f64)> {
    let stride = if horizon > 0 { 1 } else { 2 };
    let w = WindowSpec::new(4).with_stride(stride).with_horizon(horizon);
    let spec = DatasetSpec::new(0, 20 * S, S)
        .with_channel(exact_x())
        .with_windows(w)
        .with_labels(l);
    let ds = Dataset::cut(t, &spec).unwrap();
    ds.windows
        .iter()
        .map(|w| (w.start, w.label.unwrap()))
        .collect()
}

#[test]
fn labels_from_a_series_over_the_window() {
    let (_d, _e, t) = labelled();
    let any = labels(&t, LabelSpec::series("anomaly", LabelReduce::Any), 0);
    let ones: Vec<usize> = any.iter().filter(|(_, l)| *l == 1.0).map(|w| w.0).collect();
    assert_eq!(ones, [4, 6]);
    let all = labels(&t, LabelSpec::series("anomaly", LabelReduce::All), 0);
    assert!(all.iter().take(7).all(|(_, l)| *l == 0.0), "{all:?}");
    let last = labels(&t, LabelSpec::series("anomaly", LabelReduce::Last), 0);
    assert_eq!(last[2], (4, 1.0)); // [4, 8): the last point is at 7
    assert_eq!(last[3], (6, 0.0)); // [6, 10): at 9
                                   // [16, 20) has no label point: unknown, not 0.
    assert_eq!(any[8].0, 16);
    assert!(any[8].1.is_nan());
}

#[test]
fn labels_from_a_series_over_the_horizon() {
    let (_d, _e, t) = labelled();
    let over = |r| {
        labels(
            &t,
            LabelSpec::series("anomaly", r).over(LabelSpan::Horizon),
            2,
        )
    };
    // Stride 1; the horizon of start s is [s + 4, s + 6), ones at 6 and 7.
    let any = over(LabelReduce::Any);
    assert_eq!(
        &any[..5],
        [(0, 0.0), (1, 1.0), (2, 1.0), (3, 1.0), (4, 0.0)]
    );
    let all = over(LabelReduce::All);
    assert_eq!(
        &all[..5],
        [(0, 0.0), (1, 0.0), (2, 1.0), (3, 0.0), (4, 0.0)]
    );
    let last = over(LabelReduce::Last);
    assert_eq!(
        &last[..5],
        [(0, 0.0), (1, 1.0), (2, 1.0), (3, 0.0), (4, 0.0)]
    );
}

#[test]
fn labels_from_event_ranges() {
    let (_d, _e, t) = labelled();
    let ev = |r| labels(&t, LabelSpec::events(&[(13 * S / 2, 15 * S / 2)], r), 0);
    let any = ev(LabelReduce::Any);
    let ones: Vec<usize> = any.iter().filter(|(_, l)| *l == 1.0).map(|w| w.0).collect();
    assert_eq!(ones, [4, 6]);
    assert!(ev(LabelReduce::All).iter().all(|(_, l)| *l == 0.0));
    // Events [7 s, 8 s) and [8 s, 12 s): their union covers [8, 12) and the
    // last instant of [4, 8).
    let two = [(7 * S, 8 * S), (8 * S, 12 * S)];
    let all = labels(&t, LabelSpec::events(&two, LabelReduce::All), 0);
    let ones: Vec<usize> = all.iter().filter(|(_, l)| *l == 1.0).map(|w| w.0).collect();
    assert_eq!(ones, [8]);
    let last = labels(&t, LabelSpec::events(&two, LabelReduce::Last), 0);
    let ones: Vec<usize> = last
        .iter()
        .filter(|(_, l)| *l == 1.0)
        .map(|w| w.0)
        .collect();
    assert_eq!(ones, [4, 6, 8]);
}

/// Events stored as a state series give the labels of the same ranges given
/// in the spec, including an event switched on before the grid starts (the
/// series is read from the start) and one left on at the end.
#[test]
fn labels_from_an_events_series_equal_the_same_events_in_the_spec() {
    let (_d, _e, t) = labelled();
    // On at -30 s (before the grid), off at 1 s; on at 7 s, still on at 8 s
    // (merged), off at 12 s; on at 17 s for good.
    let states: Vec<(i64, Value)> = [(-30, 1), (1, 0), (7, 1), (8, 1), (12, 0), (17, 1)]
        .iter()
        .map(|&(k, v)| (k * S, Value::Bool(v == 1)))
        .collect();
    write(&t, "maintenance", &states);
    let ranges = [(-30 * S, S), (7 * S, 12 * S), (17 * S, i64::MAX)];
    for r in [LabelReduce::Any, LabelReduce::All, LabelReduce::Last] {
        let from_series = labels(&t, LabelSpec::events_series("maintenance", r), 0);
        let from_spec = labels(&t, LabelSpec::events(&ranges, r), 0);
        assert_eq!(from_series, from_spec, "{r:?}");
    }
    let any = labels(
        &t,
        LabelSpec::events_series("maintenance", LabelReduce::Any),
        0,
    );
    let ones: Vec<usize> = any.iter().filter(|(_, l)| *l == 1.0).map(|w| w.0).collect();
    assert_eq!(ones, [0, 4, 6, 8, 10, 14, 16]);
    // A selector matching no series is refused like any label series.
    let spec = DatasetSpec::new(0, 20 * S, S)
        .with_channel(exact_x())
        .with_windows(WindowSpec::new(4))
        .with_labels(LabelSpec::events_series("nope", LabelReduce::Any));
    let err = Dataset::cut(&t, &spec).unwrap_err();
    assert!(err.to_string().contains("matches no series"), "{err}");
}

#[test]
fn split_by_fractions_with_an_embargo() {
    let (_d, e) = engine();
    let t = e.tenant("acme").unwrap();
    ramp(&t, 100, &[]);
    let spec = DatasetSpec::new(0, 100 * S, S)
        .with_channel(exact_x())
        .with_windows(WindowSpec::new(5))
        .with_split(SplitSpec::fractions(0.6, 0.2).with_embargo(5 * S / 2));
    let ds = Dataset::cut(&t, &spec).unwrap();
    // Boundaries at grid points 60 and 80; the 2.5 s embargo rounds up to 3 steps.
    assert_eq!(starts(&ds, Split::Train), (0..=55).collect::<Vec<_>>());
    assert_eq!(
        starts(&ds, Split::Validation),
        (63..=75).collect::<Vec<_>>()
    );
    assert_eq!(starts(&ds, Split::Test), (83..=95).collect::<Vec<_>>());
    assert_eq!(ds.unassigned_windows, 96 - 56 - 13 - 13);
    let train_end = ds
        .windows_in(Split::Train)
        .iter()
        .map(|w| w.start_ns + 5 * S)
        .max();
    let val_start = ds
        .windows_in(Split::Validation)
        .iter()
        .map(|w| w.start_ns)
        .min();
    assert!(train_end.unwrap() + 3 * S <= val_start.unwrap());
    let val_end = ds
        .windows_in(Split::Validation)
        .iter()
        .map(|w| w.start_ns + 5 * S)
        .max();
    let test_start = ds.windows_in(Split::Test).iter().map(|w| w.start_ns).min();
    assert!(val_end.unwrap() <= test_start.unwrap());
}

#[test]
fn split_by_times_and_horizon_never_straddles() {
    let (_d, e) = engine();
    let t = e.tenant("acme").unwrap();
    ramp(&t, 100, &[]);
    let w = WindowSpec::new(5).with_stride(4).with_horizon(3);
    // Validation from 61.5 s (the first grid point at or after it: 62), test from 80 s.
    let spec = DatasetSpec::new(0, 100 * S, S)
        .with_channel(exact_x())
        .with_windows(w)
        .with_split(SplitSpec::at(123 * S / 2, Some(80 * S)));
    let ds = Dataset::cut(&t, &spec).unwrap();
    for w in &ds.windows {
        let (a, b) = match w.split {
            Split::Train => (0, 62),
            Split::Validation => (62, 80),
            Split::Test => (80, 100),
        };
        assert!(a <= w.start && w.start + 8 <= b, "{w:?}");
    }
    assert_eq!(starts(&ds, Split::Train).last(), Some(&52));
    assert_eq!(starts(&ds, Split::Validation), [64, 68, 72]);
    assert_eq!(starts(&ds, Split::Test), [80, 84, 88, 92]);
}

/// A channel with an irregular pattern and some holes, split 50/25/25.
fn stats_spec(norm: Normalization) -> DatasetSpec {
    DatasetSpec::new(0, 80 * S, S)
        .with_channel(ChannelSpec::new("v").with_interpolation(Interpolation::None))
        .with_windows(
            WindowSpec::new(5)
                .with_stride(3)
                .with_missing(1.0, MissingPolicy::Keep),
        )
        .with_split(SplitSpec::fractions(0.5, 0.25).with_embargo(2 * S))
        .with_normalize(norm)
}

fn pattern(t: &Tenant, later: f64) {
    let pts: Vec<(i64, f64)> = (0..80)
        .filter(|k| k % 7 != 3)
        .map(|k| {
            let v = ((k * k) % 17) as f64 * 0.5 - 2.0;
            (k * S, if k >= 40 { v * later + 100.0 } else { v })
        })
        .collect();
    write_f64(t, "v", &pts);
}

#[test]
fn normalisation_statistics_come_from_train_windows_alone() {
    let (_d, e) = engine();
    let t = e.tenant("acme").unwrap();
    pattern(&t, 1.0);
    let raw = Dataset::cut(&t, &stats_spec(Normalization::None)).unwrap();
    // The train windows' valid cells, overlaps counted as often as they occur.
    let mut cells = Vec::new();
    for w in raw.windows_in(Split::Train) {
        for k in w.start..w.start + 5 {
            cells.extend(raw.raw(0, k));
        }
    }
    let n = cells.len() as f64;
    let mean = cells.iter().sum::<f64>() / n;
    let std = (cells.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
    let s = &raw.stats[0];
    assert_eq!(s.cells, cells.len() as u64);
    assert!((s.mean.unwrap() - mean).abs() < 1e-12, "{s:?} {mean}");
    assert!((s.std.unwrap() - std).abs() < 1e-12, "{s:?} {std}");
    assert_eq!(s.min, cells.iter().copied().reduce(f64::min));
    assert_eq!(s.max, cells.iter().copied().reduce(f64::max));
    assert_eq!((s.offset, s.scale), (0.0, 1.0));
    assert!(raw.windows_in(Split::Test).len() > 3);

    let z = Dataset::cut(&t, &stats_spec(Normalization::Zscore)).unwrap();
    assert_eq!(z.stats[0].mean, s.mean);
    for w in &z.windows {
        for k in w.start..w.start + 5 {
            let expect = raw
                .raw(0, k)
                .map(|v| (v - s.mean.unwrap()) / s.std.unwrap());
            assert_eq!(z.cell(0, k), expect);
        }
    }
    let mm = Dataset::cut(&t, &stats_spec(Normalization::Minmax)).unwrap();
    let (lo, hi) = (s.min.unwrap(), s.max.unwrap());
    let k = mm.windows_in(Split::Test)[0].start;
    assert_eq!(mm.cell(0, k), raw.raw(0, k).map(|v| (v - lo) / (hi - lo)));
}

#[test]
fn later_data_does_not_change_the_statistics() {
    let (_d, e) = engine();
    let (a, b) = (e.tenant("a").unwrap(), e.tenant("b").unwrap());
    pattern(&a, 1.0);
    pattern(&b, -3.0);
    let da = Dataset::cut(&a, &stats_spec(Normalization::Zscore)).unwrap();
    let db = Dataset::cut(&b, &stats_spec(Normalization::Zscore)).unwrap();
    // Train ends at grid point 40, where the two tenants' data begin to differ.
    assert_eq!(da.stats, db.stats);
    let k = da.windows_in(Split::Validation)[0].start;
    assert_ne!(da.cell(0, k), db.cell(0, k));
}

#[test]
fn a_constant_channel_normalises_to_zero() {
    let (_d, e) = engine();
    let t = e.tenant("acme").unwrap();
    write_f64(&t, "v", &(0..10).map(|k| (k * S, 4.0)).collect::<Vec<_>>());
    let spec = DatasetSpec::new(0, 10 * S, S)
        .with_channel(ChannelSpec::new("v"))
        .with_windows(WindowSpec::new(2))
        .with_normalize(Normalization::Zscore);
    let ds = Dataset::cut(&t, &spec).unwrap();
    assert_eq!((ds.stats[0].std, ds.stats[0].scale), (Some(0.0), 1.0));
    assert_eq!(ds.cell(0, 3), Some(0.0));
}
