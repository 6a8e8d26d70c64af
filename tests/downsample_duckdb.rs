//! Downsample against an independent engine (issue 4). Every SKAB recording
//! (Skoltech Anomaly Benchmark, `../shared/data/skab`: 21 files, 208 series,
//! 299,960 points) is imported with the `historian` CLI, one `file` tag per file,
//! and `Tenant::downsample` computes count, sum, mean, min, max, first, last and
//! stddev of every series over all time in windows of 1 s, 10 s, 1 min and 1 h.
//! DuckDB computes the same windows from the raw CSV files
//! (`tests/py/downsample_duckdb.py`; it never sees historian's output), and
//! every window of every series must agree:
//!
//! * the same (series, window) rows: none missing, none extra;
//! * count, min, max, first and last exactly (floats bit for bit, NaN equal to
//!   NaN), and stddev null exactly where historian's is (below two points);
//! * sum, mean and stddev within `|h − d| ≤ 1e-9·max(|h|, |d|) + 1e-13·scale`:
//!   relative 1e-9, plus an absolute term for results near zero, where the
//!   rounding error of any correct method is proportional to the data's
//!   magnitude, not to the result (a constant window's stddev is exactly 0 in
//!   DuckDB's Welford update but may be a few ulps in a two-pass method; a sum
//!   can cancel). `scale` is the window's largest |value| (max(|min|, |max|),
//!   which are compared exactly), times its count for sum. DuckDB sums with
//!   Kahan-Babuska (`fsum`, `favg`), so its side is close to exact.
//!
//! Four states of the data cover the read paths: (1) everything in memtables
//! (the WAL replayed at open); (2) everything flushed to segments, queried on
//! one thread and on every core; (3) those segments plus memtables holding
//! every other file imported a second time (overlapping sources, same values,
//! last write wins); (4) each file split in two, the first half flushed to
//! segments and the second half in memtables, so windows straddle both. Each
//! state's layout is asserted from `Tenant::stats`. States 2 to 4 are also
//! queried for count, sum, mean, min and max alone, which block statistics hold,
//! so that whole blocks inside a window are answered without decoding them
//! (push-down; asserted to happen). DuckDB answers once for all of them.
//!
//! DuckDB comes from PyPI, pinned in `tests/py/requirements.txt`, installed
//! by `common/py_venv.rs` into a virtual environment created once under
//! `<target dir>/py-venv-<hash of the requirements and the Python version>`
//! (`PYTHON` names the interpreter, default `python3`). The script writes one
//! CSV per window length, floats as Python's `repr` (the shortest text that
//! round-trips); this test parses and compares. It prints why and passes when
//! the SKAB data, python3 (or its `venv` module) or PyPI is unavailable; a
//! script error or any mismatch fails it. The data is GPL-licensed: it is read
//! in place, never copied into the repository (the halves of state 4 live in
//! a temporary directory).

#[macro_use]
#[path = "common/skab.rs"]
mod skab;
#[path = "common/py_venv.rs"]
mod py_venv;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use historian::query::{Agg, AggColumn, DownsampleRequest, GroupLabel, ReadStats};
use historian::text::time::format_rfc3339_nanos;
use historian::{Engine, Options, Selector, Tenant, TenantStats};
use py_venv::venv_python;
use skab::skab_files;

const TENANT: &str = "skab";
const SERIES: usize = 208;
const POINTS: u64 = 299_960;
/// Window lengths (name in messages, ns).
const WINDOWS: [(&str, i64); 4] = [
    ("1s", 1_000_000_000),
    ("10s", 10_000_000_000),
    ("1min", 60_000_000_000),
    ("1h", 3_600_000_000_000),
];
/// Every aggregate but twa (which DuckDB has no counterpart for).
const AGGS: [Agg; 8] = [
    Agg::Count,
    Agg::Sum,
    Agg::Mean,
    Agg::Min,
    Agg::Max,
    Agg::First,
    Agg::Last,
    Agg::Stddev,
];
/// The aggregates that block statistics hold (not first, last or stddev): whole
/// blocks inside a window are then answered from their statistics (push-down)
/// instead of being decoded.
const PUSHABLE: [Agg; 5] = [Agg::Count, Agg::Sum, Agg::Mean, Agg::Min, Agg::Max];
/// The aggregates of `Cells::values`, in order.
const FLOAT_AGGS: [Agg; 7] = [
    Agg::Sum,
    Agg::Mean,
    Agg::Min,
    Agg::Max,
    Agg::First,
    Agg::Last,
    Agg::Stddev,
];
const SUM: usize = 0;
const MIN: usize = 2;
const MAX: usize = 3;
/// `Cells::values` indexes compared with a tolerance: sum, mean, stddev.
const APPROX: [usize; 3] = [SUM, 1, 6];
const REL_TOL: f64 = 1e-9;
/// Times the window's largest |value| (times its count for sum).
const ABS_TOL: f64 = 1e-13;
const DUCKDB_HEADER: [&str; 11] = [
    "file",
    "column",
    "window_start_ns",
    "count",
    "sum",
    "mean",
    "min",
    "max",
    "first",
    "last",
    "stddev",
];

/// One window's aggregates.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Cells {
    count: u64,
    /// sum, mean, min, max, first, last, stddev (None = null).
    values: [Option<f64>; 7],
}

/// (file tag, column) → (window start ns, aggregates), in time order.
type Answer = BTreeMap<(String, String), Vec<(i64, Cells)>>;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn historian(data: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_historian"))
        .env_remove("HISTORIAN_DATA_DIR")
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "historian {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn import(data: &Path, csv: &Path, tag: &str) {
    let file_tag = format!("file={tag}");
    let csv = csv.to_str().unwrap();
    historian(
        data,
        &[
            "import",
            "--tenant",
            TENANT,
            "--time-column",
            "datetime",
            "--timezone",
            "UTC",
            "--tag",
            &file_tag,
            csv,
        ],
    );
}

/// Writes the first and the second half of the rows of `csv`, each under its header,
/// into `dir`.
fn split_in_halves(csv: &Path, tag: &str, dir: &Path) -> [PathBuf; 2] {
    let text = fs::read_to_string(csv).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
    let (first, second) = rows.split_at(rows.len() / 2);
    [("a", first), ("b", second)].map(|(half, rows)| {
        let path = dir.join(format!("{tag}-{half}.csv"));
        fs::write(&path, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
        path
    })
}

/// Runs the DuckDB script over the raw files; its answer per window length.
fn duckdb_answers(python: &Path, files: &[(PathBuf, String)], out: &Path) -> Vec<Answer> {
    let every: Vec<String> = WINDOWS.iter().map(|w| w.1.to_string()).collect();
    let mut cmd = Command::new(python);
    cmd.arg(manifest_dir().join("tests/py/downsample_duckdb.py"))
        .arg("--out")
        .arg(out)
        .args(["--every-ns", &every.join(",")]);
    for (path, tag) in files {
        let mut arg = OsString::from(format!("{tag}="));
        arg.push(path);
        cmd.arg("--file").arg(arg);
    }
    let o = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    for line in err.lines() {
        report!("  {line}");
    }
    assert!(
        o.status.success(),
        "the DuckDB script failed ({})",
        o.status
    );
    WINDOWS
        .iter()
        .map(|(_, e)| read_duckdb(&out.join(format!("every_{e}.csv"))))
        .collect()
}

fn read_duckdb(path: &Path) -> Answer {
    let mut reader = csv::Reader::from_path(path).unwrap();
    assert_eq!(reader.headers().unwrap(), &DUCKDB_HEADER[..]);
    let mut out = Answer::new();
    for rec in reader.records() {
        let rec = rec.unwrap();
        let float = |i: usize| {
            let text = &rec[4 + i];
            (!text.is_empty()).then(|| {
                text.parse::<f64>()
                    .unwrap_or_else(|e| panic!("{}: {text:?}: {e}", path.display()))
            })
        };
        let cells = Cells {
            count: rec[3].parse().unwrap(),
            values: std::array::from_fn(float),
        };
        out.entry((rec[0].to_string(), rec[1].to_string()))
            .or_default()
            .push((rec[2].parse().unwrap(), cells));
    }
    out
}

/// historian's answer for `aggs` (count first), from the output pieces, and what
/// the query read. Aggregates not asked for are null.
fn historian_answer(
    tenant: &Tenant,
    every_ns: i64,
    threads: usize,
    aggs: &[Agg],
) -> (Answer, ReadStats) {
    assert_eq!(aggs[0], Agg::Count);
    let slots: Vec<usize> = aggs[1..]
        .iter()
        .map(|a| FLOAT_AGGS.iter().position(|f| f == a).unwrap())
        .collect();
    let req = DownsampleRequest::new(Selector::all(), every_ns, aggs).with_threads(threads);
    let mut query = tenant.downsample(&req).unwrap();
    let mut out = Answer::new();
    for piece in query.by_ref() {
        let piece = piece.unwrap();
        let GroupLabel::Series { key, .. } = &*piece.group else {
            panic!("a group without grouping tags");
        };
        let file = key.tag("file").unwrap().to_string();
        let AggColumn::Count(counts) = &piece.columns[0] else {
            panic!("{key}: count is not a count column");
        };
        let floats: Vec<&Vec<Option<f64>>> = piece.columns[1..]
            .iter()
            .map(|c| match c {
                AggColumn::Float64(v) => v,
                _ => panic!("{key}: an aggregate of f64 series is not f64"),
            })
            .collect();
        let rows = out
            .entry((file, key.measurement().to_string()))
            .or_default();
        for (i, &start) in piece.window_start.iter().enumerate() {
            let mut values = [None; 7];
            for (&slot, column) in slots.iter().zip(&floats) {
                values[slot] = column[i];
            }
            let count = counts[i];
            rows.push((start, Cells { count, values }));
        }
    }
    (out, query.read_stats())
}

/// Mismatches found and how close the approximate aggregates came.
#[derive(Default)]
struct Outcome {
    /// (series, window) rows compared, per window length.
    rows: [usize; 4],
    mismatches: usize,
    /// Mismatches per (run, window length, aggregate or row problem).
    kinds: BTreeMap<String, usize>,
    /// The first few mismatches of each kind.
    examples: Vec<String>,
    /// Per sum, mean, stddev: the largest |h − d| / max(|h|, |d|) (where neither
    /// is 0), |h − d| / scale and |h − d| / tolerance (the share used).
    worst: [[f64; 3]; 3],
    /// Per sum, mean, stddev: windows where one side is 0 and the other is not.
    one_zero: [usize; 3],
}

impl Outcome {
    fn fail(&mut self, ctx: &str, what: &str, detail: String) {
        self.mismatches += 1;
        let kind = format!("{ctx}: {what}");
        let n = self.kinds.entry(kind.clone()).or_default();
        *n += 1;
        if *n <= 3 && self.examples.len() < 40 {
            self.examples.push(format!("{kind}: {detail}"));
        }
    }
}

/// Bit-identical, or both NaN.
fn same(h: f64, d: f64) -> bool {
    h.to_bits() == d.to_bits() || (h.is_nan() && d.is_nan())
}

fn show(v: Option<f64>) -> String {
    v.map_or("null".into(), |v| format!("{v} ({:#018x})", v.to_bits()))
}

/// Compares one window on `aggs`; `ctx` names the run and window length, `at` the
/// series and window.
fn compare_cells(
    ctx: &str,
    at: &dyn Fn() -> String,
    aggs: &[Agg],
    h: &Cells,
    d: &Cells,
    out: &mut Outcome,
) {
    if h.count != d.count {
        let detail = format!("{}: historian {} duckdb {}", at(), h.count, d.count);
        out.fail(ctx, "count", detail);
    }
    let magnitude = |c: &Cells| {
        let m = [MIN, MAX].map(|i| c.values[i].map_or(0.0, f64::abs));
        m[0].max(m[1])
    };
    for (i, agg) in FLOAT_AGGS.iter().enumerate() {
        if !aggs.contains(agg) {
            continue;
        }
        let (hv, dv) = (h.values[i], d.values[i]);
        let ok = match (hv, dv, APPROX.iter().position(|&a| a == i)) {
            (None, None, _) => true,
            (Some(x), Some(y), None) => same(x, y),
            (Some(x), Some(y), Some(_)) if !(x.is_finite() && y.is_finite()) => {
                x == y || same(x, y)
            }
            (Some(x), Some(y), Some(slot)) => {
                let scale = magnitude(d) * if i == SUM { d.count as f64 } else { 1.0 };
                let tol = REL_TOL * x.abs().max(y.abs()) + ABS_TOL * scale;
                let diff = (x - y).abs();
                if diff > 0.0 {
                    let both = x != 0.0 && y != 0.0;
                    out.one_zero[slot] += usize::from(!both);
                    let rel = if both {
                        diff / x.abs().max(y.abs())
                    } else {
                        0.0
                    };
                    let ratios = [rel, diff / scale, diff / tol];
                    for (worst, r) in out.worst[slot].iter_mut().zip(ratios) {
                        *worst = worst.max(r);
                    }
                }
                diff <= tol
            }
            _ => false,
        };
        if !ok {
            let detail = format!("{}: historian {} duckdb {}", at(), show(hv), show(dv));
            out.fail(ctx, agg.name(), detail);
        }
    }
}

/// Compares every window of every series for one window length.
fn compare(what: &str, w: usize, aggs: &[Agg], got: &Answer, want: &Answer, out: &mut Outcome) {
    let keys: BTreeSet<&(String, String)> = got.keys().chain(want.keys()).collect();
    let ctx = format!("{what}, {} windows", WINDOWS[w].0);
    for key in keys {
        let series = format!("{}{{file=\"{}\"}}", key.1, key.0);
        let at = |ts: i64| format!("{series}, window {ts} ({})", format_rfc3339_nanos(ts));
        let g = got.get(key).map_or(&[][..], Vec::as_slice);
        let d = want.get(key).map_or(&[][..], Vec::as_slice);
        let (mut i, mut j) = (0, 0);
        loop {
            // Both sides are in window order: a merge.
            let (a, b) = (g.get(i), d.get(j));
            let order = match (a, b) {
                (Some(a), Some(b)) => a.0.cmp(&b.0),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => break,
            };
            match (order, a, b) {
                (Ordering::Equal, Some(a), Some(b)) => {
                    compare_cells(&ctx, &|| at(a.0), aggs, &a.1, &b.1, out);
                    out.rows[w] += 1;
                    (i, j) = (i + 1, j + 1);
                }
                (Ordering::Less, Some(a), _) => {
                    let detail = format!("{}: {:?}", at(a.0), a.1);
                    out.fail(&ctx, "row only in historian", detail);
                    i += 1;
                }
                (_, _, Some(b)) => {
                    let detail = format!("{}: duckdb {:?}", at(b.0), b.1);
                    out.fail(&ctx, "row missing in historian", detail);
                    j += 1;
                }
                _ => unreachable!("the order matches the sides present"),
            }
        }
    }
}

/// Opens the data directory with the library, checks that its layout is the one
/// the state is about, and compares every window length for each run (thread
/// count, aggregates). Returns what each run read.
fn check(
    data: &Path,
    state: &str,
    layout: impl Fn(&TenantStats) -> bool,
    runs: &[(usize, &[Agg])],
    want: &[Answer],
    out: &mut Outcome,
) -> Vec<ReadStats> {
    let opts = Options::default().with_background_flush(false);
    let engine = Engine::open(data, opts).unwrap();
    let tenant = engine.tenant(TENANT).unwrap();
    let stats = tenant.stats().unwrap();
    assert_eq!(stats.series, SERIES as u64, "{state}");
    assert!(layout(&stats), "{state}: unexpected layout {stats:?}");
    let (segments, mem) = (stats.segments, stats.memtable_points);
    report!("{state} ({segments} segments, {mem} memtable points):");
    let mut read = Vec::new();
    for &(threads, aggs) in runs {
        let names: Vec<&str> = aggs.iter().map(|a| a.name()).collect();
        let what = format!("{state}, threads {threads}, {}", names.join(","));
        let before = out.mismatches;
        let mut total = ReadStats::default();
        for (w, (_, every_ns)) in WINDOWS.iter().enumerate() {
            let (got, stats) = historian_answer(&tenant, *every_ns, threads, aggs);
            compare(&what, w, aggs, &got, &want[w], out);
            total += stats;
        }
        let found = out.mismatches - before;
        report!(
            "  threads {threads}, {}: {found} mismatches ({} blocks decoded, {} from statistics)",
            names.join(","),
            total.blocks_decoded,
            total.blocks_from_stats
        );
        read.push(total);
    }
    engine.close().unwrap();
    read
}

/// Imports the data into four states and compares each with DuckDB's answer.
fn check_every_state(files: &[(PathBuf, String)], tmp: &Path, want: &[Answer]) -> Outcome {
    let mut out = Outcome::default();
    let (all, pushable) = (&AGGS[..], &PUSHABLE[..]);
    let a = tmp.join("a");
    for (path, tag) in files {
        import(&a, path, tag);
    }
    let in_memory = |s: &TenantStats| s.segments == 0 && s.memtable_points == POINTS;
    check(&a, "memtables only", in_memory, &[(0, all)], want, &mut out);

    historian(&a, &["flush"]);
    let flushed = |s: &TenantStats| s.segments > 0 && s.memtable_points == 0;
    let runs = [(1, all), (0, all), (0, pushable)];
    let read = check(&a, "segments only", flushed, &runs, want, &mut out);
    assert!(
        read[0].blocks_decoded > 0 && read[2].blocks_from_stats > 0,
        "{read:?}"
    );

    for (path, tag) in files.iter().step_by(2) {
        import(&a, path, tag);
    }
    let both = |s: &TenantStats| s.segments > 0 && s.memtable_points > 0;
    let runs = [(0, all), (0, pushable)];
    let state = "segments + every other file again in memtables";
    check(&a, state, both, &runs, want, &mut out);

    let halves_dir = tmp.join("halves");
    fs::create_dir(&halves_dir).unwrap();
    let halves: Vec<_> = files
        .iter()
        .map(|(path, tag)| (split_in_halves(path, tag, &halves_dir), tag))
        .collect();
    let b = tmp.join("b");
    for ([first, _], tag) in &halves {
        import(&b, first, tag);
    }
    historian(&b, &["flush"]);
    for ([_, second], tag) in &halves {
        import(&b, second, tag);
    }
    let state = "first half of each file in segments, second half in memtables";
    check(&b, state, both, &runs, want, &mut out);
    out
}

#[test]
fn downsample_matches_duckdb_on_every_skab_series() {
    let root = skab::skab_dir();
    if !root.is_dir() {
        report!("skipped: SKAB data not found at {}", root.display());
        return;
    }
    let files = skab_files(&root);
    assert!(!files.is_empty(), "no CSV files under {}", root.display());
    let python = match venv_python() {
        Ok(p) => p,
        Err(why) => {
            report!("skipped: {why}");
            return;
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let want = duckdb_answers(&python, &files, &tmp.path().join("duckdb"));
    assert_eq!(want[0].len(), SERIES, "series in DuckDB's answer");
    let points: u64 = want[0].values().flatten().map(|r| r.1.count).sum();
    assert_eq!(points, POINTS, "points in DuckDB's 1 s windows");
    let secs = started.elapsed().as_secs_f64();
    report!("DuckDB answered in {secs:.1} s");

    let out = check_every_state(&files, tmp.path(), &want);

    let per_window: Vec<String> = WINDOWS
        .iter()
        .zip(&want)
        .map(|((name, _), w)| format!("{name} {}", w.values().map(Vec::len).sum::<usize>()))
        .collect();
    let rows: usize = out.rows.iter().sum();
    report!(
        "compared with DuckDB: (series, window) rows per run: {}; {rows} rows in all",
        per_window.join(", "),
    );
    for (slot, &i) in APPROX.iter().enumerate() {
        let [rel, abs, share] = out.worst[slot];
        report!(
            "  {}: largest |h - d| / max(|h|, |d|) {rel:.2e}, / scale {abs:.2e}, \
             / tolerance {share:.2e}; 0 on one side only: {} windows",
            FLOAT_AGGS[i].name(),
            out.one_zero[slot]
        );
    }
    report!("done in {:.1} s", started.elapsed().as_secs_f64());
    let kinds: Vec<String> = out
        .kinds
        .iter()
        .map(|(k, n)| format!("{n:>8}  {k}"))
        .collect();
    assert!(
        out.mismatches == 0,
        "{} mismatches against DuckDB:\n{}\nexamples:\n{}",
        out.mismatches,
        kinds.join("\n"),
        out.examples.join("\n")
    );
}
