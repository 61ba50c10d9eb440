//! The `responses_request` target: see `hearth_fuzz::targets::responses_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hearth_fuzz::targets::responses_request::run(data));
