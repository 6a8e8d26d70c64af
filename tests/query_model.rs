//! Model test of downsampling: random writes (duplicates and out-of-order
//! points across memtables and segments via flushes in between, NaN, ±inf,
//! -0.0, gaps, bulk runs long enough for multi-block segments, and in some
//! cases points at i64::MIN/MAX with windows of 2^60 ns and more), then
//! random downsamples (windows, origins, ranges, every aggregate in random
//! order, every fill with and without a maximum gap, `--by` groups over
//! mixed value types, one or two threads, push-down on or off, tiny output
//! pieces), each compared with the naive evaluator of `tests/common/naive.rs`.
//!
//! Proves: the engine's windows, groups, aggregates and fills equal a
//! straight-line evaluation of the documented semantics (exactly for count,
//! min, max, first, last and window starts; within 1e-9 relative for sums,
//! means, stddev and twa); outputs are split into pieces and Arrow batches
//! of at most `batch_rows` rows; invalid fill constants are refused.
//!
//! 256 cases by default (`PROPTEST_CASES` overrides); seeded from
//! `HISTORIAN_SEED`; failures persist in `proptest-regressions/`.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::naive::{self, Cell};
use historian::query::{Agg, DownsampleRequest, Fill};
use historian::vfs::SimFs;
use historian::{Durability, Engine, Options, Selector, SeriesKey, Tenant, ValueType, WriteBatch};
use proptest::prelude::*;

const KEYS: &[(&str, ValueType)] = &[
    (r#"temp{line="L1",machine="m1"}"#, ValueType::F64),
    (r#"temp{line="L1",machine="m2"}"#, ValueType::F64),
    (r#"temp{line="L2",machine="m3"}"#, ValueType::F64),
    (r#"temp{machine="m4"}"#, ValueType::F64),
    (r#"press{line="L1",machine="m1"}"#, ValueType::I64),
    (r#"press{line="L2",machine="m3"}"#, ValueType::I64),
    (r#"valve{line="L1",machine="m2"}"#, ValueType::Bool),
];

type Pred = fn(&SeriesKey) -> bool;

const SELECTORS: &[(&str, Pred)] = &[
    ("*", |_| true),
    ("temp", |k| k.measurement() == "temp"),
    ("press", |k| k.measurement() == "press"),
    ("valve", |k| k.measurement() == "valve"),
    (r#"temp{machine=~"m[12]"}"#, |k| {
        k.measurement() == "temp" && matches!(k.tag("machine"), Some("m1" | "m2"))
    }),
    (r#"{line="L1"}"#, |k| k.tag("line") == Some("L1")),
    (r#"{__name__=~"temp|press"}"#, |k| {
        matches!(k.measurement(), "temp" | "press")
    }),
];

const BY: &[&[&str]] = &[
    &[],
    &["machine"],
    &["line"],
    &["line", "machine"],
    &["machine", "line"],
];

#[derive(Clone, Debug)]
enum Op {
    Write(Vec<(usize, i64, u64)>),
    Bulk {
        series: usize,
        start: i64,
        step: i64,
        n: usize,
        seed: u64,
    },
    Flush,
    Query(Q),
}

#[derive(Clone, Debug)]
struct Q {
    selector: usize,
    every: i64,
    origin: i64,
    from: Option<i64>,
    to: Option<i64>,
    aggs: Vec<Agg>,
    by: usize,
    fill: Fill,
    max_gap: Option<i64>,
    threads: usize,
    batch_rows: usize,
    push_down: bool,
    arrow: bool,
}

/// Raw value bits for a series of type `vt` from a seed.
fn value_bits(vt: ValueType, seed: u64) -> u64 {
    match vt {
        ValueType::F64 => match seed % 40 {
            0 => f64::NAN.to_bits(),
            1 => f64::INFINITY.to_bits(),
            2 => f64::NEG_INFINITY.to_bits(),
            3 => (-0.0f64).to_bits(),
            4 => 0.0f64.to_bits(),
            5 => 0x7ff8_0000_dead_beef,
            _ => (((seed / 40 % 2001) as f64 - 1000.0) / 8.0).to_bits(),
        },
        ValueType::I64 => match seed % 50 {
            0 => i64::MAX as u64,
            1 => i64::MIN as u64,
            2 => (1i64 << 62) as u64,
            _ => ((seed / 50 % 2001) as i64 - 1000) as u64,
        },
        ValueType::Bool => seed & 1,
    }
}

fn ts(extreme: bool) -> BoxedStrategy<i64> {
    if extreme {
        prop_oneof![
            6 => -3000i64..3000,
            1 => prop_oneof![
                Just(i64::MIN),
                Just(i64::MIN + 1),
                Just(i64::MAX - 1),
                Just(i64::MAX),
            ],
        ]
        .boxed()
    } else {
        (-3000i64..3000).boxed()
    }
}

fn query(extreme: bool) -> impl Strategy<Value = Q> {
    let every = if extreme {
        prop_oneof![Just(1i64 << 60), Just((1i64 << 61) + 3), Just(i64::MAX)].boxed()
    } else {
        prop::sample::select(vec![1i64, 3, 10, 64, 100, 250, 1000, 4096]).boxed()
    };
    let origin = prop_oneof![
        3 => Just(0i64),
        2 => -5000i64..5000,
        1 => prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(7)],
    ];
    let bound = prop::option::weighted(0.4, ts(extreme));
    let aggs = prop::sample::subsequence(Agg::ALL.to_vec(), 1..=Agg::ALL.len()).prop_shuffle();
    let fill = prop_oneof![
        3 => Just(Fill::None),
        1 => Just(Fill::Null),
        2 => Just(Fill::Previous),
        2 => Just(Fill::Linear),
        1 => prop::sample::select(vec![0.0, 1.0, -3.0, 2.5]).prop_map(Fill::Constant),
    ];
    let max_gap = prop::option::weighted(0.3, prop::sample::select(vec![1i64, 200, 2001, 1 << 62]));
    (
        (
            0..SELECTORS.len(),
            every,
            origin,
            bound.clone(),
            bound,
            aggs,
        ),
        (0..BY.len(), fill, max_gap, 1..3usize),
        (
            prop::sample::select(vec![1usize, 3, 17, 8192]),
            any::<bool>(),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (selector, every, origin, from, to, aggs),
                (by, fill, max_gap, threads),
                (batch_rows, push_down, arrow),
            )| {
                let (from, to) = match (from, to) {
                    (Some(f), Some(t)) if f >= t => (Some(t), None),
                    b => b,
                };
                Q {
                    selector,
                    every,
                    origin,
                    from,
                    to,
                    aggs,
                    by,
                    fill,
                    max_gap,
                    threads,
                    batch_rows,
                    push_down,
                    arrow,
                }
            },
        )
}

fn op(extreme: bool) -> impl Strategy<Value = Op> {
    let point = (0..KEYS.len(), ts(extreme), any::<u64>());
    prop_oneof![
        6 => prop::collection::vec(point, 1..40).prop_map(Op::Write),
        1 => (0..KEYS.len(), -3000i64..3000, 1i64..4, 500usize..2600, any::<u64>())
            .prop_map(|(series, start, step, n, seed)| Op::Bulk { series, start, step, n, seed }),
        3 => Just(Op::Flush),
        4 => query(extreme).prop_map(Op::Query),
    ]
}

fn case() -> impl Strategy<Value = Vec<Op>> {
    prop::bool::weighted(0.15).prop_flat_map(|extreme| prop::collection::vec(op(extreme), 1..30))
}

type Oracle = BTreeMap<usize, BTreeMap<i64, u64>>;

fn key(i: usize) -> SeriesKey {
    SeriesKey::parse(KEYS[i].0).unwrap()
}

fn write(t: &Tenant, oracle: &mut Oracle, points: &[(usize, i64, u64)]) {
    let mut b = WriteBatch::new();
    for &(s, ts, seed) in points {
        let vt = KEYS[s].1;
        let bits = value_bits(vt, seed);
        let slot = b.slot(&key(s), vt).unwrap();
        let v = historian::Value::from_bits(vt, bits);
        b.push_to_slot(
            slot,
            historian::Point {
                ts,
                value: v,
                quality: None,
            },
        )
        .unwrap();
        oracle.entry(s).or_default().insert(ts, bits);
    }
    t.write(&b).unwrap();
}

fn request(q: &Q) -> DownsampleRequest {
    DownsampleRequest::new(
        Selector::parse(SELECTORS[q.selector].0).unwrap(),
        q.every,
        &q.aggs,
    )
    .with_origin(q.origin)
    .with_range(q.from, q.to)
    .with_by(BY[q.by].iter().copied())
    .with_fill(q.fill)
    .with_max_gap(q.max_gap)
    .with_threads(q.threads)
    .with_batch_rows(q.batch_rows)
    .with_push_down(q.push_down)
}

fn check(t: &Tenant, oracle: &Oracle, q: &Q) -> Result<(), TestCaseError> {
    let selected: Vec<naive::Series> = (0..KEYS.len())
        .filter(|&i| (SELECTORS[q.selector].1)(&key(i)))
        .filter_map(|i| {
            let points = oracle.get(&i)?.clone();
            Some(naive::Series {
                key: key(i),
                vt: KEYS[i].1,
                points,
            })
        })
        .collect();
    let nq = naive::Query {
        every: q.every,
        origin: q.origin,
        from: q.from,
        to: q.to,
        aggs: q.aggs.clone(),
        by: BY[q.by].iter().map(|s| s.to_string()).collect(),
        fill: q.fill,
        max_gap: q.max_gap,
    };
    let want = naive::downsample(&selected, &nq);
    let got = engine_rows(t, q);
    match (got, want) {
        (Err(e), Err(_)) if e.is_bad_argument() => Ok(()),
        (Err(e), want) => Err(fail(format!("engine: {e}; want {want:?}\nquery {q:?}"))),
        (Ok(_), Err(w)) => Err(fail(format!("engine accepted: {w}\nquery {q:?}"))),
        (Ok(got), Ok(want)) => {
            naive::compare(&got, &want).map_err(|e| fail(format!("{e}\nquery {q:?}")))
        }
    }
}

/// The engine's answer as rows, through the pieces or the Arrow batches.
fn engine_rows(t: &Tenant, q: &Q) -> historian::Result<Vec<naive::Row>> {
    let d = t.downsample(&request(q))?;
    Ok(if q.arrow {
        let batches: Vec<_> = d.record_batches().collect::<Result<_, _>>()?;
        naive::rows_from_batches(&batches, BY[q.by].len(), q.batch_rows)
    } else {
        let pieces: Vec<_> = d.collect::<Result<_, _>>()?;
        naive::rows_from_pieces(&pieces, q.batch_rows)
    })
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let opts = Options::default()
        .with_vfs(Arc::new(SimFs::new()))
        .with_background_flush(false)
        .with_durability(Durability::None);
    let engine = Engine::open("db", opts).map_err(fail)?;
    let t = engine.tenant("acme").map_err(fail)?;
    let mut oracle = Oracle::new();
    for op in ops {
        match op {
            Op::Write(points) => write(&t, &mut oracle, points),
            Op::Bulk {
                series,
                start,
                step,
                n,
                seed,
            } => {
                let pts: Vec<_> = (0..*n as i64)
                    .map(|i| {
                        (
                            *series,
                            start + i * step,
                            seed.wrapping_add(i as u64 * 7919),
                        )
                    })
                    .collect();
                write(&t, &mut oracle, &pts);
            }
            Op::Flush => engine.flush().map_err(fail)?,
            Op::Query(q) => check(&t, &oracle, q)?,
        }
    }
    // Every series once more, after a final flush, with push-down.
    engine.flush().map_err(fail)?;
    let q = Q {
        selector: 0,
        every: 1000,
        origin: 0,
        from: None,
        to: None,
        aggs: Agg::ALL.to_vec(),
        by: 0,
        fill: Fill::Linear,
        max_gap: None,
        threads: 2,
        batch_rows: 100,
        push_down: true,
        arrow: true,
    };
    check(&t, &oracle, &q)
}

fn config() -> ProptestConfig {
    common::proptest_config("proptest-regressions/query_model.txt", 256)
}

#[test]
fn naive_evaluator_sanity() {
    // Two series of one group, a window with a tie on first/last.
    let s = |k: &str, pts: &[(i64, f64)]| naive::Series {
        key: SeriesKey::parse(k).unwrap(),
        vt: ValueType::F64,
        points: pts.iter().map(|&(t, v)| (t, v.to_bits())).collect(),
    };
    let series = [
        s(r#"t{m="a"}"#, &[(0, 1.0), (5, 3.0)]),
        s(r#"t{m="b"}"#, &[(0, 2.0)]),
    ];
    let q = naive::Query {
        every: 10,
        origin: 0,
        from: None,
        to: None,
        aggs: vec![Agg::First, Agg::Last, Agg::Twa, Agg::Count],
        by: vec!["x".into()],
        fill: Fill::None,
        max_gap: None,
    };
    let rows = naive::downsample(&series, &q).unwrap();
    assert_eq!(rows.len(), 1);
    // twa: (1·5 + 3·5 + 2·10) / (10 + 10).
    let want = [
        Cell::F(1.0, None),
        Cell::F(3.0, None),
        Cell::F(2.0, Some(3.0)),
        Cell::Count(3),
    ];
    assert_eq!(rows[0].cells, want);
    assert_eq!(rows[0].label, "t|∅");
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn downsample_matches_a_naive_evaluator(ops in case()) {
        run(&ops)?;
    }
}
