//! Fuzz body of the float codecs (`historian::codec::{floats, alp, xor, pco_block}`).
//!
//! Input: two bytes (little-endian) give the count, `% 1025` (a block holds at most
//! 1,024 values); the rest is a section to decode, through the chooser's dispatch and
//! through each codec's own decoder. The body then encodes values derived from the
//! same rest with every codec and checks each decodes back bit for bit, so one input
//! exercises both directions.

use historian::codec::{alp, floats, pco_block, xor};

/// The count from the first two bytes and the rest of the input.
fn split(data: &[u8]) -> (usize, &[u8]) {
    match data {
        [a, b, rest @ ..] => (usize::from(u16::from_le_bytes([*a, *b])) % 1025, rest),
        _ => (0, &[]),
    }
}

/// A float encoder.
type Encoder = fn(&[u64], &mut Vec<u8>);

/// Decodes the rest as a float section (any codec); encodes floats derived from it
/// with every codec and checks the round trips.
pub fn codec_floats(data: &[u8]) {
    let (n, rest) = split(data);
    let mut out = vec![0u64; n];
    let _ = floats::decode(rest, 0, &mut out);
    let _ = alp::decode(rest, 0, &mut out);
    let _ = xor::decode(rest, 0, &mut out);
    let _ = pco_block::decode(rest, 0, &mut out);
    let bits = derive_floats(rest);
    let encoders: [(&str, Encoder); 5] = [
        ("chooser", floats::encode),
        ("alp", alp::encode),
        ("xor", xor::encode),
        ("plain", floats::plain_encode),
        ("zstd", floats::zstd_encode),
    ];
    for (name, encode) in encoders {
        let mut section = Vec::new();
        encode(&bits, &mut section);
        check(name, &section, &bits);
    }
    // pco is slow to encode; one block in four is enough to keep it covered.
    if rest.first().is_some_and(|b| b % 4 == 0) {
        let mut section = Vec::new();
        if pco_block::encode(&bits, &mut section).is_ok() {
            check("pco", &section, &bits);
        }
    }
}

/// `section` must decode (through the chooser's dispatch) to exactly `bits`.
fn check(name: &str, section: &[u8], bits: &[u64]) {
    let mut back = vec![0u64; bits.len()];
    match floats::decode(section, 0, &mut back) {
        Ok(()) => assert!(back == bits, "{name}: float round trip of {bits:x?}"),
        Err(e) => panic!("{name}: section of {bits:x?} does not decode: {e:?}"),
    }
}

/// At most 1,024 f64 bit patterns of a shape chosen by the first byte, so every
/// float codec and every ALP path (patches, exceptions, factors) gets inputs.
fn derive_floats(bytes: &[u8]) -> Vec<u64> {
    let Some((&mode, rest)) = bytes.split_first() else {
        return Vec::new();
    };
    let words = || {
        rest.chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
    };
    let scale = 10f64.powi(i32::from(mode / 8 % 12));
    let v: Vec<u64> = match mode % 6 {
        // Raw bit patterns: NaN payloads, subnormals, infinities, anything.
        0 => words().collect(),
        // Decimals: a walk of small signed steps, divided by 10^k.
        1 => rest
            .iter()
            .scan(i64::from(mode) * 12_345, |acc, &b| {
                *acc += i64::from(b as i8);
                Some((*acc as f64 / scale).to_bits())
            })
            .collect(),
        // Decimals with a raw word wherever a byte is 0xFF (exceptions).
        2 => rest
            .chunks(2)
            .map(|p| match p {
                [0xFF, b] => u64::from(*b).wrapping_mul(0x7FF0_0000_0000_0001),
                _ => (f64::from(p.first().copied().unwrap_or(0)) / scale).to_bits(),
            })
            .collect(),
        // Runs of raw words (XOR's repeat code).
        3 => words()
            .flat_map(|w| std::iter::repeat_n(w, (w % 16) as usize + 1))
            .collect(),
        // Smooth non-decimal values: neighbours share their high bits.
        4 => rest
            .iter()
            .scan(f64::from(mode), |acc, &b| {
                *acc += f64::from(b) / 7.0;
                Some(acc.to_bits())
            })
            .collect(),
        // f32 values widened to f64 (29 zero low bits).
        _ => rest
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap_or_default())).to_bits())
            .collect(),
    };
    v.into_iter().take(1024).collect()
}
