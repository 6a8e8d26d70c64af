//! Shared helpers of the reliability tests: seeds, the canonical workload, the
//! oracle (what a recovered engine may hold, given which calls were
//! acknowledged) and the on-disk checks (`verify_dir`, no orphan files).

#![allow(dead_code)]

/// Prints a line straight to stderr, past libtest's output capture, so the
/// campaign counts show in every CI log, not only when a test fails.
#[macro_export]
macro_rules! report {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod gen;
pub mod naive;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use historian::vfs::Vfs;
use historian::{Engine, Options, Selector, SeriesKey, ValueType};

pub use gen::{gen_batch, series_key, Batch, Rng, SERIES};

/// The run's seed: `HISTORIAN_SEED` (decimal or `0x` hex), random when unset.
/// Printed, so a failing run names the seed that reproduces it.
pub fn seed() -> u64 {
    let seed = match std::env::var("HISTORIAN_SEED") {
        Ok(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => s.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("HISTORIAN_SEED={s:?} is not a u64"))
        }
        Err(_) => {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            h.finish()
        }
    };
    report!("HISTORIAN_SEED={seed} (set it to reproduce this run)");
    seed
}

/// Proptest settings of the model tests: `PROPTEST_CASES` cases (else
/// `default_cases`), the run's seed, failures persisted to `file` (relative
/// to the package root, where `cargo test` runs tests).
pub fn proptest_config(file: &'static str, default_cases: u32) -> proptest::test_runner::Config {
    use proptest::test_runner::{FileFailurePersistence, RngSeed};
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default_cases);
    proptest::test_runner::Config {
        cases,
        rng_seed: RngSeed::Fixed(seed()),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        ..proptest::test_runner::Config::default()
    }
}

/// One step of a workload.
#[derive(Clone, Debug)]
pub enum Step {
    Write(Batch),
    Flush,
    Drop(String),
}

/// What happened to a step when it ran.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Never started (the run stopped before it).
    NotRun,
    /// The call returned `Ok`.
    Acked,
    /// The call returned an error: it may or may not have taken effect, but
    /// only as a whole.
    Failed(String),
}

/// Outcomes as one character per step (`A` acked, `F` failed, `-` not run),
/// then the first failure's message.
pub fn fmt_outcomes(outcomes: &[Outcome]) -> String {
    let flags: String = outcomes
        .iter()
        .map(|o| match o {
            Outcome::NotRun => '-',
            Outcome::Acked => 'A',
            Outcome::Failed(_) => 'F',
        })
        .collect();
    match outcomes.iter().find_map(|o| match o {
        Outcome::Failed(e) => Some(e),
        _ => None,
    }) {
        Some(e) => format!("{flags} (first failure: {e})"),
        None => flags,
    }
}

/// Options of the simulated engines: deterministic (no background thread),
/// tiny memtable budget and WAL files so inline flushes, WAL rotation and
/// trimming all happen within a few dozen batches.
pub fn sim_options(vfs: Arc<dyn Vfs>) -> Options {
    Options::default()
        .with_vfs(vfs)
        .with_background_flush(false)
        .with_memtable_budget(2048)
        .with_wal_file_bytes(1024)
}

/// The canonical workload: 3–4 tenants, 5 series, ~45 batches with
/// duplicates (in and across batches), out-of-order points, special floats
/// and qualities; explicit flushes; a drop of a tenant that only lives in the
/// WAL (several files), a drop of a flushed tenant and its re-creation.
pub fn canonical_workload(seed: u64) -> Vec<Step> {
    let mut rng = Rng::new(seed);
    let mut steps = Vec::new();
    let mut id = 0u64;
    let mut batches = |steps: &mut Vec<Step>, rng: &mut Rng, n: usize, tenants: &[&str]| {
        for _ in 0..n {
            id += 1;
            let t = tenants[rng.below(tenants.len() as u64) as usize];
            steps.push(Step::Write(gen_batch(rng, id, t, 3, 8)));
        }
    };
    batches(&mut steps, &mut rng, 10, &["acme", "beta", "gamma"]);
    steps.push(Step::Flush);
    batches(&mut steps, &mut rng, 5, &["acme", "beta"]);
    // "delta" is small and never explicitly flushed: its records sit in
    // several WAL files when it is dropped.
    for _ in 0..4 {
        batches(&mut steps, &mut rng, 1, &["delta"]);
        batches(&mut steps, &mut rng, 2, &["acme", "beta", "gamma"]);
    }
    steps.push(Step::Drop("delta".into()));
    batches(&mut steps, &mut rng, 6, &["acme", "beta", "gamma"]);
    steps.push(Step::Drop("beta".into()));
    batches(&mut steps, &mut rng, 6, &["acme", "beta", "gamma"]);
    steps.push(Step::Flush);
    batches(&mut steps, &mut rng, 6, &["acme", "beta", "gamma"]);
    steps
}

/// Runs `steps[from..]`, recording outcomes; stops at the first error when
/// `stop_on_error`. Returns the index of the first failed step, if any.
pub fn run_steps(
    engine: &Engine,
    steps: &[Step],
    outcomes: &mut [Outcome],
    stop_on_error: bool,
) -> Option<usize> {
    let mut first_err = None;
    for (i, step) in steps.iter().enumerate() {
        let res = run_step(engine, step);
        outcomes[i] = match res {
            Ok(()) => Outcome::Acked,
            Err(e) => {
                first_err.get_or_insert(i);
                Outcome::Failed(e.to_string())
            }
        };
        if stop_on_error && first_err.is_some() {
            break;
        }
    }
    first_err
}

/// Runs one step.
pub fn run_step(engine: &Engine, step: &Step) -> historian::Result<()> {
    match step {
        Step::Write(b) => engine
            .tenant(&b.tenant)?
            .write(&b.to_write_batch())
            .map(|_| ()),
        Step::Flush => engine.flush(),
        Step::Drop(t) => engine.drop_tenant(t),
    }
}

/// Points of one series: ts -> (raw bits, quality).
pub type Points = BTreeMap<i64, (u64, Option<u8>)>;
/// Everything an engine holds: tenant -> series -> (type, points).
pub type State = BTreeMap<String, BTreeMap<SeriesKey, (ValueType, Points)>>;

/// Reads every point of every tenant: a scan over `[i64::MIN, i64::MAX)`,
/// plus, from `last`, points at `i64::MAX` (no half-open range reaches them).
pub fn read_state(engine: &Engine) -> historian::Result<State> {
    let mut state = State::new();
    let all = Selector::parse("*")?;
    for name in engine.tenants() {
        let t = engine.existing_tenant(&name)?;
        let mut series = BTreeMap::new();
        for s in t.scan(&all, i64::MIN, i64::MAX) {
            let s = s?;
            let mut pts = Points::new();
            for (i, &ts) in s.cols.ts.iter().enumerate() {
                let prev = pts.insert(ts, (s.cols.values[i], s.cols.quality_at(i)));
                assert!(prev.is_none(), "scan returned {} twice at {ts}", s.key);
            }
            if !pts.is_empty() {
                series.insert(s.key.clone(), (s.value_type, pts));
            }
        }
        for (key, vt, p) in t.last(&all)? {
            if p.ts == i64::MAX {
                let entry = series.entry(key).or_insert_with(|| (vt, Points::new()));
                entry.1.insert(p.ts, (p.value.to_bits(), p.quality));
            }
        }
        if !series.is_empty() {
            state.insert(name, series);
        }
    }
    Ok(state)
}

/// Applies a batch to a state (last write wins inside the batch too).
pub fn apply_batch(state: &mut State, b: &Batch) {
    let tenant = state.entry(b.tenant.clone()).or_default();
    for (s, p) in &b.points {
        let entry = tenant
            .entry(series_key(*s))
            .or_insert_with(|| (SERIES[*s].2, Points::new()));
        entry.1.insert(p.ts, (p.value.to_bits(), p.quality));
    }
}

/// The state after the included steps (in order).
pub fn model(steps: &[Step], included: &[bool]) -> State {
    let mut state = State::new();
    for (step, &inc) in steps.iter().zip(included) {
        if !inc {
            continue;
        }
        match step {
            Step::Write(b) => apply_batch(&mut state, b),
            Step::Drop(t) => {
                state.remove(t);
            }
            Step::Flush => {}
        }
    }
    state
}

type PointKey = (String, SeriesKey, i64);
/// Raw bits and quality of one point.
type PointValue = (u64, Option<u8>);

/// Checks a recovered state against the steps and their outcomes:
/// 1. every acknowledged write (not later dropped) is present, bit-exact;
/// 2. every failed write is all or nothing; not-run writes are absent;
/// 3. the state equals the model of acknowledged + applied steps exactly
///    (last write wins by order, nothing never-written, right types);
/// 4. an acknowledged drop removed its tenant; a failed one is all or nothing.
///
/// Returns, per step, whether it is taken as applied.
pub fn check_state(
    actual: &State,
    steps: &[Step],
    outcomes: &[Outcome],
) -> Result<Vec<bool>, String> {
    let maybe_drops: Vec<usize> = (0..steps.len())
        .filter(|&i| matches!(steps[i], Step::Drop(_)) && matches!(outcomes[i], Outcome::Failed(_)))
        .collect();
    assert!(maybe_drops.len() <= 8, "too many failed drops to enumerate");
    let mut errors = Vec::new();
    for mask in 0u32..(1 << maybe_drops.len()) {
        let drop_applied = |i: usize| match outcomes[i] {
            Outcome::Acked => true,
            Outcome::NotRun => false,
            Outcome::Failed(_) => {
                let pos = maybe_drops.iter().position(|&d| d == i).unwrap_or(0);
                mask & (1 << pos) != 0
            }
        };
        match check_with_drops(actual, steps, outcomes, &drop_applied) {
            Ok(inc) => return Ok(inc),
            Err(e) => errors.push(e),
        }
    }
    Err(errors.join("\n--- or, with the other choice of failed drops:\n"))
}

fn check_with_drops(
    actual: &State,
    steps: &[Step],
    outcomes: &[Outcome],
    drop_applied: &dyn Fn(usize) -> bool,
) -> Result<Vec<bool>, String> {
    // Writes that can still be visible: run, and not wiped by a later drop.
    let mut relevant = vec![false; steps.len()];
    for (i, step) in steps.iter().enumerate() {
        if let Step::Write(b) = step {
            relevant[i] =
                outcomes[i] != Outcome::NotRun
                    && !steps.iter().enumerate().skip(i + 1).any(|(j, s)| {
                        matches!(s, Step::Drop(t) if *t == b.tenant) && drop_applied(j)
                    });
        }
    }
    // Writers of every point key, in order, with the value each leaves.
    let mut writers: BTreeMap<PointKey, Vec<(usize, PointValue)>> = BTreeMap::new();
    for (i, step) in steps.iter().enumerate() {
        let Step::Write(b) = step else { continue };
        if !relevant[i] {
            continue;
        }
        let mut last: BTreeMap<(usize, i64), PointValue> = BTreeMap::new();
        for (s, p) in &b.points {
            last.insert((*s, p.ts), (p.value.to_bits(), p.quality));
        }
        for ((s, ts), v) in last {
            writers
                .entry((b.tenant.clone(), series_key(s), ts))
                .or_default()
                .push((i, v));
        }
    }
    let mut forced: BTreeMap<usize, (bool, String)> = BTreeMap::new();
    let mut errors: Vec<String> = Vec::new();
    let mut force = |i: usize, v: bool, why: String, errors: &mut Vec<String>| {
        if !v && outcomes[i] == Outcome::Acked {
            errors.push(format!(
                "acknowledged {} is lost: {why}",
                describe(steps, i)
            ));
        }
        match forced.get(&i) {
            Some((prev, prev_why)) if *prev != v => errors.push(format!(
                "{} is partially applied: {prev_why}; but {why}",
                describe(steps, i)
            )),
            Some(_) => {}
            None => {
                forced.insert(i, (v, why));
            }
        }
    };
    for (key, ws) in &writers {
        let (tenant, series, ts) = key;
        let got = actual
            .get(tenant)
            .and_then(|t| t.get(series))
            .and_then(|(_, pts)| pts.get(ts))
            .copied();
        match got {
            Some(v) => {
                let cands: Vec<usize> = ws.iter().filter(|w| w.1 == v).map(|w| w.0).collect();
                let Some(&last_cand) = cands.last() else {
                    errors.push(format!(
                        "{tenant}/{series}@{ts} holds {v:?}, which no candidate batch wrote \
                         (writers: {:?})",
                        ws.iter()
                            .map(|w| (describe(steps, w.0), w.1))
                            .collect::<Vec<_>>()
                    ));
                    continue;
                };
                if cands.len() == 1 {
                    force(
                        last_cand,
                        true,
                        format!("{tenant}/{series}@{ts} holds its value"),
                        &mut errors,
                    );
                }
                for w in ws.iter().filter(|w| w.0 > last_cand) {
                    let why = format!("{tenant}/{series}@{ts} holds an older batch's value {v:?}");
                    force(w.0, false, why, &mut errors);
                }
            }
            None => {
                for w in ws {
                    force(
                        w.0,
                        false,
                        format!("{tenant}/{series}@{ts} is missing"),
                        &mut errors,
                    );
                }
            }
        }
    }
    if !errors.is_empty() {
        errors.truncate(8);
        return Err(errors.join("\n"));
    }
    let included: Vec<bool> = (0..steps.len())
        .map(|i| match &steps[i] {
            Step::Write(_) => match outcomes[i] {
                Outcome::Acked => true,
                Outcome::NotRun => false,
                Outcome::Failed(_) => forced.get(&i).is_some_and(|f| f.0),
            },
            Step::Drop(_) => drop_applied(i),
            Step::Flush => false,
        })
        .collect();
    let expected = model(steps, &included);
    match diff_states(&expected, actual) {
        None => Ok(included),
        Some(d) => Err(d),
    }
}

fn describe(steps: &[Step], i: usize) -> String {
    match &steps[i] {
        Step::Write(b) => format!("step {i} (batch {} of {})", b.id, b.tenant),
        Step::Drop(t) => format!("step {i} (drop {t})"),
        Step::Flush => format!("step {i} (flush)"),
    }
}

/// A short description of how `actual` differs from `expected`, if it does.
pub fn diff_states(expected: &State, actual: &State) -> Option<String> {
    let mut out = Vec::new();
    let tenants: BTreeSet<&String> = expected.keys().chain(actual.keys()).collect();
    for t in tenants {
        let (e, a) = (expected.get(t), actual.get(t));
        let empty = BTreeMap::new();
        let (e, a) = (e.unwrap_or(&empty), a.unwrap_or(&empty));
        let keys: BTreeSet<&SeriesKey> = e.keys().chain(a.keys()).collect();
        for k in keys {
            match (e.get(k), a.get(k)) {
                (Some((et, _)), Some((at, _))) if et != at => {
                    out.push(format!("{t}/{k}: type {at:?}, expected {et:?}"))
                }
                _ => {}
            }
            let no = Points::new();
            let ep = e.get(k).map_or(&no, |x| &x.1);
            let ap = a.get(k).map_or(&no, |x| &x.1);
            let tss: BTreeSet<&i64> = ep.keys().chain(ap.keys()).collect();
            for ts in tss {
                let (ev, av) = (ep.get(ts), ap.get(ts));
                if ev != av {
                    out.push(format!("{t}/{k}@{ts}: got {av:?}, expected {ev:?}"));
                }
            }
        }
    }
    if out.is_empty() {
        return None;
    }
    let n = out.len();
    out.truncate(10);
    Some(format!("{n} differences, e.g.:\n  {}", out.join("\n  ")))
}

/// True for `<20 digits><ext>`.
fn numbered(name: &str, ext: &str) -> bool {
    name.strip_suffix(ext)
        .is_some_and(|s| s.len() == 20 && s.bytes().all(|b| b.is_ascii_digit()))
}

/// `verify_dir` passes, it reports no orphan, and every file is one a
/// recovered engine should hold (no tmp file, no drop marker, nothing else).
pub fn check_files(vfs: &Arc<dyn Vfs>, paths: &[String]) -> Result<(), String> {
    let report =
        historian::verify::verify_dir(vfs, None).map_err(|e| format!("verify_dir: {e}"))?;
    if !report.orphan_files.is_empty() {
        return Err(format!("orphan files: {:?}", report.orphan_files));
    }
    for p in paths {
        let parts: Vec<&str> = p.split('/').collect();
        let ok = match parts.as_slice() {
            ["wal", f] => numbered(f, ".wal"),
            ["tenants", _, "MANIFEST"] => true,
            ["tenants", _, f] => numbered(f, ".seg"),
            _ => false,
        };
        if !ok {
            return Err(format!(
                "unexpected file {p:?} after recovery (all: {paths:?})"
            ));
        }
    }
    Ok(())
}
