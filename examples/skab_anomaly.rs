//! Builds an anomaly-detection training set from the SKAB recordings
//! (Skoltech Anomaly Benchmark, `../shared/data/skab`, GPL: read in place,
//! never copied into the repository):
//!
//! ```sh
//! cargo run --release --example skab_anomaly [-- OUT_DIR]
//! ```
//!
//! Every recording of `valve1/` is imported into a fresh engine as series
//! tagged with its file (`Pressure{file="valve1_3"}`, ...); the tenant is
//! pinned, and the set of `examples/skab_anomaly.toml` is cut from the pin:
//! recording 0's 8 sensors on a 1 s grid (linear, 3 s max gap), windows of
//! 60 s every 5 s labelled `any` from its `anomaly` column, split 0.6 / 0.2
//! / 0.2 by time with a 1 min embargo, z-scored with training statistics,
//! written as `.npy` and wide Parquet. Load it with NumPy:
//!
//! ```python
//! import numpy as np
//! X, m, y = (np.load(f"OUT_DIR/{n}_train.npy") for n in ("X", "mask", "y"))
//! ```
//!
//! The TOML file also shows the same steps with the CLI.

use std::error::Error;
use std::path::{Path, PathBuf};

use historian::dataset::{self, BuildOptions, Dataset, DatasetSpec, Progress, Split};
use historian::text::time::{parse_timestamp, Timezone};
use historian::{Durability, Engine, Options, SeriesKey, Tenant, Value, WriteBatch};

/// Imports one SKAB CSV (`datetime;sensors...;anomaly;changepoint`).
fn import(t: &Tenant, csv: &Path, file_tag: &str) -> Result<usize, Box<dyn Error>> {
    let text = std::fs::read_to_string(csv)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("empty file")?.split(';').collect();
    let keys = header
        .iter()
        .skip(1)
        .map(|name| SeriesKey::new(*name, [("file", file_tag)]))
        .collect::<Result<Vec<_>, _>>()?;
    let mut batch = WriteBatch::new();
    let mut rows = 0;
    for (n, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(';').collect();
        let at = |what: &str| format!("{}:{}: {what}", csv.display(), n + 2);
        let ts = parse_timestamp(cells.first().ok_or_else(|| at("no time"))?, Timezone::UTC)?;
        for (key, cell) in keys.iter().zip(cells.iter().skip(1)) {
            let v: f64 = cell
                .parse()
                .map_err(|_| at(&format!("bad number {cell:?}")))?;
            batch.push_value(key, ts, Value::F64(v))?;
        }
        rows += 1;
    }
    t.write(&batch)?;
    Ok(rows)
}

fn main() -> Result<(), Box<dyn Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/skab/valve1");
    if !root.is_dir() {
        println!(
            "skipped: {} is absent (the SKAB data is not in the repository)",
            root.display()
        );
        return Ok(());
    }
    let out: PathBuf = match std::env::args().nth(1) {
        Some(dir) => dir.into(),
        None => std::env::temp_dir().join(format!("skab-anomaly-{}", std::process::id())),
    };
    let data = tempfile::tempdir()?;
    let engine = Engine::open(
        data.path(),
        Options::default().with_durability(Durability::None),
    )?;
    let tenant = engine.tenant("skab")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    let mut rows = 0;
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "csv"))
    {
        let stem = f
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or("bad file name")?;
        rows += import(&tenant, f, &format!("valve1_{stem}"))?;
    }
    let pin = tenant.pin("skab-anomaly-v1")?;
    println!(
        "imported {rows} rows of {} files; pinned at seq {}",
        files.len(),
        pin.seq
    );

    let spec_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/skab_anomaly.toml");
    let spec = DatasetSpec::from_toml(&std::fs::read_to_string(spec_path)?)?;
    let progress = |p: Progress<'_>| {
        if let Progress::Write { file, done, total } = p {
            eprint!("\rwriting {done}/{total} {file:<24}");
        }
    };
    let opts = BuildOptions {
        pin: Some("skab-anomaly-v1"),
        progress: Some(&progress),
        ..BuildOptions::default()
    };
    let ds = Dataset::cut_with(&tenant, &spec, opts)?;
    for split in Split::ALL {
        let w = ds.windows_in(split);
        let anomalous = w.iter().filter(|w| w.label == Some(1.0)).count();
        println!(
            "{:<10} {:>4} windows, {anomalous:>4} with an anomaly",
            split.name(),
            w.len()
        );
    }
    let m = ds.write_with(&out, opts)?;
    eprintln!();
    println!(
        "wrote {} files to {} (check them: historian dataset --verify {})",
        m.files.len() + 1,
        out.display(),
        out.display()
    );
    dataset::verify(&out)?;
    Ok(())
}
