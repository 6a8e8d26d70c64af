//! `historian bench downsample|range|last`: the three queries of the query engine,
//! timed in process on an existing tenant, for comparing builds, machines and other
//! engines (bench/peers runs the same queries on its peers).
//!
//! Each reports best and median (range and last also p99) and, as a check that the
//! work was done and can be compared with another engine, totals of what it read.

use std::time::Instant;

use historian::catalog::{MatchOp, Matcher};
use historian::query::{Agg, AggColumn, Downsample, DownsampleRequest, TimeRange};
use historian::text::time::parse_duration;
use historian::{Columns, Selector, SeriesKey, Tenant};
use serde_json::json;

use crate::admin::print;
use crate::args::{BenchDownsampleArgs, BenchLastArgs, BenchRangeArgs};
use crate::bench::median;
use crate::context::{existing_tenant, selector, Context};
use crate::error::{CliError, CliResult};
use crate::rng::Rng;

/// What one downsample returned.
#[derive(Debug, Default, Clone, PartialEq)]
struct Totals {
    rows: u64,
    groups: u64,
    count_sum: u64,
    mean_sum: f64,
    min_sum: f64,
    max_sum: f64,
}

/// Runs `bench downsample`.
pub fn run_downsample(ctx: &Context, args: &BenchDownsampleArgs) -> CliResult {
    let sel = selector(&args.select)?;
    let every = parse_duration(&args.every).map_err(|e| CliError::flag("--every", e))?;
    let aggs = Agg::parse_list(&args.agg).map_err(|e| CliError::flag("--agg", e))?;
    let threads = usize::try_from(args.threads).unwrap_or(0);
    let req = DownsampleRequest::new(sel, every, &aggs).with_threads(threads);
    req.validate()
        .map_err(|e| CliError::flag("bench downsample", e))?;
    let engine = ctx.open_existing()?;
    let tenant = existing_tenant(&engine, &args.tenant)?;
    // The warm-up also counts the points (with `count` added when not asked for).
    let mut counted = aggs.clone();
    if !counted.contains(&Agg::Count) {
        counted.push(Agg::Count);
    }
    let warm =
        DownsampleRequest::new(selector(&args.select)?, every, &counted).with_threads(threads);
    let (reference, _) = consume(tenant.downsample(&warm)?)?;
    let mut seconds = Vec::with_capacity(args.repeat as usize);
    let mut read = historian::query::ReadStats::default();
    for _ in 0..args.repeat {
        let started = Instant::now();
        let (t, stats) = consume(tenant.downsample(&req)?)?;
        seconds.push(started.elapsed().as_secs_f64());
        read = stats;
        if t.rows != reference.rows {
            return Err(CliError::failure(format!(
                "bench downsample: {} rows, the warm-up had {}",
                t.rows, reference.rows
            )));
        }
    }
    let (timed, _) = consume(tenant.downsample(&req)?)?;
    seconds.sort_by(f64::total_cmp);
    let best = seconds.first().copied().unwrap_or(0.0);
    let med = median(&seconds);
    let points = reference.count_sum as f64;
    let (rate, med_rate) = (points / best.max(1e-9), points / med.max(1e-9));
    let aggs_text: Vec<&str> = aggs.iter().map(|a| a.name()).collect();
    if args.json {
        let v = json!({
            "workload": "downsample",
            "tenant": args.tenant,
            "select": args.select,
            "every_ns": every,
            "aggs": aggs_text,
            "threads": args.threads,
            "repeat": args.repeat,
            "points": reference.count_sum,
            "series": reference.groups,
            "rows": reference.rows,
            "best_seconds": best,
            "median_seconds": med,
            "points_per_second": rate,
            "median_points_per_second": med_rate,
            "blocks_decoded": read.blocks_decoded,
            "blocks_from_stats": read.blocks_from_stats,
            "count_sum": reference.count_sum,
            "mean_sum": timed.mean_sum,
            "min_sum": timed.min_sum,
            "max_sum": timed.max_sum,
        });
        return print(&format!("{v}\n"));
    }
    let threads_text = match args.threads {
        0 => "every core".to_string(),
        1 => "1 thread".to_string(),
        n => format!("{n} threads"),
    };
    print(&format!(
        "bench downsample: tenant {}, {} every {}, {} series, {} points -> {} rows, \
         {threads_text}, best of {}\n  best    {best:8.4} s  {rate:>12.0} points/s\n  \
         median  {med:8.4} s  {med_rate:>12.0} points/s\n  blocks  {} decoded, {} from \
         statistics\n",
        args.tenant,
        aggs_text.join(","),
        args.every,
        reference.groups,
        reference.count_sum,
        reference.rows,
        args.repeat,
        read.blocks_decoded,
        read.blocks_from_stats,
    ))
}

/// Reads every output row of `ds`, summing the count, mean, min and max cells.
fn consume(mut ds: Downsample) -> CliResult<(Totals, historian::query::ReadStats)> {
    let aggs = ds.aggs().to_vec();
    let mut t = Totals::default();
    let mut last_group = None;
    for piece in ds.by_ref() {
        let piece = piece?;
        t.rows += piece.len() as u64;
        if last_group.as_ref() != Some(&piece.group) {
            t.groups += 1;
            last_group = Some(piece.group.clone());
        }
        for (agg, col) in aggs.iter().zip(&piece.columns) {
            let sum = column_sum(col);
            match agg {
                Agg::Count => t.count_sum += sum as u64,
                Agg::Mean => t.mean_sum += sum,
                Agg::Min => t.min_sum += sum,
                Agg::Max => t.max_sum += sum,
                _ => {}
            }
        }
    }
    Ok((t, ds.read_stats()))
}

/// The sum of a column's non-null cells, as f64 (counts are exact below 2^53).
fn column_sum(col: &AggColumn) -> f64 {
    match col {
        AggColumn::Count(v) => v.iter().sum::<u64>() as f64,
        AggColumn::Float64(v) => v.iter().flatten().sum(),
        AggColumn::Int64(v) => v.iter().flatten().map(|&x| x as f64).sum(),
        AggColumn::Bool(v) => v.iter().flatten().map(|&x| f64::from(u8::from(x))).sum(),
    }
}

/// Runs `bench range`.
pub fn run_range(ctx: &Context, args: &BenchRangeArgs) -> CliResult {
    if !(args.fraction > 0.0 && args.fraction <= 1.0) {
        return Err(CliError::usage(format!(
            "--fraction must be in (0, 1], got {}",
            args.fraction
        )));
    }
    let sel = selector(&args.select)?;
    let engine = ctx.open_existing()?;
    let tenant = existing_tenant(&engine, &args.tenant)?;
    let spans = spans(&tenant, &sel)?;
    if spans.is_empty() {
        return Err(CliError::failure(format!(
            "bench range: no points in tenant {} for {}",
            args.tenant, args.select
        )));
    }
    let mut rng = Rng::new(args.seed);
    let mut cols = Columns::default();
    let mut micros = Vec::with_capacity(args.queries as usize);
    let mut points = 0u64;
    for _ in 0..args.queries {
        let pick = (rng.next_u64() % spans.len() as u64) as usize;
        let Some((key, lo, hi)) = spans.get(pick) else {
            continue;
        };
        let span = (hi - lo) as f64;
        let len = ((span * args.fraction) as i64).max(1);
        let start = lo + (rng.uniform() * (span - len as f64).max(0.0)) as i64;
        let range = TimeRange::half_open(start, start.saturating_add(len))
            .ok_or_else(|| CliError::failure("bench range: empty range"))?;
        let started = Instant::now();
        let one = exact_selector(key)?;
        let found = tenant.scan_range(&one, range).next_into(&mut cols)?;
        micros.push(started.elapsed().as_secs_f64() * 1e6);
        if found.is_some() {
            points += cols.len() as u64;
        }
    }
    micros.sort_by(f64::total_cmp);
    let best = micros.first().copied().unwrap_or(0.0);
    let med = median(&micros);
    let p99 = percentile(&micros, 0.99);
    let mean = micros.iter().sum::<f64>() / micros.len().max(1) as f64;
    if args.json {
        let v = json!({
            "workload": "range",
            "tenant": args.tenant,
            "select": args.select,
            "series": spans.len(),
            "queries": args.queries,
            "fraction": args.fraction,
            "seed": args.seed,
            "points": points,
            "best_us": best,
            "median_us": med,
            "p99_us": p99,
            "mean_us": mean,
        });
        return print(&format!("{v}\n"));
    }
    print(&format!(
        "bench range: tenant {}, {} queries of {}% of one series' span among {} series, \
         {} points returned ({:.0} per query)\n  best {best:9.1} µs\n  median {med:7.1} µs\n  \
         p99 {p99:10.1} µs\n  mean {mean:9.1} µs\n",
        args.tenant,
        args.queries,
        args.fraction * 100.0,
        spans.len(),
        points,
        points as f64 / args.queries as f64,
    ))
}

/// Each selected series with points, and its first and last timestamps.
fn spans(tenant: &Tenant, sel: &Selector) -> CliResult<Vec<(SeriesKey, i64, i64)>> {
    let mut out = Vec::new();
    let mut cols = Columns::default();
    let Some(everything) = TimeRange::inclusive(i64::MIN, i64::MAX) else {
        return Ok(out);
    };
    let mut scan = tenant.scan_range(sel, everything);
    while let Some(s) = scan.next_into(&mut cols)? {
        if let (Some(&lo), Some(&hi)) = (cols.ts.first(), cols.ts.last()) {
            out.push(((*s.key).clone(), lo, hi));
        }
    }
    Ok(out)
}

/// A selector matching exactly `key` (its name and every tag with `=`).
fn exact_selector(key: &SeriesKey) -> CliResult<Selector> {
    let mut matchers = vec![Matcher::new("__name__", MatchOp::Eq, key.measurement())?];
    for (k, v) in key.tags() {
        matchers.push(Matcher::new(k.as_str(), MatchOp::Eq, v.as_str())?);
    }
    Ok(Selector::new(matchers))
}

/// The `q` quantile of sorted `xs` (nearest rank).
fn percentile(xs: &[f64], q: f64) -> f64 {
    let rank = ((xs.len() as f64 * q).ceil() as usize).clamp(1, xs.len().max(1)) - 1;
    xs.get(rank).copied().unwrap_or(0.0)
}

/// Runs `bench last`.
pub fn run_last(ctx: &Context, args: &BenchLastArgs) -> CliResult {
    let sel = selector(&args.select)?;
    let engine = ctx.open_existing()?;
    let tenant = existing_tenant(&engine, &args.tenant)?;
    let mut micros = Vec::with_capacity(args.repeat as usize);
    let (mut series, mut ts_sum, mut value_sum) = (0usize, 0i64, 0f64);
    for _ in 0..args.repeat {
        let started = Instant::now();
        let latest = tenant.latest(&sel);
        micros.push(started.elapsed().as_secs_f64() * 1e6);
        series = latest.len();
        ts_sum = latest.iter().fold(0i64, |a, p| a.wrapping_add(p.point.ts));
        value_sum = latest.iter().map(|p| p.point.value.as_f64()).sum();
    }
    micros.sort_by(f64::total_cmp);
    let best = micros.first().copied().unwrap_or(0.0);
    let med = median(&micros);
    let p99 = percentile(&micros, 0.99);
    if args.json {
        let v = json!({
            "workload": "last",
            "tenant": args.tenant,
            "select": args.select,
            "series": series,
            "repeat": args.repeat,
            "best_us": best,
            "median_us": med,
            "p99_us": p99,
            "ts_sum": ts_sum,
            "value_sum": value_sum,
        });
        return print(&format!("{v}\n"));
    }
    print(&format!(
        "bench last: tenant {}, {series} series, best of {}\n  best {best:9.1} µs\n  \
         median {med:7.1} µs\n  p99 {p99:10.1} µs\n",
        args.tenant, args.repeat,
    ))
}
