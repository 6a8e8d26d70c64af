//! Fuzz target `wal_record_decode`: the body is `historian_fuzz::wal_record_decode` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| historian_fuzz::wal_record_decode(data));
