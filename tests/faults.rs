//! I/O-error loops (RELIABILITY.md §6.4): the canonical workload over
//! `FaultFs(SimFs)`, with *every* I/O op failed once, in turn, with EIO and
//! ENOSPC, each transient and persistent, plus fsyncgate mode on every sync.
//!
//! Proves, for every run: no panic; the call during which a fault fired
//! returns `Err` (so nothing it covered is acknowledged); a poisoned WAL
//! stays poisoned; the live engine still serves every acknowledged write;
//! and after the faults are cleared, both a plain reopen and a reopen of a
//! power-loss image hold every acknowledged batch exactly once (failed ones
//! all or nothing), pass `verify_dir`, leave no orphan, and take new writes.
//! Also: a full quota gives `Error::NoSpace` and writes resume without a
//! reopen once space returns, at every point the quota can run out; a failed
//! WAL fsync poisons the engine until reopen.
//!
//! Seeded by `HISTORIAN_SEED` (random when unset; printed).

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use common::{
    apply_batch, canonical_workload, check_files, check_state, diff_states, fmt_outcomes,
    gen_batch, read_state, run_step, sim_options, Outcome, Rng, Step,
};
use historian::vfs::{CrashConfig, FaultFs, FaultKind, OpKind, SimFs};
use historian::{Engine, Error};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    EioTransient,
    EioPersistent,
    NoSpaceTransient,
    NoSpacePersistent,
    /// The n-th `sync_data` fails with EIO and drops the file's unsynced data.
    Fsyncgate,
}

#[derive(Default)]
struct Counts {
    runs: AtomicU64,
    faults: AtomicU64,
    failed_calls: AtomicU64,
    poisoned_errors: AtomicU64,
    no_space_errors: AtomicU64,
    open_failures: AtomicU64,
    images: AtomicU64,
}

/// Runs the workload with one fault armed and checks everything afterwards.
fn run_one(steps: &[Step], seed: u64, mode: Mode, at: u64, counts: &Counts) {
    let ctx = format!("HISTORIAN_SEED={seed} mode={mode:?} op={at}");
    let sim = SimFs::new();
    let ffs = FaultFs::new(Arc::new(sim.clone()));
    match mode {
        Mode::EioTransient => ffs.fail_at(at, FaultKind::Eio, false),
        Mode::EioPersistent => ffs.fail_at(at, FaultKind::Eio, true),
        Mode::NoSpaceTransient => ffs.fail_at(at, FaultKind::NoSpace, false),
        Mode::NoSpacePersistent => ffs.fail_at(at, FaultKind::NoSpace, true),
        Mode::Fsyncgate => {
            ffs.set_fsyncgate(true);
            ffs.fail_nth(OpKind::SyncData, at, FaultKind::Eio, false);
        }
    }
    counts.runs.fetch_add(1, Ordering::Relaxed);
    let mut outcomes = vec![Outcome::NotRun; steps.len()];
    match Engine::open("db", sim_options(Arc::new(ffs.clone()))) {
        Err(e) => {
            assert!(
                ffs.faults_injected() > 0,
                "{ctx}: open failed without a fault: {e}"
            );
            counts.open_failures.fetch_add(1, Ordering::Relaxed);
        }
        Ok(engine) => {
            let mut poisoned = false;
            for (i, step) in steps.iter().enumerate() {
                let before = ffs.faults_injected();
                let res = run_step(&engine, step);
                let injected = ffs.faults_injected() > before;
                match &res {
                    Ok(()) => {
                        assert!(!injected, "{ctx}: step {i} ({step:?}) returned Ok although an I/O op under it failed");
                        assert!(
                            !poisoned || !matches!(step, Step::Write(_)),
                            "{ctx}: step {i}: a write was acknowledged by a poisoned engine"
                        );
                    }
                    Err(e) => {
                        assert!(
                            injected || ffs.faults_injected() > 0,
                            "{ctx}: step {i} failed with no fault injected: {e}"
                        );
                        counts.failed_calls.fetch_add(1, Ordering::Relaxed);
                        match e {
                            Error::Poisoned { .. } => {
                                poisoned = true;
                                counts.poisoned_errors.fetch_add(1, Ordering::Relaxed);
                            }
                            Error::NoSpace { .. } => {
                                counts.no_space_errors.fetch_add(1, Ordering::Relaxed);
                            }
                            _ => {}
                        }
                        if poisoned && matches!(step, Step::Write(_)) {
                            assert!(
                                matches!(e, Error::Poisoned { .. }),
                                "{ctx}: step {i}: a poisoned engine returned {e}"
                            );
                        }
                    }
                }
                outcomes[i] = match res {
                    Ok(()) => Outcome::Acked,
                    Err(e) => Outcome::Failed(e.to_string()),
                };
            }
            // The live engine serves every acknowledged write.
            let live =
                read_state(&engine).unwrap_or_else(|e| panic!("{ctx}: live scan failed: {e}"));
            check_state(&live, steps, &outcomes)
                .unwrap_or_else(|e| panic!("{ctx}: live state {}:\n{e}", fmt_outcomes(&outcomes)));
            let before = ffs.faults_injected();
            let closed = engine.close();
            if ffs.faults_injected() > before {
                assert!(
                    closed.is_err(),
                    "{ctx}: close returned Ok although an I/O op under it failed"
                );
            }
        }
    }
    counts
        .faults
        .fetch_add(ffs.faults_injected(), Ordering::Relaxed);
    ffs.clear();
    let ctx = format!("{ctx} outcomes={}", fmt_outcomes(&outcomes));
    // A power-loss image of what is on disk now.
    let mut rng = Rng::new(seed ^ at.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ mode as u64);
    let img_seed = rng.next_u64();
    let img = sim.crash(img_seed, &CrashConfig::default());
    reopen_and_check(
        &img,
        steps,
        &outcomes,
        &format!("{ctx} crash_seed={img_seed}"),
        None,
    );
    // A plain reopen on the same file system, which then takes new writes.
    reopen_and_check(&sim, steps, &outcomes, &ctx, Some(&mut rng));
    counts.images.fetch_add(2, Ordering::Relaxed);
}

/// Reopens `fs`, checks the oracle and the files; with `rng`, also writes a
/// new batch and checks it survives a reopen.
fn reopen_and_check(
    fs: &SimFs,
    steps: &[Step],
    outcomes: &[Outcome],
    ctx: &str,
    rng: Option<&mut Rng>,
) {
    let engine = Engine::open("db", sim_options(Arc::new(fs.clone())))
        .unwrap_or_else(|e| panic!("{ctx}: reopen failed: {e}"));
    let mut state = read_state(&engine).unwrap_or_else(|e| panic!("{ctx}: scan failed: {e}"));
    check_state(&state, steps, outcomes).unwrap_or_else(|e| panic!("{ctx}: after reopen:\n{e}"));
    check_files(engine.vfs(), &fs.file_paths()).unwrap_or_else(|e| panic!("{ctx}: {e}"));
    let Some(rng) = rng else { return };
    let tenant = ["acme", "beta", "gamma"][rng.below(3) as usize];
    let batch = gen_batch(rng, 1 << 30, tenant, 3, 8);
    engine
        .tenant(tenant)
        .unwrap()
        .write(&batch.to_write_batch())
        .unwrap_or_else(|e| panic!("{ctx}: write after reopen failed: {e}"));
    apply_batch(&mut state, &batch);
    engine.close().unwrap();
    let engine = Engine::open("db", sim_options(Arc::new(fs.clone()))).unwrap();
    let got = read_state(&engine).unwrap();
    if let Some(d) = diff_states(&state, &got) {
        panic!("{ctx}: after a write and another reopen: {d}");
    }
}

/// I/O ops and `sync_data` calls of a clean run (open, workload, close).
fn probe(steps: &[Step]) -> (u64, u64) {
    let sim = SimFs::new();
    let ffs = FaultFs::new(Arc::new(sim.clone()));
    let engine = Engine::open("db", sim_options(Arc::new(ffs.clone()))).unwrap();
    for step in steps {
        run_step(&engine, step).unwrap();
    }
    engine.close().unwrap();
    (ffs.op_count(), ffs.ops_of_kind(OpKind::SyncData))
}

fn loop_modes(modes: &[Mode], name: &str) {
    let seed = common::seed();
    let steps = canonical_workload(seed);
    let (n_ops, n_syncs) = probe(&steps);
    let counts = Counts::default();
    let mut jobs: Vec<(Mode, u64)> = Vec::new();
    for &mode in modes {
        let n = if mode == Mode::Fsyncgate {
            n_syncs
        } else {
            n_ops
        };
        jobs.extend((0..n).map(|k| (mode, k)));
    }
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for w in 0..workers {
            let (jobs, steps, counts) = (&jobs, &steps, &counts);
            s.spawn(move || {
                for &(mode, k) in jobs.iter().skip(w).step_by(workers) {
                    run_one(steps, seed, mode, k, counts);
                }
            });
        }
    });
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
    crate::report!(
        "faults/{name}: seed {seed}: {n_ops} I/O ops ({n_syncs} syncs) per clean run; modes {modes:?}; \
         {} runs, {} faults injected, {} failed calls ({} Poisoned, {} NoSpace), \
         {} failed opens, {} reopened images checked",
        get(&counts.runs),
        get(&counts.faults),
        get(&counts.failed_calls),
        get(&counts.poisoned_errors),
        get(&counts.no_space_errors),
        get(&counts.open_failures),
        get(&counts.images),
    );
    assert_eq!(get(&counts.runs), jobs.len() as u64);
}

#[test]
fn eio_at_every_op() {
    loop_modes(&[Mode::EioTransient, Mode::EioPersistent], "eio");
}

#[test]
fn enospc_at_every_op() {
    loop_modes(&[Mode::NoSpaceTransient, Mode::NoSpacePersistent], "enospc");
}

#[test]
fn fsyncgate_at_every_sync() {
    loop_modes(&[Mode::Fsyncgate], "fsyncgate");
}

/// Quota runs out after `quota` bytes: writes fail with `NoSpace`, resume
/// without a reopen when the quota is raised, and nothing acknowledged is lost.
fn quota_scenario(seed: u64, quota: u64) -> (usize, usize) {
    let ctx = format!("HISTORIAN_SEED={seed} quota={quota}");
    let sim = SimFs::new();
    let ffs = FaultFs::new(Arc::new(sim.clone()));
    let engine = Engine::open("db", sim_options(Arc::new(ffs.clone()))).unwrap();
    let mut rng = Rng::new(seed ^ quota);
    let mut steps = Vec::new();
    let mut outcomes = Vec::new();
    let write = |steps: &mut Vec<Step>, outcomes: &mut Vec<Outcome>, rng: &mut Rng| {
        let id = steps.len() as u64 + 1;
        let tenant = ["acme", "beta"][rng.below(2) as usize];
        let step = Step::Write(gen_batch(rng, id, tenant, 3, 8));
        let res = run_step(&engine, &step);
        steps.push(step);
        outcomes.push(match &res {
            Ok(()) => Outcome::Acked,
            Err(e) => Outcome::Failed(e.to_string()),
        });
        res
    };
    for _ in 0..6 {
        write(&mut steps, &mut outcomes, &mut rng).unwrap();
    }
    ffs.set_quota(Some(quota));
    let mut failures = 0;
    for _ in 0..60 {
        match write(&mut steps, &mut outcomes, &mut rng) {
            Ok(()) => {}
            Err(Error::NoSpace { .. }) => {
                failures += 1;
                if failures == 3 {
                    break;
                }
            }
            Err(e) => panic!("{ctx}: a full quota gave {e}, not NoSpace"),
        }
    }
    assert!(failures >= 1, "{ctx}: the quota never ran out");
    ffs.raise_quota(1 << 30);
    for i in 0..12 {
        write(&mut steps, &mut outcomes, &mut rng)
            .unwrap_or_else(|e| panic!("{ctx}: write {i} after space returned failed: {e}"));
    }
    engine
        .flush()
        .unwrap_or_else(|e| panic!("{ctx}: flush after space returned: {e}"));
    write(&mut steps, &mut outcomes, &mut rng).unwrap();
    engine.close().unwrap();
    let reopened = Engine::open("db", sim_options(Arc::new(sim.clone()))).unwrap();
    let state = read_state(&reopened).unwrap();
    check_state(&state, &steps, &outcomes).unwrap_or_else(|e| panic!("{ctx}: after reopen:\n{e}"));
    check_files(reopened.vfs(), &sim.file_paths()).unwrap_or_else(|e| panic!("{ctx}: {e}"));
    let acked = outcomes.iter().filter(|o| **o == Outcome::Acked).count();
    (acked, failures)
}

#[test]
fn enospc_quota_fill_resume_and_reopen_without_loss() {
    let seed = common::seed();
    // Every quota from 0 to past a few WAL rotations and flushes, so the
    // quota runs out in WAL records, WAL headers, segments and manifests.
    let (mut runs, mut acked, mut failures) = (0, 0, 0);
    for quota in (0..6000).step_by(23) {
        let (a, f) = quota_scenario(seed, quota);
        runs += 1;
        acked += a;
        failures += f;
    }
    crate::report!("faults/quota: seed {seed}: {runs} quota runs, {acked} acknowledged writes, {failures} NoSpace errors, 0 lost");
}

#[test]
fn failed_wal_fsync_poisons_until_reopen() {
    let seed = common::seed();
    for fsyncgate in [false, true] {
        let sim = SimFs::new();
        let ffs = FaultFs::new(Arc::new(sim.clone()));
        ffs.set_fsyncgate(fsyncgate);
        let engine = Engine::open("db", sim_options(Arc::new(ffs.clone()))).unwrap();
        let mut rng = Rng::new(seed);
        let mut steps = Vec::new();
        let mut outcomes = Vec::new();
        for i in 0..12u64 {
            if i == 4 {
                // The next sync is the WAL sync of this write.
                ffs.fail_nth(
                    OpKind::SyncData,
                    ffs.ops_of_kind(OpKind::SyncData),
                    FaultKind::Eio,
                    false,
                );
            }
            if i == 5 {
                ffs.clear();
            }
            let step = Step::Write(gen_batch(&mut rng, i + 1, "acme", 2, 5));
            let res = run_step(&engine, &step);
            match i {
                0..=3 => assert!(res.is_ok(), "write {i}: {res:?}"),
                4 => assert!(
                    res.is_err(),
                    "the write whose fsync failed was acknowledged"
                ),
                _ => assert!(
                    matches!(res, Err(Error::Poisoned { .. })),
                    "write {i} after a failed fsync: {res:?}"
                ),
            }
            outcomes.push(match res {
                Ok(()) => Outcome::Acked,
                Err(e) => Outcome::Failed(e.to_string()),
            });
            steps.push(step);
        }
        // Whatever a flush does now, the reopen below must be consistent.
        let _ = engine.flush();
        drop(engine);
        let engine = Engine::open("db", sim_options(Arc::new(sim.clone()))).unwrap();
        let state = read_state(&engine).unwrap();
        check_state(&state, &steps, &outcomes).unwrap();
        let step = Step::Write(gen_batch(&mut rng, 100, "acme", 2, 5));
        run_step(&engine, &step).expect("writes work again after reopen");
        check_files(engine.vfs(), &sim.file_paths()).unwrap();
    }
}
