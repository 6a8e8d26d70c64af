//! Reading while writing: writer threads ingest seeded batches (duplicates
//! and out-of-order points, across series) while a flusher thread flushes
//! again and again (and the background flusher runs on a small memtable
//! budget), and reader threads run downsamples, scans and `last` queries.
//! Every reader result is checked, after the threads are joined, against an
//! oracle built from the acknowledged writes with `seq <= the snapshot's
//! seq` (last write wins), evaluated naively.
//!
//! Proves: a query sees exactly one consistent snapshot (every write up to its
//! sequence number, none after), whatever flushes move underneath it.
//! No timing: readers wait for writer progress and writers for reader
//! progress by counters, never by sleeping.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use common::naive;
use common::Rng;
use historian::query::{Agg, DownsampleRequest, Fill, TimeRange};
use historian::{
    Durability, Engine, Options, Point, Selector, SeriesKey, Tenant, Value, ValueType, WriteBatch,
};

const KEYS: &[(&str, ValueType)] = &[
    (r#"temp{line="1",machine="a"}"#, ValueType::F64),
    (r#"temp{line="1",machine="b"}"#, ValueType::F64),
    (r#"temp{line="2",machine="c"}"#, ValueType::F64),
    (r#"count{line="2",machine="c"}"#, ValueType::I64),
];
const WRITERS: u64 = 3;
const BATCHES: u64 = 120;
const READERS: u64 = 2;

/// One acknowledged batch: its seq and points (series, ts, bits) in order.
type Logged = (u64, Vec<(usize, i64, u64)>);

#[derive(Debug)]
enum Query {
    Downsample(naive::Query, usize, bool),
    Scan(TimeRange),
    Last,
}

/// What a reader's query returned.
#[derive(Debug, PartialEq)]
enum Answer {
    Rows(Vec<naive::Row>),
    Points(Vec<(String, Vec<(i64, u64)>)>),
}

fn key(i: usize) -> SeriesKey {
    SeriesKey::parse(KEYS[i].0).unwrap()
}

fn write_batches(
    t: &Tenant,
    writer: u64,
    seed: u64,
    acked: &AtomicU64,
    reads: &AtomicU64,
) -> Vec<Logged> {
    let mut rng = Rng::new(seed ^ writer.wrapping_mul(0x9E37_79B9));
    let mut log = Vec::new();
    for b in 0..BATCHES {
        let mut batch = WriteBatch::new();
        let mut points = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let s = rng.below(KEYS.len() as u64) as usize;
            let slot = batch.slot(&key(s), KEYS[s].1).unwrap();
            for _ in 0..1 + rng.below(150) {
                let ts = rng.range(0, 4_000) * 1_000;
                let bits = match KEYS[s].1 {
                    ValueType::F64 if rng.chance(1, 50) => f64::NAN.to_bits(),
                    ValueType::F64 => (rng.range(-10_000, 10_000) as f64 / 16.0).to_bits(),
                    _ => rng.range(-1_000, 1_000) as u64,
                };
                let value = Value::from_bits(KEYS[s].1, bits);
                batch
                    .push_to_slot(
                        slot,
                        Point {
                            ts,
                            value,
                            quality: None,
                        },
                    )
                    .unwrap();
                points.push((s, ts, bits));
            }
        }
        let receipt = t.write(&batch).unwrap();
        log.push((receipt.seq, points));
        acked.fetch_add(1, Ordering::SeqCst);
        if b % 10 == 9 {
            // Let the readers see this state before going on.
            let seen = reads.load(Ordering::SeqCst);
            while reads.load(Ordering::SeqCst) == seen {
                std::thread::yield_now();
            }
        }
    }
    log
}

fn random_query(rng: &mut Rng) -> Query {
    match rng.below(4) {
        0 => Query::Scan(
            TimeRange::half_open(rng.range(0, 2_000_000), rng.range(2_000_001, 4_000_001)).unwrap(),
        ),
        1 => Query::Last,
        _ => {
            let aggs: Vec<Agg> = Agg::ALL
                .iter()
                .copied()
                .filter(|_| rng.chance(1, 2))
                .collect();
            let aggs = if aggs.is_empty() {
                vec![Agg::Count]
            } else {
                aggs
            };
            let q = naive::Query {
                every: [7_000, 100_000, 333_000][rng.below(3) as usize],
                origin: rng.range(-50_000, 50_000),
                from: rng.chance(1, 2).then(|| rng.range(0, 1_000_000)),
                to: None,
                aggs,
                by: if rng.chance(1, 3) {
                    vec!["line".into()]
                } else {
                    Vec::new()
                },
                fill: [Fill::None, Fill::Previous, Fill::Linear][rng.below(3) as usize],
                max_gap: None,
            };
            Query::Downsample(q, 1 + rng.below(2) as usize, rng.chance(1, 2))
        }
    }
}

fn run_query(t: &Tenant, q: &Query) -> (u64, Answer) {
    match q {
        Query::Downsample(nq, threads, arrow) => {
            let req = DownsampleRequest::new(Selector::all(), nq.every, &nq.aggs)
                .with_origin(nq.origin)
                .with_range(nq.from, nq.to)
                .with_by(nq.by.clone())
                .with_fill(nq.fill)
                .with_threads(*threads)
                .with_batch_rows(50);
            let d = t.downsample(&req).unwrap();
            let seq = d.seq();
            let rows = if *arrow {
                let batches: Vec<_> = d.record_batches().collect::<Result<_, _>>().unwrap();
                naive::rows_from_batches(&batches, nq.by.len(), 50)
            } else {
                let pieces: Vec<_> = d.collect::<Result<_, _>>().unwrap();
                naive::rows_from_pieces(&pieces, 50)
            };
            (seq, Answer::Rows(rows))
        }
        Query::Scan(range) => {
            let it = t.scan_range(&Selector::all(), *range);
            let seq = it.seq();
            let series = it
                .map(|s| {
                    let s = s.unwrap();
                    (
                        s.key.to_string(),
                        s.cols
                            .ts
                            .iter()
                            .copied()
                            .zip(s.cols.values.iter().copied())
                            .collect(),
                    )
                })
                .collect();
            (seq, Answer::Points(series))
        }
        Query::Last => {
            let (seq, last) = t.latest_with_seq(&Selector::all());
            let rows = last
                .into_iter()
                .map(|l| {
                    (
                        l.key_text.to_string(),
                        vec![(l.point.ts, l.point.value.to_bits())],
                    )
                })
                .collect();
            (seq, Answer::Points(rows))
        }
    }
}

/// The state after every logged write with `seq <= upto`, in seq order.
fn state_at(logs: &[Logged], upto: u64) -> BTreeMap<usize, BTreeMap<i64, u64>> {
    let mut ordered: Vec<&Logged> = logs.iter().filter(|(s, _)| *s <= upto).collect();
    ordered.sort_by_key(|(s, _)| *s);
    let mut state: BTreeMap<usize, BTreeMap<i64, u64>> = BTreeMap::new();
    for (_, points) in ordered {
        for &(s, ts, bits) in points {
            state.entry(s).or_default().insert(ts, bits);
        }
    }
    state
}

fn expected(q: &Query, state: &BTreeMap<usize, BTreeMap<i64, u64>>) -> Answer {
    let mut by_key: Vec<(SeriesKey, usize)> = state.keys().map(|&s| (key(s), s)).collect();
    by_key.sort();
    match q {
        Query::Downsample(nq, _, _) => {
            let series: Vec<naive::Series> = by_key
                .iter()
                .map(|(k, s)| naive::Series {
                    key: k.clone(),
                    vt: KEYS[*s].1,
                    points: state[s].clone(),
                })
                .collect();
            Answer::Rows(naive::downsample(&series, nq).unwrap())
        }
        Query::Scan(range) => Answer::Points(
            by_key
                .iter()
                .map(|(k, s)| {
                    let pts: Vec<(i64, u64)> = state[s]
                        .range(range.first()..=range.last())
                        .map(|(&t, &b)| (t, b))
                        .collect();
                    (k.to_string(), pts)
                })
                .filter(|(_, p)| !p.is_empty())
                .collect(),
        ),
        Query::Last => Answer::Points(
            by_key
                .iter()
                .filter_map(|(k, s)| {
                    state[s]
                        .iter()
                        .next_back()
                        .map(|(&t, &b)| (k.to_string(), vec![(t, b)]))
                })
                .collect(),
        ),
    }
}

/// A reader: a query after each bit of writer progress, and one more after
/// the writers are done.
fn read_loop(
    t: &Tenant,
    seed: u64,
    acked: &AtomicU64,
    reads: &AtomicU64,
    done: &AtomicBool,
) -> Vec<(u64, Query, Answer)> {
    let mut rng = Rng::new(seed);
    let (mut seen, mut out) = (0, Vec::new());
    loop {
        // Wait for writer progress (or the end) before each query.
        while acked.load(Ordering::SeqCst) == seen && !done.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        let last_round = done.load(Ordering::SeqCst);
        seen = acked.load(Ordering::SeqCst);
        let q = random_query(&mut rng);
        let (seq, a) = run_query(t, &q);
        out.push((seq, q, a));
        reads.fetch_add(1, Ordering::SeqCst);
        if last_round {
            return out;
        }
    }
}

/// Checks every answer against the oracle at its seq; returns how many were
/// taken strictly between the first and the final write.
fn check(logs: &[Logged], answers: &[(u64, Query, Answer)]) -> usize {
    let final_seq = logs.iter().map(|(s, _)| *s).max().unwrap();
    let mut mid_ingest = 0;
    for (i, (seq, q, got)) in answers.iter().enumerate() {
        let want = expected(q, &state_at(logs, *seq));
        mid_ingest += usize::from(*seq > 0 && *seq < final_seq);
        match (got, &want) {
            (Answer::Rows(g), Answer::Rows(w)) => {
                if let Err(e) = naive::compare(g, w) {
                    panic!("answer {i} (seq {seq}) {q:?}: {e}");
                }
            }
            (g, w) => assert_eq!(g, w, "answer {i} (seq {seq}) {q:?}"),
        }
    }
    mid_ingest
}

#[test]
fn readers_see_consistent_snapshots_during_ingest_and_flushes() {
    let seed = common::seed();
    let dir = tempfile::tempdir().unwrap();
    let opts = Options::default()
        .with_durability(Durability::None)
        .with_memtable_budget(256 << 10);
    let engine = Engine::open(dir.path(), opts).unwrap();
    let t = engine.tenant("acme").unwrap();
    let (acked, reads, done) = (AtomicU64::new(0), AtomicU64::new(0), AtomicBool::new(false));
    let logs: Mutex<Vec<Logged>> = Mutex::new(Vec::new());
    let answers: Mutex<Vec<(u64, Query, Answer)>> = Mutex::new(Vec::new());
    let flushes = AtomicU64::new(0);
    std::thread::scope(|s| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (t, acked, reads, logs) = (&t, &acked, &reads, &logs);
                s.spawn(move || {
                    let log = write_batches(t, w, seed, acked, reads);
                    logs.lock().unwrap().extend(log);
                })
            })
            .collect();
        for r in 0..READERS {
            let (t, acked, reads, done, answers) = (&t, &acked, &reads, &done, &answers);
            s.spawn(move || {
                let mine = read_loop(t, seed ^ (r + 100), acked, reads, done);
                answers.lock().unwrap().extend(mine);
            });
        }
        let (engine, done, flushes) = (&engine, &done, &flushes);
        s.spawn(move || {
            while !done.load(Ordering::SeqCst) {
                engine.flush().unwrap();
                flushes.fetch_add(1, Ordering::SeqCst);
            }
        });
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, Ordering::SeqCst);
    });
    let answers = answers.into_inner().unwrap();
    let mid_ingest = check(&logs.into_inner().unwrap(), &answers);
    let flushes = flushes.load(Ordering::SeqCst);
    report!(
        "{} answers checked, {mid_ingest} during ingest, {flushes} flushes",
        answers.len()
    );
    // Each writer waits for a new read after batches 10, 20, …, 110: each such
    // read completed before that writer's last batch, so its snapshot is
    // strictly between the first write and the final one.
    assert!(
        mid_ingest >= (BATCHES / 10 - 1) as usize,
        "{mid_ingest} reads during ingest"
    );
}
