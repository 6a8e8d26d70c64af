//! Flush throughput: a memtable of 1M points (100 series x 10,000 points) to a segment
//! on a temporary directory. `engine` times `Engine::flush` (freeze, segment write and
//! fdatasync, manifest rewrite, WAL trim); `write_segment` times only encoding and
//! writing the segment file of an already frozen memtable. Setup is not timed.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{fill, keys, open, PER_SERIES, SERIES, STEP_NS};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use historian::memtable::Memtable;
use historian::segment::{write_segment, SeriesToWrite};
use historian::vfs::{StdFs, Vfs};
use historian::{Columns, Durability, ValueType};

const BATCHES: usize = 10;
const POINTS: usize = BATCHES * SERIES * PER_SERIES;

fn engine_flush(iters: u64) -> Duration {
    let keys = keys(SERIES);
    let mut took = Duration::ZERO;
    for _ in 0..iters {
        let dir = tempfile::tempdir().expect("tempdir");
        let engine = open(dir.path(), Durability::None);
        fill(&engine, "bench", &keys, PER_SERIES, BATCHES);
        let start = Instant::now();
        engine.flush().expect("flush");
        took += start.elapsed();
    }
    took
}

fn segment_write(iters: u64) -> Duration {
    let keys = keys(SERIES);
    let mut m = Memtable::default();
    for id in 0..SERIES {
        let mut cols = Columns::with_capacity(POINTS / SERIES);
        for i in 0..(POINTS / SERIES) as i64 {
            cols.push(
                i * STEP_NS,
                ((i as f64) * 0.01 + id as f64).sin().to_bits(),
                None,
            );
        }
        m.insert(id as u32, &cols, 1);
    }
    let frozen = m.freeze(|id| Some((keys[id as usize].clone(), ValueType::F64)));
    let series: Vec<SeriesToWrite<'_>> = frozen
        .series
        .iter()
        .map(|s| SeriesToWrite {
            key: &s.key,
            value_type: s.value_type,
            cols: &s.cols,
            lossy: None,
        })
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let vfs = StdFs::new(dir.path()).expect("StdFs");
    let mut took = Duration::ZERO;
    for i in 0..iters {
        let path = format!("{i}.seg");
        let start = Instant::now();
        black_box(write_segment(&vfs, &path, &series).expect("write segment"));
        took += start.elapsed();
        vfs.remove(&path).expect("remove");
    }
    took
}

fn flush(c: &mut Criterion) {
    let mut g = c.benchmark_group("flush");
    g.throughput(Throughput::Elements(POINTS as u64));
    g.bench_function("engine", |b| b.iter_custom(engine_flush));
    g.bench_function("write_segment", |b| b.iter_custom(segment_write));
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = flush }
criterion_main!(benches);
