//! Fuzz target `manifest_decode`: the body is `historian_fuzz::manifest_decode` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| historian_fuzz::manifest_decode(data));
