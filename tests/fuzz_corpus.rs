//! Replays every checked-in fuzz input under plain `cargo test` (SQLite's fuzzcheck idea,
//! RELIABILITY.md §6.7): the seed corpus `fuzz/corpus/<target>/*` and the minimized
//! crash inputs `fuzz/regressions/<target>/*`, through the same target bodies the fuzzer
//! runs (`fuzz/src/lib.rs`, compiled here as a module). A fixed bug stays fixed without
//! cargo-fuzz or nightly.

#[path = "../fuzz/src/lib.rs"]
mod targets;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// The files directly under `dir/<target>/`, sorted; none if the folder is missing.
fn inputs(dir: &Path, target: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.join(target)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("read corpus dir").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every input of every target found under `kind` (`corpus` or `regressions`);
/// returns how many ran and fails listing each input that panicked.
fn replay(kind: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind);
    let mut ran = 0;
    let mut failed = Vec::new();
    for (name, target) in targets::TARGETS {
        for path in inputs(&root, name) {
            let data = std::fs::read(&path).expect("read fuzz input");
            if catch_unwind(AssertUnwindSafe(|| target(&data))).is_err() {
                failed.push(path.display().to_string());
            }
            ran += 1;
        }
    }
    assert!(failed.is_empty(), "fuzz inputs that panic: {failed:#?}");
    ran
}

#[test]
fn seed_corpus_replays_without_panics() {
    let ran = replay("corpus");
    // Every target has seeds (fuzz/seeds.rs writes them), so an empty run means a
    // moved folder, not a pass.
    assert!(
        ran >= targets::TARGETS.len(),
        "only {ran} corpus inputs found"
    );
}

#[test]
fn every_target_has_seeds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus");
    let bare: Vec<&str> = targets::TARGETS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| inputs(&root, name).is_empty())
        .collect();
    assert!(
        bare.is_empty(),
        "targets without seeds in fuzz/corpus: {bare:?}"
    );
}

#[test]
fn regressions_replay_without_panics() {
    replay("regressions");
}
