//! XOR fallback for floats ALP cannot express: Chimp (Liakos, Papakonstantinopoulou,
//! Kotidis, VLDB 2022), the single-previous-value variant.
//!
//! Why Chimp over Gorilla (Pelkonen et al., VLDB 2015): on real series the XOR of
//! neighbours rarely has many trailing zeros, so Gorilla pays 5 + 6 bits of
//! (leading, length) for most values. Chimp spends 2 flag bits, stores a leading
//! zero count rounded to 8 levels in 3 bits, and only stores a length when at least
//! 7 trailing zeros pay for it. The paper measures it smaller than Gorilla on most
//! data sets at the same single-pass speed; Chimp128 (a 128-value lookback) would
//! compress a little more but needs a 2^14-entry table per block to encode.
//!
//! Section layout: `tag u8 = 33 (CodecId::FloatXor)`, then one bit stream, packed
//! least-significant bit first into little-endian bytes, zero-padded to a byte:
//!
//! ```text
//! first value: 64 bits raw
//! each next value v, x = v ^ previous:
//!   x == 0                        '00'
//!   trailing_zeros(x) > 6         '01' lead:3 len:6 then x >> trailing (len bits)
//!   lead == previous lead          '10' then x (64 - lead bits)
//!   otherwise                      '11' lead:3 then x (64 - lead bits)
//! lead = leading_zeros(x) rounded down to one of LEAD_LEVELS, stored as its index;
//! "previous lead" is unset at the start and after '00' or '01'.
//! ```
//! (Flags are written as 2-bit numbers: '00' = 0, '01' = 1, '10' = 2, '11' = 3.)
//!
//! Invariants:
//! 1. Bit-exact for every bit pattern: only XOR and shifts, no float arithmetic.
//! 2. Decode reads exactly `count` values, then requires that only zero padding
//!    (fewer than 8 bits) is left; it allocates nothing.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::{check_count, CodecId};
use crate::bytes::DecodeError;
use crate::error::CorruptionKind;

/// The leading-zero counts Chimp can store (3-bit index into this table).
const LEAD_LEVELS: [u32; 8] = [0, 8, 12, 16, 18, 20, 22, 24];

/// More trailing zeros than this: store the centre bits and their length.
const TRAILING_THRESHOLD: u32 = 6;

/// "No previous lead": never equal to a real rounded lead.
const NO_LEAD: u32 = u32::MAX;

/// Rounds a leading-zero count down to a level; returns (level index, zeros).
#[inline]
fn round_lead(lz: u32) -> (u32, u32) {
    let idx = match lz {
        0..=7 => 0,
        8..=11 => 1,
        12..=15 => 2,
        16..=17 => 3,
        18..=19 => 4,
        20..=21 => 5,
        22..=23 => 6,
        _ => 7,
    };
    (idx, LEAD_LEVELS.get(idx as usize).copied().unwrap_or(0))
}

/// One value's code: a head (flag and lengths), a payload, and the new previous lead.
#[derive(Clone, Copy)]
struct Code {
    head: u64,
    head_len: u32,
    payload: u64,
    payload_len: u32,
    lead: u32,
}

/// The code of `x` = value XOR previous value.
#[inline]
fn code(x: u64, prev_lead: u32) -> Code {
    if x == 0 {
        return Code {
            head: 0,
            head_len: 2,
            payload: 0,
            payload_len: 0,
            lead: NO_LEAD,
        };
    }
    let (idx, lead) = round_lead(x.leading_zeros());
    let trail = x.trailing_zeros();
    if trail > TRAILING_THRESHOLD {
        let len = 64 - lead - trail;
        let head = 1 | (u64::from(idx) << 2) | (u64::from(len) << 5);
        Code {
            head,
            head_len: 11,
            payload: x >> trail,
            payload_len: len,
            lead: NO_LEAD,
        }
    } else if lead == prev_lead {
        Code {
            head: 2,
            head_len: 2,
            payload: x,
            payload_len: 64 - lead,
            lead,
        }
    } else {
        let head = 3 | (u64::from(idx) << 2);
        Code {
            head,
            head_len: 5,
            payload: x,
            payload_len: 64 - lead,
            lead,
        }
    }
}

/// Appends one XOR section encoding `bits` (f64 raw bits).
pub fn encode(bits: &[u64], out: &mut Vec<u8>) {
    out.push(CodecId::FloatXor as u8);
    let Some((&first, rest)) = bits.split_first() else {
        return;
    };
    out.reserve(8 + rest.len() * 4);
    let mut w = BitWriter::default();
    w.put(first, 64, out);
    let (mut prev, mut lead) = (first, NO_LEAD);
    for &v in rest {
        let c = code(v ^ prev, lead);
        w.put(c.head, c.head_len, out);
        w.put(c.payload, c.payload_len, out);
        prev = v;
        lead = c.lead;
    }
    w.finish(out);
}

/// Estimated section size: the exact code length over up to four runs of 32
/// consecutive values spread over the block, scaled to the block.
pub fn estimate_len(bits: &[u64]) -> usize {
    const RUN: usize = 32;
    let n = bits.len();
    if n <= 4 * RUN {
        return 1 + size_bits(bits).div_ceil(8);
    }
    let (mut coded, mut pairs) = (0usize, 0usize);
    for r in 0..4 {
        let start = r * (n - RUN) / 3;
        let run = bits.get(start..start + RUN).unwrap_or_default();
        coded += size_bits(run).saturating_sub(64);
        pairs += RUN - 1;
    }
    1 + (64 + coded * (n - 1) / pairs).div_ceil(8)
}

/// Exact bit length of the stream for `bits`.
fn size_bits(bits: &[u64]) -> usize {
    let Some((&first, rest)) = bits.split_first() else {
        return 0;
    };
    let (mut prev, mut lead, mut total) = (first, NO_LEAD, 64usize);
    for &v in rest {
        let c = code(v ^ prev, lead);
        total += (c.head_len + c.payload_len) as usize;
        prev = v;
        lead = c.lead;
    }
    total
}

/// Decodes one XOR section of exactly `out.len()` values (f64 raw bits).
pub fn decode(section: &[u8], base: u64, out: &mut [u64]) -> Result<(), DecodeError> {
    check_count(out.len(), base)?;
    let Some((&tag, stream)) = section.split_first() else {
        return Err(DecodeError::invalid(base, "empty XOR section"));
    };
    if tag != CodecId::FloatXor as u8 {
        return Err(DecodeError::invalid(base, "not an XOR section"));
    }
    let mut r = BitReader::new(stream, base + 1);
    let Some((first, rest)) = out.split_first_mut() else {
        return r.finish();
    };
    let mut prev = r.get(64)?;
    *first = prev;
    let mut lead = NO_LEAD;
    for o in rest.iter_mut() {
        prev ^= next_xor(&mut r, &mut lead)?;
        *o = prev;
    }
    r.finish()
}

/// Reads one value's code and returns its XOR with the previous value.
#[inline]
fn next_xor(r: &mut BitReader, lead: &mut u32) -> Result<u64, DecodeError> {
    let level = |idx: u64| LEAD_LEVELS.get(idx as usize).copied().unwrap_or(0);
    match r.get(2)? {
        0 => {
            *lead = NO_LEAD;
            Ok(0)
        }
        1 => {
            let at = r.offset();
            let l = level(r.get(3)?);
            let len = r.get(6)? as u32;
            if len == 0 || l + len > 64 {
                return Err(DecodeError::invalid(
                    at,
                    format!("XOR centre {l}+{len} bits"),
                ));
            }
            *lead = NO_LEAD;
            Ok(r.get(len)? << (64 - l - len))
        }
        2 => {
            if *lead == NO_LEAD {
                return Err(r.invalid("XOR reuses a leading-zero count it never set"));
            }
            r.get(64 - *lead)
        }
        _ => {
            *lead = level(r.get(3)?);
            r.get(64 - *lead)
        }
    }
}

/// Packs codes LSB-first; flushes whole u64 words to the output.
#[derive(Default)]
struct BitWriter {
    acc: u128,
    len: u32,
}

impl BitWriter {
    /// Appends the low `n` (≤ 64) bits of `v`; `v` has no bits above them.
    #[inline]
    fn put(&mut self, v: u64, n: u32, out: &mut Vec<u8>) {
        if self.len >= 64 {
            out.extend_from_slice(&(self.acc as u64).to_le_bytes());
            self.acc >>= 64;
            self.len -= 64;
        }
        // len < 64 and n ≤ 64, so nothing shifts out of the u128.
        self.acc |= u128::from(v) << self.len;
        self.len += n;
    }

    fn finish(mut self, out: &mut Vec<u8>) {
        while self.len > 0 {
            out.push(self.acc as u8);
            self.acc >>= 8;
            self.len = self.len.saturating_sub(8);
        }
    }
}

/// Reads codes LSB-first from a byte slice, refilling a u128 a word at a time.
struct BitReader<'a> {
    buf: &'a [u8],
    /// Next byte of `buf` to load.
    pos: usize,
    acc: u128,
    len: u32,
    base: u64,
}

impl<'a> BitReader<'a> {
    fn new(buf: &'a [u8], base: u64) -> Self {
        BitReader {
            buf,
            pos: 0,
            acc: 0,
            len: 0,
            base,
        }
    }

    /// File offset of the byte holding the next unread bit.
    fn offset(&self) -> u64 {
        self.base + self.pos as u64 - u64::from(self.len / 8)
    }

    fn invalid(&self, msg: &str) -> DecodeError {
        DecodeError::invalid(self.offset(), msg)
    }

    /// The next `n` (1..=64) bits. After it, fewer than 64 bits stay buffered.
    #[inline]
    fn get(&mut self, n: u32) -> Result<u64, DecodeError> {
        if self.len < n {
            self.refill();
            if self.len < n {
                let kind = CorruptionKind::Truncated {
                    needed: u64::from(n - self.len).div_ceil(8),
                    have: 0,
                };
                return Err(DecodeError::new(self.offset(), kind));
            }
        }
        let v = (self.acc as u64) & u64::MAX.checked_shr(64 - n).unwrap_or(0);
        self.acc >>= n;
        self.len -= n;
        Ok(v)
    }

    /// Loads up to 8 more bytes (len < 64 on entry, so they fit).
    #[inline]
    fn refill(&mut self) {
        if let Some(word) = self.buf.get(self.pos..self.pos + 8) {
            let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
            self.acc |= u128::from(w) << self.len;
            self.pos += 8;
            self.len += 64;
            return;
        }
        while let Some(&b) = self.buf.get(self.pos) {
            if self.len > 120 {
                break;
            }
            self.acc |= u128::from(b) << self.len;
            self.pos += 1;
            self.len += 8;
        }
    }

    /// The stream must end here: under a byte of zero padding left.
    fn finish(mut self) -> Result<(), DecodeError> {
        self.refill();
        if self.pos != self.buf.len() || self.len >= 8 || self.acc != 0 {
            return Err(self.invalid("trailing bits in XOR section"));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::codec::floats::test_support::*;

    #[test]
    fn repeats_cost_two_bits() {
        let bits = vec![std::f64::consts::E.to_bits(); 1024];
        let s = roundtrip(encode, decode, &bits);
        assert_eq!(s.len(), 1 + (64 + 1023 * 2usize).div_ceil(8));
    }

    #[test]
    fn every_code_kind_round_trips() {
        let a = 1.0f64.to_bits();
        let bits = vec![
            a,
            a,                 // '00'
            a ^ (0xff << 20),  // '01': many trailing zeros
            a ^ 0x1357,        // '11': new lead
            a ^ 0x1fff,        // '10': same lead as before
            a ^ (1 << 63),     // '11': lead 0
            a ^ (1 << 63) ^ 1, // '10'
            u64::MAX,
            0,
        ];
        roundtrip(encode, decode, &bits);
        assert_eq!(size_bits(&bits).div_ceil(8) + 1, {
            let mut s = Vec::new();
            encode(&bits, &mut s);
            s.len()
        });
    }

    #[test]
    fn special_values_and_block_sizes_round_trip() {
        roundtrip(encode, decode, &special_bits());
        for n in [0, 1, 2, 1023, 1024] {
            let bits: Vec<u64> = (0..n).map(|i| (i as f64 * 0.1).sin().to_bits()).collect();
            roundtrip(encode, decode, &bits);
        }
    }

    #[test]
    fn estimate_is_close_on_smooth_data() {
        let bits: Vec<u64> = (0..1024)
            .map(|i| (f64::from(i) * 0.01).sin().to_bits())
            .collect();
        let mut s = Vec::new();
        encode(&bits, &mut s);
        let est = estimate_len(&bits);
        assert!(
            est.abs_diff(s.len()) * 10 < s.len(),
            "est {est} vs {}",
            s.len()
        );
    }

    #[test]
    fn unset_lead_reuse_is_an_error() {
        // first value, then flag '10' with no lead set yet.
        let mut s = vec![CodecId::FloatXor as u8];
        s.extend_from_slice(&0u64.to_le_bytes());
        s.push(0b10);
        s.extend_from_slice(&[0; 8]);
        assert!(decode(&s, 0, &mut [0; 2]).is_err());
    }

    #[test]
    fn nonzero_padding_is_an_error() {
        let mut s = Vec::new();
        encode(&[1, 1], &mut s); // 64 + 2 bits: 6 padding bits in the last byte
        assert_eq!(s.len(), 1 + 9);
        s[9] |= 0x80;
        assert!(decode(&s, 0, &mut [0; 2]).is_err());
    }

    #[test]
    fn corruption_never_panics_and_truncation_fails() {
        let smooth: Vec<u64> = (0..300)
            .map(|i| (f64::from(i) * 0.02).cos().to_bits())
            .collect();
        for bits in [smooth, special_bits(), vec![5], vec![]] {
            let s = roundtrip(encode, decode, &bits);
            corruption(decode, &s, bits.len());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn arbitrary_bits_round_trip(bits in any_bits()) {
            roundtrip(encode, decode, &bits);
        }

        #[test]
        fn decimal_blocks_round_trip(bits in decimal_bits()) {
            roundtrip(encode, decode, &bits);
        }
    }
}
