//! The `config_edit` target: see `hearth_fuzz::targets::config_edit`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hearth_fuzz::targets::config_edit::run(data));
