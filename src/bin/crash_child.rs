//! Test helper for `tests/sigkill.rs`: writes deterministic batches to an
//! engine in `Sync` mode and prints `ack <batch>` after each acknowledged
//! write, until it is killed.
//!
//! Usage: `crash_child <data_dir> <first_batch> <flush_every>`.
//! Batch `b` writes, for each of three series `s{0,1,2}` of tenant `kc`,
//! `1 + b % 7` points at timestamps `b * 1000 + i` with values
//! [`batch_value`]`(b, series, i)`, so a reader can tell for every batch whether
//! it is wholly present, wholly absent, or torn.

use std::io::Write;
use std::process::ExitCode;

use historian::{Engine, Options, SeriesKey, Value, WriteBatch};

/// The value batch `b` writes for point `i` of series `s` (also used by the test).
pub fn batch_value(b: u64, s: u64, i: u64) -> f64 {
    (b * 31 + s * 7 + i) as f64 * 0.5 - 1.0
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .ok_or("usage: crash_child DIR FIRST_BATCH FLUSH_EVERY")?;
    let first: u64 = args.next().ok_or("missing FIRST_BATCH")?.parse()?;
    let flush_every: u64 = args.next().ok_or("missing FLUSH_EVERY")?.parse()?;
    let opts = Options::default()
        .with_memtable_budget(64 << 10)
        .with_wal_file_bytes(16 << 10);
    let engine = Engine::open(&dir, opts)?;
    let tenant = engine.tenant("kc")?;
    let keys: Vec<SeriesKey> = (0..3)
        .map(|s| SeriesKey::new(format!("s{s}"), [("machine", "m1")]))
        .collect::<Result<_, _>>()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "open")?;
    out.flush()?;
    for b in first.. {
        let mut batch = WriteBatch::new();
        for (s, key) in keys.iter().enumerate() {
            for i in 0..1 + b % 7 {
                let ts = (b * 1000 + i) as i64;
                batch.push_value(key, ts, Value::F64(batch_value(b, s as u64, i)))?;
            }
        }
        tenant.write(&batch)?;
        writeln!(out, "ack {b}")?;
        out.flush()?;
        if flush_every > 0 && b % flush_every == flush_every - 1 {
            engine.flush()?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crash_child: {e}");
            ExitCode::FAILURE
        }
    }
}
