//! `historian bench decode`: the totals it reports (points, sums of every timestamp and
//! value) must be exactly those of the imported points, whatever the segment codecs.
//! Timing is not checked. Runs the real binary in a temporary data directory.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value as Json;

fn run(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_historian"))
        .env_remove("HISTORIAN_DATA_DIR")
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

fn ok(data: &Path, args: &[&str]) -> String {
    let out = run(data, args);
    assert!(
        out.status.success(),
        "{args:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn decode_json(data: &Path, tenant: &str, repeat: &str) -> Json {
    let out = ok(
        data,
        &[
            "bench", "decode", "--tenant", tenant, "--json", "--repeat", repeat,
        ],
    );
    assert_eq!(out.lines().count(), 1, "one JSON object on one line: {out}");
    serde_json::from_str(&out).unwrap()
}

/// Writes a CSV of `rows` rows (epoch-ns time, two f64 columns and a bool column)
/// starting at row `first`, and returns (path, points, ts_sum, f64_sum, bool_sum).
/// Values are multiples of 1/4 so that every sum is exact in any order.
fn csv(dir: &Path, name: &str, first: i64, rows: i64) -> (String, u64, i64, f64, i64) {
    let mut text = String::from("time;Pressure;Flow RateRMS;Valve\n");
    let (mut points, mut ts_sum, mut f_sum, mut b_sum) = (0u64, 0i64, 0.0f64, 0i64);
    for i in first..first + rows {
        let ts = 1_583_748_873_000_000_000 + i * 1_000_000_000;
        let p = (i % 37) as f64 * 0.25 - 3.0;
        let f = 1000.0 + (i * 7 % 11) as f64 * 0.5;
        let on = i % 3 == 0;
        // Every 5th row has no flow value: an empty cell is no point.
        let flow = if i % 5 == 0 {
            String::new()
        } else {
            f_sum += f;
            ts_sum = ts_sum.wrapping_add(ts);
            points += 1;
            format!("{f}")
        };
        text.push_str(&format!("{ts};{p};{flow};{on}\n"));
        ts_sum = ts_sum.wrapping_add(2 * ts);
        points += 2;
        f_sum += p;
        b_sum += i64::from(on);
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    (
        path.to_str().unwrap().to_string(),
        points,
        ts_sum,
        f_sum,
        b_sum,
    )
}

#[test]
fn bench_decode_reports_exact_totals_of_flushed_points() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Two imports with a flush between them: two segments, several blocks.
    let (a, pa, ta, fa, ba) = csv(dir.path(), "a.csv", 0, 3_000);
    let (b, pb, tb, fb, bb) = csv(dir.path(), "b.csv", 3_000, 1_234);
    ok(
        &data,
        &[
            "import",
            "--tenant",
            "acme",
            "--tag",
            "run=a",
            "--time-format",
            "epoch_ns",
            &a,
        ],
    );
    ok(&data, &["flush"]);
    ok(
        &data,
        &[
            "import",
            "--tenant",
            "acme",
            "--tag",
            "run=b",
            "--time-format",
            "epoch_ns",
            &b,
        ],
    );
    ok(&data, &["flush"]);
    // Another tenant's points must not be counted.
    ok(
        &data,
        &[
            "import",
            "--tenant",
            "other",
            "--time-format",
            "epoch_ns",
            &a,
        ],
    );
    ok(&data, &["flush"]);

    let v = decode_json(&data, "acme", "2");
    assert_eq!(v["workload"], "decode");
    assert_eq!(v["tenant"], "acme");
    assert_eq!(v["threads"], 1);
    assert_eq!(v["repeat"], 2);
    assert_eq!(v["points"].as_u64(), Some(pa + pb));
    assert_eq!(v["ts_sum"].as_i64(), Some(ta.wrapping_add(tb)));
    assert_eq!(v["f64_sum"].as_f64(), Some(fa + fb));
    assert_eq!(v["int_sum"].as_i64(), Some(ba + bb));
    assert_eq!(v["series"].as_u64(), Some(6), "3 columns x 2 runs");
    assert_eq!(v["memtable_points"].as_u64(), Some(0));
    assert!(v["blocks"].as_u64().unwrap() >= 6, "{v}");
    let (best, median) = (
        v["best_seconds"].as_f64().unwrap(),
        v["median_seconds"].as_f64().unwrap(),
    );
    assert!(best > 0.0 && best <= median, "{v}");
    assert!(
        v["points_per_second"].as_f64().unwrap() >= v["median_points_per_second"].as_f64().unwrap()
    );

    // The text report names the same totals.
    let text = ok(&data, &["bench", "decode", "--tenant", "acme"]);
    assert!(text.starts_with("bench decode: tenant acme"), "{text}");
    assert!(text.contains(&format!("{} points", pa + pb)), "{text}");
    assert!(
        text.contains(&format!("ts {}", ta.wrapping_add(tb))),
        "{text}"
    );
}

#[test]
fn bench_decode_skips_memtables_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (a, pa, ta, fa, ba) = csv(dir.path(), "a.csv", 0, 500);
    let (b, _, _, _, _) = csv(dir.path(), "b.csv", 500, 100);
    ok(
        &data,
        &[
            "import",
            "--tenant",
            "acme",
            "--time-format",
            "epoch_ns",
            &a,
        ],
    );
    ok(&data, &["flush"]);
    ok(
        &data,
        &[
            "import",
            "--tenant",
            "acme",
            "--time-format",
            "epoch_ns",
            &b,
        ],
    );

    let v = decode_json(&data, "acme", "1");
    assert_eq!(v["points"].as_u64(), Some(pa));
    assert_eq!(v["ts_sum"].as_i64(), Some(ta));
    assert_eq!(v["f64_sum"].as_f64(), Some(fa));
    assert_eq!(v["int_sum"].as_i64(), Some(ba));
    assert!(v["memtable_points"].as_u64().unwrap() > 0, "{v}");
    let text = ok(
        &data,
        &["bench", "decode", "--tenant", "acme", "--repeat", "1"],
    );
    assert!(
        text.contains("not decoded (run `historian flush`)"),
        "{text}"
    );
}

#[test]
fn bench_decode_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // No data directory: exit 1, nothing created.
    let out = run(&data, &["bench", "decode", "--tenant", "acme"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!data.exists());
    let (a, ..) = csv(dir.path(), "a.csv", 0, 10);
    ok(
        &data,
        &[
            "import",
            "--tenant",
            "acme",
            "--time-format",
            "epoch_ns",
            &a,
        ],
    );
    // Unknown tenant: exit 1; malformed tenant name or --repeat 0: exit 2.
    let out = run(&data, &["bench", "decode", "--tenant", "nobody"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&data, &["bench", "decode", "--tenant", "a/b"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        &data,
        &["bench", "decode", "--tenant", "acme", "--repeat", "0"],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = run(&data, &["bench", "decode"]);
    assert_eq!(out.status.code(), Some(2));
}
