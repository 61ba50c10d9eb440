//! Conversions between the APIs: pure functions for requests and whole responses, and one small
//! state machine per streaming direction. Ids and timestamps are parameters ([`CompletionIds`],
//! `created_at`), never read from a clock, so the same input always gives the same output.
//!
//! Which function serves which route:
//! - OpenAI client → Ollama backend: [`chat_request_to_ollama`], then
//!   [`chat_response_to_openai`] or [`OllamaToOpenAiStream`].
//! - Ollama client → OpenAI-compatible backend: [`chat_request_to_openai`], then
//!   [`chat_response_to_ollama`] or [`OpenAiToOllamaStream`]; `/api/generate` first goes through
//!   [`generate_request_to_chat`] and comes back through [`chat_response_to_generate`].
//!
//! What crosses, and what does not:
//! - Tool-call arguments are a JSON string in OpenAI and an object in Ollama. String → object
//!   parses (empty text is `{}`; a string that itself holds JSON object text is unwrapped) and
//!   refuses anything else with [`crate::ProtocolError::ToolArgumentsNotJson`] or
//!   [`crate::ProtocolError::ToolArgumentsNotObject`]; object → string writes compact JSON, so
//!   whitespace in the original text is not kept (the value is).
//! - Tool-call ids: OpenAI's travel in Ollama's `id` / `tool_call_id` and come back. Ollama calls
//!   without one get `call_<index>_<completion id>` in responses and `call_<message>_<index>` in
//!   requests; a tool result without an id is paired with the latest assistant call of the same
//!   name (else the first unanswered one).
//! - Roles: `developer` becomes `system` and the deprecated `function` becomes `tool` in Ollama;
//!   an unknown role is refused. Text parts are joined with `\n`; images must be base64 `data:`
//!   URLs (Hearth does not fetch links); other parts (audio, files) are refused.
//! - Sampling: `temperature`, `top_p`, `seed`, `stop`, presence and frequency penalties map both
//!   ways; `max_completion_tokens` (else `max_tokens`) ↔ `options.num_predict` (negative: no
//!   limit). Ollama-only options (`num_ctx`, `top_k`, `min_p`, `repeat_penalty`, `num_gpu`…) and
//!   `keep_alive` have no OpenAI field and are dropped towards OpenAI; OpenAI fields without an
//!   Ollama one (`logprobs`, `user`, `logit_bias`, `extra`) are dropped towards Ollama.
//! - `response_format` `json_object` ↔ `format: "json"`; `json_schema` ↔ a schema `format`
//!   (named `response` towards OpenAI).
//! - `reasoning_effort` ↔ `think`: `none` ↔ `false`, `minimal` → `low`, `xhigh` → `high`, the
//!   levels as they are; `think: true` sends no effort (the model's default). Reasoning text is
//!   `reasoning_content` (or vLLM's `reasoning`) ↔ `thinking`.
//! - `tool_choice`: `none` sends no tools, a named function sends only that tool; `required`
//!   cannot be enforced by Ollama and is sent as `auto`.
//! - `n` > 1 is refused towards Ollama, which answers once; only choice 0 comes back from OpenAI.
//! - Finish: `done_reason` `length` ↔ `length`, anything else → `stop`, and `tool_calls` when the
//!   answer calls tools (Ollama says `stop` then).
//! - Usage and timings: see [`timings`]. OpenAI's `prompt_tokens` counts the whole prompt,
//!   Ollama's `prompt_eval_count` only what it evaluated (the cache is not counted): the numbers
//!   are copied, not reconciled. `load_duration` has no OpenAI counterpart.

mod arguments;
mod generate;
mod request;
mod response;
mod stream;
pub mod timings;

pub use arguments::{arguments_to_object, arguments_to_string};
pub use generate::{chat_response_to_generate, generate_request_to_chat};
pub use request::{chat_request_to_ollama, chat_request_to_openai};
pub use response::{CompletionIds, chat_response_to_ollama, chat_response_to_openai};
pub use stream::{OllamaToOpenAiStream, OpenAiToOllamaStream};

#[cfg(test)]
mod round_trip;
