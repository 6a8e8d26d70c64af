//! Regression: replay treated *any* undecodable record in the last WAL file
//! as a torn tail and cut the log there, so one flipped bit in an early
//! record silently dropped every later acknowledged record (found by
//! tests/corruption.rs: a flip in record 0 of 68 opened with 0 batches).
//! DESIGN.md and RELIABILITY.md §6.5 require mid-log corruption to be an
//! error. Now a later intact record whose `synced_through` lies past the bad
//! offset proves the bad bytes were durable, and open fails; only damage to
//! the final record (indistinguishable from a torn write) is cut off.

mod common;

use std::sync::Arc;

use common::{apply_batch, diff_states, gen_batch, read_state, sim_options, Rng, State};
use historian::vfs::{SimFs, Vfs};
use historian::wal::{decode_frame, WAL_HEADER_LEN};
use historian::Engine;

/// A WAL of `n` records written in Sync mode; returns the fs, the WAL path,
/// the record ranges and the state after each prefix.
fn setup(n: u64) -> (SimFs, String, Vec<(usize, usize)>, Vec<State>) {
    let fs = SimFs::new();
    let opts = sim_options(Arc::new(fs.clone())).with_wal_file_bytes(1 << 20);
    let engine = Engine::open("db", opts).unwrap();
    let mut rng = Rng::new(9);
    let mut states = vec![State::new()];
    for id in 1..=n {
        let b = gen_batch(&mut rng, id, "acme", 1, 3);
        engine
            .tenant("acme")
            .unwrap()
            .write(&b.to_write_batch())
            .unwrap();
        let mut s = states.last().unwrap().clone();
        apply_batch(&mut s, &b);
        states.push(s);
    }
    engine.close().unwrap();
    let path = fs
        .file_paths()
        .into_iter()
        .find(|p| p.starts_with("wal/"))
        .unwrap();
    let bytes = fs.read_all(&path).unwrap();
    let mut records = Vec::new();
    let mut off = WAL_HEADER_LEN;
    while off < bytes.len() {
        let (_, len) = decode_frame(&bytes[off..], off as u64).unwrap();
        records.push((off, off + len));
        off += len;
    }
    (fs, path, records, states)
}

fn damage(fs: &SimFs, path: &str, byte: usize) {
    let mut data = fs.read_all(path).unwrap();
    data[byte] ^= 0x10;
    fs.remove(path).unwrap();
    fs.create(path).unwrap().append(&data).unwrap();
}

#[test]
fn a_damaged_middle_record_of_the_last_wal_file_refuses_to_open() {
    for victim in 0..4 {
        let (fs, path, records, _) = setup(5);
        let (start, end) = records[victim];
        damage(&fs, &path, (start + end) / 2);
        let err = Engine::open("db", sim_options(Arc::new(fs.clone())))
            .expect_err("acknowledged records after the damage would be lost");
        assert!(err.is_corruption(), "{err}");
    }
}

#[test]
fn a_damaged_final_record_is_still_cut_as_a_torn_tail() {
    let (fs, path, records, states) = setup(5);
    let (start, end) = records[4];
    damage(&fs, &path, (start + end) / 2);
    let engine = Engine::open("db", sim_options(Arc::new(fs.clone()))).unwrap();
    assert!(engine.recovery_report().torn_tail.is_some());
    assert_eq!(diff_states(&states[4], &read_state(&engine).unwrap()), None);
}
