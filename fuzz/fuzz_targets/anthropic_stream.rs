//! The `anthropic_stream` target: see `hearth_fuzz::targets::anthropic_stream`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hearth_fuzz::targets::anthropic_stream::run(data));
