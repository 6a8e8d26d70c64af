//! WAL record framing and payload encoding (docs/FORMAT.md, "WAL record").
//!
//! A frame is `len u32 | crc u32 | payload[len]`, where `crc` is the CRC-32
//! (crc32fast, IEEE) of the four `len` bytes followed by the payload, so a
//! corrupted length is caught too. The payload is
//! `kind u8 | seq u64 | synced_through u64 | body`.
//!
//! Invariants:
//! 1. The body (tenant + series columns) is encoded outside the WAL lock; only
//!    the 25-byte prefix holding the sequence number is patched under the lock,
//!    and its CRC is combined with the body's precomputed CRC.
//! 2. Decoding never panics and never allocates more than the frame's length.
//! 3. `synced_through` is the offset in the same file up to which the WAL was
//!    known durable when this record was written (see wal/replay.rs).
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use crate::bytes::{put_i64s, put_str16, put_u64s, Cursor, DecodeError};
use crate::error::CorruptionKind;
use crate::model::{BatchSeries, Columns, SeriesKey, ValueType, WriteBatch};

/// Bytes of `len` + `crc`.
pub const FRAME_HEADER_LEN: usize = 4 + 4;
/// Bytes of `kind` + `seq` + `synced_through`.
pub const PAYLOAD_PREFIX_LEN: usize = 1 + 8 + 8;
/// Bytes before the body in an encoded record.
pub const RECORD_PREFIX_LEN: usize = FRAME_HEADER_LEN + PAYLOAD_PREFIX_LEN;
/// Largest payload accepted; larger lengths are corruption.
pub const MAX_PAYLOAD_LEN: usize = 1 << 30;
/// The only record kind so far: a write batch.
pub const KIND_BATCH: u8 = 1;

/// A batch encoded for the WAL, waiting for its sequence number.
pub struct EncodedRecord {
    /// `RECORD_PREFIX_LEN` placeholder bytes, then the body.
    bytes: Vec<u8>,
    body_crc: crc32fast::Hasher,
}

impl EncodedRecord {
    /// Encodes the body of a batch for `tenant`.
    pub fn new(tenant: &str, batch: &WriteBatch) -> Self {
        let mut bytes = vec![0u8; RECORD_PREFIX_LEN];
        bytes.reserve(batch.len() * 17 + 64);
        put_str16(&mut bytes, tenant);
        bytes.extend_from_slice(&(batch.series().len() as u32).to_le_bytes());
        for s in batch.series() {
            encode_series(&mut bytes, s);
        }
        let mut body_crc = crc32fast::Hasher::new();
        body_crc.update(bytes.get(RECORD_PREFIX_LEN..).unwrap_or_default());
        EncodedRecord { bytes, body_crc }
    }

    /// Total frame length on disk.
    pub fn frame_len(&self) -> usize {
        self.bytes.len()
    }

    /// True when the payload exceeds [`MAX_PAYLOAD_LEN`].
    pub fn too_large(&self) -> bool {
        self.bytes.len() - FRAME_HEADER_LEN > MAX_PAYLOAD_LEN
    }

    /// Fills in the prefix and returns the finished frame.
    pub fn seal(&mut self, seq: u64, synced_through: u64) -> &[u8] {
        let len = (self.bytes.len() - FRAME_HEADER_LEN) as u32;
        let mut prefix = [0u8; RECORD_PREFIX_LEN];
        prefix[..4].copy_from_slice(&len.to_le_bytes());
        prefix[8] = KIND_BATCH;
        prefix[9..17].copy_from_slice(&seq.to_le_bytes());
        prefix[17..25].copy_from_slice(&synced_through.to_le_bytes());
        let mut h = crc32fast::Hasher::new();
        h.update(&prefix[..4]);
        h.update(&prefix[FRAME_HEADER_LEN..]);
        h.combine(&self.body_crc);
        prefix[4..8].copy_from_slice(&h.finalize().to_le_bytes());
        if let Some(head) = self.bytes.get_mut(..RECORD_PREFIX_LEN) {
            head.copy_from_slice(&prefix);
        }
        &self.bytes
    }
}

fn encode_series(out: &mut Vec<u8>, s: &BatchSeries) {
    put_str16(out, &s.key.to_string());
    out.push(s.value_type.tag());
    out.push(u8::from(s.cols.quality.is_some()));
    out.extend_from_slice(&(s.cols.len() as u32).to_le_bytes());
    put_i64s(out, &s.cols.ts);
    put_u64s(out, &s.cols.values);
    if let Some(q) = &s.cols.quality {
        out.extend(q.iter().map(|q| u8::from(q.is_some())));
        out.extend(q.iter().map(|q| q.unwrap_or(0)));
    }
}

/// A decoded WAL record.
#[derive(Debug)]
pub struct WalRecord {
    pub seq: u64,
    pub synced_through: u64,
    pub tenant: String,
    pub batch: WriteBatch,
}

/// The columns of one series of a record, still as little-endian bytes in
/// the WAL (replay copies them once, straight into the memtable).
#[derive(Debug)]
pub struct SeriesView<'a> {
    pub key: SeriesKey,
    pub value_type: ValueType,
    /// `8 * n` bytes of i64 timestamps.
    pub ts_le: &'a [u8],
    /// `8 * n` bytes of raw u64 values.
    pub values_le: &'a [u8],
    /// `n` presence bytes and `n` quality bytes.
    pub quality: Option<(&'a [u8], &'a [u8])>,
}

impl SeriesView<'_> {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.ts_le.len() / 8
    }

    /// True without points.
    pub fn is_empty(&self) -> bool {
        self.ts_le.is_empty()
    }

    /// Copies the points into owned columns.
    pub fn to_columns(&self) -> Columns {
        let mut cols = Columns::with_capacity(self.len());
        crate::memtable::append_le(&mut cols, self.ts_le, self.values_le, self.quality);
        cols
    }
}

/// A decoded record borrowing the frame's bytes.
#[derive(Debug)]
pub struct RecordView<'a> {
    pub seq: u64,
    pub synced_through: u64,
    pub tenant: &'a str,
    pub series: Vec<SeriesView<'a>>,
}

impl RecordView<'_> {
    /// Copies the record into an owned [`WalRecord`].
    pub fn to_record(&self) -> Result<WalRecord, DecodeError> {
        let mut batch = WriteBatch::new();
        for s in &self.series {
            let series = BatchSeries {
                key: s.key.clone(),
                value_type: s.value_type,
                cols: s.to_columns(),
            };
            batch
                .push_series(series)
                .map_err(|e| DecodeError::invalid(0, e.to_string()))?;
        }
        Ok(WalRecord {
            seq: self.seq,
            synced_through: self.synced_through,
            tenant: self.tenant.to_string(),
            batch,
        })
    }
}

/// Decodes the frame starting at `buf[0]` (file offset `base`). Returns the
/// record and the frame's total length.
pub fn decode_frame(buf: &[u8], base: u64) -> Result<(WalRecord, usize), DecodeError> {
    let (view, len) = decode_frame_view(buf, base)?;
    Ok((view.to_record()?, len))
}

/// Like [`decode_frame`], but borrows the column bytes from `buf`.
pub fn decode_frame_view(buf: &[u8], base: u64) -> Result<(RecordView<'_>, usize), DecodeError> {
    let mut c = Cursor::new(buf, base);
    let len = c.u32()? as usize;
    let crc = c.u32()?;
    if !(PAYLOAD_PREFIX_LEN..=MAX_PAYLOAD_LEN).contains(&len) {
        let msg = format!("record length {len} out of range");
        return Err(DecodeError::invalid(base, msg));
    }
    let payload = c.take(len)?;
    let mut h = crc32fast::Hasher::new();
    h.update(&(len as u32).to_le_bytes());
    h.update(payload);
    let got = h.finalize();
    if got != crc {
        let kind = CorruptionKind::ChecksumMismatch { expected: crc, got };
        return Err(DecodeError::new(base, kind));
    }
    let record = decode_payload(payload, base + FRAME_HEADER_LEN as u64)?;
    Ok((record, FRAME_HEADER_LEN + len))
}

fn decode_payload(payload: &[u8], base: u64) -> Result<RecordView<'_>, DecodeError> {
    let mut c = Cursor::new(payload, base);
    let kind = c.u8()?;
    if kind != KIND_BATCH {
        return Err(DecodeError::invalid(
            base,
            format!("unknown record kind {kind}"),
        ));
    }
    let seq = c.u64()?;
    let synced_through = c.u64()?;
    let tenant = c.str16()?;
    let n_series = c.count(1)?;
    let mut series: Vec<SeriesView<'_>> = Vec::with_capacity(n_series);
    let mut seen = std::collections::HashSet::with_capacity(n_series);
    for _ in 0..n_series {
        let at = c.offset();
        let s = decode_series(&mut c)?;
        if !seen.insert(s.key.clone()) {
            return Err(DecodeError::invalid(
                at,
                "series listed twice in one record",
            ));
        }
        series.push(s);
    }
    if c.remaining() != 0 {
        return Err(c.invalid("trailing bytes after the last series"));
    }
    Ok(RecordView {
        seq,
        synced_through,
        tenant,
        series,
    })
}

fn decode_series<'a>(c: &mut Cursor<'a>) -> Result<SeriesView<'a>, DecodeError> {
    let at = c.offset();
    let key = SeriesKey::parse(c.str16()?).map_err(|e| DecodeError::invalid(at, e.to_string()))?;
    let tag = c.u8()?;
    let value_type =
        ValueType::from_tag(tag).ok_or_else(|| c.invalid(format!("unknown value type {tag}")))?;
    let has_quality = match c.u8()? {
        0 => false,
        1 => true,
        other => return Err(c.invalid(format!("bad quality flag {other}"))),
    };
    let n = c.count(16)?;
    let ts_le = c.take(n * 8)?;
    let values_le = c.take(n * 8)?;
    let quality = if has_quality {
        Some((c.take(n)?, c.take(n)?))
    } else {
        None
    };
    Ok(SeriesView {
        key,
        value_type,
        ts_le,
        values_le,
        quality,
    })
}
