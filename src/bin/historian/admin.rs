//! Housekeeping commands: `flush`, `stats`, `tenants` and `drop-tenant`.

use std::io::Write;
use std::time::Instant;

use historian::TenantStats;
use serde_json::json;

use crate::args::{DropTenantArgs, TenantReport};
use crate::context::{check_tenant_name, tenants_of, Context};
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
pub fn run_stats(ctx: &Context, args: &TenantReport) -> CliResult {
    let engine = ctx.open_existing()?;
    let stats = tenants_of(&engine, args.tenant.as_deref())?
        .iter()
        .map(|t| t.stats())
        .collect::<Result<Vec<_>, _>>()?;
    if args.json {
        let tenants: Vec<_> = stats.iter().map(stats_json).collect();
        return print(&format!("{}\n", json!({ "tenants": tenants })));
    }
    let mut text = String::new();
    for s in &stats {
        text.push_str(&stats_text(s));
    }
    if stats.is_empty() {
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
