//! The `config_json` target: see `hearth_fuzz::targets::config_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hearth_fuzz::targets::config_json::run(data));
