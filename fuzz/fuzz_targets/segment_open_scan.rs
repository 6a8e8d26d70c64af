//! Fuzz target `segment_open_scan`: the body is `historian_fuzz::segment_open_scan` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| historian_fuzz::segment_open_scan(data));
