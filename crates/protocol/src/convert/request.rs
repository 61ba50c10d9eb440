//! Chat requests, both ways: OpenAI Chat Completions ↔ Ollama `/api/chat`.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::arguments::{arguments_to_object, arguments_to_string};
use crate::ProtocolError;
use crate::error::excerpt;
use crate::ollama;
use crate::openai::chat::{
    ChatCompletionRequest, ChatMessage, ContentPart, FunctionCall, FunctionDefinition, ImageUrl,
    ImageUrlPart, JsonSchemaFormat, MessageContent, ResponseFormat, Role, Stop, StreamOptions,
    TextPart, Tool, ToolCall, ToolChoice, ToolChoiceMode,
};

const ROLE_CHARS: usize = 40;
const URL_CHARS: usize = 60;

// ---------------------------------------------------------------------------------------------
// OpenAI → Ollama

/// An OpenAI Chat Completions request as Ollama's `/api/chat` request (for an Ollama backend).
/// `stream_options` has no Ollama field: read [`ChatCompletionRequest::wants_stream_usage`]
/// first and hand it to [`super::OllamaToOpenAiStream::new`].
pub fn chat_request_to_ollama(
    request: ChatCompletionRequest,
) -> Result<ollama::ChatRequest, ProtocolError> {
    if let Some(n) = request.n
        && n > 1
    {
        return Err(ProtocolError::UnsupportedChoiceCount { n });
    }
    let ChatCompletionRequest {
        model,
        messages,
        tools,
        tool_choice,
        stream,
        max_tokens,
        max_completion_tokens,
        temperature,
        top_p,
        presence_penalty,
        frequency_penalty,
        stop,
        seed,
        response_format,
        reasoning_effort,
        ..
    } = request;

    let mut call_names = HashMap::new();
    let messages = messages
        .into_iter()
        .enumerate()
        .map(|(index, message)| message_to_ollama(index, message, &mut call_names))
        .collect::<Result<Vec<_>, _>>()?;
    let options = ollama::Options {
        temperature,
        top_p,
        seed,
        presence_penalty,
        frequency_penalty,
        num_predict: max_completion_tokens.or(max_tokens).map(i64::from),
        stop: stop.map(Stop::into_vec),
        ..ollama::Options::default()
    };
    Ok(ollama::ChatRequest {
        model,
        messages,
        tools: tools_to_ollama(tools, tool_choice.as_ref())?,
        format: response_format.and_then(format_to_ollama),
        options: (!options.is_empty()).then_some(options),
        // Ollama streams unless told not to; OpenAI does not unless told to.
        stream: Some(stream.unwrap_or(false)),
        keep_alive: None,
        think: reasoning_effort.as_deref().map(think_from_effort),
        extra: Map::new(),
    })
}

fn message_to_ollama(
    index: usize,
    message: ChatMessage,
    call_names: &mut HashMap<String, String>,
) -> Result<ollama::Message, ProtocolError> {
    let role = match &message.role {
        Role::System | Role::Developer => ollama::Role::System,
        Role::User => ollama::Role::User,
        Role::Assistant => ollama::Role::Assistant,
        Role::Tool | Role::Function => ollama::Role::Tool,
        Role::Other(role) => {
            return Err(ProtocolError::UnknownRole {
                index,
                role: excerpt(role, ROLE_CHARS),
                expected: "system, developer, user, assistant, tool",
            });
        }
    };
    let (content, images) = content_to_ollama(index, message.content)?;
    let mut out = ollama::Message::new(role.clone(), content);
    out.images = images;
    out.thinking = message.reasoning_content.filter(|text| !text.is_empty());
    for call in message.tool_calls {
        let ToolCall { id, function, .. } = call;
        let arguments = arguments_to_object(&function.name, &function.arguments)?;
        if !id.is_empty() {
            call_names.insert(id.clone(), function.name.clone());
        }
        out.tool_calls.push(ollama::ToolCall {
            id: (!id.is_empty()).then_some(id),
            function: ollama::ToolCallFunction {
                index: None,
                name: function.name,
                arguments,
                extra: Map::new(),
            },
            extra: Map::new(),
        });
    }
    if role == ollama::Role::Tool {
        out.tool_name = message
            .tool_call_id
            .as_ref()
            .and_then(|id| call_names.get(id))
            .cloned()
            .or(message.name);
        out.tool_call_id = message.tool_call_id;
    }
    Ok(out)
}

/// Text (parts joined with `\n`) and base64 images.
fn content_to_ollama(
    index: usize,
    content: Option<MessageContent>,
) -> Result<(String, Vec<String>), ProtocolError> {
    let parts = match content {
        None => return Ok((String::new(), Vec::new())),
        Some(MessageContent::Text(text)) => return Ok((text, Vec::new())),
        Some(MessageContent::Parts(parts)) => parts,
    };
    let mut texts = Vec::new();
    let mut images = Vec::new();
    for part in parts {
        match part {
            ContentPart::Text(part) => texts.push(part.text),
            ContentPart::ImageUrl(part) => images.push(base64_of_data_url(index, part.image_url)?),
            ContentPart::Other(_) => {
                return Err(ProtocolError::UnsupportedContentPart {
                    index,
                    kind: excerpt(part.kind(), ROLE_CHARS),
                    target: "Ollama",
                });
            }
        }
    }
    Ok((texts.join("\n"), images))
}

/// `data:image/png;base64,iVBOR…` → `iVBOR…`.
fn base64_of_data_url(index: usize, image: ImageUrl) -> Result<String, ProtocolError> {
    let mut url = image.url;
    let start = url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(','))
        .filter(|(media, _)| media.ends_with(";base64"))
        .map(|(media, _)| "data:".len() + media.len() + 1);
    match start {
        Some(start) => Ok(url.split_off(start)),
        None => Err(ProtocolError::UnsupportedImageUrl {
            index,
            excerpt: excerpt(&url, URL_CHARS),
        }),
    }
}

fn tools_to_ollama(
    tools: Vec<Tool>,
    choice: Option<&ToolChoice>,
) -> Result<Vec<ollama::Tool>, ProtocolError> {
    let only = match choice {
        Some(ToolChoice::Mode(ToolChoiceMode::None)) => return Ok(Vec::new()),
        Some(ToolChoice::Function(named)) => Some(named.function.name.as_str()),
        // `auto`, `required` (which Ollama cannot enforce) and newer forms: every tool.
        _ => None,
    };
    let mut out = Vec::with_capacity(tools.len());
    for (index, tool) in tools.into_iter().enumerate() {
        let function = match tool.function {
            Some(function) if tool.kind == "function" => function,
            _ => {
                return Err(ProtocolError::UnsupportedToolType {
                    index,
                    kind: excerpt(&tool.kind, ROLE_CHARS),
                });
            }
        };
        if only.is_some_and(|name| name != function.name) {
            continue;
        }
        out.push(ollama::Tool {
            kind: "function".to_owned(),
            function: ollama::ToolFunction {
                name: function.name,
                description: function.description,
                parameters: function.parameters,
                extra: Map::new(),
            },
            extra: Map::new(),
        });
    }
    if let Some(name) = only
        && out.is_empty()
    {
        return Err(ProtocolError::ToolChoiceNotInTools {
            name: excerpt(name, ROLE_CHARS),
        });
    }
    Ok(out)
}

fn format_to_ollama(format: ResponseFormat) -> Option<ollama::Format> {
    match format.kind.as_str() {
        "json_object" => Some(ollama::Format::Json),
        "json_schema" => match format.json_schema.and_then(|schema| schema.schema) {
            Some(Value::Object(schema)) => Some(ollama::Format::Schema(schema)),
            _ => Some(ollama::Format::Json),
        },
        _ => None,
    }
}

fn think_from_effort(effort: &str) -> ollama::Think {
    match effort {
        "none" => ollama::Think::Enabled(false),
        "minimal" | "low" => ollama::Think::Level("low".to_owned()),
        "xhigh" => ollama::Think::Level("high".to_owned()),
        level => ollama::Think::Level(level.to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// Ollama → OpenAI

/// An Ollama `/api/chat` request as an OpenAI Chat Completions request (for Hearth's `/api/chat`
/// in front of an OpenAI-compatible backend). A streamed request asks for usage in the stream,
/// so the final Ollama chunk can carry `eval_count`.
pub fn chat_request_to_openai(
    request: ollama::ChatRequest,
) -> Result<ChatCompletionRequest, ProtocolError> {
    let streams = request.streams();
    let ollama::ChatRequest {
        model,
        messages,
        tools,
        format,
        options,
        think,
        ..
    } = request;

    let mut pending = PendingCalls::default();
    let messages = messages
        .into_iter()
        .enumerate()
        .map(|(index, message)| message_to_openai(index, message, &mut pending))
        .collect::<Result<Vec<_>, _>>()?;
    let options = options.unwrap_or_default();
    let max_tokens = match options.num_predict {
        Some(limit) if limit >= 0 => {
            Some(u32::try_from(limit).map_err(|_| ProtocolError::OutOfRange {
                field: "options.num_predict",
                value: limit.to_string(),
                expected: "at most 4294967295, or negative for no limit",
            })?)
        }
        _ => None,
    };
    Ok(ChatCompletionRequest {
        model,
        messages,
        tools: tools.into_iter().map(tool_to_openai).collect(),
        stream: Some(streams),
        stream_options: streams.then(|| StreamOptions {
            include_usage: Some(true),
            extra: Map::new(),
        }),
        max_tokens,
        temperature: options.temperature,
        top_p: options.top_p,
        presence_penalty: options.presence_penalty,
        frequency_penalty: options.frequency_penalty,
        stop: options.stop.map(Stop::Many),
        seed: options.seed,
        response_format: format.map(format_to_openai),
        reasoning_effort: think.and_then(effort_from_think),
        ..ChatCompletionRequest::default()
    })
}

/// The assistant's latest tool calls not yet answered, to give tool results their call id.
#[derive(Debug, Default)]
struct PendingCalls(Vec<(String, String)>);

impl PendingCalls {
    /// The id of the call `name` answers: the first unanswered call of that name, else the
    /// first unanswered call.
    fn answer(&mut self, name: Option<&str>) -> Option<String> {
        let position = name
            .and_then(|name| self.0.iter().position(|(_, call)| call == name))
            .or((!self.0.is_empty()).then_some(0))?;
        Some(self.0.remove(position).0)
    }
}

fn message_to_openai(
    index: usize,
    message: ollama::Message,
    pending: &mut PendingCalls,
) -> Result<ChatMessage, ProtocolError> {
    let role = match &message.role {
        ollama::Role::System => Role::System,
        ollama::Role::User => Role::User,
        ollama::Role::Assistant => Role::Assistant,
        ollama::Role::Tool => Role::Tool,
        ollama::Role::Other(role) => {
            return Err(ProtocolError::UnknownRole {
                index,
                role: excerpt(role, ROLE_CHARS),
                expected: "system, user, assistant, tool",
            });
        }
    };
    let content = if !message.images.is_empty() {
        let mut parts = Vec::with_capacity(message.images.len() + 1);
        if !message.content.is_empty() {
            parts.push(ContentPart::Text(TextPart {
                text: message.content,
                extra: Map::new(),
            }));
        }
        parts.extend(message.images.into_iter().map(|image| {
            ContentPart::ImageUrl(ImageUrlPart {
                image_url: ImageUrl {
                    url: data_url(image),
                    detail: None,
                    extra: Map::new(),
                },
                extra: Map::new(),
            })
        }));
        Some(MessageContent::Parts(parts))
    } else if message.content.is_empty() && !message.tool_calls.is_empty() {
        None
    } else {
        Some(MessageContent::Text(message.content))
    };

    if role == Role::Assistant {
        // Calls an earlier assistant turn left unanswered are not answered later.
        pending.0.clear();
    }
    let mut tool_calls = Vec::with_capacity(message.tool_calls.len());
    for (position, call) in message.tool_calls.into_iter().enumerate() {
        let id = call
            .id
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| format!("call_{index}_{position}"));
        pending.0.push((id.clone(), call.function.name.clone()));
        tool_calls.push(ToolCall {
            id,
            kind: "function".to_owned(),
            function: FunctionCall {
                name: call.function.name,
                arguments: arguments_to_string(call.function.arguments),
                extra: Map::new(),
            },
            extra: Map::new(),
        });
    }
    let tool_call_id = if role == Role::Tool {
        message
            .tool_call_id
            .or_else(|| pending.answer(message.tool_name.as_deref()))
    } else {
        None
    };
    Ok(ChatMessage {
        role,
        content,
        name: None,
        tool_calls,
        tool_call_id,
        reasoning_content: message.thinking.filter(|text| !text.is_empty()),
        extra: Map::new(),
    })
}

/// Ollama's bare base64 as a `data:` URL, its media type guessed from the first bytes (PNG when
/// they say nothing).
fn data_url(base64: String) -> String {
    let media = [
        ("/9j/", "image/jpeg"),
        ("R0lGOD", "image/gif"),
        ("UklGR", "image/webp"),
        ("iVBORw0KGgo", "image/png"),
    ]
    .iter()
    .find(|(magic, _)| base64.starts_with(magic))
    .map_or("image/png", |(_, media)| media);
    format!("data:{media};base64,{base64}")
}

fn tool_to_openai(tool: ollama::Tool) -> Tool {
    Tool {
        kind: tool.kind,
        function: Some(FunctionDefinition {
            name: tool.function.name,
            description: tool.function.description,
            parameters: tool.function.parameters,
            strict: None,
            extra: Map::new(),
        }),
        extra: Map::new(),
    }
}

fn format_to_openai(format: ollama::Format) -> ResponseFormat {
    match format {
        ollama::Format::Json => ResponseFormat {
            kind: "json_object".to_owned(),
            json_schema: None,
            extra: Map::new(),
        },
        ollama::Format::Schema(schema) => ResponseFormat {
            kind: "json_schema".to_owned(),
            json_schema: Some(JsonSchemaFormat {
                name: "response".to_owned(),
                schema: Some(Value::Object(schema)),
                ..JsonSchemaFormat::default()
            }),
            extra: Map::new(),
        },
    }
}

fn effort_from_think(think: ollama::Think) -> Option<String> {
    match think {
        ollama::Think::Enabled(true) => None,
        ollama::Think::Enabled(false) => Some("none".to_owned()),
        ollama::Think::Level(level) => Some(level),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;
    use crate::from_json;

    /// OpenAI request JSON → the Ollama request sent on (or the error).
    fn check_to_ollama(openai_json: &str, expect: Expect) {
        let request = from_json(openai_json.as_bytes()).unwrap();
        let out = match chat_request_to_ollama(request) {
            Ok(request) => serde_json::to_string_pretty(&request).unwrap(),
            Err(error) => format!("error: {error}"),
        };
        expect.assert_eq(&(out + "\n"));
    }

    /// Ollama request JSON → the OpenAI request sent on (or the error).
    fn check_to_openai(ollama_json: &str, expect: Expect) {
        let request = from_json(ollama_json.as_bytes()).unwrap();
        let out = match chat_request_to_openai(request) {
            Ok(request) => serde_json::to_string_pretty(&request).unwrap(),
            Err(error) => format!("error: {error}"),
        };
        expect.assert_eq(&(out + "\n"));
    }

    #[test]
    fn default_example_to_ollama() {
        // OpenAI API reference, "Create chat completion", example "Default"; `user` is dropped.
        check_to_ollama(
            r#"{"model": "gpt-4.1", "messages": [
                 {"role": "developer", "content": "You are a helpful assistant."},
                 {"role": "user", "content": "Hello!"}], "user": "u-1"}"#,
            expect![[r#"
                {
                  "model": "gpt-4.1",
                  "messages": [
                    {
                      "role": "system",
                      "content": "You are a helpful assistant."
                    },
                    {
                      "role": "user",
                      "content": "Hello!"
                    }
                  ],
                  "stream": false
                }
            "#]],
        );
    }

    #[test]
    fn images_to_ollama() {
        // OpenAI API reference, example "Image input", with the image inlined as a data URL.
        check_to_ollama(
            r#"{"model": "gpt-4.1", "max_tokens": 300, "messages": [{"role": "user", "content": [
                 {"type": "text", "text": "What is in this image?"},
                 {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg", "detail": "high"}},
                 {"type": "text", "text": "Answer briefly."}]}]}"#,
            expect![[r#"
                {
                  "model": "gpt-4.1",
                  "messages": [
                    {
                      "role": "user",
                      "content": "What is in this image?\nAnswer briefly.",
                      "images": [
                        "iVBORw0KGgoAAAANSUhEUg"
                      ]
                    }
                  ],
                  "options": {
                    "num_predict": 300
                  },
                  "stream": false
                }
            "#]],
        );
        // The published example links the image; Ollama needs the bytes.
        check_to_ollama(
            r#"{"model": "gpt-4.1", "messages": [{"role": "user", "content": [
                 {"type": "image_url", "image_url": {"url": "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg"}}]}]}"#,
            expect![[r#"
                error: messages[0]: image "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gf…" is not a base64 `data:` URL; Ollama takes image bytes, and Hearth does not fetch links
            "#]],
        );
        check_to_ollama(
            r#"{"model": "m", "messages": [{"role": "user", "content": [
                 {"type": "image_url", "image_url": {"url": "data:image/svg+xml,<svg/>"}}]}]}"#,
            expect![[r#"
                error: messages[0]: image "data:image/svg+xml,<svg/>" is not a base64 `data:` URL; Ollama takes image bytes, and Hearth does not fetch links
            "#]],
        );
        check_to_ollama(
            r#"{"model": "m", "messages": [{"role": "user", "content": [
                 {"type": "input_audio", "input_audio": {"data": "UklGR", "format": "wav"}}]}]}"#,
            expect![[r#"
                error: messages[0]: a content part of type `input_audio` cannot be sent to Ollama
            "#]],
        );
    }

    #[test]
    fn tool_conversation_to_ollama() {
        // OpenAI function-calling guide: a call, its result, and the tools of the "Functions"
        // example, with every sampling field Ollama has an option for.
        check_to_ollama(
            r#"{
              "model": "gpt-4.1",
              "messages": [
                {"role": "user", "content": "What is the weather like in Paris today?"},
                {"role": "assistant", "content": null, "tool_calls": [
                  {"id": "call_12345xyz", "type": "function",
                   "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris, France\"}"}}]},
                {"role": "tool", "tool_call_id": "call_12345xyz", "content": "14°C, cloudy"}
              ],
              "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get current temperature for a given location.",
                "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}, "strict": true}}],
              "tool_choice": "auto",
              "stream": true,
              "stream_options": {"include_usage": true},
              "max_tokens": 100,
              "max_completion_tokens": 200,
              "temperature": 0.2,
              "top_p": 0.9,
              "seed": 42,
              "stop": ["\n\n"],
              "presence_penalty": 0.5,
              "reasoning_effort": "minimal",
              "response_format": {"type": "json_schema", "json_schema": {"name": "weather", "schema": {"type": "object"}}}
            }"#,
            expect![[r#"
                {
                  "model": "gpt-4.1",
                  "messages": [
                    {
                      "role": "user",
                      "content": "What is the weather like in Paris today?"
                    },
                    {
                      "role": "assistant",
                      "content": "",
                      "tool_calls": [
                        {
                          "id": "call_12345xyz",
                          "function": {
                            "name": "get_weather",
                            "arguments": {
                              "location": "Paris, France"
                            }
                          }
                        }
                      ]
                    },
                    {
                      "role": "tool",
                      "content": "14°C, cloudy",
                      "tool_name": "get_weather",
                      "tool_call_id": "call_12345xyz"
                    }
                  ],
                  "tools": [
                    {
                      "type": "function",
                      "function": {
                        "name": "get_weather",
                        "description": "Get current temperature for a given location.",
                        "parameters": {
                          "type": "object",
                          "properties": {
                            "location": {
                              "type": "string"
                            }
                          },
                          "required": [
                            "location"
                          ]
                        }
                      }
                    }
                  ],
                  "format": {
                    "type": "object"
                  },
                  "options": {
                    "temperature": 0.2,
                    "top_p": 0.9,
                    "seed": 42,
                    "num_predict": 200,
                    "stop": [
                      "\n\n"
                    ],
                    "presence_penalty": 0.5
                  },
                  "stream": true,
                  "think": "low"
                }
            "#]],
        );
    }

    #[test]
    fn tool_choice_to_ollama() {
        let request = |choice: &str| {
            format!(
                r#"{{"model": "m", "messages": [], "tool_choice": {choice}, "tools": [
                     {{"type": "function", "function": {{"name": "a"}}}},
                     {{"type": "function", "function": {{"name": "b"}}}}]}}"#
            )
        };
        check_to_ollama(
            &request(r#""none""#),
            expect![[r#"
                {
                  "model": "m",
                  "messages": [],
                  "stream": false
                }
            "#]],
        );
        check_to_ollama(
            &request(r#"{"type": "function", "function": {"name": "b"}}"#),
            expect![[r#"
                {
                  "model": "m",
                  "messages": [],
                  "tools": [
                    {
                      "type": "function",
                      "function": {
                        "name": "b"
                      }
                    }
                  ],
                  "stream": false
                }
            "#]],
        );
        check_to_ollama(
            &request(r#"{"type": "function", "function": {"name": "c"}}"#),
            expect![[r#"
                error: `tool_choice` names `c`, which is not among the request's tools
            "#]],
        );
        check_to_ollama(
            r#"{"model": "m", "messages": [], "tools": [{"type": "web_search_preview"}]}"#,
            expect![[r#"
                error: tools[0]: tool type `web_search_preview` is not supported; only `function` tools are
            "#]],
        );
    }

    #[test]
    fn hostile_requests_to_ollama() {
        check_to_ollama(
            r#"{"model": "m", "messages": [{"role": "user", "content": "hi"}, {"role": "robot", "content": "beep"}]}"#,
            expect![[r#"
                error: messages[1]: role `robot` is not one of system, developer, user, assistant, tool
            "#]],
        );
        check_to_ollama(
            r#"{"model": "m", "messages": [{"role": "assistant", "tool_calls": [
                 {"id": "c1", "type": "function", "function": {"name": "run", "arguments": "{\"cmd\": \"ls -la"}}]}]}"#,
            expect![[r#"
                error: the arguments of tool call `run` are not valid JSON (EOF while parsing a string at line 1 column 15): "{\"cmd\": \"ls -la"
            "#]],
        );
        check_to_ollama(
            r#"{"model": "m", "messages": [], "n": 3}"#,
            expect![[r#"
                error: `n` = 3 is not supported: Ollama answers with one choice per request
            "#]],
        );
        // Null content, null arguments and a legacy `function` result are read leniently.
        check_to_ollama(
            r#"{"model": "m", "messages": [
                 {"role": "user", "content": null},
                 {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "now", "arguments": null}}]},
                 {"role": "function", "name": "now", "content": "noon"},
                 {"role": "tool", "tool_call_id": "unknown", "content": "?"}]}"#,
            expect![[r#"
                {
                  "model": "m",
                  "messages": [
                    {
                      "role": "user",
                      "content": ""
                    },
                    {
                      "role": "assistant",
                      "content": "",
                      "tool_calls": [
                        {
                          "id": "c1",
                          "function": {
                            "name": "now",
                            "arguments": {}
                          }
                        }
                      ]
                    },
                    {
                      "role": "tool",
                      "content": "noon",
                      "tool_name": "now"
                    },
                    {
                      "role": "tool",
                      "content": "?",
                      "tool_call_id": "unknown"
                    }
                  ],
                  "stream": false
                }
            "#]],
        );
    }

    #[test]
    fn history_example_to_openai() {
        // docs/api.md, "Chat request (With History)": no `stream`, so Ollama's default (true).
        check_to_openai(
            r#"{"model": "llama3.2", "messages": [
                 {"role": "user", "content": "why is the sky blue?"},
                 {"role": "assistant", "content": "due to rayleigh scattering."},
                 {"role": "user", "content": "how is that different than mie scattering?"}]}"#,
            expect![[r#"
                {
                  "model": "llama3.2",
                  "messages": [
                    {
                      "role": "user",
                      "content": "why is the sky blue?"
                    },
                    {
                      "role": "assistant",
                      "content": "due to rayleigh scattering."
                    },
                    {
                      "role": "user",
                      "content": "how is that different than mie scattering?"
                    }
                  ],
                  "stream": true,
                  "stream_options": {
                    "include_usage": true
                  }
                }
            "#]],
        );
    }

    #[test]
    fn images_to_openai() {
        // docs/api.md, "Chat request (with images)" (the base64 shortened), plus a JPEG.
        check_to_openai(
            r#"{"model": "llava", "stream": false, "messages": [{"role": "user", "content": "what is in this image?",
                 "images": ["iVBORw0KGgoAAAANSUhEUgAAAG0AAABmCAYAAADBPx", "/9j/4AAQSkZJRg"]}]}"#,
            expect![[r#"
                {
                  "model": "llava",
                  "messages": [
                    {
                      "role": "user",
                      "content": [
                        {
                          "type": "text",
                          "text": "what is in this image?"
                        },
                        {
                          "type": "image_url",
                          "image_url": {
                            "url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAG0AAABmCAYAAADBPx"
                          }
                        },
                        {
                          "type": "image_url",
                          "image_url": {
                            "url": "data:image/jpeg;base64,/9j/4AAQSkZJRg"
                          }
                        }
                      ]
                    }
                  ],
                  "stream": false
                }
            "#]],
        );
    }

    #[test]
    fn tool_history_to_openai() {
        // docs/api.md, "Chat request (With history, with tools)": results name their tool;
        // two calls of which the second is answered first, options and a schema format.
        check_to_openai(
            r#"{
              "model": "llama3.2",
              "messages": [
                {"role": "user", "content": "what is the weather in Toronto and in Paris?"},
                {"role": "assistant", "content": "", "thinking": "Two cities, two calls.", "tool_calls": [
                  {"function": {"name": "get_temperature", "arguments": {"city": "Toronto"}}},
                  {"function": {"name": "get_conditions", "arguments": {"city": "Paris"}}}]},
                {"role": "tool", "content": "cloudy", "tool_name": "get_conditions"},
                {"role": "tool", "content": "11 degrees celsius", "tool_name": "get_temperature"}
              ],
              "stream": false,
              "tools": [{"type": "function", "function": {"name": "get_temperature", "description": "Get the temperature in a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
              "format": {"type": "object", "properties": {"answer": {"type": "string"}}},
              "options": {"temperature": 0, "seed": 101, "num_predict": 128, "num_ctx": 8192, "top_k": 20, "stop": ["user:"]},
              "keep_alive": "24h",
              "think": false
            }"#,
            expect![[r#"
                {
                  "model": "llama3.2",
                  "messages": [
                    {
                      "role": "user",
                      "content": "what is the weather in Toronto and in Paris?"
                    },
                    {
                      "role": "assistant",
                      "tool_calls": [
                        {
                          "id": "call_1_0",
                          "type": "function",
                          "function": {
                            "name": "get_temperature",
                            "arguments": "{\"city\":\"Toronto\"}"
                          }
                        },
                        {
                          "id": "call_1_1",
                          "type": "function",
                          "function": {
                            "name": "get_conditions",
                            "arguments": "{\"city\":\"Paris\"}"
                          }
                        }
                      ],
                      "reasoning_content": "Two cities, two calls."
                    },
                    {
                      "role": "tool",
                      "content": "cloudy",
                      "tool_call_id": "call_1_1"
                    },
                    {
                      "role": "tool",
                      "content": "11 degrees celsius",
                      "tool_call_id": "call_1_0"
                    }
                  ],
                  "tools": [
                    {
                      "type": "function",
                      "function": {
                        "name": "get_temperature",
                        "description": "Get the temperature in a city",
                        "parameters": {
                          "type": "object",
                          "properties": {
                            "city": {
                              "type": "string"
                            }
                          },
                          "required": [
                            "city"
                          ]
                        }
                      }
                    }
                  ],
                  "stream": false,
                  "max_tokens": 128,
                  "temperature": 0.0,
                  "stop": [
                    "user:"
                  ],
                  "seed": 101,
                  "response_format": {
                    "type": "json_schema",
                    "json_schema": {
                      "name": "response",
                      "schema": {
                        "type": "object",
                        "properties": {
                          "answer": {
                            "type": "string"
                          }
                        }
                      }
                    }
                  },
                  "reasoning_effort": "none"
                }
            "#]],
        );
    }

    #[test]
    fn hostile_requests_to_openai() {
        check_to_openai(
            r#"{"model": "m", "messages": [{"role": "narrator", "content": "Once upon a time"}]}"#,
            expect![[r#"
                error: messages[0]: role `narrator` is not one of system, user, assistant, tool
            "#]],
        );
        check_to_openai(
            r#"{"model": "m", "messages": [], "options": {"num_predict": 1000000000000}}"#,
            expect![[r#"
                error: `options.num_predict` = 1000000000000 is out of range (at most 4294967295, or negative for no limit)
            "#]],
        );
        // -1 (no limit) sends no limit; JSON mode; a level of thinking; a tool result with no
        // call to answer keeps no id.
        check_to_openai(
            r#"{"model": "m", "stream": false, "format": "json", "think": "high", "options": {"num_predict": -1},
                "messages": [{"role": "tool", "content": "orphan", "tool_name": "x"}]}"#,
            expect![[r#"
                {
                  "model": "m",
                  "messages": [
                    {
                      "role": "tool",
                      "content": "orphan"
                    }
                  ],
                  "stream": false,
                  "response_format": {
                    "type": "json_object"
                  },
                  "reasoning_effort": "high"
                }
            "#]],
        );
    }
}
