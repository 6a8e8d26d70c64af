//! Statistics push-down changes no answer: a downsample answered partly from
//! block statistics equals, bit for bit, the same downsample with push-down
//! turned off (every block decoded), on random f64 data that includes NaN
//! (with payloads), ±inf and -0.0 next to 0.0, random i64 data and bools,
//! with some blocks overlapped by later unflushed (and flushed) writes, which
//! must not be answered from statistics.
//!
//! Proves: the sums, means, minima and maxima stored as block statistics
//! (segment v3) are exactly what the kernels compute on the decoded values,
//! that windows holding whole blocks were in fact answered from statistics
//! (counted), and that overlapped blocks were not.

mod common;

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampNanosecondType, UInt64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use common::Rng;
use historian::query::{Agg, DownsampleRequest, Fill, ReadStats};
use historian::vfs::SimFs;
use historian::{Durability, Engine, Options, Selector, SeriesKey, Tenant, ValueType, WriteBatch};

const SEC: i64 = 1_000_000_000;

fn f64_value(rng: &mut Rng) -> f64 {
    match rng.below(30) {
        0 => f64::NAN,
        1 => f64::from_bits(0x7ff8_0000_dead_beef),
        2 => f64::INFINITY,
        3 => f64::NEG_INFINITY,
        4 => -0.0,
        5 => 0.0,
        // Values whose sums round differently in different orders.
        _ => (rng.range(-1_000_000, 1_000_000) as f64) * 1.000_000_1e-3 + 0.1,
    }
}

/// Writes `n` points per series at 1 s steps from `t0`, in batches; some
/// series get specials, the rest only finite values (so some windows have a
/// finite sum that the push-down must reproduce exactly).
fn write_run(t: &Tenant, rng: &mut Rng, t0: i64, n: i64) {
    for chunk in 0..n / 1000 {
        let mut b = WriteBatch::new();
        for s in 0..4 {
            let key = SeriesKey::new("f", [("s", s.to_string())]).unwrap();
            let slot = b.slot(&key, ValueType::F64).unwrap();
            for i in 0..1000 {
                let ts = t0 + (chunk * 1000 + i) * SEC;
                let v = if s < 2 {
                    f64_value(rng)
                } else {
                    rng.range(-5000, 5000) as f64 / 7.0
                };
                b.push_to_slot(slot, historian::Point::new(ts, historian::Value::F64(v)))
                    .unwrap();
            }
        }
        let ikey = SeriesKey::new("i", [("s", "0")]).unwrap();
        let bkey = SeriesKey::new("b", [("s", "0")]).unwrap();
        let (is, bs) = (
            b.slot(&ikey, ValueType::I64).unwrap(),
            b.slot(&bkey, ValueType::Bool).unwrap(),
        );
        for i in 0..1000 {
            let ts = t0 + (chunk * 1000 + i) * SEC;
            let iv = historian::Value::I64(rng.range(i64::MIN / 4, i64::MAX / 4));
            b.push_to_slot(is, historian::Point::new(ts, iv)).unwrap();
            let bv = historian::Value::Bool(rng.chance(1, 3));
            b.push_to_slot(bs, historian::Point::new(ts, bv)).unwrap();
        }
        t.write(&b).unwrap();
    }
}

/// Every cell of every batch as raw bits (floats by bit pattern, so NaN
/// payloads and the sign of zero count), strings as text.
fn bits_of(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for b in batches {
        for c in b.columns() {
            let cell = |i: usize| -> String {
                if c.is_null(i) {
                    return "null".into();
                }
                match c.data_type() {
                    DataType::Float64 => {
                        format!("{:#x}", c.as_primitive::<Float64Type>().value(i).to_bits())
                    }
                    DataType::Int64 => c.as_primitive::<Int64Type>().value(i).to_string(),
                    DataType::UInt64 => c.as_primitive::<UInt64Type>().value(i).to_string(),
                    DataType::Boolean => c.as_boolean().value(i).to_string(),
                    DataType::Utf8 => c.as_string::<i32>().value(i).to_string(),
                    _ => c
                        .as_primitive::<TimestampNanosecondType>()
                        .value(i)
                        .to_string(),
                }
            };
            out.push((0..c.len()).map(cell).collect());
        }
    }
    out
}

fn run(t: &Tenant, req: DownsampleRequest) -> (Vec<RecordBatch>, ReadStats) {
    let mut d = t.downsample(&req).unwrap().record_batches();
    let batches: Vec<_> = d.by_ref().collect::<Result<_, _>>().unwrap();
    (batches, d.read_stats())
}

/// An in-memory engine that flushes only when asked.
fn open() -> Engine {
    let opts = Options::default()
        .with_vfs(Arc::new(SimFs::new()))
        .with_background_flush(false)
        .with_durability(Durability::None);
    Engine::open("db", opts).unwrap()
}

#[test]
fn push_down_equals_decoding_bit_for_bit() {
    let mut rng = Rng::new(common::seed());
    let engine = open();
    let t = engine.tenant("acme").unwrap();
    write_run(&t, &mut rng, 0, 20_000);
    engine.flush().unwrap();
    write_run(&t, &mut rng, 20_000 * SEC, 10_000);
    engine.flush().unwrap();
    // Overwrites inside flushed blocks: one in a later segment, one in the
    // memtable. Their blocks overlap newer data and must be decoded.
    write_run(&t, &mut rng, 3_000 * SEC, 1_000);
    engine.flush().unwrap();
    write_run(&t, &mut rng, 12_000 * SEC, 1_000);
    let stats_aggs = [Agg::Count, Agg::Sum, Agg::Mean, Agg::Min, Agg::Max];
    let (mut from_stats, mut decoded) = (0, 0);
    for round in 0..40 {
        let every = [3_600, 1_800, 7_200, 86_400, 1_031][round % 5] * SEC;
        let origin = if round % 3 == 0 {
            0
        } else {
            rng.range(-every, every)
        };
        let mut aggs: Vec<Agg> = stats_aggs
            .iter()
            .copied()
            .filter(|_| rng.chance(2, 3))
            .collect();
        if aggs.is_empty() {
            aggs.push(Agg::Sum);
        }
        let by: &[&str] = if round % 4 == 1 { &["s"] } else { &[] };
        let sel = ["*", "f", "i", "b", r#"f{s=~"[01]"}"#][round % 5];
        let from = (round % 2 == 1).then(|| rng.range(0, 10_000) * SEC);
        let req = |push: bool| {
            DownsampleRequest::new(Selector::parse(sel).unwrap(), every, &aggs)
                .with_origin(origin)
                .with_range(from, None)
                .with_by(by.iter().copied())
                .with_fill(if round % 6 == 0 {
                    Fill::Linear
                } else {
                    Fill::None
                })
                .with_threads(1 + round % 2)
                .with_push_down(push)
        };
        let (with, s_with) = run(&t, req(true));
        let (without, s_without) = run(&t, req(false));
        let (with, without) = (bits_of(&with), bits_of(&without));
        assert!(!with.is_empty(), "round {round}: no output");
        assert_eq!(
            with, without,
            "round {round}: {sel} every {every} aggs {aggs:?}"
        );
        assert_eq!(s_without.blocks_from_stats, 0);
        from_stats += s_with.blocks_from_stats;
        decoded += s_with.blocks_decoded;
    }
    assert!(
        from_stats > 100,
        "push-down was exercised: {from_stats} blocks"
    );
    assert!(decoded > 100, "and so was decoding: {decoded} blocks");
}

#[test]
fn overlapped_blocks_are_decoded_and_first_last_never_pushed_down() {
    let engine = open();
    let t = engine.tenant("acme").unwrap();
    let mut rng = Rng::new(7);
    write_run(&t, &mut rng, 0, 2_000);
    engine.flush().unwrap();
    let day = DownsampleRequest::new(
        Selector::parse(r#"f{s="3"}"#).unwrap(),
        86_400 * SEC,
        &[Agg::Sum],
    );
    let (_, s) = run(&t, day.clone());
    assert_eq!((s.blocks_from_stats, s.blocks_decoded), (2, 0));
    // One overwrite in the memtable inside the first block.
    let key = SeriesKey::new("f", [("s", "3")]).unwrap();
    let mut b = WriteBatch::new();
    b.push_value(&key, 5 * SEC, historian::Value::F64(1e6))
        .unwrap();
    t.write(&b).unwrap();
    let (_, s) = run(&t, day.clone());
    assert_eq!((s.blocks_from_stats, s.blocks_decoded), (1, 1));
    let firsts = DownsampleRequest::new(
        Selector::parse(r#"f{s="3"}"#).unwrap(),
        86_400 * SEC,
        &[Agg::Sum, Agg::First],
    );
    let (_, s) = run(&t, firsts);
    assert_eq!((s.blocks_from_stats, s.blocks_decoded), (0, 2));
}
