//! A tenant's manifest: the one source of truth for which segment files are
//! live and up to which WAL sequence number the tenant's data is in segments.
//!
//! The manifest is rewritten whole on every change:
//! `MANIFEST.tmp` is written and synced, renamed over `MANIFEST`, and the
//! directory is synced (docs/FORMAT.md, "Manifest").
//!
//! Invariants:
//! 1. A reader of `MANIFEST` sees either the old or the new state, never a mix
//!    (rename is atomic; the tmp file is synced before it).
//! 2. Every segment named in the manifest was durable (file and directory
//!    entry synced) before the manifest naming it was written.
//! 3. `flushed_seq` only grows: every record of this tenant with a sequence
//!    number at or below it is in the listed segments, so replay skips it and
//!    the WAL may drop it.
//! 4. Any damage to the manifest is corruption (there is no torn state to
//!    tolerate, because the file is never appended to).
//! 5. Version 2 adds the tenant's lossy rules after the segments; version 1
//!    files are read as having none. Version 3 adds pinned snapshots after
//!    the rules; a manifest is written in the lowest version that holds its
//!    content (v2 while there is no pin), and v1/v2 files read as having none.
//! 6. Every segment a pin names is live (listed in `segments`): a pinned
//!    snapshot reads exactly those files, so nothing may remove them while the
//!    pin exists (engine/pin.rs).
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use crate::bytes::{put_str16, Cursor, DecodeError};
use crate::codec::lossy::Lossy;
use crate::error::{CorruptionKind, Error, Result};
use crate::vfs::{join, Vfs};

pub const MANIFEST_FILE: &str = "MANIFEST";
pub const MANIFEST_TMP: &str = "MANIFEST.tmp";
pub const MANIFEST_MAGIC: [u8; 4] = *b"HMAN";
pub const MANIFEST_VERSION: u16 = 3;
/// The version written while a manifest has no pin.
const MANIFEST_VERSION_WITHOUT_PINS: u16 = 2;
/// magic + version + reserved + body_len + body_crc.
pub const MANIFEST_HEADER_LEN: usize = 4 + 2 + 2 + 4 + 4;
const SEGMENT_ENTRY_LEN: usize = 8 * 5;

/// One live segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentEntry {
    pub id: u64,
    pub file_len: u64,
    pub points: u64,
    pub ts_min: i64,
    pub ts_max: i64,
}

/// A lossy setting for the series a selector matches, applied when their
/// points are written to segments.
#[derive(Clone, Debug, PartialEq)]
pub struct LossyRule {
    /// The selector text, as given (`name{label="v"}`).
    pub selector: String,
    pub lossy: Lossy,
}

/// The decoded manifest of a tenant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Manifest {
    /// Incremented on every rewrite.
    pub generation: u64,
    /// Every record of the tenant with `seq <= flushed_seq` is in `segments`.
    pub flushed_seq: u64,
    /// The id the next segment file gets.
    pub next_segment_id: u64,
    /// Live segments, oldest (lowest id) first: later segments hold newer writes.
    pub segments: Vec<SegmentEntry>,
    /// Lossy rules in the order they were set; for a series the last rule
    /// whose selector matches it applies.
    pub lossy: Vec<LossyRule>,
    /// Pinned snapshots, in name order.
    pub pins: Vec<PinEntry>,
}

/// A pinned snapshot: the tenant's writes with `seq <= seq`, which are
/// exactly the contents of the listed segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinEntry {
    pub name: String,
    pub seq: u64,
    /// Ascending; each one is in the manifest's `segments`.
    pub segment_ids: Vec<u64>,
}

impl Manifest {
    /// Encodes the manifest file.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(32 + self.segments.len() * SEGMENT_ENTRY_LEN);
        body.extend_from_slice(&self.generation.to_le_bytes());
        body.extend_from_slice(&self.flushed_seq.to_le_bytes());
        body.extend_from_slice(&self.next_segment_id.to_le_bytes());
        body.extend_from_slice(&(self.segments.len() as u32).to_le_bytes());
        for s in &self.segments {
            for v in [s.id, s.file_len, s.points, s.ts_min as u64, s.ts_max as u64] {
                body.extend_from_slice(&v.to_le_bytes());
            }
        }
        body.extend_from_slice(&(self.lossy.len() as u32).to_le_bytes());
        for r in &self.lossy {
            put_str16(&mut body, &r.selector);
            body.push(r.lossy.kind_tag());
            body.extend_from_slice(&r.lossy.bound().to_le_bytes());
        }
        let version = if self.pins.is_empty() {
            MANIFEST_VERSION_WITHOUT_PINS
        } else {
            body.extend_from_slice(&(self.pins.len() as u32).to_le_bytes());
            for p in &self.pins {
                put_str16(&mut body, &p.name);
                body.extend_from_slice(&p.seq.to_le_bytes());
                body.extend_from_slice(&(p.segment_ids.len() as u32).to_le_bytes());
                for id in &p.segment_ids {
                    body.extend_from_slice(&id.to_le_bytes());
                }
            }
            MANIFEST_VERSION
        };
        let mut out = Vec::with_capacity(MANIFEST_HEADER_LEN + body.len());
        out.extend_from_slice(&MANIFEST_MAGIC);
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    /// Decodes a manifest file; never panics.
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut c = Cursor::new(buf, 0);
        let magic: [u8; 4] = c.array()?;
        if magic != MANIFEST_MAGIC {
            return Err(DecodeError::new(0, CorruptionKind::BadMagic));
        }
        let version = c.u16()?;
        if !(1..=MANIFEST_VERSION).contains(&version) {
            return Err(DecodeError::new(
                4,
                CorruptionKind::UnsupportedVersion(version),
            ));
        }
        if c.u16()? != 0 {
            return Err(DecodeError::invalid(6, "reserved bytes are not zero"));
        }
        let body_len = c.u32()? as usize;
        let stored = c.u32()?;
        let body = c.take(body_len)?;
        if c.remaining() != 0 {
            return Err(c.invalid("trailing bytes after the manifest body"));
        }
        let got = crc32fast::hash(body);
        if got != stored {
            let kind = CorruptionKind::ChecksumMismatch {
                expected: stored,
                got,
            };
            return Err(DecodeError::new(MANIFEST_HEADER_LEN as u64, kind));
        }
        decode_body(body, version)
    }
}

fn decode_body(body: &[u8], version: u16) -> Result<Manifest, DecodeError> {
    let mut c = Cursor::new(body, MANIFEST_HEADER_LEN as u64);
    let generation = c.u64()?;
    let flushed_seq = c.u64()?;
    let next_segment_id = c.u64()?;
    let n = c.count(SEGMENT_ENTRY_LEN)?;
    let mut segments = Vec::with_capacity(n);
    for _ in 0..n {
        let at = c.offset();
        let e = SegmentEntry {
            id: c.u64()?,
            file_len: c.u64()?,
            points: c.u64()?,
            ts_min: c.i64()?,
            ts_max: c.i64()?,
        };
        let ordered = segments.last().is_none_or(|p: &SegmentEntry| p.id < e.id);
        if !ordered || e.id >= next_segment_id {
            return Err(DecodeError::invalid(at, "segment ids out of order"));
        }
        segments.push(e);
    }
    let mut lossy = Vec::new();
    if version >= 2 {
        let n = c.count(2 + 1 + 8)?;
        for _ in 0..n {
            let at = c.offset();
            let selector = c.str16()?.to_string();
            let kind = c.u8()?;
            let bound = f64::from_bits(c.u64()?);
            let l = match Lossy::from_tag(kind, bound) {
                Some(l) => l,
                None => {
                    return Err(DecodeError::invalid(
                        at,
                        format!("unknown lossy kind {kind}"),
                    ))
                }
            };
            l.validate().map_err(|e| DecodeError::invalid(at, e))?;
            lossy.push(LossyRule { selector, lossy: l });
        }
    }
    let pins = if version >= 3 {
        decode_pins(&mut c, &segments)?
    } else {
        Vec::new()
    };
    if c.remaining() != 0 {
        return Err(c.invalid("trailing bytes in the manifest body"));
    }
    Ok(Manifest {
        generation,
        flushed_seq,
        next_segment_id,
        segments,
        lossy,
        pins,
    })
}

/// The pins of a v3 body: names strictly ascending, segment ids ascending
/// and live (invariant 6).
fn decode_pins(
    c: &mut Cursor<'_>,
    segments: &[SegmentEntry],
) -> Result<Vec<PinEntry>, DecodeError> {
    let n = c.count(2 + 8 + 4)?;
    let mut pins: Vec<PinEntry> = Vec::with_capacity(n);
    for _ in 0..n {
        let at = c.offset();
        let name = c.str16()?.to_string();
        if pins.last().is_some_and(|p| p.name >= name) {
            return Err(DecodeError::invalid(at, "pin names out of order"));
        }
        let seq = c.u64()?;
        let k = c.count(8)?;
        let mut segment_ids: Vec<u64> = Vec::with_capacity(k);
        for _ in 0..k {
            let at = c.offset();
            let id = c.u64()?;
            let ordered = segment_ids.last().is_none_or(|&p| p < id);
            if !ordered || segments.binary_search_by_key(&id, |s| s.id).is_err() {
                return Err(DecodeError::invalid(
                    at,
                    format!("pin {name:?} names segment {id}, which is not live or out of order"),
                ));
            }
            segment_ids.push(id);
        }
        pins.push(PinEntry {
            name,
            seq,
            segment_ids,
        });
    }
    Ok(pins)
}

/// Reads the manifest of the tenant directory `dir`; `None` when it has none.
pub fn read_manifest(vfs: &dyn Vfs, dir: &str) -> Result<Option<Manifest>> {
    let path = join(dir, MANIFEST_FILE);
    match vfs.read_all(&path) {
        Ok(bytes) => Manifest::decode(&bytes)
            .map(Some)
            .map_err(|e| e.into_error(&path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Atomically replaces the manifest of `dir` (tmp + sync + rename + dir sync).
pub fn write_manifest(vfs: &dyn Vfs, dir: &str, manifest: &Manifest) -> Result<()> {
    let tmp = join(dir, MANIFEST_TMP);
    let dst = join(dir, MANIFEST_FILE);
    match vfs.remove(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(tmp, e)),
    }
    let file = vfs.create(&tmp).map_err(|e| Error::io(tmp.clone(), e))?;
    file.append(&manifest.encode())
        .and_then(|()| file.sync_data())
        .map_err(|e| Error::io(tmp.clone(), e))?;
    drop(file);
    vfs.rename(&tmp, &dst)
        .map_err(|e| Error::io(dst.clone(), e))?;
    vfs.sync_dir(dir).map_err(|e| Error::io(dir, e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            generation: 3,
            flushed_seq: 99,
            next_segment_id: 5,
            segments: vec![SegmentEntry {
                id: 4,
                file_len: 100,
                points: 10,
                ts_min: -1,
                ts_max: 7,
            }],
            lossy: vec![LossyRule {
                selector: "oven_temp{line=\"1\"}".to_string(),
                lossy: Lossy::Deadband { bound: 0.25 },
            }],
            pins: vec![PinEntry {
                name: "dataset-2026-12".to_string(),
                seq: 98,
                segment_ids: vec![4],
            }],
        }
    }

    #[test]
    fn without_pins_the_manifest_stays_version_2() {
        let mut m = sample();
        m.pins.clear();
        let bytes = m.encode();
        assert_eq!(bytes[4..6], 2u16.to_le_bytes());
        assert_eq!(Manifest::decode(&bytes), Ok(m));
        assert_eq!(sample().encode()[4..6], 3u16.to_le_bytes());
    }

    #[test]
    fn a_pin_naming_a_segment_that_is_not_live_is_corruption() {
        let mut m = sample();
        m.pins[0].segment_ids = vec![3];
        let err = Manifest::decode(&m.encode()).unwrap_err();
        assert!(err.kind.to_string().contains("not live"), "{err:?}");
    }

    #[test]
    fn version_1_manifests_read_as_having_no_rules() {
        let mut m = sample();
        m.lossy.clear();
        m.pins.clear();
        let v2 = m.encode();
        // A v1 file is the v2 encoding without the rule count, version 1.
        let body = &v2[MANIFEST_HEADER_LEN..v2.len() - 4];
        let mut v1 = Vec::new();
        v1.extend_from_slice(&MANIFEST_MAGIC);
        v1.extend_from_slice(&1u16.to_le_bytes());
        v1.extend_from_slice(&0u16.to_le_bytes());
        v1.extend_from_slice(&(body.len() as u32).to_le_bytes());
        v1.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
        v1.extend_from_slice(body);
        assert_eq!(Manifest::decode(&v1), Ok(m));
    }

    #[test]
    fn round_trips_and_detects_every_bit_flip_and_truncation() {
        let bytes = sample().encode();
        assert_eq!(Manifest::decode(&bytes), Ok(sample()));
        for bit in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            assert!(Manifest::decode(&b).is_err(), "bit {bit}");
        }
        for cut in 0..bytes.len() {
            assert!(Manifest::decode(&bytes[..cut]).is_err());
        }
    }
}
