//! Fuzz target `selector_parse`: the body is `historian_fuzz::selector_parse` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| historian_fuzz::selector_parse(data));
