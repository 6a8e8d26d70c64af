//! Regression: `Tenant::last` read memtables through the half-open range
//! `[i64::MIN, i64::MAX)`, so a point at `ts = i64::MAX` was invisible to
//! `last` while unflushed but visible once flushed (segments return whole
//! blocks): the answer changed across a flush or a reopen. Found by
//! tests/model_oracle.rs; `last` now reads memtables whole.

use std::sync::Arc;

use historian::vfs::SimFs;
use historian::{Engine, Options, Selector, SeriesKey, Value, WriteBatch};

#[test]
fn last_returns_a_point_at_i64_max_before_and_after_flush() {
    let fs = SimFs::new();
    let opts = || {
        Options::default()
            .with_vfs(Arc::new(fs.clone()))
            .with_background_flush(false)
    };
    let engine = Engine::open("db", opts()).unwrap();
    let t = engine.tenant("acme").unwrap();
    let key = SeriesKey::new("temp", [("machine", "m1")]).unwrap();
    let mut wb = WriteBatch::new();
    wb.push_value(&key, 5, Value::F64(1.0)).unwrap();
    wb.push_value(&key, i64::MAX, Value::F64(2.0)).unwrap();
    t.write(&wb).unwrap();
    let sel = Selector::parse("temp").unwrap();
    let last_ts = |t: &historian::Tenant| t.last(&sel).unwrap()[0].2.ts;
    assert_eq!(last_ts(&t), i64::MAX, "active memtable");
    // Out of order into a second batch, still unflushed.
    let mut wb = WriteBatch::new();
    wb.push_value(&key, 7, Value::F64(3.0)).unwrap();
    t.write(&wb).unwrap();
    assert_eq!(last_ts(&t), i64::MAX, "unsorted active memtable");
    engine.flush().unwrap();
    assert_eq!(last_ts(&t), i64::MAX, "segment");
    drop(engine);
    let engine = Engine::open("db", opts()).unwrap();
    assert_eq!(
        last_ts(&engine.tenant("acme").unwrap()),
        i64::MAX,
        "after reopen"
    );
}
