//! A dataset cut from real data: one SKAB recording (Skoltech Anomaly
//! Benchmark, `../shared/data/skab`, GPL: read in place, never copied into
//! the repository) with its 8 sensors as channels on a grid offset by half a
//! second (so every value is interpolated), windows of 60 s with stride
//! 10 s, labels from the `anomaly` column, a split with an embargo and
//! z-scores. A few hundred cells, chosen by a fixed LCG, are recomputed from
//! the raw CSV with linear and step interpolation; labels from the raw
//! rows; shapes and statistics from the written files. Without the data the
//! test prints why and passes.

mod dataset_support;

use std::path::{Path, PathBuf};

use dataset_support::{engine, read_npy, write_f64, S};
use historian::dataset::{
    build, ChannelSpec, Dataset, DatasetSpec, Interpolation, LabelReduce, LabelSpec, MissingPolicy,
    Normalization, Split, SplitSpec, WindowSpec,
};
use historian::text::time::{parse_timestamp, Timezone};

const SENSORS: [&str; 8] = dataset_support::SKAB_SENSORS;

fn csv_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/skab/valve1/0.csv")
}

/// Rows of the CSV: (ts, the 8 sensors, anomaly), sorted, last row wins per ts.
fn rows(path: &Path) -> Vec<(i64, Vec<f64>, f64)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out: Vec<(i64, Vec<f64>, f64)> = Vec::new();
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(';').collect();
        let ts = parse_timestamp(cells[0], Timezone::UTC).unwrap();
        let v: Vec<f64> = cells[1..=8].iter().map(|c| c.parse().unwrap()).collect();
        let anomaly: f64 = cells[9].parse().unwrap();
        out.push((ts, v, anomaly));
    }
    out.sort_by_key(|r| r.0);
    out.dedup_by(|later, earlier| {
        let same = later.0 == earlier.0;
        if same {
            std::mem::swap(later, earlier);
        }
        same
    });
    out
}

/// Linear (or step) interpolation at `t` from the raw rows of sensor `c`.
fn expected(
    rows: &[(i64, Vec<f64>, f64)],
    c: usize,
    t: i64,
    gap: i64,
    linear: bool,
) -> Option<f64> {
    let after = rows.partition_point(|r| r.0 <= t);
    let prev = rows.get(after.checked_sub(1)?)?;
    if prev.0 == t {
        return Some(prev.1[c]);
    }
    if !linear {
        return (t - prev.0 <= gap).then_some(prev.1[c]);
    }
    let next = rows.get(after)?;
    if next.0 - prev.0 > gap {
        return None;
    }
    let f = (t - prev.0) as f64 / (next.0 - prev.0) as f64;
    Some(prev.1[c] + (next.1[c] - prev.1[c]) * f)
}

#[test]
fn skab_recording_against_the_raw_csv() {
    let path = csv_path();
    if !path.exists() {
        eprintln!(
            "skipped: {} is absent (SKAB data not installed)",
            path.display()
        );
        return;
    }
    let rows = rows(&path);
    let (_d, e) = engine();
    let t = e.tenant("skab").unwrap();
    for (c, name) in SENSORS.iter().enumerate() {
        let pts: Vec<(i64, f64)> = rows.iter().map(|r| (r.0, r.1[c])).collect();
        write_f64(
            &t,
            &format!(r#"{{__name__="{name}",file="valve1_0"}}"#),
            &pts,
        );
    }
    let lab: Vec<(i64, f64)> = rows.iter().map(|r| (r.0, r.2)).collect();
    write_f64(&t, r#"anomaly{file="valve1_0"}"#, &lab);
    e.flush().unwrap();

    let from = rows[0].0 + S / 2;
    let to = rows.last().unwrap().0;
    let mut spec = DatasetSpec::new(from, to, S)
        .with_max_gap(2 * S)
        .with_windows(
            WindowSpec::new(60)
                .with_stride(10)
                .with_missing(0.05, MissingPolicy::Drop),
        )
        .with_labels(LabelSpec::series(
            r#"anomaly{file="valve1_0"}"#,
            LabelReduce::Any,
        ))
        .with_split(SplitSpec::fractions(0.6, 0.2).with_embargo(60 * S))
        .with_normalize(Normalization::Zscore);
    for (c, name) in SENSORS.iter().enumerate() {
        let mut ch = ChannelSpec::new(format!(r#"{{__name__="{name}",file="valve1_0"}}"#));
        if c == 4 {
            ch = ch.with_interpolation(Interpolation::Step);
        }
        spec = spec.with_channel(ch);
    }
    let ds = Dataset::cut(&t, &spec).unwrap();
    let out = tempfile::tempdir().unwrap();
    let m = build(&t, &spec, out.path()).unwrap();
    assert_eq!(m.source_points as usize, rows.len() * 9);

    // Values: a fixed pseudo-random sample of grid cells.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..400 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let k = (seed >> 33) as usize % ds.axis.points;
        let c = (seed >> 20) as usize % 8;
        let want = expected(&rows, c, ds.time_of(k), 2 * S, c != 4);
        let got = ds.raw(c, k);
        match (want, got) {
            (Some(w), Some(g)) => assert!((w - g).abs() <= 1e-12 * w.abs().max(1.0), "{c} {k}"),
            (w, g) => assert_eq!(w, g, "channel {c} grid point {k}"),
        }
    }
    // Labels: any anomaly row inside each window.
    for w in &ds.windows {
        let (a, b) = (w.start_ns, w.start_ns + 60 * S);
        let any = rows.iter().any(|r| r.0 >= a && r.0 < b && r.2 != 0.0);
        assert_eq!(w.label, Some(if any { 1.0 } else { 0.0 }));
    }
    // Files: shapes, no train window after the first validation one, stats.
    let x = read_npy(&out.path().join("X_train.npy"));
    let mask = read_npy(&out.path().join("mask_train.npy")).bools();
    let n_train = ds.windows_in(Split::Train).len();
    assert_eq!(x.shape, [n_train, 8, 60]);
    let t_train = read_npy(&out.path().join("t_train.npy")).i64s();
    let t_val = read_npy(&out.path().join("t_validation.npy")).i64s();
    assert!(t_train.last().unwrap() + 60 * S <= t_val[0]);
    let xs = x.f64s();
    for (c, s) in m.normalization.channels.iter().enumerate() {
        let raw: Vec<f64> = (0..n_train)
            .flat_map(|w| (0..60).map(move |k| (w * 8 + c) * 60 + k))
            .filter(|&i| mask[i])
            .map(|i| xs[i] * s.scale + s.offset)
            .collect();
        let mean = raw.iter().sum::<f64>() / raw.len() as f64;
        let tol = 1e-9 * s.std.unwrap().max(1.0);
        assert!(
            (mean - s.mean.unwrap()).abs() < tol,
            "{}: {mean} vs {:?}",
            s.channel,
            s.mean
        );
    }
    eprintln!(
        "SKAB valve1/0: {} grid points, windows {:?}, seq {}",
        ds.axis.points,
        m.splits
            .iter()
            .map(|s| s.counts.windows)
            .collect::<Vec<_>>(),
        m.snapshot.seq
    );
}
