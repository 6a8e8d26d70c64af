//! The float codecs on real sensor data: every column of every SKAB file (Skoltech
//! Anomaly Benchmark, shared/data), cut into blocks of 1,024 values as the engine
//! cuts a series, must round-trip bit-exactly through `codec::floats`. Prints, per
//! column, the bytes per value the chooser reaches and the codecs it picked, beside
//! ALP alone, pco alone per block and pco on the whole column (the best pcodec
//! does with no block boundaries). The data is GPL-licensed and lives outside the
//! repository; without it the test prints why and passes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use historian::codec::{alp, floats, pco_block, BLOCK_LEN};

/// Prints past libtest's output capture, so the table shows in every CI log.
macro_rules! report {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Columns in file order, with pcodec's bytes/value on the whole column (the brief's
/// reference figures).
const COLUMNS: [(&str, f64); 10] = [
    ("Accelerometer1RMS", 1.89),
    ("Accelerometer2RMS", 2.01),
    ("Current", 2.61),
    ("Pressure", 0.345),
    ("Temperature", 1.80),
    ("Thermocouple", 1.21),
    ("Voltage", 2.07),
    ("Volume Flow RateRMS", 0.89),
    ("anomaly", 0.16),
    ("changepoint", 0.04),
];

fn skab_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/skab")
}

/// column name → one Vec of value bits per file.
fn load(root: &Path) -> BTreeMap<String, Vec<Vec<u64>>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .flat_map(|d| std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()))
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    let mut cols: BTreeMap<String, Vec<Vec<u64>>> = BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut rows = text.lines();
        let header: Vec<&str> = rows.next().unwrap().split(';').map(str::trim).collect();
        let mut per: Vec<Vec<u64>> = vec![Vec::new(); header.len()];
        for row in rows.filter(|r| !r.trim().is_empty()) {
            for (i, cell) in row.split(';').enumerate().skip(1) {
                let cell = cell.trim();
                if !cell.is_empty() {
                    per[i].push(cell.parse::<f64>().unwrap().to_bits());
                }
            }
        }
        for (name, vals) in header.iter().zip(per).skip(1) {
            cols.entry(name.to_string()).or_default().push(vals);
        }
    }
    cols
}

#[derive(Default)]
struct Tally {
    n: usize,
    chosen: usize,
    alp: usize,
    pco: usize,
    mix: BTreeMap<&'static str, usize>,
    encode_s: f64,
}

fn tally(files: &[Vec<u64>]) -> Tally {
    let mut t = Tally::default();
    let mut out = vec![0u64; BLOCK_LEN];
    for block in files.iter().flat_map(|f| f.chunks(BLOCK_LEN)) {
        let mut s = Vec::new();
        let start = Instant::now();
        floats::encode(block, &mut s);
        t.encode_s += start.elapsed().as_secs_f64();
        let got = &mut out[..block.len()];
        floats::decode(&s, 0, got).unwrap();
        assert!(got.iter().zip(block).all(|(a, b)| a == b), "round trip");
        let id = floats::codec_of(&s).unwrap();
        *t.mix.entry(id.name()).or_default() += 1;
        t.chosen += s.len();
        t.n += block.len();
        let mut a = Vec::new();
        alp::encode(block, &mut a);
        t.alp += a.len();
        let mut p = Vec::new();
        pco_block::encode(block, &mut p).unwrap();
        t.pco += p.len();
    }
    t
}

#[test]
fn skab_columns_round_trip_and_compress() {
    let root = skab_dir();
    if !root.is_dir() {
        report!("SKAB data not found at {}: skipping", root.display());
        return;
    }
    let cols = load(&root);
    report!(
        "{:<20} {:>6} {:>7} {:>7} {:>7} {:>7} {:>7} {:>6}  codecs (blocks)",
        "column",
        "values",
        "chosen",
        "alp",
        "pco/blk",
        "pco/col",
        "pcodec",
        "enc us"
    );
    let (mut total, mut total_ref, mut total_n, mut blocks, mut enc_s) = (0.0, 0.0, 0, 0, 0.0);
    for (name, pcodec) in COLUMNS {
        let files = cols
            .get(name)
            .unwrap_or_else(|| panic!("column {name} missing"));
        let t = tally(files);
        let whole: Vec<f64> = files.iter().flatten().map(|b| f64::from_bits(*b)).collect();
        let config = pco::ChunkConfig::default();
        let whole = pco::standalone::simple_compress(&whole, &config)
            .unwrap()
            .len();
        let per = |b: usize| b as f64 / t.n as f64;
        let nblocks: usize = t.mix.values().sum();
        report!(
            "{:<20} {:>6} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>6.1}  {:?}",
            name,
            t.n,
            per(t.chosen),
            per(t.alp),
            per(t.pco),
            per(whole),
            pcodec,
            t.encode_s * 1e6 / nblocks as f64,
            t.mix
        );
        total += t.chosen as f64;
        total_ref += pcodec * t.n as f64;
        total_n += t.n;
        blocks += nblocks;
        enc_s += t.encode_s;
    }
    report!(
        "overall: chosen {:.3} B/value vs pcodec reference {:.3} B/value; encode {:.1} us/block",
        total / total_n as f64,
        total_ref / total_n as f64,
        enc_s * 1e6 / blocks as f64
    );
    // The goal: no bigger than pcodec on whole columns, with 1,024-value blocks.
    assert!(total <= total_ref, "{total} bytes > pcodec's {total_ref}");
}
