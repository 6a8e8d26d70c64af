//! Seeded batch generation for the reliability tests.
//!
//! Every value that may land on a (series, timestamp) written by more than one
//! batch is unique to its batch and point (`unique(id, j)` is folded into the
//! bits), so a recovered value names the one batch that wrote it. Values that
//! cannot be unique (±0.0, ±inf, bools, integer extremes) are written only at
//! timestamps no other batch uses.

use historian::{Point, SeriesKey, Value, ValueType, WriteBatch};

/// SplitMix64: small, fast and seedable.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, n)` (0 when `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// Uniform in `[lo, hi]`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi as i128 - lo as i128 + 1) as u128;
        (lo as i128 + (self.next_u64() as u128 % span) as i128) as i64
    }

    /// A derived, independent generator.
    pub fn fork(&mut self, salt: u64) -> Rng {
        Rng::new(self.next_u64() ^ salt.wrapping_mul(0xA24B_AED4_963E_E407))
    }
}

/// The series every tenant may write: (measurement, machine, type).
pub const SERIES: &[(&str, &str, ValueType)] = &[
    ("temp", "m1", ValueType::F64),
    ("temp", "m2", ValueType::F64),
    ("count", "m1", ValueType::I64),
    ("ok", "m1", ValueType::Bool),
    ("vib", "m3", ValueType::F64),
];

/// The key of `SERIES[i]`.
pub fn series_key(i: usize) -> SeriesKey {
    let (m, machine, _) = SERIES[i];
    SeriesKey::new(m, [("machine", machine)]).expect("valid key")
}

/// One generated write batch.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Unique over a run; folded into the values of the batch.
    pub id: u64,
    pub tenant: String,
    /// `(index into SERIES, point)`, in write order.
    pub points: Vec<(usize, Point)>,
}

impl Batch {
    /// The engine's batch (per series, points keep their order).
    pub fn to_write_batch(&self) -> WriteBatch {
        let mut wb = WriteBatch::new();
        for (s, p) in &self.points {
            wb.push(&series_key(*s), *p)
                .expect("batch matches series types");
        }
        wb
    }
}

/// Timestamps at or above this are used by exactly one point of one batch.
pub const UNIQUE_TS_BASE: i64 = 1 << 50;

fn unique(id: u64, j: u64) -> u64 {
    (id << 12) | (j & 0xfff)
}

/// A timestamp shared with other batches: mostly a small window (so batches
/// overlap and arrive out of order), sometimes negative or extreme.
fn shared_ts(rng: &mut Rng) -> i64 {
    match rng.below(20) {
        0 => i64::MIN + rng.range(0, 2),
        1 => i64::MAX - 1 - rng.range(0, 2),
        2..=4 => rng.range(-40, -1),
        _ => rng.range(0, 160),
    }
}

/// Generates batch `id` of `tenant`.
pub fn gen_batch(
    rng: &mut Rng,
    id: u64,
    tenant: &str,
    max_series: usize,
    max_points: u64,
) -> Batch {
    assert!(id > 0 && id < 1 << 40, "ids fold into values");
    let n_series = 1 + rng.below(max_series as u64) as usize;
    let mut chosen: Vec<usize> = Vec::new();
    while chosen.len() < n_series {
        let s = rng.below(SERIES.len() as u64) as usize;
        if !chosen.contains(&s) {
            chosen.push(s);
        }
    }
    let mut points = Vec::new();
    let mut j = 0u64;
    for &s in &chosen {
        let n = 1 + rng.below(max_points);
        let mut prev_ts: Option<i64> = None;
        for _ in 0..n {
            j += 1;
            let u = unique(id, j);
            let uniq_ts = UNIQUE_TS_BASE + u as i64;
            let mut ts = match prev_ts {
                // An in-batch duplicate: the later point must win.
                Some(p) if rng.chance(1, 7) => p,
                _ => shared_ts(rng),
            };
            let value = match SERIES[s].2 {
                ValueType::F64 => match rng.below(25) {
                    0..=2 => Value::F64(f64::from_bits(0x7ff8_0000_0000_0000 | u)),
                    3 => Value::F64(f64::from_bits(0x7ff0_0000_0000_0000 | u)),
                    4 => Value::F64(f64::from_bits(0xfff8_0000_0000_0000 | u)),
                    5 => Value::F64(f64::from_bits(u)), // subnormal
                    6..=8 => {
                        ts = uniq_ts;
                        let specials = [-0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY, f64::MAX];
                        Value::F64(specials[rng.below(specials.len() as u64) as usize])
                    }
                    _ => Value::F64(u as f64 + 0.25),
                },
                ValueType::I64 => match rng.below(10) {
                    0 => {
                        ts = uniq_ts;
                        let specials = [i64::MIN, i64::MAX, 0, -1];
                        Value::I64(specials[rng.below(4) as usize])
                    }
                    1..=3 => Value::I64(-(u as i64)),
                    _ => Value::I64(u as i64),
                },
                ValueType::Bool => {
                    ts = uniq_ts;
                    Value::Bool(rng.chance(1, 2))
                }
            };
            let quality = rng.chance(1, 5).then(|| rng.below(256) as u8);
            prev_ts = Some(ts);
            points.push((s, Point { ts, value, quality }));
        }
    }
    Batch {
        id,
        tenant: tenant.to_string(),
        points,
    }
}
