//! Dataset specs: the TOML form (text times and durations, TOML datetimes,
//! unknown keys refused) and every bad spec refused with its own typed
//! error before any work starts.

mod dataset_support;

use dataset_support::{engine, write_f64, S};
use historian::dataset::{
    build, validate, Aggregation, ChannelSpec, Dataset, DatasetError, DatasetSpec, Interpolation,
    LabelReduce, LabelSpan, LabelSpec, MissingPolicy, Normalization, SplitSpec, WindowSpec,
    MAX_GRID_CELLS,
};

const TOML: &str = r#"
normalize = "zscore"

[grid]
from = "2020-03-09T10:00:00Z"
to = 2020-03-09T11:00:00Z
step = "1s"
max_gap = "5s"

[[channels]]
select = 'Pressure{file="valve1_0"}'
name = "pressure"
interpolation = "linear"
max_gap = "3s"

[[channels]]
select = '{__name__="Volume Flow RateRMS"}'
aggregate = "mean"

[windows]
length = 60
stride = 10
horizon = 5
max_missing = 0.1
missing = "keep"

[labels]
series = 'anomaly{file="valve1_0"}'
reduce = "last"
over = "horizon"

[split]
train = 0.7
validation = 0.15
embargo = "1m"
"#;

#[test]
fn toml_spec_parses_into_the_builder_form() {
    let spec = DatasetSpec::from_toml(TOML).unwrap();
    let from = 1_583_748_000 * S;
    let built = DatasetSpec::new(from, from + 3600 * S, S)
        .with_max_gap(5 * S)
        .with_channel(
            ChannelSpec::new(r#"Pressure{file="valve1_0"}"#)
                .with_name("pressure")
                .with_interpolation(Interpolation::Linear)
                .with_max_gap(3 * S),
        )
        .with_channel(
            ChannelSpec::new(r#"{__name__="Volume Flow RateRMS"}"#)
                .with_aggregate(Aggregation::Mean),
        )
        .with_windows(
            WindowSpec::new(60)
                .with_stride(10)
                .with_horizon(5)
                .with_missing(0.1, MissingPolicy::Keep),
        )
        .with_labels(
            LabelSpec::series(r#"anomaly{file="valve1_0"}"#, LabelReduce::Last)
                .over(LabelSpan::Horizon),
        )
        .with_split(SplitSpec::fractions(0.7, 0.15).with_embargo(60 * S))
        .with_normalize(Normalization::Zscore);
    assert_eq!(spec, built);
    validate(&spec).unwrap();
}

#[test]
fn toml_defaults_and_events() {
    let spec = DatasetSpec::from_toml(
        r#"
        channels = [{ select = "a" }]
        windows = { length = 3 }
        [grid]
        from = 0
        to = 10_000_000_000
        step = 1_000_000_000
        [labels]
        events = [{ from = "1970-01-01T00:00:02Z", to = 3_000_000_000, name = "fault" }]
        "#,
    )
    .unwrap();
    assert_eq!(spec.windows, WindowSpec::new(3));
    assert_eq!(spec.grid.max_gap_ns, None);
    assert_eq!(spec.split, SplitSpec::default());
    assert_eq!(spec.normalize, Normalization::None);
    let l = spec.labels.unwrap();
    assert_eq!((l.events[0].from_ns, l.events[0].to_ns), (2 * S, 3 * S));
    assert_eq!(l.reduce, LabelReduce::Any);
}

#[test]
fn toml_mistakes_are_named() {
    let bad = [
        (TOML.replace("stride = 10", "strid = 10"), "strid"),
        (TOML.replace("\"1s\"", "\"1 parsec\""), "duration"),
        (TOML.replace("\"linear\"", "\"cubic\""), "cubic"),
        (
            TOML.replace("\"2020-03-09T10:00:00Z\"", "\"yesterday\""),
            "timestamp",
        ),
    ];
    for (text, word) in bad {
        match DatasetSpec::from_toml(&text) {
            Err(e @ DatasetError::Toml(_)) => {
                assert!(e.to_string().contains(word), "{e}");
                assert!(e.is_bad_argument());
            }
            other => panic!("{word}: {other:?}"),
        }
    }
}

/// A valid spec: 100 one-second steps, one channel, windows of 10.
fn good() -> DatasetSpec {
    DatasetSpec::new(0, 100 * S, S)
        .with_channel(ChannelSpec::new("a"))
        .with_windows(WindowSpec::new(10))
}

fn refused(spec: DatasetSpec) -> DatasetError {
    let e = validate(&spec).unwrap_err();
    assert!(e.is_bad_argument(), "{e}");
    assert!(!e.is_corruption(), "{e}");
    e
}

#[test]
fn every_bad_spec_has_its_error() {
    use DatasetError as E;
    validate(&good()).unwrap();
    let mut s = good();
    s.grid.to_ns = 0;
    assert!(matches!(refused(s), E::EmptyRange { from: 0, to: 0 }));
    let mut s = good();
    s.grid.step_ns = 0;
    assert!(matches!(refused(s), E::StepNotPositive(0)));
    let mut s = good();
    s.grid.step_ns = 101 * S;
    assert!(matches!(refused(s), E::RangeShorterThanStep { .. }));
    let mut s = good();
    (s.grid.to_ns, s.grid.step_ns) = (i64::MAX, 1);
    let e = refused(s);
    assert!(
        matches!(
            e,
            E::GridTooLarge {
                limit: MAX_GRID_CELLS,
                ..
            }
        ),
        "{e}"
    );
    let mut s = good();
    s.channels.clear();
    assert!(matches!(refused(s), E::NoChannels));
    let s = good().with_channel(ChannelSpec::new("a{"));
    assert!(matches!(refused(s), E::BadSelector { .. }));
    let c = ChannelSpec::new("b")
        .with_interpolation(Interpolation::Step)
        .with_aggregate(Aggregation::Max);
    assert!(matches!(
        refused(good().with_channel(c)),
        E::InterpolationAndAggregate(_)
    ));
    let s = good().with_channel(ChannelSpec::new("b").with_max_gap(0));
    assert!(matches!(refused(s), E::MaxGapNotPositive { gap: 0, .. }));
    assert!(matches!(
        refused(good().with_max_gap(-1)),
        E::MaxGapNotPositive { .. }
    ));
    let s = good().with_windows(WindowSpec::new(0));
    assert!(matches!(refused(s), E::WindowLengthZero));
    let s = good().with_windows(WindowSpec::new(5).with_stride(0));
    assert!(matches!(refused(s), E::StrideZero));
    let s = good().with_windows(WindowSpec::new(90).with_horizon(11));
    assert!(matches!(
        refused(s),
        E::WindowLongerThanRange {
            span: 101,
            grid: 100
        }
    ));
    let s = good().with_windows(WindowSpec::new(5).with_missing(1.5, MissingPolicy::Drop));
    assert!(matches!(
        refused(s),
        E::BadFraction {
            what: "windows.max_missing",
            ..
        }
    ));
    let s = good().with_windows(WindowSpec::new(5).with_missing(f64::NAN, MissingPolicy::Drop));
    assert!(matches!(refused(s), E::BadFraction { .. }));
    let s = good().with_split(SplitSpec::fractions(1.2, 0.0));
    assert!(matches!(
        refused(s),
        E::BadFraction {
            what: "split.train",
            ..
        }
    ));
    let s = good().with_split(SplitSpec::fractions(0.7, 0.4));
    assert!(matches!(
        refused(s),
        E::BadFraction {
            what: "split.validation",
            ..
        }
    ));
    let mut split = SplitSpec::fractions(0.5, 0.2);
    split.test_from = Some(80 * S);
    assert!(matches!(refused(good().with_split(split)), E::BadSplit(_)));
    let split = SplitSpec::at(80 * S, Some(60 * S));
    assert!(matches!(refused(good().with_split(split)), E::BadSplit(_)));
    let s = good().with_split(SplitSpec::fractions(0.5, 0.2).with_embargo(-1));
    assert!(matches!(refused(s), E::EmbargoNegative(-1)));
}

#[test]
fn splits_and_labels_that_cannot_work_are_refused() {
    use DatasetError as E;
    let s = good().with_split(SplitSpec::fractions(0.09, 0.5));
    assert!(matches!(
        refused(s),
        E::TrainEmpty {
            train_steps: 9,
            span: 10
        }
    ));
    let s = good().with_split(SplitSpec::at(5 * S, None));
    assert!(matches!(refused(s), E::TrainEmpty { train_steps: 5, .. }));
    let s = good().with_split(SplitSpec::at(-5 * S, None));
    assert!(matches!(refused(s), E::TrainEmpty { train_steps: 0, .. }));
    let l = LabelSpec::series("lab", LabelReduce::Any).over(LabelSpan::Horizon);
    assert!(matches!(
        refused(good().with_labels(l)),
        E::HorizonLabelsWithoutHorizon
    ));
    let mut l = LabelSpec::series("lab", LabelReduce::Any);
    l.events = LabelSpec::events(&[(0, 1)], LabelReduce::Any).events;
    assert!(matches!(
        refused(good().with_labels(l)),
        E::BadLabelSource("several")
    ));
    let mut l = LabelSpec::series("lab", LabelReduce::Any);
    l.events_series = Some("maintenance".into());
    assert!(matches!(
        refused(good().with_labels(l)),
        E::BadLabelSource("several")
    ));
    let l = LabelSpec::events(&[], LabelReduce::Any);
    assert!(matches!(
        refused(good().with_labels(l)),
        E::BadLabelSource("none")
    ));
    let l = LabelSpec::events(&[(0, S), (5 * S, 5 * S)], LabelReduce::Any);
    assert!(matches!(
        refused(good().with_labels(l)),
        E::EmptyEvent { index: 1, .. }
    ));
    let l = LabelSpec::series("lab{", LabelReduce::Any);
    assert!(matches!(
        refused(good().with_labels(l)),
        E::BadSelector { .. }
    ));
}

#[test]
fn problems_found_against_the_tenant() {
    use DatasetError as E;
    let (_d, e) = engine();
    let t = e.tenant("acme").unwrap();
    write_f64(&t, "a", &[(0, 1.0), (50 * S, 1.0)]);
    let s = good().with_channel(ChannelSpec::new("a"));
    assert!(matches!(Dataset::cut(&t, &s), Err(E::DuplicateChannelName(n)) if n == "a"));
    let l = LabelSpec::series("nope", LabelReduce::Any);
    let err = Dataset::cut(&t, &good().with_labels(l)).unwrap_err();
    assert!(
        matches!(&err, E::UnknownSeries { what, .. } if what == "label series"),
        "{err}"
    );
    // Complete windows only, and no complete one in train.
    let s = good().with_split(SplitSpec::fractions(0.5, 0.0));
    assert!(matches!(Dataset::cut(&t, &s), Err(E::NoTrainWindows)));
    // Kept windows, but "a" has no valid train cell (points only at 0 s
    // and 50 s, exact match needed, train windows start at 1 s or later).
    let w = WindowSpec::new(10)
        .with_stride(10)
        .with_missing(1.0, MissingPolicy::Keep);
    let c = ChannelSpec::new("a").with_interpolation(Interpolation::None);
    let mut s = good().with_windows(w).with_normalize(Normalization::Zscore);
    s.channels = vec![c];
    s.grid.from_ns = S;
    s.grid.to_ns = 41 * S;
    assert!(matches!(Dataset::cut(&t, &s), Err(E::NoTrainValues(n)) if n == "a"));
    s.normalize = Normalization::None;
    let ds = Dataset::cut(&t, &s).unwrap();
    assert_eq!(ds.stats[0].cells, 0);
}

#[test]
fn nothing_is_written_for_a_bad_spec_or_a_used_directory() {
    let (_d, e) = engine();
    let t = e.tenant("acme").unwrap();
    write_f64(&t, "a", &[(0, 1.0)]);
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("set");
    let mut bad = good();
    bad.grid.step_ns = 0;
    assert!(matches!(
        build(&t, &bad, &dir),
        Err(DatasetError::StepNotPositive(0))
    ));
    assert!(!dir.exists());
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("old.txt"), b"x").unwrap();
    let s = good().with_windows(WindowSpec::new(1).with_missing(1.0, MissingPolicy::Keep));
    let e = build(&t, &s, &dir).unwrap_err();
    assert!(matches!(e, DatasetError::OutputNotEmpty(_)), "{e}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

/// A linear cell reads the first point after it, up to `max_gap` later: the
/// embargo must keep the last training cell's reads out of the next split.
#[test]
fn an_embargo_shorter_than_the_linear_look_ahead_is_refused() {
    use DatasetError as E;
    let split = |embargo| SplitSpec::fractions(0.6, 0.2).with_embargo(embargo);
    let linear = |gap| ChannelSpec::new("b").with_max_gap(gap);
    // max_gap 5 s on a 1 s grid: the next split may start 4 steps on.
    let s = good()
        .with_channel(linear(5 * S))
        .with_split(split(3 * S + 1));
    validate(&s).unwrap();
    let s = good().with_channel(linear(5 * S)).with_split(split(3 * S));
    match refused(s) {
        E::EmbargoShorterThanLookAhead {
            channel,
            embargo_ns,
            max_gap_ns,
            needed_ns,
        } => {
            assert_eq!(channel, "b");
            assert_eq!((embargo_ns, max_gap_ns, needed_ns), (3 * S, 5 * S, 4 * S));
        }
        e => panic!("{e}"),
    }
    // Explicitly linear counts as much as unset; step, exact and aggregated
    // channels read nothing after their cell's step; one split has no boundary.
    let lin = linear(5 * S).with_interpolation(Interpolation::Linear);
    assert!(matches!(
        refused(good().with_channel(lin).with_split(split(0))),
        E::EmbargoShorterThanLookAhead { .. }
    ));
    for c in [
        linear(5 * S).with_interpolation(Interpolation::Step),
        linear(5 * S).with_interpolation(Interpolation::None),
        ChannelSpec::new("b").with_aggregate(Aggregation::Mean),
    ] {
        validate(&good().with_channel(c).with_split(split(0))).unwrap();
    }
    let one = SplitSpec::fractions(1.0, 0.0);
    validate(&good().with_channel(linear(5 * S)).with_split(one)).unwrap();
}
