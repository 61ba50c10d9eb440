//! `POST /v1/messages`: Anthropic's Messages API as it travels, after Anthropic's API reference
//! ("Messages", "Streaming Messages", "Errors") and the `anthropic` SDK's types: the request with
//! its messages, content blocks, tools, tool choice and thinking settings; the response and its
//! usage; the server-sent events of a streamed answer; and the error body.
//!
//! Every object keeps the fields it does not name in an `extra` map (`cache_control`,
//! `citations`, `service_tier`…), and the three tagged unions that grow with each API version —
//! [`ContentBlock`], [`BlockDelta`] and [`StreamEvent`] — keep a value of a type they do not know
//! as `Other`, `type` included, so parsing never fails on a new block or event and writing it back
//! loses nothing. Refusing what Hearth cannot translate is the conversions' job
//! (`crate::convert`), not the parser's.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::serde_util::{null_as_default, string_enum};

string_enum! {
    /// Who wrote a message: Anthropic has only these two (the system prompt is a field).
    pub enum MessageRole {
        User = "user",
        Assistant = "assistant",
    }
}

string_enum! {
    /// Why the model stopped.
    pub enum StopReason {
        EndTurn = "end_turn",
        MaxTokens = "max_tokens",
        StopSequence = "stop_sequence",
        ToolUse = "tool_use",
        /// A long server-tool turn paused; the client may send it back to continue.
        PauseTurn = "pause_turn",
        Refusal = "refusal",
        ModelContextWindowExceeded = "model_context_window_exceeded",
    }
}

fn message_type() -> String {
    "message".to_owned()
}

fn error_type() -> String {
    "error".to_owned()
}

fn assistant() -> MessageRole {
    MessageRole::Assistant
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

// ---------------------------------------------------------------------------------------------
// Request

/// A Messages request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessagesRequest {
    pub model: String,
    pub messages: Vec<Message>,
    /// A string, or text blocks (which may carry `cache_control`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<System>,
    /// Required by Anthropic: there is no default output budget.
    pub max_tokens: u32,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub stop_sequences: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// Absent means `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tools: Vec<Tool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Thinking>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Every other field (`service_tier`, `container`, `mcp_servers`…), kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MessagesRequest {
    /// Whether the answer is streamed (absent means no).
    pub fn streams(&self) -> bool {
        self.stream.unwrap_or(false)
    }
}

/// `system`: the same shape as a message's content; only text blocks belong in it.
pub type System = MessageContent;

/// `metadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// An opaque id of the end user (Anthropic uses it against abuse).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: MessageRole,
    pub content: MessageContent,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `content` (and `system`, and a tool result's `content`): a string or an array of blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MessageContent {
    Text(String),
    Blocks(Vec<ContentBlock>),
}

impl<'de> Deserialize<'de> for MessageContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContentVisitor;

        impl<'de> Visitor<'de> for ContentVisitor {
            type Value = MessageContent;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or an array of content blocks")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(MessageContent::Text(text.to_owned()))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
                Ok(MessageContent::Text(text))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut blocks = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(block) = seq.next_element()? {
                    blocks.push(block);
                }
                Ok(MessageContent::Blocks(blocks))
            }
        }

        deserializer.deserialize_any(ContentVisitor)
    }
}

/// One block of content, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", tag = "type", rename_all = "snake_case")]
pub enum ContentBlock {
    Text(TextBlock),
    Image(ImageBlock),
    ToolUse(ToolUseBlock),
    ToolResult(ToolResultBlock),
    Thinking(ThinkingBlock),
    RedactedThinking(RedactedThinkingBlock),
    /// Any other block (`document`, `search_result`, `server_tool_use`,
    /// `web_search_tool_result`…), kept as sent, `type` included.
    #[serde(skip)]
    Other(Map<String, Value>),
}

impl ContentBlock {
    const KNOWN: &[&str] = &[
        "text",
        "image",
        "tool_use",
        "tool_result",
        "thinking",
        "redacted_thinking",
    ];

    /// A text block with nothing else.
    pub fn text(text: impl Into<String>) -> Self {
        ContentBlock::Text(TextBlock {
            text: text.into(),
            extra: Map::new(),
        })
    }

    /// The block's `type`.
    pub fn kind(&self) -> &str {
        match self {
            ContentBlock::Text(_) => "text",
            ContentBlock::Image(_) => "image",
            ContentBlock::ToolUse(_) => "tool_use",
            ContentBlock::ToolResult(_) => "tool_result",
            ContentBlock::Thinking(_) => "thinking",
            ContentBlock::RedactedThinking(_) => "redacted_thinking",
            ContentBlock::Other(map) => type_of(map),
        }
    }
}

/// `{"type": "text", "text": …}`; `cache_control` and `citations` stay in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextBlock {
    pub text: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type": "image", "source": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageBlock {
    pub source: ImageSource,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Where an image's bytes are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ImageSource {
    /// `{"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ…"}`.
    Base64 { media_type: String, data: String },
    /// `{"type": "url", "url": "https://…"}`.
    Url { url: String },
}

/// `{"type": "tool_use", "id": "toolu_…", "name": …, "input": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolUseBlock {
    pub id: String,
    pub name: String,
    /// An object; `{}` at the start of a streamed block, the arguments following as
    /// [`BlockDelta::InputJsonDelta`].
    #[serde(default = "empty_object")]
    pub input: Value,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type": "tool_result", "tool_use_id": …, "content": …, "is_error": …}`, in a user message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResultBlock {
    pub tool_use_id: String,
    /// A string or blocks (text, image); absent for an empty result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<MessageContent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type": "thinking", "thinking": …, "signature": …}`: visible reasoning, signed by Anthropic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThinkingBlock {
    pub thinking: String,
    /// Empty from Hearth, which cannot sign (a local model's reasoning is not Anthropic's).
    #[serde(default)]
    pub signature: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type": "redacted_thinking", "data": …}`: reasoning Anthropic encrypted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedactedThinkingBlock {
    pub data: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A tool the model may call. A custom tool has no `type` (or `custom`) and an `input_schema`;
/// Anthropic's server tools (`web_search_20250305`, `bash_20250124`…) name their `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON Schema of `input`; `null` when absent (server tools have none).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub input_schema: Value,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `cache_control`, `strict`, a server tool's settings…
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Tool {
    /// Whether this is a tool the client runs (rather than one of Anthropic's server tools).
    pub fn is_custom(&self) -> bool {
        self.kind.as_deref().is_none_or(|kind| kind == "custom")
    }
}

/// `tool_choice`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    Auto {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// The model must call some tool.
    Any {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// The model must call this tool.
    Tool {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// The model must not call tools.
    None {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
}

/// `thinking`: extended thinking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Thinking {
    /// Think first, spending at most `budget_tokens` (at least 1024, below `max_tokens`).
    Enabled {
        budget_tokens: u32,
    },
    Disabled,
    /// The model decides how much to think (newer models).
    Adaptive,
}

// ---------------------------------------------------------------------------------------------
// Response

/// A non-streamed answer, and the `message` of a stream's `message_start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesResponse {
    pub id: String,
    /// Always `message`.
    #[serde(rename = "type", default = "message_type")]
    pub kind: String,
    #[serde(default = "assistant")]
    pub role: MessageRole,
    #[serde(default, deserialize_with = "null_as_default")]
    pub content: Vec<ContentBlock>,
    #[serde(default)]
    pub model: String,
    /// `null` in `message_start`, set otherwise; written as `null` while unknown.
    #[serde(default)]
    pub stop_reason: Option<StopReason>,
    /// The stop sequence that ended the answer; written as `null` when none did.
    #[serde(default)]
    pub stop_sequence: Option<String>,
    #[serde(default)]
    pub usage: Usage,
    /// `container`, `stop_details`, `context_management`…
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Token counts. `input_tokens` does not include the cached part of the prompt: the whole
/// prompt is `input_tokens + cache_creation_input_tokens + cache_read_input_tokens`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
    /// `cache_creation`, `server_tool_use`, `service_tier`…
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// ---------------------------------------------------------------------------------------------
// Stream

/// One server-sent event of a streamed answer: `message_start`, then for each content block a
/// `content_block_start`, its deltas and a `content_block_stop`, then `message_delta` and
/// `message_stop`; `ping`s anywhere, and `error` in place of the rest when the answer fails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// The message with empty `content`, and the prompt's usage.
    MessageStart {
        message: MessagesResponse,
    },
    /// A block begins at `index` (text empty, tool `input` `{}`).
    ContentBlockStart {
        index: u32,
        content_block: ContentBlock,
    },
    ContentBlockDelta {
        index: u32,
        delta: BlockDelta,
    },
    ContentBlockStop {
        index: u32,
    },
    /// Top-level changes at the end: the stop reason and the cumulative usage.
    MessageDelta {
        delta: MessageDelta,
        #[serde(default)]
        usage: DeltaUsage,
    },
    MessageStop,
    Ping,
    Error {
        error: ErrorDetail,
    },
    /// An event type this version does not know (Anthropic adds them), kept as sent.
    #[serde(skip)]
    Other(Map<String, Value>),
}

impl StreamEvent {
    const KNOWN: &[&str] = &[
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
        "error",
    ];

    /// The event's `type`, which is also its SSE `event:` name.
    pub fn event_name(&self) -> &str {
        match self {
            StreamEvent::MessageStart { .. } => "message_start",
            StreamEvent::ContentBlockStart { .. } => "content_block_start",
            StreamEvent::ContentBlockDelta { .. } => "content_block_delta",
            StreamEvent::ContentBlockStop { .. } => "content_block_stop",
            StreamEvent::MessageDelta { .. } => "message_delta",
            StreamEvent::MessageStop => "message_stop",
            StreamEvent::Ping => "ping",
            StreamEvent::Error { .. } => "error",
            StreamEvent::Other(map) => type_of(map),
        }
    }

    /// The event as it goes on the wire: `event: <type>\ndata: <json>\n\n`.
    pub fn to_sse(&self) -> String {
        // Serializing cannot fail: every map key is a string and `Other` is written as its map.
        let data = serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned());
        format!("event: {}\ndata: {data}\n\n", self.event_name())
    }
}

/// What a `content_block_delta` adds to its block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", tag = "type", rename_all = "snake_case")]
pub enum BlockDelta {
    TextDelta {
        text: String,
    },
    /// A fragment of a tool's `input` JSON text; the fragments joined parse as an object.
    InputJsonDelta {
        partial_json: String,
    },
    ThinkingDelta {
        thinking: String,
    },
    /// The thinking block's signature, just before its `content_block_stop`.
    SignatureDelta {
        signature: String,
    },
    /// Any other delta (`citations_delta`…), kept as sent.
    #[serde(skip)]
    Other(Map<String, Value>),
}

impl BlockDelta {
    const KNOWN: &[&str] = &[
        "text_delta",
        "input_json_delta",
        "thinking_delta",
        "signature_delta",
    ];
}

/// The `delta` of a `message_delta` event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageDelta {
    #[serde(default)]
    pub stop_reason: Option<StopReason>,
    #[serde(default)]
    pub stop_sequence: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `usage` of a `message_delta` event: cumulative counts; `input_tokens` only on newer
/// servers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeltaUsage {
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// ---------------------------------------------------------------------------------------------
// Errors

/// `{"type": "error", "error": {"type": "not_found_error", "message": …}, "request_id": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// Always `error`.
    #[serde(rename = "type", default = "error_type")]
    pub kind: String,
    pub error: ErrorDetail,
    /// `request_id`…
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ErrorResponse {
    /// An error of `kind` ([`error_type_for_status`]) saying `message`.
    pub fn new(kind: &str, message: impl Into<String>) -> Self {
        ErrorResponse {
            kind: error_type(),
            error: ErrorDetail {
                kind: kind.to_owned(),
                message: message.into(),
                extra: Map::new(),
            },
            extra: Map::new(),
        }
    }
}

/// The `error` of an [`ErrorResponse`] or of an `error` stream event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// `invalid_request_error`, `overloaded_error`…
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub message: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The error `type` Anthropic gives an HTTP status ("Errors" in its API reference). 504 is
/// `timeout_error` and 402 `billing_error`, as in the SDK's `ErrorType`; any other 4xx is
/// `invalid_request_error`, any other status `api_error`.
pub fn error_type_for_status(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        504 => "timeout_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

// ---------------------------------------------------------------------------------------------
// Tagged unions with a catch-all

fn type_of(map: &Map<String, Value>) -> &str {
    map.get("type").and_then(Value::as_str).unwrap_or("")
}

/// Read a `type`-tagged object: a known `type` through serde's derived code (`known`), any other
/// into `Other` (`other`), so new block and event types parse.
fn deserialize_tagged<'de, D, T>(
    deserializer: D,
    what: &str,
    known_types: &[&str],
    known: fn(Value) -> Result<T, serde_json::Error>,
    other: fn(Map<String, Value>) -> T,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let map = Map::<String, Value>::deserialize(deserializer)?;
    let kind = match map.get("type") {
        Some(Value::String(kind)) => kind.clone(),
        _ => return Err(de::Error::custom(format!("{what} needs a string `type`"))),
    };
    if known_types.contains(&kind.as_str()) {
        known(Value::Object(map))
            .map_err(|error| de::Error::custom(format!("`{kind}` {what}: {error}")))
    } else {
        Ok(other(map))
    }
}

macro_rules! tagged_serde {
    ($name:ident, $what:literal) => {
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $name::Other(map) => map.serialize(serializer),
                    known => $name::serialize(known, serializer),
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserialize_tagged(
                    deserializer,
                    $what,
                    $name::KNOWN,
                    $name::deserialize,
                    $name::Other,
                )
            }
        }
    };
}

tagged_serde!(ContentBlock, "content block");
tagged_serde!(StreamEvent, "stream event");
tagged_serde!(BlockDelta, "delta");

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;
    use crate::from_json;

    /// Parse `json` as `T` and write it back.
    fn check<T: serde::de::DeserializeOwned + Serialize>(json: &str, expect: Expect) {
        let out = match from_json::<T>(json.as_bytes()) {
            Ok(value) => serde_json::to_string_pretty(&value).unwrap(),
            Err(error) => format!("error: {error}"),
        };
        expect.assert_eq(&(out + "\n"));
    }

    #[test]
    fn request_round_trips_with_every_unknown_field() {
        // Anthropic API reference, "Messages": system blocks with `cache_control`, an image, a
        // tool result, a document (a block type Hearth does not name), and fields Hearth does
        // not name (`service_tier`, `citations`, a tool's `cache_control`).
        check::<MessagesRequest>(
            r#"{
              "model": "claude-sonnet-4-5",
              "max_tokens": 1024,
              "system": [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
              "messages": [
                {"role": "user", "content": [
                  {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQSkZJRg"}},
                  {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "The grass is green."}, "citations": {"enabled": true}},
                  {"type": "text", "text": "What is in this image?"}
                ]},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"location": "San Francisco, CA"}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": "15 degrees", "is_error": false}]}
              ],
              "tools": [{"name": "get_weather", "description": "Get the current weather", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}},
                        {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}],
              "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
              "thinking": {"type": "enabled", "budget_tokens": 2048},
              "metadata": {"user_id": "13803d75-b4b5-4c3e-b2a2-6f21399b021b"},
              "stop_sequences": ["\n\nHuman:"],
              "top_k": 5,
              "service_tier": "auto"
            }"#,
            expect![[r#"
                {
                  "model": "claude-sonnet-4-5",
                  "messages": [
                    {
                      "role": "user",
                      "content": [
                        {
                          "type": "image",
                          "source": {
                            "type": "base64",
                            "media_type": "image/jpeg",
                            "data": "/9j/4AAQSkZJRg"
                          }
                        },
                        {
                          "type": "document",
                          "source": {
                            "type": "text",
                            "media_type": "text/plain",
                            "data": "The grass is green."
                          },
                          "citations": {
                            "enabled": true
                          }
                        },
                        {
                          "type": "text",
                          "text": "What is in this image?"
                        }
                      ]
                    },
                    {
                      "role": "assistant",
                      "content": [
                        {
                          "type": "tool_use",
                          "id": "toolu_01A09q90qw90lq917835lq9",
                          "name": "get_weather",
                          "input": {
                            "location": "San Francisco, CA"
                          }
                        }
                      ]
                    },
                    {
                      "role": "user",
                      "content": [
                        {
                          "type": "tool_result",
                          "tool_use_id": "toolu_01A09q90qw90lq917835lq9",
                          "content": "15 degrees",
                          "is_error": false
                        }
                      ]
                    }
                  ],
                  "system": [
                    {
                      "type": "text",
                      "text": "You are terse.",
                      "cache_control": {
                        "type": "ephemeral"
                      }
                    }
                  ],
                  "max_tokens": 1024,
                  "stop_sequences": [
                    "\n\nHuman:"
                  ],
                  "top_k": 5,
                  "tools": [
                    {
                      "name": "get_weather",
                      "description": "Get the current weather",
                      "input_schema": {
                        "type": "object"
                      },
                      "cache_control": {
                        "type": "ephemeral"
                      }
                    },
                    {
                      "name": "web_search",
                      "type": "web_search_20250305",
                      "max_uses": 5
                    }
                  ],
                  "tool_choice": {
                    "type": "auto",
                    "disable_parallel_tool_use": true
                  },
                  "thinking": {
                    "type": "enabled",
                    "budget_tokens": 2048
                  },
                  "metadata": {
                    "user_id": "13803d75-b4b5-4c3e-b2a2-6f21399b021b"
                  },
                  "service_tier": "auto"
                }
            "#]],
        );
    }

    #[test]
    fn hostile_requests_get_precise_errors() {
        check::<MessagesRequest>(
            r#"{"model": "m", "messages": []}"#,
            expect![[r#"
                error: invalid JSON: missing field `max_tokens` at line 1 column 30
            "#]],
        );
        check::<MessagesRequest>(
            r#"{"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": 42}]}"#,
            expect![[r#"
                error: invalid JSON at `messages[0].content`: invalid type: integer `42`, expected a string or an array of content blocks at line 1 column 75
            "#]],
        );
        check::<MessagesRequest>(
            r#"{"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [{"type": "text"}]}]}"#,
            expect![[r#"
                error: invalid JSON at `messages[0].content[0]`: `text` content block: missing field `text` at line 1 column 91
            "#]],
        );
        check::<MessagesRequest>(
            r#"{"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [{"text": "no type"}]}]}"#,
            expect![[r#"
                error: invalid JSON at `messages[0].content[0]`: content block needs a string `type` at line 1 column 94
            "#]],
        );
        check::<MessagesRequest>(
            r#"{"model": "m", "max_tokens": 1, "messages": [], "tool_choice": {"type": "sometimes"}}"#,
            expect![[r#"
                error: invalid JSON at `tool_choice.type`: unknown variant `sometimes`, expected one of `auto`, `any`, `tool`, `none` at line 1 column 83
            "#]],
        );
    }

    #[test]
    fn response_keeps_unknown_fields_and_blocks() {
        // Anthropic API reference, "Messages", response example, with a server tool block and
        // a stop reason this version does not know.
        check::<MessagesResponse>(
            r#"{
              "content": [{"text": "Hi! My name is Claude.", "type": "text", "citations": null},
                          {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search", "input": {"query": "weather"}}],
              "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
              "model": "claude-sonnet-4-5-20250929",
              "role": "assistant",
              "stop_reason": "compaction",
              "stop_sequence": null,
              "type": "message",
              "usage": {"input_tokens": 2095, "output_tokens": 503, "cache_read_input_tokens": 0, "service_tier": "standard"},
              "container": null
            }"#,
            expect![[r#"
                {
                  "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
                  "type": "message",
                  "role": "assistant",
                  "content": [
                    {
                      "type": "text",
                      "text": "Hi! My name is Claude.",
                      "citations": null
                    },
                    {
                      "type": "server_tool_use",
                      "id": "srvtoolu_01",
                      "name": "web_search",
                      "input": {
                        "query": "weather"
                      }
                    }
                  ],
                  "model": "claude-sonnet-4-5-20250929",
                  "stop_reason": "compaction",
                  "stop_sequence": null,
                  "usage": {
                    "input_tokens": 2095,
                    "output_tokens": 503,
                    "cache_read_input_tokens": 0,
                    "service_tier": "standard"
                  },
                  "container": null
                }
            "#]],
        );
    }

    #[test]
    fn stream_events_parse_and_write_as_sse() {
        // Anthropic "Streaming Messages": each kind of event, an unknown one, and the
        // extended-thinking example's `message_delta`, which has no `usage`.
        let events = [
            r#"{"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-5-20250929", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "output_tokens": 1}}}"#,
            r#"{"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}"#,
            r#"{"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds..."}}"#,
            r#"{"type": "content_block_delta", "index": 1, "delta": {"type": "citations_delta", "citation": {"type": "char_location"}}}"#,
            r#"{"type": "content_block_stop", "index": 0}"#,
            r#"{"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}}"#,
            r#"{"type": "ping"}"#,
            r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#,
            r#"{"type": "message_stop"}"#,
            r#"{"type": "compaction_start", "index": 3}"#,
        ];
        let mut out = String::new();
        for event in events {
            out += &from_json::<StreamEvent>(event.as_bytes()).unwrap().to_sse();
        }
        expect![[r#"
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds..."}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":1,"delta":{"type":"citations_delta","citation":{"type":"char_location"}}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":0}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":0}}

            event: ping
            data: {"type":"ping"}

            event: error
            data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}

            event: message_stop
            data: {"type":"message_stop"}

            event: compaction_start
            data: {"type":"compaction_start","index":3}

        "#]]
        .assert_eq(&out);
        assert_eq!(
            from_json::<StreamEvent>(br#"{"type": "content_block_stop"}"#)
                .unwrap_err()
                .to_string(),
            "invalid JSON: `content_block_stop` stream event: missing field `index`"
        );
    }

    #[test]
    fn errors_have_anthropic_shape_and_types() {
        // Anthropic API reference, "Errors": the body shape and the type of each status.
        assert_eq!(
            serde_json::to_string(&ErrorResponse::new(
                error_type_for_status(404),
                "The requested resource could not be found."
            ))
            .unwrap(),
            r#"{"type":"error","error":{"type":"not_found_error","message":"The requested resource could not be found."}}"#
        );
        let types: Vec<_> = [
            400, 401, 402, 403, 404, 413, 422, 429, 500, 502, 503, 504, 529,
        ]
        .into_iter()
        .map(|status| format!("{status} {}", error_type_for_status(status)))
        .collect();
        expect![[r#"
            [
                "400 invalid_request_error",
                "401 authentication_error",
                "402 billing_error",
                "403 permission_error",
                "404 not_found_error",
                "413 request_too_large",
                "422 invalid_request_error",
                "429 rate_limit_error",
                "500 api_error",
                "502 api_error",
                "503 overloaded_error",
                "504 timeout_error",
                "529 overloaded_error",
            ]
        "#]]
        .assert_debug_eq(&types);
    }
}
