//! Real data through the CLI: every SKAB file (Skoltech Anomaly Benchmark, shared/data)
//! is imported with `historian import`, queried back with `historian query --epoch`,
//! and every non-empty cell must come back bit-exact, before and after `flush`, each
//! time from a fresh process (so the first read replays the WAL, the later ones read
//! segments). The data is GPL-licensed and lives outside the repository; without it the
//! test prints why and passes.

#[macro_use]
#[path = "common/skab.rs"]
mod skab;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use historian::text::time::{parse_timestamp, Timezone};
use historian::SeriesKey;
use skab::{skab_dir, skab_files};

const TENANT: &str = "skab";
const SENSOR_POINTS: usize = 255_016;
const LABEL_POINTS: usize = 44_944;
const LABEL_COLUMNS: [&str; 2] = ["anomaly", "changepoint"];

/// (series key text, ts) → value bits.
type Points = BTreeMap<(String, i64), u64>;

/// What the file holds, parsed independently of the importer: every non-empty cell
/// through `str::parse::<f64>`. Also counts sensor and label cells.
fn expected(path: &Path, tag: &str, points: &mut Points, counts: &mut [usize; 2]) {
    let text = fs::read_to_string(path).unwrap();
    let mut rows = text.lines();
    let header: Vec<&str> = rows.next().unwrap().split(';').map(str::trim).collect();
    assert_eq!(header[0], "datetime", "{}", path.display());
    let keys: Vec<String> = header
        .iter()
        .map(|c| SeriesKey::new(*c, [("file", tag)]).unwrap().to_string())
        .collect();
    for row in rows.filter(|r| !r.trim().is_empty()) {
        let cells: Vec<&str> = row.split(';').collect();
        assert_eq!(cells.len(), header.len(), "{}: {row}", path.display());
        let ts = parse_timestamp(cells[0], Timezone::UTC).unwrap();
        for (i, cell) in cells.iter().enumerate().skip(1) {
            let cell = cell.trim();
            if cell.is_empty() {
                continue;
            }
            let v: f64 = cell.parse().unwrap();
            let old = points.insert((keys[i].clone(), ts), v.to_bits());
            assert!(old.is_none(), "duplicate {} at {ts}", keys[i]);
            counts[usize::from(LABEL_COLUMNS.contains(&header[i]))] += 1;
        }
    }
}

fn historian(data: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_historian"))
        .env_remove("HISTORIAN_DATA_DIR")
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Every point the CLI prints for the tenant, parsed the same way as the input.
fn query_all(data: &Path) -> Points {
    let csv = historian(
        data,
        &["query", "--tenant", TENANT, "--select", "*", "--epoch"],
    );
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["series", "ts", "value"],
        "query header"
    );
    let mut points = Points::new();
    for rec in reader.records() {
        let rec = rec.unwrap();
        let ts: i64 = rec[1].parse().unwrap();
        let v: f64 = rec[2].parse().unwrap();
        let old = points.insert((rec[0].to_string(), ts), v.to_bits());
        assert!(old.is_none(), "query printed {} at {ts} twice", &rec[0]);
    }
    points
}

/// Compares point sets, naming the first difference instead of dumping 300k points.
fn assert_same(got: &Points, want: &Points, when: &str) {
    assert_eq!(got.len(), want.len(), "{when}: point count");
    for ((k, ts), bits) in want {
        match got.get(&(k.clone(), *ts)) {
            Some(b) => assert_eq!(
                *b,
                *bits,
                "{when}: {k} at {ts}: got {} want {}",
                f64::from_bits(*b),
                f64::from_bits(*bits)
            ),
            None => panic!("{when}: {k} at {ts} is missing"),
        }
    }
}

#[test]
fn every_skab_cell_round_trips_bit_exactly_through_the_cli() {
    let root = skab_dir();
    if !root.is_dir() {
        report!(
            "skipped: SKAB data not found at {} (see shared/data/README.md)",
            root.display()
        );
        return;
    }
    let files = skab_files(&root);
    assert!(!files.is_empty(), "no CSV files under {}", root.display());
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut want = Points::new();
    let mut counts = [0usize; 2];
    for (path, tag) in &files {
        expected(path, tag, &mut want, &mut counts);
        let file_tag = format!("file={tag}");
        let report = historian(
            &data,
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
                "--json",
                path.to_str().unwrap(),
            ],
        );
        let report: serde_json::Value = serde_json::from_slice(&report).unwrap();
        assert_eq!(report["files"], 1);
        assert!(report["points"].as_u64().unwrap() > 0, "{}", path.display());
    }
    assert_eq!(
        counts,
        [SENSOR_POINTS, LABEL_POINTS],
        "sensor and label cells"
    );
    assert_eq!(want.len(), SENSOR_POINTS + LABEL_POINTS);

    assert_same(&query_all(&data), &want, "before flush (WAL replay)");
    historian(&data, &["flush"]);
    assert_same(&query_all(&data), &want, "after flush");
    assert_same(&query_all(&data), &want, "after reopening");

    let verify = historian(&data, &["verify", "--json"]);
    let verify: serde_json::Value = serde_json::from_slice(&verify).unwrap();
    assert_eq!(verify["ok"], true);
    assert_eq!(
        verify["segment_points"].as_u64(),
        Some((SENSOR_POINTS + LABEL_POINTS) as u64)
    );
}
