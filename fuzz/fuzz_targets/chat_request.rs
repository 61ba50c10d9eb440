//! The `chat_request` target: see `hearth_fuzz::targets::chat_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hearth_fuzz::targets::chat_request::run(data));
