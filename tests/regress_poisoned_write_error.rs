//! Regression: after a failed WAL fsync poisoned the engine, a write whose
//! inline flush failed first (the fault still active) returned a plain I/O
//! error instead of `Error::Poisoned`, so the caller was not told it must
//! reopen (RELIABILITY.md §5: writes return `Err(Poisoned)` until reopen;
//! found by tests/faults.rs).

mod common;

use std::sync::Arc;

use common::{gen_batch, run_step, Rng, Step};
use historian::vfs::{FaultFs, FaultKind, OpKind, SimFs, Vfs};
use historian::{Engine, Error, Options};

fn opts(vfs: Arc<dyn Vfs>) -> Options {
    // A budget of one byte: every write after the first flushes inline first.
    Options::default()
        .with_vfs(vfs)
        .with_background_flush(false)
        .with_memtable_budget(1)
}

#[test]
fn a_poisoned_engine_reports_poisoned_even_when_its_flush_fails() {
    let mut rng = Rng::new(5);
    let steps: Vec<Step> = (1..=4)
        .map(|id| Step::Write(gen_batch(&mut rng, id, "acme", 2, 5)))
        .collect();
    // Probe: the last sync of the second write is its WAL sync.
    let probe = FaultFs::new(Arc::new(SimFs::new()));
    let engine = Engine::open("db", opts(Arc::new(probe.clone()))).unwrap();
    run_step(&engine, &steps[0]).unwrap();
    run_step(&engine, &steps[1]).unwrap();
    let wal_sync = probe.ops_of_kind(OpKind::SyncData) - 1;
    drop(engine);

    let ffs = FaultFs::new(Arc::new(SimFs::new()));
    let engine = Engine::open("db", opts(Arc::new(ffs.clone()))).unwrap();
    ffs.fail_nth(OpKind::SyncData, wal_sync, FaultKind::Eio, true);
    run_step(&engine, &steps[0]).unwrap();
    assert!(run_step(&engine, &steps[1]).is_err());
    for step in &steps[2..] {
        let res = run_step(&engine, step);
        assert!(matches!(res, Err(Error::Poisoned { .. })), "{res:?}");
    }
}
