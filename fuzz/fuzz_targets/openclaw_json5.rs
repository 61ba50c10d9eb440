//! The `openclaw_json5` target: see `hearth_fuzz::targets::openclaw_json5`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hearth_fuzz::targets::openclaw_json5::run(data));
