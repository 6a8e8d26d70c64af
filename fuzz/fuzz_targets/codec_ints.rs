//! Fuzz target `codec_ints`: the body is `historian_fuzz::codec_ints` (fuzz/src/int_codecs.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| historian_fuzz::codec_ints(data));
