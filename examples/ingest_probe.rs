//! Quick probe of the durable write path: `THREADS` writers (default 1) send
//! batches of `BATCH` points (default 100,000) over 100 series, `Sync`
//! durability (`DUR=none` for none), on a temporary directory.
//! `cargo run --release --example ingest_probe [total_points]`.

use std::sync::Arc;
use std::time::Instant;

use historian::{Durability, Engine, Options, SeriesKey, WriteBatch};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn make_batch(keys: &[SeriesKey], b: usize, size: usize) -> historian::Result<WriteBatch> {
    let per_series = size / keys.len();
    let mut batch = WriteBatch::new();
    for k in keys {
        let t0 = (b * per_series) as i64 * 1_000_000_000;
        let ts: Vec<i64> = (0..per_series as i64)
            .map(|i| t0 + i * 1_000_000_000)
            .collect();
        let vals: Vec<f64> = (0..per_series).map(|i| (i as f64 * 0.01).sin()).collect();
        batch.extend_f64(k, &ts, &vals)?;
    }
    Ok(batch)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total: usize = std::env::args()
        .nth(1)
        .map_or(Ok(20_000_000), |s| s.parse())?;
    let threads = env_usize("THREADS", 1);
    let batch_size = env_usize("BATCH", 100_000);
    let durability = match std::env::var("DUR").as_deref() {
        Ok("none") => Durability::None,
        _ => Durability::Sync,
    };
    let dir = tempfile::tempdir()?;
    let engine = Engine::open(dir.path(), Options::default().with_durability(durability))?;
    let keys: Vec<SeriesKey> = (0..100)
        .map(|i| SeriesKey::new("vibration", [("machine", format!("m{i:03}"))]))
        .collect::<Result<_, _>>()?;
    let per_thread = total / threads / batch_size;
    let mut work = Vec::new();
    for t in 0..threads {
        let batches: Vec<WriteBatch> = (0..per_thread)
            .map(|b| make_batch(&keys, t * per_thread + b, batch_size))
            .collect::<Result<_, _>>()?;
        work.push(batches);
    }
    let tenant = Arc::new(engine.tenant("probe")?);
    let start = Instant::now();
    let handles: Vec<_> = work
        .into_iter()
        .map(|batches| {
            let tenant = Arc::clone(&tenant);
            std::thread::spawn(move || -> historian::Result<()> {
                for b in &batches {
                    tenant.write(b)?;
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| "writer panicked")??;
    }
    let secs = start.elapsed().as_secs_f64();
    let n = per_thread * threads * batch_size;
    println!(
        "{threads} writer(s), batches of {batch_size}: {n} points in {secs:.3} s: {:.2} M points/s",
        n as f64 / secs / 1e6
    );
    let start = Instant::now();
    engine.flush()?;
    println!("flush {:.3} s", start.elapsed().as_secs_f64());
    println!("{:.2} bytes/point on disk", tenant.stats()?.bytes_per_point);
    Ok(())
}
