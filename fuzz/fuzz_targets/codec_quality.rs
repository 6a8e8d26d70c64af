//! Fuzz target `codec_quality`: the body is `historian_fuzz::codec_quality` (fuzz/src/int_codecs.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| historian_fuzz::codec_quality(data));
