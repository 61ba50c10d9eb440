//! The `sse_framing` target: see `hearth_fuzz::targets::sse_framing`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hearth_fuzz::targets::sse_framing::run(data));
