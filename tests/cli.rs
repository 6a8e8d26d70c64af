//! End-to-end tests of the `historian` binary: each test runs the real executable in
//! its own temporary data directory and checks stdout, stderr and the exit status
//! against the CLI contract (CLI.md). Nothing here depends on timing.

use std::fs;
use std::path::Path;
use std::process::Command;

use arrow_array::{Array, BooleanArray, Float64Array, StringArray, TimestampNanosecondArray};
use arrow_array::{RecordBatch, UInt8Array};
use historian::{Engine, Options, Point, SeriesKey, Value, WriteBatch};

#[path = "common/cli_env.rs"]
mod cli_env;

use cli_env::{lines, Env};

#[test]
fn imports_comma_csv_with_tags_empty_cells_and_bools() {
    let env = Env::new();
    let f = env.file(
        "in.csv",
        "time, temp ,on,empty\n\
         2024-01-01T00:00:00Z,21.5,true,\n\
         2024-01-01 00:00:01,,false,\n\
         1704067202000000000, 22 ,TRUE,\n",
    );
    let report = env.ok(&[
        "import",
        "--tenant",
        "acme",
        "--tag",
        "machine=m1",
        "--tag",
        "line=L1",
        "--json",
        &f,
    ]);
    let r: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    assert_eq!(r["files"], 1);
    assert_eq!(r["rows"], 3);
    assert_eq!(r["points"], 5);
    assert_eq!(r["series"], 2);
    assert!(r["seconds"].is_number() && r["points_per_second"].is_number());
    let out = env.query("acme", "*", &[]);
    assert_eq!(
        lines(&out),
        [
            "series,ts,value",
            r#""on{line=""L1"",machine=""m1""}",2024-01-01T00:00:00.000000000Z,true"#,
            r#""on{line=""L1"",machine=""m1""}",2024-01-01T00:00:01.000000000Z,false"#,
            r#""on{line=""L1"",machine=""m1""}",2024-01-01T00:00:02.000000000Z,true"#,
            r#""temp{line=""L1"",machine=""m1""}",2024-01-01T00:00:00.000000000Z,21.5"#,
            r#""temp{line=""L1"",machine=""m1""}",2024-01-01T00:00:02.000000000Z,22"#,
        ]
    );
    let out = env.query(
        "acme",
        r#"temp{machine="m1"}"#,
        &["--epoch", "--from", "2024-01-01T00:00:01Z"],
    );
    assert_eq!(
        lines(&out)[1],
        r#""temp{line=""L1"",machine=""m1""}",1704067202000000000,22"#
    );
}

#[test]
fn detects_semicolon_and_tab_delimiters() {
    let env = Env::new();
    let semi = env.file("semi.csv", "datetime;a;b\n2020-03-09 10:14:33;1.25;2\n");
    let tab = env.file("tab.csv", "ts\tc\n2020-03-09T10:14:34Z\t-3.5\n");
    env.ok(&["import", "--tenant", "t", &semi, &tab]);
    let out = env.query("t", "*", &["--epoch"]);
    assert_eq!(
        lines(&out),
        [
            "series,ts,value",
            "a,1583748873000000000,1.25",
            "b,1583748873000000000,2",
            "c,1583748874000000000,-3.5",
        ]
    );
    // An explicit delimiter wins over detection: with `;` the comma file is one column.
    let comma = env.file("comma.csv", "time;x,y\n2020-03-09T10:14:35Z;7\n");
    env.ok(&["import", "--tenant", "u", "--delimiter", ";", &comma]);
    assert_eq!(
        lines(&env.query("u", "*", &["--epoch"]))[1],
        r#""x,y",1583748875000000000,7"#
    );
}

#[test]
fn time_column_format_timezone_and_skip_columns() {
    let env = Env::new();
    let f = env.file(
        "in.csv",
        "id,when,v,junk\n1,1583748873,1.5,x\n2,1583748874,2.5,y\n",
    );
    env.ok(&[
        "import",
        "--tenant",
        "t",
        "--time-column",
        "when",
        "--time-format",
        "epoch_s",
        "--skip-columns",
        "junk",
        &f,
    ]);
    let out = env.query("t", "*", &["--epoch"]);
    assert_eq!(
        lines(&out),
        [
            "series,ts,value",
            "id,1583748873000000000,1",
            "id,1583748874000000000,2",
            "v,1583748873000000000,1.5",
            "v,1583748874000000000,2.5",
        ]
    );
    let g = env.file("tz.csv", "t,w\n2020-03-09 12:00:00,1\n");
    env.ok(&["import", "--tenant", "z", "--timezone", "+02:00", &g]);
    assert_eq!(
        lines(&env.query("z", "*", &[]))[1],
        "w,2020-03-09T10:00:00.000000000Z,1"
    );
}

#[test]
fn ack_lines_follow_each_batch() {
    let env = Env::new();
    let mut csv = String::from("t,a,b\n");
    for i in 0..10 {
        csv.push_str(&format!("{},{i},{i}\n", 1_000_000_000 + i));
    }
    let f = env.file("in.csv", &csv);
    let out = env.ok(&[
        "import",
        "--tenant",
        "t",
        "--batch-points",
        "6",
        "--ack-lines",
        &f,
    ]);
    let acks: Vec<&str> = out.lines().filter(|l| l.starts_with("ack ")).collect();
    assert_eq!(acks, ["ack 6", "ack 12", "ack 18", "ack 20"]);
    assert!(out.starts_with("ack 6\n"), "{out}");
}

#[test]
fn a_bad_cell_stops_the_import_after_committing_the_rows_before_it() {
    for batch in ["1", "100000"] {
        let env = Env::new();
        let f = env.file(
            "bad.csv",
            "t,a,b\n1000,1,2\n2000,3,4\n3000,5,oops\n4000,7,8\n",
        );
        let stderr = env.fails(1, &["import", "--tenant", "t", "--batch-points", batch, &f]);
        assert!(stderr.starts_with("historian: "), "{stderr}");
        assert!(stderr.contains("bad.csv:4:3:"), "{stderr}");
        assert!(stderr.contains("oops"), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        let out = env.query("t", "*", &["--epoch"]);
        assert_eq!(
            lines(&out),
            [
                "series,ts,value",
                "a,1000,1",
                "a,2000,3",
                "b,1000,2",
                "b,2000,4"
            ]
        );
    }
}

#[test]
fn bad_times_types_and_shapes_are_located() {
    let env = Env::new();
    let cases = [
        ("time.csv", "t,a\n1000,1\nnot-a-time,2\n", "time.csv:3:1:"),
        ("type.csv", "t,a\n1000,1\n2000,true\n", "type.csv:3:2:"),
        ("bool.csv", "t,a\n1000,false\n2000,1.5\n", "bool.csv:3:2:"),
        ("short.csv", "t,a,b\n1000,1,2\n2000,1\n", "short.csv:3:"),
    ];
    for (i, (name, content, want)) in cases.into_iter().enumerate() {
        let f = env.file(name, content);
        let tenant = format!("t{i}");
        let stderr = env.fails(1, &["import", "--tenant", &tenant, &f]);
        assert!(stderr.contains(want), "{name}: {stderr}");
    }
}

#[test]
fn imports_line_protocol() {
    let env = Env::new();
    let f = env.file(
        "in.lp",
        "# comment\n\
         cpu,host=a usage=1.5,n=5i,ok=true,big=7u 1000\n\
         \n\
         cpu,host=a value=3 2000\n",
    );
    env.ok(&["import", "--tenant", "t", "--tag", "site=s1", &f]);
    let out = env.query("t", "*", &["--epoch"]);
    assert_eq!(
        lines(&out),
        [
            "series,ts,value",
            r#""cpu{host=""a"",site=""s1""}",2000,3"#,
            r#""cpu_big{host=""a"",site=""s1""}",1000,7"#,
            r#""cpu_n{host=""a"",site=""s1""}",1000,5"#,
            r#""cpu_ok{host=""a"",site=""s1""}",1000,true"#,
            r#""cpu_usage{host=""a"",site=""s1""}",1000,1.5"#,
        ]
    );
    let bad = [
        ("str.lp", "m v=1 1\nm,k=x s=\"text\" 2\n", "str.lp:2:7:"),
        ("nots.lp", "m v=1\n", "nots.lp:1:6:"),
        ("huge.lp", "m v=18446744073709551615u 1\n", "huge.lp:1:3:"),
        ("syntax.lp", "m v=x 1\n", "syntax.lp:1:5:"),
    ];
    for (name, content, want) in bad {
        let f = env.file(name, content);
        let stderr = env.fails(1, &["import", "--tenant", "u", "--format", "lp", &f]);
        assert!(stderr.contains(want), "{name}: {stderr}");
    }
    // The line before the string field was committed.
    assert_eq!(
        lines(&env.query("u", "*", &["--epoch"])),
        ["series,ts,value", "m_v,1,1"]
    );
}

/// Writes special floats, an i64 series and points with quality through the library.
fn write_specials(data: &Path) {
    let engine = Engine::open(data, Options::default()).unwrap();
    let t = engine.tenant("t").unwrap();
    let mut b = WriteBatch::new();
    let f = SeriesKey::new("f", [("k", "a,b")]).unwrap();
    for (i, v) in [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.1,
        1e21,
        5.0,
    ]
    .into_iter()
    .enumerate()
    {
        b.push_value(&f, i as i64, Value::F64(v)).unwrap();
    }
    let n = SeriesKey::new("n", [("k", "v")]).unwrap();
    b.push(
        &n,
        Point {
            ts: 1,
            value: Value::I64(-7),
            quality: Some(192),
        },
    )
    .unwrap();
    b.push_value(&n, 2, Value::I64(i64::MAX)).unwrap();
    t.write(&b).unwrap();
    engine.close().unwrap();
}

#[test]
fn query_formats_values_quality_and_quoting() {
    let env = Env::new();
    write_specials(&env.data());
    let out = env.query("t", "*", &["--epoch"]);
    assert_eq!(
        lines(&out),
        [
            "series,ts,value,quality",
            r#""f{k=""a,b""}",0,NaN,"#,
            r#""f{k=""a,b""}",1,inf,"#,
            r#""f{k=""a,b""}",2,-inf,"#,
            r#""f{k=""a,b""}",3,-0,"#,
            r#""f{k=""a,b""}",4,0.1,"#,
            r#""f{k=""a,b""}",5,1000000000000000000000,"#,
            r#""f{k=""a,b""}",6,5,"#,
            r#""n{k=""v""}",1,-7,192"#,
            r#""n{k=""v""}",2,9223372036854775807,"#,
        ]
    );
    let out = env.query("t", "n", &[]);
    assert_eq!(
        lines(&out),
        [
            "series,ts,value,quality",
            r#""n{k=""v""}",1970-01-01T00:00:00.000000001Z,-7,192"#,
            r#""n{k=""v""}",1970-01-01T00:00:00.000000002Z,9223372036854775807,"#,
        ]
    );
    // Without quality in the result there is no quality column.
    assert_eq!(lines(&env.query("t", "f", &[]))[0], "series,ts,value");
    let jsonl = env.query("t", "*", &["--format", "jsonl"]);
    let rows: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 9);
    assert_eq!(rows[0]["series"], r#"f{k="a,b"}"#);
    assert_eq!(rows[0]["ts"], "1970-01-01T00:00:00.000000000Z");
    assert_eq!(rows[0]["value"], "NaN");
    assert_eq!(rows[1]["value"], "inf");
    assert_eq!(rows[2]["value"], "-inf");
    assert!(jsonl.lines().nth(3).unwrap().contains(r#""value":-0,"#));
    assert_eq!(rows[4]["value"].as_f64(), Some(0.1));
    assert_eq!(rows[0]["quality"], serde_json::Value::Null);
    assert_eq!(rows[7]["value"], -7);
    assert_eq!(rows[7]["quality"], 192);
    let epoch = env.query("t", "n", &["--format", "jsonl", "--epoch"]);
    let first: serde_json::Value = serde_json::from_str(epoch.lines().next().unwrap()).unwrap();
    assert_eq!(first["ts"], 1);
}

fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let file = fs::File::open(path).unwrap();
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

fn read_arrow(path: &Path) -> Vec<RecordBatch> {
    let file = fs::File::open(path).unwrap();
    arrow_ipc::reader::FileReader::try_new(file, None)
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

/// (series, ts, value bits, quality) of every row of record batches with f64 values.
fn f64_rows(batches: &[RecordBatch]) -> Vec<(String, i64, u64, Option<u8>)> {
    let mut out = Vec::new();
    for b in batches {
        let col = |name: &str| b.column(b.schema().index_of(name).unwrap()).clone();
        let series = col("series");
        let series = series.as_any().downcast_ref::<StringArray>().unwrap();
        let ts = col("ts");
        let ts = ts
            .as_any()
            .downcast_ref::<TimestampNanosecondArray>()
            .unwrap();
        let v = col("value");
        let v = v.as_any().downcast_ref::<Float64Array>().unwrap();
        let q = b
            .schema()
            .index_of("quality")
            .ok()
            .map(|i| b.column(i).clone());
        for i in 0..b.num_rows() {
            let quality = q.as_ref().and_then(|q| {
                let q = q.as_any().downcast_ref::<UInt8Array>().unwrap();
                q.is_valid(i).then(|| q.value(i))
            });
            out.push((
                series.value(i).to_string(),
                ts.value(i),
                v.value(i).to_bits(),
                quality,
            ));
        }
    }
    out
}

#[test]
fn parquet_and_arrow_outputs_read_back() {
    let env = Env::new();
    let f = env.file("in.csv", "t,a,b\n1000,1.5,-0.0\n2000,NaN,inf\n3000,,0.1\n");
    env.ok(&["import", "--tenant", "t", &f]);
    let want = vec![
        ("a".to_string(), 1000, 1.5f64.to_bits(), None),
        ("a".to_string(), 2000, f64::NAN.to_bits(), None),
        ("b".to_string(), 1000, (-0.0f64).to_bits(), None),
        ("b".to_string(), 2000, f64::INFINITY.to_bits(), None),
        ("b".to_string(), 3000, 0.1f64.to_bits(), None),
    ];
    let pq = env.path("out.parquet");
    env.ok(&[
        "query",
        "--tenant",
        "t",
        "--select",
        "*",
        "--format",
        "parquet",
        "--out",
        pq.to_str().unwrap(),
    ]);
    let batches = read_parquet(&pq);
    assert_eq!(f64_rows(&batches), want);
    assert_eq!(batches[0].schema().fields().len(), 3);
    let ipc = env.path("out.arrow");
    env.ok(&[
        "query",
        "--tenant",
        "t",
        "--select",
        "*",
        "--format",
        "arrow",
        "--out",
        ipc.to_str().unwrap(),
    ]);
    assert_eq!(f64_rows(&read_arrow(&ipc)), want);
    // `last` through the same writers.
    env.ok(&[
        "last",
        "--tenant",
        "t",
        "--select",
        "*",
        "--format",
        "arrow",
        "--out",
        ipc.to_str().unwrap(),
    ]);
    assert_eq!(
        f64_rows(&read_arrow(&ipc)),
        [want[1].clone(), want[4].clone()]
    );
    // Both need --out (exit 2).
    env.fails(
        2,
        &[
            "query", "--tenant", "t", "--select", "*", "--format", "parquet",
        ],
    );
    env.fails(
        2,
        &[
            "last", "--tenant", "t", "--select", "*", "--format", "arrow",
        ],
    );
}

#[test]
fn columnar_outputs_keep_quality_and_refuse_mixed_types() {
    let env = Env::new();
    write_specials(&env.data());
    let pq = env.path("f.parquet");
    let pq_s = pq.to_str().unwrap();
    env.ok(&[
        "query", "--tenant", "t", "--select", "f", "--format", "parquet", "--out", pq_s,
    ]);
    let rows = f64_rows(&read_parquet(&pq));
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[0].2, f64::NAN.to_bits());
    let stderr = env.fails(
        1,
        &[
            "query", "--tenant", "t", "--select", "*", "--format", "parquet", "--out", pq_s,
        ],
    );
    assert!(stderr.contains("different value types"), "{stderr}");
    let ipc = env.path("n.arrow");
    env.ok(&[
        "query",
        "--tenant",
        "t",
        "--select",
        "n",
        "--format",
        "arrow",
        "--out",
        ipc.to_str().unwrap(),
    ]);
    let batches = read_arrow(&ipc);
    let q = batches[0]
        .column(3)
        .as_any()
        .downcast_ref::<UInt8Array>()
        .unwrap()
        .clone();
    assert_eq!((q.value(0), q.is_null(1)), (192, true));
    let bools = env.file("b.csv", "t,on\n1,true\n2,false\n");
    env.ok(&["import", "--tenant", "b", &bools]);
    env.ok(&[
        "query", "--tenant", "b", "--select", "on", "--format", "parquet", "--out", pq_s,
    ]);
    let b = read_parquet(&pq);
    let v = b[0]
        .column(2)
        .as_any()
        .downcast_ref::<BooleanArray>()
        .unwrap();
    assert_eq!((v.value(0), v.value(1)), (true, false));
}

#[test]
fn last_prints_the_latest_point_of_each_series() {
    let env = Env::new();
    let f = env.file("in.csv", "t,a,b\n1000,1,10\n3000,3,\n2000,2,20\n");
    env.ok(&["import", "--tenant", "t", &f]);
    let out = env.ok(&["last", "--tenant", "t", "--select", "*", "--epoch"]);
    assert_eq!(lines(&out), ["series,ts,value", "a,3000,3", "b,2000,20"]);
    env.ok(&["flush"]);
    let out = env.ok(&[
        "last",
        "--tenant",
        "t",
        "--select",
        "{__name__=~\"a|b\"}",
        "--format",
        "jsonl",
        "--epoch",
    ]);
    assert_eq!(
        lines(&out),
        [
            r#"{"series":"a","ts":3000,"value":3}"#,
            r#"{"series":"b","ts":2000,"value":20}"#,
        ]
    );
}

#[test]
fn stats_json_has_the_documented_shape() {
    let env = Env::new();
    let f = env.file("in.csv", "t,a,b\n1000,1,10\n2000,2,20\n");
    env.ok(&["import", "--tenant", "acme", &f]);
    env.ok(&["import", "--tenant", "beta", &f]);
    let v: serde_json::Value = serde_json::from_str(env.ok(&["stats", "--json"]).trim()).unwrap();
    let tenants = v["tenants"].as_array().unwrap();
    assert_eq!(tenants.len(), 2);
    let mut keys: Vec<&str> = tenants[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "bytes_on_disk",
            "bytes_per_point",
            "memtable_points",
            "points",
            "segment_bytes",
            "segments",
            "series",
            "storage",
            "tenant",
            "wal_bytes"
        ]
    );
    assert_eq!(tenants[0]["tenant"], "acme");
    assert_eq!(tenants[0]["series"], 2);
    assert_eq!(tenants[0]["points"], 4);
    let flushed: serde_json::Value =
        serde_json::from_str(env.ok(&["flush", "--json"]).trim()).unwrap();
    assert_eq!(flushed["flushed"], serde_json::json!(["acme", "beta"]));
    let v: serde_json::Value =
        serde_json::from_str(env.ok(&["stats", "--tenant", "beta", "--json"]).trim()).unwrap();
    assert_eq!(v["tenants"][0]["tenant"], "beta");
    // The storage breakdown adds up to the segment bytes, and names the codecs.
    let v: serde_json::Value = serde_json::from_str(
        env.ok(&["stats", "--tenant", "beta", "--series", "--json"])
            .trim(),
    )
    .unwrap();
    let t = &v["tenants"][0];
    let st = &t["storage"];
    let parts: u64 = [
        "timestamp_bytes",
        "value_bytes",
        "quality_bytes",
        "block_overhead_bytes",
        "file_overhead_bytes",
    ]
    .iter()
    .map(|k| st[k].as_u64().unwrap())
    .sum();
    assert_eq!(parts, t["segment_bytes"].as_u64().unwrap());
    let codec_bytes: u64 = st["codecs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bytes"].as_u64().unwrap())
        .sum();
    let section_bytes: u64 = ["timestamp_bytes", "value_bytes", "quality_bytes"]
        .iter()
        .map(|k| st[k].as_u64().unwrap())
        .sum();
    assert_eq!(codec_bytes, section_bytes);
    let series = st["series"].as_array().unwrap();
    assert_eq!(series.len(), 2);
    assert_eq!(series[0]["series"], "a");
    assert_eq!(series[0]["points"], 2);
    assert!(series[0]["bytes_per_point"].as_f64().unwrap() > 0.0);
    // b shares a's timestamps.
    assert_eq!(st["shared_timestamp_blocks"], 1);
    assert_eq!(v["tenants"][0]["memtable_points"], 0);
    assert!(v["tenants"][0]["segments"].as_u64().unwrap() >= 1);
    assert!(v["tenants"][0]["bytes_per_point"].as_f64().unwrap() > 0.0);
    assert!(env.ok(&["stats"]).contains("tenant acme"));
    env.fails(1, &["stats", "--tenant", "nobody"]);
}

#[test]
fn verify_passes_then_finds_a_flipped_byte() {
    let env = Env::new();
    let mut csv = String::from("t,a\n");
    for i in 0..2000 {
        csv.push_str(&format!("{},{}\n", i * 1000, (i as f64 * 0.37).sin()));
    }
    let f = env.file("in.csv", &csv);
    env.ok(&["import", "--tenant", "t", &f]);
    env.ok(&["flush"]);
    let out = env.ok(&["verify"]);
    assert!(out.starts_with("ok"), "{out}");
    let v: serde_json::Value = serde_json::from_str(env.ok(&["verify", "--json"]).trim()).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["segment_points"], 2000);
    let dir = env.data().join("tenants").join("t");
    let seg = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "seg"))
        .unwrap();
    let mut bytes = fs::read(&seg).unwrap();
    let mid = bytes.len() / 3;
    bytes[mid] ^= 0x40;
    fs::write(&seg, bytes).unwrap();
    let stderr = env.fails(3, &["verify"]);
    let name = seg.file_name().unwrap().to_str().unwrap();
    assert!(stderr.contains(name), "{stderr}");
    assert!(stderr.contains("offset"), "{stderr}");
    let out = env.run(&["verify", "--json", "--tenant", "t"]);
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["file"].as_str().unwrap().ends_with(name));
}

#[test]
fn tenants_and_drop_tenant() {
    let env = Env::new();
    let f = env.file("in.csv", "t,a\n1000,1\n");
    env.ok(&["import", "--tenant", "one", &f]);
    env.ok(&["import", "--tenant", "two", &f]);
    assert_eq!(env.ok(&["tenants"]), "one\ntwo\n");
    let stderr = env.fails(2, &["drop-tenant", "one"]);
    assert!(stderr.contains("--yes"), "{stderr}");
    assert_eq!(env.ok(&["tenants"]), "one\ntwo\n");
    env.ok(&["drop-tenant", "one", "--yes"]);
    assert_eq!(env.ok(&["tenants"]), "two\n");
    env.fails(1, &["query", "--tenant", "one", "--select", "*"]);
    env.fails(1, &["drop-tenant", "one", "--yes"]);
}

#[test]
fn bad_usage_exits_2() {
    let env = Env::new();
    let f = env.file("in.csv", "t,a\n1000,1\n");
    env.ok(&["import", "--tenant", "t", &f]);
    let cases: [&[&str]; 12] = [
        &["frobnicate"],
        &["query", "--tenant", "t"],
        &["query", "--tenant", "t", "--select", "a{"],
        &[
            "query",
            "--tenant",
            "t",
            "--select",
            "*",
            "--from",
            "yesterday",
        ],
        &["query", "--tenant", "t", "--select", "*", "--format", "xml"],
        &["query", "--tenant", "Bad Name", "--select", "*"],
        &["import", "--tenant", "t", "--tag", "novalue", &f],
        &["import", "--tenant", "t", "--time-format", "weird", &f],
        &["import", "--tenant", "t", "--timezone", "Europe/Berlin", &f],
        &["import", "--tenant", "t", "--delimiter", "ab", &f],
        &["import", "--tenant", "t", "--time-column", "nope", &f],
        &["--durability", "maybe", "tenants"],
    ];
    for args in cases {
        let stderr = env.fails(2, args);
        assert!(!stderr.trim().is_empty(), "{args:?}");
    }
    // A missing data directory is an error, but not a usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_historian"))
        .args([
            "--data-dir",
            env.path("missing").to_str().unwrap(),
            "tenants",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn data_dir_defaults_to_the_environment() {
    let env = Env::new();
    let f = env.file("in.csv", "t,a\n1000,1\n");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_historian"))
            .env("HISTORIAN_DATA_DIR", env.data())
            .args(args)
            .output()
            .unwrap()
    };
    assert!(run(&["import", "--tenant", "t", &f]).status.success());
    assert_eq!(env.ok(&["tenants"]), "t\n");
    assert_eq!(String::from_utf8(run(&["tenants"]).stdout).unwrap(), "t\n");
}

#[test]
fn bench_and_demo_run_small() {
    let env = Env::new();
    let out = env.ok(&[
        "--durability",
        "none",
        "bench",
        "ingest",
        "--points",
        "20000",
        "--series",
        "4",
        "--threads",
        "2",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["points"], 20000);
    assert_eq!(v["batch_points"], 10000);
    assert!(v["points_per_second"].as_f64().unwrap() > 0.0);
    assert!(v["bytes_per_point"].as_f64().unwrap() > 0.0);
    // Only an explicit --data-dir keeps the demo out of a temporary directory.
    let demo = Command::new(env!("CARGO_BIN_EXE_historian"))
        .env("HISTORIAN_DATA_DIR", env.path("demo-data"))
        .args(["demo", "--machines", "3", "--hours", "0.05"])
        .output()
        .unwrap();
    assert!(demo.status.success());
    let out = String::from_utf8(demo.stdout).unwrap();
    assert!(out.contains("[7/7]") && out.contains("ok:"), "{out}");
    assert!(out.contains("temporary directory removed"), "{out}");
    assert!(!env.path("demo-data").exists());
    let out = env.ok(&["demo", "--machines", "1", "--hours", "0.01"]);
    assert!(out.contains("data kept in"), "{out}");
    assert_eq!(env.ok(&["tenants"]), "demo-factory\n");
}
