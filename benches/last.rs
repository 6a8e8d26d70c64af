//! `last` over 10,000 series (the latest point of each, from the in-memory
//! cache, in key order), after a reopen rebuilt the cache from segments; and
//! over one series picked by an equality matcher.

mod common;

use std::hint::black_box;

use common::open;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use historian::{Durability, Selector, SeriesKey, Value, WriteBatch};

const SERIES: usize = 10_000;

fn last(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let engine = open(dir.path(), Durability::None);
        let t = engine.tenant("bench").expect("tenant");
        let mut b = WriteBatch::new();
        for i in 0..SERIES {
            let key = SeriesKey::new("temp", [("machine", format!("m{i:05}"))]).expect("key");
            for j in 0..3 {
                b.push_value(&key, j * 1_000 + i as i64, Value::F64(j as f64))
                    .expect("push");
            }
        }
        t.write(&b).expect("write");
        engine.flush().expect("flush");
    }
    let engine = open(dir.path(), Durability::None);
    let t = engine.existing_tenant("bench").expect("tenant");
    let all = Selector::all();
    assert_eq!(t.latest(&all).len(), SERIES);
    let one = Selector::parse(r#"temp{machine="m04242"}"#).expect("selector");
    let mut g = c.benchmark_group("last");
    g.throughput(Throughput::Elements(SERIES as u64));
    g.bench_function("all_10k_series", |b| b.iter(|| black_box(t.latest(&all))));
    g.throughput(Throughput::Elements(1));
    g.bench_function("one_series_by_tag", |b| {
        b.iter(|| black_box(t.latest(&one)))
    });
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = last }
criterion_main!(benches);
