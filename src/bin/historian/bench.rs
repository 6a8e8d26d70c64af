//! `historian bench ingest`: a fixed, seeded write workload in a fresh temporary
//! directory, reporting points/s (writes acknowledged, then including the final flush)
//! and bytes/point on disk after the flush.
//!
//! `historian bench decode`: full decode of an existing tenant's segments
//! ([`historian::Tenant::decode_all`]) on one thread, repeated, reporting the best and
//! median points/s and the decoded totals (see [`run_decode`]).
//!
//! The ingest data: `--series` random walks (two decimals, like a sensor with 0.01 resolution)
//! sampled at 1 Hz; series are split evenly between the writer threads, each thread
//! writing its own pre-built batches in time order. Building happens before the clock
//! starts, so only the engine is measured.

use std::time::Instant;

use historian::query::DecodeTotals;
use historian::{SeriesKey, TenantStats, WriteBatch};
use serde_json::json;

use crate::admin::print;
use crate::args::{BenchDecodeArgs, BenchIngestArgs};
use crate::context::{durability_name, existing_tenant, open_engine, Context};
use crate::error::{CliError, CliResult};
use crate::rng::{round_to, Rng};

/// First timestamp of the workload: 2024-01-01T00:00:00Z.
const T0: i64 = 1_704_067_200_000_000_000;
const NS_PER_S: i64 = 1_000_000_000;
const SEED: u64 = 0x6869_7374_6f72_6961;

/// The shape of the workload.
#[derive(Debug, Clone, Copy)]
struct Shape {
    points: u64,
    series: u64,
    batch: u64,
    threads: u64,
}

/// Runs `bench ingest`.
pub fn run_ingest(ctx: &Context, args: &BenchIngestArgs) -> CliResult {
    let threads = args.threads.min(args.series);
    let default_batch = if threads == 1 { 100_000 } else { 10_000 };
    let shape = Shape {
        points: args.points,
        series: args.series,
        batch: args.batch.unwrap_or(default_batch),
        threads,
    };
    let work = build(shape)?;
    let dir = tempfile::Builder::new()
        .prefix("historian-bench-")
        .tempdir()
        .map_err(|e| CliError::failure(format!("creating a temporary directory: {e}")))?;
    let engine = open_engine(dir.path(), ctx.durability)?;
    let tenant = engine.tenant("bench")?;
    let started = Instant::now();
    std::thread::scope(|s| {
        let handles: Vec<_> = work
            .iter()
            .map(|batches| s.spawn(|| batches.iter().try_for_each(|b| tenant.write(b).map(drop))))
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join()
                .unwrap_or_else(|_| Err(historian::Error::invalid("bench", "a writer panicked")))
        })
    })?;
    let ingest_s = started.elapsed().as_secs_f64();
    engine.flush()?;
    let total_s = started.elapsed().as_secs_f64();
    let stats = tenant.stats()?;
    report(ctx, args.json, shape, (ingest_s, total_s), &stats)
}

/// Prints the result; `seconds` is (writes only, writes and flush).
fn report(
    ctx: &Context,
    json: bool,
    shape: Shape,
    (ingest_s, total_s): (f64, f64),
    stats: &TenantStats,
) -> CliResult {
    let p = shape.points as f64;
    let durability = durability_name(ctx.durability);
    if json {
        let v = json!({
            "workload": "ingest",
            "points": shape.points,
            "series": shape.series,
            "batch_points": shape.batch,
            "threads": shape.threads,
            "durability": durability,
            "ingest_seconds": ingest_s,
            "points_per_second": p / ingest_s.max(1e-9),
            "seconds_with_flush": total_s,
            "points_per_second_with_flush": p / total_s.max(1e-9),
            "bytes_on_disk": stats.bytes_on_disk,
            "bytes_per_point": stats.bytes_per_point,
        });
        return print(&format!("{v}\n"));
    }
    print(&format!(
        "bench ingest: {} points, {} series, batches of {} points, {} thread(s), \
         durability {durability}\n  ingest      {ingest_s:8.3} s  {:>12.0} points/s\n  \
         with flush  {total_s:8.3} s  {:>12.0} points/s\n  on disk     {} bytes, \
         {:.3} bytes/point\n",
        shape.points,
        shape.series,
        shape.batch,
        shape.threads,
        p / ingest_s.max(1e-9),
        p / total_s.max(1e-9),
        stats.bytes_on_disk,
        stats.bytes_per_point
    ))
}

/// The batches of every thread.
fn build(shape: Shape) -> CliResult<Vec<Vec<WriteBatch>>> {
    let keys = (0..shape.series)
        .map(|i| SeriesKey::new("bench", [("series", format!("s{i:05}"))]))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rng = Rng::new(SEED);
    let mut walks: Vec<Walk> = keys
        .into_iter()
        .map(|key| Walk {
            key,
            value: 20.0 + 60.0 * rng.uniform(),
            next: 0,
        })
        .collect();
    let mut work = Vec::new();
    for t in 0..shape.threads {
        let points = shape.points / shape.threads + u64::from(t < shape.points % shape.threads);
        let mine: Vec<&mut Walk> = walks
            .iter_mut()
            .enumerate()
            .filter(|(i, _)| *i as u64 % shape.threads == t)
            .map(|(_, w)| w)
            .collect();
        work.push(thread_batches(mine, points, shape.batch, &mut rng)?);
    }
    Ok(work)
}

/// One series' random walk.
struct Walk {
    key: SeriesKey,
    value: f64,
    next: i64,
}

/// `points` points over `walks` in batches of `batch`, each series contributing runs of
/// `batch / walks` consecutive points, round-robin.
fn thread_batches(
    mut walks: Vec<&mut Walk>,
    points: u64,
    batch: u64,
    rng: &mut Rng,
) -> CliResult<Vec<WriteBatch>> {
    if walks.is_empty() {
        return Ok(Vec::new());
    }
    let per = (batch / walks.len() as u64).max(1);
    let (mut remaining, mut cursor) = (points, 0usize);
    let mut out = Vec::new();
    let (mut ts, mut values) = (Vec::new(), Vec::new());
    while remaining > 0 {
        let mut b = WriteBatch::new();
        let mut room = batch.min(remaining);
        while room > 0 {
            let len = walks.len();
            let Some(w) = walks.get_mut(cursor % len) else {
                break;
            };
            let n = per.min(room);
            ts.clear();
            values.clear();
            for _ in 0..n {
                w.value += 0.05 * rng.normal();
                ts.push(T0 + w.next * NS_PER_S);
                values.push(round_to(w.value, 2));
                w.next += 1;
            }
            b.extend_f64(&w.key, &ts, &values)?;
            (room, remaining, cursor) = (room - n, remaining - n, cursor + 1);
        }
        out.push(b);
    }
    Ok(out)
}

/// Runs `bench decode`: opens the existing data directory, decodes every segment
/// block of the tenant once untimed (warm-up: page cache, allocator), then
/// `--repeat` times timed, on the calling thread only. Every run must see the same
/// totals (nothing writes meanwhile); a difference is reported as an error.
pub fn run_decode(ctx: &Context, args: &BenchDecodeArgs) -> CliResult {
    let engine = ctx.open_existing()?;
    let tenant = existing_tenant(&engine, &args.tenant)?;
    let stats = tenant.stats()?;
    let totals = tenant.decode_all()?;
    let mut seconds = Vec::with_capacity(args.repeat as usize);
    for _ in 0..args.repeat {
        let started = Instant::now();
        let t = tenant.decode_all()?;
        seconds.push(started.elapsed().as_secs_f64());
        if !same_totals(&t, &totals) {
            return Err(CliError::failure(format!(
                "bench decode: two decodes of tenant {} disagree ({t:?} vs {totals:?})",
                args.tenant
            )));
        }
    }
    seconds.sort_by(f64::total_cmp);
    let best = seconds.first().copied().unwrap_or(0.0);
    let median = median(&seconds);
    decode_report(args, &stats, &totals, best, median)
}

/// Equal totals; NaN sums (a stored NaN) compare by bits.
fn same_totals(a: &DecodeTotals, b: &DecodeTotals) -> bool {
    a.points == b.points
        && a.blocks == b.blocks
        && a.ts_sum == b.ts_sum
        && a.int_sum == b.int_sum
        && a.f64_sum.to_bits() == b.f64_sum.to_bits()
}

/// The median of sorted, non-empty `xs` (mean of the middle two when even).
pub fn median(xs: &[f64]) -> f64 {
    let n = xs.len();
    match (xs.get((n.max(1) - 1) / 2), xs.get(n / 2)) {
        (Some(a), Some(b)) => (a + b) / 2.0,
        _ => 0.0,
    }
}

/// Prints the result of `bench decode`.
fn decode_report(
    args: &BenchDecodeArgs,
    stats: &TenantStats,
    t: &DecodeTotals,
    best: f64,
    median: f64,
) -> CliResult {
    let p = t.points as f64;
    let (best_rate, median_rate) = (p / best.max(1e-9), p / median.max(1e-9));
    if args.json {
        let v = json!({
            "workload": "decode",
            "tenant": args.tenant,
            "threads": 1,
            "repeat": args.repeat,
            "points": t.points,
            "blocks": t.blocks,
            "series": stats.series,
            "segments": stats.segments,
            "segment_bytes": stats.segment_bytes,
            "bytes_on_disk": stats.bytes_on_disk,
            "memtable_points": stats.memtable_points,
            "ts_sum": t.ts_sum,
            "f64_sum": t.f64_sum,
            "int_sum": t.int_sum,
            "best_seconds": best,
            "median_seconds": median,
            "points_per_second": best_rate,
            "median_points_per_second": median_rate,
        });
        return print(&format!("{v}\n"));
    }
    let unflushed = if stats.memtable_points > 0 {
        format!(
            "  note: {} points still in memtables are not decoded (run `historian flush`)\n",
            stats.memtable_points
        )
    } else {
        String::new()
    };
    print(&format!(
        "bench decode: tenant {}, {} points in {} blocks, {} segment(s), {} segment bytes, \
         1 thread, best of {}\n  best    {best:8.4} s  {best_rate:>12.0} points/s\n  \
         median  {median:8.4} s  {median_rate:>12.0} points/s\n  sums    ts {}  f64 {}  \
         int {}\n{unflushed}",
        args.tenant,
        t.points,
        t.blocks,
        stats.segments,
        stats.segment_bytes,
        args.repeat,
        t.ts_sum,
        t.f64_sum,
        t.int_sum,
    ))
}
