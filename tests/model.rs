//! Model-based test (RELIABILITY.md §6.6): random sequences of writes (with
//! duplicates, out-of-order points, special floats and qualities), flushes,
//! reopens, simulated power losses, tenant drops, scans and `last` queries run
//! against the engine on `SimFs` and against a `BTreeMap` oracle; every query
//! must equal the oracle. Every write is acknowledged in `Sync` mode, so after
//! any crash image the state must still equal the oracle exactly.
//!
//! Each case runs under one of four engine configurations (memtable budget and
//! WAL file size), so flushes, rotations and trims happen at different points
//! of the same kind of sequence. Cases: `PROPTEST_CASES` (default 1,000), each
//! of up to 80 operations.

use std::collections::BTreeMap;
use std::sync::Arc;

use historian::vfs::{CrashConfig, SimFs};
use historian::{Engine, Options, Point, Selector, SeriesKey, Value, ValueType, WriteBatch};
use proptest::prelude::*;

const TENANTS: [&str; 2] = ["t0", "t1"];
const MEASUREMENTS: [(&str, ValueType); 3] = [
    ("m0", ValueType::F64),
    ("m1", ValueType::I64),
    ("m2", ValueType::Bool),
];
const MACHINES: [&str; 3] = ["a", "b", "c"];
const SELECTORS: [&str; 6] = [
    "*",
    "m0",
    "m1",
    r#"{machine="a"}"#,
    r#"m0{machine=~"a|b"}"#,
    r#"{machine!="a",__name__!="m2"}"#,
];
const SPECIAL_BITS: [u64; 6] = [
    0x7ff8_0000_0000_0001, // quiet NaN with payload
    0x7ff0_0000_0000_0002, // signalling NaN
    0x8000_0000_0000_0000, // -0.0
    0x7ff0_0000_0000_0000, // inf
    0xfff0_0000_0000_0000, // -inf
    0x0000_0000_0000_0001, // smallest subnormal
];

#[derive(Clone, Debug)]
struct PointSpec {
    series: usize,
    ts: i64,
    raw: u64,
    quality: Option<u8>,
}

#[derive(Clone, Debug)]
enum Op {
    Write {
        tenant: usize,
        points: Vec<PointSpec>,
    },
    Flush,
    Reopen,
    Crash {
        seed: u64,
    },
    Drop {
        tenant: usize,
    },
    Scan {
        tenant: usize,
        selector: usize,
        from: i64,
        to: i64,
    },
    Last {
        tenant: usize,
        selector: usize,
    },
}

fn point() -> impl Strategy<Value = PointSpec> {
    let raw = prop_oneof![
        4 => any::<u64>(),
        1 => proptest::sample::select(SPECIAL_BITS.to_vec()),
        2 => 0u64..5,
    ];
    (
        0..9usize,
        -20i64..60,
        raw,
        proptest::option::weighted(0.2, any::<u8>()),
    )
        .prop_map(|(series, ts, raw, quality)| PointSpec {
            series,
            ts,
            raw,
            quality,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..2usize, proptest::collection::vec(point(), 1..12))
            .prop_map(|(tenant, points)| Op::Write { tenant, points }),
        2 => Just(Op::Flush),
        1 => Just(Op::Reopen),
        1 => any::<u64>().prop_map(|seed| Op::Crash { seed }),
        1 => (0..2usize).prop_map(|tenant| Op::Drop { tenant }),
        4 => (0..2usize, 0..SELECTORS.len(), -25i64..65, 0i64..40)
            .prop_map(|(tenant, selector, from, len)| Op::Scan { tenant, selector, from, to: from + len }),
        2 => (0..2usize, 0..SELECTORS.len()).prop_map(|(tenant, selector)| Op::Last { tenant, selector }),
    ]
}

fn key(series: usize) -> (SeriesKey, ValueType) {
    let (m, vt) = MEASUREMENTS[series / 3];
    (
        SeriesKey::new(m, [("machine", MACHINES[series % 3])]).unwrap(),
        vt,
    )
}

fn value(vt: ValueType, raw: u64) -> Value {
    match vt {
        ValueType::F64 => Value::F64(f64::from_bits(raw)),
        ValueType::I64 => Value::I64(raw as i64),
        ValueType::Bool => Value::Bool(raw % 2 == 1),
    }
}

/// Scan output: series key text and its (ts, bits, quality) points.
type Rows = Vec<(String, Vec<(i64, u64, Option<u8>)>)>;

/// tenant → series key text → ts → (bits, quality)
type Oracle = BTreeMap<String, BTreeMap<SeriesKey, BTreeMap<i64, (u64, Option<u8>)>>>;

fn options(fs: &SimFs, config: usize) -> Options {
    let (budget, wal_file) = [
        (1 << 30, 1 << 20),
        (2 << 10, 1 << 10),
        (16 << 10, 256),
        (512, 8 << 10),
    ][config];
    Options::default()
        .with_vfs(Arc::new(fs.clone()))
        .with_background_flush(false)
        .with_memtable_budget(budget)
        .with_wal_file_bytes(wal_file)
}

fn expected_scan(oracle: &Oracle, tenant: &str, sel: &Selector, from: i64, to: i64) -> Rows {
    let Some(series) = oracle.get(tenant) else {
        return Vec::new();
    };
    series
        .iter()
        .filter(|(k, _)| sel.matches(k))
        .map(|(k, pts)| {
            (
                k.to_string(),
                pts.range(from..to)
                    .map(|(&t, &(b, q))| (t, b, q))
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, pts)| !pts.is_empty())
        .collect()
}

fn run_case(ops: Vec<Op>, config: usize) -> Result<(), TestCaseError> {
    let mut fs = SimFs::new();
    let mut engine = Some(Engine::open("db", options(&fs, config)).unwrap());
    let mut oracle: Oracle = BTreeMap::new();
    for (n, op) in ops.into_iter().enumerate() {
        let e = engine.as_ref().unwrap();
        match op {
            Op::Write { tenant, points } => {
                let mut batch = WriteBatch::new();
                for p in &points {
                    let (k, vt) = key(p.series);
                    let point = Point {
                        ts: p.ts,
                        value: value(vt, p.raw),
                        quality: p.quality,
                    };
                    batch.push(&k, point).unwrap();
                }
                e.tenant(TENANTS[tenant]).unwrap().write(&batch).unwrap();
                let t = oracle.entry(TENANTS[tenant].to_string()).or_default();
                for p in &points {
                    let (k, vt) = key(p.series);
                    t.entry(k)
                        .or_default()
                        .insert(p.ts, (value(vt, p.raw).to_bits(), p.quality));
                }
            }
            Op::Flush => e.flush().unwrap(),
            Op::Reopen => {
                drop(engine.take());
                engine = Some(Engine::open("db", options(&fs, config)).unwrap());
            }
            Op::Crash { seed } => {
                drop(engine.take());
                fs = fs.crash(seed, &CrashConfig::default());
                engine = Some(Engine::open("db", options(&fs, config)).unwrap());
            }
            Op::Drop { tenant } => {
                let name = TENANTS[tenant];
                if e.tenants().iter().any(|t| t == name) {
                    e.drop_tenant(name).unwrap();
                }
                oracle.remove(name);
            }
            Op::Scan {
                tenant,
                selector,
                from,
                to,
            } => {
                let sel = Selector::parse(SELECTORS[selector]).unwrap();
                let want = expected_scan(&oracle, TENANTS[tenant], &sel, from, to);
                let got: Vec<_> = match e.existing_tenant(TENANTS[tenant]) {
                    Ok(t) => t
                        .scan_all(&sel, from, to)
                        .unwrap()
                        .into_iter()
                        .map(|s| {
                            let pts = (0..s.cols.len())
                                .map(|i| (s.cols.ts[i], s.cols.values[i], s.cols.quality_at(i)))
                                .collect::<Vec<_>>();
                            (s.key.to_string(), pts)
                        })
                        .collect(),
                    Err(_) => Vec::new(),
                };
                prop_assert_eq!(
                    got,
                    want,
                    "op {}: scan {} [{}, {})",
                    n,
                    SELECTORS[selector],
                    from,
                    to
                );
            }
            Op::Last { tenant, selector } => {
                let sel = Selector::parse(SELECTORS[selector]).unwrap();
                let want: Vec<_> =
                    expected_scan(&oracle, TENANTS[tenant], &sel, i64::MIN, i64::MAX)
                        .into_iter()
                        .map(|(k, pts)| (k, *pts.last().unwrap()))
                        .collect();
                let got: Vec<_> = match e.existing_tenant(TENANTS[tenant]) {
                    Ok(t) => t
                        .last(&sel)
                        .unwrap()
                        .into_iter()
                        .map(|(k, _, p)| (k.to_string(), (p.ts, p.value.to_bits(), p.quality)))
                        .collect(),
                    Err(_) => Vec::new(),
                };
                prop_assert_eq!(got, want, "op {}: last {}", n, SELECTORS[selector]);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(1000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn engine_matches_btreemap_oracle(ops in proptest::collection::vec(op(), 1..80), config in 0..4usize) {
        run_case(ops, config)?;
    }
}
