//! The latest-point cache behind `last`: kept up to date by writes (newer
//! timestamp wins, an equal timestamp written later wins, an older one
//! changes nothing), untouched by flushes, and rebuilt at open from segments
//! (newest segment on equal timestamps) and WAL replay (which may overwrite a
//! flushed point at the same timestamp). Its answer is compared with the last
//! point of a full scan after every step.

use std::sync::Arc;

use historian::vfs::SimFs;
use historian::{Engine, Options, Selector, SeriesKey, Tenant, Value, WriteBatch};

fn write(t: &Tenant, key: &SeriesKey, points: &[(i64, f64)]) {
    let mut b = WriteBatch::new();
    for &(ts, v) in points {
        b.push_value(key, ts, Value::F64(v)).unwrap();
    }
    t.write(&b).unwrap();
}

/// Latest points as (key, ts, value).
type Latest = Vec<(String, i64, f64)>;

/// `last` from the cache, and from a full scan.
fn both(t: &Tenant) -> (Latest, Latest) {
    let cached = t
        .latest(&Selector::all())
        .into_iter()
        .map(|l| (l.key_text.to_string(), l.point.ts, l.point.value.as_f64()))
        .collect();
    let scanned = t
        .scan(&Selector::all(), i64::MIN, i64::MAX)
        .map(|s| {
            let s = s.unwrap();
            let p = s.points().last().unwrap();
            (s.key.to_string(), p.ts, p.value.as_f64())
        })
        .collect();
    (cached, scanned)
}

#[test]
fn last_follows_writes_flushes_and_reopens() {
    let fs = SimFs::new();
    let opts = || {
        Options::default()
            .with_vfs(Arc::new(fs.clone()))
            .with_background_flush(false)
    };
    let a = SeriesKey::new("temp", [("machine", "a")]).unwrap();
    let b = SeriesKey::new("temp", [("machine", "b")]).unwrap();
    let engine = Engine::open("db", opts()).unwrap();
    let t = engine.tenant("acme").unwrap();
    write(&t, &a, &[(10, 1.0), (30, 3.0), (20, 2.0)]);
    write(&t, &b, &[(5, 50.0)]);
    let (cached, scanned) = both(&t);
    assert_eq!(cached, scanned);
    assert_eq!(cached[0], ("temp{machine=\"a\"}".into(), 30, 3.0));
    engine.flush().unwrap();
    write(&t, &a, &[(30, 3.5)]); // same ts, later write: wins
    write(&t, &a, &[(25, 9.0)]); // older: no change
    engine.flush().unwrap();
    write(&t, &b, &[(5, 55.0)]); // only in the WAL, overwrites a flushed point
    let (cached, scanned) = both(&t);
    assert_eq!(cached, scanned);
    assert_eq!(cached[0].2, 3.5);
    assert_eq!(cached[1].2, 55.0);
    drop(engine);
    let engine = Engine::open("db", opts()).unwrap();
    let t = engine.tenant("acme").unwrap();
    let (after, scanned) = both(&t);
    assert_eq!(after, scanned);
    assert_eq!(after, cached, "rebuilt from two segments and the WAL");
    let one = Selector::parse(r#"temp{machine="b"}"#).unwrap();
    assert_eq!(t.latest(&one).len(), 1);
    assert!(t.latest(&Selector::parse("pressure").unwrap()).is_empty());
}
