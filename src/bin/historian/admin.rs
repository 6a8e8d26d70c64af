//! Housekeeping commands: `flush`, `stats`, `tenants` and `drop-tenant`.

use std::io::Write;
use std::time::Instant;

use historian::engine::StorageReport;
use historian::TenantStats;
use serde_json::json;

use crate::args::{DropTenantArgs, LossyArgs, StatsArgs, TenantReport};
use crate::context::{check_tenant_name, existing_tenant, tenants_of, Context};
use crate::error::{output_error, CliError, CliResult};

/// Prints `text` on stdout.
pub fn print(text: &str) -> CliResult {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| output_error("stdout", e))
}

/// Runs `flush` (the engine flushes every tenant; `--tenant` must exist).
pub fn run_flush(ctx: &Context, args: &TenantReport) -> CliResult {
    let engine = ctx.open_existing()?;
    let tenants = tenants_of(&engine, args.tenant.as_deref())?;
    let started = Instant::now();
    engine.flush()?;
    let seconds = started.elapsed().as_secs_f64();
    let names: Vec<&str> = tenants.iter().map(|t| t.name()).collect();
    if args.json {
        print(&format!(
            "{}\n",
            json!({"flushed": names, "seconds": seconds})
        ))
    } else {
        print(&format!(
            "flushed {} tenant(s) in {seconds:.3} s\n",
            names.len()
        ))
    }
}

/// Runs `stats`.
pub fn run_stats(ctx: &Context, args: &StatsArgs) -> CliResult {
    let engine = ctx.open_existing()?;
    let mut reports = Vec::new();
    for t in tenants_of(&engine, args.tenant.as_deref())? {
        reports.push((t.stats()?, t.storage_report()?));
    }
    if args.json {
        let tenants: Vec<_> = reports
            .iter()
            .map(|(s, r)| {
                let mut j = stats_json(s);
                j["storage"] = storage_json(r, args.series);
                j
            })
            .collect();
        return print(&format!("{}\n", json!({ "tenants": tenants })));
    }
    let mut text = String::new();
    for (s, r) in &reports {
        text.push_str(&stats_text(s));
        text.push_str(&storage_text(r, args.series));
    }
    if reports.is_empty() {
        text.push_str("no tenants\n");
    }
    print(&text)
}

/// One tenant's statistics as a JSON object (CLI.md field names).
pub fn stats_json(s: &TenantStats) -> serde_json::Value {
    json!({
        "tenant": s.tenant,
        "series": s.series,
        "points": s.points,
        "segments": s.segments,
        "bytes_on_disk": s.bytes_on_disk,
        "segment_bytes": s.segment_bytes,
        "bytes_per_point": s.bytes_per_point,
        "wal_bytes": s.wal_bytes,
        "memtable_points": s.memtable_points,
    })
}

/// One tenant's statistics as aligned text.
pub fn stats_text(s: &TenantStats) -> String {
    format!(
        "tenant {}\n  series           {}\n  points           {}\n  segments         {}\n  \
         bytes_on_disk    {}\n  segment_bytes    {}\n  bytes_per_point  {:.3}\n  \
         wal_bytes        {}\n  memtable_points  {}\n",
        s.tenant,
        s.series,
        s.points,
        s.segments,
        s.bytes_on_disk,
        s.segment_bytes,
        s.bytes_per_point,
        s.wal_bytes,
        s.memtable_points
    )
}

fn per_point(bytes: u64, points: u64) -> f64 {
    if points == 0 {
        0.0
    } else {
        bytes as f64 / points as f64
    }
}

/// The storage breakdown as JSON: byte totals, codec mix, optionally series.
fn storage_json(r: &StorageReport, with_series: bool) -> serde_json::Value {
    let codecs: Vec<_> = r
        .codecs
        .iter()
        .map(|c| {
            json!({
                "role": c.role, "codec": c.codec, "blocks": c.blocks, "points": c.points,
                "bytes": c.bytes, "bytes_per_point": per_point(c.bytes, c.points),
            })
        })
        .collect();
    let mut j = json!({
        "timestamp_bytes": r.ts_bytes,
        "shared_timestamp_blocks": r.shared_ts_blocks,
        "value_bytes": r.value_bytes,
        "quality_bytes": r.quality_bytes,
        "block_overhead_bytes": r.block_overhead_bytes,
        "file_overhead_bytes": r.file_overhead_bytes,
        "v1_blocks": r.v1_blocks,
        "codecs": codecs,
    });
    if with_series {
        j["series"] = r
            .series
            .iter()
            .map(|s| {
                json!({
                    "series": s.key, "type": s.value_type.name(), "lossy": s.lossy,
                    "points": s.points, "blocks": s.blocks, "bytes": s.bytes,
                    "bytes_per_point": s.bytes_per_point(),
                })
            })
            .collect();
    }
    j
}

/// The storage breakdown as aligned text.
fn storage_text(r: &StorageReport, with_series: bool) -> String {
    let points: u64 = r.series.iter().map(|s| s.points).sum();
    let mut t = format!(
        "  stored bytes per point: timestamps {:.3}, values {:.3}, qualities {:.3}, \
         block headers {:.3}, file index {:.3}\n  codecs (role codec: blocks, bytes/point)\n",
        per_point(r.ts_bytes, points),
        per_point(r.value_bytes, points),
        per_point(r.quality_bytes, points),
        per_point(r.block_overhead_bytes, points),
        per_point(r.file_overhead_bytes, points),
    );
    for c in &r.codecs {
        t.push_str(&format!(
            "    {:<10} {:<14} {:>8} blocks  {:>7.3} B/pt\n",
            c.role,
            c.codec,
            c.blocks,
            per_point(c.bytes, c.points)
        ));
    }
    if r.v1_blocks > 0 {
        t.push_str(&format!("    {} blocks of format v1\n", r.v1_blocks));
    }
    if with_series {
        t.push_str("  series (bytes/point, points, lossy)\n");
        for s in &r.series {
            t.push_str(&format!(
                "    {:>7.3}  {:>10}  {:<20} {}\n",
                s.bytes_per_point(),
                s.points,
                s.lossy.as_deref().unwrap_or("-"),
                s.key
            ));
        }
    }
    t
}

/// Runs `lossy`: sets or clears one rule, then lists the rules.
pub fn run_lossy(ctx: &Context, args: &LossyArgs) -> CliResult {
    check_tenant_name(&args.tenant)?;
    let change = args.set.is_some() || args.clear;
    let engine = if change {
        ctx.open()?
    } else {
        ctx.open_existing()?
    };
    let tenant = if change {
        engine.tenant(&args.tenant)?
    } else {
        existing_tenant(&engine, &args.tenant)?
    };
    if change {
        let Some(sel) = args.select.as_deref() else {
            return Err(CliError::usage("--set and --clear need --select"));
        };
        let lossy = match args.set.as_deref() {
            Some(spec) => Some(
                historian::codec::lossy::Lossy::parse(spec)
                    .map_err(|e| CliError::usage(format!("--set {spec}: {e}")))?,
            ),
            None => None,
        };
        tenant.set_lossy(sel, lossy)?;
    }
    let rules = tenant.lossy_rules();
    if args.json {
        let rules: Vec<_> = rules
            .iter()
            .map(|r| json!({"select": r.selector, "lossy": r.lossy.to_string(), "bound": r.lossy.bound()}))
            .collect();
        return print(&format!(
            "{}\n",
            json!({ "tenant": args.tenant, "rules": rules })
        ));
    }
    let mut text = String::new();
    for r in &rules {
        text.push_str(&format!("{}\t{}\n", r.selector, r.lossy));
    }
    if rules.is_empty() {
        text.push_str("no lossy rules: every series is stored exactly\n");
    }
    print(&text)
}

/// Runs `tenants`.
pub fn run_tenants(ctx: &Context) -> CliResult {
    let engine = ctx.open_existing()?;
    let mut text = String::new();
    for name in engine.tenants() {
        text.push_str(&name);
        text.push('\n');
    }
    print(&text)
}

/// Runs `drop-tenant` (refused without `--yes`).
pub fn run_drop(ctx: &Context, args: &DropTenantArgs) -> CliResult {
    check_tenant_name(&args.tenant)?;
    if !args.yes {
        return Err(CliError::usage(format!(
            "drop-tenant deletes tenant {:?} and all its data; add --yes to confirm",
            args.tenant
        )));
    }
    let engine = ctx.open_existing()?;
    engine.drop_tenant(&args.tenant)?;
    print(&format!("dropped tenant {}\n", args.tenant))
}
