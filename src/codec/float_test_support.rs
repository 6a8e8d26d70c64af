//! Helpers shared by the float codecs' tests (alp, xor, pco_block, floats).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
use proptest::prelude::*;

use crate::bytes::DecodeError;
use crate::codec::isa::{with_level, Level};

pub type Enc = fn(&[u64], &mut Vec<u8>);
pub type Dec = fn(&[u8], u64, &mut [u64]) -> Result<(), DecodeError>;

/// Bit patterns every float codec must round-trip.
pub fn special_bits() -> Vec<u64> {
    vec![
        f64::NAN.to_bits(),
        0x7ff8_0000_dead_beef, // quiet NaN with a payload
        0x7ff0_0000_0000_0001, // signalling NaN
        0xfff4_0000_0000_0000, // negative signalling NaN
        (-f64::NAN).to_bits(),
        (-0.0f64).to_bits(),
        0.0f64.to_bits(),
        f64::INFINITY.to_bits(),
        f64::NEG_INFINITY.to_bits(),
        1,                     // smallest subnormal
        0x000f_ffff_ffff_ffff, // largest subnormal
        0x8000_0000_0000_0001, // negative subnormal
        f64::MIN_POSITIVE.to_bits(),
        f64::MAX.to_bits(),
        f64::MIN.to_bits(),
        f64::EPSILON.to_bits(),
        1.0f64.to_bits(),
        (-1.0f64).to_bits(),
        0.1f64.to_bits(),
        (0.1f64 + 0.2).to_bits(),
        1e300f64.to_bits(),
        1e-300f64.to_bits(),
        9_007_199_254_740_993u64, // arbitrary pattern
        u64::MAX,
    ]
}

/// A deterministic random walk of `n` decimals with `k` digits after the point.
pub fn decimal_walk(seed: u64, n: usize, k: i32) -> Vec<u64> {
    let mut rng = crate::test_rng::XorShift::new(seed | 1);
    let mut level: i64 = (seed % 100_000) as i64;
    (0..n)
        .map(|_| {
            let x = rng.next_u64();
            level += (x % 201) as i64 - 100;
            (level as f64 / 10f64.powi(k)).to_bits()
        })
        .collect()
}

/// Encodes, checks the section starts with `tag` and decodes bit-exactly; returns it.
pub fn roundtrip(enc: Enc, dec: Dec, bits: &[u64]) -> Vec<u8> {
    let mut section = vec![0xAA]; // encoders append after what is there
    enc(bits, &mut section);
    let section = section.split_off(1);
    for level in Level::ALL {
        let mut got = vec![0u64; bits.len()];
        with_level(level, || dec(&section, 1000, &mut got))
            .unwrap_or_else(|e| panic!("decode of {} values at {level:?}: {e:?}", bits.len()));
        for (i, (g, b)) in got.iter().zip(bits).enumerate() {
            assert_eq!(
                g, b,
                "value {i} at {level:?}: got {g:#018x}, want {b:#018x}"
            );
        }
    }
    section
}

/// Every truncation is an error; every single-bit flip and a wrong count never
/// panic.
pub fn corruption(dec: Dec, section: &[u8], n: usize) {
    let mut out = vec![0u64; n];
    for len in 0..section.len() {
        assert!(
            dec(&section[..len], 0, &mut out).is_err(),
            "truncation to {len} of {} bytes decoded",
            section.len()
        );
    }
    let mut bad = section.to_vec();
    for i in 0..bad.len() * 8 {
        bad[i / 8] ^= 1 << (i % 8);
        let _ = dec(&bad, 0, &mut out);
        bad[i / 8] ^= 1 << (i % 8);
    }
    for m in [n.saturating_sub(1), n + 1, super::BLOCK_LEN + 1] {
        let _ = dec(section, 0, &mut vec![0u64; m]);
    }
    let mut longer = section.to_vec();
    longer.push(0);
    assert!(dec(&longer, 0, &mut out).is_err(), "trailing byte accepted");
}

/// Arbitrary bit patterns, 0..=1024 of them.
pub fn any_bits() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(any::<u64>(), 0..=1024)
}

/// Decimal-like blocks: ints / 10^k, sometimes with special values mixed in.
pub fn decimal_bits() -> impl Strategy<Value = Vec<u64>> {
    (
        0i32..=9,
        -1_000_000i64..1_000_000,
        prop::collection::vec(-500i64..=500, 0..=1024),
        prop::collection::vec(
            (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
            0..4,
        ),
    )
        .prop_map(|(k, start, steps, specials)| {
            let mut level = start;
            let mut v: Vec<u64> = steps
                .iter()
                .map(|s| {
                    level += s;
                    (level as f64 / 10f64.powi(k)).to_bits()
                })
                .collect();
            let sp = special_bits();
            for (at, which) in specials {
                if !v.is_empty() {
                    let i = at.index(v.len());
                    v[i] = sp[which.index(sp.len())];
                }
            }
            v
        })
}
