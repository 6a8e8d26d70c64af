//! Unit tests of [`super`] (ALP), in their own file to keep alp.rs short.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
use proptest::prelude::*;

use super::*;
use crate::codec::floats::test_support::*;

fn split_of(bits: &[u64]) -> (Params, Split) {
    let mut s = Split::default();
    let p = plan(bits).params;
    split(bits, p, &mut s);
    (p, s)
}

#[test]
fn skab_like_values_need_seven_decimals_and_no_exceptions() {
    let vals: [f64; 7] = [0.0265878, 1.3302, 79.3366, 233.062, 32.0, 0.054711, 25.8338];
    let bits: Vec<u64> = (0..1024).map(|i| vals[i % vals.len()].to_bits()).collect();
    let (p, s) = split_of(&bits);
    assert_eq!(p.e - p.f, 7, "{p:?}");
    assert!(s.exc_pos.is_empty());
    assert_eq!(s.ints[0], 265_878);
    assert_eq!(s.ints[4], 320_000_000);
    roundtrip(encode, decode, &bits);
}

#[test]
fn plain_decimals_pick_their_digit_count() {
    for k in 0..=9 {
        let bits = decimal_walk(k as u64 + 1, 1024, k);
        let (p, s) = split_of(&bits);
        assert!(i32::from(p.e - p.f) <= k, "k={k}: {p:?}");
        let exc: Vec<f64> = s.exc_bits.iter().map(|b| f64::from_bits(*b)).collect();
        assert!(s.exc_pos.is_empty(), "k={k} {p:?}: exceptions {exc:?}");
        roundtrip(encode, decode, &bits);
    }
}

#[test]
fn factor_rescues_values_the_plain_exponent_misses() {
    // 0.3 * 10 decodes as 3 * 0.1 = 0.30000000000000004 with f = 0.
    let bits: Vec<u64> = (0..64)
        .map(|i| (f64::from(i % 10) / 10.0).to_bits())
        .collect();
    let (p, s) = split_of(&bits);
    assert!(s.exc_pos.is_empty(), "{p:?}: {:?}", s.exc_pos);
}

#[test]
fn special_values_are_exceptions_with_previous_int_fillers() {
    let mut bits = decimal_walk(3, 100, 2);
    let sp = special_bits();
    let at = [0, 1, 50, 99];
    for (i, p) in at.iter().enumerate() {
        bits[*p] = sp[i + 5]; // -0.0, 0.0, +inf, -inf
    }
    let (_, s) = split_of(&bits);
    // 0.0 is an ordinary decimal; the others are exceptions.
    assert_eq!(s.exc_pos, vec![0, 50, 99]);
    assert_eq!(
        s.ints[0], s.ints[1],
        "leading exception takes the first kept int"
    );
    assert_eq!(s.ints[50], s.ints[49]);
    assert_eq!(s.ints[99], s.ints[98]);
    roundtrip(encode, decode, &bits);
}

#[test]
fn all_special_values_round_trip() {
    let sp = special_bits();
    roundtrip(encode, decode, &sp);
    for b in &sp {
        roundtrip(encode, decode, &[*b]);
        roundtrip(encode, decode, &[*b, 1.5f64.to_bits()]);
    }
}

#[test]
fn block_sizes_round_trip() {
    for n in [0, 1, 2, 1023, 1024] {
        roundtrip(encode, decode, &decimal_walk(9, n, 3));
    }
}

#[test]
fn large_and_tiny_magnitudes_round_trip() {
    let vals = [
        1e15,
        1.5e15,
        123_456_789_012.345,
        1e-10,
        2.5e-12,
        -4.2e-8,
        1e17,
    ];
    let bits: Vec<u64> = vals.iter().map(|v: &f64| v.to_bits()).collect();
    roundtrip(encode, decode, &bits);
}

#[test]
fn bad_headers_are_errors() {
    let bits = decimal_walk(1, 10, 2);
    let mut s = Vec::new();
    encode(&bits, &mut s);
    let mut out = [0u64; 10];
    let mut bad = s.clone();
    bad[1] = 19;
    assert!(decode(&bad, 0, &mut out).is_err(), "e > 18");
    let mut bad = s.clone();
    bad[2] = bad[1] + 1;
    assert!(decode(&bad, 0, &mut out).is_err(), "f > e");
    let mut bad = s.clone();
    bad[3] = 11;
    assert!(
        decode(&bad, 0, &mut out).is_err(),
        "more exceptions than values"
    );
}

#[test]
fn exception_positions_must_increase_within_the_block() {
    let mut bits = decimal_walk(1, 10, 0);
    bits[2] = f64::NAN.to_bits();
    bits[6] = f64::INFINITY.to_bits();
    let mut s = Vec::new();
    encode(&bits, &mut s);
    assert_eq!(
        &s[3..11],
        &[0, 0, 2, 0, 2, 0, 6, 0],
        "no patches, 2 exceptions"
    );
    let mut out = [0u64; 10];
    let mut bad = s.clone();
    bad[9] = 2;
    assert!(decode(&bad, 0, &mut out).is_err(), "repeated position");
    bad[9] = 10;
    assert!(
        decode(&bad, 0, &mut out).is_err(),
        "position past the block"
    );
}

#[test]
fn one_ulp_misses_are_two_byte_patches() {
    // 0.7 under (e=2, f=1) decodes to 0.7000000000000001: patched, int kept.
    let bits: Vec<u64> = [0.3f64, 0.7, 0.5].iter().map(|v| v.to_bits()).collect();
    let p = Params { e: 2, f: 1 };
    let mut s = Split::default();
    split(&bits, p, &mut s);
    assert_eq!(s.ints, vec![3, 7, 5]);
    assert!(s.exc_pos.is_empty());
    assert_eq!(s.patches.len(), 1);
    assert_eq!(s.patches[0] & 0x3ff, 1);
    let mut section = Vec::new();
    write(p, &s, &mut section);
    let mut out = [0u64; 3];
    decode(&section, 0, &mut out).unwrap();
    assert_eq!(out.to_vec(), bits);
    // A zero delta or a repeated position is corruption.
    let at = 5; // tag, e, f, patch count
    let mut bad = section.clone();
    bad[at + 1] = (32 << 2) as u8;
    assert!(decode(&bad, 0, &mut out).is_err(), "zero delta");
}

#[test]
fn true_decimals_never_need_raw_exceptions() {
    for k in 1..=10 {
        let bits = decimal_walk(k as u64 * 7, 1024, k);
        let (p, s) = split_of(&bits);
        assert!(s.exc_pos.is_empty(), "k={k} {p:?}");
        assert!(
            s.patches.len() <= 24,
            "k={k} {p:?}: {} patches",
            s.patches.len()
        );
    }
}

#[test]
fn corruption_never_panics_and_truncation_fails() {
    let mut mixed = decimal_walk(4, 200, 5);
    mixed[7] = f64::NAN.to_bits();
    mixed[150] = (-0.0f64).to_bits();
    for bits in [mixed, decimal_walk(2, 1, 1), special_bits()] {
        let s = roundtrip(encode, decode, &bits);
        corruption(decode, &s, bits.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn decimal_blocks_round_trip(bits in decimal_bits()) {
        roundtrip(encode, decode, &bits);
    }

    #[test]
    fn arbitrary_bits_round_trip(bits in any_bits()) {
        roundtrip(encode, decode, &bits);
    }

    #[test]
    fn any_decimal_is_kept(int in -(1i64 << 49)..(1i64 << 49), k in 0i32..=12) {
        let v = int as f64 / 10f64.powi(k);
        let (_, s) = split_of(&[v.to_bits()]);
        prop_assert!(s.exc_pos.is_empty() || v.to_bits() == (-0.0f64).to_bits(), "{v:e}");
    }
}

#[test]
fn factor_order_tries_every_pair_once_preferred_first() {
    for k in 0..=MAX_EXPONENT {
        let order: Vec<Params> = factor_order(k).collect();
        assert_eq!(order.len(), usize::from(MAX_EXPONENT - k) + 1, "k={k}");
        assert!(order.iter().all(|p| p.e - p.f == k && p.e <= MAX_EXPONENT));
        let mut es: Vec<u8> = order.iter().map(|p| p.e).collect();
        es.sort_unstable();
        es.dedup();
        assert_eq!(es.len(), order.len());
        if k <= PREFERRED_E {
            assert_eq!(order[0].e, PREFERRED_E);
        }
    }
}

#[test]
fn many_leading_exceptions_share_the_first_kept_int() {
    let mut bits = decimal_walk(6, 1024, 2);
    for b in bits.iter_mut().take(400) {
        *b = f64::NAN.to_bits();
    }
    let (p, s) = split_of(&bits);
    assert_eq!(s.exc_pos.len(), 400, "{p:?}");
    assert!(s.ints[..400].iter().all(|d| *d == s.ints[400]));
    roundtrip(encode, decode, &bits);
}
