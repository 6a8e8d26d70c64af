//! Helpers shared by the `tests/dataset_*.rs` files: an engine in a
//! temporary directory, writing points, and a small independent `.npy`
//! reader (it parses the header text itself, so it checks the writer).
#![allow(dead_code)]

use std::path::Path;

use historian::{Durability, Engine, Options, SeriesKey, Tenant, Value, WriteBatch};

/// 1 s in ns.
pub const S: i64 = 1_000_000_000;

/// The sensor columns of a SKAB CSV, in order after `datetime`; `anomaly`
/// and `changepoint` follow.
pub const SKAB_SENSORS: [&str; 8] = [
    "Accelerometer1RMS",
    "Accelerometer2RMS",
    "Current",
    "Pressure",
    "Temperature",
    "Thermocouple",
    "Voltage",
    "Volume Flow RateRMS",
];

/// An engine in a fresh temporary directory (no fsync: tests only).
pub fn engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options::default().with_durability(Durability::None);
    let engine = Engine::open(dir.path(), opts).unwrap();
    (dir, engine)
}

/// Writes `(ts, value)` points to the series with key text `key`.
pub fn write(t: &Tenant, key: &str, points: &[(i64, Value)]) {
    let key = SeriesKey::parse(key).unwrap();
    let mut b = WriteBatch::new();
    for &(ts, v) in points {
        b.push_value(&key, ts, v).unwrap();
    }
    t.write(&b).unwrap();
}

/// Writes f64 points.
pub fn write_f64(t: &Tenant, key: &str, points: &[(i64, f64)]) {
    let pts: Vec<(i64, Value)> = points.iter().map(|&(ts, v)| (ts, Value::F64(v))).collect();
    write(t, key, &pts);
}

/// A parsed `.npy` file.
#[derive(Debug)]
pub struct Npy {
    pub descr: String,
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

impl Npy {
    pub fn f64s(&self) -> Vec<f64> {
        assert_eq!(self.descr, "<f8");
        self.data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }

    pub fn i64s(&self) -> Vec<i64> {
        assert_eq!(self.descr, "<i8");
        self.data
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }

    pub fn bools(&self) -> Vec<bool> {
        assert_eq!(self.descr, "|b1");
        self.data
            .iter()
            .map(|&b| {
                assert!(b <= 1);
                b == 1
            })
            .collect()
    }
}

/// Reads a `.npy` file v1.0, checking everything NumPy would.
pub fn read_npy(path: &Path) -> Npy {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY", "{}", path.display());
    assert_eq!(&bytes[6..8], &[1, 0]);
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let start = 10 + hlen;
    assert_eq!(start % 64, 0, "data is 64-byte aligned");
    let header = std::str::from_utf8(&bytes[10..start]).unwrap();
    assert!(header.ends_with('\n'));
    let header = header.trim_end();
    assert!(header.starts_with('{') && header.ends_with('}'), "{header}");
    let field = |name: &str| {
        let at = header.find(&format!("'{name}': ")).unwrap() + name.len() + 4;
        &header[at..]
    };
    let descr = field("descr");
    let descr = descr[1..].split('\'').next().unwrap().to_string();
    assert!(field("fortran_order").starts_with("False"));
    let shape = field("shape");
    let shape = &shape[1..shape.find(')').unwrap()];
    let shape: Vec<usize> = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let item = match descr.as_str() {
        "<f8" | "<i8" => 8,
        "|b1" => 1,
        d => panic!("unexpected dtype {d}"),
    };
    let data = bytes[start..].to_vec();
    assert_eq!(
        data.len(),
        shape.iter().product::<usize>() * item,
        "{}",
        path.display()
    );
    Npy { descr, shape, data }
}
