//! Regression: ENOSPC (or any error) while creating the next WAL file during
//! rotation poisoned the WAL for good, so writes never resumed when space
//! returned (RELIABILITY.md §5, ENOSPC row; found by tests/faults.rs' quota
//! scenario). Now the partial file is removed durably and the old file stays
//! current; the engine is poisoned only if that cleanup fails.

mod common;

use std::sync::Arc;

use common::{
    check_files, check_state, gen_batch, read_state, run_step, sim_options, Outcome, Rng, Step,
};
use historian::vfs::{CrashConfig, FaultFs, FaultKind, OpKind, SimFs};
use historian::{Engine, Error};

fn steps() -> Vec<Step> {
    let mut rng = Rng::new(11);
    (1..=30)
        .map(|id| Step::Write(gen_batch(&mut rng, id, "acme", 2, 6)))
        .collect()
}

#[test]
fn enospc_on_the_new_wal_header_does_not_poison() {
    let steps = steps();
    // Probe: which write rotates, and how many appends precede it.
    let probe = FaultFs::new(Arc::new(SimFs::new()));
    let engine = Engine::open("db", sim_options(Arc::new(probe.clone()))).unwrap();
    let mut header_append = None;
    for step in &steps {
        let (creates, appends) = (
            probe.ops_of_kind(OpKind::Create),
            probe.ops_of_kind(OpKind::Append),
        );
        run_step(&engine, step).unwrap();
        if probe.ops_of_kind(OpKind::Create) > creates && header_append.is_none() {
            header_append = Some(appends);
        }
    }
    drop(engine);
    let header_append = header_append.expect("the writes rotate the WAL");

    let sim = SimFs::new();
    let ffs = FaultFs::new(Arc::new(sim.clone()));
    let engine = Engine::open("db", sim_options(Arc::new(ffs.clone()))).unwrap();
    ffs.fail_nth(OpKind::Append, header_append, FaultKind::NoSpace, false);
    let mut outcomes = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let res = run_step(&engine, step);
        if ffs.faults_injected() == 1
            && outcomes.iter().all(|o| *o == Outcome::Acked)
            && res.is_err()
        {
            assert!(
                matches!(res, Err(Error::NoSpace { .. })),
                "step {i}: {res:?}"
            );
            // Power loss now: the half-made file must not break recovery.
            for cfg in [
                CrashConfig::drop_all(),
                CrashConfig::keep_all(),
                CrashConfig::default(),
            ] {
                let img = sim.crash(i as u64, &cfg);
                let e = Engine::open("db", sim_options(Arc::new(img.clone()))).unwrap();
                let mut o = outcomes.clone();
                o.resize(steps.len(), Outcome::NotRun);
                o[i] = Outcome::Failed("ENOSPC".into());
                check_state(&read_state(&e).unwrap(), &steps, &o).unwrap();
                check_files(e.vfs(), &img.file_paths()).unwrap();
            }
        } else if let Err(e) = &res {
            panic!("step {i} after the failed rotation: {e}");
        }
        outcomes.push(match res {
            Ok(()) => Outcome::Acked,
            Err(e) => Outcome::Failed(e.to_string()),
        });
    }
    assert_eq!(ffs.faults_injected(), 1);
    assert_eq!(outcomes.iter().filter(|o| **o != Outcome::Acked).count(), 1);
    drop(engine);
    let engine = Engine::open("db", sim_options(Arc::new(sim.clone()))).unwrap();
    check_state(&read_state(&engine).unwrap(), &steps, &outcomes).unwrap();
    check_files(engine.vfs(), &sim.file_paths()).unwrap();
}
