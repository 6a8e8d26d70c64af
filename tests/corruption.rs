//! Corruption of real files (RELIABILITY.md §6.5): a reference WAL file
//! (~16 KiB, written in Sync mode) and a reference segment (~16 KiB).
//!
//! Proves:
//! 1. every single-bit flip of either file is detected: `verify_dir` returns a
//!    corruption error, and opening + querying never returns a different
//!    value — it fails with a corruption error, or (only when the flip lies in
//!    the final record of the *last* WAL file, which is indistinguishable from
//!    a torn write) it returns exactly the batches before that record; a flip
//!    in an earlier record of the last WAL file, whose loss would drop later
//!    acknowledged records, and any flip in a closed WAL file are errors;
//! 2. truncation at every byte offset never panics: a truncated last WAL
//!    file recovers exactly the complete records before the cut, a truncated
//!    closed WAL file or segment is a corruption error;
//! 3. random multi-byte corruption (thousands of cases) never panics, is
//!    detected by `verify_dir`, and never yields a value that was not written.
//!
//! Seeded by `HISTORIAN_SEED` (random when unset; printed).

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use common::{apply_batch, diff_states, gen_batch, Batch, Rng, State};
use historian::vfs::{SimFs, Vfs};
use historian::wal::{decode_frame, WAL_HEADER_LEN};
use historian::{Engine, Options, Selector};

/// The files of a directory, to rebuild fresh copies with one file changed.
#[derive(Clone)]
struct Image {
    files: BTreeMap<String, Vec<u8>>,
}

impl Image {
    fn of(fs: &SimFs) -> Image {
        let files = fs
            .file_paths()
            .into_iter()
            .map(|p| {
                let data = fs.read_all(&p).unwrap();
                (p, data)
            })
            .collect();
        Image { files }
    }

    /// A fresh file system holding the image, with `path` replaced.
    fn build(&self, path: &str, data: &[u8]) -> SimFs {
        let fs = SimFs::new();
        fs.create_dir_all("wal").unwrap();
        fs.create_dir_all("tenants").unwrap();
        for (p, d) in &self.files {
            if let Some((dir, _)) = p.rsplit_once('/') {
                fs.create_dir_all(dir).unwrap();
            }
            let f = fs.create(p).unwrap();
            f.append(if p == path { data } else { d }).unwrap();
        }
        fs
    }
}

fn opts(fs: &SimFs) -> Options {
    Options::default()
        .with_vfs(Arc::new(fs.clone()))
        .with_background_flush(false)
        .with_memtable_budget(1 << 30)
        .with_wal_file_bytes(1 << 30)
}

fn one_wal_file(fs: &SimFs) -> String {
    let wal: Vec<String> = fs
        .file_paths()
        .into_iter()
        .filter(|p| p.starts_with("wal/"))
        .collect();
    assert_eq!(wal.len(), 1, "{wal:?}");
    wal[0].clone()
}

struct WalRef {
    /// The WAL file is the last (current) one.
    last: Image,
    /// The same file, closed: a newer (empty) WAL file follows it.
    closed: Image,
    path: String,
    bytes: Vec<u8>,
    /// Byte range of every record, in order.
    records: Vec<(usize, usize)>,
    /// State after the first `j` batches, for every `j`.
    prefixes: Vec<State>,
}

fn reference_wal(seed: u64) -> WalRef {
    let fs = SimFs::new();
    let engine = Engine::open("db", opts(&fs)).unwrap();
    let mut rng = Rng::new(seed);
    let mut batches: Vec<Batch> = Vec::new();
    while engine.wal_bytes() < 16 << 10 {
        let tenant = ["acme", "beta"][rng.below(2) as usize];
        // Few, large records: decoding cost is per record, the bit flips
        // per byte.
        let b = gen_batch(&mut rng, batches.len() as u64 + 1, tenant, 2, 40);
        engine
            .tenant(tenant)
            .unwrap()
            .write(&b.to_write_batch())
            .unwrap();
        batches.push(b);
    }
    engine.close().unwrap();
    let path = one_wal_file(&fs);
    let last = Image::of(&fs);
    Engine::open("db", opts(&fs)).unwrap().close().unwrap();
    let closed = Image::of(&fs);
    assert_eq!(
        closed
            .files
            .keys()
            .filter(|p| p.starts_with("wal/"))
            .count(),
        2
    );
    let bytes = last.files[&path].clone();
    let mut records = Vec::new();
    let mut off = WAL_HEADER_LEN;
    while off < bytes.len() {
        let (_, len) = decode_frame(&bytes[off..], off as u64).unwrap();
        records.push((off, off + len));
        off += len;
    }
    assert_eq!(records.len(), batches.len());
    let mut prefixes = vec![State::new()];
    for b in &batches {
        let mut s = prefixes.last().unwrap().clone();
        apply_batch(&mut s, b);
        prefixes.push(s);
    }
    WalRef {
        last,
        closed,
        path,
        bytes,
        records,
        prefixes,
    }
}

struct SegRef {
    image: Image,
    path: String,
    bytes: Vec<u8>,
    data: Scanned,
}

fn reference_segment(seed: u64) -> SegRef {
    let fs = SimFs::new();
    let engine = Engine::open("db", opts(&fs)).unwrap();
    let mut rng = Rng::new(seed ^ 0x5E6);
    let t = engine.tenant("acme").unwrap();
    let mut id = 0;
    // Long, mostly regular series (several blocks), plus the generator's
    // mixed batches (duplicates, specials, qualities). Three long batches keep
    // the file inside 16-64 KiB whatever the seed (two gave 14.9 KiB once).
    for _ in 0..3 {
        let mut wb = historian::WriteBatch::new();
        for i in 0..480 {
            id += 1;
            let ts = 1_000_000 + id * 1000 + rng.range(0, 3);
            let v = f64::from_bits(rng.next_u64() >> 2);
            wb.push_value(&common::series_key(4), ts, historian::Value::F64(v))
                .unwrap();
            if i % 3 == 0 {
                let p = historian::Point {
                    ts,
                    value: historian::Value::I64(rng.next_u64() as i64),
                    quality: Some(rng.below(256) as u8),
                };
                wb.push(&common::series_key(2), p).unwrap();
            }
        }
        t.write(&wb).unwrap();
    }
    for i in 0..10 {
        t.write(&gen_batch(&mut rng, 1000 + i, "acme", 3, 8).to_write_batch())
            .unwrap();
    }
    engine.flush().unwrap();
    engine.close().unwrap();
    // Reopen and flush once more so the old WAL file is trimmed away.
    let engine = Engine::open("db", opts(&fs)).unwrap();
    engine.flush().unwrap();
    engine.close().unwrap();
    let segs: Vec<String> = fs
        .file_paths()
        .into_iter()
        .filter(|p| p.ends_with(".seg"))
        .collect();
    assert_eq!(segs.len(), 1, "{:?}", fs.file_paths());
    let image = Image::of(&fs);
    let path = segs[0].clone();
    let bytes = image.files[&path].clone();
    assert!(
        (16 << 10..=64 << 10).contains(&bytes.len()),
        "segment of {} bytes",
        bytes.len()
    );
    let Opened::Data(data) = open_and_query(&fs, "reference segment", true) else {
        panic!("the reference segment does not read back");
    };
    SegRef {
        image,
        path,
        bytes,
        data,
    }
}

/// Every series of every tenant, as scanned.
type Scanned = Vec<(String, historian::SeriesData)>;

/// What opening and querying a damaged image gave.
enum Opened {
    /// Open or a query failed with a corruption error.
    Corrupt,
    /// Everything succeeded with this data.
    Data(Scanned),
    /// Some series read fine (these), others failed with corruption.
    Partial(Scanned),
}

/// Opens and scans everything; with `check_last`, also checks `last` against
/// the scanned data.
fn open_and_query(fs: &SimFs, ctx: &str, check_last: bool) -> Opened {
    let engine = match Engine::open("db", opts(fs)) {
        Ok(e) => e,
        Err(e) => {
            assert!(
                e.is_corruption(),
                "{ctx}: open failed with a non-corruption error: {e}"
            );
            return Opened::Corrupt;
        }
    };
    let all = Selector::parse("*").unwrap();
    let mut data = Scanned::new();
    let mut failed = false;
    for name in engine.tenants() {
        let t = engine.existing_tenant(&name).unwrap();
        for s in t.scan(&all, i64::MIN, i64::MAX) {
            match s {
                Ok(s) => data.push((name.clone(), s)),
                Err(e) => {
                    assert!(
                        e.is_corruption(),
                        "{ctx}: scan failed with a non-corruption error: {e}"
                    );
                    failed = true;
                }
            }
        }
        if !check_last {
            continue;
        }
        // `last` must agree with the data or fail with corruption.
        match t.last(&all) {
            Ok(lasts) => {
                for (key, _, p) in lasts {
                    if let Some((_, s)) = data.iter().find(|(n, s)| *n == name && s.key == key) {
                        let i = s.cols.len() - 1;
                        let want = (s.cols.ts[i], s.cols.values[i], s.cols.quality_at(i));
                        assert_eq!(
                            want,
                            (p.ts, p.value.to_bits(), p.quality),
                            "{ctx}: last of {key}"
                        );
                    }
                }
            }
            Err(e) => assert!(
                e.is_corruption(),
                "{ctx}: last failed with a non-corruption error: {e}"
            ),
        }
    }
    if failed {
        Opened::Partial(data)
    } else {
        Opened::Data(data)
    }
}

fn to_state(data: &Scanned) -> State {
    let mut state = State::new();
    for (t, s) in data {
        let pts = s
            .cols
            .ts
            .iter()
            .enumerate()
            .map(|(i, &ts)| (ts, (s.cols.values[i], s.cols.quality_at(i))))
            .collect();
        state
            .entry(t.clone())
            .or_default()
            .insert(s.key.clone(), (s.value_type, pts));
    }
    state
}

fn verify_detects(fs: &SimFs, ctx: &str) {
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    match historian::verify::verify_dir(&vfs, None) {
        Err(e) if e.is_corruption() => {}
        Err(e) => panic!("{ctx}: verify_dir failed with a non-corruption error: {e}"),
        Ok(r) => panic!("{ctx}: verify_dir passed a damaged file: {r:?}"),
    }
}

/// Every series that was read equals the original (no different value).
fn subset_of(got: &Scanned, orig: &Scanned, ctx: &str) {
    for (t, s) in got {
        let o = orig.iter().find(|(ot, os)| ot == t && os.key == s.key);
        assert_eq!(
            Some(s),
            o.map(|o| &o.1),
            "{ctx}: {t}/{} differs from what was written",
            s.key
        );
    }
}

/// Which prefix (number of batches) `state` is, if any.
fn prefix_len(w: &WalRef, state: &State) -> Option<usize> {
    (0..w.prefixes.len())
        .rev()
        .find(|&j| diff_states(&w.prefixes[j], state).is_none())
}

fn record_of(w: &WalRef, byte: usize) -> Option<usize> {
    w.records.iter().position(|&(s, e)| (s..e).contains(&byte))
}

/// Runs `f(i)` for `i in 0..n` on every core.
fn par(n: usize, f: impl Fn(usize) + Sync) {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for w in 0..workers {
            let f = &f;
            s.spawn(move || {
                for i in (w..n).step_by(workers) {
                    f(i);
                }
            });
        }
    });
}

fn flip(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[bit / 8] ^= 1 << (bit % 8);
    b
}

#[test]
fn every_bit_flip_of_the_last_wal_file_is_detected() {
    let seed = common::seed();
    let w = reference_wal(seed);
    let n = w.records.len();
    let last_start = w.records[n - 1].0;
    let (cut, refused) = (AtomicU64::new(0), AtomicU64::new(0));
    par(w.bytes.len() * 8, |bit| {
        let ctx = format!(
            "HISTORIAN_SEED={seed} last WAL file, bit {bit} (byte {})",
            bit / 8
        );
        let fs = w.last.build(&w.path, &flip(&w.bytes, bit));
        verify_detects(&fs, &ctx);
        match open_and_query(&fs, &ctx, false) {
            Opened::Corrupt => refused.fetch_add(1, Ordering::Relaxed),
            Opened::Data(d) | Opened::Partial(d) => {
                let s = to_state(&d);
                assert!(
                    bit / 8 >= last_start,
                    "{ctx}: a flip in record {:?} of {n} opened as {:?} batches: acknowledged \
                     records after it were dropped instead of refusing to open",
                    record_of(&w, bit / 8),
                    prefix_len(&w, &s)
                );
                assert_eq!(
                    prefix_len(&w, &s),
                    Some(n - 1),
                    "{ctx}: not the prefix without the torn record"
                );
                cut.fetch_add(1, Ordering::Relaxed)
            }
        };
    });
    crate::report!(
        "corruption/wal-last: seed {seed}: {} bytes, {n} records, {} bit flips: {} refused to open, \
         {} cut the final record as a torn tail, 0 undetected",
        w.bytes.len(),
        w.bytes.len() * 8,
        refused.into_inner(),
        cut.into_inner()
    );
}

#[test]
fn every_bit_flip_of_a_closed_wal_file_is_detected() {
    let seed = common::seed();
    let w = reference_wal(seed);
    par(w.bytes.len() * 8, |bit| {
        let ctx = format!("HISTORIAN_SEED={seed} closed WAL file, bit {bit}");
        let fs = w.closed.build(&w.path, &flip(&w.bytes, bit));
        verify_detects(&fs, &ctx);
        assert!(
            matches!(open_and_query(&fs, &ctx, false), Opened::Corrupt),
            "{ctx}: opened"
        );
    });
    crate::report!(
        "corruption/wal-closed: seed {seed}: {} bytes, {} bit flips, all refused to open and failed verify",
        w.bytes.len(),
        w.bytes.len() * 8
    );
}

#[test]
fn every_bit_flip_of_a_segment_is_detected() {
    let seed = common::seed();
    let r = reference_segment(seed);
    let (at_open, at_query) = (AtomicU64::new(0), AtomicU64::new(0));
    par(r.bytes.len() * 8, |bit| {
        let ctx = format!(
            "HISTORIAN_SEED={seed} segment, bit {bit} (byte {})",
            bit / 8
        );
        let fs = r.image.build(&r.path, &flip(&r.bytes, bit));
        verify_detects(&fs, &ctx);
        match open_and_query(&fs, &ctx, false) {
            Opened::Corrupt => at_open.fetch_add(1, Ordering::Relaxed),
            Opened::Partial(d) => {
                subset_of(&d, &r.data, &ctx);
                at_query.fetch_add(1, Ordering::Relaxed)
            }
            Opened::Data(_) => panic!("{ctx}: every query succeeded on a damaged segment"),
        };
    });
    crate::report!(
        "corruption/segment: seed {seed}: {} bytes, {} bit flips: {} refused at open, {} failed \
         the query of the damaged series (other series exact), 0 undetected",
        r.bytes.len(),
        r.bytes.len() * 8,
        at_open.into_inner(),
        at_query.into_inner()
    );
}

#[test]
fn truncation_at_every_offset() {
    let seed = common::seed();
    let w = reference_wal(seed);
    par(w.bytes.len(), |t| {
        let ctx = format!("HISTORIAN_SEED={seed} last WAL file cut at {t}");
        match open_and_query(&w.last.build(&w.path, &w.bytes[..t]), &ctx, true) {
            Opened::Data(d) => {
                let s = to_state(&d);
                let complete = w.records.iter().filter(|r| r.1 <= t).count();
                assert_eq!(prefix_len(&w, &s), Some(complete), "{ctx}");
            }
            _ => panic!("{ctx}: a torn last WAL file must open"),
        }
        let ctx = format!("HISTORIAN_SEED={seed} closed WAL file cut at {t}");
        let fs = w.closed.build(&w.path, &w.bytes[..t]);
        verify_detects(&fs, &ctx);
        assert!(
            matches!(open_and_query(&fs, &ctx, true), Opened::Corrupt),
            "{ctx}: opened"
        );
    });
    let r = reference_segment(seed);
    par(r.bytes.len(), |t| {
        let ctx = format!("HISTORIAN_SEED={seed} segment cut at {t}");
        let fs = r.image.build(&r.path, &r.bytes[..t]);
        verify_detects(&fs, &ctx);
        assert!(
            matches!(open_and_query(&fs, &ctx, true), Opened::Corrupt),
            "{ctx}: opened"
        );
    });
    crate::report!(
        "corruption/truncation: seed {seed}: WAL cut at all {} offsets (as last and as closed \
         file), segment cut at all {} offsets",
        w.bytes.len(),
        r.bytes.len()
    );
}

/// 1–4 bursts of 1–16 random bytes, at random places.
fn mangle(bytes: &[u8], rng: &mut Rng) -> (Vec<u8>, usize) {
    let mut b = bytes.to_vec();
    let mut first = usize::MAX;
    for _ in 0..1 + rng.below(4) {
        let len = 1 + rng.below(16) as usize;
        let at = rng.below((b.len() - len) as u64) as usize;
        first = first.min(at);
        for x in &mut b[at..at + len] {
            *x = rng.next_u64() as u8;
        }
    }
    (b, first)
}

#[test]
fn random_multi_byte_corruption() {
    const CASES: usize = 2000;
    let seed = common::seed();
    let w = reference_wal(seed);
    let r = reference_segment(seed);
    let counts: [AtomicU64; 3] = Default::default();
    par(CASES, |i| {
        let mut rng = Rng::new(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let (b, _) = mangle(&w.bytes, &mut rng);
        if b != w.bytes {
            let ctx = format!("HISTORIAN_SEED={seed} case {i}: last WAL file");
            let fs = w.last.build(&w.path, &b);
            verify_detects(&fs, &ctx);
            match open_and_query(&fs, &ctx, true) {
                Opened::Corrupt => {}
                Opened::Data(d) | Opened::Partial(d) => {
                    let j = prefix_len(&w, &to_state(&d));
                    assert!(
                        j.is_some_and(|j| j < w.records.len()),
                        "{ctx}: not a prefix: {j:?}"
                    );
                }
            }
            let ctx = format!("HISTORIAN_SEED={seed} case {i}: closed WAL file");
            let fs = w.closed.build(&w.path, &b);
            verify_detects(&fs, &ctx);
            assert!(
                matches!(open_and_query(&fs, &ctx, true), Opened::Corrupt),
                "{ctx}: opened"
            );
            counts[0].fetch_add(2, Ordering::Relaxed);
        }
        let (b, _) = mangle(&r.bytes, &mut rng);
        if b != r.bytes {
            let ctx = format!("HISTORIAN_SEED={seed} case {i}: segment");
            let fs = r.image.build(&r.path, &b);
            verify_detects(&fs, &ctx);
            match open_and_query(&fs, &ctx, true) {
                Opened::Corrupt => {}
                Opened::Partial(d) => subset_of(&d, &r.data, &ctx),
                Opened::Data(_) => panic!("{ctx}: every query succeeded on a damaged segment"),
            }
            counts[1].fetch_add(1, Ordering::Relaxed);
        }
        // Misdirected write: a run of another block's bytes copied over.
        let mut b = r.bytes.clone();
        let len = 16 + rng.below(200) as usize;
        let (from, to) = (
            rng.below((b.len() - len) as u64) as usize,
            rng.below((b.len() - len) as u64) as usize,
        );
        b.copy_within(from..from + len, to);
        if b != r.bytes {
            let ctx = format!("HISTORIAN_SEED={seed} case {i}: segment, misdirected copy");
            let fs = r.image.build(&r.path, &b);
            verify_detects(&fs, &ctx);
            if let Opened::Partial(d) | Opened::Data(d) = open_and_query(&fs, &ctx, true) {
                subset_of(&d, &r.data, &ctx);
            }
            counts[2].fetch_add(1, Ordering::Relaxed);
        }
    });
    crate::report!(
        "corruption/random: seed {seed}: {} damaged WAL files (last and closed), {} damaged segments, \
         {} misdirected copies in segments: all detected, no different value returned",
        counts[0].load(Ordering::Relaxed),
        counts[1].load(Ordering::Relaxed),
        counts[2].load(Ordering::Relaxed)
    );
}
