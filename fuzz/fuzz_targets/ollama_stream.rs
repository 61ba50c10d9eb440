//! The `ollama_stream` target: see `hearth_fuzz::targets::ollama_stream`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hearth_fuzz::targets::ollama_stream::run(data));
