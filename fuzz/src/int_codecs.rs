//! Fuzz bodies of the integer codecs (`historian::codec::{ints, timestamps, rle}`).
//!
//! Input: two bytes (little-endian) give the count, `% 1025` (a block holds at most
//! 1,024 values); the rest is a section to decode. Each body then also encodes values
//! derived from the same rest and checks they decode back exactly, so one input
//! exercises both directions.

use historian::codec::{ints, rle, timestamps};

/// The count from the first two bytes and the rest of the input.
fn split(data: &[u8]) -> (usize, &[u8]) {
    match data {
        [a, b, rest @ ..] => (usize::from(u16::from_le_bytes([*a, *b])) % 1025, rest),
        _ => (0, &[]),
    }
}

/// Decodes the rest as an int section; encodes values derived from it and
/// checks the round trip.
pub fn codec_ints(data: &[u8]) {
    let (n, rest) = split(data);
    let mut out = vec![0i64; n];
    let _ = ints::decode(rest, 0, &mut out);
    let values = derive_ints(rest);
    let mut section = Vec::new();
    ints::encode(&values, &mut section);
    let mut back = vec![0i64; values.len()];
    match ints::decode(&section, 0, &mut back) {
        Ok(()) => assert_eq!(back, values, "int round trip"),
        Err(e) => panic!("int section of {values:?} does not decode: {e:?}"),
    }
}

/// Decodes the rest as a timestamp section (whatever decodes must be strictly
/// increasing); encodes timestamps derived from it and checks the round trip.
pub fn codec_timestamps(data: &[u8]) {
    let (n, rest) = split(data);
    let mut out = vec![0i64; n];
    if timestamps::decode(rest, 0, &mut out).is_ok() {
        assert!(
            out.windows(2).all(|w| w[0] < w[1]),
            "decoded timestamps not strictly increasing"
        );
    }
    let ts = derive_timestamps(rest);
    let mut section = Vec::new();
    timestamps::encode(&ts, &mut section);
    let mut back = vec![0i64; ts.len()];
    match timestamps::decode(&section, 0, &mut back) {
        Ok(()) => assert_eq!(back, ts, "timestamp round trip"),
        Err(e) => panic!("timestamp section of {ts:?} does not decode: {e:?}"),
    }
}

/// Decodes the rest as a quality section; encodes qualities derived from it and
/// checks the round trip.
pub fn codec_quality(data: &[u8]) {
    let (n, rest) = split(data);
    let mut out = vec![None; n];
    let _ = rle::decode_quality(rest, 0, &mut out);
    // Byte pairs: (present if odd, value), each repeated per the first byte.
    let reps = 1 + usize::from(rest.first().map_or(0, |b| b % 8));
    let q: Vec<Option<u8>> = rest
        .chunks_exact(2)
        .map(|p| (p[0] & 1 == 1).then_some(p[1]))
        .flat_map(|v| std::iter::repeat_n(v, reps))
        .take(1024)
        .collect();
    let mut section = Vec::new();
    rle::encode_quality(&q, &mut section);
    let mut back = vec![None; q.len()];
    match rle::decode_quality(&section, 0, &mut back) {
        Ok(()) => assert_eq!(back, q, "quality round trip"),
        Err(e) => panic!("quality section of {q:?} does not decode: {e:?}"),
    }
}

/// At most 1,024 i64 of a shape chosen by the first byte, so every int codec
/// (constant, FOR, delta, dictionary, RLE, plain, patches) gets inputs.
fn derive_ints(bytes: &[u8]) -> Vec<i64> {
    let Some((&mode, rest)) = bytes.split_first() else {
        return Vec::new();
    };
    let big = |b: u8| i64::from(b).wrapping_mul(0x0123_4567_89AB_CDEF);
    let v: Vec<i64> = match mode % 5 {
        // A walk of small signed steps from a large start.
        0 => rest
            .iter()
            .scan(big(mode), |acc, &b| {
                *acc = acc.wrapping_add(i64::from(b as i8));
                Some(*acc)
            })
            .collect(),
        // A few distinct values, one rare outlier per 0xFF byte.
        1 => rest
            .iter()
            .map(|&b| {
                if b == 0xFF {
                    big(b)
                } else {
                    i64::from(b % 5) * 327_927
                }
            })
            .collect(),
        // Runs: (value, length) pairs.
        2 => rest
            .chunks_exact(2)
            .flat_map(|p| std::iter::repeat_n(big(p[0]) >> 8, usize::from(p[1] % 64) + 1))
            .collect(),
        // Raw little-endian i64s (i64::MIN/MAX and wrapping deltas included).
        3 => rest
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect(),
        // Small values with the extremes mixed in.
        _ => rest
            .iter()
            .map(|&b| match b {
                0 => i64::MIN,
                1 => i64::MAX,
                _ => i64::from(b),
            })
            .collect(),
    };
    v.into_iter().take(1024).collect()
}

/// Strictly increasing timestamps: the first 8 bytes are t0, each next byte a
/// gap (scaled by a step chosen from the first byte; 0xFF is an hour-long hole),
/// stopping before i64 overflows.
fn derive_timestamps(bytes: &[u8]) -> Vec<i64> {
    let (head, rest) = bytes.split_at(bytes.len().min(8));
    let mut t0 = [0u8; 8];
    t0[..head.len()].copy_from_slice(head);
    let mut t = i64::from_le_bytes(t0);
    let step: u64 = match head.first().map_or(0, |b| b % 4) {
        0 => 1,
        1 => 1_000,
        2 => 1_000_000_000,
        _ => 1 << 40,
    };
    let mut ts = vec![t];
    for &b in rest.iter().take(1023) {
        let gap = if b == 0xFF {
            3_600 * step
        } else {
            step * 100 + u64::from(b)
        };
        match t.checked_add_unsigned(gap) {
            Some(next) => t = next,
            None => break,
        }
        ts.push(t);
    }
    ts
}
