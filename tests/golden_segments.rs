//! Golden segment files, one per format version, kept forever: every version
//! this build claims to read must still decode to exactly the points below.
//!
//! The files were written by the build of their version with
//! `HISTORIAN_WRITE_GOLDEN=<version> cargo test --test golden_segments`;
//! a later build only reads them (regenerating an old version is impossible
//! once its writer is gone, which is the point).

use std::path::PathBuf;
use std::sync::Arc;

use historian::model::{Columns, SeriesKey, ValueType};
use historian::query::kernels;
use historian::segment::{encode_segment, Segment, SeriesToWrite, LANE_STATS_VERSION};
use historian::vfs::StdFs;

/// The points every golden file holds: series of each value type, with and
/// without qualities, regular and jittered timestamps, extreme values, and a
/// series long enough for several blocks.
fn golden_series() -> Vec<(SeriesKey, ValueType, Columns)> {
    let mut out = Vec::new();
    // f64, 2,500 points of a decimal sensor at 1 s with a few gaps.
    let mut c = Columns::default();
    let mut t = 1_583_748_873_000_000_000i64;
    for i in 0..2_500u64 {
        t += if i % 97 == 0 {
            2_000_000_000
        } else {
            1_000_000_000
        };
        let v = 79.3366 + ((i * 7919) % 1000) as f64 / 10_000.0;
        c.push(t, v.to_bits(), None);
    }
    out.push((key("oven_temp{line=\"1\"}"), ValueType::F64, c));
    // f64 specials with qualities.
    let specials = [
        0.0,
        -0.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE,
        5e-324,
        f64::MAX,
        f64::MIN,
        0.1,
    ];
    let mut c = Columns::default();
    for (i, v) in specials.iter().enumerate() {
        let q = if i % 3 == 0 {
            None
        } else {
            Some(192 + i as u8)
        };
        c.push(i as i64 * 10 - 40, v.to_bits(), q);
    }
    c.push(60, 0x7ff8_0000_dead_beef, Some(0)); // a NaN with a payload
    out.push((key("specials"), ValueType::F64, c));
    // i64 counter with extreme timestamps and values.
    let mut c = Columns::default();
    c.push(i64::MIN, i64::MIN as u64, None);
    for i in 0..300i64 {
        c.push(i * 1_000, (i * i - 7) as u64, None);
    }
    c.push(i64::MAX, i64::MAX as u64, None);
    out.push((key("press_count{machine=\"p7\"}"), ValueType::I64, c));
    // bool with long runs.
    let mut c = Columns::default();
    for i in 0..1_500i64 {
        c.push(i * 100, u64::from((i / 200) % 2 == 1), None);
    }
    out.push((key("valve_open"), ValueType::Bool, c));
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn key(s: &str) -> SeriesKey {
    SeriesKey::parse(s).expect("valid key")
}

fn golden_path(version: u16) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("segment_v{version}.seg"))
}

fn check_golden(version: u16) {
    let path = golden_path(version);
    if std::env::var("HISTORIAN_WRITE_GOLDEN").as_deref() == Ok(&version.to_string()) {
        let series = golden_series();
        let to_write: Vec<SeriesToWrite<'_>> = series
            .iter()
            .map(|(k, vt, c)| SeriesToWrite {
                key: k,
                value_type: *vt,
                cols: c,
                lossy: None,
            })
            .collect();
        let (bytes, _) = encode_segment(&to_write);
        std::fs::write(&path, bytes).expect("write golden");
    }
    let dir = path.parent().expect("dir");
    let vfs = Arc::new(StdFs::new(dir).expect("vfs"));
    let name = path.file_name().and_then(|n| n.to_str()).expect("name");
    let seg = Segment::open(vfs, name, 1).expect("golden segment opens");
    let want = golden_series();
    assert_eq!(seg.series().len(), want.len(), "series count");
    for (k, vt, cols) in &want {
        let ss = seg.find(k).unwrap_or_else(|| panic!("{k} missing"));
        assert_eq!(ss.value_type, *vt, "{k}");
        let mut got = Columns::default();
        for b in &ss.blocks {
            got.extend_from(&seg.read_block(ss, b).expect("block decodes"));
        }
        assert_eq!(got.ts, cols.ts, "{k} timestamps");
        assert_eq!(got.values, cols.values, "{k} values (bits)");
        assert_eq!(got.quality, cols.quality, "{k} qualities");
    }
    assert_eq!(seg.verify().expect("verify"), seg.points());
    assert_eq!(seg.version(), version);
    if version >= LANE_STATS_VERSION {
        check_lane_stats(&seg);
    }
}

/// From v3 on, block statistics are the query kernels' results on the
/// decoded values, bit for bit (what statistics push-down relies on).
fn check_lane_stats(seg: &Segment) {
    for ss in seg.series() {
        for b in &ss.blocks {
            let v = seg.read_block(ss, b).expect("block decodes").values;
            let (sum, min, max) = match ss.value_type {
                ValueType::F64 => {
                    let (lo, hi) = kernels::min_max_f64(&v);
                    (kernels::sum_f64(&v), lo, hi)
                }
                _ => {
                    let (lo, hi) = kernels::min_max_int(&v);
                    (kernels::sum_int(&v), lo as u64, hi as u64)
                }
            };
            // A NaN sum only as NaN: Rust leaves the payload of a NaN that
            // arithmetic produces unspecified, and it changes with the code
            // the compiler emits; queries report any NaN sum as the canonical
            // NaN (query/partial.rs, invariant 4).
            let stored = b.stats.sum;
            let same = stored.to_bits() == sum.to_bits() || (stored.is_nan() && sum.is_nan());
            assert!(same, "{} sum: stored {stored:?}, kernels {sum:?}", ss.key);
            assert_eq!((b.stats.min, b.stats.max), (min, max), "{} min/max", ss.key);
        }
    }
}

#[test]
fn golden_v1_segment_still_reads() {
    check_golden(1);
}

#[test]
fn golden_v2_segment_still_reads() {
    check_golden(2);
}

#[test]
fn golden_v3_segment_still_reads() {
    check_golden(3);
}
