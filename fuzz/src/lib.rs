//! The bodies of historian's fuzz targets (RELIABILITY.md §6.7), one function per
//! target, each taking the raw fuzzer input.
//!
//! This file is compiled twice: as the library of the `historian-fuzz` crate, which the
//! thin `fuzz_targets/*.rs` call, and as a module of `tests/fuzz_corpus.rs`, which
//! replays the checked-in corpus and regressions under plain `cargo test`. So a crash the
//! fuzzer finds and a regression input that `cargo test` replays run the same code.
//!
//! Invariants:
//! 1. A target only uses historian's public API and std, so both builds see the same code.
//! 2. A target panics only when the library breaks a property: a decoder or parser
//!    panicked, or a round trip stated below did not hold. `Err` is always fine.

use std::sync::Arc;

use historian::manifest::Manifest;
use historian::segment::Segment;
use historian::vfs::{SimFs, Vfs};
use historian::wal::decode_frame;
use historian::{Selector, SeriesKey};

mod int_codecs;
pub use int_codecs::{codec_ints, codec_quality, codec_timestamps};
mod float_codecs;
pub use float_codecs::codec_floats;

/// A target: raw input in, panic on a broken property.
pub type Target = fn(&[u8]);

/// Every target by name (the names of `fuzz_targets/*.rs` and of `corpus/*/`).
pub const TARGETS: [(&str, Target); 8] = [
    ("wal_record_decode", wal_record_decode),
    ("segment_open_scan", segment_open_scan),
    ("manifest_decode", manifest_decode),
    ("selector_parse", selector_parse),
    ("codec_ints", codec_ints),
    ("codec_timestamps", codec_timestamps),
    ("codec_quality", codec_quality),
    ("codec_floats", codec_floats),
];

/// Decodes WAL frames back to back (as replay does after the file header) until one
/// fails or the input ends.
pub fn wal_record_decode(data: &[u8]) {
    let mut offset = 0usize;
    while let Some(rest) = data.get(offset..).filter(|r| !r.is_empty()) {
        match decode_frame(rest, offset as u64) {
            Ok((_, len)) => {
                assert!(
                    len > 0 && len <= rest.len(),
                    "frame length {len} out of range"
                );
                offset += len;
            }
            Err(_) => break,
        }
    }
}

/// Writes the input as a segment file of a fresh `SimFs`, opens it and reads every
/// block (both checksums, decode, index cross-checks).
pub fn segment_open_scan(data: &[u8]) {
    const PATH: &str = "1.seg";
    let fs = SimFs::new();
    let file = fs.create(PATH).expect("SimFs create");
    file.append(data).expect("SimFs append");
    drop(file);
    let vfs: Arc<dyn Vfs> = Arc::new(fs);
    if let Ok(segment) = Segment::open(vfs, PATH, 1) {
        if let Ok(points) = segment.verify() {
            assert_eq!(points, segment.points(), "verify disagrees with the index");
        }
    }
}

/// Decodes a manifest; a decoded manifest of the current version must encode back
/// to the same bytes (the format has no slack), and any decoded manifest must
/// decode again to an equal value.
pub fn manifest_decode(data: &[u8]) {
    if let Ok(m) = Manifest::decode(data) {
        let bytes = m.encode();
        assert_eq!(
            Manifest::decode(&bytes).as_ref(),
            Ok(&m),
            "decode(encode(m)) != m"
        );
        // Older versions decode and re-encode as the current one.
        if data.get(4..6) == Some(&historian::manifest::MANIFEST_VERSION.to_le_bytes()[..]) {
            assert_eq!(bytes, data, "accepted a non-canonical manifest encoding");
        }
    }
}

/// Parses the input (if UTF-8) as a selector and as a series key; whatever parses must
/// print to text that parses back to the same thing.
pub fn selector_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(sel) = Selector::parse(text) {
        let printed = sel.to_string();
        let back = Selector::parse(&printed)
            .unwrap_or_else(|e| panic!("{printed:?} (from {text:?}) does not parse: {e}"));
        assert_eq!(back.to_string(), printed, "printing is not stable");
        assert_eq!(sorted_matchers(&back), sorted_matchers(&sel), "{text:?}");
    }
    if let Ok(key) = SeriesKey::parse(text) {
        let printed = key.to_string();
        match SeriesKey::parse(&printed) {
            Ok(back) => assert_eq!(back, key, "{printed:?} (from {text:?})"),
            Err(e) => panic!("{printed:?} (from {text:?}) does not parse: {e}"),
        }
    }
}

/// The matchers as (label, op, value), sorted: printing moves the metric name first.
fn sorted_matchers(sel: &Selector) -> Vec<(String, &'static str, String)> {
    let mut v: Vec<_> = sel
        .matchers()
        .iter()
        .map(|m| (m.label().to_owned(), m.op().as_str(), m.value().to_owned()))
        .collect();
    v.sort();
    v
}
