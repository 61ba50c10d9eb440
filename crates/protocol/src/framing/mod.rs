//! Cutting streamed bodies into messages, whatever the byte boundaries of the chunks that carry
//! them: server-sent events for OpenAI-style streams (`sse`) and newline-delimited JSON for
//! Ollama's (`ndjson`). Both are pure push parsers — feed bytes, get complete events or lines —
//! with a bound on how much one line or event may hold, so a hostile or broken backend cannot
//! make Hearth buffer without limit.

pub mod ndjson;
pub mod sse;

pub use ndjson::NdjsonSplitter;
pub use sse::{SseEvent, SseParser};

/// The default bound on one line or event: generous for base64 images and long tool arguments.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 * 1024 * 1024;
