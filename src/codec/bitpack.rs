//! Bit-packing of `u64` values of a fixed width (0..=64 bits), the payload of
//! every integer codec (their headers' varints are in [`super::varint`]).
//!
//! Layout of `n` values of width `w` (`ceil(n*w/8)` bytes, nothing else):
//!
//! ```text
//! full chunks of 1024 values   16*w u64 words each (128*w bytes), FastLanes order:
//!                              value i of the chunk is lane i%16, row i/16; lane l
//!                              packs its 64 rows LSB-first into its w words, and
//!                              word k of lane l is stored as word k*16+l
//! the last n%1024 values       one LSB-first bit stream: value i occupies bits
//!                              [i*w, (i+1)*w) (bit b is bit b%8 of byte b/8);
//!                              the unused high bits of the last byte are zero
//! ```
//!
//! Invariants:
//! 1. `pack` appends exactly [`packed_len`]`(n, w)` bytes; `unpack` accepts exactly
//!    that many, with zero padding bits, and otherwise returns an error.
//! 2. `unpack` never panics and allocates nothing: chunks and 64-value groups are
//!    decoded through fixed-size stack arrays.
//!
//! What the compiler does (baseline x86-64, SSE2 only; read from the
//! disassembly of the bench binary, all 64 widths):
//! * Chunks: one kernel per width (`unpack_chunk_w`, const generic), whose lane
//!   loop is the innermost real loop with the 64 rows unrolled inside it
//!   (`unroll64!`). Every row shifts all lanes by the same constant, so LLVM's
//!   loop vectoriser emits `psrlq`/`psllq` by immediates, `por`, `pand`, `paddq`
//!   (the FOR offset) and, for [`unpack_scaled`], one `pmuludq` per two lanes,
//!   with no bounds checks: 200-500 instructions per width, all SIMD. (Unrolling
//!   the lanes instead and leaving it to the SLP vectoriser gave 10x the code and
//!   left many widths scalar.)
//!   Each chunk kernel is compiled three times by `isa::vectorized!` and runs
//!   at the widest level the CPU has: with AVX-512 the same rows become
//!   `vpsrlq`/`vpsllq`/`vpternlogq` on eight lanes (`zmm`). A [`Map`] (ALP's
//!   int-to-float step) runs inside the same loop, so a float block is unpacked
//!   and converted in one pass. In a stand-alone loop of width 13 plus ALP's
//!   step: 1.6-2.5 G values/s baseline, 3.1-4.4 AVX2, 4.6-6.4 AVX-512.
//! * Tail groups: one unrolled scalar kernel per width (`unpack_group_w`); not
//!   multiversioned (scalar code gains nothing from it, and each copy of the
//!   64-width kernels costs minutes of compile time). The last, partial group
//!   is decoded by a run-time-width loop (`unpack_partial`), with no padding copy.
//! * `pack`: run-time width, mostly scalar; encoding is not the hot path.
//!
//! Measured with `cargo bench --bench codecs_int` on the 2-core Xeon VM while other
//! builds ran (load ~2.5, so these are lower bounds): `unpack` of a 1,024-value
//! chunk 4.3-4.8 G values/s at widths 1, 8, 17 and 24; 1,000 values through the
//! tail path 1.9-3.0 G/s; `pack` 0.55-1.4 G/s. The scalar stream kernel on full
//! chunks measured 1.8-3.1 G/s against 2.3-4.5 G/s for the interleaved layout in
//! the same run, hence the layout.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::isa::vectorized;
use crate::bytes::DecodeError;
use crate::error::CorruptionKind;

/// Values per interleaved chunk.
pub const CHUNK: usize = 1024;
/// Lanes (u64 words side by side) of a chunk.
const LANES: usize = 16;
/// Rows (values per lane) of a chunk.
const ROWS: usize = CHUNK / LANES;
/// Values per group of the tail stream: `w` words exactly.
const GROUP: usize = 64;

type Row<T> = [T; LANES];
type Word = [u8; 8];

/// The bits needed for `max`: 0 for 0, 64 for values of 2^63 and above.
pub fn width_of(max: u64) -> u32 {
    64 - max.leading_zeros()
}

/// Bytes `pack` appends for `n` values of `width` bits.
pub fn packed_len(n: usize, width: u32) -> usize {
    let bits = (n as u128) * u128::from(width.min(64));
    bits.div_ceil(8).try_into().unwrap_or(usize::MAX)
}

fn mask(width: usize) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// An output element: a packed value plus the offset, reinterpreted.
pub(crate) trait Lane: Copy + Default {
    fn from_bits(v: u64) -> Self;
    fn to_bits(self) -> u64;
}

impl Lane for u64 {
    #[inline(always)]
    fn from_bits(v: u64) -> Self {
        v
    }
    #[inline(always)]
    fn to_bits(self) -> u64 {
        self
    }
}

impl Lane for i64 {
    #[inline(always)]
    fn from_bits(v: u64) -> Self {
        v as i64
    }
    #[inline(always)]
    fn to_bits(self) -> u64 {
        self as u64
    }
}

/// What an unpacking loop stores for each decoded word `add + mul * q`
/// (wrapping): the word itself ([`Ident`]), or a function of it fused into
/// the same pass, such as ALP's integer-to-decimal step (`super::alp`), so a
/// float block is unpacked and converted without a second pass over it.
///
/// Outputs are 64-bit lanes, so a decoder may park raw words in its output
/// before mapping them in place (deltas, dictionary indices).
pub(crate) trait Map: Copy {
    type Out: Lane;
    /// `map` is `Out::from_bits`: a second pass over parked words is a no-op.
    const IDENT: bool = false;
    fn map(self, word: u64) -> Self::Out;

    /// Maps words parked raw in `out`, in place (nothing for the identity).
    #[inline(never)]
    fn map_in_place(self, out: &mut [Self::Out]) {
        if !Self::IDENT {
            vectorized!(for o in out.iter_mut() {
                *o = self.map(o.to_bits());
            })
        }
    }
}

/// The identity [`Map`]: words as `T`.
#[derive(Clone, Copy, Default)]
pub(crate) struct Ident<T>(std::marker::PhantomData<T>);

impl<T: Lane> Map for Ident<T> {
    type Out = T;
    const IDENT: bool = true;
    #[inline(always)]
    fn map(self, word: u64) -> T {
        T::from_bits(word)
    }
}

/// Expands `$body` 64 times with `$r` bound to 0..=63, so shifts become immediates.
macro_rules! unroll64 {
    ($r:ident => $body:block) => {
        unroll64!(@ $r $body; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23
            24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50
            51 52 53 54 55 56 57 58 59 60 61 62 63)
    };
    (@ $r:ident $body:block; $($n:literal)*) => { $( { let $r: usize = $n; $body } )* };
}

/// Calls `$f::<W>` for the run-time width `$w` in 1..=64 (0 and >64 fall to `$none`).
macro_rules! dispatch_width {
    ($w:expr, $f:ident, $none:expr) => {
        dispatch_width!(@ $w, $f, $none; 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20
            21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48
            49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64)
    };
    (@ $w:expr, $f:ident, $none:expr; $($n:literal)*) => {
        match $w { $($n => $f!($n),)* _ => $none }
    };
}

/// As `dispatch_width!` for widths 1..=32 (the scaled kernels).
macro_rules! dispatch_width32 {
    ($w:expr, $f:ident, $none:expr) => {
        dispatch_width!(@ $w, $f, $none; 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20
            21 22 23 24 25 26 27 28 29 30 31 32)
    };
}

/// Decodes one interleaved chunk of width `W` (W*16 words) into 1024 values,
/// storing `map(add + mul * q)` (the product only when `MUL`).
///
/// The lane loop is the innermost real loop (the 64 rows are unrolled inside it),
/// so LLVM's loop vectoriser turns each row into a few SSE2 instructions on two
/// lanes at once, shifts by immediates, for every width.
#[inline(never)]
fn unpack_chunk_w<const W: usize, const MUL: bool, M: Map>(
    inp: &[Row<Word>; W],
    out: &mut [Row<M::Out>; ROWS],
    add: u64,
    mul: u32,
    map: M,
) {
    let m = mask(W);
    vectorized!(for l in 0..LANES {
        let word = |k: usize| {
            let w = inp.get(k).and_then(|row| row.get(l));
            w.map_or(0, |b| u64::from_le_bytes(*b))
        };
        unroll64!(r => {
            let (k, s) = (r * W / 64, r * W % 64);
            let lo = word(k) >> s;
            let v = if s + W > 64 { lo | (word(k + 1) << (64 - s)) } else { lo };
            if let Some(o) = out.get_mut(r).and_then(|row| row.get_mut(l)) {
                *o = map.map(scaled::<MUL>(v & m, add, mul));
            }
        });
    })
}

/// `add + mul * q` (wrapping), the product only when `MUL`: for `q < 2^32` a
/// 32×32→64-bit product, one `pmuludq` per two lanes.
#[inline(always)]
fn scaled<const MUL: bool>(q: u64, add: u64, mul: u32) -> u64 {
    let q = if MUL {
        u64::from(q as u32) * u64::from(mul)
    } else {
        q
    };
    q.wrapping_add(add)
}

/// Decodes one group of the tail stream of width `W` (W words) into 64 values.
#[inline(never)]
fn unpack_group_w<const W: usize, const MUL: bool, M: Map>(
    inp: &[Word; W],
    out: &mut [M::Out; GROUP],
    add: u64,
    mul: u32,
    map: M,
) {
    let m = mask(W);
    {
        unroll64!(i => {
        let (k, s) = (i * W / 64, i * W % 64);
        let lo = inp.get(k).map_or(0, |b| u64::from_le_bytes(*b)) >> s;
        let v = if s + W > 64 {
            lo | (inp.get(k + 1).map_or(0, |b| u64::from_le_bytes(*b)) << (64 - s))
        } else {
            lo
        };
        if let Some(o) = out.get_mut(i) {
            *o = map.map(scaled::<MUL>(v & m, add, mul));
        }
        });
    }
}

/// Decodes a chunk of `width` in 1..=64 from exactly `128*width` bytes, as
/// `map(add + mul * value)` (`mul` only for widths ≤ 32).
fn unpack_chunk<M: Map>(
    width: u32,
    bytes: &[u8],
    out: &mut [Row<M::Out>; ROWS],
    (add, mul): (u64, Option<u32>),
    map: M,
) {
    let rows = bytes.as_chunks::<8>().0.as_chunks::<LANES>().0;
    macro_rules! plain {
        ($n:literal) => {
            if let Some(inp) = rows.first_chunk::<$n>() {
                unpack_chunk_w::<$n, false, M>(inp, out, add, 0, map)
            }
        };
    }
    macro_rules! scaled {
        ($n:literal) => {
            if let (Some(inp), Some(mul)) = (rows.first_chunk::<$n>(), mul) {
                unpack_chunk_w::<$n, true, M>(inp, out, add, mul, map)
            }
        };
    }
    match mul {
        None => dispatch_width!(width, plain, ()),
        Some(_) => dispatch_width32!(width, scaled, ()),
    }
}

/// Decodes a group of `width` in 1..=64 from exactly `8*width` bytes.
fn unpack_group<M: Map>(
    width: u32,
    bytes: &[u8],
    out: &mut [M::Out; GROUP],
    (add, mul): (u64, Option<u32>),
    map: M,
) {
    let words = bytes.as_chunks::<8>().0;
    macro_rules! plain {
        ($n:literal) => {
            if let Some(inp) = words.first_chunk::<$n>() {
                unpack_group_w::<$n, false, M>(inp, out, add, 0, map)
            }
        };
    }
    macro_rules! scaled {
        ($n:literal) => {
            if let (Some(inp), Some(mul)) = (words.first_chunk::<$n>(), mul) {
                unpack_group_w::<$n, true, M>(inp, out, add, mul, map)
            }
        };
    }
    match mul {
        None => dispatch_width!(width, plain, ()),
        Some(_) => dispatch_width32!(width, scaled, ()),
    }
}

/// Decodes `out.len()` values of `width` bits packed by [`pack`].
///
/// `buf` must be exactly [`packed_len`]`(out.len(), width)` bytes (the caller
/// takes that many from its section); `base` is the file offset of `buf[0]`.
pub fn unpack(buf: &[u8], base: u64, width: u32, out: &mut [u64]) -> Result<(), DecodeError> {
    unpack_map(buf, base, width, (0, 1), out, Ident::default())
}

/// As [`unpack`], writing `add + value` (wrapping) as i64: frame-of-reference
/// decoding in the same pass.
pub fn unpack_add(
    buf: &[u8],
    base: u64,
    width: u32,
    add: i64,
    out: &mut [i64],
) -> Result<(), DecodeError> {
    unpack_map(buf, base, width, (add as u64, 1), out, Ident::default())
}

/// As [`unpack`], writing `add + mul * value` (wrapping) as i64: a frame of
/// reference with a common divisor.
pub fn unpack_scaled(
    buf: &[u8],
    base: u64,
    width: u32,
    add: i64,
    mul: u32,
    out: &mut [i64],
) -> Result<(), DecodeError> {
    let frame = (add as u64, u64::from(mul));
    unpack_map(buf, base, width, frame, out, Ident::default())
}

/// Decodes `out.len()` values of `width` bits as `map(add + mul * value)`
/// (wrapping), where `(add, mul)` is `frame`. Up to 32 bits of value and of
/// divisor the product is fused into the unpacking pass; past that the raw
/// values are parked in `out` and scaled and mapped in a second pass.
pub(crate) fn unpack_map<M: Map>(
    buf: &[u8],
    base: u64,
    width: u32,
    (add, mul): (u64, u64),
    out: &mut [M::Out],
    map: M,
) -> Result<(), DecodeError> {
    if mul == 1 {
        return unpack_into(buf, base, width, (add, None), out, map);
    }
    if let (true, Ok(m)) = (width <= 32, u32::try_from(mul)) {
        return unpack_into(buf, base, width, (add, Some(m)), out, map);
    }
    unpack_into(buf, base, width, (0, None), out, Ident::<M::Out>::default())?;
    for o in out.iter_mut() {
        *o = map.map(add.wrapping_add(o.to_bits().wrapping_mul(mul)));
    }
    Ok(())
}

/// Decodes `out.len()` values of `width` bits as `map(add + mul * value)`;
/// `mul` is honoured only for widths ≤ 32 (callers ensure it).
fn unpack_into<M: Map>(
    buf: &[u8],
    base: u64,
    width: u32,
    frame: (u64, Option<u32>),
    out: &mut [M::Out],
    map: M,
) -> Result<(), DecodeError> {
    if width > 64 {
        return Err(DecodeError::invalid(
            base,
            format!("bit width {width} > 64"),
        ));
    }
    let need = packed_len(out.len(), width);
    if buf.len() != need {
        let kind = if buf.len() < need {
            CorruptionKind::Truncated {
                needed: need as u64,
                have: buf.len() as u64,
            }
        } else {
            CorruptionKind::Invalid(format!("{} bytes packed, {need} expected", buf.len()))
        };
        return Err(DecodeError::new(base, kind));
    }
    if width == 0 {
        out.fill(map.map(frame.0));
        return Ok(());
    }
    let chunk_bytes = CHUNK / 8 * width as usize;
    let (chunks, tail) = out.as_chunks_mut::<CHUNK>();
    let mut bytes = buf.chunks(chunk_bytes);
    for (chunk, b) in chunks.iter_mut().zip(bytes.by_ref()) {
        if let Ok(rows) = <&mut [Row<M::Out>; ROWS]>::try_from(chunk.as_chunks_mut::<LANES>().0) {
            unpack_chunk(width, b, rows, frame, map);
        }
    }
    let tail_at = chunks.len() * chunk_bytes;
    let tail_buf = buf.get(tail_at..).unwrap_or_default();
    unpack_tail(tail_buf, base + tail_at as u64, width, frame, tail, map)
}

/// Decodes the tail stream (fewer than 1024 values) 64 at a time.
fn unpack_tail<M: Map>(
    buf: &[u8],
    base: u64,
    width: u32,
    frame: (u64, Option<u32>),
    out: &mut [M::Out],
    map: M,
) -> Result<(), DecodeError> {
    let group_bytes = 8 * width as usize;
    let (groups, last) = out.as_chunks_mut::<GROUP>();
    let mut bytes = buf.chunks(group_bytes);
    for (g, b) in groups.iter_mut().zip(bytes.by_ref()) {
        unpack_group(width, b, g, frame, map);
    }
    if last.is_empty() {
        return Ok(());
    }
    let rest = buf.get(groups.len() * group_bytes..).unwrap_or_default();
    let used_bits = (last.len() * width as usize) % 8;
    if let (Some(&b), true) = (rest.last(), used_bits != 0) {
        if b >> used_bits != 0 {
            let at = base + buf.len() as u64 - 1;
            return Err(DecodeError::invalid(at, "nonzero padding bits"));
        }
    }
    unpack_partial(width, rest, last, frame, map);
    Ok(())
}

/// Decodes the last group of the tail stream (fewer than 64 values) straight
/// from its bytes: eight values per load for widths up to 8, else one value
/// at a time. Padding the bytes to a whole group for [`unpack_group`] zeroed
/// and copied 512 bytes and decoded 64 values for a few: in the SKAB decode
/// profile that memset and copy were 3.5% of the time, mostly for the handful
/// of frame exceptions a block carries.
///
/// A value of up to 56 bits lies within the 8 bytes from its first byte, so
/// while those 8 bytes are in the stream it costs one unaligned load; the
/// last few values (and wider ones) are read from two padded words.
fn unpack_partial<M: Map>(
    width: u32,
    bytes: &[u8],
    out: &mut [M::Out],
    (add, mul): (u64, Option<u32>),
    map: M,
) {
    let (w, m) = (width as usize, mask(width as usize));
    let value = |q: u64| {
        map.map(match mul {
            Some(mul) => scaled::<true>(q, add, mul),
            None => scaled::<false>(q, add, 0),
        })
    };
    // Widths up to 8: eight values fill `w` bytes, so while 8 bytes remain
    // from a group's first, one load serves all eight (the exception lists
    // of frames are mostly such narrow deltas).
    let mut done = 0;
    if (1..=8).contains(&w) {
        let shifts: [usize; 8] = std::array::from_fn(|j| j * w);
        for (g, o8) in out.as_chunks_mut::<8>().0.iter_mut().enumerate() {
            let Some(b) = bytes.get(g * w..).and_then(<[u8]>::first_chunk::<8>) else {
                break;
            };
            let word = u64::from_le_bytes(*b);
            for (o, s) in o8.iter_mut().zip(shifts) {
                *o = value(word >> s & m);
            }
            done += 8;
        }
    }
    // Values done..fast start at least 8 bytes before the end.
    let fast = match (w, bytes.len().checked_sub(8)) {
        (1..=56, Some(last_start)) => (last_start * 8 / w + 1).min(out.len()),
        _ => 0,
    };
    let fast = fast.max(done);
    let (head, tail) = out.split_at_mut(fast);
    let head = head.get_mut(done..).unwrap_or_default();
    for (i, o) in (done..).zip(head.iter_mut()) {
        let bit = i * w;
        let at = bytes.get(bit / 8..).and_then(<[u8]>::first_chunk::<8>);
        let q = at.map_or(0, |b| u64::from_le_bytes(*b) >> (bit % 8)) & m;
        *o = value(q);
    }
    let (words, rest) = bytes.as_chunks::<8>();
    let mut padded: Word = [0; 8];
    for (d, s) in padded.iter_mut().zip(rest) {
        *d = *s;
    }
    let padded = u64::from_le_bytes(padded);
    // Word k of the stream; the bytes past the end read as zero.
    let word = |k: usize| match words.get(k) {
        Some(w) => u64::from_le_bytes(*w),
        None if k == words.len() => padded,
        None => 0,
    };
    for (i, o) in (fast..).zip(tail.iter_mut()) {
        let (k, s) = (i * w / 64, (i * w % 64) as u32);
        let two = u128::from(word(k)) | u128::from(word(k + 1)) << 64;
        *o = value((two >> s) as u64 & m);
    }
}

/// Appends `values` packed at `width` bits (at most 64): exactly
/// [`packed_len`]`(values.len(), width)` bytes. Bits above `width` are dropped;
/// callers pass values below `2^width`.
pub fn pack(values: &[u64], width: u32, out: &mut Vec<u8>) {
    let width = width.min(64) as usize;
    debug_assert!(values.iter().all(|&v| v & !mask(width) == 0));
    if width == 0 {
        return;
    }
    out.reserve(packed_len(values.len(), width as u32));
    let (chunks, tail) = values.as_chunks::<CHUNK>();
    for chunk in chunks {
        pack_chunk(chunk, width, out);
    }
    pack_stream(tail, width, out);
}

/// Packs 1024 values in the interleaved order (run-time shifts, vectorised per row).
fn pack_chunk(values: &[u64; CHUNK], width: usize, out: &mut Vec<u8>) {
    let m = mask(width);
    let mut words = [[0u64; LANES]; ROWS];
    for (r, vals) in values.as_chunks::<LANES>().0.iter().enumerate() {
        let (k, s) = (r * width / 64, r * width % 64);
        if let Some(lo) = words.get_mut(k) {
            for (w, v) in lo.iter_mut().zip(vals) {
                *w |= (v & m) << s;
            }
        }
        if s + width > 64 {
            if let Some(hi) = words.get_mut(k + 1) {
                for (w, v) in hi.iter_mut().zip(vals) {
                    *w |= (v & m) >> (64 - s);
                }
            }
        }
    }
    for w in words.iter().take(width).flatten() {
        out.extend_from_slice(&w.to_le_bytes());
    }
}

/// Packs fewer than 1024 values as one LSB-first bit stream.
fn pack_stream(values: &[u64], width: usize, out: &mut Vec<u8>) {
    let m = mask(width);
    let (mut acc, mut bits) = (0u64, 0usize);
    for &v in values {
        let v = v & m;
        acc |= v << bits;
        bits += width;
        if bits >= 64 {
            out.extend_from_slice(&acc.to_le_bytes());
            bits -= 64;
            // The bits of `v` that did not fit; none when `v` ended the word.
            acc = if bits == 0 { 0 } else { v >> (width - bits) };
        }
    }
    let tail = acc.to_le_bytes();
    out.extend_from_slice(tail.get(..bits.div_ceil(8)).unwrap_or_default());
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::codec::isa::{with_level, Level};
    use crate::test_rng::XorShift;
    use proptest::prelude::*;

    /// Deterministic pseudo-random values below `2^width`.
    fn values(n: usize, width: u32, seed: u64) -> Vec<u64> {
        let mut r = XorShift::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        (0..n)
            .map(|_| r.next_u64() & mask(width as usize))
            .collect()
    }

    fn round_trip(v: &[u64], width: u32) {
        let mut buf = vec![0xAA]; // packing appends
        pack(v, width, &mut buf);
        assert_eq!(
            buf.len() - 1,
            packed_len(v.len(), width),
            "w={width} n={}",
            v.len()
        );
        for level in Level::ALL {
            let mut out = vec![7; v.len()];
            with_level(level, || unpack(&buf[1..], 1, width, &mut out)).unwrap();
            assert_eq!(out, v, "w={width} n={} {level:?}", v.len());
        }
        let mut signed = vec![0i64; v.len()];
        unpack_add(&buf[1..], 1, width, -5, &mut signed).unwrap();
        let want: Vec<i64> = v.iter().map(|&x| (x as i64).wrapping_sub(5)).collect();
        assert_eq!(signed, want);
        unpack_scaled(&buf[1..], 1, width, -5, 327_927, &mut signed).unwrap();
        let want: Vec<i64> = v
            .iter()
            .map(|&x| (x as i64).wrapping_mul(327_927).wrapping_sub(5))
            .collect();
        assert_eq!(signed, want, "scaled w={width}");
    }

    #[test]
    fn every_width_and_shape_round_trips() {
        for width in 0..=64 {
            for n in [
                0, 1, 2, 7, 8, 9, 17, 47, 63, 64, 65, 127, 1000, 1023, 1024, 1025, 2125,
            ] {
                round_trip(&values(n, width, u64::from(width) * 31 + n as u64), width);
            }
            // The extremes of the width: all ones and all zeros.
            round_trip(&vec![mask(width as usize); 1024 + 65], width);
            round_trip(&vec![0; 1024 + 65], width);
        }
    }

    #[test]
    fn width_of_and_packed_len() {
        assert_eq!(width_of(0), 0);
        assert_eq!(width_of(1), 1);
        assert_eq!(width_of(255), 8);
        assert_eq!(width_of(256), 9);
        assert_eq!(width_of(u64::MAX), 64);
        assert_eq!(packed_len(1024, 17), 1024 * 17 / 8);
        assert_eq!(packed_len(3, 3), 2);
        assert_eq!(packed_len(0, 64), 0);
    }

    #[test]
    fn wrong_lengths_and_widths_are_errors() {
        let v = values(1030, 13, 1);
        let mut buf = Vec::new();
        pack(&v, 13, &mut buf);
        let mut out = vec![0u64; v.len()];
        for cut in 0..buf.len() {
            let e = unpack(&buf[..cut], 100, 13, &mut out).unwrap_err();
            assert!(matches!(e.kind, CorruptionKind::Truncated { .. }), "{e:?}");
        }
        buf.push(0);
        assert!(unpack(&buf, 0, 13, &mut out).is_err());
        assert!(unpack(&[], 0, 65, &mut []).is_err());
    }

    #[test]
    fn nonzero_padding_is_an_error() {
        let mut buf = Vec::new();
        pack(&[1, 2, 3], 3, &mut buf); // 9 bits: 7 padding bits
        buf[1] |= 0x80;
        let e = unpack(&buf, 10, 3, &mut [0; 3]).unwrap_err();
        assert_eq!(e.offset, 11);
    }

    #[test]
    fn bit_flips_never_panic() {
        for width in [1, 7, 24, 64] {
            let v = values(1024 + 70, width, 9);
            let mut buf = Vec::new();
            pack(&v, width, &mut buf);
            let mut out = vec![0u64; v.len()];
            for bit in 0..buf.len() * 8 {
                let mut b = buf.clone();
                b[bit / 8] ^= 1 << (bit % 8);
                let _ = unpack(&b, 0, width, &mut out);
            }
        }
    }

    proptest! {
        #[test]
        fn prop_round_trip(width in 0u32..=64, n in 0usize..2200, seed: u64) {
            round_trip(&values(n, width, seed), width);
        }
    }
}
