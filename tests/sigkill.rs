//! Black-box process death (RELIABILITY.md §6.3 c): a real child process
//! (`src/bin/crash_child.rs`) writes batches in `Sync` mode on the real file
//! system and reports each acknowledged batch; the test SIGKILLs it at random
//! moments (while opening and recovering, mid-write, mid-flush), reopens the
//! directory in-process and checks that every acknowledged batch is there
//! exactly once, every batch is all or nothing, nothing never written appears,
//! and `verify` passes. Then it continues on the same directory.
//!
//! Cycles: `HISTORIAN_SIGKILL_CYCLES` (default 1,000). Seed: `HISTORIAN_SEED`.
//! The verdict never depends on timing: timing only decides where the kill
//! lands, and every landing point must pass.

/// Prints past libtest's output capture, so the line shows in every CI log.
macro_rules! report {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use historian::verify::verify_dir;
use historian::vfs::{StdFs, Vfs};
use historian::{Engine, Options, Selector};

fn batch_value(b: u64, s: u64, i: u64) -> f64 {
    (b * 31 + s * 7 + i) as f64 * 0.5 - 1.0
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Runs the child until `acks_wanted` acks (or it dies), then kills it.
/// Returns the acknowledged batch numbers.
fn run_child(dir: &std::path::Path, first: u64, acks_wanted: u64, rng: &mut Rng) -> Vec<u64> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crash_child"))
        .arg(dir)
        .arg(first.to_string())
        .arg((3 + rng.below(20)).to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn crash_child");
    let stdout = child.stdout.take().expect("child stdout");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut acks = Vec::new();
    let deadline = Duration::from_secs(30);
    while (acks.len() as u64) < acks_wanted {
        match rx.recv_timeout(deadline) {
            Ok(line) => {
                if let Some(b) = line.strip_prefix("ack ") {
                    acks.push(b.parse::<u64>().expect("ack number"));
                }
            }
            Err(_) => break, // the child died or stalled: kill it anyway
        }
    }
    // Land the kill anywhere: during open, mid-write, mid-fsync, mid-flush.
    std::thread::sleep(Duration::from_micros(rng.below(3000)));
    child.kill().expect("kill child");
    child.wait().expect("reap child");
    reader.join().expect("reader thread");
    acks.extend(
        rx.try_iter()
            .filter_map(|l| l.strip_prefix("ack ")?.parse::<u64>().ok()),
    );
    acks
}

/// Batches present after reopen, checked to be whole and exact.
fn present_batches(dir: &std::path::Path) -> Result<Vec<u64>, String> {
    let engine = Engine::open(dir, Options::default()).map_err(|e| format!("reopen: {e}"))?;
    let Ok(tenant) = engine.existing_tenant("kc") else {
        return Ok(Vec::new());
    };
    let mut points: std::collections::BTreeMap<u64, Vec<(u64, u64, f64)>> = Default::default();
    for series in tenant.scan(&Selector::all(), i64::MIN, i64::MAX) {
        let series = series.map_err(|e| format!("scan: {e}"))?;
        let s: u64 = series.key.measurement()[1..]
            .parse()
            .map_err(|_| "bad series")?;
        for (ts, bits) in series.cols.ts.iter().zip(&series.cols.values) {
            let (b, i) = (*ts as u64 / 1000, *ts as u64 % 1000);
            points
                .entry(b)
                .or_default()
                .push((s, i, f64::from_bits(*bits)));
        }
    }
    let mut batches = Vec::new();
    for (b, pts) in points {
        let expected = 3 * (1 + b % 7);
        if pts.len() as u64 != expected {
            return Err(format!(
                "batch {b} is torn: {} of {expected} points",
                pts.len()
            ));
        }
        for (s, i, v) in pts {
            if v.to_bits() != batch_value(b, s, i).to_bits() {
                return Err(format!("batch {b} series {s} point {i}: wrong value {v}"));
            }
        }
        batches.push(b);
    }
    drop(engine);
    let vfs: Arc<dyn Vfs> = Arc::new(StdFs::new(dir).map_err(|e| e.to_string())?);
    verify_dir(&vfs, None).map_err(|e| format!("verify: {e}"))?;
    Ok(batches)
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_batch() {
    let seed = std::env::var("HISTORIAN_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::process::id() as u64 ^ 0x5eed);
    let cycles: u64 = std::env::var("HISTORIAN_SIGKILL_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let mut rng = Rng(seed);
    let mut dir = tempfile::tempdir().expect("tempdir");
    let mut acked: Vec<u64> = Vec::new();
    let mut next = 0u64;
    let (mut kills_before_first_ack, mut total_acks) = (0u64, 0u64);
    for cycle in 0..cycles {
        if cycle % 200 == 199 {
            // Bound the data each reopen scans.
            dir = tempfile::tempdir().expect("tempdir");
            acked.clear();
        }
        let wanted = rng.below(12);
        let got = run_child(dir.path(), next, wanted, &mut rng);
        kills_before_first_ack += u64::from(got.is_empty());
        total_acks += got.len() as u64;
        acked.extend(&got);
        let present = present_batches(dir.path())
            .unwrap_or_else(|e| panic!("seed {seed}, cycle {cycle}: {e}"));
        for b in &acked {
            assert!(
                present.binary_search(b).is_ok(),
                "seed {seed}, cycle {cycle}: acknowledged batch {b} is missing"
            );
        }
        let last_sent = got.iter().max().map_or(next, |b| b + 1);
        if let Some(b) = present.iter().find(|&&b| b > last_sent) {
            panic!("seed {seed}, cycle {cycle}: batch {b} was never written");
        }
        next = present.last().map_or(next, |b| b + 1).max(last_sent + 1);
    }
    report!(
        "sigkill: {cycles} cycles, {total_acks} acknowledged batches, \
         {kills_before_first_ack} kills before the first ack (during open/recovery), seed {seed}"
    );
}
