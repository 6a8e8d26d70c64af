//! Throughput of the integer codecs on one block (1,024 values), in elements/s:
//! - `bitpack/{pack,unpack}/w{1,8,17,24}`: 1,024 values (interleaved chunk), and
//!   `unpack_tail/w17`: 1,000 values (the plain stream the tails use);
//! - `ints/{encode,decode}/<shape>`: a block per shape the selector distinguishes;
//! - `timestamps/{encode,decode}/<shape>`: regular 1 s, jittered, with gaps;
//! - `quality/decode/<shape>`;
//! - `skab/decode_{timestamps,int_columns}`: every SKAB block (below) decoded.
//!
//! Before the timings it prints encoded sizes on the SKAB data (shared/data/skab,
//! when present) beside pco on the same blocks: sensor columns as decimal ints
//! (`2.16975` → 216975 at the column's largest scale) and the timestamps in ns.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use historian::codec::{bitpack, ints, rle, timestamps, BLOCK_LEN};

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args()
}

/// xorshift64*, deterministic.
fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn bench_bitpack(c: &mut Criterion) {
    let mut g = c.benchmark_group("bitpack");
    for width in [1u32, 8, 17, 24] {
        let mut r = rng(u64::from(width));
        let vals: Vec<u64> = (0..BLOCK_LEN).map(|_| r() >> (64 - width)).collect();
        let mut packed = Vec::new();
        bitpack::pack(&vals, width, &mut packed);
        g.throughput(Throughput::Elements(BLOCK_LEN as u64));
        g.bench_function(BenchmarkId::new("pack", format!("w{width}")), |b| {
            let mut out = Vec::with_capacity(packed.len());
            b.iter(|| {
                out.clear();
                bitpack::pack(black_box(&vals), width, &mut out);
            })
        });
        let mut out = vec![0u64; BLOCK_LEN];
        g.bench_function(BenchmarkId::new("unpack", format!("w{width}")), |b| {
            b.iter(|| bitpack::unpack(black_box(&packed), 0, width, &mut out))
        });
    }
    let vals: Vec<u64> = (0..1000).map(|i| (i * 7919) % (1 << 17)).collect();
    let mut packed = Vec::new();
    bitpack::pack(&vals, 17, &mut packed);
    let mut out = vec![0u64; vals.len()];
    g.throughput(Throughput::Elements(vals.len() as u64));
    g.bench_function("unpack_tail/w17", |b| {
        b.iter(|| bitpack::unpack(black_box(&packed), 0, 17, &mut out))
    });
    g.finish();
}

/// Blocks of the shapes the int selector tells apart.
fn int_shapes() -> Vec<(&'static str, Vec<i64>)> {
    let mut r = rng(42);
    let mut walk = 1_000_000i64;
    // Dictionaries of arbitrary (not evenly spaced) values, as ALP's ints
    // of a sensor that holds a few dozen levels.
    let levels: Vec<i64> = (0..200).map(|_| (r() % (1 << 40)) as i64).collect();
    vec![
        (
            "for_10bit",
            (0..BLOCK_LEN)
                .map(|_| 906_000 + (r() % 1000) as i64)
                .collect(),
        ),
        (
            "gcd_4bit",
            (0..BLOCK_LEN)
                .map(|_| (r() % 16) as i64 * 327_927 - 273_216)
                .collect(),
        ),
        (
            "delta_walk",
            (0..BLOCK_LEN)
                .map(|_| {
                    walk += (r() % 64) as i64 - 32;
                    walk
                })
                .collect(),
        ),
        (
            "dict_5",
            (0..BLOCK_LEN)
                .map(|_| [0, 1_000_000, 17, -3_000_000_000, 5][(r() % 5) as usize])
                .collect(),
        ),
        (
            "dict_50",
            (0..BLOCK_LEN)
                .map(|_| levels[(r() % 50) as usize])
                .collect(),
        ),
        (
            "dict_200",
            (0..BLOCK_LEN)
                .map(|_| levels[(r() % 200) as usize])
                .collect(),
        ),
        (
            "rle_steps",
            (0..BLOCK_LEN as i64)
                .map(|i| (i / 100) * 1_000_003)
                .collect(),
        ),
        (
            "bool_random",
            (0..BLOCK_LEN).map(|_| (r() & 1) as i64).collect(),
        ),
        ("plain_random", (0..BLOCK_LEN).map(|_| r() as i64).collect()),
    ]
}

fn ts_shapes() -> Vec<(&'static str, Vec<i64>)> {
    const SEC: i64 = 1_000_000_000;
    let t0 = 1_583_748_873 * SEC;
    let mut r = rng(7);
    let regular = (0..BLOCK_LEN as i64).map(|i| t0 + i * SEC).collect();
    let jitter: Vec<i64> = (0..BLOCK_LEN as i64)
        .map(|i| t0 + i * SEC + (r() % 2_000_000) as i64)
        .collect();
    let mut t = t0;
    let gaps = (0..BLOCK_LEN)
        .map(|i| {
            t += if i % 200 == 199 { 3600 * SEC } else { SEC };
            t
        })
        .collect();
    // SKAB's clock: 1 s, with about one gap in twenty stretched to 2 s.
    let mut t = t0;
    let holes = (0..BLOCK_LEN)
        .map(|_| {
            t += if r().is_multiple_of(20) { 2 * SEC } else { SEC };
            t
        })
        .collect();
    // The same rate spaced as SKAB's holes are: 12 to 28 values apart
    // (almost never two in eight values).
    let mut t = t0;
    let mut next_hole = 20;
    let spaced = (0..BLOCK_LEN)
        .map(|i| {
            let hole = i == next_hole;
            if hole {
                next_hole += 12 + (r() % 17) as usize;
            }
            t += if hole { 2 * SEC } else { SEC };
            t
        })
        .collect();
    vec![
        ("regular_1s", regular),
        ("jitter_2ms", jitter),
        ("gaps_1h", gaps),
        ("holes_5pct", holes),
        ("holes_spaced", spaced),
    ]
}

type Encode = fn(&[i64], &mut Vec<u8>);
type Decode = fn(&[u8], u64, &mut [i64]) -> Result<(), historian::bytes::DecodeError>;

fn bench_i64(
    c: &mut Criterion,
    group: &str,
    shapes: Vec<(&str, Vec<i64>)>,
    enc: Encode,
    dec: Decode,
) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(BLOCK_LEN as u64));
    for (name, vals) in shapes {
        let mut section = Vec::new();
        enc(&vals, &mut section);
        eprintln!(
            "{group}/{name}: {} bytes, codec {}",
            section.len(),
            section[0]
        );
        g.bench_function(BenchmarkId::new("encode", name), |b| {
            let mut out = Vec::with_capacity(8 * BLOCK_LEN + 16);
            b.iter(|| {
                out.clear();
                enc(black_box(&vals), &mut out);
            })
        });
        let mut out = vec![0i64; vals.len()];
        g.bench_function(BenchmarkId::new("decode", name), |b| {
            b.iter(|| dec(black_box(&section), 0, &mut out).is_ok())
        });
    }
    g.finish();
}

fn bench_quality(c: &mut Criterion) {
    let mut g = c.benchmark_group("quality");
    g.throughput(Throughput::Elements(BLOCK_LEN as u64));
    let mut mixed = vec![Some(192u8); BLOCK_LEN];
    mixed[100..140].fill(None);
    mixed[700..710].fill(Some(64));
    for (name, q) in [("all_good", vec![Some(192u8); BLOCK_LEN]), ("mixed", mixed)] {
        let mut section = Vec::new();
        rle::encode_quality(&q, &mut section);
        let mut out = vec![None; BLOCK_LEN];
        g.bench_function(BenchmarkId::new("decode", name), |b| {
            b.iter(|| rle::decode_quality(black_box(&section), 0, &mut out).is_ok())
        });
    }
    g.finish();
}

/// The SKAB columns as decimal ints per file (`name`, values) and the timestamps.
fn skab_columns(root: &Path) -> Vec<(String, Vec<i64>)> {
    let mut files: Vec<_> = ["anomaly-free", "valve1", "valve2"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).into_iter().flatten())
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    let mut cols: Vec<(String, Vec<i64>)> = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let mut lines = text.lines();
        let header: Vec<String> = lines
            .next()
            .unwrap_or("")
            .split(';')
            .map(String::from)
            .collect();
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(';').collect()).collect();
        for (j, name) in header.iter().enumerate() {
            let cells: Vec<&str> = rows.iter().filter_map(|r| r.get(j).copied()).collect();
            let vals = if j == 0 {
                cells.iter().map(|c| datetime_ns(c)).collect()
            } else {
                decimal_ints(&cells)
            };
            match cols.iter_mut().find(|(n, _)| n == name) {
                Some((_, v)) => v.extend(vals),
                None => cols.push((name.clone(), vals)),
            }
        }
    }
    cols
}

/// `YYYY-MM-DD HH:MM:SS` as ns since the epoch (UTC, days from a civil calendar).
fn datetime_ns(s: &str) -> i64 {
    let n: Vec<i64> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse().ok())
        .collect();
    let [y, m, d, hh, mm, ss] = n[..] else {
        return 0;
    };
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let days = 365 * y + y / 4 - y / 100 + y / 400 + (153 * m + 2) / 5 + d - 719_469;
    ((days * 24 + hh) * 60 + mm) * 60_000_000_000 + ss * 1_000_000_000
}

/// Decimal text scaled by 10^(most decimals in the column) to exact ints.
fn decimal_ints(cells: &[&str]) -> Vec<i64> {
    let decimals = |c: &str| c.split_once('.').map_or(0, |(_, f)| f.len());
    let scale = cells.iter().map(|c| decimals(c)).max().unwrap_or(0);
    cells
        .iter()
        .map(|c| {
            let digits: String = c
                .chars()
                .filter(|ch| ch.is_ascii_digit() || *ch == '-')
                .collect();
            let v: i64 = digits.parse().unwrap_or(0);
            v * 10i64.pow((scale - decimals(c)) as u32)
        })
        .collect()
}

fn pco_block_len(vals: &[i64]) -> usize {
    use pco::wrapped::FileCompressor;
    use pco::{ChunkConfig, PagingSpec};
    let config = ChunkConfig::default().with_paging_spec(PagingSpec::Exact(vec![vals.len()]));
    let mut out = Vec::new();
    let file = FileCompressor::default();
    let ok = file.write_header(&mut out).is_ok()
        && file.chunk_compressor(vals, &config).is_ok_and(|mut ch| {
            ch.write_meta(&mut out).is_ok() && ch.write_page(0, &mut out).is_ok()
        });
    if ok {
        1 + out.len() // plus a section tag, as pco_block stores it
    } else {
        usize::MAX
    }
}

/// Prints per column: our bytes, pco's bytes (same 1,024-value blocks), and the
/// codec mix; returns every encoded block as (is timestamps, count, section).
fn skab_report() -> Vec<(bool, usize, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/skab");
    let cols = skab_columns(&root);
    if cols.is_empty() {
        eprintln!(
            "SKAB data not found at {}: size report skipped",
            root.display()
        );
        return Vec::new();
    }
    let mut sections = Vec::new();
    eprintln!("SKAB, blocks of {BLOCK_LEN}: column, points, ours (bytes, bits/pt), pco, codecs");
    let (mut ours_all, mut pco_all) = (0usize, 0usize);
    for (name, vals) in &cols {
        let (mut ours, mut pco) = (0, 0);
        let mut mix = std::collections::BTreeMap::<u8, usize>::new();
        for block in vals.chunks(BLOCK_LEN) {
            let mut s = Vec::new();
            if name == "datetime" {
                timestamps::encode(block, &mut s);
            } else {
                ints::encode(block, &mut s);
            }
            *mix.entry(s[0]).or_default() += 1;
            ours += s.len();
            pco += pco_block_len(block);
            sections.push((name == "datetime", block.len(), s));
        }
        ours_all += ours;
        pco_all += pco;
        let bits = |b: usize| b as f64 * 8.0 / vals.len() as f64;
        eprintln!(
            "  {name:22} {:6} {ours:8} {:6.2}  {pco:8} {:6.2}  {:+6.1}%  {mix:?}",
            vals.len(),
            bits(ours),
            bits(pco),
            (ours as f64 / pco as f64 - 1.0) * 100.0
        );
    }
    eprintln!(
        "  all: ours {ours_all} bytes, pco {pco_all} bytes ({:+.1}%)",
        (ours_all as f64 / pco_all as f64 - 1.0) * 100.0
    );
    sections
}

/// Decodes every SKAB block (timestamps and the int columns) per iteration.
fn bench_skab(c: &mut Criterion, sections: &[(bool, usize, Vec<u8>)]) {
    if sections.is_empty() {
        return;
    }
    let mut g = c.benchmark_group("skab");
    for (name, ts) in [("decode_timestamps", true), ("decode_int_columns", false)] {
        let picked: Vec<_> = sections.iter().filter(|s| s.0 == ts).collect();
        let values: usize = picked.iter().map(|s| s.1).sum();
        g.throughput(Throughput::Elements(values as u64));
        let mut out = vec![0i64; BLOCK_LEN];
        g.bench_function(name, |b| {
            b.iter(|| {
                for (ts, n, s) in &picked {
                    let out = &mut out[..*n];
                    let r = if *ts {
                        timestamps::decode(s, 0, out)
                    } else {
                        ints::decode(s, 0, out)
                    };
                    black_box(r.is_ok());
                }
            })
        });
    }
    g.finish();
}

fn main() {
    let sections = skab_report();
    let mut c = config();
    bench_skab(&mut c, &sections);
    bench_bitpack(&mut c);
    bench_i64(&mut c, "ints", int_shapes(), ints::encode, ints::decode);
    bench_i64(
        &mut c,
        "timestamps",
        ts_shapes(),
        timestamps::encode,
        timestamps::decode,
    );
    bench_quality(&mut c);
    c.final_summary();
}
