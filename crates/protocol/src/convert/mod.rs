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
//!
//! Anthropic Messages (module `anthropic`): an Anthropic client in front of any backend goes
//! through [`messages_request_to_openai`], then [`chat_response_to_messages`] or
//! [`OpenAiToAnthropicStream`]; Anthropic's cloud as a backend through
//! [`chat_request_to_messages`], then [`messages_response_to_openai`] or
//! [`AnthropicToOpenAiStream`]. What it loses or approximates:
//! - Blocks without a Chat Completions form are refused with their path
//!   ([`crate::ProtocolError::UnsupportedBlock`]): `document`, `search_result`, server-tool
//!   blocks; so are server tools (`web_search_20250305`…). `cache_control` and `citations` are
//!   ignored; `redacted_thinking` is dropped; a `tool_result` naming no earlier `tool_use` is
//!   refused ([`crate::ProtocolError::UnknownToolUseId`]).
//! - Text blocks are joined with `\n` (in requests) or as they are (in Anthropic's answers, which
//!   split one text around citations). A `tool_result` with `is_error` is sent as text prefixed
//!   `Error: `; images in a tool result move to the user message after the results, as OpenAI
//!   tool messages take only text.
//! - `top_k` travels in `extra` (llama-server reads it), `metadata.user_id` as `user`,
//!   `disable_parallel_tool_use` as `parallel_tool_calls: false`, `max_tokens` as `max_tokens`.
//! - Thinking: `budget_tokens` → `reasoning_effort` (under 2048 `low`, under 8192 `medium`, else
//!   `high`; disabled or adaptive send none), and back `low`/`medium`/`high` → 1024/4096/16384
//!   budget tokens, `max_tokens` raised by the budget when it would not exceed it, sampling
//!   fields and thinking under a forced tool dropped as Anthropic refuses them. Reasoning comes
//!   back as a `thinking` block with an empty signature (a local model's reasoning cannot be
//!   signed), and past reasoning is not sent to Anthropic, which takes back only its own.
//! - Stop reasons: `end_turn`, `stop_sequence` and `pause_turn` are all `stop`, as Chat
//!   Completions cannot tell them apart (towards Anthropic, `stop` is `end_turn`);
//!   `temperature` is clamped to Anthropic's 0–1; `n` > 1, `seed`, penalties, `logprobs` and
//!   `response_format` have no Anthropic field (`n` is refused, the rest dropped), nor have
//!   Anthropic's other top-level fields (`service_tier`, `container`, `mcp_servers`…) a Chat
//!   Completions one (dropped).
//! - Usage: Anthropic's `input_tokens` leaves out the cache; towards OpenAI the cache counts are
//!   added in and the reads reported as `cached_tokens`; towards Anthropic `prompt_tokens` is
//!   copied as `input_tokens`.
//!
//! OpenAI Responses (module `responses`): a Responses client in front of a Chat Completions
//! backend goes through [`responses_request_to_openai`] (after the stored conversation that
//! `previous_response_id` continues; [`conversation`] is what to store), then
//! [`chat_response_to_response`] or [`OpenAiToResponsesStream`]; a Responses backend through
//! [`chat_request_to_responses`], then [`response_to_openai`] or [`ResponsesToOpenAiStream`].
//! What it loses or approximates:
//! - Messages, function tools, function calls and their outputs, and reasoning cross. Hosted
//!   tools (`web_search`, `file_search`, `mcp`…), other items (`item_reference`,
//!   `computer_call_output`…), files, and images given by `file_id` are refused with their place
//!   (`input[3]`); so is a `function_call_output` no earlier `function_call` made
//!   ([`crate::ProtocolError::UnknownCallId`]). `allowed_tools` sends only the allowed functions.
//! - `instructions` become a leading `system` message; text parts are joined with `\n`; a
//!   function call's output must be text. Consecutive `function_call` items become one assistant
//!   message with several tool calls, joined to the assistant text right before them.
//! - Reasoning items become the next assistant message's `reasoning_content` (their
//!   `reasoning_text`, else their summary); one with only `encrypted_content`, or that no
//!   assistant turn follows, is dropped. Past reasoning is not sent to a Responses backend (its
//!   items need ids the backend made).
//! - `max_output_tokens` → `max_tokens`, which local servers read (the context guard clamps
//!   both fields); back, `max_completion_tokens`, else `max_tokens`. `text.format` ↔
//!   `response_format` (flat ↔ nested schema). `truncation` and `metadata` are echoed, not
//!   acted on; `text.verbosity`, `include` and unknown fields have no Chat Completions field;
//!   `stop`, `seed`, penalties and `logprobs` have no Responses one (all dropped); `n` > 1 is
//!   refused.
//! - Answers: `length` ↔ `incomplete` with `max_output_tokens`, `content_filter` ↔ `incomplete`
//!   with `content_filter`. A Responses `refusal` part comes back as `content`; a chat `refusal`
//!   is not carried. Cached and reasoning token counts cross as usage details.
//! - Streams go one output item at a time, as OpenAI's do: the first tool call streams as it
//!   comes, other calls (and text after a call) are sent whole at the end, so fragments that
//!   interleave across calls still add up.

mod anthropic;
mod arguments;
mod generate;
mod request;
mod response;
mod responses;
mod stream;
pub mod timings;

pub use anthropic::{
    AnthropicToOpenAiStream, OpenAiToAnthropicStream, chat_request_to_messages,
    chat_response_to_messages, messages_request_to_openai, messages_response_to_openai,
};
pub use arguments::{arguments_to_object, arguments_to_string};
pub use generate::{chat_response_to_generate, generate_request_to_chat};
pub use request::{chat_request_to_ollama, chat_request_to_openai};
pub use response::{CompletionIds, chat_response_to_ollama, chat_response_to_openai};
pub use responses::{
    OpenAiToResponsesStream, ResponseContext, ResponsesToOpenAiStream, chat_request_to_responses,
    chat_response_to_response, conversation, input_items, listed_input_items, output_to_input,
    response_shell, response_to_openai, responses_request_to_openai,
};
pub use stream::{OllamaToOpenAiStream, OpenAiToOllamaStream};

#[cfg(test)]
mod round_trip;
