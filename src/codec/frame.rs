//! Frames of reference, the body of the integer codecs: `v = min + gcd * q`,
//! with `q` bit-packed at one width and, in a patched frame, the few `q` too wide
//! for that width stored apart as exceptions (PFOR), so one outlier does not
//! widen the other 1,023 values.
//!
//! ```text
//! frame(c)          u8 width | 0x80 if a divisor follows | zz min | [uv gcd ≥ 2]
//!                   | bitpack(c values q, width bits)
//! patched frame(c)  u8 width | 0x80 if a divisor follows | zz min | [uv gcd ≥ 2]
//!                   | uv e | bitpack(c low parts, width bits) | patches(e)
//! patches(e)        nothing if e = 0, else frame(e index steps) | frame(e highs)
//! ```
//!
//! (`zz` = zigzag varint, `uv` = unsigned LEB128 varint.) Exception `j` sits at
//! index `i_j = i_{j-1} + 1 + step_j` (`i_{-1} = -1`) and its `q` is
//! `low | high << width`, with `high ≥ 1`. `min` is the values' minimum, or,
//! when at most 8 low outliers sit far below the bulk, the bulk's minimum: the
//! outliers' offsets wrap and they become exceptions like high ones.
//!
//! Invariants:
//! 1. Arithmetic wraps, so every i64 sequence round-trips.
//! 2. Decoding checks widths ≤ 64, divisors ≥ 2, `e ≤` [`MAX_PATCHES`] and `≤ c`,
//!    exception indices `< c`, highs non-zero and within `64 - width` bits; it
//!    uses stack buffers of [`MAX_PATCHES`] entries, whatever the input says.
//! 3. [`Plan::size`] is the exact number of bytes [`Plan::write`] appends, so the
//!    int codecs choose among encodings without writing them.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::bitpack::{pack, packed_len, unpack_map, width_of, Ident, Lane, Map};
use super::isa::vectorized;
use super::prefix::prefix_sum_map;
use super::varint::{put_varint, read_varint, unzigzag, varint_len, zigzag};
use crate::bytes::{Cursor, DecodeError};

/// Set in a frame's width byte when a divisor follows.
const GCD_FLAG: u8 = 0x80;
/// Exceptions a patched frame holds at most: an eighth of a block. Past that,
/// a wider width is cheaper anyway, and the decoder's buffers stay small.
pub const MAX_PATCHES: usize = 128;

/// The header of a frame: `v = min + gcd * q`, `q` packed at `width` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Frame {
    pub min: i64,
    pub gcd: u64,
    pub width: u32,
}

impl Frame {
    fn header_len(&self) -> usize {
        let gcd = if self.gcd > 1 {
            varint_len(self.gcd)
        } else {
            0
        };
        1 + varint_len(zigzag(self.min)) + gcd
    }

    fn write_header(&self, out: &mut Vec<u8>) {
        let flag = if self.gcd > 1 { GCD_FLAG } else { 0 };
        out.push(self.width as u8 | flag);
        put_varint(out, zigzag(self.min));
        if self.gcd > 1 {
            put_varint(out, self.gcd);
        }
    }

    /// Reads a frame header.
    pub fn read(c: &mut Cursor<'_>) -> Result<Frame, DecodeError> {
        let at = c.offset();
        let b = c.u8()?;
        let width = read_width(b, at)?;
        let min = unzigzag(read_varint(c)?);
        let gcd = if b & GCD_FLAG != 0 { read_gcd(c)? } else { 1 };
        Ok(Frame { min, gcd, width })
    }

    /// Reads the values of a plain frame with this header into `out`.
    pub fn unpack(&self, c: &mut Cursor<'_>, out: &mut [i64]) -> Result<(), DecodeError> {
        let at = c.offset();
        let bytes = c.take(packed_len(out.len(), self.width))?;
        self.unpack_map(bytes, at, out, Ident::default())
    }

    /// Reads a patched frame of deltas into `out` as `map` of their prefix
    /// sum from `first` (`out[0] = map(first)`; the delta at 0 is a
    /// placeholder).
    pub fn unpack_prefix<M: Map>(
        &self,
        c: &mut Cursor<'_>,
        first: i64,
        out: &mut [M::Out],
        map: M,
    ) -> Result<(), DecodeError> {
        if self.width != 0 {
            self.unpack_patched(c, out, Ident::<M::Out>::default())?;
            prefix_sum_map(first, out, map);
            return Ok(());
        }
        let e = read_patch_count(c, out.len(), 0)?;
        let n = out.len();
        let (min, gcd) = (self.min, self.gcd as i64);
        Patches::read(c, e, n, 0, |p| p.prefix_linear(first, min, gcd, out))?;
        map.map_in_place(out);
        Ok(())
    }

    /// Reads the values of a patched frame with this header into `out` as
    /// `map(value)`. Without exceptions (the common case) the low parts are
    /// unpacked and mapped in one pass; with them, raw values are unpacked,
    /// patched, then mapped in a second pass.
    pub fn unpack_patched<M: Map>(
        &self,
        c: &mut Cursor<'_>,
        out: &mut [M::Out],
        map: M,
    ) -> Result<(), DecodeError> {
        let e = read_patch_count(c, out.len(), self.width)?;
        let at = c.offset();
        let bytes = c.take(packed_len(out.len(), self.width))?;
        if e == 0 {
            return self.unpack_map(bytes, at, out, map);
        }
        let n = out.len();
        let unpack = |patches: &Patches<'_>| {
            self.unpack_map(bytes, at, out, Ident::<M::Out>::default())?;
            patches.apply(out, self.gcd);
            map.map_in_place(out);
            Ok::<(), DecodeError>(())
        };
        Patches::read(c, e, n, self.width, unpack)??;
        Ok(())
    }

    /// `map(min + gcd * q)` for the packed `q`.
    fn unpack_map<M: Map>(
        &self,
        bytes: &[u8],
        at: u64,
        out: &mut [M::Out],
        map: M,
    ) -> Result<(), DecodeError> {
        unpack_map(bytes, at, self.width, (self.min as u64, self.gcd), out, map)
    }
}

/// `out[0] = first`, then `out[i] = out[i-1] + out[i]` (wrapping).
///
/// A plain loop is one chain of dependent adds, a cycle a value. Here each
/// group of eight is scanned on its own in three shift-and-add steps (vector
/// shuffles, no dependence between groups), and only the running total, one
/// scalar add a group, is carried from group to group. LLVM compiles the
/// in-register shifts to scalar adds all the same, so decoders call
/// [`super::prefix::prefix_sum_map`], which runs this only below AVX-512.
#[inline(never)]
pub(crate) fn prefix_sum<T: Lane>(first: i64, out: &mut [T]) {
    vectorized!(prefix_sum_body(first, out))
}

#[inline(always)]
fn prefix_sum_body<T: Lane>(first: i64, out: &mut [T]) {
    let Some(head) = out.first_mut() else {
        return;
    };
    // The delta at 0 is a placeholder: the sum starts from `first`.
    *head = T::from_bits(0);
    let mut carry = first as u64;
    let (groups, tail) = out.as_chunks_mut::<8>();
    for g in groups {
        let x: [u64; 8] = g.map(|v| v.to_bits());
        let x = add8(x, shift8::<1>(x));
        let x = add8(x, shift8::<2>(x));
        let x = add8(x, shift8::<4>(x));
        let total = x[7];
        *g = x.map(|v| T::from_bits(v.wrapping_add(carry)));
        carry = carry.wrapping_add(total);
    }
    for o in tail {
        carry = carry.wrapping_add(o.to_bits());
        *o = T::from_bits(carry);
    }
}

/// Lanes moved up by `S`, zeros shifted in.
#[inline(always)]
fn shift8<const S: usize>(x: [u64; 8]) -> [u64; 8] {
    std::array::from_fn(|i| x.get(i.wrapping_sub(S)).copied().unwrap_or(0))
}

#[inline(always)]
fn add8(mut a: [u64; 8], b: [u64; 8]) -> [u64; 8] {
    for (x, y) in a.iter_mut().zip(b) {
        *x = x.wrapping_add(y);
    }
    a
}

/// `out[k] = t + k * step`, wrapping (a vector induction).
#[inline(always)]
fn fill_linear<T: Lane>(out: &mut [T], mut t: i64, step: i64) {
    for o in out.iter_mut() {
        *o = T::from_bits(t as u64);
        t = t.wrapping_add(step);
    }
}

/// `out[k] = t + (k - start) * step` for `k` in `start..end`, eight lanes per
/// store: the last store may run up to seven values past `end` (never past
/// `out`), so a caller filling runs left to right overwrites them with the
/// next run. Runs between timestamp holes are about twenty values long, so
/// whole-vector stores beat an exact loop with a scalar tail.
#[inline(always)]
fn fill_run<T: Lane>(out: &mut [T], start: usize, end: usize, t: i64, step: i64) {
    let mut acc: [i64; 8] = std::array::from_fn(|j| t.wrapping_add(step.wrapping_mul(j as i64)));
    let stride = step.wrapping_mul(8);
    let mut k = start;
    while k < end {
        let Some(chunk) = out.get_mut(k..).and_then(|s| s.first_chunk_mut::<8>()) else {
            let v = acc[0];
            fill_linear(out.get_mut(k..end).unwrap_or_default(), v, step);
            return;
        };
        *chunk = acc.map(|a| T::from_bits(a as u64));
        for a in &mut acc {
            *a = a.wrapping_add(stride);
        }
        k += 8;
    }
}

/// The largest low part of `width` bits.
pub(crate) fn low_max(width: u32) -> u64 {
    u64::MAX.checked_shr(64 - width).unwrap_or(0)
}

/// The width of a width byte (its low 7 bits), at most 64.
pub(crate) fn read_width(b: u8, at: u64) -> Result<u32, DecodeError> {
    let width = u32::from(b & !GCD_FLAG);
    if width > 64 {
        return Err(DecodeError::invalid(at, format!("bit width {width} > 64")));
    }
    Ok(width)
}

/// A divisor, at least 2 (1 is written as no divisor).
pub(crate) fn read_gcd(c: &mut Cursor<'_>) -> Result<u64, DecodeError> {
    let at = c.offset();
    match read_varint(c)? {
        g @ 2.. => Ok(g),
        g => Err(DecodeError::invalid(at, format!("frame divisor {g}"))),
    }
}

/// The exception count of a patched frame of `n` values.
pub(crate) fn read_patch_count(
    c: &mut Cursor<'_>,
    n: usize,
    width: u32,
) -> Result<usize, DecodeError> {
    let at = c.offset();
    let e = read_varint(c)?;
    if e > n.min(MAX_PATCHES) as u64 || (e > 0 && width == 64) {
        return Err(DecodeError::invalid(
            at,
            format!("{e} exceptions for {n} values"),
        ));
    }
    Ok(e as usize)
}

/// The exceptions of a patched frame, decoded and checked: indices below the
/// count, strictly increasing, and what to add at each (`high << width`).
pub(crate) struct Patches<'a> {
    index: &'a [i64],
    add: &'a [i64],
    /// The largest high part (0 without exceptions).
    pub max_high: u64,
}

impl Patches<'_> {
    /// Reads `e` exceptions for `n` values packed at `width` bits into stack
    /// buffers (none when `e` is 0, the common case), then calls `then` on them.
    pub fn read<R>(
        c: &mut Cursor<'_>,
        e: usize,
        n: usize,
        width: u32,
        then: impl FnOnce(&Patches<'_>) -> R,
    ) -> Result<R, DecodeError> {
        if e == 0 {
            let none = Patches {
                index: &[],
                add: &[],
                max_high: 0,
            };
            return Ok(then(&none));
        }
        // Zeroing 2 KiB of stack for a handful of exceptions costs as much
        // as decoding them: small counts get small buffers.
        match e {
            0..=16 => Self::read_into::<16, R>(c, e, n, width, then),
            17..=32 => Self::read_into::<32, R>(c, e, n, width, then),
            33..=64 => Self::read_into::<64, R>(c, e, n, width, then),
            _ => Self::read_into::<MAX_PATCHES, R>(c, e, n, width, then),
        }
    }

    /// [`Patches::read`] with buffers of `N ≥ e` entries.
    fn read_into<const N: usize, R>(
        c: &mut Cursor<'_>,
        e: usize,
        n: usize,
        width: u32,
        then: impl FnOnce(&Patches<'_>) -> R,
    ) -> Result<R, DecodeError> {
        let (mut index, mut add) = ([0i64; N], [0i64; N]);
        let index = index.get_mut(..e).unwrap_or_default();
        let add = add.get_mut(..e).unwrap_or_default();
        let at = c.offset();
        Frame::read(c)?.unpack(c, index)?;
        Frame::read(c)?.unpack(c, add)?;
        let (mut next, mut max_high) = (0u64, 0u64);
        for (i, a) in index.iter_mut().zip(add.iter_mut()) {
            let at_i = next.saturating_add(*i as u64);
            let high = *a as u64;
            // `high` must be non-zero and fit the 64 - width bits above the low part.
            if at_i >= n as u64 || high == 0 || high.checked_shr(64 - width).unwrap_or(0) != 0 {
                return Err(DecodeError::invalid(at, "bad frame exception"));
            }
            (*i, *a) = (at_i as i64, high.checked_shl(width).unwrap_or(0) as i64);
            max_high = max_high.max(high);
            next = at_i + 1;
        }
        let patches = Patches {
            index,
            add,
            max_high,
        };
        Ok(then(&patches))
    }

    /// Adds each exception's high part, times `mul`, to its raw value (wrapping).
    pub fn apply<T: Lane>(&self, out: &mut [T], mul: u64) {
        for (&i, &high_shifted) in self.index.iter().zip(self.add.iter()) {
            if let Some(o) = out.get_mut(i as usize) {
                let add = (high_shifted as u64).wrapping_mul(mul);
                *o = T::from_bits(o.to_bits().wrapping_add(add));
            }
        }
    }

    /// `out[0] = first`, then `out[i] = out[i-1] + step + mul * add_i` (wrapping),
    /// `add_i` being the exception at `i` (none at most `i`): the prefix sum of
    /// a width-0 frame, filled as linear runs (vectorised) between exceptions.
    /// An exception at 0 (the delta placeholder) is ignored.
    ///
    /// Regular clocks decode through here, so the whole block is one kernel
    /// compiled for the widest vectors (one level check per block).
    #[inline(never)]
    pub fn prefix_linear<T: Lane>(&self, first: i64, step: i64, mul: i64, out: &mut [T]) {
        vectorized!(self.prefix_linear_body(first, step, mul, out))
    }

    #[inline(always)]
    fn prefix_linear_body<T: Lane>(&self, first: i64, step: i64, mul: i64, out: &mut [T]) {
        let (mut t, mut start) = (first, 0usize);
        for (&i, &add) in self.index.iter().zip(self.add.iter()) {
            let i = i as usize;
            if i <= start {
                continue;
            }
            fill_run(out, start, i, t, step);
            let run = step.wrapping_mul((i - start) as i64);
            t = t.wrapping_add(run).wrapping_add(add.wrapping_mul(mul));
            start = i;
        }
        fill_linear(out.get_mut(start..).unwrap_or_default(), t, step);
    }

    /// The largest `q` of a frame of `width` bits with these exceptions.
    pub fn q_max(&self, width: u32) -> u64 {
        let high = self.max_high.checked_shl(width).unwrap_or(0);
        high | low_max(width)
    }
}

/// A frame ready to be written, with its exact size.
pub(crate) struct Plan {
    frame: Frame,
    /// `(v - min) / gcd` per value.
    q: Vec<u64>,
    patched: bool,
    exceptions: Vec<(usize, u64)>,
    size: usize,
}

impl Plan {
    /// The smallest frame of `values`; `patched` picks the patched layout.
    pub fn new(values: &[i64], patched: bool) -> Plan {
        let (min, max) = min_max(values);
        let plan = Plan::with_base(values, min, max, patched);
        // A few low outliers set the base far below the bulk: their q are tiny
        // next to the width. Try the bulk's minimum as base instead; their
        // offsets then wrap and they become exceptions like high outliers.
        let w = plan.frame.width;
        if !patched || w < 4 {
            return plan;
        }
        let cut = 1u64 << (w - 3);
        let low = plan.q.iter().filter(|&&q| q < cut).count();
        if !(1..=8).contains(&low) {
            return plan;
        }
        let bulk = values.iter().zip(&plan.q).filter(|(_, &q)| q >= cut);
        let Some(base) = bulk.map(|(&v, _)| v).min() else {
            return plan;
        };
        let alt = Plan::with_base(values, base, max, true);
        if alt.size < plan.size {
            alt
        } else {
            plan
        }
    }

    /// The frame of `values` over `base`; `max` is their maximum.
    fn with_base(values: &[i64], base: i64, max: i64, patched: bool) -> Plan {
        let range = max.wrapping_sub(base) as u64;
        let gcd = gcd_of(values.iter().map(|v| v.wrapping_sub(base) as u64)).max(1);
        // A divisor pays when the bits it saves exceed its varint.
        let saved = values.len() * (width_of(range) - width_of(range / gcd)) as usize;
        let gcd = if saved > 8 * varint_len(gcd) { gcd } else { 1 };
        let div = ExactDiv::new(gcd);
        let q: Vec<u64> = values
            .iter()
            .map(|v| div.div(v.wrapping_sub(base) as u64))
            .collect();
        let width = if patched {
            patch_width(&q)
        } else {
            width_of(range / gcd)
        };
        let frame = Frame {
            min: base,
            gcd,
            width,
        };
        Plan::with_width(frame, q, patched)
    }

    /// The plan for offsets `q` already computed, at the frame's width.
    pub fn with_width(frame: Frame, q: Vec<u64>, patched: bool) -> Plan {
        let exceptions: Vec<(usize, u64)> = if patched {
            let w = frame.width;
            q.iter()
                .enumerate()
                .filter_map(|(i, &v)| v.checked_shr(w).filter(|&h| h != 0).map(|h| (i, h)))
                .collect()
        } else {
            Vec::new()
        };
        let mut plan = Plan {
            frame,
            q,
            patched,
            exceptions,
            size: 0,
        };
        plan.size = frame.header_len() + packed_len(plan.q.len(), frame.width);
        if patched {
            plan.size += varint_len(plan.exceptions.len() as u64);
            if !plan.exceptions.is_empty() {
                let (steps, highs) = plan.patch_columns();
                plan.size += Plan::new(&steps, false).size + Plan::new(&highs, false).size;
            }
        }
        plan
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Index steps and high parts of the exceptions.
    fn patch_columns(&self) -> (Vec<i64>, Vec<i64>) {
        let mut next = 0;
        let steps = self.exceptions.iter().map(|&(i, _)| {
            let s = i - next;
            next = i + 1;
            s as i64
        });
        let steps = steps.collect();
        (
            steps,
            self.exceptions.iter().map(|&(_, h)| h as i64).collect(),
        )
    }

    /// Appends the frame: exactly [`Plan::size`] bytes.
    pub fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        self.frame.write_header(out);
        self.write_body(out);
        debug_assert_eq!(out.len() - start, self.size);
    }

    /// Appends what follows the header: the packed values, and for a patched
    /// frame the exception count before them and the patches after them.
    pub fn write_body(&self, out: &mut Vec<u8>) {
        let w = self.frame.width;
        if !self.patched {
            pack(&self.q, w, out);
            return;
        }
        put_varint(out, self.exceptions.len() as u64);
        let low = |v: u64| v & !(u64::MAX.checked_shl(w).unwrap_or(0));
        pack(&self.q.iter().map(|&v| low(v)).collect::<Vec<_>>(), w, out);
        if !self.exceptions.is_empty() {
            let (steps, highs) = self.patch_columns();
            Plan::new(&steps, false).write(out);
            Plan::new(&highs, false).write(out);
        }
    }
}

/// The width minimising packed bits plus exceptions, from the histogram of bit
/// lengths; an exception is estimated at its index step (the mean gap between
/// exceptions) plus its high bits. At most [`MAX_PATCHES`] exceptions.
pub(crate) fn patch_width(q: &[u64]) -> u32 {
    let mut count = [0usize; 65];
    for &v in q {
        if let Some(c) = count.get_mut(width_of(v) as usize) {
            *c += 1;
        }
    }
    let max = count.iter().rposition(|&c| c > 0).unwrap_or(0);
    let mut best = (max as u32, q.len() * max);
    let mut above = 0;
    for w in (0..max).rev() {
        above += count.get(w + 1).copied().unwrap_or(0);
        if above > MAX_PATCHES {
            break;
        }
        let step_bits = width_of((q.len() / above) as u64) as usize;
        // Two small frame headers, then per exception its step and high bits.
        let bits = q.len() * w + 8 * 4 + above * (step_bits + max - w);
        if bits < best.1 {
            best = (w as u32, bits);
        }
    }
    best.0
}

/// Minimum and maximum; (0, 0) when empty.
pub(crate) fn min_max(values: &[i64]) -> (i64, i64) {
    let Some(&first) = values.first() else {
        return (0, 0);
    };
    values
        .iter()
        .fold((first, first), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}

/// Exact division by a fixed divisor through a multiplicative inverse.
#[derive(Clone, Copy)]
pub(crate) struct ExactDiv {
    shift: u32,
    inv: u64,
    /// `u64::MAX / odd`: the largest quotient of an exact division.
    limit: u64,
}

impl ExactDiv {
    /// A divider by `d` (0 is treated as 1).
    pub fn new(d: u64) -> ExactDiv {
        let d = d.max(1);
        let shift = d.trailing_zeros();
        let odd = d >> shift;
        // Newton's iteration doubles the correct low bits: 3, 6, 12, 24, 48, 96.
        let mut inv = odd;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(odd.wrapping_mul(inv)));
        }
        ExactDiv {
            shift,
            inv,
            limit: u64::MAX / odd,
        }
    }

    /// `x / d` for `x` a multiple of `d`.
    pub fn div(&self, x: u64) -> u64 {
        (x >> self.shift).wrapping_mul(self.inv)
    }

    pub fn divides(&self, x: u64) -> bool {
        x.trailing_zeros() >= self.shift && self.div(x) <= self.limit
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The gcd of `xs`; 0 when all are zero. Most values pass a multiply-only
/// divisibility test, and the divisor changes at most 64 times.
pub(crate) fn gcd_of(xs: impl Iterator<Item = u64>) -> u64 {
    let mut g = 0u64;
    let mut div = ExactDiv::new(1);
    for x in xs {
        if x == 0 || (g != 0 && div.divides(x)) {
            continue;
        }
        g = gcd(g, x);
        if g == 1 {
            return 1;
        }
        div = ExactDiv::new(g);
    }
    g
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(v: &[i64], patched: bool) -> Vec<u8> {
        let plan = Plan::new(v, patched);
        let mut b = vec![0xAB];
        plan.write(&mut b);
        assert_eq!(b.len() - 1, plan.size());
        let mut c = Cursor::new(&b[1..], 1);
        let f = Frame::read(&mut c).unwrap();
        let mut out = vec![0; v.len()];
        if patched {
            f.unpack_patched(&mut c, &mut out, Ident::<i64>::default())
                .unwrap();
        } else {
            f.unpack(&mut c, &mut out).unwrap();
        }
        assert_eq!(out, v);
        assert_eq!(c.remaining(), 0);
        b
    }

    #[test]
    fn every_exception_buffer_size_round_trips() {
        // `Patches::read` picks a buffer of 16, 32, 64 or MAX_PATCHES
        // entries by count: each side of each boundary, and the maximum.
        for e in [1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, MAX_PATCHES] {
            let mut v: Vec<i64> = (0..1024).map(|i| i % 7).collect();
            let spread = 1024 / e;
            for k in 0..e {
                v[k * spread] = (1 << 40) + k as i64;
            }
            let plan = Plan::new(&v, true);
            assert_eq!(plan.exceptions.len(), e, "{e} exceptions planned");
            round_trip(&v, true);
        }
    }

    #[test]
    fn gcd_and_exact_division() {
        let g = |v: &[u64]| gcd_of(v.iter().copied());
        assert_eq!(g(&[0, 6, 12, 30]), 6);
        assert_eq!(g(&[0, 0]), 0);
        assert_eq!(g(&[u64::MAX]), u64::MAX);
        assert_eq!(g(&[1 << 40, 3 << 40, 0, 5 << 41]), 1 << 40);
        assert_eq!(g(&[10, 15, 7]), 1);
        for d in [1u64, 2, 3, 6, 7, 1 << 40, 3 << 33, u64::MAX] {
            let e = ExactDiv::new(d);
            for q in [0u64, 1, 5, 1 << 20] {
                if let Some(x) = q.checked_mul(d) {
                    assert!(e.divides(x) && e.div(x) == q, "{x} / {d}");
                    let next = x.wrapping_add(1);
                    assert!(d == 1 || next == 0 || !e.divides(next), "{x}+1 / {d}");
                }
            }
        }
    }

    #[test]
    fn prefix_sum_equals_the_serial_sum() {
        let mut rng = crate::test_rng::XorShift::new(0x1234_5678_9abc_def1);
        for n in (0..80).chain([255, 256, 257, 1023, 1024]) {
            let d: Vec<i64> = (0..n).map(|_| rng.next_u64() as i64).collect();
            let first = -(n as i64) * 977;
            let mut want = d.clone();
            let mut acc = first;
            for (i, w) in want.iter_mut().enumerate() {
                acc = if i == 0 { first } else { acc.wrapping_add(*w) };
                *w = acc;
            }
            let mut got = d.clone();
            prefix_sum(first, &mut got);
            assert_eq!(got, want, "n={n}");
        }
    }

    #[test]
    fn frames_round_trip_at_their_size() {
        let outliers: Vec<i64> = (0..1024)
            .map(|i| if i % 100 == 7 { i << 30 } else { i % 5 })
            .collect();
        let plain = round_trip(&outliers, false);
        let patched = round_trip(&outliers, true);
        assert!(
            patched.len() * 5 < plain.len(),
            "{} vs {}",
            patched.len(),
            plain.len()
        );
        for v in [
            vec![],
            vec![i64::MIN, i64::MAX],
            vec![i64::MAX, 0, i64::MIN, -1],
            (0..1024).map(|i| i * 1000 - 7).collect(),
            (0..300)
                .map(|i| if i == 299 { i64::MIN } else { 0 })
                .collect(),
        ] {
            round_trip(&v, false);
            round_trip(&v, true);
        }
        // At most MAX_PATCHES exceptions: 200 outliers widen the frame instead.
        let many: Vec<i64> = (0..1024)
            .map(|i| if i % 5 == 0 { (1 << 40) + i } else { 1 })
            .collect();
        let b = round_trip(&many, true);
        assert!(
            b[1] & 0x7f >= 38 && b.len() > 1024 * 38 / 8,
            "{:?}",
            &b[..4]
        );
    }

    #[test]
    fn bad_patches_are_errors() {
        // Width 0, min 0, e = 1, no packed bytes; then the steps and highs frames.
        let section = |step: u8, high: u8| {
            let (step, high) = (zigzag(step.into()) as u8, zigzag(high.into()) as u8);
            vec![0, 0, 1, 0, step, 0, high]
        };
        let read = |b: &[u8], n: usize| {
            let mut c = Cursor::new(b, 0);
            let mut out = vec![0; n];
            Frame::read(&mut c)?
                .unpack_patched(&mut c, &mut out, Ident::<i64>::default())
                .map(|_| out)
        };
        assert_eq!(read(&section(2, 9), 4).unwrap(), [0, 0, 9, 0]);
        assert!(read(&section(4, 9), 4).is_err(), "index 4 of 4");
        assert!(read(&section(0, 0), 4).is_err(), "high 0");
        assert!(
            read(&[0, 0, 2, 0, 0, 0, 0], 1).is_err(),
            "2 exceptions for 1 value"
        );
        assert!(read(&[64, 0, 1], 1).is_err(), "exception at width 64");
        assert!(
            read(&[0, 0, 200, 1], 1024).is_err(),
            "more than MAX_PATCHES"
        );
        // High parts must fit above the width: 2^63 at width 1 does not.
        let mut b = vec![1, 0, 1, 0, 0, 0, 0];
        put_varint(&mut b, zigzag(i64::MIN));
        assert!(read(&b, 1).is_err());
        let mut b = vec![1, 0, 1, 0, 0, 0, 0];
        put_varint(&mut b, zigzag(1 << 62));
        assert_eq!(read(&b, 1).unwrap(), [i64::MIN]);
    }

    proptest! {
        #[test]
        fn prop_frames_round_trip(
            v in prop::collection::vec(prop_oneof![4 => 0i64..100, 1 => any::<i64>()], 0..1100),
            patched: bool,
        ) {
            round_trip(&v, patched);
        }
    }
}
