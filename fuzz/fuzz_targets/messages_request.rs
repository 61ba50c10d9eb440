//! The `messages_request` target: see `hearth_fuzz::targets::messages_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hearth_fuzz::targets::messages_request::run(data));
