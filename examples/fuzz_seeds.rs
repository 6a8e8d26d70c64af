//! Writes the fuzz seed corpus (`fuzz/corpus/<target>/seed-*`) from files the engine
//! itself writes, on a `SimFs` so the output is byte-for-byte deterministic:
//! WAL frames, segment files and manifests of a small multi-tenant workload, plus
//! selectors and the canonical text of every series key written.
//!
//! `cargo run --example fuzz_seeds` (rerun after a format change; commit the result).

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use historian::vfs::{SimFs, Vfs};
use historian::wal::{decode_frame, WAL_HEADER_LEN};
use historian::{Engine, Options, Point, SeriesKey, Value, WriteBatch};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const TARGETS: [&str; 4] = [
    "wal_record_decode",
    "segment_open_scan",
    "manifest_decode",
    "selector_parse",
];

const SELECTORS: [&str; 10] = [
    "*",
    "temperature",
    r#"temperature{machine="press-07",line=~"L[12]"}"#,
    r#"{__name__=~"Acc.*",machine!="m2"}"#,
    r#" { __name__ = "Volume Flow RateRMS" , } "#,
    r#"m{k=~"a\.b",j!~'x|y',q="a\"b"}"#,
    "ns:metric_1",
    r#"{__name__="Temperature °C",site="Zürich"}"#,
    r#"vib{axis="x",machine="m1"}"#,
    r#"m{k=~"(a|b)+c{2,3}"}"#,
];

fn main() -> Res<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    clear_seeds(&root)?;
    let fs = SimFs::new();
    let opts = Options::default()
        .with_vfs(Arc::new(fs.clone()))
        .with_background_flush(false);
    let engine = Engine::open("seeds", opts)?;
    let mut keys = Vec::new();
    let mut seen = HashSet::new();
    for (round, batch) in batches()?.iter().enumerate() {
        let tenant = engine.tenant(if round % 2 == 0 { "acme" } else { "globex" })?;
        tenant.write(batch)?;
        keys.extend(batch.series().iter().map(|s| s.key.to_string()));
        if round == 1 {
            save_wal(&fs, &root.join("wal_record_decode"))?;
        }
        engine.flush()?;
        save_files(&fs, &root, &format!("r{round}"), &mut seen)?;
    }
    let selectors = root.join("selector_parse");
    std::fs::create_dir_all(&selectors)?;
    let texts = SELECTORS.iter().map(|s| s.to_string()).chain(keys);
    let unique = texts.filter(|t| seen.insert(t.as_bytes().to_vec()));
    for (i, text) in unique.enumerate() {
        std::fs::write(selectors.join(format!("seed-{i:02}")), text)?;
    }
    Ok(())
}

/// Batches covering each value type, qualities, special floats, out-of-order and
/// duplicate timestamps, and (last) multi-block series with compressible values.
fn batches() -> Res<Vec<WriteBatch>> {
    let temp = SeriesKey::new("temperature", [("machine", "press-07"), ("line", "L1")])?;
    let count = SeriesKey::new("count", [("machine", "m1")])?;
    let ok = SeriesKey::new("ok", Vec::<(String, String)>::new())?;
    let odd = SeriesKey::new("Temperature °C", [("site", "Zürich"), ("q", "a\"b\\c")])?;
    let mut a = WriteBatch::new();
    a.push_value(&temp, 1_600_000_000_000_000_000, Value::F64(21.5))?;
    let specials = [f64::NAN, -0.0, f64::INFINITY, 5e-324, f64::MAX];
    a.extend_f64(&odd, &[-5, 0, 7, 3, 7], &specials)?;
    let mut b = WriteBatch::new();
    b.push(
        &count,
        Point {
            ts: i64::MIN,
            value: Value::I64(-1),
            quality: Some(192),
        },
    )?;
    b.push_value(&count, i64::MAX, Value::I64(i64::MIN))?;
    b.push_value(&ok, 10, Value::Bool(true))?;
    b.push_value(&ok, 20, Value::Bool(false))?;
    let mut c = WriteBatch::new();
    let ts: Vec<i64> = (0..2500).map(|i| i * 1_000_000_000).collect();
    c.extend_f64(&temp, &ts, &vec![20.0; ts.len()])?;
    let noisy: Vec<f64> = ts.iter().map(|&t| (t as f64 * 1e-9).sin()).collect();
    c.extend_f64(&odd, &ts[..1100], &noisy[..1100])?;
    Ok(vec![a, b, c])
}

/// Each WAL frame on its own, and the frames of each file back to back.
fn save_wal(fs: &SimFs, dir: &Path) -> Res<()> {
    std::fs::create_dir_all(dir)?;
    for (f, path) in fs
        .file_paths()
        .iter()
        .filter(|p| p.ends_with(".wal"))
        .enumerate()
    {
        let bytes = fs.read_all(path)?;
        let frames = bytes.get(WAL_HEADER_LEN..).unwrap_or_default();
        std::fs::write(dir.join(format!("seed-file{f}")), frames)?;
        let mut at = 0;
        while let Some(rest) = frames.get(at..).filter(|r| !r.is_empty()) {
            let (_, len) = decode_frame(rest, at as u64).map_err(|e| format!("{e:?}"))?;
            std::fs::write(dir.join(format!("seed-file{f}-at{at}")), &rest[..len])?;
            at += len;
        }
    }
    Ok(())
}

/// Removes the seeds of an earlier run (inputs found by fuzzing are kept).
fn clear_seeds(root: &Path) -> Res<()> {
    for target in TARGETS {
        let Ok(entries) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("seed-"))
            {
                std::fs::remove_file(path)?;
            }
        }
    }
    Ok(())
}

/// Every segment file and manifest on the file system not saved before, named by
/// round and path.
fn save_files(fs: &SimFs, root: &Path, round: &str, seen: &mut HashSet<Vec<u8>>) -> Res<()> {
    for path in fs.file_paths() {
        let target = if path.ends_with(".seg") {
            "segment_open_scan"
        } else if path.ends_with("/MANIFEST") {
            "manifest_decode"
        } else {
            continue;
        };
        let bytes = fs.read_all(&path)?;
        if !seen.insert(bytes.clone()) {
            continue;
        }
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        let name = format!("seed-{round}-{}", path.replace('/', "-"));
        std::fs::write(dir.join(name), bytes)?;
    }
    Ok(())
}
