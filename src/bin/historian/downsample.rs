//! `historian downsample`: fixed-window aggregates of the selected series (CLI.md),
//! streamed piece by piece from the library's [`historian::query::Downsample`]
//! iterator, so memory stays bounded however many windows the answer has.

use historian::query::{Agg, DownsampleRequest, Fill};
use historian::text::time::parse_duration;

use crate::args::DownsampleArgs;
use crate::context::{check_tenant_name, existing_tenant, selector, time_flag, Context};
use crate::error::{CliError, CliResult};
use crate::output;

/// Runs `downsample`.
pub fn run_downsample(ctx: &Context, args: &DownsampleArgs) -> CliResult {
    output::check(&args.output)?;
    check_tenant_name(&args.tenant)?;
    let req = request(args)?;
    let engine = ctx.open_existing()?;
    let tenant = existing_tenant(&engine, &args.tenant)?;
    let ds = tenant.downsample(&req).map_err(bad_request)?;
    output::write_windows(ds, &args.output)
}

/// The library request for the flags; every flag is checked before the data
/// directory is opened (exit 2 naming the flag).
pub fn request(args: &DownsampleArgs) -> CliResult<DownsampleRequest> {
    let sel = selector(&args.select)?;
    let every = parse_duration(&args.every).map_err(|e| CliError::flag("--every", e))?;
    let aggs = Agg::parse_list(&args.agg).map_err(|e| CliError::flag("--agg", e))?;
    let fill: Fill = args.fill.parse().map_err(|e| CliError::flag("--fill", e))?;
    let max_gap = args
        .max_gap
        .as_deref()
        .map(parse_duration)
        .transpose()
        .map_err(|e| CliError::flag("--max-gap", e))?;
    let from = args
        .from
        .as_deref()
        .map(|v| time_flag("--from", Some(v), 0));
    let to = args.to.as_deref().map(|v| time_flag("--to", Some(v), 0));
    let origin = time_flag("--origin", args.origin.as_deref(), 0)?;
    let req = DownsampleRequest::new(sel, every, &aggs)
        .with_range(from.transpose()?, to.transpose()?)
        .with_origin(origin)
        .with_by(args.by.iter().filter(|t| !t.is_empty()).cloned())
        .with_fill(fill)
        .with_max_gap(max_gap)
        .with_threads(usize::try_from(args.threads).unwrap_or(0));
    req.validate().map_err(bad_request)?;
    Ok(req)
}

/// A refused request exits 2; anything else keeps its status.
fn bad_request(e: historian::Error) -> CliError {
    if e.is_bad_argument() {
        CliError::usage(e.to_string())
    } else {
        CliError::from(e)
    }
}
