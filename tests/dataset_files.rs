//! Dataset files: every `.npy` parses back (with the independent reader of
//! `dataset_support`) into exactly the in-memory dataset, the long Parquet
//! form holds the same cells, the manifest records the spec, seq, counts and
//! checksums, `verify` names a damaged, truncated or missing file, and a
//! rebuild from the same data (also after a flush and a reopen) writes
//! byte-identical files.

mod dataset_support;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampNanosecondType, UInt32Type, UInt64Type};
use arrow_array::Array;
use dataset_support::{read_npy, write, write_f64, S};
use historian::dataset::{
    build, verify, ChannelSpec, Dataset, DatasetError, DatasetSpec, Interpolation, LabelReduce,
    LabelSpan, LabelSpec, Manifest, MissingPolicy, Normalization, Split, SplitSpec, WindowSpec,
    MANIFEST_FILE,
};
use historian::{Durability, Engine, Options, Tenant, Value};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

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
    let (_d, e) = dataset_support::engine();
    let t = e.tenant("acme").unwrap();
    fill(&t);
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
    let (_d, e) = dataset_support::engine();
    let t = e.tenant("acme").unwrap();
    fill(&t);
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
    let (_d, e) = dataset_support::engine();
    let t = e.tenant("acme").unwrap();
    fill(&t);
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
    let (_d, e) = dataset_support::engine();
    let t = e.tenant("acme").unwrap();
    fill(&t);
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
