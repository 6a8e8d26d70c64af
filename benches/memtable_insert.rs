//! Memtable insert throughput: 1M points (100 series x 10 batches x 1,000 points) into a
//! fresh [`Memtable`], in time order and out of order (batches newest first, points of
//! each batch permuted). Inserting out of order only clears a flag; the sort is paid by
//! readers and by `freeze`, so the `_then_freeze` variants include the freeze.

mod common;

use common::{keys, PER_SERIES, SERIES, STEP_NS};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use historian::memtable::Memtable;
use historian::{Columns, ValueType};

const BATCHES: usize = 10;

/// The columns of every (batch, series) insert, in insert order.
fn workload(out_of_order: bool) -> Vec<(u32, Columns)> {
    let mut inserts = Vec::with_capacity(BATCHES * SERIES);
    for n in 0..BATCHES {
        let b = if out_of_order { BATCHES - 1 - n } else { n };
        for s in 0..SERIES {
            let mut cols = Columns::with_capacity(PER_SERIES);
            for i in 0..PER_SERIES {
                // 7919 is prime, so `i * 7919 % PER_SERIES` permutes 0..PER_SERIES.
                let j = if out_of_order {
                    i * 7919 % PER_SERIES
                } else {
                    i
                };
                let ts = (b * PER_SERIES + j) as i64 * STEP_NS;
                cols.push(ts, (ts as f64).to_bits(), None);
            }
            inserts.push((s as u32, cols));
        }
    }
    inserts
}

fn insert_all(inserts: &[(u32, Columns)]) -> Memtable {
    let mut m = Memtable::default();
    for (seq, (id, cols)) in inserts.iter().enumerate() {
        m.insert(*id, cols, seq as u64 + 1);
    }
    m
}

fn memtable_insert(c: &mut Criterion) {
    let keys = keys(SERIES);
    let mut g = c.benchmark_group("memtable_insert");
    g.throughput(Throughput::Elements((BATCHES * SERIES * PER_SERIES) as u64));
    for (name, out_of_order) in [("in_order", false), ("out_of_order", true)] {
        let inserts = workload(out_of_order);
        // The memtable is returned so it is dropped outside the timed section.
        g.bench_function(name, |b| {
            b.iter_batched(|| (), |()| insert_all(&inserts), BatchSize::PerIteration)
        });
        g.bench_function(format!("{name}_then_freeze"), |b| {
            b.iter_batched(
                || (),
                |()| {
                    let m = insert_all(&inserts);
                    m.freeze(|id| Some((keys[id as usize].clone(), ValueType::F64)))
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = memtable_insert }
criterion_main!(benches);
