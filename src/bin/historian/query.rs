//! `historian query` (raw points in a range) and `historian last` (the latest point of
//! each series). Both print series sorted by key, points by time.

use historian::{Columns, Selector, SeriesData, Tenant};

use crate::args::{LastArgs, QueryArgs};
use crate::context::{check_tenant_name, existing_tenant, selector, time_flag, Context};
use crate::error::CliResult;
use crate::output;

/// Runs `query`.
pub fn run_query(ctx: &Context, args: &QueryArgs) -> CliResult {
    output::check(&args.output)?;
    check_tenant_name(&args.tenant)?;
    let sel = selector(&args.select)?;
    let from = time_flag("--from", args.from.as_deref(), i64::MIN)?;
    let to = time_flag("--to", args.to.as_deref(), i64::MAX)?;
    let engine = ctx.open_existing()?;
    let tenant = existing_tenant(&engine, &args.tenant)?;
    let data = tenant.scan_all(&sel, from, to)?;
    output::write(&data, &args.output)
}

/// Runs `last`.
pub fn run_last(ctx: &Context, args: &LastArgs) -> CliResult {
    output::check(&args.output)?;
    check_tenant_name(&args.tenant)?;
    let sel = selector(&args.select)?;
    let engine = ctx.open_existing()?;
    let tenant = existing_tenant(&engine, &args.tenant)?;
    output::write(&last_rows(&tenant, &sel)?, &args.output)
}

/// The latest point of each series matching `sel`, one row per series.
pub fn last_rows(tenant: &Tenant, sel: &Selector) -> historian::Result<Vec<SeriesData>> {
    Ok(tenant
        .last(sel)?
        .into_iter()
        .map(|(key, value_type, p)| {
            let mut cols = Columns::with_capacity(1);
            cols.push(p.ts, p.value.to_bits(), p.quality);
            SeriesData {
                key,
                value_type,
                cols,
                lossy: None,
            }
        })
        .collect())
}
