//! Times the three queries of issue 4 on a data directory, in process:
//! 1. one-minute `mean,min,max,count` over every series and all time, on one
//!    thread and on every core (points per second);
//! 2. a range scan of 1% of one series' span (the middle of its time range);
//! 3. `last` over every series of the tenant, and over 10,000 synthetic
//!    series in a temporary engine (written, flushed, reopened so the cache is
//!    rebuilt from segments).
//!
//! `cargo run --release --example query_probe -- DATA_DIR TENANT [REPEAT]`
//! (open a copy: the engine takes the directory's lock). Environment:
//! `ONLY=downsample|range`, `THREADS=1`, `AGGS=mean,min,…`, `EVERY_S=60`,
//! `PUSH_DOWN=0`.

use std::time::{Duration, Instant};

use historian::catalog::{MatchOp, Matcher};
use historian::query::{Agg, AggColumn, DownsampleRequest, TimeRange};
use historian::{Durability, Engine, Options, Selector, SeriesKey, Tenant, Value, WriteBatch};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Best time of `n` runs of `f`, and its last result.
fn best<T>(n: usize, mut f: impl FnMut() -> Res<T>) -> Res<(Duration, T)> {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..n {
        let t = Instant::now();
        let r = f()?;
        best = best.min(t.elapsed());
        out = Some(r);
    }
    Ok((best, out.ok_or("no run")?))
}

/// Points counted by a one-minute downsample (the sum of its counts).
fn downsample_points(t: &Tenant, threads: usize) -> Res<u64> {
    let aggs = match std::env::var("AGGS") {
        Ok(a) => Agg::parse_list(&a)?,
        Err(_) => vec![Agg::Mean, Agg::Min, Agg::Max, Agg::Count],
    };
    let every = std::env::var("EVERY_S").map_or(Ok(60), |e| e.parse::<i64>())?;
    let req = DownsampleRequest::new(Selector::all(), every * 1_000_000_000, &aggs)
        .with_push_down(std::env::var("PUSH_DOWN").as_deref() != Ok("0"))
        .with_threads(threads)
        .with_batch_rows(8192);
    let mut points = 0;
    for piece in t.downsample(&req)? {
        for c in piece?.columns {
            if let AggColumn::Count(c) = c {
                points += c.iter().sum::<u64>();
            }
        }
    }
    Ok(points)
}

fn main() -> Res<()> {
    let usage = "usage: query_probe DATA_DIR TENANT [REPEAT]";
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or(usage)?;
    let tenant = args.next().ok_or(usage)?;
    let repeat: usize = args.next().map_or(Ok(5), |s| s.parse())?;
    let opened = Instant::now();
    let engine = Engine::open(&dir, Options::default().with_background_flush(false))?;
    let t = engine.existing_tenant(&tenant)?;
    println!("open: {:.2?}", opened.elapsed());
    // ONLY=downsample|range limits the run; THREADS=1 skips the all-cores run.
    let only = std::env::var("ONLY").unwrap_or_default();
    if only != "range" {
        downsamples(&t, repeat)?;
    }
    if only == "downsample" {
        return Ok(());
    }
    range_scans(
        &t,
        if only == "range" {
            repeat * 4000
        } else {
            repeat * 40
        },
    )?;
    if only == "range" {
        return Ok(());
    }
    let (d, n) = best(repeat * 100, || Ok(t.latest(&Selector::all()).len()))?;
    println!("last over the tenant's {n} series: {d:.2?}");
    last_10k(repeat)
}

/// Query 1 on one thread and on every core, then a plain decode to compare.
fn downsamples(t: &Tenant, repeat: usize) -> Res<()> {
    let one_thread = std::env::var("THREADS").as_deref() == Ok("1");
    for threads in [1, 0] {
        if one_thread && threads == 0 {
            continue;
        }
        let (d, points) = best(repeat, || downsample_points(t, threads))?;
        let rate = points as f64 / d.as_secs_f64() / 1e6;
        let label = if threads == 1 {
            "1 thread"
        } else {
            "all cores"
        };
        println!(
            "downsample 1m mean,min,max,count, {label}: {d:.2?} for {points} points = {rate:.0} M points/s"
        );
    }
    let (d, totals) = best(repeat, || Ok(t.decode_all()?))?;
    let rate = totals.points as f64 / d.as_secs_f64() / 1e6;
    println!("decode only (Tenant::decode_all), 1 thread: {d:.2?} = {rate:.0} M points/s");
    Ok(())
}

/// Query 2: 1% of the first series' span, from its middle, `runs` times.
fn range_scans(t: &Tenant, runs: usize) -> Res<()> {
    let series = t.latest(&Selector::all());
    let first = series.first().ok_or("empty tenant")?;
    let name = Matcher::new("__name__", MatchOp::Eq, first.key.measurement())?;
    let mut matchers = vec![name];
    for (k, v) in first.key.tags() {
        matchers.push(Matcher::new(k.as_str(), MatchOp::Eq, v.as_str())?);
    }
    let sel = Selector::new(matchers);
    let all = t.scan_all(&sel, i64::MIN, i64::MAX)?;
    let ts = &all.first().ok_or("no points")?.cols.ts;
    let (lo, hi) = (
        *ts.first().ok_or("no points")?,
        *ts.last().ok_or("no points")?,
    );
    let from = lo + (hi - lo) / 2;
    let range = TimeRange::half_open(from, from + (hi - lo) / 100).ok_or("empty range")?;
    let (d, n) = best(runs, || {
        let s = t.scan_range(&sel, range).next().ok_or("no series")??;
        Ok(s.cols.len())
    })?;
    println!(
        "range scan 1% of {} ({n} points), new columns: {d:.2?}",
        first.key_text
    );
    let mut cols = historian::Columns::default();
    let (d, n) = best(runs, || {
        t.scan_range(&sel, range)
            .next_into(&mut cols)?
            .ok_or("no series")?;
        Ok(cols.len())
    })?;
    println!("range scan 1% ({n} points) into a reused buffer: {d:.2?}");
    Ok(())
}

/// `last` over 10,000 series rebuilt from segments at open.
fn last_10k(repeat: usize) -> Res<()> {
    let dir = tempfile::tempdir()?;
    let opts = || {
        Options::default()
            .with_durability(Durability::None)
            .with_background_flush(false)
    };
    {
        let engine = Engine::open(dir.path(), opts())?;
        let t = engine.tenant("probe")?;
        let mut b = WriteBatch::new();
        for i in 0..10_000 {
            let key = SeriesKey::new("temp", [("machine", format!("m{i:05}"))])?;
            b.push_value(&key, 1_700_000_000_000_000_000 + i, Value::F64(i as f64))?;
        }
        t.write(&b)?;
        engine.flush()?;
    }
    let opened = Instant::now();
    let engine = Engine::open(dir.path(), opts())?;
    let t = engine.existing_tenant("probe")?;
    println!(
        "open with 10,000 series (cache rebuilt): {:.2?}",
        opened.elapsed()
    );
    let (d, n) = best(repeat * 100, || Ok(t.latest(&Selector::all()).len()))?;
    println!("last over {n} series: {d:.2?}");
    Ok(())
}
