//! Streamed answers, both ways, as small state machines fed one parsed chunk at a time.
//!
//! Ollama sends each tool call whole, in one NDJSON chunk, and ends with a `done: true` chunk that
//! carries the counts. OpenAI sends a role chunk, content deltas, tool calls as fragments (the
//! first names the call, the next ones append to its argument text), a chunk with the
//! `finish_reason`, usage (in that chunk or one of its own, when asked for), then `[DONE]`.

use std::collections::BTreeMap;

use serde_json::Map;

use super::arguments::arguments_to_object;
use super::response::{
    CompletionIds, done_reason, finish_reason, insert_timings, reasoning, tool_call_to_openai,
};
use super::timings::{metrics_from_openai, timings_from_metrics, usage_from_metrics};
use crate::ProtocolError;
use crate::error::excerpt;
use crate::ollama;
use crate::openai::chat::{
    ChatCompletionChunk, ChunkChoice, Delta, FinishReason, FunctionCallDelta, Role, Timings,
    ToolCallDelta, Usage,
};

/// The most argument text one streamed tool call may accumulate.
const MAX_ARGUMENTS_BYTES: usize = 8 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Ollama → OpenAI

/// Turns Ollama's NDJSON chunks into OpenAI chunks: the role first, then content and reasoning
/// deltas, each tool call as one complete fragment with its index, then a chunk with the
/// `finish_reason` (and llama-server-style `timings`), then — when the client asked with
/// `stream_options.include_usage` — a usage chunk with no choices. Chunks after `done` are
/// ignored.
#[derive(Debug)]
pub struct OllamaToOpenAiStream {
    ids: CompletionIds,
    include_usage: bool,
    started: bool,
    tool_calls: usize,
    finished: bool,
}

impl OllamaToOpenAiStream {
    pub fn new(ids: CompletionIds, include_usage: bool) -> Self {
        OllamaToOpenAiStream {
            ids,
            include_usage,
            started: false,
            tool_calls: 0,
            finished: false,
        }
    }

    /// Whether the final chunk has gone out.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The OpenAI chunks one Ollama chunk becomes (zero or more).
    pub fn push(&mut self, chunk: ollama::ChatResponse) -> Vec<ChatCompletionChunk> {
        if self.finished {
            return Vec::new();
        }
        let ollama::ChatResponse {
            model,
            message,
            done,
            done_reason,
            metrics,
            ..
        } = chunk;
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            let role = Delta {
                role: Some(Role::Assistant),
                content: Some(String::new()),
                ..Delta::default()
            };
            out.push(self.chunk(&model, vec![choice(role, None)]));
        }

        let thinking = message.thinking.filter(|text| !text.is_empty());
        let content = (!message.content.is_empty()).then_some(message.content);
        if content.is_some() || thinking.is_some() {
            let delta = Delta {
                content,
                reasoning_content: thinking,
                ..Delta::default()
            };
            out.push(self.chunk(&model, vec![choice(delta, None)]));
        }

        if !message.tool_calls.is_empty() {
            let mut fragments = Vec::with_capacity(message.tool_calls.len());
            for call in message.tool_calls {
                let index = self.tool_calls;
                self.tool_calls += 1;
                let call = tool_call_to_openai(call, &self.ids, index);
                fragments.push(ToolCallDelta {
                    index: u32::try_from(index).unwrap_or(u32::MAX),
                    id: Some(call.id),
                    kind: Some(call.kind),
                    function: Some(FunctionCallDelta {
                        name: Some(call.function.name),
                        arguments: Some(call.function.arguments),
                    }),
                    extra: Map::new(),
                });
            }
            let delta = Delta {
                tool_calls: fragments,
                ..Delta::default()
            };
            out.push(self.chunk(&model, vec![choice(delta, None)]));
        }

        if done {
            self.finished = true;
            let reason = finish_reason(done_reason.as_ref(), self.tool_calls > 0);
            let mut last = self.chunk(&model, vec![choice(Delta::default(), Some(reason))]);
            if let Some(timings) = timings_from_metrics(&metrics) {
                insert_timings(&mut last.extra, &timings);
            }
            out.push(last);
            if self.include_usage {
                let mut usage = self.chunk(&model, Vec::new());
                usage.usage = Some(usage_from_metrics(&metrics));
                out.push(usage);
            }
        }
        out
    }

    fn chunk(&self, model: &str, choices: Vec<ChunkChoice>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.ids.id.clone(),
            object: "chat.completion.chunk".to_owned(),
            created: self.ids.created,
            model: model.to_owned(),
            choices,
            usage: None,
            extra: Map::new(),
        }
    }
}

fn choice(delta: Delta, finish_reason: Option<FinishReason>) -> ChunkChoice {
    ChunkChoice {
        index: 0,
        delta,
        finish_reason,
        extra: Map::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// OpenAI → Ollama

/// Turns OpenAI chunks into Ollama NDJSON chunks: content and reasoning deltas as they come;
/// tool-call fragments gathered by index and sent whole, in one chunk, when the `finish_reason`
/// arrives (Ollama clients expect complete calls with object arguments); and the final
/// `done: true` chunk once both the finish and the usage are in, or at [`Self::finish`] (call it
/// on `[DONE]` or at the end of the body). Only choice 0 is followed.
#[derive(Debug, Default)]
pub struct OpenAiToOllamaStream {
    model: String,
    calls: BTreeMap<u32, PendingCall>,
    finish_reason: Option<FinishReason>,
    usage: Option<Usage>,
    timings: Option<Timings>,
    done: bool,
}

#[derive(Debug, Default)]
struct PendingCall {
    id: Option<String>,
    name: String,
    arguments: String,
}

impl OpenAiToOllamaStream {
    pub fn new() -> Self {
        OpenAiToOllamaStream::default()
    }

    /// Whether the `done: true` chunk has gone out.
    pub fn is_finished(&self) -> bool {
        self.done
    }

    /// The Ollama chunks one OpenAI chunk becomes (zero or more), stamped `created_at`.
    pub fn push(
        &mut self,
        chunk: ChatCompletionChunk,
        created_at: &str,
    ) -> Result<Vec<ollama::ChatResponse>, ProtocolError> {
        if self.done {
            return Ok(Vec::new());
        }
        if let Some(timings) = chunk.timings() {
            self.timings = Some(timings);
        }
        let ChatCompletionChunk {
            model,
            choices,
            usage,
            ..
        } = chunk;
        if !model.is_empty() {
            self.model = model;
        }
        if usage.is_some() {
            self.usage = usage;
        }

        let mut out = Vec::new();
        for choice in choices.into_iter().filter(|choice| choice.index == 0) {
            let Delta {
                content,
                reasoning_content,
                tool_calls,
                extra,
                ..
            } = choice.delta;
            let thinking = reasoning(reasoning_content, &extra);
            let content = content.filter(|text| !text.is_empty());
            if content.is_some() || thinking.is_some() {
                let mut message =
                    ollama::Message::new(ollama::Role::Assistant, content.unwrap_or_default());
                message.thinking = thinking;
                out.push(self.chunk(created_at, message));
            }
            for fragment in tool_calls {
                self.gather(fragment)?;
            }
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(reason);
                out.extend(self.flush_calls(created_at)?);
            }
        }
        if self.finish_reason.is_some() && self.usage.is_some() {
            out.extend(self.finish(created_at)?);
        }
        Ok(out)
    }

    /// The end of the stream (`[DONE]`, or the body ended): any gathered tool calls, then the
    /// `done: true` chunk, unless it went out already.
    pub fn finish(&mut self, created_at: &str) -> Result<Vec<ollama::ChatResponse>, ProtocolError> {
        if self.done {
            return Ok(Vec::new());
        }
        let mut out: Vec<_> = self.flush_calls(created_at)?.into_iter().collect();
        self.done = true;
        out.push(ollama::ChatResponse {
            model: self.model.clone(),
            created_at: created_at.to_owned(),
            message: ollama::Message::default(),
            done: true,
            done_reason: Some(done_reason(self.finish_reason.as_ref())),
            metrics: metrics_from_openai(self.usage.as_ref(), self.timings.as_ref()),
            extra: Map::new(),
        });
        Ok(out)
    }

    fn gather(&mut self, fragment: ToolCallDelta) -> Result<(), ProtocolError> {
        let call = self.calls.entry(fragment.index).or_default();
        if let Some(id) = fragment.id.filter(|id| !id.is_empty()) {
            call.id.get_or_insert(id);
        }
        let Some(function) = fragment.function else {
            return Ok(());
        };
        if let Some(name) = function.name.filter(|name| !name.is_empty())
            && call.name.is_empty()
        {
            call.name = name;
        }
        if let Some(arguments) = function.arguments {
            if call.arguments.len() + arguments.len() > MAX_ARGUMENTS_BYTES {
                return Err(ProtocolError::ToolArgumentsTooLong {
                    tool: excerpt(&call.name, 64),
                    limit: MAX_ARGUMENTS_BYTES,
                });
            }
            call.arguments.push_str(&arguments);
        }
        Ok(())
    }

    /// Every gathered call, whole, in one chunk.
    fn flush_calls(
        &mut self,
        created_at: &str,
    ) -> Result<Option<ollama::ChatResponse>, ProtocolError> {
        if self.calls.is_empty() {
            return Ok(None);
        }
        let mut message = ollama::Message::default();
        for (index, call) in std::mem::take(&mut self.calls) {
            if call.name.is_empty() {
                return Err(ProtocolError::ToolCallWithoutName { index });
            }
            let arguments = arguments_to_object(&call.name, &call.arguments)?;
            message.tool_calls.push(ollama::ToolCall {
                id: call.id,
                function: ollama::ToolCallFunction {
                    index: Some(index),
                    name: call.name,
                    arguments,
                    extra: Map::new(),
                },
                extra: Map::new(),
            });
        }
        Ok(Some(self.chunk(created_at, message)))
    }

    fn chunk(&self, created_at: &str, message: ollama::Message) -> ollama::ChatResponse {
        ollama::ChatResponse {
            model: self.model.clone(),
            created_at: created_at.to_owned(),
            message,
            done: false,
            done_reason: None,
            metrics: ollama::Metrics::default(),
            extra: Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;
    use crate::from_json;

    /// Ollama NDJSON lines → the OpenAI SSE `data:` payloads Hearth sends, one per line.
    fn check_to_openai(ndjson: &str, include_usage: bool, expect: Expect) {
        let mut stream =
            OllamaToOpenAiStream::new(CompletionIds::new("chatcmpl-9", 1748386497), include_usage);
        let mut out = String::new();
        for line in ndjson
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
        {
            for chunk in stream.push(from_json(line.as_bytes()).unwrap()) {
                out += &serde_json::to_string(&chunk).unwrap();
                out += "\n";
            }
        }
        assert!(stream.is_finished());
        expect.assert_eq(&out);
    }

    /// OpenAI SSE `data:` payloads (one per line, `[DONE]` included) → Ollama NDJSON lines.
    fn check_to_ollama(data_lines: &str, expect: Expect) {
        let mut stream = OpenAiToOllamaStream::new();
        let mut out = String::new();
        let mut emit = |chunks: Result<Vec<ollama::ChatResponse>, ProtocolError>| match chunks {
            Ok(chunks) => {
                for chunk in chunks {
                    out += &serde_json::to_string(&chunk).unwrap();
                    out += "\n";
                }
            }
            Err(error) => out += &format!("error: {error}\n"),
        };
        for data in data_lines
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
        {
            if data == "[DONE]" {
                emit(stream.finish("T"));
            } else {
                emit(stream.push(from_json(data.as_bytes()).unwrap(), "T"));
            }
        }
        expect.assert_eq(&out);
    }

    #[test]
    fn ollama_text_stream_to_openai() {
        // docs/api.md, "Chat Request (Streaming)": text chunks and the final chunk (with the
        // `done_reason` newer servers send).
        check_to_openai(
            r#"
            {"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The","images":null},"done":false}
            {"model":"llama3.2","created_at":"2023-08-04T08:52:19.4Z","message":{"role":"assistant","content":" sky"},"done":false}
            {"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}
            "#,
            true,
            expect![[r#"
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"llama3.2","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"llama3.2","choices":[{"index":0,"delta":{"content":"The"},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"llama3.2","choices":[{"index":0,"delta":{"content":" sky"},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"llama3.2","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"timings":{"prompt_n":26,"prompt_ms":342.546,"prompt_per_token_ms":13.174846153846154,"prompt_per_second":75.90221459307655,"predicted_n":282,"predicted_ms":4535.599,"predicted_per_token_ms":16.083684397163122,"predicted_per_second":62.17480866364068}}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"llama3.2","choices":[],"usage":{"prompt_tokens":26,"completion_tokens":282,"total_tokens":308}}
            "#]],
        );
    }

    #[test]
    fn ollama_thinking_and_tool_stream_to_openai() {
        // ollama.com/blog/streaming-tool ("Streaming responses with tool calling"): thinking,
        // then a whole tool call in one chunk, then done; and a later chunk that is ignored.
        check_to_openai(
            r#"
            {"model":"qwen3","created_at":"2025-05-27T22:54:57.6Z","message":{"role":"assistant","content":"","thinking":"The user wants Toronto."},"done":false}
            {"model":"qwen3","created_at":"2025-05-27T22:54:58.100509Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_current_weather","arguments":{"format":"celsius","location":"Toronto"}}},{"id":"call_x","function":{"index":1,"name":"get_time","arguments":{}}}]},"done":false}
            {"model":"qwen3","created_at":"2025-05-27T22:54:58.2Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":40}
            {"model":"qwen3","created_at":"2025-05-27T22:54:58.3Z","message":{"role":"assistant","content":"late"},"done":false}
            "#,
            false,
            expect![[r#"
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"qwen3","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"qwen3","choices":[{"index":0,"delta":{"reasoning_content":"The user wants Toronto."},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"qwen3","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_0_chatcmpl-9","type":"function","function":{"name":"get_current_weather","arguments":"{\"format\":\"celsius\",\"location\":\"Toronto\"}"}},{"index":1,"id":"call_x","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"qwen3","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}
            "#]],
        );
    }

    #[test]
    fn ollama_length_cut_in_the_last_chunk() {
        // Content and `done` in one chunk, cut by num_predict.
        check_to_openai(
            r#"{"model":"m","message":{"role":"assistant","content":"Once"},"done":true,"done_reason":"length","eval_count":1}"#,
            true,
            expect![[r#"
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"m","choices":[{"index":0,"delta":{"content":"Once"},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"m","choices":[],"usage":{"prompt_tokens":0,"completion_tokens":1,"total_tokens":1}}
            "#]],
        );
    }

    #[test]
    fn openai_text_stream_to_ollama() {
        // OpenAI API reference, "The chat completion chunk object" streaming example, with
        // `include_usage` (a usage chunk with no choices before [DONE]).
        check_to_ollama(
            r#"
            {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}
            {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]}
            {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"reasoning_content":"hm"},"logprobs":null,"finish_reason":null}]}
            {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}
            {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}
            [DONE]
            "#,
            expect![[r#"
                {"model":"gpt-4o-mini","created_at":"T","message":{"role":"assistant","content":"Hello"},"done":false}
                {"model":"gpt-4o-mini","created_at":"T","message":{"role":"assistant","content":"","thinking":"hm"},"done":false}
                {"model":"gpt-4o-mini","created_at":"T","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":9,"eval_count":12}
            "#]],
        );
    }

    #[test]
    fn openai_tool_fragments_to_ollama_whole_calls() {
        // OpenAI function-calling guide, "Streaming": one call in fragments (null ids, types and
        // names after the first), plus a second call; llama-server puts usage and timings on
        // the finish chunk itself.
        check_to_ollama(
            r#"
            {"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","function":{"arguments":"","name":"get_weather"},"type":"function"}]}}]}
            {"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":null,"function":{"arguments":"{\"","name":null},"type":null}]}}]}
            {"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":null,"function":{"arguments":"location","name":null},"type":null}]}}]}
            {"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":null,"function":{"arguments":"\":\"","name":null},"type":null}]}}]}
            {"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":null,"function":{"arguments":"Paris","name":null},"type":null}]}}]}
            {"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":null,"function":{"arguments":",","name":null},"type":null}]}}]}
            {"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":null,"function":{"arguments":" France","name":null},"type":null}]}}]}
            {"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":null,"function":{"arguments":"\"}","name":null},"type":null}]}}]}
            {"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","function":{"name":"get_time","arguments":""}}]}}]}
            {"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":80,"completion_tokens":20,"total_tokens":100},"timings":{"prompt_n":80,"prompt_ms":40.0,"predicted_n":20,"predicted_ms":200.0}}
            [DONE]
            "#,
            expect![[r#"
                {"model":"m","created_at":"T","message":{"role":"assistant","content":"","tool_calls":[{"id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","function":{"index":0,"name":"get_weather","arguments":{"location":"Paris, France"}}},{"id":"call_2","function":{"index":1,"name":"get_time","arguments":{}}}]},"done":false}
                {"model":"m","created_at":"T","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":240000000,"prompt_eval_count":80,"prompt_eval_duration":40000000,"eval_count":20,"eval_duration":200000000}
            "#]],
        );
    }

    #[test]
    fn openai_stream_without_usage_ends_at_done() {
        check_to_ollama(
            r#"
            {"model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}, {"index":1,"delta":{"content":"ignored"}}]}
            {"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}
            [DONE]
            {"model":"m","choices":[{"index":0,"delta":{"content":"after the end"}}]}
            "#,
            expect![[r#"
                {"model":"m","created_at":"T","message":{"role":"assistant","content":"Hi"},"done":false}
                {"model":"m","created_at":"T","message":{"role":"assistant","content":""},"done":true,"done_reason":"length"}
            "#]],
        );
    }

    #[test]
    fn hostile_openai_streams() {
        check_to_ollama(
            r#"
            {"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{not json"}}]}}]}
            {"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}
            "#,
            expect![[r#"
                error: the arguments of tool call `f` are not valid JSON (key must be a string at line 1 column 2): "{not json"
            "#]],
        );
        check_to_ollama(
            r#"
            {"model":"m","choices":[{"index":3,"delta":{"tool_calls":[{"index":7,"function":{"arguments":"{}"}}]}}]}
            {"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":7,"function":{"arguments":"{}"}}]}}]}
            [DONE]
            "#,
            expect![[r#"
                error: the streamed tool call at index 7 ended without a function name
            "#]],
        );
        let mut stream = OpenAiToOllamaStream::new();
        let fragment = |arguments: String| ChatCompletionChunk {
            choices: vec![ChunkChoice {
                delta: Delta {
                    tool_calls: vec![ToolCallDelta {
                        function: Some(FunctionCallDelta {
                            name: Some("f".to_owned()),
                            arguments: Some(arguments),
                        }),
                        ..ToolCallDelta::default()
                    }],
                    ..Delta::default()
                },
                ..ChunkChoice::default()
            }],
            ..ChatCompletionChunk::default()
        };
        let megabyte = "x".repeat(1024 * 1024);
        for _ in 0..8 {
            stream.push(fragment(megabyte.clone()), "T").unwrap();
        }
        assert_eq!(
            stream
                .push(fragment(megabyte), "T")
                .unwrap_err()
                .to_string(),
            "the streamed arguments of tool call `f` exceed 8388608 bytes"
        );
    }
}
