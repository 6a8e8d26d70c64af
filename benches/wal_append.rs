//! WAL append throughput through the engine: encode + append (+ fdatasync in `Sync`
//! mode) + memtable insert, batches of 100,000 points over 100 series, one writer, on a
//! temporary directory with the real file system. Each sample starts a fresh engine so
//! memtables never reach a flush.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{batch, keys, open, BATCH_POINTS, PER_SERIES, SERIES};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use historian::Durability;

fn wal_append(c: &mut Criterion) {
    let keys = keys(SERIES);
    let mut g = c.benchmark_group("wal_append");
    g.throughput(Throughput::Elements(BATCH_POINTS as u64));
    for (name, mode) in [("sync", Durability::Sync), ("none", Durability::None)] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let dir = tempfile::tempdir().expect("tempdir");
                let engine = open(dir.path(), mode);
                let tenant = engine.tenant("bench").expect("tenant");
                let batches: Vec<_> = (0..iters as usize)
                    .map(|i| batch(&keys, PER_SERIES, i))
                    .collect();
                let start = Instant::now();
                for b in &batches {
                    black_box(tenant.write(b).expect("write"));
                }
                let took: Duration = start.elapsed();
                drop(engine);
                took
            })
        });
    }
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = wal_append }
criterion_main!(benches);
