//! Model-based property test (RELIABILITY.md §6.6): random sequences of
//! writes (several tenants and series, duplicate and out-of-order timestamps
//! including i64::MIN/MAX, raw f64 bit patterns with NaN payloads, -0.0, ±inf,
//! qualities), flushes, reopens, power-loss crashes (keep-all, drop-all and
//! random images: in Sync mode every acknowledged write survives any of
//! them), tenant drops, scans with random selectors and time ranges, and
//! `last` queries, run against a `BTreeMap` oracle under several
//! memtable/WAL sizes.
//!
//! Proves: after every query the engine's answer equals the oracle's (last
//! write wins, bit-exact values, half-open ranges, tenant isolation); after
//! every reopen or crash the whole state equals the oracle, `verify_dir`
//! passes and no orphan file is left.
//!
//! At least 1,000 cases per run (`PROPTEST_CASES` overrides), up to 50 ops
//! each; the RNG is seeded from `HISTORIAN_SEED` (random when unset; printed)
//! and failures persist in `proptest-regressions/`.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{check_files, diff_states, read_state, series_key, State, SERIES};
use historian::vfs::{CrashConfig, SimFs};
use historian::{Engine, Error, Options, Point, Selector, Value, ValueType, WriteBatch};
use proptest::prelude::*;

const TENANTS: [&str; 3] = ["acme", "beta", "gamma"];

type Pred = fn(&str, &str) -> bool;

/// Selectors and what they select, by (measurement, machine).
const SELECTORS: &[(&str, Pred)] = &[
    ("*", |_, _| true),
    ("temp", |m, _| m == "temp"),
    (r#"temp{machine="m1"}"#, |m, k| m == "temp" && k == "m1"),
    (r#"{machine="m2"}"#, |_, k| k == "m2"),
    (r#"{machine=~"m[13]"}"#, |_, k| k == "m1" || k == "m3"),
    (r#"{__name__=~"temp|vib",machine!="m1"}"#, |m, k| {
        (m == "temp" || m == "vib") && k != "m1"
    }),
    ("ok", |m, _| m == "ok"),
    ("nothing", |_, _| false),
];

const BUDGETS: [usize; 3] = [512, 4096, 1 << 20];
const WAL_FILES: [u64; 3] = [256, 2048, 1 << 20];

#[derive(Clone, Debug)]
struct Pt {
    series: usize,
    ts: i64,
    bits: u64,
    quality: Option<u8>,
}

#[derive(Clone, Debug)]
enum Op {
    Write {
        tenant: usize,
        points: Vec<Pt>,
    },
    Flush,
    Reopen,
    /// mode 0: keep-all, 1: drop-all, 2: random image.
    Crash {
        seed: u64,
        mode: u8,
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

#[derive(Clone, Debug)]
struct Case {
    budget: usize,
    wal_file: usize,
    ops: Vec<Op>,
}

fn ts() -> impl Strategy<Value = i64> {
    prop_oneof![
        12 => -4i64..24,
        1 => prop_oneof![
            Just(i64::MIN),
            Just(i64::MIN + 1),
            Just(i64::MAX - 1),
            Just(i64::MAX)
        ],
        1 => any::<i64>(),
    ]
}

fn bits() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => any::<u64>(),
        2 => prop_oneof![
            Just(0x7ff8_0000_0000_0001u64), // quiet NaN with payload
            Just(0xfff8_dead_beef_0000),    // negative NaN with payload
            Just(0x7ff0_0000_0000_0001),    // signalling NaN
            Just((-0.0f64).to_bits()),
            Just(0.0f64.to_bits()),
            Just(f64::INFINITY.to_bits()),
            Just(f64::NEG_INFINITY.to_bits()),
            Just(1u64), // smallest subnormal
            Just(i64::MIN as u64),
        ],
    ]
}

fn point() -> impl Strategy<Value = Pt> {
    (
        0..SERIES.len(),
        ts(),
        bits(),
        prop::option::weighted(0.2, any::<u8>()),
    )
        .prop_map(|(series, ts, bits, quality)| Pt {
            series,
            ts,
            bits,
            quality,
        })
}

fn op() -> impl Strategy<Value = Op> {
    let t = 0..TENANTS.len();
    let s = 0..SELECTORS.len();
    prop_oneof![
        10 => (t.clone(), prop::collection::vec(point(), 0..12))
            .prop_map(|(tenant, points)| Op::Write { tenant, points }),
        2 => Just(Op::Flush),
        1 => Just(Op::Reopen),
        1 => (any::<u64>(), 0..3u8).prop_map(|(seed, mode)| Op::Crash { seed, mode }),
        1 => t.clone().prop_map(|tenant| Op::Drop { tenant }),
        4 => (t.clone(), s.clone(), ts(), ts())
            .prop_map(|(tenant, selector, from, to)| Op::Scan { tenant, selector, from, to }),
        2 => (t, s).prop_map(|(tenant, selector)| Op::Last { tenant, selector }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..BUDGETS.len(),
        0..WAL_FILES.len(),
        prop::collection::vec(op(), 1..50),
    )
        .prop_map(|(budget, wal_file, ops)| Case {
            budget,
            wal_file,
            ops,
        })
}

fn value(series: usize, bits: u64) -> Value {
    match SERIES[series].2 {
        ValueType::F64 => Value::F64(f64::from_bits(bits)),
        ValueType::I64 => Value::I64(bits as i64),
        ValueType::Bool => Value::Bool(bits & 1 == 1),
    }
}

/// The oracle: (tenant, series, ts) -> (raw bits, quality).
type Oracle = BTreeMap<(usize, usize, i64), (u64, Option<u8>)>;

fn oracle_state(o: &Oracle) -> State {
    let mut s = State::new();
    for (&(t, series, ts), &v) in o {
        s.entry(TENANTS[t].to_string())
            .or_default()
            .entry(series_key(series))
            .or_insert_with(|| (SERIES[series].2, Default::default()))
            .1
            .insert(ts, v);
    }
    s
}

/// Series indexes a selector picks, in the engine's (key) order.
fn selected(selector: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..SERIES.len())
        .filter(|&i| (SELECTORS[selector].1)(SERIES[i].0, SERIES[i].1))
        .collect();
    idx.sort_by_key(|&i| series_key(i));
    idx
}

type Rows = Vec<(String, ValueType, Vec<(i64, u64, Option<u8>)>)>;

struct Harness {
    fs: SimFs,
    engine: Option<Engine>,
    opts: Options,
    oracle: Oracle,
}

fn fail(msg: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(msg.to_string())
}

impl Harness {
    fn engine(&self) -> &Engine {
        self.engine.as_ref().expect("engine is open")
    }

    /// Opens the engine and checks the whole state and the files.
    fn open(&mut self) -> Result<(), TestCaseError> {
        let opts = self.opts.clone().with_vfs(Arc::new(self.fs.clone()));
        let engine = Engine::open("db", opts).map_err(|e| fail(format!("reopen failed: {e}")))?;
        let got = read_state(&engine).map_err(fail)?;
        if let Some(d) = diff_states(&oracle_state(&self.oracle), &got) {
            return Err(fail(format!("after reopen: {d}")));
        }
        check_files(engine.vfs(), &self.fs.file_paths()).map_err(fail)?;
        self.engine = Some(engine);
        Ok(())
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::Write { tenant, points } => {
                let mut wb = WriteBatch::new();
                for p in points {
                    let point = Point {
                        ts: p.ts,
                        value: value(p.series, p.bits),
                        quality: p.quality,
                    };
                    wb.push(&series_key(p.series), point).unwrap();
                }
                let t = self.engine().tenant(TENANTS[*tenant]).unwrap();
                t.write(&wb)
                    .map_err(|e| fail(format!("write failed: {e}")))?;
                for p in points {
                    let v = value(p.series, p.bits).to_bits();
                    self.oracle
                        .insert((*tenant, p.series, p.ts), (v, p.quality));
                }
            }
            Op::Flush => self
                .engine()
                .flush()
                .map_err(|e| fail(format!("flush failed: {e}")))?,
            Op::Reopen => {
                self.engine = None;
                self.open()?;
            }
            Op::Crash { seed, mode } => {
                let cfg = match mode {
                    0 => CrashConfig::keep_all(),
                    1 => CrashConfig::drop_all(),
                    _ => CrashConfig::default(),
                };
                // Power loss while the engine runs: the image is taken first.
                let img = self.fs.crash(*seed, &cfg);
                self.engine = None;
                self.fs = img;
                self.open()?;
            }
            Op::Drop { tenant } => match self.engine().drop_tenant(TENANTS[*tenant]) {
                Ok(()) => self.oracle.retain(|k, _| k.0 != *tenant),
                Err(Error::TenantNotFound(_)) => {
                    prop_assert!(
                        !self.oracle.keys().any(|k| k.0 == *tenant),
                        "drop of {} said not found, but it holds data",
                        TENANTS[*tenant]
                    );
                }
                Err(e) => return Err(fail(format!("drop failed: {e}"))),
            },
            Op::Scan {
                tenant,
                selector,
                from,
                to,
            } => {
                let sel = Selector::parse(SELECTORS[*selector].0).unwrap();
                let t = self.engine().tenant(TENANTS[*tenant]).unwrap();
                let got: Rows = t
                    .scan_all(&sel, *from, *to)
                    .map_err(|e| fail(format!("scan failed: {e}")))?
                    .into_iter()
                    .map(|s| {
                        let pts = (0..s.cols.len())
                            .map(|i| (s.cols.ts[i], s.cols.values[i], s.cols.quality_at(i)))
                            .collect();
                        (s.key.to_string(), s.value_type, pts)
                    })
                    .collect();
                let want: Rows = selected(*selector)
                    .into_iter()
                    .filter_map(|i| {
                        let lo = (*tenant, i, *from);
                        let hi = (*tenant, i, *to).max(lo);
                        let pts: Vec<_> = self
                            .oracle
                            .range(lo..hi)
                            .map(|(k, v)| (k.2, v.0, v.1))
                            .collect();
                        (!pts.is_empty()).then(|| (series_key(i).to_string(), SERIES[i].2, pts))
                    })
                    .collect();
                prop_assert_eq!(got, want, "{:?}", op);
            }
            Op::Last { tenant, selector } => {
                let sel = Selector::parse(SELECTORS[*selector].0).unwrap();
                let t = self.engine().tenant(TENANTS[*tenant]).unwrap();
                let got: Vec<_> = t
                    .last(&sel)
                    .map_err(|e| fail(format!("last failed: {e}")))?
                    .into_iter()
                    .map(|(k, vt, p)| (k.to_string(), vt, p.ts, p.value.to_bits(), p.quality))
                    .collect();
                let want: Vec<_> = selected(*selector)
                    .into_iter()
                    .filter_map(|i| {
                        let (k, v) = self
                            .oracle
                            .range((*tenant, i, i64::MIN)..=(*tenant, i, i64::MAX))
                            .next_back()?;
                        Some((series_key(i).to_string(), SERIES[i].2, k.2, v.0, v.1))
                    })
                    .collect();
                prop_assert_eq!(got, want, "{:?}", op);
            }
        }
        Ok(())
    }
}

fn run(case: &Case) -> Result<(), TestCaseError> {
    let opts = Options::default()
        .with_background_flush(false)
        .with_memtable_budget(BUDGETS[case.budget])
        .with_wal_file_bytes(WAL_FILES[case.wal_file]);
    let mut h = Harness {
        fs: SimFs::new(),
        engine: None,
        opts,
        oracle: Oracle::new(),
    };
    h.open()?;
    for (i, op) in case.ops.iter().enumerate() {
        h.step(op)
            .map_err(|e| fail(format!("op {i} {op:?}: {e}")))?;
    }
    // The whole state, then once more after a final random power loss.
    let got = read_state(h.engine()).map_err(fail)?;
    if let Some(d) = diff_states(&oracle_state(&h.oracle), &got) {
        return Err(fail(format!("final state: {d}")));
    }
    h.step(&Op::Crash { seed: 0, mode: 2 })
}

fn config() -> ProptestConfig {
    common::proptest_config("proptest-regressions/model_oracle.txt", 1000)
}

#[test]
fn selectors_parse() {
    for (s, _) in SELECTORS {
        Selector::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn engine_matches_a_btreemap_oracle(case in case()) {
        run(&case)?;
    }
}
