//! Simulated power loss at every I/O op (RELIABILITY.md §6.2–6.3a).
//!
//! Proves, for a crash at *every* I/O op of the canonical workload (several
//! tenants and series, duplicates, out-of-order points, special floats,
//! inline and explicit flushes, WAL rotation and trimming, two tenant drops
//! and a re-creation) and for several power-loss images of each crash
//! (random keep/drop/tear of unsynced writes, keep-all, drop-all), that
//! reopening succeeds and:
//! 1. every acknowledged batch is present exactly once, values bit-exact,
//!    last write wins among acknowledged writes;
//! 2. the batch in flight is all or nothing, nothing never-written appears;
//! 3. `verify_dir` passes and no orphan, tmp or marker file is left;
//! 4. the recovered engine accepts writes that survive a second power loss;
//! 5. a power loss *during recovery* is itself recoverable (nested crash).
//!
//! Seeded by `HISTORIAN_SEED` (random when unset; printed).

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use common::{
    apply_batch, canonical_workload, check_files, check_state, diff_states, fmt_outcomes,
    gen_batch, model, read_state, run_steps, sim_options, Outcome, Rng, State, Step,
};
use historian::vfs::{CrashConfig, SimFs};
use historian::Engine;

/// Crash images to check per run, at least (RELIABILITY.md §6.11).
const MIN_IMAGES: u64 = 10_000;

#[derive(Default)]
struct Counts {
    images: AtomicU64,
    nested: AtomicU64,
    second_crash: AtomicU64,
    in_flight_applied: AtomicU64,
    in_flight_dropped: AtomicU64,
    torn_tails: AtomicU64,
    orphans_removed: AtomicU64,
    open_failed_at_crash: AtomicU64,
}

struct Run<'a> {
    seed: u64,
    steps: &'a [Step],
    random_images: u64,
    counts: &'a Counts,
}

fn probe(steps: &[Step]) -> (u64, State) {
    let fs = SimFs::new();
    let engine = Engine::open("db", sim_options(Arc::new(fs.clone()))).unwrap();
    let mut outcomes = vec![Outcome::NotRun; steps.len()];
    let failed = run_steps(&engine, steps, &mut outcomes, true);
    assert_eq!(
        failed,
        None,
        "the workload runs cleanly: {}",
        fmt_outcomes(&outcomes)
    );
    let state = read_state(&engine).unwrap();
    engine.close().unwrap();
    let all = vec![true; steps.len()];
    assert_eq!(diff_states(&model(steps, &all), &state), None);
    let ops = fs.op_count();
    // The workload must reach the interesting paths.
    let paths = fs.file_paths();
    assert!(
        paths.iter().filter(|p| p.ends_with(".seg")).count() >= 3,
        "{paths:?}"
    );
    let reopened = Engine::open("db", sim_options(Arc::new(fs.clone()))).unwrap();
    assert_eq!(
        diff_states(&model(steps, &all), &read_state(&reopened).unwrap()),
        None
    );
    (ops, state)
}

impl Run<'_> {
    /// Crashes the workload at op `k + 1` and checks every image of it.
    fn crash_at(&self, k: u64) {
        let fs = SimFs::new();
        fs.halt_after(k);
        let mut outcomes = vec![Outcome::NotRun; self.steps.len()];
        match Engine::open("db", sim_options(Arc::new(fs.clone()))) {
            Ok(engine) => {
                run_steps(&engine, self.steps, &mut outcomes, true);
                drop(engine);
            }
            Err(_) => {
                self.counts
                    .open_failed_at_crash
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
        let mut rng = Rng::new(self.seed ^ k.wrapping_mul(0xD1B5_4A32_D192_ED03));
        let mut images = vec![
            ("keep_all", CrashConfig::keep_all(), 0),
            ("drop_all", CrashConfig::drop_all(), 0),
        ];
        for _ in 0..self.random_images {
            let sector = [512, 4096, 1][rng.below(3) as usize];
            let cfg = CrashConfig {
                sector_size: sector,
                ..CrashConfig::default()
            };
            images.push(("random", cfg, rng.next_u64()));
        }
        for (n, (label, cfg, img_seed)) in images.iter().enumerate() {
            let ctx = format!(
                "HISTORIAN_SEED={} k={k} image={label} crash_seed={img_seed} sector={}",
                self.seed, cfg.sector_size
            );
            let (engine, img, state, recovery_ops) =
                self.recover(&fs.crash(*img_seed, cfg), &outcomes, &ctx);
            if n == 0 {
                self.second_crash(engine, &img, state, k, &mut rng, &ctx);
            } else {
                drop(engine);
            }
            if n == 2 && recovery_ops > 0 {
                // Power loss during recovery, then recover again.
                let j = rng.below(recovery_ops);
                let copy = fs.crash(*img_seed, cfg);
                copy.halt_after(j);
                // Usually fails; whatever it did, the next recovery must cope.
                drop(Engine::open("db", sim_options(Arc::new(copy.clone()))));
                let cfg2 = if rng.chance(1, 2) {
                    CrashConfig::default()
                } else {
                    CrashConfig::drop_all()
                };
                let s2 = rng.next_u64();
                let ctx2 = format!("{ctx} nested: recovery halted at op {j}, crash_seed={s2}");
                let (e, ..) = self.recover(&copy.crash(s2, &cfg2), &outcomes, &ctx2);
                drop(e);
                self.counts.nested.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Opens an image and checks it; returns the engine, the image, the
    /// recovered state and the number of I/O ops recovery took.
    fn recover(&self, img: &SimFs, outcomes: &[Outcome], ctx: &str) -> (Engine, SimFs, State, u64) {
        self.counts.images.fetch_add(1, Ordering::Relaxed);
        let engine = Engine::open("db", sim_options(Arc::new(img.clone()))).unwrap_or_else(|e| {
            panic!(
                "{ctx}: reopen failed: {e}\noutcomes: {}",
                fmt_outcomes(outcomes)
            )
        });
        let recovery_ops = img.op_count();
        let report = engine.recovery_report();
        if report.torn_tail.is_some() {
            self.counts.torn_tails.fetch_add(1, Ordering::Relaxed);
        }
        self.counts
            .orphans_removed
            .fetch_add(report.orphan_files_removed.len() as u64, Ordering::Relaxed);
        let state = read_state(&engine).unwrap_or_else(|e| panic!("{ctx}: scan failed: {e}"));
        let included = check_state(&state, self.steps, outcomes).unwrap_or_else(|e| {
            panic!(
                "{ctx}: recovered state violates the oracle:\n{e}\noutcomes: {}",
                fmt_outcomes(outcomes)
            )
        });
        if let Some(i) = outcomes
            .iter()
            .position(|o| matches!(o, Outcome::Failed(_)))
        {
            let c = if included[i] {
                &self.counts.in_flight_applied
            } else {
                &self.counts.in_flight_dropped
            };
            c.fetch_add(1, Ordering::Relaxed);
        }
        check_files(engine.vfs(), &img.file_paths()).unwrap_or_else(|e| panic!("{ctx}: {e}"));
        (engine, img.clone(), state, recovery_ops)
    }

    /// The recovered engine takes a new write, which survives another crash.
    fn second_crash(
        &self,
        engine: Engine,
        img: &SimFs,
        mut state: State,
        k: u64,
        rng: &mut Rng,
        ctx: &str,
    ) {
        let tenant = ["acme", "beta", "gamma"][rng.below(3) as usize];
        let batch = gen_batch(rng, (1 << 30) + k, tenant, 3, 8);
        engine
            .tenant(tenant)
            .unwrap()
            .write(&batch.to_write_batch())
            .unwrap_or_else(|e| panic!("{ctx}: write after recovery failed: {e}"));
        apply_batch(&mut state, &batch);
        let s = rng.next_u64();
        let img2 = img.crash(s, &CrashConfig::default());
        drop(engine);
        let e2 = Engine::open("db", sim_options(Arc::new(img2.clone())))
            .unwrap_or_else(|e| panic!("{ctx} second crash {s}: reopen failed: {e}"));
        let got = read_state(&e2).unwrap();
        if let Some(d) = diff_states(&state, &got) {
            panic!("{ctx} second crash {s}: {d}");
        }
        check_files(e2.vfs(), &img2.file_paths()).unwrap_or_else(|e| panic!("{ctx}: {e}"));
        self.counts.images.fetch_add(1, Ordering::Relaxed);
        self.counts.second_crash.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn power_loss_at_every_io_op_of_the_canonical_workload() {
    let seed = common::seed();
    let steps = canonical_workload(seed);
    let (n_ops, _) = probe(&steps);
    // Images per op: keep_all + drop_all + random ones, one nested and one
    // second crash; enough random ones to reach MIN_IMAGES in total.
    let random_images = (MIN_IMAGES.div_ceil(n_ops + 1)).saturating_sub(4).max(3);
    let counts = Counts::default();
    let run = Run {
        seed,
        steps: &steps,
        random_images,
        counts: &counts,
    };
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    std::thread::scope(|s| {
        for w in 0..workers {
            let run = &run;
            s.spawn(move || {
                let mut k = w;
                while k <= n_ops {
                    run.crash_at(k);
                    k += workers;
                }
            });
        }
    });
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
    crate::report!(
        "crash_sim: seed {seed}: {} steps, {n_ops} I/O ops, crashed at every op 0..={n_ops} \
         ({} ops covered); {} crash images checked ({} random per op, {} nested crashes in \
         recovery, {} second crashes after recovery); in-flight step applied {} / dropped {}; \
         torn tails cut {}; orphan files removed {}; crashes inside the first open {}",
        steps.len(),
        n_ops + 1,
        get(&counts.images),
        random_images,
        get(&counts.nested),
        get(&counts.second_crash),
        get(&counts.in_flight_applied),
        get(&counts.in_flight_dropped),
        get(&counts.torn_tails),
        get(&counts.orphans_removed),
        get(&counts.open_failed_at_crash),
    );
    assert!(get(&counts.images) >= MIN_IMAGES);
}
