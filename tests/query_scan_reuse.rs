//! Range scans into one reused buffer (`ScanIter::next_into`) equal fresh
//! scans. The reused path writes blocks that lie wholly inside the range
//! straight into the caller's columns, over whatever an earlier, longer scan
//! left there, and truncates at the end; this test makes every such leftover
//! possible: series of different lengths, qualities on some points of some
//! series only, data split over several segments (multi-block, overlapping
//! through overwrites) and memtables, ranges that cut blocks and ranges that
//! cover them whole. `Snapshot::reader` (the same read by series index,
//! from several threads at once) is held to the same scans.

mod common;

use std::sync::Arc;

use common::gen::Rng;
use historian::query::TimeRange;
use historian::vfs::SimFs;
use historian::{Columns, Durability, Engine, Options, Point, Selector, SeriesKey, Value};
use historian::{Tenant, WriteBatch};

const SEC: i64 = 1_000_000_000;

fn open() -> Engine {
    let opts = Options::default()
        .with_vfs(Arc::new(SimFs::new()))
        .with_background_flush(false)
        .with_durability(Durability::None);
    Engine::open("db", opts).unwrap()
}

/// `n` points per series from `start`, 1 Hz with jitter; series `q*` carry a
/// quality on one point in seven.
fn write(t: &Tenant, rng: &mut Rng, keys: &[SeriesKey], start: i64, n: i64) {
    let mut b = WriteBatch::new();
    for (k, key) in keys.iter().enumerate() {
        // Longer series first in key order, so later scans are shorter.
        let len = n / (k as i64 + 1);
        for i in 0..len {
            let ts = start + i * SEC + rng.below(1000) as i64;
            let quality =
                (key.measurement().starts_with('q') && i % 7 == 0).then(|| rng.below(256) as u8);
            let value = Value::F64((rng.below(10_000) as f64) / 100.0);
            b.push(key, Point { ts, value, quality }).unwrap();
        }
    }
    t.write(&b).unwrap();
}

/// A tenant with five series over two segments, overwrites and memtables
/// (see the module doc), and the generator that goes on from there.
fn setup() -> (Engine, Tenant, Rng) {
    let mut rng = Rng::new(common::seed());
    let engine = open();
    let t = engine.tenant("acme").unwrap();
    fill(&engine, &t, &mut rng);
    (engine, t, rng)
}

fn fill(engine: &Engine, t: &Tenant, rng: &mut Rng) {
    let keys: Vec<SeriesKey> = ["a", "b", "qa", "qb", "z"]
        .iter()
        .map(|m| SeriesKey::new(*m, [("m", "1")]).unwrap())
        .collect();
    write(t, rng, &keys, 0, 9_000);
    engine.flush().unwrap();
    write(t, rng, &keys, 9_000 * SEC, 5_000);
    engine.flush().unwrap();
    write(t, rng, &keys, 2_000 * SEC, 700); // overwrites inside flushed blocks
    write(t, rng, &keys, 14_000 * SEC, 1_500); // memtable only
}

#[test]
fn reused_buffer_scans_equal_fresh_scans() {
    let (_engine, t, mut rng) = setup();
    let mut reused = Columns::default();
    let mut compared = 0;
    for q in 0..400 {
        let from = rng.below(16_000) as i64 * SEC - SEC;
        let len = if q % 4 == 0 {
            16_000
        } else {
            1 + rng.below(3_000) as i64
        } * SEC;
        let range = TimeRange::half_open(from, from + len).unwrap();
        let fresh = t.scan_all(&Selector::all(), from, from + len).unwrap();
        let mut scan = t.scan_range(&Selector::all(), range);
        for want in &fresh {
            let got = scan.next_into(&mut reused).unwrap().expect("a series");
            assert_eq!(*got.key, want.key, "query {q}");
            assert_eq!(reused, want.cols, "query {q} of {} in {range:?}", want.key);
            compared += reused.len();
        }
        assert!(scan.next_into(&mut reused).unwrap().is_none());
    }
    assert!(compared > 1_000_000, "only {compared} points compared");
}

/// Two threads, each with its own reader of one snapshot and one reused
/// buffer, read the series by index in an interleaved order: every series
/// equals the fresh scan's, and an index past the end reads nothing.
#[test]
fn readers_on_two_threads_equal_fresh_scans() {
    let (_engine, t, mut rng) = setup();
    for q in 0..100 {
        let from = rng.below(16_000) as i64 * SEC - SEC;
        let len = (1 + rng.below(16_000) as i64) * SEC;
        let range = TimeRange::half_open(from, from + len).unwrap();
        let fresh = t.scan_all(&Selector::all(), from, from + len).unwrap();
        let snap = t.snapshot(&Selector::all(), range);
        let keys: Vec<SeriesKey> = snap.keys().cloned().collect();
        let read = |parity: usize| {
            let mut reader = snap.reader();
            let mut cols = Columns::default();
            let mut got = Vec::new();
            for i in (0..=keys.len()).rev().filter(|i| i % 2 == parity) {
                if let Some(s) = reader.read_into(i, &mut cols).unwrap() {
                    assert_eq!(Some(&*s.key), keys.get(i), "query {q}");
                    got.push((SeriesKey::clone(&s.key), cols.clone()));
                }
            }
            got
        };
        let mut got = std::thread::scope(|s| {
            let other = s.spawn(|| read(1));
            let mut mine = read(0);
            mine.extend(other.join().unwrap());
            mine
        });
        got.sort_by(|a, b| a.0.cmp(&b.0));
        let want: Vec<(SeriesKey, Columns)> = fresh.into_iter().map(|d| (d.key, d.cols)).collect();
        assert_eq!(got, want, "query {q} in {range:?}");
    }
}
