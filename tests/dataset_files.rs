//! Dataset files: every `.npy` parses back (with the independent reader of
//! `dataset_support`) into exactly the in-memory dataset, the long Parquet
//! form holds the same cells, the manifest records the spec, seq, counts and
//! checksums, `verify` names a damaged, truncated or missing file, and a
//! rebuild from the same data (also after a flush and a reopen) writes
//! byte-identical files; the wide forms (Parquet and Arrow IPC) hold the
//! same cells; a set rebuilt from a pinned snapshot after late and
//! overwriting writes is byte-identical.

mod dataset_support;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampNanosecondType, UInt32Type, UInt64Type};
use arrow_array::{Array, RecordBatch};
use dataset_support::{read_npy, write, write_f64, S};
use historian::dataset::{
    build, build_with, validate, verify, BuildOptions, ChannelSpec, Dataset, DatasetError,
    DatasetSpec, Interpolation, LabelReduce, LabelSpan, LabelSpec, Manifest, MissingPolicy,
    Normalization, OutputFormat, Split, SplitSpec, WindowSpec, MANIFEST_FILE,
};
use historian::{Durability, Engine, Options, Tenant, Value};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// An engine in a temporary directory with tenant `acme` [`fill`]ed.
fn filled() -> (tempfile::TempDir, Engine, Tenant) {
    let (d, e) = dataset_support::engine();
    let t = e.tenant("acme").unwrap();
    fill(&t);
    (d, e, t)
}

fn fill(t: &Tenant) {
    let a: Vec<(i64, f64)> = (0..120)
        .filter(|k| k % 11 != 4)
        .map(|k| (k * S + S / 3, (k as f64 * 0.37).sin() * 10.0))
        .collect();
    write_f64(t, r#"temp{machine="m1"}"#, &a);
    let b: Vec<(i64, Value)> = (0..120).map(|k| (k * S, Value::I64(k % 9))).collect();
    write(t, r#"count{machine="m1"}"#, &b);
    let lab: Vec<(i64, Value)> = (0..120)
        .map(|k| (k * S, Value::Bool((40..46).contains(&k) || k > 100)))
        .collect();
    write(t, r#"anomaly{machine="m1"}"#, &lab);
}

fn spec() -> DatasetSpec {
    DatasetSpec::new(0, 120 * S, S)
        .with_channel(ChannelSpec::new(r#"temp{machine="m1"}"#).with_name("temp"))
        .with_channel(
            ChannelSpec::new(r#"count{machine="m1"}"#)
                .with_name("count")
                .with_interpolation(Interpolation::Step)
                .with_max_gap(3 * S),
        )
        .with_windows(
            WindowSpec::new(8)
                .with_stride(3)
                .with_horizon(2)
                .with_missing(0.2, MissingPolicy::Keep),
        )
        .with_labels(
            LabelSpec::series(r#"anomaly{machine="m1"}"#, LabelReduce::Any)
                .over(LabelSpan::Horizon),
        )
        .with_split(SplitSpec::fractions(0.6, 0.2).with_embargo(4 * S))
        .with_normalize(Normalization::Zscore)
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

#[test]
fn npy_files_hold_the_dataset() {
    let (_d, _e, t) = filled();
    let ds = Dataset::cut(&t, &spec()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let m = ds.write(out.path()).unwrap();
    for split in Split::ALL {
        let s = split.name();
        let wins = ds.windows_in(split);
        assert!(!wins.is_empty(), "{s}");
        let x = read_npy(&out.path().join(format!("X_{s}.npy")));
        let mask = read_npy(&out.path().join(format!("mask_{s}.npy")));
        let fut = read_npy(&out.path().join(format!("future_{s}.npy")));
        let tt = read_npy(&out.path().join(format!("t_{s}.npy")));
        let y = read_npy(&out.path().join(format!("y_{s}.npy")));
        assert_eq!(x.shape, [wins.len(), 2, 8]);
        assert_eq!(mask.shape, x.shape);
        assert_eq!(fut.shape, [wins.len(), 2, 2]);
        assert_eq!(tt.shape, [wins.len()]);
        let (xv, mv, fv) = (x.f64s(), mask.bools(), fut.f64s());
        for (i, w) in wins.iter().enumerate() {
            for c in 0..2 {
                for k in 0..8 {
                    let at = (i * 2 + c) * 8 + k;
                    let cell = ds.cell(c, w.start + k);
                    assert_eq!(mv[at], cell.is_some());
                    assert_eq!(xv[at].to_bits(), cell.unwrap_or(0.0).to_bits());
                }
                for k in 0..2 {
                    let cell = ds.cell(c, w.start + 8 + k).unwrap_or(0.0);
                    assert_eq!(fv[(i * 2 + c) * 2 + k].to_bits(), cell.to_bits());
                }
            }
        }
        let starts: Vec<i64> = wins.iter().map(|w| w.start_ns).collect();
        assert_eq!(tt.i64s(), starts);
        let labels: Vec<u64> = wins.iter().map(|w| w.label.unwrap().to_bits()).collect();
        assert_eq!(
            y.f64s().iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            labels
        );
    }
    // Every train window ends before the first validation window starts.
    let train_end = ds
        .windows_in(Split::Train)
        .iter()
        .map(|w| w.start_ns + 10 * S)
        .max();
    let val_start = read_npy(&out.path().join("t_validation.npy")).i64s()[0];
    assert!(train_end.unwrap() <= val_start);
    assert!(m.splits.iter().all(|s| s.counts.windows > 0));
    assert_eq!(m.snapshot.seq, ds.seq);
}

#[test]
fn parquet_long_form_matches_the_tensors() {
    let (_d, _e, t) = filled();
    let ds = Dataset::cut(&t, &spec()).unwrap();
    let out = tempfile::tempdir().unwrap();
    ds.write(out.path()).unwrap();
    let file = File::open(out.path().join("long.parquet")).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut rows = 0usize;
    let mut expect = Split::ALL.iter().flat_map(|&s| {
        let ds = &ds;
        ds.windows_in(s).iter().flat_map(move |w| {
            (0..2).flat_map(move |c| (0..8).map(move |k| (s, w.index, c, k, w.start + k)))
        })
    });
    for b in reader {
        let b = b.unwrap();
        let split = b.column(0).as_string::<i32>();
        let window = b.column(1).as_primitive::<UInt64Type>();
        let channel = b.column(2).as_string::<i32>();
        let step = b.column(3).as_primitive::<UInt32Type>();
        let ts = b.column(4).as_primitive::<TimestampNanosecondType>();
        let value = b.column(5).as_primitive::<Float64Type>();
        let valid = b.column(6).as_boolean();
        for r in 0..b.num_rows() {
            let (s, wi, c, k, g) = expect.next().unwrap();
            assert_eq!(split.value(r), s.name());
            assert_eq!(window.value(r) as usize, wi);
            assert_eq!(channel.value(r), ["temp", "count"][c]);
            assert_eq!(step.value(r) as usize, k);
            assert_eq!(ts.value(r), ds.time_of(g));
            let cell = ds.cell(c, g);
            assert_eq!(valid.value(r), cell.is_some());
            assert_eq!(value.is_valid(r), cell.is_some());
            if let Some(v) = cell {
                assert_eq!(value.value(r).to_bits(), v.to_bits());
            }
            rows += 1;
        }
    }
    assert!(expect.next().is_none());
    assert_eq!(rows, ds.windows.len() * 2 * 8);
}

#[test]
fn manifest_records_how_the_set_was_made() {
    let (_d, _e, t) = filled();
    let out = tempfile::tempdir().unwrap();
    let m = build(&t, &spec(), out.path()).unwrap();
    let text = std::fs::read_to_string(out.path().join(MANIFEST_FILE)).unwrap();
    let back: Manifest = serde_json::from_str(&text).unwrap();
    assert_eq!(back, m);
    assert_eq!(m.spec, spec());
    // The spec in the manifest reads back as a spec on its own.
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let spec_back: DatasetSpec = serde_json::from_value(v["spec"].clone()).unwrap();
    assert_eq!(spec_back, spec());
    assert_eq!(m.channels[0].series, r#"temp{machine="m1"}"#);
    assert_eq!(m.channels[0].method, "linear");
    assert_eq!(m.channels[1].value_type.as_deref(), Some("i64"));
    assert_eq!(m.normalization.channels.len(), 2);
    assert_eq!(m.grid.value_dtype, "<f8");
    let listed: Vec<&str> = m.files.iter().map(|f| f.name.as_str()).collect();
    let mut on_disk: Vec<String> = files(out.path()).into_keys().collect();
    on_disk.retain(|n| n != MANIFEST_FILE);
    let mut sorted = listed.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, on_disk);
    assert_eq!(listed.len(), 3 * 6 + 2);
    assert_eq!(verify(out.path()).unwrap(), m);
}

#[test]
fn verify_names_a_damaged_file() {
    let (_d, _e, t) = filled();
    let out = tempfile::tempdir().unwrap();
    build(&t, &spec(), out.path()).unwrap();
    let x = out.path().join("X_train.npy");
    let good = std::fs::read(&x).unwrap();
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x10;
    std::fs::write(&x, &flipped).unwrap();
    match verify(out.path()) {
        Err(e @ DatasetError::FileChecksumMismatch { .. }) => {
            assert!(e.to_string().contains("X_train.npy"), "{e}");
            assert!(e.is_corruption());
        }
        other => panic!("{other:?}"),
    }
    std::fs::write(&x, &good[..good.len() - 1]).unwrap();
    let e = verify(out.path()).unwrap_err();
    assert!(
        matches!(&e, DatasetError::FileSizeMismatch { file, .. } if file.ends_with("X_train.npy"))
    );
    std::fs::remove_file(&x).unwrap();
    let e = verify(out.path()).unwrap_err();
    assert!(matches!(&e, DatasetError::FileMissing { file } if file.ends_with("X_train.npy")));
    std::fs::write(&x, &good).unwrap();
    verify(out.path()).unwrap();
    let manifest = out.path().join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("\"X_train.npy\"", "\"../X_train.npy\""),
    )
    .unwrap();
    assert!(matches!(
        verify(out.path()),
        Err(DatasetError::BadManifest { .. })
    ));
    std::fs::write(&manifest, &text[..text.len() / 2]).unwrap();
    assert!(matches!(
        verify(out.path()),
        Err(DatasetError::BadManifest { .. })
    ));
}

#[test]
fn rebuilds_are_byte_identical_across_flush_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let opts = || Options::default().with_durability(Durability::None);
    let out = tempfile::tempdir().unwrap();
    let first = {
        let e = Engine::open(dir.path(), opts()).unwrap();
        let t = e.tenant("acme").unwrap();
        fill(&t);
        build(&t, &spec(), &out.path().join("a")).unwrap();
        build(&t, &spec(), &out.path().join("b")).unwrap();
        e.flush().unwrap();
        build(&t, &spec(), &out.path().join("c")).unwrap();
        files(&out.path().join("a"))
    };
    assert_eq!(files(&out.path().join("b")), first);
    assert_eq!(files(&out.path().join("c")), first);
    let e = Engine::open(dir.path(), opts()).unwrap();
    let t = e.tenant("acme").unwrap();
    build(&t, &spec(), &out.path().join("d")).unwrap();
    assert_eq!(files(&out.path().join("d")), first);
}

/// Reads every batch of `wide.parquet` and of `wide.arrow`.
fn wide_batches(dir: &Path) -> (Vec<RecordBatch>, Vec<RecordBatch>) {
    let file = File::open(dir.join("wide.parquet")).unwrap();
    let parquet = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .with_batch_size(1 << 20)
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let file = File::open(dir.join("wide.arrow")).unwrap();
    let ipc = arrow_ipc::reader::FileReader::try_new(file, None)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (parquet, ipc)
}

#[test]
fn wide_forms_hold_the_tensor_cells_one_row_per_step() {
    let (_d, _e, t) = filled();
    let spec = spec().with_formats(&OutputFormat::ALL);
    let ds = Dataset::cut(&t, &spec).unwrap();
    let out = tempfile::tempdir().unwrap();
    let m = ds.write(out.path()).unwrap();
    let names: Vec<&str> = m.files.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"wide.parquet") && names.contains(&"wide.arrow"));
    assert!(names.contains(&"long.parquet") && names.contains(&"X_train.npy"));
    let (parquet, ipc) = wide_batches(out.path());
    // The test set is small: one Parquet batch; IPC batches never span
    // two splits, so there is one per split.
    assert_eq!((parquet.len(), ipc.len()), (1, 3));
    let p = &parquet[0];
    let mut at = 0;
    for a in &ipc {
        assert_eq!(
            &p.slice(at, a.num_rows()),
            a,
            "Parquet and Arrow IPC differ"
        );
        at += a.num_rows();
    }
    assert_eq!(at, p.num_rows());
    let fields: Vec<&str> = p
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(fields, ["split", "window", "step", "ts", "temp", "count"]);
    let split = p.column(0).as_string::<i32>();
    let window = p.column(1).as_primitive::<UInt64Type>();
    let step = p.column(2).as_primitive::<UInt32Type>();
    let ts = p.column(3).as_primitive::<TimestampNanosecondType>();
    let mut r = 0;
    for s in Split::ALL {
        for w in ds.windows_in(s) {
            for k in 0..8 {
                assert_eq!(split.value(r), s.name());
                assert_eq!(window.value(r) as usize, w.index);
                assert_eq!(step.value(r) as usize, k);
                assert_eq!(ts.value(r), ds.time_of(w.start + k));
                for c in 0..2 {
                    let col = p.column(4 + c).as_primitive::<Float64Type>();
                    match ds.cell(c, w.start + k) {
                        Some(v) => assert_eq!(col.value(r).to_bits(), v.to_bits(), "row {r}"),
                        None => assert!(col.is_null(r), "row {r} channel {c}"),
                    }
                }
                r += 1;
            }
        }
    }
    assert_eq!(r, p.num_rows());
    assert!(
        p.column(4).null_count() > 0,
        "the data has gaps: some cells are null"
    );
}

#[test]
fn bad_output_formats_are_refused_before_reading() {
    let none = spec().with_formats(&[]);
    assert!(matches!(validate(&none), Err(DatasetError::BadOutput(_))));
    let twice = spec().with_formats(&[OutputFormat::Npy, OutputFormat::Npy]);
    let e = validate(&twice).unwrap_err();
    assert!(e.to_string().contains("listed twice"), "{e}");
    let mut clash = spec().with_formats(&[OutputFormat::Arrow]);
    clash.channels[0].name = Some("ts".into());
    let e = validate(&clash).unwrap_err();
    assert!(
        e.is_bad_argument() && e.to_string().contains("\"ts\""),
        "{e}"
    );
    // Only npy: no Parquet forms but the window table.
    let (_d, _e, t) = filled();
    let out = tempfile::tempdir().unwrap();
    let m = build(&t, &spec().with_formats(&[OutputFormat::Npy]), out.path()).unwrap();
    assert!(m
        .files
        .iter()
        .all(|f| f.name.ends_with(".npy") || f.name == "windows.parquet"));
}

/// The grid form: `grid_X` and `grid_mask` are `[channels, points]`, and
/// the window of `index_{split}[w]` cut from them (what NumPy's
/// `sliding_window_view` does) is `X_{split}[w]`, `mask_{split}[w]` and the
/// future after it, bit for bit; `t_*` and `y_*` are written once for both
/// forms; the grid form alone writes no window tensor. Built without syncs,
/// which changes no byte.
#[test]
fn the_grid_form_holds_every_window_of_the_tensors() {
    let (_d, _e, t) = filled();
    let out = tempfile::tempdir().unwrap();
    let both = spec().with_formats(&[OutputFormat::Npy, OutputFormat::NpyGrid]);
    let no_sync = BuildOptions {
        sync: false,
        ..BuildOptions::default()
    };
    let m = build_with(&t, &both, &out.path().join("both"), no_sync).unwrap();
    let dir = out.path().join("both");
    verify(&dir).unwrap();
    let mut names: Vec<&str> = m.files.iter().map(|f| f.name.as_str()).collect();
    let listed = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), listed, "a file listed twice: {names:?}");
    let ds = Dataset::cut(&t, &both).unwrap();
    let (chans, points, len, hor) = (2, ds.axis.points, ds.length(), ds.horizon());
    let grid = read_npy(&dir.join("grid_X.npy"));
    let grid_mask = read_npy(&dir.join("grid_mask.npy"));
    assert_eq!(
        (&grid.shape, &grid_mask.shape),
        (&vec![chans, points], &vec![chans, points])
    );
    let (g, gm) = (grid.f64s(), grid_mask.bools());
    let mut windows = 0;
    for s in Split::ALL {
        let name = s.name();
        let npy = |stem: &str| read_npy(&dir.join(format!("{stem}_{name}.npy")));
        let index = npy("index").i64s();
        let starts: Vec<i64> = ds.windows_in(s).iter().map(|w| w.start as i64).collect();
        assert_eq!(index, starts, "{name}");
        let (x, mask) = (npy("X").f64s(), npy("mask").bools());
        let (future, future_mask) = (npy("future").f64s(), npy("future_mask").bools());
        for (w, &start) in index.iter().enumerate() {
            for c in 0..chans {
                let row = |width: usize, off: usize| {
                    let a = c * points + start as usize + off;
                    a..a + width
                };
                let at = |width: usize| (w * chans + c) * width..(w * chans + c + 1) * width;
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&x[at(len)]), bits(&g[row(len, 0)]), "{name} {w} {c}");
                assert_eq!(mask[at(len)], gm[row(len, 0)], "{name} {w} {c}");
                assert_eq!(bits(&future[at(hor)]), bits(&g[row(hor, len)]));
                assert_eq!(future_mask[at(hor)], gm[row(hor, len)]);
            }
        }
        windows += index.len();
    }
    assert!(
        windows > 10 && gm.contains(&false),
        "the set has windows and gaps"
    );
    // The grid form alone.
    let grid_only = spec().with_formats(&[OutputFormat::NpyGrid]);
    let m = build(&t, &grid_only, &out.path().join("grid")).unwrap();
    let mut names: Vec<String> = m.files.iter().map(|f| f.name.clone()).collect();
    names.sort_unstable();
    let mut want: Vec<String> = ["grid_X.npy", "grid_mask.npy", "windows.parquet"]
        .map(String::from)
        .to_vec();
    for s in ["train", "validation", "test"] {
        want.extend(["index", "t", "y"].map(|k| format!("{k}_{s}.npy")));
    }
    want.sort_unstable();
    assert_eq!(names, want);
    for f in [
        "grid_X.npy",
        "grid_mask.npy",
        "index_train.npy",
        "t_train.npy",
    ] {
        assert_eq!(
            std::fs::read(out.path().join("grid").join(f)).unwrap(),
            std::fs::read(dir.join(f)).unwrap(),
            "{f}"
        );
    }
}

/// Issue 5's rebuild test: cut from a pinned snapshot, then late and
/// overwriting points (and a series that makes a channel selector match two
/// series) arrive and are flushed; after a reopen, the set rebuilt from the
/// pin is byte-identical in every file, while a set cut from the current
/// data differs.
#[test]
fn a_set_rebuilt_from_a_pin_is_byte_identical_after_late_and_overwriting_data() {
    let dir = tempfile::tempdir().unwrap();
    let opts = || Options::default().with_durability(Durability::None);
    let out = tempfile::tempdir().unwrap();
    let spec = spec().with_formats(&OutputFormat::ALL);
    let pinned = |pin| BuildOptions {
        pin: Some(pin),
        ..BuildOptions::default()
    };
    let first = {
        let e = Engine::open(dir.path(), opts()).unwrap();
        let t = e.tenant("acme").unwrap();
        fill(&t);
        let info = t.pin("cut-1").unwrap();
        let m = build_with(&t, &spec, &out.path().join("a"), pinned("cut-1")).unwrap();
        assert_eq!(m.snapshot.pin.as_deref(), Some("cut-1"));
        assert_eq!(m.snapshot.seq, info.seq);
        // Late points in the gaps, overwrites of existing timestamps, new
        // labels, all inside the grid; some flushed, some in memtables.
        let late: Vec<(i64, f64)> = (0..120)
            .filter(|k| k % 11 == 4)
            .map(|k| (k * S + S / 3, 5.0))
            .collect();
        write_f64(&t, r#"temp{machine="m1"}"#, &late);
        let over: Vec<(i64, Value)> = (0..120)
            .step_by(7)
            .map(|k| (k * S, Value::I64(100)))
            .collect();
        write(&t, r#"count{machine="m1"}"#, &over);
        e.flush().unwrap();
        let lab: Vec<(i64, Value)> = (0..120).map(|k| (k * S, Value::Bool(true))).collect();
        write(&t, r#"anomaly{machine="m1"}"#, &lab);
        write_f64(&t, r#"temp{machine="m1",sensor="b"}"#, &[(S, 1.0)]);
        files(&out.path().join("a"))
    };
    let e = Engine::open(dir.path(), opts()).unwrap();
    let t = e.tenant("acme").unwrap();
    build_with(&t, &spec, &out.path().join("b"), pinned("cut-1")).unwrap();
    assert_eq!(files(&out.path().join("b")), first);
    // The current data: the new series makes the temp selector ambiguous.
    let e2 = build(&t, &spec, &out.path().join("c")).unwrap_err();
    assert!(e2.to_string().contains("matches 2 series"), "{e2}");
    // Without it, the late and overwriting points change the set.
    let mut unambiguous = spec.clone();
    unambiguous.channels[0].select = r#"temp{machine="m1",sensor=""}"#.into();
    build(&t, &unambiguous, &out.path().join("d")).unwrap();
    let now = files(&out.path().join("d"));
    assert_ne!(now["X_train.npy"], first["X_train.npy"]);
    assert_ne!(now["mask_train.npy"], first["mask_train.npy"]);
    // An unknown pin is a bad argument, reported before anything is written.
    let e3 = build_with(&t, &spec, &out.path().join("e"), pinned("nope")).unwrap_err();
    assert!(e3.is_bad_argument(), "{e3}");
    assert!(!out.path().join("e").exists());
}
