//! The `ndjson_framing` target: see `hearth_fuzz::targets::ndjson_framing`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hearth_fuzz::targets::ndjson_framing::run(data));
