//! `POST /v1/chat/completions`: the request, the response, the stream chunk and the error body,
//! after OpenAI's API reference ("Create chat completion", "The chat completion object", "The
//! chat completion chunk object") plus what local servers add: `reasoning_content` (llama-server,
//! vLLM, LM Studio) and llama-server's `timings`, kept in `extra` and read with [`Timings`].

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ProtocolError;
use crate::parse::{from_json, from_value};
use crate::serde_util::{null_as_default, string_enum};

string_enum! {
    /// Who wrote a message.
    pub enum Role {
        System = "system",
        /// OpenAI's newer name for `system` in front of reasoning models.
        Developer = "developer",
        User = "user",
        Assistant = "assistant",
        Tool = "tool",
        /// The deprecated predecessor of `tool`.
        Function = "function",
    }
}

string_enum! {
    /// Why the model stopped.
    pub enum FinishReason {
        Stop = "stop",
        Length = "length",
        ToolCalls = "tool_calls",
        ContentFilter = "content_filter",
        FunctionCall = "function_call",
    }
}

string_enum! {
    /// `tool_choice` given as a word.
    pub enum ToolChoiceMode {
        None = "none",
        Auto = "auto",
        Required = "required",
    }
}

fn function_type() -> String {
    "function".to_owned()
}

fn assistant() -> Role {
    Role::Assistant
}

// ---------------------------------------------------------------------------------------------
// Request

/// A Chat Completions request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionRequest {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tools: Vec<Tool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Absent means `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Deprecated by OpenAI in favour of `max_completion_tokens`; what local servers read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// `none`, `minimal`, `low`, `medium`, `high`… kept as a string: the set keeps growing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// Every other field (`user`, `logprobs`, `metadata`, backend extensions…), kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatCompletionRequest {
    /// Whether the answer is streamed (absent means no).
    pub fn streams(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// Whether the final stream chunk must carry usage.
    pub fn wants_stream_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|options| options.include_usage)
            .unwrap_or(false)
    }
}

/// `stream_options`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `stop`: one sequence or several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, expecting = "a string or an array of strings")]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

impl Stop {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Stop::One(one) => vec![one],
            Stop::Many(many) => many,
        }
    }
}

/// `response_format`: `{"type": "text" | "json_object" | "json_schema", "json_schema": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseFormat {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<JsonSchemaFormat>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `json_schema` of a `response_format`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonSchemaFormat {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One message of the conversation, of any role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    /// A string or content parts; `null` (or absent) on assistant messages that only call tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<MessageContent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tool_calls: Vec<ToolCall>,
    /// On `tool` messages: the call this result answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// The reasoning of an earlier assistant turn, as local servers accept it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatMessage {
    /// A message with text content and nothing else.
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        ChatMessage {
            role,
            content: Some(MessageContent::Text(text.into())),
            name: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
            reasoning_content: None,
            extra: Map::new(),
        }
    }
}

/// `content`: a plain string or an array of parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MessageContent {
    Text(String),
    Parts(Vec<ContentPart>),
}

impl<'de> Deserialize<'de> for MessageContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContentVisitor;

        impl<'de> Visitor<'de> for ContentVisitor {
            type Value = MessageContent;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or an array of content parts")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(MessageContent::Text(text.to_owned()))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
                Ok(MessageContent::Text(text))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut parts = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(part) = seq.next_element()? {
                    parts.push(part);
                }
                Ok(MessageContent::Parts(parts))
            }
        }

        deserializer.deserialize_any(ContentVisitor)
    }
}

/// One part of an array `content`.
#[derive(Debug, Clone, PartialEq)]
pub enum ContentPart {
    Text(TextPart),
    ImageUrl(ImageUrlPart),
    /// Any other part (`input_audio`, `file`…), kept as sent, `type` included.
    Other(Map<String, Value>),
}

impl ContentPart {
    /// The part's `type`.
    pub fn kind(&self) -> &str {
        match self {
            ContentPart::Text(_) => "text",
            ContentPart::ImageUrl(_) => "image_url",
            ContentPart::Other(map) => map.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// `{"type": "text", "text": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextPart {
    pub text: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type": "image_url", "image_url": {"url": …, "detail": …}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageUrlPart {
    pub image_url: ImageUrl,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An image: an `https:` link or a `data:image/png;base64,…` URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageUrl {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    part: &'a T,
}

impl Serialize for ContentPart {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ContentPart::Text(part) => Tagged { kind: "text", part }.serialize(serializer),
            ContentPart::ImageUrl(part) => Tagged {
                kind: "image_url",
                part,
            }
            .serialize(serializer),
            ContentPart::Other(map) => map.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ContentPart {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        let kind = match map.get("type") {
            Some(Value::String(kind)) => kind.clone(),
            _ => return Err(de::Error::custom("a content part needs a string `type`")),
        };
        let without_type = |mut map: Map<String, Value>| {
            map.remove("type");
            Value::Object(map)
        };
        match kind.as_str() {
            "text" => serde_json::from_value(without_type(map))
                .map(ContentPart::Text)
                .map_err(|error| de::Error::custom(format!("`text` content part: {error}"))),
            "image_url" => serde_json::from_value(without_type(map))
                .map(ContentPart::ImageUrl)
                .map_err(|error| de::Error::custom(format!("`image_url` content part: {error}"))),
            _ => Ok(ContentPart::Other(map)),
        }
    }
}

/// A tool call made by the assistant; `function.arguments` is a JSON *string*.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    pub function: FunctionCall,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The function half of a [`ToolCall`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    pub name: String,
    /// JSON text, e.g. `"{\"location\": \"Boston, MA\"}"`; `null` reads as empty.
    #[serde(default, deserialize_with = "null_as_default")]
    pub arguments: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A tool the model may call. Only `function` tools carry a `function`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionDefinition>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A function tool's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionDefinition {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON Schema of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `tool_choice`: a word, a named function, or a newer form kept as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolChoice {
    Mode(ToolChoiceMode),
    Function(NamedToolChoice),
    Other(Value),
}

/// `{"type": "function", "function": {"name": …}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedToolChoice {
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    pub function: FunctionName,
}

/// `{"name": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionName {
    pub name: String,
}

// ---------------------------------------------------------------------------------------------
// Response

/// A non-streamed answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionResponse {
    #[serde(default)]
    pub id: String,
    #[serde(default = "completion_object")]
    pub object: String,
    #[serde(default)]
    pub created: u64,
    #[serde(default)]
    pub model: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub choices: Vec<Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// `system_fingerprint`, `service_tier`, llama-server's `timings`…
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn completion_object() -> String {
    "chat.completion".to_owned()
}

impl ChatCompletionResponse {
    /// llama-server's `timings`, when the backend sent them.
    pub fn timings(&self) -> Option<Timings> {
        timings_in(&self.extra)
    }
}

/// One choice of a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    #[serde(default)]
    pub index: u32,
    pub message: ResponseMessage,
    /// Written as `null` while unknown, as OpenAI does.
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The assistant's message in a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseMessage {
    #[serde(default = "assistant")]
    pub role: Role,
    /// `null` when the answer is only tool calls.
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tool_calls: Vec<ToolCall>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Token counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
    /// `prompt_tokens_details`, `completion_tokens_details`…
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// llama-server's `timings` (milliseconds), from which tokens per second follow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_n: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_per_token_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_per_second: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_n: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_per_token_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_per_second: Option<f64>,
    /// `cache_n` and whatever else the server adds.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The key under which llama-server puts [`Timings`].
pub const TIMINGS_KEY: &str = "timings";

fn timings_in(extra: &Map<String, Value>) -> Option<Timings> {
    extra
        .get(TIMINGS_KEY)
        .and_then(|value| Timings::deserialize(value).ok())
}

// ---------------------------------------------------------------------------------------------
// Stream

/// One `data:` event of a streamed answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionChunk {
    #[serde(default)]
    pub id: String,
    #[serde(default = "chunk_object")]
    pub object: String,
    #[serde(default)]
    pub created: u64,
    #[serde(default)]
    pub model: String,
    /// Empty on the usage chunk that ends a stream with `include_usage`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub choices: Vec<ChunkChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn chunk_object() -> String {
    "chat.completion.chunk".to_owned()
}

impl ChatCompletionChunk {
    /// llama-server's `timings`, on the last chunk.
    pub fn timings(&self) -> Option<Timings> {
        timings_in(&self.extra)
    }
}

/// One choice of a chunk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChunkChoice {
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub delta: Delta,
    /// Written as `null` until the last chunk, as OpenAI does.
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What a chunk adds to the message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tool_calls: Vec<ToolCallDelta>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A fragment of a tool call: the first names it, the next ones append to `arguments`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolCallDelta {
    #[serde(default)]
    pub index: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionCallDelta>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The function half of a [`ToolCallDelta`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallDelta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
}

/// What one `data:` payload of a stream holds: a chunk, or an error a server sends mid-stream
/// (llama-server, vLLM) in place of one.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamData {
    Chunk(ChatCompletionChunk),
    Error(ErrorBody),
}

impl StreamData {
    /// Parse the data of one SSE event (not `[DONE]`, which the framing layer reports).
    pub fn parse(data: &str) -> Result<StreamData, ProtocolError> {
        let mut object: Map<String, Value> = from_json(data.as_bytes())?;
        match object.remove("error") {
            Some(error) => Ok(StreamData::Error(ErrorBody::from_value(error))),
            None => from_value(Value::Object(object)).map(StreamData::Chunk),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

/// `{"error": {"message", "type", "param", "code"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

impl ErrorResponse {
    /// An error of `kind` (`invalid_request_error`, `server_error`…) saying `message`.
    pub fn new(message: impl Into<String>, kind: impl Into<String>) -> Self {
        ErrorResponse {
            error: ErrorBody {
                message: message.into(),
                kind: kind.into(),
                param: None,
                code: None,
                extra: Map::new(),
            },
        }
    }
}

/// The body of an [`ErrorResponse`]. `param` and `code` are written as `null` when unknown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub message: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub param: Option<String>,
    /// A string for OpenAI, a number for some local servers.
    #[serde(default)]
    pub code: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ErrorBody {
    /// Read an `error` value however a server shaped it: the object, or a bare string.
    pub fn from_value(value: Value) -> ErrorBody {
        match value {
            Value::String(message) => ErrorResponse::new(message, "server_error").error,
            other => ErrorBody::deserialize(&other)
                .unwrap_or_else(|_| ErrorResponse::new(other.to_string(), "server_error").error),
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    /// Parse `json` as `T` and write it back: what a pass-through sends on.
    fn check<T: serde::de::DeserializeOwned + Serialize>(json: &str, expect: Expect) {
        let out = match from_json::<T>(json.as_bytes()) {
            Ok(value) => serde_json::to_string_pretty(&value).unwrap(),
            Err(error) => format!("error: {error}"),
        };
        expect.assert_eq(&(out + "\n"));
    }

    #[test]
    fn request_round_trips_with_every_unknown_field() {
        // OpenAI API reference, "Create chat completion", example "Image input", plus fields
        // Hearth does not name (`user`, `logprobs`, `metadata`) and a part type it does not know.
        check::<ChatCompletionRequest>(
            r#"{
              "model": "gpt-4.1",
              "messages": [
                {"role": "developer", "content": "You are a helpful assistant."},
                {"role": "user", "content": [
                  {"type": "text", "text": "What is in this image?"},
                  {"type": "image_url", "image_url": {"url": "https://upload.wikimedia.org/a.jpg", "detail": "low"}},
                  {"type": "input_audio", "input_audio": {"data": "UklGR", "format": "wav"}}
                ]}
              ],
              "max_tokens": 300,
              "user": "user-1234",
              "logprobs": true,
              "metadata": {"k": "v"},
              "stop": "\n"
            }"#,
            expect![[r#"
                {
                  "model": "gpt-4.1",
                  "messages": [
                    {
                      "role": "developer",
                      "content": "You are a helpful assistant."
                    },
                    {
                      "role": "user",
                      "content": [
                        {
                          "type": "text",
                          "text": "What is in this image?"
                        },
                        {
                          "type": "image_url",
                          "image_url": {
                            "url": "https://upload.wikimedia.org/a.jpg",
                            "detail": "low"
                          }
                        },
                        {
                          "type": "input_audio",
                          "input_audio": {
                            "data": "UklGR",
                            "format": "wav"
                          }
                        }
                      ]
                    }
                  ],
                  "max_tokens": 300,
                  "stop": "\n",
                  "user": "user-1234",
                  "logprobs": true,
                  "metadata": {
                    "k": "v"
                  }
                }
            "#]],
        );
    }

    #[test]
    fn request_with_tools_and_named_tool_choice() {
        // OpenAI API reference, "Create chat completion", example "Functions".
        check::<ChatCompletionRequest>(
            r#"{
              "model": "gpt-4.1",
              "messages": [{"role": "user", "content": "What is the weather like in Boston today?"}],
              "tools": [{"type": "function", "function": {
                "name": "get_current_weather",
                "description": "Get the current weather in a given location",
                "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}
              }}],
              "tool_choice": {"type": "function", "function": {"name": "get_current_weather"}}
            }"#,
            expect![[r#"
                {
                  "model": "gpt-4.1",
                  "messages": [
                    {
                      "role": "user",
                      "content": "What is the weather like in Boston today?"
                    }
                  ],
                  "tools": [
                    {
                      "type": "function",
                      "function": {
                        "name": "get_current_weather",
                        "description": "Get the current weather in a given location",
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
                  "tool_choice": {
                    "type": "function",
                    "function": {
                      "name": "get_current_weather"
                    }
                  }
                }
            "#]],
        );
    }

    #[test]
    fn hostile_requests_get_precise_errors() {
        check::<ChatCompletionRequest>(
            r#"{"messages": []}"#,
            expect![[r#"
                error: invalid JSON: missing field `model` at line 1 column 16
            "#]],
        );
        check::<ChatCompletionRequest>(
            r#"{"model": "m", "messages": [{"role": "user", "content": 42}]}"#,
            expect![[r#"
                error: invalid JSON at `messages[0].content`: invalid type: integer `42`, expected a string or an array of content parts at line 1 column 58
            "#]],
        );
        check::<ChatCompletionRequest>(
            r#"{"model": "m", "messages": [], "max_tokens": 99999999999999999999999}"#,
            expect![[r#"
                error: invalid JSON at `max_tokens`: invalid type: floating point `1e+23`, expected u32 at line 1 column 68
            "#]],
        );
        check::<ChatCompletionRequest>(
            r#"{"model": "m", "messages": [], "temperature": 1e999}"#,
            expect![[r#"
                error: invalid JSON at `temperature`: number out of range at line 1 column 51
            "#]],
        );
        check::<ChatCompletionRequest>(
            r#"{"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]}"#,
            expect![[r#"
                error: invalid JSON at `messages[0].content[0]`: `text` content part: missing field `text` at line 1 column 74
            "#]],
        );
        check::<ChatCompletionRequest>(
            r#"{"model": "m", "messages": [{"role": "user", "content": [{"text": "no type"}]}]}"#,
            expect![[r#"
                error: invalid JSON at `messages[0].content[0]`: a content part needs a string `type` at line 1 column 77
            "#]],
        );
        // Unknown roles and null content parse; the conversion that cannot carry them refuses.
        check::<ChatCompletionRequest>(
            r#"{"model": "m", "messages": [{"role": "robot", "content": null, "tool_calls": null}]}"#,
            expect![[r#"
                {
                  "model": "m",
                  "messages": [
                    {
                      "role": "robot"
                    }
                  ]
                }
            "#]],
        );
    }

    #[test]
    fn response_keeps_details_and_timings() {
        // OpenAI API reference, "The chat completion object" (default example), with
        // llama-server's `timings` added.
        let json = r#"{
          "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
          "object": "chat.completion",
          "created": 1741569952,
          "model": "gpt-4.1-2025-04-14",
          "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": "Hello! How can I assist you today?", "refusal": null, "annotations": []},
            "logprobs": null,
            "finish_reason": "stop"
          }],
          "usage": {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29,
                    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0}},
          "service_tier": "default",
          "timings": {"prompt_n": 19, "prompt_ms": 20.5, "predicted_n": 10, "predicted_ms": 100.0, "cache_n": 3}
        }"#;
        check::<ChatCompletionResponse>(
            json,
            expect![[r#"
                {
                  "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
                  "object": "chat.completion",
                  "created": 1741569952,
                  "model": "gpt-4.1-2025-04-14",
                  "choices": [
                    {
                      "index": 0,
                      "message": {
                        "role": "assistant",
                        "content": "Hello! How can I assist you today?",
                        "refusal": null,
                        "annotations": []
                      },
                      "finish_reason": "stop",
                      "logprobs": null
                    }
                  ],
                  "usage": {
                    "prompt_tokens": 19,
                    "completion_tokens": 10,
                    "total_tokens": 29,
                    "prompt_tokens_details": {
                      "cached_tokens": 0,
                      "audio_tokens": 0
                    }
                  },
                  "service_tier": "default",
                  "timings": {
                    "prompt_n": 19,
                    "prompt_ms": 20.5,
                    "predicted_n": 10,
                    "predicted_ms": 100.0,
                    "cache_n": 3
                  }
                }
            "#]],
        );
        let response: ChatCompletionResponse = from_json(json.as_bytes()).unwrap();
        let timings = response.timings().unwrap();
        assert_eq!(timings.predicted_n, Some(10));
        assert_eq!(timings.extra.get("cache_n"), Some(&Value::from(3)));
    }

    #[test]
    fn stream_chunks_with_null_fields() {
        // OpenAI function-calling guide, "Streaming": later fragments carry `id`, `type` and
        // `name` as null.
        check::<ChatCompletionChunk>(
            r#"{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini",
                "choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":null,"type":null,
                "function":{"arguments":"{\"","name":null}}]},"logprobs":null,"finish_reason":null}]}"#,
            expect![[r#"
                {
                  "id": "chatcmpl-123",
                  "object": "chat.completion.chunk",
                  "created": 1694268190,
                  "model": "gpt-4o-mini",
                  "choices": [
                    {
                      "index": 0,
                      "delta": {
                        "tool_calls": [
                          {
                            "index": 0,
                            "function": {
                              "arguments": "{\""
                            }
                          }
                        ]
                      },
                      "finish_reason": null,
                      "logprobs": null
                    }
                  ]
                }
            "#]],
        );
    }

    #[test]
    fn stream_data_tells_chunks_from_errors() {
        let show = |data: &str| match StreamData::parse(data) {
            Ok(StreamData::Chunk(chunk)) => format!("chunk {}", chunk.id),
            Ok(StreamData::Error(error)) => format!("error {error:?}"),
            Err(error) => format!("invalid: {error}"),
        };
        assert_eq!(show(r#"{"id":"c1","choices":[]}"#), "chunk c1");
        assert_eq!(
            show(r#"{"error":{"code":500,"message":"boom","type":"server_error"}}"#),
            r#"error ErrorBody { message: "boom", kind: "server_error", param: None, code: Some(Number(500)), extra: {} }"#
        );
        assert_eq!(
            show(r#"{"error":"plain"}"#),
            r#"error ErrorBody { message: "plain", kind: "server_error", param: None, code: None, extra: {} }"#
        );
        assert_eq!(
            show(r#"{"choices":[{"index":"x"}]}"#),
            "invalid: invalid JSON at `choices[0].index`: invalid type: string \"x\", expected u32"
        );
        assert_eq!(
            show(r#"{"id":"#),
            "invalid: invalid JSON at `id`: EOF while parsing a value at line 1 column 6"
        );
        assert_eq!(
            show("[1, 2]"),
            "invalid: invalid JSON: invalid type: sequence, expected a map at line 1 column 0"
        );
    }

    #[test]
    fn error_body_writes_nulls() {
        // OpenAI API reference, "Error codes": `{"error": {"message", "type", "param", "code"}}`.
        let body = serde_json::to_string(&ErrorResponse::new(
            "Invalid 'messages': empty array.",
            "invalid_request_error",
        ))
        .unwrap();
        assert_eq!(
            body,
            r#"{"error":{"message":"Invalid 'messages': empty array.","type":"invalid_request_error","param":null,"code":null}}"#
        );
    }
}
