//! End-to-end tests of `historian dataset` and `historian pin` (issue 5):
//! a set cut from imported CSV data, rebuilt byte-identically from a pin
//! after late and overwriting imports, `--verify` of a good and of a damaged
//! set, and the exit statuses of bad specs and flags (checked before any
//! data is read).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

#[path = "common/cli_env.rs"]
mod cli_env;

use cli_env::Env;

const S: i64 = 1_000_000_000;

/// Two sensors sampled every second (a gap in `b`), as CSV with ns times.
fn csv(from: i64, to: i64, scale: f64) -> String {
    let mut text = String::from("time,a,b\n");
    for k in from..to {
        let b = if (30..34).contains(&k) {
            String::new()
        } else {
            format!("{}", k as f64 * scale)
        };
        text.push_str(&format!("{},{},{b}\n", k * S, (k as f64 * 0.1).sin()));
    }
    text
}

const SPEC: &str = r#"
normalize = "zscore"
[grid]
from = 500000000        # 0.5 s: every cell is interpolated
to = 100000000000
step = "1s"
max_gap = "2s"
[[channels]]
select = "a"
[[channels]]
select = "b"
interpolation = "step"
[windows]
length = 10
stride = 5
max_missing = 0.5
missing = "keep"
[split]
train = 0.6
validation = 0.2
embargo = "3s"
[output]
formats = ["npy", "parquet-wide", "arrow"]
"#;

fn import(env: &Env, name: &str, text: &str) {
    let f = env.file(name, text);
    env.ok(&["import", "--tenant", "t", "--time-format", "epoch_ns", &f]);
}

/// `dataset` of tenant `t` with `spec` into `out`, expecting success.
fn dataset(env: &Env, spec: &str, out: &Path, extra: &[&str]) -> String {
    let out = out.to_str().unwrap();
    let mut args = vec!["dataset", "--tenant", "t", "--spec", spec, "--out", out];
    args.extend_from_slice(extra);
    env.ok(&args)
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_str().unwrap().to_string(),
                fs::read(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn dataset_pin_and_verify_end_to_end() {
    let env = Env::new();
    import(&env, "a.csv", &csv(0, 100, 1.0));
    let spec = env.file("spec.toml", SPEC);
    let pinned = env.ok(&["pin", "--tenant", "t", "cut-1"]);
    assert!(pinned.starts_with("pinned cut-1 at seq "), "{pinned}");
    let listed = env.ok(&["pin", "--tenant", "t", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(v["pins"][0]["pin"], "cut-1");
    assert_eq!(v["pins"][0]["points"], 196);

    let a = env.path("a");
    let out = dataset(&env, &spec, &a, &["--pin", "cut-1", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["pin"], "cut-1");
    assert_eq!(v["source_points"], 196);
    assert_eq!(v["channels"], 2);
    assert!(v["windows"]["train"].as_u64().unwrap() > 0);
    let first = files(&a);
    assert!(first.contains_key("wide.arrow") && first.contains_key("X_train.npy"));
    assert!(!first.contains_key("long.parquet"));

    // Late and overwriting points arrive; the set from the pin is unchanged
    // (rebuilt without syncs, which changes no byte either).
    import(&env, "late.csv", &csv(20, 120, 3.0));
    env.ok(&["flush"]);
    let b = env.path("b");
    dataset(&env, &spec, &b, &["--pin", "cut-1", "--no-sync"]);
    assert_eq!(files(&b), first);
    let c = env.path("c");
    let text = dataset(&env, &spec, &c, &[]);
    assert!(text.contains("source points"), "{text}");
    assert_ne!(files(&c)["X_train.npy"], first["X_train.npy"]);

    let ok = env.ok(&["dataset", "--verify", a.to_str().unwrap()]);
    assert!(ok.starts_with("ok: "), "{ok}");
    let x = a.join("X_validation.npy");
    let mut bytes = fs::read(&x).unwrap();
    let mid = bytes.len() - 3;
    bytes[mid] ^= 1;
    fs::write(&x, &bytes).unwrap();
    let err = env.fails(3, &["dataset", "--verify", a.to_str().unwrap()]);
    assert!(
        err.contains("X_validation.npy") && err.contains("sha256"),
        "{err}"
    );

    env.ok(&["pin", "--tenant", "t", "--release", "cut-1"]);
    let err = env.fails(2, &["pin", "--tenant", "t", "--release", "cut-1"]);
    assert!(err.contains("no pinned snapshot \"cut-1\""), "{err}");
}

#[test]
fn bad_specs_and_flags_exit_2_before_any_data_is_read() {
    let env = Env::new();
    import(&env, "a.csv", &csv(0, 100, 1.0));
    let out = env.path("out");
    let out = out.to_str().unwrap();
    let run = |spec_text: &str, extra: &[&str]| {
        let spec = env.file("bad.toml", spec_text);
        let mut args = vec!["dataset", "--tenant", "t", "--spec", &spec, "--out", out];
        args.extend_from_slice(extra);
        env.fails(2, &args)
    };
    let cases = [
        (
            SPEC.replace("step = \"1s\"", "step = \"0s\""),
            "step must be > 0",
        ),
        (
            SPEC.replace("to = 100000000000", "to = 0"),
            "empty time range",
        ),
        (
            SPEC.replace("length = 10", "length = 1000"),
            "spans 1000 steps",
        ),
        (
            SPEC.replace("select = \"a\"", "select = \"nope\""),
            "matches no series",
        ),
        (SPEC.replace("train = 0.6", "train = 0.01"), "train"),
        (
            SPEC.replace("stride = 5", "stride = 5\ncolour = 1"),
            "unknown field",
        ),
        (
            SPEC.replace("\"arrow\"]", "\"arrow\", \"npy\"]"),
            "listed twice",
        ),
    ];
    for (text, needle) in &cases {
        let err = run(text, &[]);
        assert!(err.contains(needle), "{needle}: {err}");
        assert!(!Path::new(out).exists(), "{needle}: nothing is written");
    }
    let err = run(SPEC, &["--pin", "nope"]);
    assert!(err.contains("--pin") && err.contains("nope"), "{err}");
    fs::create_dir_all(Path::new(out)).unwrap();
    fs::write(Path::new(out).join("keep.txt"), "x").unwrap();
    let err = run(SPEC, &[]);
    assert!(err.contains("not empty"), "{err}");
    let missing = env.path("missing.toml");
    let err = env.fails(
        2,
        &[
            "dataset",
            "--tenant",
            "t",
            "--spec",
            missing.to_str().unwrap(),
            "--out",
            "x",
        ],
    );
    assert!(err.contains("missing.toml"), "{err}");
    let err = env.fails(2, &["dataset", "--tenant", "t"]);
    assert!(err.contains("--spec"), "{err}");
}
