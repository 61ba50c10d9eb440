//! The `ollama_request` target: see `hearth_fuzz::targets::ollama_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hearth_fuzz::targets::ollama_request::run(data));
