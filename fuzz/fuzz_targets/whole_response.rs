//! The `whole_response` target: see `hearth_fuzz::targets::whole_response`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hearth_fuzz::targets::whole_response::run(data));
