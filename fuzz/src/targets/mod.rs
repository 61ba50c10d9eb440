//! One module per fuzz target (`fuzz/fuzz_targets/NAME.rs` only calls `NAME::run`), so the

//! code under test is compiled once, in this library, not once per target binary.

pub mod anthropic_stream;
pub mod chat_request;
pub mod chat_stream;
pub mod config_edit;
pub mod config_json;
pub mod messages_request;
pub mod ndjson_framing;
pub mod ollama_request;
pub mod ollama_stream;
pub mod openclaw_json5;
pub mod responses_request;
pub mod responses_stream;
pub mod sse_framing;
pub mod whole_response;
