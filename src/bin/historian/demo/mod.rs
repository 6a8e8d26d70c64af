//! `historian demo`: a self-contained tour on synthetic factory data ([`factory`]):
//! ingest, flush, range queries, downsampling, last values, stats and verify, each step saying what
//! it does and how long it took. Runs in a temporary directory unless `--data-dir` is
//! given on the command line.

mod factory;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use historian::query::{Agg, DownsampleRequest};
use historian::verify::verify_dir;
use historian::vfs::{StdFs, Vfs};
use historian::{Engine, SeriesData, Tenant, WriteBatch};

use crate::admin::{print, stats_text};
use crate::args::DemoArgs;
use crate::context::{durability_name, open_engine, selector, Context};
use crate::error::{CliError, CliResult};
use crate::output;

/// First timestamp of the demo data: 2024-03-04T06:00:00Z (a Monday morning shift).
const T0: i64 = 1_709_532_000_000_000_000;
const NS_PER_S: i64 = 1_000_000_000;
/// Points per write batch (about).
const BATCH_POINTS: u64 = 100_000;
const TENANT: &str = "demo-factory";

/// Runs `demo`.
pub fn run(ctx: &Context, args: &DemoArgs) -> CliResult {
    if !(args.hours > 0.0 && args.hours <= 24.0 * 366.0) {
        return Err(CliError::usage(
            "--hours must be above 0 and at most a year",
        ));
    }
    let started = Instant::now();
    let temp;
    let dir: &Path = if ctx.data_dir_explicit {
        &ctx.data_dir
    } else {
        temp = tempfile::Builder::new()
            .prefix("historian-demo-")
            .tempdir()
            .map_err(|e| CliError::failure(format!("creating a temporary directory: {e}")))?;
        temp.path()
    };
    print(&format!("historian demo in {}\n", dir.display()))?;
    let engine = open_engine(dir, ctx.durability)?;
    let tenant = engine.tenant(TENANT)?;
    let seconds = (args.hours * 3600.0).round().max(1.0) as i64;
    ingest(&tenant, args.machines, seconds, ctx)?;
    step("[2/7] flush memtables to segments", || {
        engine.flush()?;
        let s = tenant.stats()?;
        Ok(format!(
            "  {} points in {} segment(s), {} bytes ({:.2} bytes/point)",
            s.points, s.segments, s.segment_bytes, s.bytes_per_point
        ))
    })?;
    query_steps(&tenant, seconds)?;
    step("[6/7] stats", || Ok(stats_text(&tenant.stats()?)))?;
    verify_step(&engine, dir)?;
    let kept = if ctx.data_dir_explicit {
        format!("data kept in {}", dir.display())
    } else {
        "temporary directory removed".to_string()
    };
    print(&format!(
        "demo finished in {:.2} s; {kept}\n",
        started.elapsed().as_secs_f64()
    ))
}

/// Prints `title`, runs `f`, prints its output and the time it took.
fn step(title: &str, f: impl FnOnce() -> CliResult<String>) -> CliResult {
    print(&format!("\n{title}\n"))?;
    let t = Instant::now();
    let out = f()?;
    let took = t.elapsed().as_secs_f64() * 1000.0;
    let sep = if out.is_empty() || out.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    print(&format!("{out}{sep}  ({took:.1} ms)\n"))
}

/// Step 1: generates the signals chunk by chunk and writes them; times the writes.
fn ingest(tenant: &Tenant, machines: u64, seconds: i64, ctx: &Context) -> CliResult {
    let mut signals = factory::signals(machines)?;
    let n = signals.len() as u64;
    print(&format!(
        "\n[1/7] ingest {machines} machines × {} sensors × {seconds} s at 1 Hz = {} points \
         (tags line/machine/sensor, durability {})\n",
        factory::SENSORS.len(),
        n * seconds as u64,
        durability_name(ctx.durability)
    ))?;
    let chunk = (BATCH_POINTS / n.max(1)).max(1) as i64;
    let (mut ts, mut values) = (Vec::new(), Vec::new());
    let (mut writing, mut points, mut batches) = (Duration::ZERO, 0u64, 0u64);
    let total = Instant::now();
    let mut batch = WriteBatch::new();
    for start in (0..seconds).step_by(chunk as usize) {
        let end = (start + chunk).min(seconds);
        batch.clear();
        for s in &mut signals {
            ts.clear();
            values.clear();
            for t in start..end {
                ts.push(T0 + t * NS_PER_S);
                values.push(s.sample(t as f64));
            }
            batch.extend_f64(&s.key, &ts, &values)?;
        }
        let w = Instant::now();
        tenant.write(&batch)?;
        writing += w.elapsed();
        points += batch.len() as u64;
        batches += 1;
    }
    let rate = points as f64 / writing.as_secs_f64().max(1e-9);
    print(&format!(
        "  wrote {points} points in {batches} batches: {:.1} ms in writes ({rate:.0} points/s), \
         {:.1} ms with data generation\n",
        writing.as_secs_f64() * 1000.0,
        total.elapsed().as_secs_f64() * 1000.0
    ))
}

/// Steps 3 to 5: a raw range query, an aggregate over a line, last values.
fn query_steps(tenant: &Tenant, seconds: i64) -> CliResult {
    let mid = T0 + seconds / 2 * NS_PER_S;
    let title = "[3/7] query pressure{machine=\"press-01\"} over 10 s in the middle of the run";
    step(title, || {
        let sel = selector("pressure{machine=\"press-01\"}")?;
        let data = tenant.scan_all(&sel, mid, mid + 10 * NS_PER_S)?;
        csv_text(&data, 6)
    })?;
    let title = "[4/7] downsample temperature{line=\"L1\"}: 10-minute mean,min,max by machine, last 30 minutes";
    step(title, || {
        let end = T0 + seconds * NS_PER_S;
        let req = DownsampleRequest::new(
            selector("temperature{line=\"L1\"}")?,
            600 * NS_PER_S,
            &[Agg::Mean, Agg::Min, Agg::Max],
        )
        .with_range(Some(end - 1800 * NS_PER_S), Some(end))
        .with_origin(end)
        .with_by(["machine"]);
        let mut buf = Vec::new();
        output::write_windows_csv(tenant.downsample(&req)?, &mut buf)?;
        Ok(indent_rows(&String::from_utf8_lossy(&buf), 7))
    })?;
    step(
        "[5/7] last values of vibration{machine=~\"pump-.*\"}",
        || {
            let sel = selector("vibration{machine=~\"pump-.*\"}")?;
            let data = crate::query::last_rows(tenant, &sel)?;
            csv_text(&data, 6)
        },
    )
}

/// The first `rows` CSV rows of `data` (and a count of the rest).
fn csv_text(data: &[SeriesData], rows: usize) -> CliResult<String> {
    let mut buf = Vec::new();
    output::write_csv(data, &mut buf).map_err(|e| CliError::failure(e.to_string()))?;
    Ok(indent_rows(&String::from_utf8_lossy(&buf), rows))
}

/// The header and the first `rows` rows of CSV `text`, indented (and a count of the rest).
fn indent_rows(text: &str, rows: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    for l in lines.iter().take(rows + 1) {
        out.push_str("  ");
        out.push_str(l);
        out.push('\n');
    }
    if lines.len() > rows + 1 {
        out.push_str(&format!("  … {} more rows\n", lines.len() - rows - 1));
    }
    out
}

/// Step 7: checks every file and checksum of the directory.
fn verify_step(engine: &Engine, dir: &Path) -> CliResult {
    engine.sync()?;
    step("[7/7] verify every file and checksum", || {
        let fs = StdFs::new(dir).map_err(|e| CliError::io(dir.display(), e))?;
        let vfs: Arc<dyn Vfs> = Arc::new(fs);
        let r = verify_dir(&vfs, Some(TENANT))?;
        Ok(format!(
            "  ok: {} segment(s), {} points, {} WAL record(s)",
            r.segments, r.segment_points, r.wal_records
        ))
    })
}
