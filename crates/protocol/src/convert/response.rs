//! Whole (non-streamed) chat responses, both ways.

use serde_json::{Map, Value};

use super::arguments::{arguments_to_object, arguments_to_string};
use super::timings::{metrics_from_openai, timings_from_metrics, usage_from_metrics};
use crate::ProtocolError;
use crate::ollama;
use crate::openai::chat::{
    ChatCompletionResponse, Choice, FinishReason, FunctionCall, ResponseMessage, Role, TIMINGS_KEY,
    Timings, ToolCall,
};

/// The identity of an OpenAI response, which Hearth makes (this crate reads no clock and draws
/// no random numbers): the completion id (`chatcmpl-…`) and its Unix time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionIds {
    pub id: String,
    pub created: u64,
}

impl CompletionIds {
    pub fn new(id: impl Into<String>, created: u64) -> Self {
        CompletionIds {
            id: id.into(),
            created,
        }
    }

    /// The id of the answer's `index`-th tool call, when the backend gave none.
    pub(crate) fn tool_call_id(&self, index: usize) -> String {
        format!("call_{index}_{}", self.id)
    }
}

// ---------------------------------------------------------------------------------------------
// Ollama → OpenAI

/// Ollama's `/api/chat` answer as an OpenAI response. Usage is always present (0 when Ollama
/// counted nothing); llama-server-style `timings` are added when Ollama reported durations.
pub fn chat_response_to_openai(
    response: ollama::ChatResponse,
    ids: &CompletionIds,
) -> ChatCompletionResponse {
    let ollama::ChatResponse {
        model,
        message,
        done_reason,
        metrics,
        ..
    } = response;
    let tool_calls: Vec<ToolCall> = message
        .tool_calls
        .into_iter()
        .enumerate()
        .map(|(index, call)| tool_call_to_openai(call, ids, index))
        .collect();
    let finish_reason = finish_reason(done_reason.as_ref(), !tool_calls.is_empty());
    let content = if message.content.is_empty() && !tool_calls.is_empty() {
        None
    } else {
        Some(message.content)
    };
    let mut extra = Map::new();
    if let Some(timings) = timings_from_metrics(&metrics) {
        insert_timings(&mut extra, &timings);
    }
    ChatCompletionResponse {
        id: ids.id.clone(),
        object: "chat.completion".to_owned(),
        created: ids.created,
        model,
        choices: vec![Choice {
            index: 0,
            message: ResponseMessage {
                role: Role::Assistant,
                content,
                reasoning_content: message.thinking.filter(|text| !text.is_empty()),
                tool_calls,
                extra: Map::new(),
            },
            finish_reason: Some(finish_reason),
            extra: Map::new(),
        }],
        usage: Some(usage_from_metrics(&metrics)),
        extra,
    }
}

pub(super) fn tool_call_to_openai(
    call: ollama::ToolCall,
    ids: &CompletionIds,
    index: usize,
) -> ToolCall {
    ToolCall {
        id: call
            .id
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| ids.tool_call_id(index)),
        kind: "function".to_owned(),
        function: FunctionCall {
            name: call.function.name,
            arguments: arguments_to_string(call.function.arguments),
            extra: Map::new(),
        },
        extra: Map::new(),
    }
}

/// `tool_calls` when the answer calls tools (Ollama says `stop`), `length` when cut, else `stop`.
pub(super) fn finish_reason(
    done_reason: Option<&ollama::DoneReason>,
    calls_tools: bool,
) -> FinishReason {
    if calls_tools {
        return FinishReason::ToolCalls;
    }
    match done_reason {
        Some(ollama::DoneReason::Length) => FinishReason::Length,
        _ => FinishReason::Stop,
    }
}

pub(super) fn insert_timings(extra: &mut Map<String, Value>, timings: &Timings) {
    if let Ok(value) = serde_json::to_value(timings) {
        extra.insert(TIMINGS_KEY.to_owned(), value);
    }
}

// ---------------------------------------------------------------------------------------------
// OpenAI → Ollama

/// An OpenAI response as Ollama's `/api/chat` answer, stamped `created_at` (RFC 3339, the
/// caller's clock). Only choice 0 is kept; tool-call arguments must parse as objects.
pub fn chat_response_to_ollama(
    response: ChatCompletionResponse,
    created_at: &str,
) -> Result<ollama::ChatResponse, ProtocolError> {
    let timings = response.timings();
    let ChatCompletionResponse {
        model,
        choices,
        usage,
        ..
    } = response;
    let choice = choices.into_iter().min_by_key(|choice| choice.index);
    let (message, finish) = match choice {
        Some(choice) => (Some(choice.message), choice.finish_reason),
        None => (None, None),
    };
    let message = match message {
        Some(message) => {
            let mut out =
                ollama::Message::new(ollama::Role::Assistant, message.content.unwrap_or_default());
            out.thinking = reasoning(message.reasoning_content, &message.extra);
            out.tool_calls = message
                .tool_calls
                .into_iter()
                .enumerate()
                .map(|(index, call)| tool_call_to_ollama(call, index))
                .collect::<Result<_, _>>()?;
            out
        }
        None => ollama::Message::default(),
    };
    Ok(ollama::ChatResponse {
        model,
        created_at: created_at.to_owned(),
        message,
        done: true,
        done_reason: Some(done_reason(finish.as_ref())),
        metrics: metrics_from_openai(usage.as_ref(), timings.as_ref()),
        extra: Map::new(),
    })
}

fn tool_call_to_ollama(call: ToolCall, index: usize) -> Result<ollama::ToolCall, ProtocolError> {
    let arguments = arguments_to_object(&call.function.name, &call.function.arguments)?;
    Ok(ollama::ToolCall {
        id: (!call.id.is_empty()).then_some(call.id),
        function: ollama::ToolCallFunction {
            index: u32::try_from(index).ok(),
            name: call.function.name,
            arguments,
            extra: Map::new(),
        },
        extra: Map::new(),
    })
}

/// `length` when cut, else `stop` (tool calls included, as Ollama says).
pub(super) fn done_reason(finish: Option<&FinishReason>) -> ollama::DoneReason {
    match finish {
        Some(FinishReason::Length) => ollama::DoneReason::Length,
        _ => ollama::DoneReason::Stop,
    }
}

/// `reasoning_content`, else vLLM's newer `reasoning`.
pub(super) fn reasoning(typed: Option<String>, extra: &Map<String, Value>) -> Option<String> {
    typed.filter(|text| !text.is_empty()).or_else(|| {
        extra
            .get("reasoning")
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    })
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;
    use crate::from_json;

    /// Ollama response JSON → the OpenAI response Hearth answers with.
    fn check_to_openai(ollama_json: &str, expect: Expect) {
        let response = from_json(ollama_json.as_bytes()).unwrap();
        let out = chat_response_to_openai(response, &CompletionIds::new("chatcmpl-7", 1721680408));
        expect.assert_eq(&(serde_json::to_string_pretty(&out).unwrap() + "\n"));
    }

    /// OpenAI response JSON → the Ollama response Hearth answers with (or the error).
    fn check_to_ollama(openai_json: &str, expect: Expect) {
        let response = from_json(openai_json.as_bytes()).unwrap();
        let out = match chat_response_to_ollama(response, "2024-07-22T20:33:28.123648Z") {
            Ok(response) => serde_json::to_string_pretty(&response).unwrap(),
            Err(error) => format!("error: {error}"),
        };
        expect.assert_eq(&(out + "\n"));
    }

    #[test]
    fn tool_call_answer_to_openai() {
        // docs/api.md, "Chat request (with tools)", response.
        check_to_openai(
            r#"{"model":"llama3.2","created_at":"2024-07-22T20:33:28.123648Z",
                "message":{"role":"assistant","content":"","tool_calls":[
                  {"function":{"name":"get_current_weather","arguments":{"format":"celsius","location":"Paris, FR"}}}]},
                "done_reason":"stop","done":true,"total_duration":885095291,"load_duration":3753500,
                "prompt_eval_count":122,"prompt_eval_duration":328493000,"eval_count":33,"eval_duration":552222000}"#,
            expect![[r#"
                {
                  "id": "chatcmpl-7",
                  "object": "chat.completion",
                  "created": 1721680408,
                  "model": "llama3.2",
                  "choices": [
                    {
                      "index": 0,
                      "message": {
                        "role": "assistant",
                        "content": null,
                        "tool_calls": [
                          {
                            "id": "call_0_chatcmpl-7",
                            "type": "function",
                            "function": {
                              "name": "get_current_weather",
                              "arguments": "{\"format\":\"celsius\",\"location\":\"Paris, FR\"}"
                            }
                          }
                        ]
                      },
                      "finish_reason": "tool_calls"
                    }
                  ],
                  "usage": {
                    "prompt_tokens": 122,
                    "completion_tokens": 33,
                    "total_tokens": 155
                  },
                  "timings": {
                    "prompt_n": 122,
                    "prompt_ms": 328.493,
                    "prompt_per_token_ms": 2.6925655737704917,
                    "prompt_per_second": 371.3929977198905,
                    "predicted_n": 33,
                    "predicted_ms": 552.222,
                    "predicted_per_token_ms": 16.733999999999998,
                    "predicted_per_second": 59.75857535556352
                  }
                }
            "#]],
        );
    }

    #[test]
    fn thinking_and_length_to_openai() {
        // openapi.yaml ChatResponse with `thinking` (the "Thinking" sample), cut by num_predict.
        check_to_openai(
            r#"{"model":"gpt-oss","created_at":"2025-10-17T23:14:07.414671Z",
                "message":{"role":"assistant","content":"1+1 is","thinking":"Simple arithmetic."},
                "done":true,"done_reason":"length","prompt_eval_count":11,"eval_count":18}"#,
            expect![[r#"
                {
                  "id": "chatcmpl-7",
                  "object": "chat.completion",
                  "created": 1721680408,
                  "model": "gpt-oss",
                  "choices": [
                    {
                      "index": 0,
                      "message": {
                        "role": "assistant",
                        "content": "1+1 is",
                        "reasoning_content": "Simple arithmetic."
                      },
                      "finish_reason": "length"
                    }
                  ],
                  "usage": {
                    "prompt_tokens": 11,
                    "completion_tokens": 18,
                    "total_tokens": 29
                  }
                }
            "#]],
        );
        // A load-only answer: no message text, no counts.
        check_to_openai(
            r#"{"model":"llama3.2","created_at":"2024-09-12T21:17:29.110811Z","message":{"role":"assistant","content":""},"done_reason":"load","done":true}"#,
            expect![[r#"
                {
                  "id": "chatcmpl-7",
                  "object": "chat.completion",
                  "created": 1721680408,
                  "model": "llama3.2",
                  "choices": [
                    {
                      "index": 0,
                      "message": {
                        "role": "assistant",
                        "content": ""
                      },
                      "finish_reason": "stop"
                    }
                  ],
                  "usage": {
                    "prompt_tokens": 0,
                    "completion_tokens": 0,
                    "total_tokens": 0
                  }
                }
            "#]],
        );
    }

    #[test]
    fn tool_call_answer_to_ollama() {
        // OpenAI API reference, "Functions" response example, from a llama-server with timings
        // and vLLM's `reasoning`.
        check_to_ollama(
            r#"{"id":"chatcmpl-abc123","object":"chat.completion","created":1699896916,"model":"gpt-4o-mini",
                "choices":[{"index":0,"message":{"role":"assistant","content":null,"reasoning":"Need the weather.","tool_calls":[
                  {"id":"call_abc123","type":"function","function":{"name":"get_current_weather","arguments":"{\n\"location\": \"Boston, MA\"\n}"}}]},
                  "logprobs":null,"finish_reason":"tool_calls"}],
                "usage":{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99},
                "timings":{"prompt_n":82,"prompt_ms":41.5,"predicted_n":17,"predicted_ms":170.25}}"#,
            expect![[r#"
                {
                  "model": "gpt-4o-mini",
                  "created_at": "2024-07-22T20:33:28.123648Z",
                  "message": {
                    "role": "assistant",
                    "content": "",
                    "thinking": "Need the weather.",
                    "tool_calls": [
                      {
                        "id": "call_abc123",
                        "function": {
                          "index": 0,
                          "name": "get_current_weather",
                          "arguments": {
                            "location": "Boston, MA"
                          }
                        }
                      }
                    ]
                  },
                  "done": true,
                  "done_reason": "stop",
                  "total_duration": 211750000,
                  "prompt_eval_count": 82,
                  "prompt_eval_duration": 41500000,
                  "eval_count": 17,
                  "eval_duration": 170250000
                }
            "#]],
        );
    }

    #[test]
    fn hostile_answers_to_ollama() {
        check_to_ollama(
            r#"{"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[
                  {"id":"c1","type":"function","function":{"name":"shell","arguments":"rm -rf /tmp/x"}}]},"finish_reason":"tool_calls"}]}"#,
            expect![[r#"
                error: the arguments of tool call `shell` are not valid JSON (expected value at line 1 column 1): "rm -rf /tmp/x"
            "#]],
        );
        // No choices at all, and a length cut among several choices: choice 0 wins.
        check_to_ollama(
            r#"{"model":"m","choices":[]}"#,
            expect![[r#"
                {
                  "model": "m",
                  "created_at": "2024-07-22T20:33:28.123648Z",
                  "message": {
                    "role": "assistant",
                    "content": ""
                  },
                  "done": true,
                  "done_reason": "stop"
                }
            "#]],
        );
        check_to_ollama(
            r#"{"model":"m","choices":[{"index":1,"message":{"content":"second"},"finish_reason":"stop"},
                                      {"index":0,"message":{"content":"first"},"finish_reason":"length"}]}"#,
            expect![[r#"
                {
                  "model": "m",
                  "created_at": "2024-07-22T20:33:28.123648Z",
                  "message": {
                    "role": "assistant",
                    "content": "first"
                  },
                  "done": true,
                  "done_reason": "length"
                }
            "#]],
        );
    }
}
