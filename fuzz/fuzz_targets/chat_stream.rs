//! The `chat_stream` target: see `hearth_fuzz::targets::chat_stream`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hearth_fuzz::targets::chat_stream::run(data));
