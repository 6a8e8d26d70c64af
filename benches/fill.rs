//! Fill: 10-second windows over 4 series of 100,000 points written one every
//! 40 s, so three windows in four are empty and filled (null, previous,
//! linear), against no fill. Throughput in output windows.

mod common;

use std::hint::black_box;

use common::{keys, open, window_count};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use historian::query::{Agg, DownsampleRequest, Fill};
use historian::{Durability, Selector, WriteBatch};

const SERIES: usize = 4;
const PER_SERIES: i64 = 100_000;
const SEC: i64 = 1_000_000_000;

fn fill(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open(dir.path(), Durability::None);
    let t = engine.tenant("bench").expect("tenant");
    let mut b = WriteBatch::new();
    for key in keys(SERIES) {
        let ts: Vec<i64> = (0..PER_SERIES).map(|i| i * 40 * SEC).collect();
        let vals: Vec<f64> = (0..PER_SERIES).map(|i| (i % 1000) as f64 / 10.0).collect();
        b.extend_f64(&key, &ts, &vals).expect("batch");
    }
    t.write(&b).expect("write");
    engine.flush().expect("flush");
    let mut g = c.benchmark_group("fill");
    let filled = SERIES as u64 * (4 * (PER_SERIES as u64 - 1) + 1);
    for (name, fill) in [
        ("none", Fill::None),
        ("null", Fill::Null),
        ("previous", Fill::Previous),
        ("linear", Fill::Linear),
    ] {
        let req = DownsampleRequest::new(Selector::all(), 10 * SEC, &[Agg::Mean, Agg::Count])
            .with_fill(fill)
            .with_threads(1);
        let n = window_count(&t, &req) as u64;
        assert_eq!(
            n,
            if fill == Fill::None {
                SERIES as u64 * PER_SERIES as u64
            } else {
                filled
            }
        );
        g.throughput(Throughput::Elements(n));
        g.bench_function(name, |b| b.iter(|| black_box(window_count(&t, &req))));
    }
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = fill }
criterion_main!(benches);
