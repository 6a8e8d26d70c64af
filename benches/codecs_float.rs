//! Throughput of the float codecs on one block (1,024 values), in elements/s:
//! - `float_encode/<codec>/<data>` and `float_decode/<codec>/<data>` for ALP, XOR
//!   (Chimp), pco and the chooser (`floats`), plus zstd-of-plain;
//! - `float_encode/alp_plan_split_only/<data>` and `float_decode/alp_ints_only/<data>`:
//!   ALP's own work without `ints::encode`, and the `ints::decode` inside ALP's
//!   decode, to show how much of each is the int codec.
//!
//! Data: `sensor` is a synthetic decimal sensor (a random walk with 4 decimals around
//! 75, like SKAB's Temperature); `smooth` is non-decimal (a sine computed in f64, so
//! ALP cannot express it); `skab` is the first 1,024 Accelerometer1RMS values of
//! SKAB valve1/0.csv (7 decimals), when shared/data/skab is present.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use historian::bytes::DecodeError;
use historian::codec::{alp, floats, ints, pco_block, xor, BLOCK_LEN};

type Enc = fn(&[u64], &mut Vec<u8>);
type Dec = fn(&[u8], u64, &mut [u64]) -> Result<(), DecodeError>;

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args()
}

/// xorshift64*, deterministic.
fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn sensor() -> Vec<u64> {
    let mut r = rng(7);
    let mut level = 754_955i64;
    (0..BLOCK_LEN)
        .map(|_| {
            level += (r() % 41) as i64 - 20;
            (level as f64 / 1e4).to_bits()
        })
        .collect()
}

fn smooth() -> Vec<u64> {
    (0..BLOCK_LEN)
        .map(|i| ((i as f64) * 0.013).sin().mul_add(20.0, 60.0).to_bits())
        .collect()
}

fn skab() -> Option<Vec<u64>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/skab/valve1/0.csv");
    let text = std::fs::read_to_string(path).ok()?;
    let v: Vec<u64> = text
        .lines()
        .skip(1)
        .filter_map(|row| row.split(';').nth(1)?.trim().parse::<f64>().ok())
        .map(f64::to_bits)
        .take(BLOCK_LEN)
        .collect();
    (v.len() == BLOCK_LEN).then_some(v)
}

fn pco_encode(bits: &[u64], out: &mut Vec<u8>) {
    pco_block::encode(bits, out).expect("pco encodes f64");
}

fn bench_floats(c: &mut Criterion) {
    let mut data = vec![("sensor", sensor()), ("smooth", smooth())];
    data.extend(skab().map(|v| ("skab", v)));
    let codecs: [(&str, Enc, Dec); 5] = [
        ("alp", alp::encode, alp::decode),
        ("xor", xor::encode, xor::decode),
        ("pco", pco_encode, pco_block::decode),
        ("zstd", floats::zstd_encode, floats::decode),
        ("chooser", floats::encode, floats::decode),
    ];
    for (name, bits) in &data {
        for (codec, enc, _) in codecs {
            let mut s = Vec::new();
            enc(bits, &mut s);
            let chosen = floats::codec_of(&s).map_or("?", |c| c.name());
            eprintln!(
                "{name:>6} {codec:>7}: {:>5} bytes = {:.3} B/value ({chosen})",
                s.len(),
                s.len() as f64 / bits.len() as f64
            );
        }
    }
    let mut g = c.benchmark_group("float_encode");
    g.throughput(Throughput::Elements(BLOCK_LEN as u64));
    for (name, bits) in &data {
        for (codec, enc, _) in codecs {
            g.bench_function(BenchmarkId::new(codec, name), |b| {
                let mut out = Vec::with_capacity(16 * BLOCK_LEN);
                b.iter(|| {
                    out.clear();
                    enc(black_box(bits), &mut out);
                })
            });
        }
    }
    for (name, bits) in &data {
        let mut split = alp::Split::default();
        g.bench_function(BenchmarkId::new("alp_plan_split_only", name), |b| {
            b.iter(|| {
                let plan = alp::plan(black_box(bits));
                alp::split(bits, plan.params, &mut split);
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("float_decode");
    g.throughput(Throughput::Elements(BLOCK_LEN as u64));
    for (name, bits) in &data {
        let mut out = vec![0u64; bits.len()];
        for (codec, enc, dec) in codecs {
            let mut s = Vec::new();
            enc(bits, &mut s);
            g.bench_function(BenchmarkId::new(codec, name), |b| {
                b.iter(|| dec(black_box(&s), 0, &mut out).expect("decode"))
            });
        }
        let mut s = Vec::new();
        alp::encode(bits, &mut s);
        if let Some(ints_section) = alp_ints_section(&s) {
            let mut ints_out = vec![0i64; bits.len()];
            g.bench_function(BenchmarkId::new("alp_ints_only", name), |b| {
                b.iter(|| ints::decode(black_box(ints_section), 0, &mut ints_out).expect("ints"))
            });
        }
    }
    g.finish();
}

/// The ints section inside an ALP section (after the patch and exception lists).
fn alp_ints_section(s: &[u8]) -> Option<&[u8]> {
    let u16_at = |i: usize| {
        Some(usize::from(u16::from_le_bytes([
            *s.get(i)?,
            *s.get(i + 1)?,
        ])))
    };
    let patches = u16_at(3)?;
    let exc_at = 5 + 2 * patches;
    let exceptions = u16_at(exc_at)?;
    s.get(exc_at + 2 + 10 * exceptions..)
}

fn main() {
    let mut c = config();
    bench_floats(&mut c);
    c.final_summary();
}
