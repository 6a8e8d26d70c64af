//! Whole-file tests of format v2: shared timestamps, lossy entries, and every
//! bit flip and truncation of a file whose blocks share timestamp sections.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;

use super::{encode_segment, Segment, SeriesToWrite};
use crate::codec::lossy::{self, Lossy};
use crate::model::{Columns, SeriesKey, ValueType};
use crate::vfs::{StdFs, Vfs};

/// Three series on one 1 Hz clock (2,100 points each, one gap), one on another.
fn machine() -> Vec<(SeriesKey, ValueType, Columns)> {
    let mut ts = Vec::new();
    let mut t = 1_600_000_000_000_000_000i64;
    for i in 0..2_100 {
        t += if i == 700 {
            5_000_000_000
        } else {
            1_000_000_000
        };
        ts.push(t);
    }
    let mut out = Vec::new();
    for (k, name) in ["a", "b", "c"].iter().enumerate() {
        let mut c = Columns::default();
        for (i, &t) in ts.iter().enumerate() {
            let v = 20.0 + ((i * (k + 3)) % 50) as f64 / 100.0;
            c.push(t, v.to_bits(), None);
        }
        out.push((SeriesKey::parse(name).unwrap(), ValueType::F64, c));
    }
    let mut c = Columns::default();
    for i in 0..100i64 {
        c.push(i * 7 + (i % 3), (i * i) as u64, Some((i % 2) as u8));
    }
    out.push((SeriesKey::parse("d").unwrap(), ValueType::I64, c));
    out
}

fn encode(series: &[(SeriesKey, ValueType, Columns)], lossy: Option<Lossy>) -> Vec<u8> {
    let w: Vec<SeriesToWrite<'_>> = series
        .iter()
        .map(|(k, vt, c)| SeriesToWrite {
            key: k,
            value_type: *vt,
            cols: c,
            lossy: if k.to_string() == "a" { lossy } else { None },
        })
        .collect();
    encode_segment(&w).0
}

fn open(dir: &tempfile::TempDir, bytes: &[u8]) -> crate::error::Result<Segment> {
    let vfs: Arc<dyn Vfs> = Arc::new(StdFs::new(dir.path()).unwrap());
    std::fs::write(dir.path().join("s.seg"), bytes).unwrap();
    Segment::open(vfs, "s.seg", 1)
}

fn read_series(seg: &Segment, key: &SeriesKey) -> crate::error::Result<Columns> {
    let ss = seg.find(key).expect("series present");
    let mut all = Columns::default();
    for b in &ss.blocks {
        all.extend_from(&seg.read_block(ss, b)?);
    }
    Ok(all)
}

#[test]
fn series_on_one_clock_store_their_timestamps_once() {
    let series = machine();
    let bytes = encode(&series, None);
    let dir = tempfile::tempdir().unwrap();
    let seg = open(&dir, &bytes).unwrap();
    let mut shared = 0;
    for (k, _, c) in &series {
        assert_eq!(&read_series(&seg, k).unwrap(), c, "{k}");
        let ss = seg.find(k).unwrap();
        for b in &ss.blocks {
            let bd = seg.block_breakdown(ss, b).unwrap().unwrap();
            shared += usize::from(bd.ts_shared);
            assert_eq!(bd.ts_shared, bd.ts_bytes == 0);
            // What a reader prefetches for the block: the shared section, before it.
            let span = super::block::shared_ts_span(&bytes, b.offset, b.len);
            assert_eq!(span.is_some(), bd.ts_shared, "{k}");
            if let Some(r) = span {
                assert!(!r.is_empty() && r.end as u64 <= b.offset, "{k}: {r:?}");
            }
        }
    }
    // b and c reuse a's three timestamp sections.
    assert_eq!(shared, 6);
    assert_eq!(seg.verify().unwrap(), seg.points());
}

#[test]
fn a_clock_is_decoded_once_for_all_its_series() {
    let series = machine();
    let bytes = encode(&series, None);
    let dir = tempfile::tempdir().unwrap();
    let seg = open(&dir, &bytes).unwrap();
    let find = |name: &str| seg.find(&SeriesKey::parse(name).unwrap()).unwrap();
    let (a, b, c, d) = (find("a"), find("b"), find("c"), find("d"));
    let mut buf = crate::segment::BlockBuf::default();
    for k in 0..a.blocks.len() {
        // a carries the section; d, on its own clock, comes between.
        seg.decode_block_into(a, &a.blocks[k], &mut buf).unwrap();
        let (carried, first) = (buf.ts().as_ptr(), buf.ts()[0]);
        seg.decode_block_into(d, &d.blocks[0], &mut buf).unwrap();
        assert_eq!(buf.ts(), &series[3].2.ts[..], "d keeps its own clock");
        for ss in [b, c] {
            seg.decode_block_into(ss, &ss.blocks[k], &mut buf).unwrap();
            assert_eq!(buf.ts().as_ptr(), carried, "block {k}: decoded again");
            assert_eq!(buf.ts()[0], first);
        }
    }
}

#[test]
fn every_bit_flip_and_truncation_is_detected() {
    let series = machine();
    let bytes = encode(&series, None);
    let dir = tempfile::tempdir().unwrap();
    let (mut at_open, mut at_read) = (0, 0);
    for bit in 0..bytes.len() * 8 {
        let mut b = bytes.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        let Ok(seg) = open(&dir, &b) else {
            at_open += 1;
            continue;
        };
        let mut failed = false;
        for (k, _, c) in &series {
            match seg.find(k).map(|_| read_series(&seg, k)) {
                Some(Ok(got)) => assert_eq!(&got, c, "bit {bit}: wrong values of {k}"),
                Some(Err(_)) => failed = true,
                None => failed = true,
            }
        }
        assert!(failed, "bit {bit} went undetected");
        at_read += 1;
    }
    for cut in 0..bytes.len() {
        assert!(open(&dir, &bytes[..cut]).is_err(), "truncation at {cut}");
    }
    assert_eq!(at_open + at_read, bytes.len() * 8);
}

#[test]
fn lossy_series_record_their_bound_and_stay_within_it() {
    let series = machine();
    let kind = Lossy::SwingingDoor { bound: 0.05 };
    let bytes = encode(&series, Some(kind));
    let dir = tempfile::tempdir().unwrap();
    let seg = open(&dir, &bytes).unwrap();
    let a = SeriesKey::parse("a").unwrap();
    assert_eq!(seg.find(&a).unwrap().lossy, Some(kind));
    assert_eq!(
        seg.find(&SeriesKey::parse("b").unwrap()).unwrap().lossy,
        None
    );
    let kept = read_series(&seg, &a).unwrap();
    let orig = &series[0].2;
    assert!(kept.len() < orig.len());
    let kv: Vec<f64> = kept.values.iter().map(|&b| f64::from_bits(b)).collect();
    for (&t, &v) in orig.ts.iter().zip(&orig.values) {
        let r = lossy::reconstruct(kind, &kept.ts, &kv, t).unwrap();
        assert!((r - f64::from_bits(v)).abs() <= 0.05, "t {t}");
    }
}
