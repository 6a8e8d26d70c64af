//! Range-scan throughput from segments only (memtables empty): 10 series x 100,000
//! points flushed to segments, then
//! - `range_1pct_one_series`: 1% of one series' time span (1,000 points);
//! - `full_one_series`: all 100,000 points of one series;
//! - `full_all`: every series, 1M points;
//! - `range_1pct_one_series_reused_buffer`: the first case into one reused
//!   buffer (`ScanIter::next_into`), no fresh memory per scan.

mod common;

use std::hint::black_box;

use common::{batch, keys, open, STEP_NS};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use historian::{Durability, Selector};

const SERIES: usize = 10;
const PER_SERIES: usize = 100_000;
/// Written in batches of 10,000 points per series, one flush at the end.
const BATCHES: usize = 10;

fn scan(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open(dir.path(), Durability::None);
    let keys = keys(SERIES);
    let tenant = engine.tenant("bench").expect("tenant");
    for i in 0..BATCHES {
        tenant
            .write(&batch(&keys, PER_SERIES / BATCHES, i))
            .expect("write");
    }
    engine.flush().expect("flush");
    let one = Selector::parse(r#"vibration{machine="m003"}"#).expect("selector");
    let span = PER_SERIES as i64 * STEP_NS;
    let (from, to) = (span / 2, span / 2 + span / 100);
    let cases = [
        ("range_1pct_one_series", &one, from, to, PER_SERIES / 100),
        ("full_one_series", &one, i64::MIN, i64::MAX, PER_SERIES),
        (
            "full_all",
            &Selector::all(),
            i64::MIN,
            i64::MAX,
            SERIES * PER_SERIES,
        ),
    ];
    let mut g = c.benchmark_group("scan");
    for (name, sel, from, to, points) in cases {
        let got: usize = tenant
            .scan_all(sel, from, to)
            .expect("scan")
            .iter()
            .map(|s| s.cols.len())
            .sum();
        assert_eq!(got, points, "{name}");
        g.throughput(Throughput::Elements(points as u64));
        g.bench_function(name, |b| {
            b.iter(|| black_box(tenant.scan_all(sel, from, to).expect("scan")))
        });
    }
    let mut cols = historian::Columns::default();
    let range = historian::query::TimeRange::half_open(from, to).expect("range");
    g.throughput(Throughput::Elements((PER_SERIES / 100) as u64));
    g.bench_function("range_1pct_one_series_reused_buffer", |b| {
        b.iter(|| {
            let mut it = tenant.scan_range(&one, range);
            black_box(it.next_into(&mut cols).expect("scan"))
        })
    });
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = scan }
criterion_main!(benches);
