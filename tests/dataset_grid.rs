//! Putting channels on the dataset grid, checked by hand on tiny series:
//! linear, step and exact ("none") interpolation with a max gap, aggregation
//! of each step, the default interpolation per value type, points before
//! the grid start, non-finite values as absent readings, and that the set
//! comes from one snapshot whose seq is recorded.

mod dataset_support;

use dataset_support::{engine, write, write_f64, S};
use historian::dataset::{
    Aggregation, ChannelSpec, Dataset, DatasetError, DatasetSpec, Interpolation, MissingPolicy,
    WindowSpec,
};
use historian::query::TimeRange;
use historian::{Selector, Value};

/// Every grid point its own window, all kept: the grid is visible as is.
fn spec(points: i64) -> DatasetSpec {
    DatasetSpec::new(0, points * S, S)
        .with_windows(WindowSpec::new(1).with_missing(1.0, MissingPolicy::Keep))
}

fn column(ds: &Dataset, c: usize) -> Vec<Option<f64>> {
    (0..ds.axis.points).map(|k| ds.raw(c, k)).collect()
}

#[test]
fn linear_step_and_none_with_max_gap() {
    let (_d, e) = engine();
    let t = e.tenant("acme").unwrap();
    write_f64(&t, "a", &[(S / 2, 1.0), (5 * S / 2, 3.0), (7 * S, 8.0)]);
    let ch = |name: &str, i| {
        ChannelSpec::new("a")
            .with_name(name)
            .with_interpolation(i)
            .with_max_gap(2 * S)
    };
    let spec = spec(10)
        .with_channel(ch("lin", Interpolation::Linear))
        .with_channel(ch("step", Interpolation::Step))
        .with_channel(ch("none", Interpolation::None));
    let ds = Dataset::cut(&t, &spec).unwrap();
    let n = None;
    // 0.5 s → 2.5 s is 2 s apart (≤ gap): t=1 → 1.5, t=2 → 2.5; 2.5 s → 7 s is too far.
    assert_eq!(
        column(&ds, 0),
        [n, Some(1.5), Some(2.5), n, n, n, n, Some(8.0), n, n]
    );
    // The last point at or before t, at most 2 s old (t=9 is exactly 2 s after 7 s).
    let step = [
        n,
        Some(1.0),
        Some(1.0),
        Some(3.0),
        Some(3.0),
        n,
        n,
        Some(8.0),
        Some(8.0),
        Some(8.0),
    ];
    assert_eq!(column(&ds, 1), step);
    assert_eq!(column(&ds, 2), [n, n, n, n, n, n, n, Some(8.0), n, n]);
    assert_eq!(ds.channels[0].method, "linear");
    assert_eq!(ds.channels[1].series, "a");
}

#[test]
fn a_smaller_gap_invalidates_more() {
    let (_d, e) = engine();
    let t = e.tenant("acme").unwrap();
    write_f64(&t, "a", &[(0, 0.0), (2 * S, 2.0), (3 * S, 3.0)]);
    let lin = ChannelSpec::new("a").with_interpolation(Interpolation::Linear);
    // The grid's default gap is one step: 0 → 2 s is too far for t=1.
    let ds = Dataset::cut(&t, &spec(4).with_channel(lin.clone())).unwrap();
    assert_eq!(column(&ds, 0), [Some(0.0), None, Some(2.0), Some(3.0)]);
    let ds = Dataset::cut(&t, &spec(4).with_max_gap(2 * S).with_channel(lin)).unwrap();
    assert_eq!(column(&ds, 0), [Some(0.0), Some(1.0), Some(2.0), Some(3.0)]);
}

#[test]
fn aggregation_over_each_step() {
    let (_d, e) = engine();
    let t = e.tenant("acme").unwrap();
    let pts = [
        (0, 1.0),
        (S / 5, 2.0),
        (9 * S / 10, 6.0),
        (S, 4.0),
        (7 * S / 2, -1.0),
    ];
    write_f64(&t, "b", &pts);
    let mut spec = spec(4);
    for a in [
        Aggregation::Mean,
        Aggregation::Min,
        Aggregation::Max,
        Aggregation::Last,
    ] {
        let c = ChannelSpec::new("b").with_name(a.name()).with_aggregate(a);
        spec = spec.with_channel(c);
    }
    let ds = Dataset::cut(&t, &spec).unwrap();
    let n = None;
    assert_eq!(column(&ds, 0), [Some(3.0), Some(4.0), n, Some(-1.0)]);
    assert_eq!(column(&ds, 1), [Some(1.0), Some(4.0), n, Some(-1.0)]);
    assert_eq!(column(&ds, 2), [Some(6.0), Some(4.0), n, Some(-1.0)]);
    assert_eq!(column(&ds, 3), [Some(6.0), Some(4.0), n, Some(-1.0)]);
    assert_eq!(ds.channels[0].method, "mean");
}

#[test]
fn default_interpolation_follows_the_value_type() {
    let (_d, e) = engine();
    let t = e.tenant("acme").unwrap();
    write_f64(&t, "f", &[(0, 0.0), (2 * S, 2.0)]);
    write(&t, "i", &[(0, Value::I64(5)), (2 * S, Value::I64(7))]);
    write(
        &t,
        "b",
        &[(0, Value::Bool(true)), (2 * S, Value::Bool(false))],
    );
    let spec = spec(3)
        .with_max_gap(2 * S)
        .with_channel(ChannelSpec::new("f"))
        .with_channel(ChannelSpec::new("i"))
        .with_channel(ChannelSpec::new("b"));
    let ds = Dataset::cut(&t, &spec).unwrap();
    assert_eq!(column(&ds, 0), [Some(0.0), Some(1.0), Some(2.0)]);
    assert_eq!(column(&ds, 1), [Some(5.0), Some(5.0), Some(7.0)]);
    assert_eq!(column(&ds, 2), [Some(1.0), Some(1.0), Some(0.0)]);
    let methods: Vec<_> = ds.channels.iter().map(|c| c.method).collect();
    assert_eq!(methods, ["linear", "step", "step"]);
}

#[test]
fn points_outside_the_grid_feed_interpolation() {
    let (_d, e) = engine();
    let t = e.tenant("acme").unwrap();
    // Grid [10 s, 12 s); neighbours at 9.5 s and 12.5 s.
    write_f64(&t, "a", &[(19 * S / 2, 1.0), (25 * S / 2, 4.0)]);
    let spec = DatasetSpec::new(10 * S, 12 * S, S)
        .with_max_gap(3 * S)
        .with_windows(WindowSpec::new(1))
        .with_channel(ChannelSpec::new("a").with_name("lin"))
        .with_channel(
            ChannelSpec::new("a")
                .with_name("step")
                .with_interpolation(Interpolation::Step),
        );
    let ds = Dataset::cut(&t, &spec).unwrap();
    assert_eq!(column(&ds, 0), [Some(1.5), Some(2.5)]);
    assert_eq!(column(&ds, 1), [Some(1.0), Some(1.0)]);
}

#[test]
fn non_finite_values_are_absent_readings() {
    let (_d, e) = engine();
    let t = e.tenant("acme").unwrap();
    write_f64(
        &t,
        "a",
        &[
            (0, 1.0),
            (S, f64::NAN),
            (2 * S, 3.0),
            (3 * S, f64::INFINITY),
        ],
    );
    let spec = spec(4)
        .with_max_gap(2 * S)
        .with_channel(ChannelSpec::new("a"));
    let ds = Dataset::cut(&t, &spec).unwrap();
    assert_eq!(column(&ds, 0), [Some(1.0), Some(2.0), Some(3.0), None]);
}

#[test]
fn a_series_without_points_in_range_is_all_missing() {
    let (_d, e) = engine();
    let t = e.tenant("acme").unwrap();
    write_f64(&t, "a", &[(100 * S, 1.0)]);
    write_f64(&t, "b", &[(0, 1.0)]);
    let spec = spec(3)
        .with_channel(ChannelSpec::new("a"))
        .with_channel(ChannelSpec::new("b"));
    let ds = Dataset::cut(&t, &spec).unwrap();
    assert_eq!(column(&ds, 0), [None, None, None]);
    assert_eq!(ds.channels[0].value_type, None);
    assert_eq!(column(&ds, 1), [Some(1.0), None, None]);
}

#[test]
fn channels_resolve_to_exactly_one_series() {
    let (_d, e) = engine();
    let t = e.tenant("acme").unwrap();
    write_f64(&t, r#"p{m="1"}"#, &[(0, 1.0)]);
    write_f64(&t, r#"p{m="2"}"#, &[(0, 2.0)]);
    let one = spec(2).with_channel(ChannelSpec::new(r#"p{m="2"}"#));
    let ds = Dataset::cut(&t, &one).unwrap();
    assert_eq!(ds.channels[0].series, r#"p{m="2"}"#);
    assert_eq!(ds.raw(0, 0), Some(2.0));
    let both = spec(2).with_channel(ChannelSpec::new("p"));
    match Dataset::cut(&t, &both) {
        Err(DatasetError::AmbiguousSelector {
            count: 2, selector, ..
        }) => assert_eq!(selector, "p"),
        other => panic!("{other:?}"),
    }
    let none = spec(2).with_channel(ChannelSpec::new(r#"p{m="3"}"#));
    match Dataset::cut(&t, &none) {
        Err(e @ DatasetError::UnknownSeries { .. }) => {
            assert!(e.to_string().contains(r#"p{m="3"}"#), "{e}");
            assert!(e.is_bad_argument());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_set_comes_from_one_snapshot_and_records_its_seq() {
    let (_d, e) = engine();
    let t = e.tenant("acme").unwrap();
    write_f64(&t, "a", &[(0, 1.0)]);
    write_f64(&t, "b", &[(0, 2.0)]);
    let spec = spec(2)
        .with_channel(ChannelSpec::new("a"))
        .with_channel(ChannelSpec::new("b"));
    let ds = Dataset::cut(&t, &spec).unwrap();
    let seq = t.snapshot(&Selector::all(), TimeRange::ALL).seq();
    assert_eq!(ds.seq, seq);
    assert!(seq >= 2);
    write_f64(&t, "a", &[(S, 5.0)]);
    let later = Dataset::cut(&t, &spec).unwrap();
    assert!(later.seq > ds.seq);
    assert_eq!(later.raw(0, 1), Some(5.0));
    assert_eq!(ds.source_points, 2);
}
