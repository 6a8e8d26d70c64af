//! Statistics push-down: one-hour `mean,min,max,count` over 4 series of 1M
//! points at 1 Hz (3,600 points a window, most 1,024-point blocks wholly
//! inside one), answered from block statistics or, for comparison, by
//! decoding every block. Throughput in points covered.

mod common;

use std::hint::black_box;

use common::{flushed_tenant, window_count};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use historian::query::{Agg, DownsampleRequest};
use historian::Selector;

const SERIES: usize = 4;
const PER_SERIES: usize = 1_000_000;
const HOUR: i64 = 3_600_000_000_000;

fn pushdown(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_engine, t) = flushed_tenant(dir.path(), SERIES, PER_SERIES);
    let aggs = [Agg::Mean, Agg::Min, Agg::Max, Agg::Count];
    let mut g = c.benchmark_group("pushdown");
    g.throughput(Throughput::Elements((SERIES * PER_SERIES) as u64));
    for (name, on) in [("hourly_from_statistics", true), ("hourly_decoded", false)] {
        let req = DownsampleRequest::new(Selector::all(), HOUR, &aggs)
            .with_threads(1)
            .with_push_down(on);
        let mut d = t.downsample(&req).expect("downsample");
        d.by_ref().for_each(|p| drop(p.expect("piece")));
        let stats = d.read_stats();
        assert_eq!(stats.blocks_from_stats > 0, on, "{name}: {stats:?}");
        g.bench_function(name, |b| b.iter(|| black_box(window_count(&t, &req))));
    }
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = pushdown }
criterion_main!(benches);
