//! The `responses_stream` target: see `hearth_fuzz::targets::responses_stream`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hearth_fuzz::targets::responses_stream::run(data));
