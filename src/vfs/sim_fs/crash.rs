//! Power-loss images of a [`SimFs`]: [`SimFs::crash`], [`CrashConfig`] and the
//! small seeded PRNG ([`SplitMix64`]) the simulated file systems use.
//!
//! A crash image is built as follows:
//! - namespace: start from every directory's durable entry map, then apply a
//!   random *prefix* of the global log of unsynced metadata ops, in order
//!   (journaling file systems commit metadata in order);
//! - content: for every file reachable in the resulting namespace, start from
//!   its durable image and, for each unsynced data op in order, keep it whole,
//!   drop it or tear it (keep only the part before a sector boundary). Ranges
//!   the file grew over without receiving their bytes ("file size updated
//!   before content") are filled with zeros or pseudo-random garbage.
//!
//! Invariants:
//! 1. Synced data and synced directory entries are in every image.
//! 2. Same source state + same seed + same config => byte-identical image.
//! 3. [`CrashConfig::keep_all`] reproduces the volatile state exactly (a
//!    process crash); [`CrashConfig::drop_all`] yields exactly the durable
//!    state.
//! 4. A torn write keeps its bytes only up to an absolute file offset that is a
//!    multiple of `sector_size`; the bytes it keeps are never altered.
//! 5. The image is a new, independent [`SimFs`]: no pending ops, not halted,
//!    op counter at zero, everything in it durable.
//! 6. Building an image never panics, whatever the source state (a directory
//!    reachable twice through out-of-order durable edits is linked once).

use std::collections::BTreeMap;

use super::{DataOp, DirNode, FileNode, Node, NodeId, SimFs, State, ROOT};

/// How unsynced operations fare in [`SimFs::crash`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CrashConfig {
    /// Probability that an unsynced write survives whole.
    pub keep_prob: f64,
    /// Probability that an unsynced write is torn at a sector boundary (the
    /// rest of the probability mass drops the write). Truncations survive with
    /// probability `keep_prob + tear_prob`.
    pub tear_prob: f64,
    /// Sector size for tearing, in bytes (0 is treated as 1).
    pub sector_size: usize,
    /// Probability that a range the file grew over without its data is filled
    /// with garbage rather than zeros.
    pub garbage_fill_prob: f64,
}

impl Default for CrashConfig {
    fn default() -> Self {
        CrashConfig {
            keep_prob: 0.5,
            tear_prob: 0.2,
            sector_size: 512,
            garbage_fill_prob: 0.5,
        }
    }
}

impl CrashConfig {
    /// Every unsynced op survives whole: the image equals the volatile state
    /// (a pure process crash).
    pub fn keep_all() -> Self {
        CrashConfig {
            keep_prob: 1.0,
            tear_prob: 0.0,
            sector_size: 512,
            garbage_fill_prob: 0.0,
        }
    }

    /// No unsynced op survives: the image is exactly the durable state.
    pub fn drop_all() -> Self {
        CrashConfig {
            keep_prob: 0.0,
            tear_prob: 0.0,
            sector_size: 512,
            garbage_fill_prob: 0.0,
        }
    }

    /// Probability that a non-tearable op (metadata, truncation) survives.
    fn survive_prob(&self) -> f64 {
        self.keep_prob + self.tear_prob
    }
}

/// SplitMix64: a tiny, fast, seedable PRNG (Steele, Lea & Flood, 2014).
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p` (always for `p >= 1`, never for `p <= 0`).
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// Uniform in `[0, n)`; 0 when `n == 0`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        match n as u64 {
            0 => 0,
            n => usize::try_from(self.next_u64() % n).unwrap_or(0),
        }
    }
}

impl SimFs {
    /// Builds a new, independent file system holding what survives a power
    /// loss now (see the module docs); `seed` drives every random choice.
    pub fn crash(&self, seed: u64, cfg: &CrashConfig) -> SimFs {
        let st = self.lock();
        let mut builder = Builder {
            src: &st,
            rng: SplitMix64::new(seed),
            cfg,
            out: State::new(),
            ids: BTreeMap::from([(ROOT, ROOT)]),
        };
        let maps = builder.crashed_namespace();
        builder.build_tree(&maps);
        SimFs::from_state(builder.out)
    }
}

struct Builder<'a> {
    src: &'a State,
    rng: SplitMix64,
    cfg: &'a CrashConfig,
    out: State,
    /// Source node id -> node id in `out`.
    ids: BTreeMap<NodeId, NodeId>,
}

impl Builder<'_> {
    /// Durable directory maps plus a random prefix of the metadata log.
    fn crashed_namespace(&mut self) -> BTreeMap<NodeId, BTreeMap<String, NodeId>> {
        let mut maps: BTreeMap<NodeId, BTreeMap<String, NodeId>> = BTreeMap::new();
        for (id, node) in &self.src.nodes {
            if let Node::Dir(d) = node {
                maps.insert(*id, d.durable.clone());
            }
        }
        let n = self.src.meta_log.len();
        let p = self.cfg.survive_prob();
        let keep = if p >= 1.0 {
            n
        } else if p <= 0.0 {
            0
        } else {
            self.rng.below(n + 1)
        };
        for op in self.src.meta_log.iter().take(keep) {
            for e in &op.edits {
                if let Some(map) = maps.get_mut(&e.dir) {
                    match e.target {
                        Some(t) => map.insert(e.name.clone(), t),
                        None => map.remove(&e.name),
                    };
                }
            }
        }
        maps
    }

    /// Copies the namespace reachable from the root into `out`, crashing the
    /// content of every file on the way.
    fn build_tree(&mut self, maps: &BTreeMap<NodeId, BTreeMap<String, NodeId>>) {
        let mut stack = vec![ROOT];
        while let Some(src_dir) = stack.pop() {
            let (Some(entries), Some(&out_dir)) = (maps.get(&src_dir), self.ids.get(&src_dir))
            else {
                continue;
            };
            let mut out_entries = BTreeMap::new();
            for (name, &child) in entries {
                let out_child = match (self.ids.get(&child), self.src.nodes.get(&child)) {
                    (Some(_), Some(Node::Dir(_))) | (_, None) => continue,
                    (Some(&linked), Some(Node::File(_))) => linked,
                    (None, Some(Node::File(f))) => {
                        let image = self.crash_file(f);
                        self.out.alloc(Node::File(FileNode::with_image(image)))
                    }
                    (None, Some(Node::Dir(_))) => {
                        stack.push(child);
                        self.out.alloc(Node::Dir(DirNode::default()))
                    }
                };
                self.ids.insert(child, out_child);
                out_entries.insert(name.clone(), out_child);
            }
            if let Some(Node::Dir(d)) = self.out.nodes.get_mut(&out_dir) {
                d.durable = out_entries.clone();
                d.live = out_entries;
            }
        }
    }

    /// The content one file has after the crash.
    fn crash_file(&mut self, file: &FileNode) -> Vec<u8> {
        let mut image = file.durable.clone();
        for op in &file.pending {
            match op {
                DataOp::Truncate(len) => {
                    if self.rng.chance(self.cfg.survive_prob()) {
                        image.resize(*len, 0);
                    }
                }
                DataOp::Write { offset, bytes } => {
                    let r = self.rng.next_f64();
                    if r < self.cfg.keep_prob {
                        self.put(&mut image, *offset, bytes);
                    } else if r < self.cfg.survive_prob() {
                        self.tear(&mut image, *offset, bytes);
                    }
                }
            }
        }
        image
    }

    /// Writes `bytes` at `offset`, filling any gap before it.
    fn put(&mut self, image: &mut Vec<u8>, offset: usize, bytes: &[u8]) {
        self.grow(image, offset);
        let end = offset.saturating_add(bytes.len());
        if image.len() < end {
            image.resize(end, 0);
        }
        if let Some(dst) = image.get_mut(offset..end) {
            dst.copy_from_slice(bytes);
        }
    }

    /// Keeps `bytes` only up to a sector boundary; the file size may or may
    /// not cover the rest (then filled with zeros or garbage).
    fn tear(&mut self, image: &mut Vec<u8>, offset: usize, bytes: &[u8]) {
        let end = offset.saturating_add(bytes.len());
        let cut = self.choose_cut(offset, end);
        if cut > offset {
            self.put(image, offset, bytes.get(..cut - offset).unwrap_or(&[]));
        }
        if self.rng.chance(0.5) {
            self.grow(image, end);
        }
    }

    /// A sector-aligned cut point in `(offset, end)`, or `offset` (keep nothing).
    fn choose_cut(&mut self, offset: usize, end: usize) -> usize {
        let sector = self.cfg.sector_size.max(1);
        let first = (offset / sector).saturating_add(1).saturating_mul(sector);
        let count = if first < end {
            (end - 1 - first) / sector + 1
        } else {
            0
        };
        match self.rng.below(count.saturating_add(1)) {
            0 => offset,
            i => first.saturating_add((i - 1).saturating_mul(sector)),
        }
    }

    /// Extends the image to `len` with zeros or garbage (no-op if longer).
    fn grow(&mut self, image: &mut Vec<u8>, len: usize) {
        if image.len() >= len {
            return;
        }
        if self.rng.chance(self.cfg.garbage_fill_prob) {
            while image.len() < len {
                let word = self.rng.next_u64().to_le_bytes();
                let take = (len - image.len()).min(word.len());
                image.extend_from_slice(word.get(..take).unwrap_or(&[]));
            }
        } else {
            image.resize(len, 0);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::vfs::Vfs;
    use std::cell::Cell;

    fn read(fs: &SimFs, path: &str) -> Option<Vec<u8>> {
        fs.exists(path).unwrap().then(|| fs.read_all(path).unwrap())
    }

    /// A file with synced content, plus unsynced appends and namespace ops.
    fn scenario() -> SimFs {
        let fs = SimFs::new();
        fs.create_dir_all("d").unwrap();
        fs.sync_dir("").unwrap();
        let f = fs.create("d/synced").unwrap();
        f.append(&[1u8; 1000]).unwrap();
        f.sync_data().unwrap();
        fs.sync_dir("d").unwrap();
        f.append(&[2u8; 1500]).unwrap();
        f.append(&[3u8; 700]).unwrap();
        let g = fs.create("d/unsynced_entry").unwrap();
        g.append(b"data").unwrap();
        g.sync_data().unwrap();
        fs
    }

    #[test]
    fn synced_data_survives_every_crash() {
        let fs = scenario();
        for seed in 0..300 {
            let img = fs.crash(seed, &CrashConfig::default());
            assert_eq!(img.op_count(), 0, "a fresh counter");
            let data = read(&img, "d/synced").expect("synced file must exist");
            assert!(data.len() >= 1000, "seed {seed}");
            assert_eq!(&data[..1000], &[1u8; 1000][..], "seed {seed}");
        }
    }

    #[test]
    fn drop_all_and_keep_all() {
        let fs = scenario();
        let dropped = fs.crash(7, &CrashConfig::drop_all());
        assert_eq!(read(&dropped, "d/synced").unwrap(), vec![1u8; 1000]);
        assert_eq!(read(&dropped, "d/unsynced_entry"), None, "dir not synced");
        let kept = fs.crash(7, &CrashConfig::keep_all());
        assert_eq!(read(&kept, "d/synced"), read(&fs, "d/synced"));
        assert_eq!(read(&kept, "d/unsynced_entry").unwrap(), b"data");
        assert_eq!(kept.file_paths(), fs.file_paths());
        // The image is fully durable: crashing it again changes nothing.
        let again = kept.crash(1, &CrashConfig::drop_all());
        assert_eq!(read(&again, "d/synced"), read(&fs, "d/synced"));
    }

    #[test]
    fn created_but_dir_not_synced_vanishes() {
        let fs = SimFs::new();
        let f = fs.create("f").unwrap();
        f.append(b"x").unwrap();
        f.sync_data().unwrap();
        fs.create_dir_all("a/b").unwrap();
        fs.sync_dir("a").unwrap();
        let img = fs.crash(0, &CrashConfig::drop_all());
        assert!(img.file_paths().is_empty());
        assert!(!img.exists("a").unwrap(), "a's entry lives in the root");
        fs.sync_dir("").unwrap();
        let img = fs.crash(0, &CrashConfig::drop_all());
        assert_eq!(img.file_paths(), vec!["f"]);
        assert!(img.exists("a/b").unwrap());
    }

    #[test]
    fn rename_is_atomic() {
        let fs = SimFs::new();
        let old = fs.create("m").unwrap();
        old.append(&[b'o'; 900]).unwrap();
        old.sync_data().unwrap();
        fs.sync_dir("").unwrap();
        let tmp = fs.create("m.tmp").unwrap();
        tmp.append(&[b'n'; 1300]).unwrap();
        tmp.sync_data().unwrap();
        fs.rename("m.tmp", "m").unwrap();
        let (mut saw_old, mut saw_new) = (false, false);
        for seed in 0..200 {
            let img = fs.crash(seed, &CrashConfig::default());
            match read(&img, "m").unwrap() {
                d if d == [b'o'; 900] => saw_old = true,
                d if d == [b'n'; 1300] => saw_new = true,
                d => panic!("seed {seed}: mixed content of {} bytes", d.len()),
            }
        }
        assert!(saw_old && saw_new);
        fs.sync_dir("").unwrap();
        let img = fs.crash(3, &CrashConfig::drop_all());
        assert_eq!(img.file_paths(), vec!["m"]);
        assert_eq!(read(&img, "m").unwrap(), vec![b'n'; 1300]);
    }

    #[test]
    fn torn_writes_only_at_sector_multiples() {
        let fs = SimFs::new();
        let f = fs.create("w").unwrap();
        f.append(&[9u8; 100]).unwrap();
        f.sync_data().unwrap();
        fs.sync_dir("").unwrap();
        f.append(&[0xAB; 3000]).unwrap();
        let cfg = CrashConfig {
            keep_prob: 0.1,
            tear_prob: 0.8,
            sector_size: 512,
            garbage_fill_prob: 0.0,
        };
        let mut cuts = std::collections::BTreeSet::new();
        for seed in 0..400 {
            let data = read(&fs.crash(seed, &cfg), "w").unwrap();
            assert_eq!(&data[..100], &[9u8; 100][..]);
            let kept = data[100..].iter().take_while(|b| **b == 0xAB).count();
            let rest = &data[100 + kept..];
            assert!(rest.iter().all(|b| *b == 0), "seed {seed}: zero fill only");
            assert!(
                data.len() == 100 + kept || data.len() == 3100,
                "seed {seed}"
            );
            assert!(
                kept == 0 || kept == 3000 || (100 + kept) % 512 == 0,
                "seed {seed}: {kept}"
            );
            cuts.insert(kept);
        }
        assert!(cuts.len() > 4, "tears at several boundaries: {cuts:?}");
    }

    #[test]
    fn dropped_middle_write_leaves_filled_gap() {
        let fs = SimFs::new();
        let f = fs.create("g").unwrap();
        fs.sync_dir("").unwrap();
        f.append(&[1u8; 10]).unwrap();
        f.append(&[2u8; 10]).unwrap();
        let mut saw_gap = false;
        for seed in 0..200 {
            let data = read(&fs.crash(seed, &CrashConfig::default()), "g").unwrap();
            assert!(data.len() <= 20);
            if data.len() == 20 && data[..10] != [1u8; 10] && data[10..] == [2u8; 10] {
                saw_gap = true;
            }
        }
        assert!(saw_gap);
    }

    #[test]
    fn same_seed_same_image() {
        let fs = scenario();
        fs.create_dir_all("e/f").unwrap();
        let h = fs.create("e/f/x").unwrap();
        h.append(&[5u8; 4000]).unwrap();
        h.truncate(1000).unwrap();
        h.append(&[6u8; 2000]).unwrap();
        let snapshot = |img: &SimFs| {
            img.file_paths()
                .into_iter()
                .map(|p| (read(img, &p).unwrap(), p))
                .collect::<Vec<_>>()
        };
        let mut distinct = std::collections::BTreeSet::new();
        for seed in 0..50 {
            let a = snapshot(&fs.crash(seed, &CrashConfig::default()));
            let b = snapshot(&fs.crash(seed, &CrashConfig::default()));
            assert_eq!(a, b, "seed {seed}");
            distinct.insert(a);
        }
        assert!(distinct.len() > 5, "different seeds give different images");
    }

    #[test]
    fn removal_needs_dir_sync() {
        let fs = SimFs::new();
        let f = fs.create("r").unwrap();
        f.append(b"keep").unwrap();
        f.sync_data().unwrap();
        fs.sync_dir("").unwrap();
        fs.remove("r").unwrap();
        assert_eq!(
            read(&fs.crash(0, &CrashConfig::drop_all()), "r").unwrap(),
            b"keep"
        );
        assert_eq!(read(&fs.crash(0, &CrashConfig::keep_all()), "r"), None);
        fs.sync_dir("").unwrap();
        assert_eq!(read(&fs.crash(0, &CrashConfig::drop_all()), "r"), None);
    }

    /// Appends 100-byte records, syncing each; counts the acked ones.
    fn log_workload(fs: &SimFs, acked: &Cell<usize>) -> std::io::Result<()> {
        fs.create_dir_all("wal")?;
        let f = fs.create("wal/log")?;
        fs.sync_dir("wal")?;
        fs.sync_dir("")?;
        for i in 0..8u8 {
            f.append(&[i + 1; 100])?;
            f.sync_data()?;
            acked.set(acked.get() + 1);
        }
        Ok(())
    }

    #[test]
    fn crash_at_every_op_keeps_every_acked_record() {
        let total = SimFs::new();
        log_workload(&total, &Cell::new(0)).unwrap();
        let n = total.op_count();
        for k in 0..=n {
            let fs = SimFs::new();
            fs.halt_after(k);
            let acked = Cell::new(0usize);
            let _ = log_workload(&fs, &acked);
            assert_eq!(fs.is_halted(), k < n, "k = {k}");
            for seed in 0..20 {
                let img = fs.crash(seed * 31 + k, &CrashConfig::default());
                let data = read(&img, "wal/log").unwrap_or_default();
                let need = acked.get() * 100;
                assert!(data.len() >= need, "k {k} seed {seed}: acked data lost");
                for (i, rec) in data[..need].chunks(100).enumerate() {
                    assert!(rec.iter().all(|b| *b == i as u8 + 1), "k {k} seed {seed}");
                }
            }
        }
    }

    #[test]
    fn remove_dir_all_needs_parent_sync() {
        let fs = SimFs::new();
        fs.create_dir_all("t/a").unwrap();
        let f = fs.create("t/a/x").unwrap();
        f.append(b"x").unwrap();
        f.sync_data().unwrap();
        for d in ["t/a", "t", ""] {
            fs.sync_dir(d).unwrap();
        }
        fs.remove_dir_all("t/a").unwrap();
        assert_eq!(
            fs.crash(0, &CrashConfig::drop_all()).file_paths(),
            vec!["t/a/x"]
        );
        assert!(fs
            .crash(0, &CrashConfig::keep_all())
            .file_paths()
            .is_empty());
        fs.sync_dir("t").unwrap();
        let img = fs.crash(0, &CrashConfig::drop_all());
        assert!(img.file_paths().is_empty());
        assert!(img.exists("t").unwrap() && !img.exists("t/a").unwrap());
    }

    #[test]
    fn prng_is_deterministic_and_bounded() {
        let mut a = SplitMix64::new(42);
        let mut b = SplitMix64::new(42);
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
            let f = a.next_f64();
            assert!((0.0..1.0).contains(&f));
            assert!(a.below(7) < 7);
            b.next_f64();
            b.below(7);
        }
        assert_eq!(a.below(0), 0);
        assert!(!a.chance(0.0));
        assert!(a.chance(1.0));
    }
}
