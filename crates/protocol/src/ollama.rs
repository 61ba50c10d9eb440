//! Ollama's native API as it travels, after its published documentation (`docs/api.md` and
//! `docs/openapi.yaml` in ollama/ollama): `/api/chat`, `/api/generate`, `/api/tags`, `/api/ps`,
//! `/api/version` and the error body.
//!
//! Where Ollama differs from OpenAI, and why it matters to the conversions: `stream` defaults to
//! *true*; tool-call `arguments` are a JSON *object*; images are bare base64 strings; a tool
//! result names its tool (`tool_name`) rather than a call id; durations are nanoseconds; the
//! answer streams as NDJSON, one JSON object per line, ending with `"done": true`. Types keep the
//! fields they do not name in `extra`, so an Ollama-to-Ollama pass-through loses nothing.

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Number, Value};

use crate::ProtocolError;
use crate::parse::{from_json, from_value};
use crate::serde_util::{null_as_default, string_enum, string_or_strings};

string_enum! {
    /// Who wrote a message.
    pub enum Role {
        System = "system",
        User = "user",
        Assistant = "assistant",
        Tool = "tool",
    }
}

string_enum! {
    /// Why generation ended (`done_reason`).
    pub enum DoneReason {
        Stop = "stop",
        Length = "length",
        /// An empty request that only loaded the model.
        Load = "load",
        /// An empty request with `keep_alive: 0` that unloaded it.
        Unload = "unload",
    }
}

fn function_type() -> String {
    "function".to_owned()
}

// ---------------------------------------------------------------------------------------------
// /api/chat

/// `POST /api/chat`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub model: String,
    /// Empty to load the model (or, with `keep_alive: 0`, to unload it).
    #[serde(default, deserialize_with = "null_as_default")]
    pub messages: Vec<Message>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tools: Vec<Tool>,
    #[serde(
        default,
        deserialize_with = "optional_format",
        skip_serializing_if = "Option::is_none"
    )]
    pub format: Option<Format>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Options>,
    /// Absent means `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<KeepAlive>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub think: Option<Think>,
    /// `logprobs`, `top_logprobs` and whatever comes next, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatRequest {
    /// Whether the answer is streamed (absent means yes).
    pub fn streams(&self) -> bool {
        self.stream.unwrap_or(true)
    }
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    #[serde(default, deserialize_with = "null_as_default")]
    pub content: String,
    /// The model's reasoning (responses), or an earlier turn's (requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    /// Base64 image data, no `data:` prefix.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub images: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tool_calls: Vec<ToolCall>,
    /// On `tool` messages: the tool whose result this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    /// On `tool` messages, in newer Ollama: the call this result answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Message {
    /// A message with text content and nothing else.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message {
            role,
            content: content.into(),
            thinking: None,
            images: Vec::new(),
            tool_calls: Vec::new(),
            tool_name: None,
            tool_call_id: None,
            extra: Map::new(),
        }
    }
}

/// An empty assistant message: what a response without `message` (older final chunks) reads as.
impl Default for Message {
    fn default() -> Self {
        Message::new(Role::Assistant, "")
    }
}

/// A tool call; `arguments` is a JSON object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Sent by newer Ollama; absent in older versions and in the published examples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub function: ToolCallFunction,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The function half of a [`ToolCall`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallFunction {
    /// Position among the message's calls, sent by newer Ollama.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub arguments: Map<String, Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A tool the model may call (the same shape as OpenAI's function tools).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    pub function: ToolFunction,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A function tool's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolFunction {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON Schema of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `format`: JSON mode or a JSON Schema the answer must follow.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    Json,
    Schema(Map<String, Value>),
}

impl Serialize for Format {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Format::Json => serializer.serialize_str("json"),
            Format::Schema(schema) => schema.serialize(serializer),
        }
    }
}

/// `"json"`, a schema object, or nothing (`null`, and the `""` Ollama's Go client sends).
fn optional_format<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Format>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::String(text) if text.is_empty() => Ok(None),
        Value::String(text) if text == "json" => Ok(Some(Format::Json)),
        Value::Object(schema) => Ok(Some(Format::Schema(schema))),
        _ => Err(de::Error::custom(
            "`format` must be \"json\" or a JSON schema object",
        )),
    }
}

/// Model options (`options`): the common ones by name, the rest (`num_gpu`, `mirostat`…) kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Options {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Context window in tokens; takes effect when the model is loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_ctx: Option<u64>,
    /// Most tokens to generate; -1 is unlimited, -2 fills the context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_predict: Option<i64>,
    #[serde(
        default,
        deserialize_with = "string_or_strings",
        skip_serializing_if = "Option::is_none"
    )]
    pub stop: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_penalty: Option<f64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Options {
    pub fn is_empty(&self) -> bool {
        *self == Options::default()
    }
}

/// `keep_alive`: a duration (`"5m"`, `"24h"`) or seconds (`0` unloads, negative keeps forever).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "a duration string like \"5m\" or a number of seconds"
)]
pub enum KeepAlive {
    Duration(String),
    Seconds(Number),
}

/// `think`: on/off, or a level (`"low"`, `"medium"`, `"high"`) for models that have levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, expecting = "a boolean or \"low\", \"medium\", \"high\"")]
pub enum Think {
    Enabled(bool),
    Level(String),
}

/// A `/api/chat` response: the whole answer, or one NDJSON chunk of a stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    #[serde(default)]
    pub model: String,
    /// RFC 3339.
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub message: Message,
    #[serde(default)]
    pub done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_reason: Option<DoneReason>,
    #[serde(flatten)]
    pub metrics: Metrics,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The statistics of the final response; durations in nanoseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics {
    /// Everything, loading included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_duration: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_duration: Option<u64>,
    /// Prompt tokens evaluated (cached ones are not counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_eval_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_eval_duration: Option<u64>,
    /// Tokens generated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_duration: Option<u64>,
}

// ---------------------------------------------------------------------------------------------
// /api/generate

/// `POST /api/generate`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    pub model: String,
    /// Absent or empty to load the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Text after the insertion point (fill-in-the-middle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub images: Vec<String>,
    #[serde(
        default,
        deserialize_with = "optional_format",
        skip_serializing_if = "Option::is_none"
    )]
    pub format: Option<Format>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Options>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// A prompt template overriding the model's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Deprecated: token ids returned by an earlier call, as short memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Vec<i64>>,
    /// Absent means `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// The prompt is already templated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<KeepAlive>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub think: Option<Think>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl GenerateRequest {
    /// Whether the answer is streamed (absent means yes).
    pub fn streams(&self) -> bool {
        self.stream.unwrap_or(true)
    }
}

/// A `/api/generate` response or NDJSON chunk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerateResponse {
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub response: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    #[serde(default)]
    pub done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_reason: Option<DoneReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Vec<i64>>,
    #[serde(flatten)]
    pub metrics: Metrics,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// ---------------------------------------------------------------------------------------------
// /api/tags, /api/ps, /api/version, errors

/// `GET /api/tags`: the models on disk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub models: Vec<ModelSummary>,
}

/// One model of `/api/tags`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub modified_at: String,
    /// Bytes on disk.
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub digest: String,
    #[serde(default)]
    pub details: ModelDetails,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `details` of a model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_model: Option<String>,
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub family: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub families: Vec<String>,
    /// `"8.0B"`.
    #[serde(default)]
    pub parameter_size: String,
    /// `"Q4_K_M"`.
    #[serde(default)]
    pub quantization_level: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /api/ps`: the models in memory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PsResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub models: Vec<RunningModel>,
}

/// One model of `/api/ps`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunningModel {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub model: String,
    /// Bytes in memory.
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub digest: String,
    #[serde(default)]
    pub details: ModelDetails,
    /// RFC 3339: when the model unloads unless used.
    #[serde(default)]
    pub expires_at: String,
    /// Bytes of `size` in GPU memory.
    #[serde(default)]
    pub size_vram: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /api/version`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionResponse {
    pub version: String,
}

/// `{"error": "..."}`, as a whole body or as a line of a stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub error: String,
}

impl ErrorResponse {
    pub fn new(error: impl Into<String>) -> Self {
        ErrorResponse {
            error: error.into(),
        }
    }
}

/// One NDJSON line of a stream: a chunk, or the error Ollama writes in place of one.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamLine<T> {
    Chunk(T),
    Error(String),
}

impl<T: DeserializeOwned> StreamLine<T> {
    /// Parse one line (a [`ChatResponse`] or [`GenerateResponse`] chunk, or an error).
    pub fn parse(line: &str) -> Result<StreamLine<T>, ProtocolError> {
        let mut object: Map<String, Value> = from_json(line.as_bytes())?;
        match object.remove("error") {
            Some(Value::String(error)) => Ok(StreamLine::Error(error)),
            Some(other) => Ok(StreamLine::Error(other.to_string())),
            None => from_value(Value::Object(object)).map(StreamLine::Chunk),
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    /// Parse `json` as `T` and write it back: what a pass-through sends on.
    fn check<T: DeserializeOwned + Serialize>(json: &str, expect: Expect) {
        let out = match from_json::<T>(json.as_bytes()) {
            Ok(value) => serde_json::to_string_pretty(&value).unwrap(),
            Err(error) => format!("error: {error}"),
        };
        expect.assert_eq(&(out + "\n"));
    }

    #[test]
    fn chat_request_with_tools_options_and_think() {
        // docs/api.md, "Chat request (with tools)", with options from "Chat request
        // (Reproducible outputs)", `think` from openapi.yaml's "Thinking" sample, and an option
        // Hearth does not name (`num_gpu`).
        check::<ChatRequest>(
            r#"{
              "model": "llama3.2",
              "messages": [{"role": "user", "content": "What is the weather today in Paris?"}],
              "stream": false,
              "tools": [{"type": "function", "function": {
                "name": "get_current_weather",
                "description": "Get the current weather for a location",
                "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}
              }}],
              "options": {"seed": 101, "temperature": 0, "stop": "\n", "num_gpu": 1},
              "think": "low",
              "keep_alive": "24h"
            }"#,
            expect![[r#"
                {
                  "model": "llama3.2",
                  "messages": [
                    {
                      "role": "user",
                      "content": "What is the weather today in Paris?"
                    }
                  ],
                  "tools": [
                    {
                      "type": "function",
                      "function": {
                        "name": "get_current_weather",
                        "description": "Get the current weather for a location",
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
                  "options": {
                    "temperature": 0.0,
                    "seed": 101,
                    "stop": [
                      "\n"
                    ],
                    "num_gpu": 1
                  },
                  "stream": false,
                  "keep_alive": "24h",
                  "think": "low"
                }
            "#]],
        );
    }

    #[test]
    fn chat_request_formats_and_keep_alive_numbers() {
        // docs/api.md, "Unload a model": `keep_alive: 0`; Go clients send `"format": ""`.
        check::<ChatRequest>(
            r#"{"model": "llama3.2", "messages": [], "keep_alive": 0, "format": ""}"#,
            expect![[r#"
                {
                  "model": "llama3.2",
                  "messages": [],
                  "keep_alive": 0
                }
            "#]],
        );
        check::<ChatRequest>(
            r#"{"model": "m", "messages": null, "format": "json", "think": true, "keep_alive": -1}"#,
            expect![[r#"
                {
                  "model": "m",
                  "messages": [],
                  "format": "json",
                  "keep_alive": -1,
                  "think": true
                }
            "#]],
        );
        check::<ChatRequest>(
            r#"{"model": "m", "format": "yaml"}"#,
            expect![[r#"
                error: invalid JSON at `format`: `format` must be "json" or a JSON schema object at line 1 column 32
            "#]],
        );
        check::<ChatRequest>(
            r#"{"model": "m", "keep_alive": [1]}"#,
            expect![[r#"
                error: invalid JSON at `keep_alive`: a duration string like "5m" or a number of seconds at line 1 column 33
            "#]],
        );
    }

    #[test]
    fn chat_response_with_tool_calls_and_metrics() {
        // docs/api.md, "Chat request (with tools)", response.
        check::<ChatResponse>(
            r#"{
              "model": "llama3.2",
              "created_at": "2024-07-22T20:33:28.123648Z",
              "message": {"role": "assistant", "content": "", "tool_calls": [
                {"function": {"name": "get_current_weather", "arguments": {"format": "celsius", "location": "Paris, FR"}}}
              ]},
              "done_reason": "stop",
              "done": true,
              "total_duration": 885095291,
              "load_duration": 3753500,
              "prompt_eval_count": 122,
              "prompt_eval_duration": 328493000,
              "eval_count": 33,
              "eval_duration": 552222000
            }"#,
            expect![[r#"
                {
                  "model": "llama3.2",
                  "created_at": "2024-07-22T20:33:28.123648Z",
                  "message": {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                      {
                        "function": {
                          "name": "get_current_weather",
                          "arguments": {
                            "format": "celsius",
                            "location": "Paris, FR"
                          }
                        }
                      }
                    ]
                  },
                  "done": true,
                  "done_reason": "stop",
                  "total_duration": 885095291,
                  "load_duration": 3753500,
                  "prompt_eval_count": 122,
                  "prompt_eval_duration": 328493000,
                  "eval_count": 33,
                  "eval_duration": 552222000
                }
            "#]],
        );
    }

    #[test]
    fn stream_chunks_old_and_new() {
        // docs/api.md, "Chat Request (Streaming)": a chunk with `"images": null`, and the final
        // chunk, which in the published example has no `message` at all.
        check::<ChatResponse>(
            r#"{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The","images":null},"done":false}"#,
            expect![[r#"
                {
                  "model": "llama3.2",
                  "created_at": "2023-08-04T08:52:19.385406455-07:00",
                  "message": {
                    "role": "assistant",
                    "content": "The"
                  },
                  "done": false
                }
            "#]],
        );
        check::<ChatResponse>(
            r#"{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","done":true,"total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000,"logprobs":null}"#,
            expect![[r#"
                {
                  "model": "llama3.2",
                  "created_at": "2023-08-04T19:22:45.499127Z",
                  "message": {
                    "role": "assistant",
                    "content": ""
                  },
                  "done": true,
                  "total_duration": 4883583458,
                  "load_duration": 1334875,
                  "prompt_eval_count": 26,
                  "prompt_eval_duration": 342546000,
                  "eval_count": 282,
                  "eval_duration": 4535599000,
                  "logprobs": null
                }
            "#]],
        );
    }

    #[test]
    fn hostile_chat_bodies() {
        check::<ChatResponse>(
            r#"{"message":{"role":"assistant","content":null,"tool_calls":[{"function":{"name":"f","arguments":"{\"a\":1}"}}]}}"#,
            expect![[r#"
                error: invalid JSON at `message.tool_calls[0].function.arguments`: invalid type: string "{\"a\":1}", expected a map at line 1 column 107
            "#]],
        );
        check::<ChatResponse>(
            r#"{"eval_count": 1e30}"#,
            expect![[r#"
                error: invalid JSON: invalid type: floating point `1e+30`, expected u64 at line 1 column 20
            "#]],
        );
        check::<ChatRequest>(
            r#"{"model": "m", "messages": [{"content": "no role"}]}"#,
            expect![[r#"
                error: invalid JSON at `messages[0]`: missing field `role` at line 1 column 50
            "#]],
        );
    }

    #[test]
    fn generate_request_and_response() {
        // docs/api.md, "Request (with suffix)" and its response.
        check::<GenerateRequest>(
            r#"{"model": "codellama:code", "prompt": "def compute_gcd(a, b):", "suffix": "    return result", "options": {"temperature": 0}, "stream": false}"#,
            expect![[r#"
                {
                  "model": "codellama:code",
                  "prompt": "def compute_gcd(a, b):",
                  "suffix": "    return result",
                  "options": {
                    "temperature": 0.0
                  },
                  "stream": false
                }
            "#]],
        );
        check::<GenerateResponse>(
            r#"{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","response":"","done":true,"context":[1,2,3],"total_duration":10706818083,"load_duration":6338219291,"prompt_eval_count":26,"prompt_eval_duration":130079000,"eval_count":259,"eval_duration":4232710000}"#,
            expect![[r#"
                {
                  "model": "llama3.2",
                  "created_at": "2023-08-04T19:22:45.499127Z",
                  "response": "",
                  "done": true,
                  "context": [
                    1,
                    2,
                    3
                  ],
                  "total_duration": 10706818083,
                  "load_duration": 6338219291,
                  "prompt_eval_count": 26,
                  "prompt_eval_duration": 130079000,
                  "eval_count": 259,
                  "eval_duration": 4232710000
                }
            "#]],
        );
    }

    #[test]
    fn tags_ps_version_and_errors() {
        // openapi.yaml, the /api/tags and /api/ps examples.
        let tags = r#"{"models":[{"name":"gemma4","model":"gemma4","modified_at":"2025-10-03T23:34:03.409490317-07:00","size":9608350245,"digest":"c6eb396dbd5992bbe3f5cdb947e8bbc0ee413d7c17e2beaae69f5d569cf982eb","details":{"format":"gguf","family":"gemma4","families":["gemma4"],"parameter_size":"8.0B","quantization_level":"Q4_K_M"}}]}"#;
        let parsed: ListResponse = from_json(tags.as_bytes()).unwrap();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), tags);

        let ps = r#"{"models":[{"name":"gemma4","model":"gemma4","size":6591830464,"digest":"c6eb396dbd5992bbe3f5cdb947e8bbc0ee413d7c17e2beaae69f5d569cf982eb","details":{"parent_model":"","format":"gguf","family":"gemma4","families":["gemma4"],"parameter_size":"8.0B","quantization_level":"Q4_K_M"},"expires_at":"2025-10-17T16:47:07.93355-07:00","size_vram":5333539264,"context_length":4096}]}"#;
        let parsed: PsResponse = from_json(ps.as_bytes()).unwrap();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), ps);

        // Older servers send `"families": null`.
        let parsed: ListResponse =
            from_json(br#"{"models":[{"name":"a","details":{"families":null}}]}"#).unwrap();
        assert!(parsed.models[0].details.families.is_empty());

        let version: VersionResponse = from_json(br#"{"version":"0.12.6"}"#).unwrap();
        assert_eq!(version.version, "0.12.6");
        assert_eq!(
            serde_json::to_string(&ErrorResponse::new("model \"x\" not found")).unwrap(),
            r#"{"error":"model \"x\" not found"}"#
        );
    }

    #[test]
    fn stream_lines_tell_chunks_from_errors() {
        let show = |line: &str| match StreamLine::<ChatResponse>::parse(line) {
            Ok(StreamLine::Chunk(chunk)) => format!("chunk {:?}", chunk.message.content),
            Ok(StreamLine::Error(error)) => format!("error {error:?}"),
            Err(error) => format!("invalid: {error}"),
        };
        assert_eq!(
            show(r#"{"model":"m","message":{"role":"assistant","content":"Hi"},"done":false}"#),
            r#"chunk "Hi""#
        );
        assert_eq!(
            show(r#"{"error":"an error was encountered while running the model"}"#),
            r#"error "an error was encountered while running the model""#
        );
        assert_eq!(
            show(r#"{"done":"yes"}"#),
            r#"invalid: invalid JSON at `done`: invalid type: string "yes", expected a boolean"#
        );
    }
}
