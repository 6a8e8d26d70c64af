//! Fuzz target `codec_floats`: the body is `historian_fuzz::codec_floats` (fuzz/src/float_codecs.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| historian_fuzz::codec_floats(data));
