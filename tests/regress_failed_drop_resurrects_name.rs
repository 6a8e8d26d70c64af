//! Regression: a `drop_tenant` that failed after its `DROPPED` marker was
//! durable had already taken the tenant out of the engine's map, so
//! `engine.tenant(name)` created a fresh tenant of the same name whose writes
//! were acknowledged — and the next open, finding the marker, finished the
//! drop and deleted them (acknowledged-write loss, found by tests/faults.rs).
//! Now the dropped tenant stays in the map, refusing writes, until the drop
//! is finished by a retry or by the next open.

mod common;

use std::sync::Arc;

use common::{gen_batch, read_state, sim_options, Rng};
use historian::vfs::{FaultFs, FaultKind, OpKind, SimFs, Vfs};
use historian::{Engine, Error};

#[test]
fn writes_after_a_failed_drop_are_refused_not_lost() {
    let sim = SimFs::new();
    let ffs = FaultFs::new(Arc::new(sim.clone()));
    let engine = Engine::open("db", sim_options(Arc::new(ffs.clone()))).unwrap();
    let mut rng = Rng::new(7);
    let old = gen_batch(&mut rng, 1, "beta", 2, 5);
    engine
        .tenant("beta")
        .unwrap()
        .write(&old.to_write_batch())
        .unwrap();
    engine.flush().unwrap();
    // Fail the removal of the tenant directory: the marker is durable by then.
    ffs.fail_nth(
        OpKind::RemoveDir,
        ffs.ops_of_kind(OpKind::RemoveDir),
        FaultKind::Eio,
        false,
    );
    assert!(engine.drop_tenant("beta").is_err());
    assert!(sim.exists("tenants/beta/DROPPED").unwrap());
    let new = gen_batch(&mut rng, 2, "beta", 2, 5);
    let res = engine.tenant("beta").unwrap().write(&new.to_write_batch());
    assert!(
        matches!(res, Err(Error::TenantNotFound(_))),
        "a write to a tenant whose drop is pending was {res:?}"
    );
    // A retry finishes the drop; the name can then be used again.
    engine.drop_tenant("beta").unwrap();
    assert!(!sim.exists("tenants/beta").unwrap());
    engine
        .tenant("beta")
        .unwrap()
        .write(&new.to_write_batch())
        .unwrap();
    drop(engine);
    let engine = Engine::open("db", sim_options(Arc::new(sim.clone()))).unwrap();
    let state = read_state(&engine).unwrap();
    let mut expected = common::State::new();
    common::apply_batch(&mut expected, &new);
    assert_eq!(common::diff_states(&expected, &state), None);
}

#[test]
fn a_failed_drop_finished_by_reopen_loses_no_acknowledged_write() {
    let sim = SimFs::new();
    let ffs = FaultFs::new(Arc::new(sim.clone()));
    let engine = Engine::open("db", sim_options(Arc::new(ffs.clone()))).unwrap();
    let mut rng = Rng::new(8);
    let keep = gen_batch(&mut rng, 1, "acme", 2, 5);
    engine
        .tenant("acme")
        .unwrap()
        .write(&keep.to_write_batch())
        .unwrap();
    engine
        .tenant("beta")
        .unwrap()
        .write(&gen_batch(&mut rng, 2, "beta", 2, 5).to_write_batch())
        .unwrap();
    // Fail the WAL rotation's sync inside the drop, after the marker.
    ffs.fail_nth(
        OpKind::SyncData,
        ffs.ops_of_kind(OpKind::SyncData) + 1,
        FaultKind::Eio,
        false,
    );
    assert!(engine.drop_tenant("beta").is_err());
    let acked = engine
        .tenant("beta")
        .unwrap()
        .write(&gen_batch(&mut rng, 3, "beta", 2, 5).to_write_batch());
    assert!(
        acked.is_err(),
        "a write to a tenant whose drop is pending was acknowledged"
    );
    drop(engine);
    let engine = Engine::open("db", sim_options(Arc::new(sim.clone()))).unwrap();
    assert_eq!(engine.tenants(), vec!["acme".to_string()]);
    let mut expected = common::State::new();
    common::apply_batch(&mut expected, &keep);
    assert_eq!(
        common::diff_states(&expected, &read_state(&engine).unwrap()),
        None
    );
}
