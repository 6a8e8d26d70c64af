//! `historian verify`: reads every file of the data directory and checks every
//! checksum and manifest reference, without opening (and so without repairing) the
//! engine. Corruption exits 3 naming the file and the offset.

use std::sync::Arc;
use std::time::Instant;

use historian::verify::{verify_dir, VerifyReport};
use historian::vfs::{StdFs, Vfs};
use historian::Error;
use serde_json::json;

use crate::admin::print;
use crate::args::TenantReport;
use crate::context::{check_tenant_name, Context};
use crate::error::{CliError, CliResult, EXIT_CORRUPTION};

/// Runs `verify`.
pub fn run_verify(ctx: &Context, args: &TenantReport) -> CliResult {
    ctx.require_data_dir()?;
    if let Some(t) = &args.tenant {
        check_tenant_name(t)?;
        if !ctx.data_dir.join("tenants").join(t).is_dir() {
            return Err(Error::TenantNotFound(t.clone()).into());
        }
    }
    let fs = StdFs::new(&ctx.data_dir).map_err(|e| CliError::io(ctx.data_dir.display(), e))?;
    let vfs: Arc<dyn Vfs> = Arc::new(fs);
    let started = Instant::now();
    match verify_dir(&vfs, args.tenant.as_deref()) {
        Ok(report) => print_ok(&report, started.elapsed().as_secs_f64(), args.json),
        Err(Error::Corruption { file, offset, kind }) => {
            let path = ctx.data_dir.join(&file).display().to_string();
            if args.json {
                let v = json!({"ok": false, "file": path, "offset": offset,
                               "error": kind.to_string()});
                print(&format!("{v}\n"))?;
            }
            Err(CliError {
                code: EXIT_CORRUPTION,
                message: format!("corruption in {path} at offset {offset}: {kind}"),
            })
        }
        Err(e) => Err(e.into()),
    }
}

fn print_ok(r: &VerifyReport, seconds: f64, json: bool) -> CliResult {
    if json {
        let v = json!({
            "ok": true,
            "tenants": r.tenants,
            "segments": r.segments,
            "segment_points": r.segment_points,
            "wal_files": r.wal_files,
            "wal_records": r.wal_records,
            "orphan_files": r.orphan_files,
            "seconds": seconds,
        });
        return print(&format!("{v}\n"));
    }
    let mut text = format!(
        "ok: {} tenant(s), {} segment(s) with {} points, {} WAL file(s) with {} records \
         ({seconds:.3} s)\n",
        r.tenants, r.segments, r.segment_points, r.wal_files, r.wal_records
    );
    for f in &r.orphan_files {
        text.push_str(&format!(
            "note: {f} is named by no manifest (removed at next open)\n"
        ));
    }
    print(&text)
}
