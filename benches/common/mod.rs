//! Shared fixtures of the benches: the canonical ingest shape (100 series, batches of
//! 100,000 points), engines on a temporary directory, and one modest criterion config so
//! `cargo bench` finishes in a few minutes on a 2-core machine.
// Each bench binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use criterion::Criterion;
use historian::{Durability, Engine, Options, SeriesKey, WriteBatch};

/// Series per batch.
pub const SERIES: usize = 100;
/// Points per series per batch.
pub const PER_SERIES: usize = 1_000;
/// Points per batch.
pub const BATCH_POINTS: usize = SERIES * PER_SERIES;
/// One second, the spacing of points in a series.
pub const STEP_NS: i64 = 1_000_000_000;

/// Few samples, short windows: these benches track large regressions, not 1% noise.
pub fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

/// `n` keys `vibration{machine="mNNN"}`.
pub fn keys(n: usize) -> Vec<SeriesKey> {
    (0..n)
        .map(|i| SeriesKey::new("vibration", [("machine", format!("m{i:03}"))]))
        .collect::<Result<_, _>>()
        .expect("valid keys")
}

/// The `index`-th batch of a steady ingest: `per_series` points for every key, one
/// second apart, continuing where batch `index - 1` stopped.
pub fn batch(keys: &[SeriesKey], per_series: usize, index: usize) -> WriteBatch {
    batch_of(keys, per_series, index, |t, k| {
        (t as f64 * 1e-9 + k as f64).sin()
    })
}

/// A steady batch whose value at (ts, key index) is `value(ts, k)`.
fn batch_of(
    keys: &[SeriesKey],
    per_series: usize,
    index: usize,
    value: impl Fn(i64, usize) -> f64,
) -> WriteBatch {
    let t0 = (index * per_series) as i64 * STEP_NS;
    let ts: Vec<i64> = (0..per_series as i64).map(|i| t0 + i * STEP_NS).collect();
    let mut b = WriteBatch::new();
    for (k, key) in keys.iter().enumerate() {
        let vals: Vec<f64> = ts.iter().map(|&t| value(t, k)).collect();
        b.extend_f64(key, &ts, &vals).expect("batch");
    }
    b
}

/// An engine on a real directory, no background flush, and a memtable budget large
/// enough that nothing flushes unless the bench asks.
pub fn open(dir: &Path, durability: Durability) -> Engine {
    let opts = Options::default()
        .with_durability(durability)
        .with_background_flush(false)
        .with_memtable_budget(4 << 30);
    Engine::open(dir, opts).expect("open engine")
}

/// Writes `batches` steady batches (`SERIES` x `per_series` points each) to `tenant`.
pub fn fill(engine: &Engine, tenant: &str, keys: &[SeriesKey], per_series: usize, batches: usize) {
    let t = engine.tenant(tenant).expect("tenant");
    for i in 0..batches {
        t.write(&batch(keys, per_series, i)).expect("write");
    }
}

/// Copies a closed engine directory (WAL, tenants) so each run opens pristine files.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let dst = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &dst);
        } else {
            std::fs::copy(entry.path(), dst).expect("copy");
        }
    }
}

/// Like [`batch`], with values as a sensor reports them: two decimals, a
/// slow wave plus jitter (so they compress like real readings, with ALP).
pub fn sensor_batch(keys: &[SeriesKey], per_series: usize, index: usize) -> WriteBatch {
    batch_of(keys, per_series, index, |t, k| {
        let s = t / STEP_NS;
        let wave = ((s as f64 / 600.0 + k as f64).sin() * 2000.0).round();
        (wave + ((s * 7919) % 37) as f64) / 100.0
    })
}

/// Windows a downsample outputs (its pieces' lengths summed).
pub fn window_count(t: &historian::Tenant, req: &historian::query::DownsampleRequest) -> usize {
    t.downsample(req)
        .expect("downsample")
        .map(|p| p.expect("piece").len())
        .sum()
}

/// A flushed tenant `bench` of `series` series (`vibration{machine=…}`) with
/// `per_series` points each, one second apart, for the query benches.
pub fn flushed_tenant(dir: &Path, series: usize, per_series: usize) -> (Engine, historian::Tenant) {
    let engine = open(dir, Durability::None);
    let keys = keys(series);
    let tenant = engine.tenant("bench").expect("tenant");
    let chunk = 100_000.min(per_series);
    for i in 0..per_series / chunk {
        tenant.write(&sensor_batch(&keys, chunk, i)).expect("write");
    }
    engine.flush().expect("flush");
    (engine, tenant)
}
