//! NumPy `.npy` files, format version 1.0, written by hand.
//!
//! Layout: the magic `\x93NUMPY`, version bytes `1 0`, a little-endian u16
//! header length, then the header: an ASCII Python dict literal
//! `{'descr': '<f8', 'fortran_order': False, 'shape': (w, c, s), }` padded
//! with spaces and ended by `\n` so that the data starts at a multiple of
//! 64 bytes (as NumPy itself writes it), then the data in C order.
//!
//! Invariants:
//! 1. Dtypes: `<f8` (little-endian f64: values and labels), `|b1` (one
//!    byte 0 or 1: masks), `<i8` (little-endian i64: window start times).
//! 2. The data is exactly `product(shape) × itemsize` bytes; the header is
//!    the same bytes for the same dtype and shape, so files are
//!    deterministic.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::io::{self, Write};

/// The `.npy` magic string.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// Magic, two version bytes and the u16 header length.
const PREAMBLE_LEN: usize = MAGIC.len() + 2 + std::mem::size_of::<u16>();
/// NumPy aligns the data to this many bytes.
const ALIGN: usize = 64;

/// An element type of a written array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// `<f8`.
    F64,
    /// `|b1`.
    Bool,
    /// `<i8`.
    I64,
}

impl Dtype {
    /// The NumPy type string.
    pub fn descr(self) -> &'static str {
        match self {
            Dtype::F64 => "<f8",
            Dtype::Bool => "|b1",
            Dtype::I64 => "<i8",
        }
    }
}

/// The preamble and header of an array of `dtype` and `shape`.
pub fn header(dtype: Dtype, shape: &[usize]) -> Vec<u8> {
    let dims = match shape {
        [n] => format!("({n},)"),
        _ => {
            let parts: Vec<String> = shape.iter().map(usize::to_string).collect();
            format!("({})", parts.join(", "))
        }
    };
    let mut dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {dims}, }}",
        dtype.descr()
    );
    let unpadded = PREAMBLE_LEN + dict.len() + 1;
    let pad = (ALIGN - unpadded % ALIGN) % ALIGN;
    dict.extend(std::iter::repeat_n(' ', pad));
    dict.push('\n');
    // Shapes are a few numbers: the dict is far below u16::MAX bytes.
    let len = u16::try_from(dict.len()).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(PREAMBLE_LEN + dict.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

/// Buffers array data and writes it in large chunks.
pub struct NpyWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
}

const CHUNK_BYTES: usize = 1 << 16;

impl<W: Write> NpyWriter<W> {
    /// Writes the header of an array of `dtype` and `shape` to `out`.
    pub fn new(mut out: W, dtype: Dtype, shape: &[usize]) -> io::Result<Self> {
        out.write_all(&header(dtype, shape))?;
        Ok(NpyWriter {
            out,
            buf: Vec::with_capacity(CHUNK_BYTES + 8),
        })
    }

    fn spill(&mut self) -> io::Result<()> {
        if self.buf.len() >= CHUNK_BYTES {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Appends one `<f8`.
    pub fn f64(&mut self, v: f64) -> io::Result<()> {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self.spill()
    }

    /// Appends `<f8`s.
    pub fn f64s(&mut self, v: &[f64]) -> io::Result<()> {
        for x in v {
            self.buf.extend_from_slice(&x.to_le_bytes());
        }
        self.spill()
    }

    /// Appends `|b1`s.
    pub fn bools(&mut self, v: &[bool]) -> io::Result<()> {
        self.buf.extend(v.iter().map(|&b| u8::from(b)));
        self.spill()
    }

    /// Appends one `<i8`.
    pub fn i64(&mut self, v: i64) -> io::Result<()> {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self.spill()
    }

    /// Writes what is buffered and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&self.buf)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn header_is_aligned_and_readable() {
        for shape in [&[0usize][..], &[3], &[2, 3, 4], &[123_456_789, 8, 60]] {
            let h = header(Dtype::F64, shape);
            assert_eq!(h.len() % ALIGN, 0);
            assert_eq!(&h[..6], MAGIC);
            let len = u16::from_le_bytes([h[8], h[9]]) as usize;
            assert_eq!(len + PREAMBLE_LEN, h.len());
            assert_eq!(*h.last().unwrap(), b'\n');
        }
        let h = header(Dtype::Bool, &[5]);
        let text = std::str::from_utf8(&h[PREAMBLE_LEN..]).unwrap();
        assert!(text.starts_with("{'descr': '|b1', 'fortran_order': False, 'shape': (5,), }"));
    }

    #[test]
    fn data_follows_the_header() {
        let mut w = NpyWriter::new(Vec::new(), Dtype::I64, &[2]).unwrap();
        w.i64(1).unwrap();
        w.i64(-2).unwrap();
        let out = w.finish().unwrap();
        let h = header(Dtype::I64, &[2]).len();
        assert_eq!(out.len(), h + 16);
        assert_eq!(&out[h..h + 8], &1i64.to_le_bytes());
        assert_eq!(&out[h + 8..], &(-2i64).to_le_bytes());
    }
}
