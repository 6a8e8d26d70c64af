//! Fuzz target `codec_timestamps`: the body is `historian_fuzz::codec_timestamps` (fuzz/src/int_codecs.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| historian_fuzz::codec_timestamps(data));
