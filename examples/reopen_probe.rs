//! Quick probe of recovery: writes about 1 GiB of WAL (60 M points) without
//! flushing, closes, and times the reopen that replays it.
//! `cargo run --release --example reopen_probe [points]`.

use std::time::Instant;

use historian::{Durability, Engine, Options, SeriesKey, WriteBatch};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total: usize = std::env::args()
        .nth(1)
        .map_or(Ok(60_000_000), |s| s.parse())?;
    let tmp = tempfile::tempdir()?;
    // PROBE_DIR=path keeps the data there (written once, reused by later runs).
    let keep = std::env::var("PROBE_DIR").ok();
    let dir_path = keep.clone().map_or(tmp.path().to_path_buf(), Into::into);
    let reuse = keep.is_some() && dir_path.join("wal").exists();
    let opts = || {
        Options::default()
            .with_durability(Durability::None)
            .with_memtable_budget(8 << 30)
            .with_wal_max_bytes(u64::MAX)
    };
    if !reuse {
        let engine = Engine::open(&dir_path, opts())?;
        let tenant = engine.tenant("probe")?;
        let keys: Vec<SeriesKey> = (0..100)
            .map(|i| SeriesKey::new("vibration", [("machine", format!("m{i:03}"))]))
            .collect::<Result<_, _>>()?;
        for b in 0..total / 100_000 {
            let mut batch = WriteBatch::new();
            for k in &keys {
                let t0 = (b * 1000) as i64 * 1_000_000_000;
                let ts: Vec<i64> = (0..1000).map(|i| t0 + i * 1_000_000_000).collect();
                let vals: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.01).sin()).collect();
                batch.extend_f64(k, &ts, &vals)?;
            }
            tenant.write(&batch)?;
        }
        println!("WAL bytes: {}", engine.wal_bytes());
    }
    let start = Instant::now();
    let engine = Engine::open(&dir_path, opts())?;
    let secs = start.elapsed().as_secs_f64();
    let r = engine.recovery_report();
    println!(
        "reopen replayed {} records in {secs:.3} s",
        r.wal_records_replayed
    );
    Ok(())
}
