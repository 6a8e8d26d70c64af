//! End-to-end basics through the public API: write, read back, flush, reopen,
//! last-write-wins, limits, tenant isolation and drop.

use std::sync::Arc;

use historian::vfs::SimFs;
use historian::{Engine, Error, Limits, Options, Point, Selector, SeriesKey, Value, WriteBatch};

fn sim_opts(fs: &SimFs) -> Options {
    Options::default()
        .with_vfs(Arc::new(fs.clone()))
        .with_background_flush(false)
}

fn key(m: &str, machine: &str) -> SeriesKey {
    SeriesKey::new(m, [("machine", machine)]).unwrap()
}

fn all(t: &historian::Tenant, sel: &str) -> Vec<(String, Vec<(i64, u64)>)> {
    t.scan_all(&Selector::parse(sel).unwrap(), i64::MIN, i64::MAX)
        .unwrap()
        .into_iter()
        .map(|s| {
            let pts = s
                .cols
                .ts
                .iter()
                .copied()
                .zip(s.cols.values.iter().copied())
                .collect();
            (s.key.to_string(), pts)
        })
        .collect()
}

#[test]
fn write_flush_reopen_keeps_every_value_bit_exact() {
    let fs = SimFs::new();
    let specials = [
        f64::NAN,
        f64::from_bits(0x7ff0_0000_0000_0001),
        -0.0,
        f64::INFINITY,
        5e-324,
    ];
    let expected;
    {
        let e = Engine::open("x", sim_opts(&fs)).unwrap();
        let t = e.tenant("acme").unwrap();
        let mut b = WriteBatch::new();
        for (i, v) in specials.iter().enumerate() {
            b.push_value(&key("temp", "m1"), i as i64 * 10, Value::F64(*v))
                .unwrap();
        }
        b.push(
            &key("count", "m1"),
            Point {
                ts: -5,
                value: Value::I64(i64::MIN),
                quality: Some(192),
            },
        )
        .unwrap();
        t.write(&b).unwrap();
        expected = all(&t, "*");
        e.flush().unwrap();
        assert_eq!(all(&t, "*"), expected);
        let mut b = WriteBatch::new();
        b.push_value(&key("temp", "m1"), 15, Value::F64(1.0))
            .unwrap();
        b.push_value(&key("temp", "m1"), 10, Value::F64(2.0))
            .unwrap(); // overwrites flushed
        t.write(&b).unwrap();
    }
    let e = Engine::open("x", sim_opts(&fs)).unwrap();
    let t = e.tenant("acme").unwrap();
    let got = all(&t, "temp");
    let ts: Vec<i64> = got[0].1.iter().map(|p| p.0).collect();
    assert_eq!(ts, vec![0, 10, 15, 20, 30, 40]);
    assert_eq!(got[0].1[1].1, 2.0f64.to_bits());
    assert_eq!(got[0].1[0].1, f64::NAN.to_bits());
    assert_eq!(got[0].1[3].1, (-0.0f64).to_bits());
    let last = t.last(&Selector::parse("count").unwrap()).unwrap();
    assert_eq!(last[0].2.quality, Some(192));
    assert_eq!(last[0].2.value, Value::I64(i64::MIN));
}

#[test]
fn type_mismatch_and_limits_are_errors_at_limit_plus_one() {
    let fs = SimFs::new();
    let limits = Limits {
        max_series_per_tenant: 2,
        max_batch_points: 3,
        max_tags_per_series: 1,
        ..Limits::default()
    };
    let e = Engine::open("x", sim_opts(&fs).with_limits(limits)).unwrap();
    let t = e.tenant("acme").unwrap();
    let mut b = WriteBatch::new();
    for ts in 0..3 {
        b.push_value(&key("a", "m"), ts, Value::F64(1.0)).unwrap();
    }
    t.write(&b).unwrap();
    b.push_value(&key("a", "m"), 9, Value::F64(1.0)).unwrap();
    assert!(matches!(t.write(&b), Err(Error::LimitExceeded { .. })));
    let mut b = WriteBatch::new();
    b.push_value(&key("a", "m"), 9, Value::I64(1)).unwrap();
    assert!(matches!(t.write(&b), Err(Error::TypeMismatch { .. })));
    let mut b = WriteBatch::new();
    b.push_value(&key("b", "m"), 9, Value::I64(1)).unwrap();
    t.write(&b).unwrap();
    let mut b = WriteBatch::new();
    b.push_value(&key("c", "m"), 9, Value::I64(1)).unwrap();
    assert!(matches!(t.write(&b), Err(Error::LimitExceeded { .. })));
    let two_tags = SeriesKey::new("d", [("a", "1"), ("b", "2")]).unwrap();
    let mut b = WriteBatch::new();
    b.push_value(&two_tags, 9, Value::I64(1)).unwrap();
    assert!(matches!(t.write(&b), Err(Error::LimitExceeded { .. })));
}

#[test]
fn tenants_are_isolated_and_drop_removes_everything() {
    let fs = SimFs::new();
    {
        let e = Engine::open("x", sim_opts(&fs)).unwrap();
        for name in ["a", "b"] {
            let t = e.tenant(name).unwrap();
            let mut b = WriteBatch::new();
            b.push_value(&key("temp", name), 1, Value::F64(1.0))
                .unwrap();
            t.write(&b).unwrap();
        }
        e.flush().unwrap();
        let t = e.tenant("a").unwrap();
        let mut b = WriteBatch::new();
        b.push_value(&key("temp", "a"), 2, Value::F64(2.0)).unwrap();
        t.write(&b).unwrap();
        assert_eq!(all(&e.tenant("b").unwrap(), "*").len(), 1);
        assert_eq!(
            all(&e.tenant("b").unwrap(), "*")[0].0,
            "temp{machine=\"b\"}"
        );
        e.drop_tenant("a").unwrap();
        assert_eq!(e.tenants(), vec!["b".to_string()]);
    }
    let e = Engine::open("x", sim_opts(&fs)).unwrap();
    assert_eq!(e.tenants(), vec!["b".to_string()]);
    assert!(fs.file_paths().iter().all(|p| !p.starts_with("tenants/a/")));
    assert_eq!(
        all(&e.tenant("b").unwrap(), "*")[0].1,
        vec![(1, 1.0f64.to_bits())]
    );
}

#[test]
fn name_and_value_lengths_error_at_limit_plus_one() {
    let fs = SimFs::new();
    let limits = Limits {
        max_name_len: 8,
        max_tag_value_len: 4,
        ..Limits::default()
    };
    let e = Engine::open("x", sim_opts(&fs).with_limits(limits)).unwrap();
    let t = e.tenant("acme").unwrap();
    let write = |k: SeriesKey| {
        let mut b = WriteBatch::new();
        b.push_value(&k, 1, Value::F64(1.0)).unwrap();
        t.write(&b)
    };
    let ok = |m: &str, tk: &str, tv: &str| SeriesKey::new(m, [(tk, tv)]).unwrap();
    assert!(write(ok("mmmmmmmm", "kkkkkkkk", "vvvv")).is_ok());
    for k in [
        ok("mmmmmmmmm", "k", "v"),
        ok("m", "kkkkkkkkk", "v"),
        ok("m", "k", "vvvvv"),
    ] {
        assert!(matches!(write(k), Err(Error::LimitExceeded { .. })));
    }
}
