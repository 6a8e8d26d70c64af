//! `dataset` (cut a training set, or `--verify` one) and `pin` (pinned
//! snapshots to cut reproducible sets from).
//!
//! The spec is read, parsed and checked, and the output directory found
//! absent or empty, before the data directory is opened: a bad spec exits 2
//! without reading any point.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

use historian::dataset::{
    self, BuildOptions, DatasetError, DatasetSpec, Manifest, Progress, MANIFEST_FILE,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::admin::print;
use crate::args::{DatasetArgs, PinArgs};
use crate::context::{existing_tenant, Context};
use crate::error::{CliError, CliResult, EXIT_CORRUPTION, EXIT_USAGE};

/// Maps a dataset error to the CLI's exit statuses.
fn dataset_error(e: DatasetError) -> CliError {
    let code = if e.is_corruption() {
        EXIT_CORRUPTION
    } else if e.is_bad_argument() {
        EXIT_USAGE
    } else {
        crate::error::EXIT_FAILURE
    };
    CliError {
        code,
        message: e.to_string(),
    }
}

/// Runs `dataset`.
pub fn run_dataset(ctx: &Context, args: &DatasetArgs) -> CliResult {
    if let Some(dir) = &args.verify {
        return verify(dir, args.json);
    }
    let (Some(tenant), Some(spec_path), Some(out)) = (&args.tenant, &args.spec, &args.out) else {
        return Err(CliError::usage(
            "give --tenant, --spec and --out, or --verify DIR",
        ));
    };
    let text = std::fs::read_to_string(spec_path)
        .map_err(|e| CliError::usage(format!("--spec {}: {e}", spec_path.display())))?;
    let spec = DatasetSpec::from_toml(&text)
        .and_then(|s| dataset::validate(&s).map(|()| s))
        .map_err(|e| dataset_error(e).context(format!("--spec {}", spec_path.display())))?;
    check_out(out)?;
    let engine = ctx.open_existing()?;
    let t = existing_tenant(&engine, tenant)?;
    let bar = progress_bar();
    let on_progress = |p: Progress<'_>| show(&bar, p);
    let opts = BuildOptions {
        pin: args.pin.as_deref(),
        progress: Some(&on_progress),
        sync: !args.no_sync,
    };
    let started = Instant::now();
    let m = dataset::build_with(&t, &spec, out, opts).map_err(|e| match e {
        DatasetError::Engine(historian::Error::PinNotFound { .. }) => {
            CliError::usage(format!("--pin: {e}"))
        }
        e => dataset_error(e),
    })?;
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    report(out, &m, seconds, args.json)
}

/// The output directory must be absent or empty (checked again by the
/// library; here so that the error comes before the engine opens).
fn check_out(out: &Path) -> CliResult {
    match std::fs::read_dir(out).map(|mut entries| entries.next().is_some()) {
        Ok(true) => Err(CliError::usage(format!(
            "--out {}: the directory is not empty",
            out.display()
        ))),
        Ok(false) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CliError::usage(format!("--out {}: {e}", out.display()))),
    }
}

/// A two-phase bar (series read, files written) on a terminal; hidden otherwise.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {prefix:8} [{bar:40}] {pos}/{len} {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn show(bar: &ProgressBar, p: Progress<'_>) {
    match p {
        Progress::Read {
            done,
            total,
            points,
        } => {
            bar.set_prefix("reading");
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(format!("series, {points} points"));
        }
        Progress::Write { file, done, total } => {
            bar.set_prefix("writing");
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(file.to_string());
        }
    }
}

fn report(out: &Path, m: &Manifest, seconds: f64, as_json: bool) -> CliResult {
    let bytes: u64 = m.files.iter().map(|f| f.bytes).sum();
    let per_s = m.source_points as f64 / seconds.max(1e-9);
    let windows: Vec<(String, u64)> = m
        .splits
        .iter()
        .map(|s| (s.split.name().to_string(), s.counts.windows))
        .collect();
    if as_json {
        let w: serde_json::Map<String, serde_json::Value> =
            windows.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let v = json!({
            "out": out.display().to_string(),
            "seq": m.snapshot.seq,
            "pin": m.snapshot.pin,
            "windows": w,
            "unassigned_windows": m.unassigned_windows,
            "channels": m.channels.len(),
            "source_points": m.source_points,
            "files": m.files.len() + 1,
            "bytes": bytes,
            "seconds": seconds,
            "points_per_s": per_s,
        });
        return print(&format!("{v}\n"));
    }
    let counts: Vec<String> = windows.iter().map(|(k, v)| format!("{v} {k}")).collect();
    let pin = m
        .snapshot
        .pin
        .as_ref()
        .map(|p| format!(", pin {p}"))
        .unwrap_or_default();
    print(&format!(
        "windows: {} ({} unassigned), {} channels x {} steps\n\
         read {} source points (snapshot seq {}{pin}) and wrote {} files of {} bytes and \
         the manifest in {seconds:.3} s: {} source points/s\n\
         manifest: {}\n",
        counts.join(", "),
        m.unassigned_windows,
        m.channels.len(),
        m.grid.window_length,
        m.source_points,
        m.snapshot.seq,
        m.files.len(),
        bytes,
        rate(per_s),
        out.join(MANIFEST_FILE).display(),
    ))
}

/// A rate with three significant figures in the unit that fits it ("10.6 M",
/// "52.3 k", "812"): a small set read in a millisecond is not "0.0 M".
fn rate(per_s: f64) -> String {
    let (v, unit) = match per_s {
        r if r >= 1e9 => (r / 1e9, " G"),
        r if r >= 1e6 => (r / 1e6, " M"),
        r if r >= 1e3 => (r / 1e3, " k"),
        r => (r, ""),
    };
    let decimals = match v {
        v if v >= 100.0 => 0,
        v if v >= 10.0 => 1,
        _ => 2,
    };
    format!("{v:.decimals$}{unit}")
}

fn verify(dir: &Path, as_json: bool) -> CliResult {
    let m = dataset::verify(dir).map_err(dataset_error)?;
    let bytes: u64 = m.files.iter().map(|f| f.bytes).sum();
    if as_json {
        let v = json!({"ok": true, "files": m.files.len(), "bytes": bytes});
        return print(&format!("{v}\n"));
    }
    print(&format!(
        "ok: {} files, {bytes} bytes match {}\n",
        m.files.len(),
        dir.join(MANIFEST_FILE).display()
    ))
}

/// Runs `pin`.
pub fn run_pin(ctx: &Context, args: &PinArgs) -> CliResult {
    let engine = ctx.open_existing()?;
    let t = existing_tenant(&engine, &args.tenant)?;
    if let Some(name) = &args.release {
        t.release(name)
            .map_err(|e| CliError::flag("--release", e))?;
        return if args.json {
            print(&format!("{}\n", json!({"released": name})))
        } else {
            print(&format!("released {name}\n"))
        };
    }
    if let Some(name) = &args.name {
        let p = t.pin(name).map_err(|e| CliError::flag("NAME", e))?;
        return if args.json {
            let v =
                json!({"pin": p.name, "seq": p.seq, "segments": p.segments, "points": p.points});
            print(&format!("{v}\n"))
        } else {
            print(&format!(
                "pinned {} at seq {}: {} points in {} segments\n",
                p.name, p.seq, p.points, p.segments
            ))
        };
    }
    let pins = t.pins();
    if args.json {
        let list: Vec<_> = pins
            .iter()
            .map(|p| json!({"pin": p.name, "seq": p.seq, "segments": p.segments, "points": p.points}))
            .collect();
        return print(&format!("{}\n", json!({ "pins": list })));
    }
    let mut text = String::new();
    for p in &pins {
        text.push_str(&format!(
            "{}\tseq {}\t{} points\t{} segments\n",
            p.name, p.seq, p.points, p.segments
        ));
    }
    print(&text)
}

#[cfg(test)]
mod tests {
    use super::rate;

    #[test]
    fn rates_keep_three_figures_in_their_unit() {
        assert_eq!(rate(10_612_345.0), "10.6 M");
        assert_eq!(rate(52_345.0), "52.3 k");
        assert_eq!(rate(812.4), "812");
        assert_eq!(rate(3.25), "3.25");
        assert_eq!(rate(1.5e9), "1.50 G");
        assert_eq!(rate(0.0), "0.00");
    }
}
