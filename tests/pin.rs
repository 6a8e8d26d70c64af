//! Pinned snapshots (issue 5, reproducibility): a pin holds exactly the
//! writes acknowledged before it, whatever is written, overwritten, flushed
//! or reopened afterwards; pins are durable, named and released.

use std::collections::BTreeMap;
use std::sync::Arc;

use historian::query::TimeRange;
use historian::vfs::SimFs;
use historian::{Engine, Error, Options, Selector, SeriesKey, Tenant, Value, WriteBatch};

fn opts(fs: &SimFs) -> Options {
    Options::default()
        .with_vfs(Arc::new(fs.clone()))
        .with_background_flush(false)
}

fn key(machine: &str) -> SeriesKey {
    SeriesKey::new("pressure", [("machine", machine)]).unwrap()
}

type Points = BTreeMap<String, Vec<(i64, u64)>>;

fn collect(iter: historian::query::ScanIter) -> Points {
    iter.map(|s| {
        let s = s.unwrap();
        let pts = s.cols.ts.iter().copied().zip(s.cols.values.iter().copied());
        (s.key.to_string(), pts.collect())
    })
    .collect()
}

fn everything() -> (Selector, TimeRange) {
    let all = TimeRange::inclusive(i64::MIN, i64::MAX).unwrap();
    (Selector::parse("pressure").unwrap(), all)
}

fn pinned(t: &Tenant, name: &str) -> Points {
    let (sel, all) = everything();
    collect(t.pinned_snapshot(name, &sel, all).unwrap().scan())
}

fn current(t: &Tenant) -> Points {
    let (sel, all) = everything();
    collect(t.snapshot(&sel, all).scan())
}

fn write(t: &Tenant, machine: &str, points: &[(i64, f64)]) -> u64 {
    let mut b = WriteBatch::new();
    for &(ts, v) in points {
        b.push_value(&key(machine), ts, Value::F64(v)).unwrap();
    }
    t.write(&b).unwrap().seq
}

#[test]
fn a_pin_keeps_its_points_through_late_and_overwriting_writes_flushes_and_reopen() {
    let fs = SimFs::new();
    let before;
    {
        let e = Engine::open("db", opts(&fs)).unwrap();
        let t = e.tenant("acme").unwrap();
        write(&t, "m1", &[(10, 1.0), (20, 2.0), (30, 3.0)]);
        e.flush().unwrap();
        // Unflushed at pin time: pinning must flush it.
        let last = write(&t, "m1", &[(40, 4.0), (50, 5.0)]);
        before = current(&t);
        let info = t.pin("cut-1").unwrap();
        assert_eq!(info.seq, last);
        assert_eq!(info.points, 5);
        assert_eq!(t.stats().unwrap().memtable_points, 0, "pinning flushes");
        // Late, overwriting and new-series writes, in memtables and segments.
        write(&t, "m1", &[(5, -1.0), (20, 99.0), (60, 6.0)]);
        write(&t, "m2", &[(20, 7.0)]);
        e.flush().unwrap();
        write(&t, "m1", &[(30, 77.0)]);
        assert_eq!(pinned(&t, "cut-1"), before);
        assert_ne!(current(&t), before);
        e.close().unwrap();
    }
    let e = Engine::open("db", opts(&fs)).unwrap();
    let t = e.tenant("acme").unwrap();
    assert_eq!(pinned(&t, "cut-1"), before, "after reopen");
    let pins = t.pins();
    assert_eq!(pins.len(), 1);
    assert_eq!((pins[0].name.as_str(), pins[0].points), ("cut-1", 5));
    let now = current(&t);
    let m1 = &now["pressure{machine=\"m1\"}"];
    assert_eq!(m1[0], (5, (-1f64).to_bits()));
    assert_eq!(m1[2], (20, 99f64.to_bits()));
    assert_eq!(m1[3], (30, 77f64.to_bits()));
    // m2 was created after the pin: the pinned snapshot does not select it.
    let (sel, all) = everything();
    assert_eq!(t.pinned_snapshot("cut-1", &sel, all).unwrap().len(), 1);
    assert_eq!(t.snapshot(&sel, all).len(), 2);
}

#[test]
fn pins_are_named_once_released_durably_and_checked() {
    let fs = SimFs::new();
    {
        let e = Engine::open("db", opts(&fs)).unwrap();
        let t = e.tenant("acme").unwrap();
        // A pin of a tenant with nothing written holds nothing.
        let empty = t.pin("empty").unwrap();
        assert_eq!((empty.seq, empty.segments, empty.points), (0, 0, 0));
        assert!(pinned(&t, "empty").is_empty());
        write(&t, "m1", &[(1, 1.0)]);
        t.pin("b").unwrap();
        t.pin("a").unwrap();
        let names: Vec<String> = t.pins().into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["a", "b", "empty"]);
        assert!(matches!(t.pin("a"), Err(Error::PinExists { .. })));
        for bad in ["", "-x", "a b", "a/b", &"x".repeat(129)] {
            let err = t.pin(bad).unwrap_err();
            assert!(err.is_bad_argument(), "{bad:?}: {err}");
        }
        t.release("b").unwrap();
        assert!(matches!(t.release("b"), Err(Error::PinNotFound { .. })));
        let (sel, all) = everything();
        let err = t.pinned_snapshot("b", &sel, all).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tenant \"acme\" has no pinned snapshot \"b\""
        );
        e.close().unwrap();
    }
    let e = Engine::open("db", opts(&fs)).unwrap();
    let t = e.tenant("acme").unwrap();
    let names: Vec<String> = t.pins().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["a", "empty"]);
    assert_eq!(pinned(&t, "a").values().map(Vec::len).sum::<usize>(), 1);
}

/// Writers race the pin: the pin must hold exactly the points whose write
/// was acknowledged with a sequence number up to the pin's.
#[test]
fn a_pin_taken_during_writes_holds_exactly_the_writes_up_to_its_seq() {
    let fs = SimFs::new();
    let e = Engine::open("db", opts(&fs)).unwrap();
    let t = e.tenant("acme").unwrap();
    let writer = {
        let t = t.clone();
        std::thread::spawn(move || {
            let mut acked = Vec::new();
            for i in 0..3_000i64 {
                let m = if i % 2 == 0 { "m1" } else { "m2" };
                acked.push((write(&t, m, &[(i, i as f64)]), m, i));
            }
            acked
        })
    };
    let mut pins = Vec::new();
    for k in 0..20 {
        pins.push(t.pin(&format!("p{k:02}")).unwrap());
    }
    let acked = writer.join().unwrap();
    for p in &pins {
        let mut expected = Points::new();
        for &(seq, m, i) in &acked {
            if seq <= p.seq {
                let k = key(m).to_string();
                expected
                    .entry(k)
                    .or_default()
                    .push((i, (i as f64).to_bits()));
            }
        }
        assert_eq!(
            pinned(&t, &p.name),
            expected,
            "pin {} at seq {}",
            p.name,
            p.seq
        );
    }
}
