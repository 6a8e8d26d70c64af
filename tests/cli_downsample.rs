//! End-to-end tests of `historian downsample` and `historian bench
//! downsample|range|last`: the real binary on small hand-checked data, every
//! output format, grouping, fill and the errors of bad flags (CLI.md).

use std::fs;
use std::path::Path;

use arrow_array::{Array, Float64Array, RecordBatch, StringArray, UInt64Array};

const S: i64 = 1_000_000_000;

#[path = "common/cli_env.rs"]
mod cli_env;

use cli_env::{lines, Env};

/// Imports CSV text (ns timestamps) into tenant `t` with the given tags.
fn import(env: &Env, name: &str, csv: &str, tags: &[&str]) {
    let file = env.file(name, csv);
    let mut args = vec!["import", "--tenant", "t"];
    for t in tags {
        args.extend(["--tag", t]);
    }
    args.push(&file);
    env.ok(&args);
}

/// `downsample` of tenant `t` with `--epoch`, expecting success.
fn downsample(env: &Env, select: &str, every: &str, agg: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "downsample",
        "--tenant",
        "t",
        "--select",
        select,
        "--every",
        every,
        "--agg",
        agg,
        "--epoch",
    ];
    args.extend_from_slice(extra);
    env.ok(&args)
}

/// Series `a`: 1, 2, 3 at 0, 10 and 20 s, then 4 at 70 s; `b` one point.
fn two_series(env: &Env) {
    let csv = format!(
        "t,a,b\n0,1,\n{},2,\n{},3,5\n{},4,\n",
        10 * S,
        20 * S,
        70 * S
    );
    import(env, "in.csv", &csv, &[]);
}

#[test]
fn every_aggregate_by_hand() {
    let env = Env::new();
    two_series(&env);
    let all = "count,sum,mean,min,max,first,last,stddev,twa";
    let expected = [
        "series,window_start,count,sum,mean,min,max,first,last,stddev,twa",
        // twa = (1·10 + 2·10 + 3·40) / 60; stddev of 1, 2, 3 is 1.
        "a,0,3,6,2,1,3,1,3,1,2.5",
        // One point: stddev empty, twa its value.
        "a,60000000000,1,4,4,4,4,4,4,,4",
        "b,0,1,5,5,5,5,5,5,,5",
    ];
    assert_eq!(lines(&downsample(&env, "*", "1m", all, &[])), expected);
    // The same answer from segments as from memtables.
    env.ok(&["flush"]);
    assert_eq!(lines(&downsample(&env, "*", "1m", all, &[])), expected);
    // Aggregates come in the order given; the range and origin move the windows.
    let out = downsample(
        &env,
        "a",
        "30s",
        "last,count",
        &[
            "--from",
            "5000000000",
            "--to",
            "80000000000",
            "--origin",
            "5000000000",
        ],
    );
    assert_eq!(
        lines(&out),
        [
            "series,window_start,last,count",
            "a,5000000000,3,2",
            "a,65000000000,4,1"
        ]
    );
    // RFC 3339 window starts without --epoch.
    let out = env.ok(&[
        "downsample",
        "--tenant",
        "t",
        "--select",
        "b",
        "--every",
        "1h",
        "--agg",
        "max",
    ]);
    assert_eq!(
        lines(&out),
        [
            "series,window_start,max",
            "b,1970-01-01T00:00:00.000000000Z,5"
        ]
    );
}

#[test]
fn groups_by_tag_over_every_point_of_their_series() {
    let env = Env::new();
    let one = format!("t,temp\n0,10\n{},20\n", 30 * S);
    let two = format!("t,temp\n{},40\n", 10 * S);
    import(&env, "l1.csv", &one, &["machine=m1", "line=L1"]);
    import(&env, "l2.csv", &two, &["machine=m1", "line=L2"]);
    import(&env, "m2.csv", &one, &["machine=m2", "line=L1"]);
    let out = downsample(&env, "temp", "1m", "mean,count,first", &["--by", "machine"]);
    assert_eq!(
        lines(&out),
        [
            "measurement,machine,window_start,mean,count,first",
            "temp,m1,0,23.333333333333332,3,10",
            "temp,m2,0,15,2,10",
        ]
    );
    // A tag some series lack is its own (null) group, before the others.
    let out = downsample(
        &env,
        "temp",
        "1m",
        "count",
        &["--by", "line", "--format", "jsonl"],
    );
    assert_eq!(
        lines(&out),
        [
            r#"{"measurement":"temp","line":"L1","window_start":0,"count":4}"#,
            r#"{"measurement":"temp","line":"L2","window_start":0,"count":1}"#,
        ]
    );
    let out = downsample(&env, "temp", "1m", "count", &["--by", "plant"]);
    assert_eq!(
        lines(&out),
        ["measurement,plant,window_start,count", "temp,,0,5"]
    );
}

#[test]
fn fills_respect_the_maximum_gap() {
    let env = Env::new();
    // Windows of 10 s: values in windows 0 and 2, and in 6 (a long gap before it).
    let csv = format!("t,a\n0,1\n{},3\n{},9\n", 20 * S, 60 * S);
    import(&env, "in.csv", &csv, &[]);
    let rows = |fill: &str, extra: &[&str]| {
        let mut args = vec!["--fill", fill];
        args.extend_from_slice(extra);
        downsample(&env, "a", "10s", "mean,count", &args)
    };
    assert_eq!(
        lines(&rows("none", &[])),
        [
            "series,window_start,mean,count",
            "a,0,1,1",
            "a,20000000000,3,1",
            "a,60000000000,9,1"
        ]
    );
    let linear = rows("linear", &[]);
    assert_eq!(
        lines(&linear),
        [
            "series,window_start,mean,count",
            "a,0,1,1",
            "a,10000000000,2,0",
            "a,20000000000,3,1",
            "a,30000000000,4.5,0",
            "a,40000000000,6,0",
            "a,50000000000,7.5,0",
            "a,60000000000,9,1"
        ]
    );
    let capped = rows("previous", &["--max-gap", "20s"]);
    assert_eq!(
        lines(&capped),
        [
            "series,window_start,mean,count",
            "a,0,1,1",
            "a,10000000000,1,0",
            "a,20000000000,3,1",
            "a,30000000000,,0",
            "a,40000000000,,0",
            "a,50000000000,,0",
            "a,60000000000,9,1"
        ]
    );
    let constant = rows("-1.5", &["--max-gap", "20s", "--format", "jsonl"]);
    assert_eq!(
        lines(&constant).get(1),
        Some(&r#"{"series":"a","window_start":10000000000,"mean":-1.5,"count":0}"#)
    );
    assert_eq!(
        lines(&constant).get(3),
        Some(&r#"{"series":"a","window_start":30000000000,"mean":null,"count":0}"#)
    );
}

fn read_batches(path: &Path, parquet: bool) -> Vec<RecordBatch> {
    let file = fs::File::open(path).unwrap();
    if parquet {
        parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 1024)
            .unwrap()
            .map(Result::unwrap)
            .collect()
    } else {
        arrow_ipc::reader::FileReader::try_new(file, None)
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }
}

#[test]
fn parquet_and_arrow_files_hold_the_csv_rows() {
    let env = Env::new();
    two_series(&env);
    for (format, parquet) in [("parquet", true), ("arrow", false)] {
        let out = env.path(&format!("w.{format}"));
        let out_text = out.to_str().unwrap();
        let args = ["--format", format, "--out", out_text];
        assert_eq!(downsample(&env, "*", "1m", "count,mean,stddev", &args), "");
        let batches = read_batches(&out, parquet);
        let names: Vec<_> = batches[0]
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["series", "window_start", "count", "mean", "stddev"]);
        let (mut series, mut count, mut mean, mut stddev): (
            Vec<String>,
            Vec<u64>,
            Vec<f64>,
            Vec<Option<f64>>,
        ) = Default::default();
        for b in &batches {
            let col = |i: usize| b.column(i).as_any();
            let s = col(0).downcast_ref::<StringArray>().unwrap();
            series.extend(s.iter().map(|x| x.unwrap().to_string()));
            count.extend(col(2).downcast_ref::<UInt64Array>().unwrap().values());
            mean.extend(col(3).downcast_ref::<Float64Array>().unwrap().values());
            let sd = col(4).downcast_ref::<Float64Array>().unwrap();
            stddev.extend((0..sd.len()).map(|i| sd.is_valid(i).then(|| sd.value(i))));
        }
        assert_eq!(series, ["a", "a", "b"]);
        assert_eq!(count, [3, 1, 1]);
        assert_eq!(mean, [2.0, 4.0, 5.0]);
        assert_eq!(stddev, [Some(1.0), None, None]);
    }
}

#[test]
fn bad_flags_exit_2_and_name_the_problem() {
    let env = Env::new();
    two_series(&env);
    let base = ["downsample", "--tenant", "t", "--select", "*"];
    let cases: [(&[&str], &str); 8] = [
        (&["--every", "0s", "--agg", "mean"], "window length"),
        (&["--every", "1x", "--agg", "mean"], "--every"),
        (
            &["--every", "1m", "--agg", "avg"],
            "unknown aggregate \"avg\"",
        ),
        (&["--every", "1m", "--agg", "mean,mean"], "twice"),
        (
            &["--every", "1m", "--agg", "mean", "--fill", "lin"],
            "unknown fill",
        ),
        (
            &["--every", "1m", "--agg", "mean", "--by", "count"],
            "cannot group by",
        ),
        (
            &["--every", "1m", "--agg", "mean", "--max-gap", "0"],
            "maximum gap",
        ),
        (
            &["--every", "1m", "--agg", "mean", "--format", "parquet"],
            "needs --out",
        ),
    ];
    for (extra, needle) in cases {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let err = env.fails(2, &args);
        assert!(err.contains(needle), "{extra:?}: {err}");
    }
    let mut args = base.to_vec();
    args.extend(["--every", "1m", "--agg", "mean", "--from", "5", "--to", "5"]);
    assert!(env.fails(2, &args).contains("empty time range"));
    // A missing tenant is not a usage error.
    let err = env.fails(
        1,
        &[
            "downsample",
            "--tenant",
            "nope",
            "--select",
            "*",
            "--every",
            "1m",
            "--agg",
            "mean",
        ],
    );
    assert!(err.contains("nope"), "{err}");
}

#[test]
fn query_benches_report_json() {
    let env = Env::new();
    two_series(&env);
    env.ok(&["flush"]);
    let json = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["bench"];
        all.extend_from_slice(args);
        all.extend(["--tenant", "t", "--json"]);
        serde_json::from_str(env.ok(&all).trim()).unwrap()
    };
    let v = json(&["downsample", "--repeat", "2"]);
    assert_eq!(v["workload"], "downsample");
    assert_eq!(
        (v["points"].as_u64(), v["rows"].as_u64()),
        (Some(5), Some(3))
    );
    assert_eq!(v["series"], 2);
    // Means 2, 4 and 5; minima 1, 4, 5; maxima 3, 4, 5.
    assert_eq!(v["mean_sum"], 11.0);
    assert_eq!(
        (v["min_sum"].as_f64(), v["max_sum"].as_f64()),
        (Some(10.0), Some(12.0))
    );
    let v = json(&["range", "--queries", "50", "--fraction", "0.5"]);
    assert_eq!(
        (v["workload"].as_str(), v["queries"].as_u64()),
        (Some("range"), Some(50))
    );
    assert!(v["points"].as_u64().unwrap() > 0);
    let v = json(&["last", "--repeat", "3"]);
    assert_eq!(v["series"], 2);
    assert_eq!(v["ts_sum"], 90 * S);
    assert_eq!(v["value_sum"], 9.0);
}
