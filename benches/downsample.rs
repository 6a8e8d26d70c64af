//! Window aggregation: one-minute `mean,min,max,count` over 4 series of 1M
//! points at 1 Hz (about 60 points a window, 17 windows a block, so no block
//! is answered from statistics), on one thread and on every core; and every
//! aggregate at once. Throughput in points.
//! Also the slice kernels alone on 60-value slices (`kernels/*`).

mod common;

use std::hint::black_box;

use common::flushed_tenant;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use historian::query::{kernels, Agg, DownsampleRequest};
use historian::{Selector, Tenant};

const SERIES: usize = 4;
const PER_SERIES: usize = 1_000_000;
const MINUTE: i64 = 60_000_000_000;

fn points(t: &Tenant, req: &DownsampleRequest) -> u64 {
    let mut windows = 0;
    for piece in t.downsample(req).expect("downsample") {
        windows += piece.expect("piece").len() as u64;
    }
    windows
}

fn downsample(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_engine, t) = flushed_tenant(dir.path(), SERIES, PER_SERIES);
    let basic = [Agg::Mean, Agg::Min, Agg::Max, Agg::Count];
    let cases = [
        ("mean_min_max_count_1_thread", &basic[..], 1),
        ("mean_min_max_count_all_cores", &basic[..], 0),
        ("all_aggregates_1_thread", &Agg::ALL[..], 1),
    ];
    let mut g = c.benchmark_group("downsample");
    g.throughput(Throughput::Elements((SERIES * PER_SERIES) as u64));
    for (name, aggs, threads) in cases {
        let req = DownsampleRequest::new(Selector::all(), MINUTE, aggs).with_threads(threads);
        let windows = points(&t, &req);
        assert_eq!(windows, (SERIES * PER_SERIES.div_ceil(60)) as u64, "{name}");
        g.bench_function(name, |b| b.iter(|| black_box(points(&t, &req))));
    }
    g.finish();

    let slice: Vec<u64> = (0..60).map(|i| (i as f64 * 0.37).sin().to_bits()).collect();
    let mut g = c.benchmark_group("kernels");
    g.throughput(Throughput::Elements(slice.len() as u64));
    g.bench_function("sum_min_max_f64_60", |b| {
        b.iter(|| black_box(kernels::sum_min_max_f64(black_box(&slice))))
    });
    g.bench_function("min_max_f64_60", |b| {
        b.iter(|| black_box(kernels::min_max_f64(black_box(&slice))))
    });
    g.bench_function("sum_f64_60", |b| {
        b.iter(|| black_box(kernels::sum_f64(black_box(&slice))))
    });
    g.bench_function("m2_f64_60", |b| {
        b.iter(|| black_box(kernels::m2_f64(black_box(&slice), 0.1)))
    });
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = downsample }
criterion_main!(benches);
