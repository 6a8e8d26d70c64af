//! Regression: when a flush's manifest write failed *after* the rename (the
//! directory fsync), the flush deleted its new segment although the renamed
//! manifest already named it, so the next open failed with "segment named by
//! the manifest is missing" (found by tests/faults.rs). The segment is now
//! kept; if the manifest did not survive, it is an orphan removed at open.

mod common;

use std::sync::Arc;

use common::{
    apply_batch, check_files, diff_states, gen_batch, read_state, sim_options, Rng, State,
};
use historian::vfs::{CrashConfig, FaultFs, FaultKind, OpKind, SimFs};
use historian::Engine;

#[test]
fn failed_directory_sync_after_manifest_rename_keeps_the_segment() {
    let sim = SimFs::new();
    let ffs = FaultFs::new(Arc::new(sim.clone()));
    let engine = Engine::open("db", sim_options(Arc::new(ffs.clone()))).unwrap();
    let mut rng = Rng::new(3);
    let mut expected = State::new();
    for id in 1..=2 {
        let b = gen_batch(&mut rng, id, "acme", 2, 5);
        engine
            .tenant("acme")
            .unwrap()
            .write(&b.to_write_batch())
            .unwrap();
        apply_batch(&mut expected, &b);
        // The first flush creates the tenant directory; the second is the
        // one under test. Its directory syncs: segment, then manifest.
        if id == 2 {
            ffs.fail_nth(
                OpKind::SyncDir,
                ffs.ops_of_kind(OpKind::SyncDir) + 1,
                FaultKind::Eio,
                false,
            );
            assert!(engine.flush().is_err());
            assert!(ffs.faults_injected() == 1);
        } else {
            engine.flush().unwrap();
        }
    }
    assert_eq!(diff_states(&expected, &read_state(&engine).unwrap()), None);
    drop(engine);
    for img in [
        sim.crash(1, &CrashConfig::drop_all()),
        sim.crash(1, &CrashConfig::keep_all()),
        sim.clone(),
    ] {
        let engine = Engine::open("db", sim_options(Arc::new(img.clone()))).unwrap();
        assert_eq!(diff_states(&expected, &read_state(&engine).unwrap()), None);
        check_files(engine.vfs(), &img.file_paths()).unwrap();
    }
}
