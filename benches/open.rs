//! Reopen latency, reported per point recovered:
//! - `replay_wal`: 1M points (10 batches of 100,000 over 100 series) only in the WAL,
//!   so open replays every record into memtables;
//! - `segments`: the same points flushed into 100 segments (10,000 points each), so
//!   open reads the manifest and maps and indexes every segment.
//!
//! Each run opens a fresh copy of a closed engine directory (copy not timed); closing
//! the engine is not timed either.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{copy_dir, fill, keys, open, SERIES};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use historian::Durability;

const POINTS: usize = 1_000_000;

/// Builds a closed engine directory to reopen.
type Setup = fn(&Path);

/// A closed engine whose 1M points are all in the WAL.
fn wal_only(dir: &Path) {
    let engine = open(dir, Durability::None);
    fill(
        &engine,
        "bench",
        &keys(SERIES),
        1_000,
        POINTS / SERIES / 1_000,
    );
    engine.close().expect("close");
}

/// A closed engine whose 1M points are in 100 segments and none in the WAL.
fn segments(dir: &Path) {
    let engine = open(dir, Durability::None);
    let keys = keys(SERIES);
    let t = engine.tenant("bench").expect("tenant");
    for i in 0..100 {
        t.write(&common::batch(&keys, POINTS / SERIES / 100, i))
            .expect("write");
        engine.flush().expect("flush");
    }
    assert_eq!(t.stats().expect("stats").segments, 100);
    engine.close().expect("close");
}

fn timed_reopen(template: &Path, iters: u64) -> Duration {
    let mut took = Duration::ZERO;
    for _ in 0..iters {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_dir(template, dir.path());
        let start = Instant::now();
        let engine = open(dir.path(), Durability::None);
        took += start.elapsed();
        drop(engine);
    }
    took
}

fn reopen(c: &mut Criterion) {
    let mut g = c.benchmark_group("open");
    g.throughput(Throughput::Elements(POINTS as u64));
    let setups: [(&str, Setup); 2] = [("replay_wal", wal_only), ("segments", segments)];
    for (name, setup) in setups {
        let template = tempfile::tempdir().expect("tempdir");
        setup(template.path());
        g.bench_function(name, |b| {
            b.iter_custom(|iters| timed_reopen(template.path(), iters))
        });
    }
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = reopen }
criterion_main!(benches);
