//! `POST /v1/responses`: the request, the response object, its output items and the streamed
//! events, after OpenAI's API reference ("Create a model response", "The response object",
//! "Streaming events") and the openai-python SDK's `types/responses`, which is what the SDK's
//! pydantic models check: a [`Response`] always carries `id`, `object`, `created_at`, `model`,
//! `output`, `parallel_tool_calls`, `tool_choice` and `tools`, and a [`ResponseUsage`] both of
//! its `…_details`.
//!
//! Items and events are tagged by `type`. Every tagged enum here has a catch-all (`Other`) that
//! keeps an unknown item, content part, tool or event as sent, so parsing never fails on a type
//! OpenAI adds later and a conversion can refuse it by name. The SDK's "EasyInputMessage" — a
//! `{role, content}` item without `type` — reads as a message.

use serde::de::{self, DeserializeOwned, Deserializer, SeqAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::openai::chat::ToolChoiceMode;
use crate::serde_util::{null_as_default, string_enum};

string_enum! {
    /// Who wrote an input message.
    pub enum MessageRole {
        User = "user",
        Assistant = "assistant",
        System = "system",
        Developer = "developer",
    }
}

string_enum! {
    /// The state of one item.
    pub enum ItemStatus {
        InProgress = "in_progress",
        Completed = "completed",
        Incomplete = "incomplete",
    }
}

string_enum! {
    /// The state of a whole response.
    pub enum ResponseStatus {
        Completed = "completed",
        Incomplete = "incomplete",
        Failed = "failed",
        InProgress = "in_progress",
        Queued = "queued",
        Cancelled = "cancelled",
    }
}

fn assistant() -> MessageRole {
    MessageRole::Assistant
}

fn completed() -> ResponseStatus {
    ResponseStatus::Completed
}

fn response_object() -> String {
    "response".to_owned()
}

fn yes() -> bool {
    true
}

fn auto() -> ResponsesToolChoice {
    ResponsesToolChoice::Mode(ToolChoiceMode::Auto)
}

// ---------------------------------------------------------------------------------------------
// Tagged enums: `{"type": …, …fields}` with a catch-all

/// A payload written with its `type` first, as OpenAI does.
#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(flatten)]
    payload: &'a T,
}

fn tagged<S: Serializer, T: Serialize>(
    kind: &str,
    payload: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    Tagged { kind, payload }.serialize(serializer)
}

/// The `type` of a JSON object, when it is a string.
pub(crate) fn type_of(map: &Map<String, Value>) -> Option<&str> {
    map.get("type").and_then(Value::as_str)
}

/// Read `map` without its `type` as `T`, naming what failed (`` `function_call` item: … ``).
fn untag<T: DeserializeOwned, E: de::Error>(
    mut map: Map<String, Value>,
    kind: &str,
    what: &str,
) -> Result<T, E> {
    map.remove("type");
    serde_json::from_value(Value::Object(map))
        .map_err(|error| de::Error::custom(format!("`{kind}` {what}: {error}")))
}

// ---------------------------------------------------------------------------------------------
// Request

/// A Responses API request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponsesRequest {
    /// Required by OpenAI; Hearth can route without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Input>,
    /// A system message put first; not carried over to later turns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tools: Vec<ResponsesTool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ResponsesToolChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ReasoningConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Absent means `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_response_id: Option<String>,
    /// Absent means `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `auto` or `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    /// Every other field (`background`, `service_tier`, `prompt_cache_key`…), kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ResponsesRequest {
    /// Whether the answer is streamed (absent means no).
    pub fn streams(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// Whether the response is to be kept for a later `previous_response_id` (absent means
    /// yes).
    pub fn stores(&self) -> bool {
        self.store.unwrap_or(true)
    }
}

/// `input`: a string (one user message) or a list of items.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Input {
    Text(String),
    Items(Vec<InputItem>),
}

impl<'de> Deserialize<'de> for Input {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextOrList {
            expecting: "a string or an array of input items",
            text: Input::Text,
            list: Input::Items,
        })
    }
}

/// A visitor for the API's many "a string, or an array of …" fields, keeping the element's own
/// errors (and their paths) intact.
struct TextOrList<T, E> {
    expecting: &'static str,
    text: fn(String) -> T,
    list: fn(Vec<E>) -> T,
}

impl<'de, T, E: Deserialize<'de>> Visitor<'de> for TextOrList<T, E> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<Er: de::Error>(self, text: &str) -> Result<T, Er> {
        Ok((self.text)(text.to_owned()))
    }

    fn visit_string<Er: de::Error>(self, text: String) -> Result<T, Er> {
        Ok((self.text)(text))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        let mut elements = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(element) = seq.next_element()? {
            elements.push(element);
        }
        Ok((self.list)(elements))
    }
}

/// One item of `input`, or of a stored conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum InputItem {
    /// `message`, or a `{role, content}` without `type`.
    Message(MessageItem),
    FunctionCall(FunctionCallItem),
    FunctionCallOutput(FunctionCallOutputItem),
    Reasoning(ReasoningItem),
    /// Any other item (`item_reference`, `file_search_call`, `computer_call_output`…), kept as
    /// sent, `type` included.
    Other(Map<String, Value>),
}

impl InputItem {
    /// The item's `type` (`message` for a message without one).
    pub fn kind(&self) -> &str {
        match self {
            InputItem::Message(_) => "message",
            InputItem::FunctionCall(_) => "function_call",
            InputItem::FunctionCallOutput(_) => "function_call_output",
            InputItem::Reasoning(_) => "reasoning",
            InputItem::Other(map) => type_of(map).unwrap_or_default(),
        }
    }

    /// The item's `id`, when it has one.
    pub fn id(&self) -> Option<&str> {
        match self {
            InputItem::Message(item) => item.id.as_deref(),
            InputItem::FunctionCall(item) => item.id.as_deref(),
            InputItem::FunctionCallOutput(item) => item.id.as_deref(),
            InputItem::Reasoning(item) => Some(&item.id),
            InputItem::Other(map) => map.get("id").and_then(Value::as_str),
        }
    }
}

impl Serialize for InputItem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            InputItem::Message(item) => tagged(self.kind(), item, serializer),
            InputItem::FunctionCall(item) => tagged(self.kind(), item, serializer),
            InputItem::FunctionCallOutput(item) => tagged(self.kind(), item, serializer),
            InputItem::Reasoning(item) => tagged(self.kind(), item, serializer),
            InputItem::Other(map) => map.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for InputItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        let kind = match map.get("type") {
            None if map.contains_key("role") => "message",
            None => return Ok(InputItem::Other(map)),
            Some(Value::String(kind)) => kind.as_str(),
            Some(_) => return Err(de::Error::custom("an input item's `type` must be a string")),
        };
        match kind {
            "message" => untag(map, "message", "item").map(InputItem::Message),
            "function_call" => untag(map, "function_call", "item").map(InputItem::FunctionCall),
            "function_call_output" => {
                untag(map, "function_call_output", "item").map(InputItem::FunctionCallOutput)
            }
            "reasoning" => untag(map, "reasoning", "item").map(InputItem::Reasoning),
            _ => Ok(InputItem::Other(map)),
        }
    }
}

/// A message: `{role, content}`, content a string or content parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageItem {
    pub role: MessageRole,
    pub content: MessageContent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
    /// `phase` and whatever else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A message's `content`: a string or an array of parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MessageContent {
    Text(String),
    Parts(Vec<InputContent>),
}

impl<'de> Deserialize<'de> for MessageContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextOrList {
            expecting: "a string or an array of content parts",
            text: MessageContent::Text,
            list: MessageContent::Parts,
        })
    }
}

/// One part of a message's content (or of a function call's output).
#[derive(Debug, Clone, PartialEq)]
pub enum InputContent {
    /// `input_text`.
    InputText(InputText),
    /// `output_text`: an assistant turn handed back as history.
    OutputText(OutputText),
    Refusal(Refusal),
    /// `input_image`.
    InputImage(InputImage),
    /// Any other part (`input_file`, `input_audio`…), kept as sent, `type` included.
    Other(Map<String, Value>),
}

impl InputContent {
    /// The part's `type`.
    pub fn kind(&self) -> &str {
        match self {
            InputContent::InputText(_) => "input_text",
            InputContent::OutputText(_) => "output_text",
            InputContent::Refusal(_) => "refusal",
            InputContent::InputImage(_) => "input_image",
            InputContent::Other(map) => type_of(map).unwrap_or_default(),
        }
    }

    /// The part's text, for the kinds that are text.
    pub fn text(&self) -> Option<&str> {
        match self {
            InputContent::InputText(part) => Some(&part.text),
            InputContent::OutputText(part) => Some(&part.text),
            InputContent::Refusal(part) => Some(&part.refusal),
            InputContent::InputImage(_) | InputContent::Other(_) => None,
        }
    }
}

impl Serialize for InputContent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            InputContent::InputText(part) => tagged(self.kind(), part, serializer),
            InputContent::OutputText(part) => tagged(self.kind(), part, serializer),
            InputContent::Refusal(part) => tagged(self.kind(), part, serializer),
            InputContent::InputImage(part) => tagged(self.kind(), part, serializer),
            InputContent::Other(map) => map.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for InputContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        match type_of(&map) {
            Some("input_text") => {
                untag(map, "input_text", "content part").map(InputContent::InputText)
            }
            Some("output_text") => {
                untag(map, "output_text", "content part").map(InputContent::OutputText)
            }
            Some("refusal") => untag(map, "refusal", "content part").map(InputContent::Refusal),
            Some("input_image") => {
                untag(map, "input_image", "content part").map(InputContent::InputImage)
            }
            Some(_) => Ok(InputContent::Other(map)),
            None => Err(de::Error::custom("a content part needs a string `type`")),
        }
    }
}

/// `{"type": "input_text", "text": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputText {
    pub text: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type": "input_image", "image_url": …, "detail": …}`: a link or a `data:` URL, or an
/// uploaded file's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputImage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// `low`, `high` or `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type": "output_text", "text": …, "annotations": […]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputText {
    #[serde(default, deserialize_with = "null_as_default")]
    pub text: String,
    /// Citations; always written, as the SDK requires the field.
    #[serde(default, deserialize_with = "null_as_default")]
    pub annotations: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Vec<Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl OutputText {
    /// Text without annotations or log probabilities.
    pub fn new(text: impl Into<String>) -> Self {
        OutputText {
            text: text.into(),
            annotations: Vec::new(),
            logprobs: None,
            extra: Map::new(),
        }
    }
}

/// `{"type": "refusal", "refusal": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    #[serde(default)]
    pub refusal: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A call the model made: `{"type": "function_call", "call_id", "name", "arguments"}`, as output
/// and as history. `arguments` is JSON text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallItem {
    /// The item's id (`fc_…`); optional in input, always written in output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The id the call's output answers (`call_…`).
    pub call_id: String,
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub arguments: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type": "function_call_output", "call_id", "output"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallOutputItem {
    pub call_id: String,
    pub output: ToolOutput,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A function call's `output`: a string, or content parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ToolOutput {
    Text(String),
    Parts(Vec<InputContent>),
}

impl<'de> Deserialize<'de> for ToolOutput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextOrList {
            expecting: "a string or an array of content parts",
            text: ToolOutput::Text,
            list: ToolOutput::Parts,
        })
    }
}

/// The model's reasoning: `{"type": "reasoning", "id", "summary": […], "content": […]}`, as
/// output and as history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasoningItem {
    #[serde(default)]
    pub id: String,
    /// `summary_text` parts; always written, as the SDK requires the field.
    #[serde(default, deserialize_with = "null_as_default")]
    pub summary: Vec<SummaryText>,
    /// `reasoning_text` parts: the reasoning itself, where the model shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<ReasoningText>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type": "summary_text", "text": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryText {
    #[serde(rename = "type", default = "summary_text")]
    pub kind: String,
    #[serde(default)]
    pub text: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn summary_text() -> String {
    "summary_text".to_owned()
}

/// `{"type": "reasoning_text", "text": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasoningText {
    #[serde(rename = "type", default = "reasoning_text")]
    pub kind: String,
    #[serde(default)]
    pub text: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ReasoningText {
    pub fn new(text: impl Into<String>) -> Self {
        ReasoningText {
            kind: reasoning_text(),
            text: text.into(),
            extra: Map::new(),
        }
    }
}

fn reasoning_text() -> String {
    "reasoning_text".to_owned()
}

/// A tool the model may call. Function tools are flat: `{"type": "function", "name", …}`.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponsesTool {
    Function(FunctionTool),
    /// A built-in or hosted tool (`web_search`, `file_search`, `computer_use_preview`, `mcp`,
    /// `custom`…), kept as sent, `type` included.
    Other(Map<String, Value>),
}

impl ResponsesTool {
    /// The tool's `type`.
    pub fn kind(&self) -> &str {
        match self {
            ResponsesTool::Function(_) => "function",
            ResponsesTool::Other(map) => type_of(map).unwrap_or_default(),
        }
    }
}

impl Serialize for ResponsesTool {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ResponsesTool::Function(tool) => tagged("function", tool, serializer),
            ResponsesTool::Other(map) => map.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ResponsesTool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        match type_of(&map) {
            Some("function") => untag(map, "function", "tool").map(ResponsesTool::Function),
            _ => Ok(ResponsesTool::Other(map)),
        }
    }
}

/// A function tool's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionTool {
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

/// `tool_choice`: a word, `{"type": "function", "name"}`, or another form (`allowed_tools`, a
/// hosted tool, `mcp`) kept as sent.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponsesToolChoice {
    Mode(ToolChoiceMode),
    Function { name: String },
    Other(Value),
}

impl Serialize for ResponsesToolChoice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Named<'a> {
            name: &'a str,
        }
        match self {
            ResponsesToolChoice::Mode(mode) => mode.serialize(serializer),
            ResponsesToolChoice::Function { name } => {
                tagged("function", &Named { name }, serializer)
            }
            ResponsesToolChoice::Other(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ResponsesToolChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(match value {
            Value::String(mode) => ResponsesToolChoice::Mode(ToolChoiceMode::from(mode.as_str())),
            Value::Object(map)
                if type_of(&map) == Some("function")
                    && map.get("name").is_some_and(Value::is_string) =>
            {
                let name = map.get("name").and_then(Value::as_str).unwrap_or_default();
                ResponsesToolChoice::Function {
                    name: name.to_owned(),
                }
            }
            other => ResponsesToolChoice::Other(other),
        })
    }
}

/// `reasoning`: `{"effort", "summary"}`. Both are written, `null` when unset, as OpenAI echoes
/// them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReasoningConfig {
    /// `none`, `minimal`, `low`, `medium`, `high`… kept as a string: the set keeps growing.
    #[serde(default)]
    pub effort: Option<String>,
    /// `auto`, `concise` or `detailed`.
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `text`: `{"format": …, "verbosity": …}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TextConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<TextFormat>,
    /// `verbosity` and whatever else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `text.format`: `{"type": "text" | "json_object" | "json_schema", "name", "schema",
/// "strict"}` — flat, unlike Chat Completions' `response_format.json_schema`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextFormat {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TextFormat {
    /// `{"type": "text"}`, the default.
    pub fn text() -> Self {
        TextFormat {
            kind: "text".to_owned(),
            name: None,
            description: None,
            schema: None,
            strict: None,
            extra: Map::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Response

/// The response object, whole or as streamed in `response.*` events. The fields OpenAI always
/// writes are written here too, as `null` when unset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    #[serde(default)]
    pub id: String,
    #[serde(default = "response_object")]
    pub object: String,
    #[serde(default)]
    pub created_at: u64,
    #[serde(default = "completed")]
    pub status: ResponseStatus,
    #[serde(default)]
    pub error: Option<ResponseError>,
    #[serde(default)]
    pub incomplete_details: Option<IncompleteDetails>,
    #[serde(default)]
    pub instructions: Option<String>,
    #[serde(default)]
    pub max_output_tokens: Option<u32>,
    #[serde(default)]
    pub model: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub output: Vec<OutputItem>,
    #[serde(default = "yes")]
    pub parallel_tool_calls: bool,
    #[serde(default)]
    pub previous_response_id: Option<String>,
    #[serde(default)]
    pub reasoning: Option<ReasoningConfig>,
    #[serde(default = "yes")]
    pub store: bool,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub text: Option<TextConfig>,
    #[serde(default = "auto")]
    pub tool_choice: ResponsesToolChoice,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tools: Vec<ResponsesTool>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub truncation: Option<String>,
    #[serde(default)]
    pub usage: Option<ResponseUsage>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    /// `background`, `service_tier`, `max_tool_calls`…
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `error` of a failed response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseError {
    /// `server_error`, `rate_limit_exceeded`, `invalid_prompt`…
    #[serde(default, deserialize_with = "null_as_default")]
    pub code: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `incomplete_details`: why the response stopped short.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncompleteDetails {
    /// `max_output_tokens` or `content_filter`.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Token counts. Every field is written: the SDK requires the details objects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseUsage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub input_tokens_details: InputTokensDetails,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub output_tokens_details: OutputTokensDetails,
    #[serde(default)]
    pub total_tokens: u64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `input_tokens_details`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InputTokensDetails {
    #[serde(default)]
    pub cached_tokens: u64,
    /// Tokens written to the prompt cache (newer SDKs require the field).
    #[serde(default)]
    pub cache_write_tokens: u64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `output_tokens_details`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutputTokensDetails {
    #[serde(default)]
    pub reasoning_tokens: u64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One item of a response's `output`.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputItem {
    Message(OutputMessage),
    FunctionCall(FunctionCallItem),
    Reasoning(ReasoningItem),
    /// Any other item (`web_search_call`, `image_generation_call`…), kept as sent.
    Other(Map<String, Value>),
}

impl OutputItem {
    /// The item's `type`.
    pub fn kind(&self) -> &str {
        match self {
            OutputItem::Message(_) => "message",
            OutputItem::FunctionCall(_) => "function_call",
            OutputItem::Reasoning(_) => "reasoning",
            OutputItem::Other(map) => type_of(map).unwrap_or_default(),
        }
    }
}

impl Serialize for OutputItem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            OutputItem::Message(item) => tagged(self.kind(), item, serializer),
            OutputItem::FunctionCall(item) => tagged(self.kind(), item, serializer),
            OutputItem::Reasoning(item) => tagged(self.kind(), item, serializer),
            OutputItem::Other(map) => map.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for OutputItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        match type_of(&map) {
            Some("message") => untag(map, "message", "item").map(OutputItem::Message),
            Some("function_call") => {
                untag(map, "function_call", "item").map(OutputItem::FunctionCall)
            }
            Some("reasoning") => untag(map, "reasoning", "item").map(OutputItem::Reasoning),
            _ => Ok(OutputItem::Other(map)),
        }
    }
}

/// The assistant's message: `{"type": "message", "id", "status", "role", "content": […]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputMessage {
    #[serde(default)]
    pub id: String,
    #[serde(default = "item_completed")]
    pub status: ItemStatus,
    #[serde(default = "assistant")]
    pub role: MessageRole,
    #[serde(default, deserialize_with = "null_as_default")]
    pub content: Vec<OutputContent>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn item_completed() -> ItemStatus {
    ItemStatus::Completed
}

/// One part of an output message (or the part a `response.content_part.*` event carries).
#[derive(Debug, Clone, PartialEq)]
pub enum OutputContent {
    OutputText(OutputText),
    Refusal(Refusal),
    /// The part of a reasoning item, in `response.content_part.*` events.
    ReasoningText(ReasoningText),
    Other(Map<String, Value>),
}

impl OutputContent {
    /// The part's `type`.
    pub fn kind(&self) -> &str {
        match self {
            OutputContent::OutputText(_) => "output_text",
            OutputContent::Refusal(_) => "refusal",
            OutputContent::ReasoningText(_) => "reasoning_text",
            OutputContent::Other(map) => type_of(map).unwrap_or_default(),
        }
    }
}

impl Serialize for OutputContent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            OutputContent::OutputText(part) => tagged(self.kind(), part, serializer),
            OutputContent::Refusal(part) => tagged(self.kind(), part, serializer),
            // `ReasoningText` writes its own `type`.
            OutputContent::ReasoningText(part) => part.serialize(serializer),
            OutputContent::Other(map) => map.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for OutputContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        match type_of(&map) {
            Some("output_text") => {
                untag(map, "output_text", "content part").map(OutputContent::OutputText)
            }
            Some("refusal") => untag(map, "refusal", "content part").map(OutputContent::Refusal),
            Some("reasoning_text") => serde_json::from_value(Value::Object(map))
                .map(OutputContent::ReasoningText)
                .map_err(|error| {
                    de::Error::custom(format!("`reasoning_text` content part: {error}"))
                }),
            _ => Ok(OutputContent::Other(map)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Stream

/// Declares [`StreamEvent`] from one table: each variant, its payload and its `type`.
macro_rules! stream_events {
    ($($(#[$meta:meta])* $variant:ident($payload:ty) = $wire:literal,)+) => {
        /// One server-sent event of a streamed response; the SSE `event:` name is its `type`.
        #[derive(Debug, Clone, PartialEq)]
        pub enum StreamEvent {
            $($(#[$meta])* $variant($payload),)+
            /// Any other event (`response.queued`, `response.web_search_call.searching`…),
            /// kept as sent, `type` included.
            Other(Map<String, Value>),
        }

        impl StreamEvent {
            /// The event's `type`, which is also its SSE `event:` name.
            pub fn event_type(&self) -> &str {
                match self {
                    $(StreamEvent::$variant(_) => $wire,)+
                    StreamEvent::Other(map) => type_of(map).unwrap_or_default(),
                }
            }

            /// The event's `sequence_number` (0 when a server sent none).
            pub fn sequence_number(&self) -> u64 {
                match self {
                    $(StreamEvent::$variant(event) => event.sequence_number,)+
                    StreamEvent::Other(map) => {
                        map.get("sequence_number").and_then(Value::as_u64).unwrap_or(0)
                    }
                }
            }
        }

        impl Serialize for StreamEvent {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(StreamEvent::$variant(event) => tagged($wire, event, serializer),)+
                    StreamEvent::Other(map) => map.serialize(serializer),
                }
            }
        }

        impl<'de> Deserialize<'de> for StreamEvent {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let map = Map::<String, Value>::deserialize(deserializer)?;
                match type_of(&map) {
                    $(Some($wire) => untag(map, $wire, "event").map(StreamEvent::$variant),)+
                    Some(_) => Ok(StreamEvent::Other(map)),
                    None => Err(de::Error::custom("a stream event needs a string `type`")),
                }
            }
        }
    };
}

stream_events! {
    /// The first event: the response, `in_progress`, with no output yet.
    Created(ResponseEvent) = "response.created",
    InProgress(ResponseEvent) = "response.in_progress",
    /// The last event of a finished response, with every output item and the usage.
    Completed(ResponseEvent) = "response.completed",
    /// The last event of a response cut short (`incomplete_details` says why).
    Incomplete(ResponseEvent) = "response.incomplete",
    /// The last event of a response that failed (`error` says why).
    Failed(ResponseEvent) = "response.failed",
    OutputItemAdded(OutputItemEvent) = "response.output_item.added",
    OutputItemDone(OutputItemEvent) = "response.output_item.done",
    ContentPartAdded(ContentPartEvent) = "response.content_part.added",
    ContentPartDone(ContentPartEvent) = "response.content_part.done",
    OutputTextDelta(TextDeltaEvent) = "response.output_text.delta",
    OutputTextDone(TextDoneEvent) = "response.output_text.done",
    RefusalDelta(TextDeltaEvent) = "response.refusal.delta",
    ReasoningTextDelta(TextDeltaEvent) = "response.reasoning_text.delta",
    ReasoningTextDone(TextDoneEvent) = "response.reasoning_text.done",
    /// OpenAI's models show summaries of their reasoning rather than the reasoning itself.
    ReasoningSummaryTextDelta(SummaryTextDeltaEvent) = "response.reasoning_summary_text.delta",
    FunctionCallArgumentsDelta(ArgumentsDeltaEvent) = "response.function_call_arguments.delta",
    FunctionCallArgumentsDone(ArgumentsDoneEvent) = "response.function_call_arguments.done",
    /// An error in place of the rest of the stream.
    Error(ErrorEvent) = "error",
}

impl StreamEvent {
    /// The event as server-sent event text: `event: <type>\ndata: <json>\n\n`.
    pub fn to_sse(&self) -> String {
        // Writing these types cannot fail: every map key is a string.
        let data = serde_json::to_string(self).unwrap_or_default();
        format!("event: {}\ndata: {data}\n\n", self.event_type())
    }
}

/// `response.created`, `.in_progress`, `.completed`, `.incomplete`, `.failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseEvent {
    #[serde(default)]
    pub sequence_number: u64,
    pub response: Response,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `response.output_item.added` and `.done`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputItemEvent {
    #[serde(default)]
    pub sequence_number: u64,
    #[serde(default)]
    pub output_index: u32,
    pub item: OutputItem,
    /// `response_id`, which OpenAI's function-calling guide shows.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `response.content_part.added` and `.done`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentPartEvent {
    #[serde(default)]
    pub sequence_number: u64,
    #[serde(default)]
    pub item_id: String,
    #[serde(default)]
    pub output_index: u32,
    #[serde(default)]
    pub content_index: u32,
    pub part: OutputContent,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `response.output_text.delta`, `response.refusal.delta`, `response.reasoning_text.delta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextDeltaEvent {
    #[serde(default)]
    pub sequence_number: u64,
    #[serde(default)]
    pub item_id: String,
    #[serde(default)]
    pub output_index: u32,
    #[serde(default)]
    pub content_index: u32,
    #[serde(default, deserialize_with = "null_as_default")]
    pub delta: String,
    /// On `output_text` events (the SDK requires it there; empty unless asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Vec<Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `response.output_text.done`, `response.reasoning_text.done`: the part's whole text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextDoneEvent {
    #[serde(default)]
    pub sequence_number: u64,
    #[serde(default)]
    pub item_id: String,
    #[serde(default)]
    pub output_index: u32,
    #[serde(default)]
    pub content_index: u32,
    #[serde(default, deserialize_with = "null_as_default")]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Vec<Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `response.reasoning_summary_text.delta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryTextDeltaEvent {
    #[serde(default)]
    pub sequence_number: u64,
    #[serde(default)]
    pub item_id: String,
    #[serde(default)]
    pub output_index: u32,
    #[serde(default)]
    pub summary_index: u32,
    #[serde(default, deserialize_with = "null_as_default")]
    pub delta: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `response.function_call_arguments.delta`: a fragment of a call's argument text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArgumentsDeltaEvent {
    #[serde(default)]
    pub sequence_number: u64,
    #[serde(default)]
    pub item_id: String,
    #[serde(default)]
    pub output_index: u32,
    #[serde(default, deserialize_with = "null_as_default")]
    pub delta: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `response.function_call_arguments.done`: the call's whole argument text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArgumentsDoneEvent {
    #[serde(default)]
    pub sequence_number: u64,
    #[serde(default)]
    pub item_id: String,
    #[serde(default)]
    pub output_index: u32,
    #[serde(default, deserialize_with = "null_as_default")]
    pub arguments: String,
    /// The function's name, which newer servers repeat here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `error`: the stream failed. `code` and `param` are written as `null` when unknown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorEvent {
    #[serde(default)]
    pub sequence_number: u64,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: String,
    #[serde(default)]
    pub param: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;
    use crate::from_json;

    /// Parse `json` as `T` and write it back: what a pass-through sends on.
    fn check<T: DeserializeOwned + Serialize>(json: &str, expect: Expect) {
        let out = match from_json::<T>(json.as_bytes()) {
            Ok(value) => serde_json::to_string_pretty(&value).unwrap(),
            Err(error) => format!("error: {error}"),
        };
        expect.assert_eq(&(out + "\n"));
    }

    #[test]
    fn request_round_trips_with_every_unknown_field() {
        // OpenAI API reference, "Create a model response", examples "Image input" and
        // "Functions" together, with an EasyInputMessage (no `type`), fields Hearth does not
        // name (`background`, `prompt_cache_key`, `phase`) and an item, a part and a tool type
        // it does not know.
        check::<ResponsesRequest>(
            r#"{
              "model": "gpt-4.1",
              "input": [
                {"role": "user", "content": [
                  {"type": "input_text", "text": "what is in this image?"},
                  {"type": "input_image", "image_url": "https://upload.wikimedia.org/a.jpg", "detail": "auto"},
                  {"type": "input_file", "file_id": "file-6F2ksmvXxt4VdoqmHRw6kL"}
                ]},
                {"type": "message", "role": "assistant", "phase": "final_answer", "content": [
                  {"type": "output_text", "text": "A boardwalk.", "annotations": []}]},
                {"type": "item_reference", "id": "msg_123"}
              ],
              "tools": [
                {"type": "function", "name": "get_current_weather", "description": "Get the current weather in a given location",
                 "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}, "strict": true},
                {"type": "web_search_preview"}
              ],
              "tool_choice": {"type": "function", "name": "get_current_weather"},
              "text": {"format": {"type": "json_schema", "name": "weather", "schema": {"type": "object"}, "strict": true}, "verbosity": "low"},
              "reasoning": {"effort": "low"},
              "background": false,
              "prompt_cache_key": "k"
            }"#,
            expect![[r#"
                {
                  "model": "gpt-4.1",
                  "input": [
                    {
                      "type": "message",
                      "role": "user",
                      "content": [
                        {
                          "type": "input_text",
                          "text": "what is in this image?"
                        },
                        {
                          "type": "input_image",
                          "image_url": "https://upload.wikimedia.org/a.jpg",
                          "detail": "auto"
                        },
                        {
                          "type": "input_file",
                          "file_id": "file-6F2ksmvXxt4VdoqmHRw6kL"
                        }
                      ]
                    },
                    {
                      "type": "message",
                      "role": "assistant",
                      "content": [
                        {
                          "type": "output_text",
                          "text": "A boardwalk.",
                          "annotations": []
                        }
                      ],
                      "phase": "final_answer"
                    },
                    {
                      "type": "item_reference",
                      "id": "msg_123"
                    }
                  ],
                  "tools": [
                    {
                      "type": "function",
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
                      },
                      "strict": true
                    },
                    {
                      "type": "web_search_preview"
                    }
                  ],
                  "tool_choice": {
                    "type": "function",
                    "name": "get_current_weather"
                  },
                  "reasoning": {
                    "effort": "low",
                    "summary": null
                  },
                  "text": {
                    "format": {
                      "type": "json_schema",
                      "name": "weather",
                      "schema": {
                        "type": "object"
                      },
                      "strict": true
                    },
                    "verbosity": "low"
                  },
                  "background": false,
                  "prompt_cache_key": "k"
                }
            "#]],
        );
    }

    #[test]
    fn item_and_content_shapes() {
        // Function-calling guide: a call, its output (a string, or parts), a reasoning item.
        check::<Vec<InputItem>>(
            r#"[
              {"type": "function_call", "id": "fc_12345xyz", "call_id": "call_12345xyz", "name": "get_weather", "arguments": "{\"location\":\"Paris, France\"}"},
              {"type": "function_call_output", "call_id": "call_12345xyz", "output": "15°C"},
              {"type": "function_call_output", "call_id": "call_12345xyz", "output": [{"type": "input_text", "text": "15"}, {"type": "input_text", "text": "°C"}]},
              {"type": "reasoning", "id": "rs_6890e972fa7c819ca8bc561526b989170694874912ae0ea6", "content": [], "summary": [], "encrypted_content": "gAAA"},
              {"content": "no role, no type"}
            ]"#,
            expect![[r#"
                [
                  {
                    "type": "function_call",
                    "id": "fc_12345xyz",
                    "call_id": "call_12345xyz",
                    "name": "get_weather",
                    "arguments": "{\"location\":\"Paris, France\"}"
                  },
                  {
                    "type": "function_call_output",
                    "call_id": "call_12345xyz",
                    "output": "15°C"
                  },
                  {
                    "type": "function_call_output",
                    "call_id": "call_12345xyz",
                    "output": [
                      {
                        "type": "input_text",
                        "text": "15"
                      },
                      {
                        "type": "input_text",
                        "text": "°C"
                      }
                    ]
                  },
                  {
                    "type": "reasoning",
                    "id": "rs_6890e972fa7c819ca8bc561526b989170694874912ae0ea6",
                    "summary": [],
                    "content": [],
                    "encrypted_content": "gAAA"
                  },
                  {
                    "content": "no role, no type"
                  }
                ]
            "#]],
        );
        check::<ResponsesRequest>(
            r#"{"input": 42}"#,
            expect![[r#"
                error: invalid JSON at `input`: invalid type: integer `42`, expected a string or an array of input items at line 1 column 12
            "#]],
        );
        check::<ResponsesRequest>(
            r#"{"input": [{"type": "function_call", "name": "f"}]}"#,
            expect![[r#"
                error: invalid JSON at `input[0]`: `function_call` item: missing field `call_id` at line 1 column 50
            "#]],
        );
        check::<ResponsesRequest>(
            r#"{"input": [{"role": "user", "content": [{"text": "no type"}]}]}"#,
            expect![[r#"
                error: invalid JSON at `input[0]`: `message` item: a content part needs a string `type` at line 1 column 62
            "#]],
        );
        check::<ResponsesRequest>(
            r#"{"tool_choice": "required", "input": [{"type": 7}]}"#,
            expect![[r#"
                error: invalid JSON at `input[0]`: an input item's `type` must be a string at line 1 column 50
            "#]],
        );
    }

    #[test]
    fn response_and_events_round_trip() {
        // OpenAI API reference, "The response object" (with a field Hearth does not name).
        check::<Response>(
            r#"{"id": "resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41", "object": "response",
                "created_at": 1741476777, "status": "completed", "error": null, "incomplete_details": null,
                "instructions": null, "max_output_tokens": null, "model": "gpt-4o-2024-08-06",
                "output": [{"type": "message", "id": "msg_67ccd3acc8d48190a77525dc6de64b4104becb25c45c1d41",
                  "status": "completed", "role": "assistant",
                  "content": [{"type": "output_text", "text": "The image depicts a scenic landscape.", "annotations": []}]}],
                "parallel_tool_calls": true, "previous_response_id": null, "reasoning": {"effort": null, "summary": null},
                "store": true, "temperature": 1.0, "text": {"format": {"type": "text"}}, "tool_choice": "auto",
                "tools": [], "top_p": 1.0, "truncation": "disabled",
                "usage": {"input_tokens": 328, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 52,
                          "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 380},
                "user": null, "metadata": {}, "service_tier": "default"}"#,
            expect![[r#"
                {
                  "id": "resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41",
                  "object": "response",
                  "created_at": 1741476777,
                  "status": "completed",
                  "error": null,
                  "incomplete_details": null,
                  "instructions": null,
                  "max_output_tokens": null,
                  "model": "gpt-4o-2024-08-06",
                  "output": [
                    {
                      "type": "message",
                      "id": "msg_67ccd3acc8d48190a77525dc6de64b4104becb25c45c1d41",
                      "status": "completed",
                      "role": "assistant",
                      "content": [
                        {
                          "type": "output_text",
                          "text": "The image depicts a scenic landscape.",
                          "annotations": []
                        }
                      ]
                    }
                  ],
                  "parallel_tool_calls": true,
                  "previous_response_id": null,
                  "reasoning": {
                    "effort": null,
                    "summary": null
                  },
                  "store": true,
                  "temperature": 1.0,
                  "text": {
                    "format": {
                      "type": "text"
                    }
                  },
                  "tool_choice": "auto",
                  "tools": [],
                  "top_p": 1.0,
                  "truncation": "disabled",
                  "usage": {
                    "input_tokens": 328,
                    "input_tokens_details": {
                      "cached_tokens": 0,
                      "cache_write_tokens": 0
                    },
                    "output_tokens": 52,
                    "output_tokens_details": {
                      "reasoning_tokens": 0
                    },
                    "total_tokens": 380
                  },
                  "user": null,
                  "metadata": {},
                  "service_tier": "default"
                }
            "#]],
        );
        check::<Vec<StreamEvent>>(
            r#"[
              {"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi","sequence_number":4,"obfuscation":"x"},
              {"type":"response.web_search_call.searching","output_index":0,"item_id":"ws_1","sequence_number":3},
              {"type":"error","code":"ERR_SOMETHING","message":"Something went wrong","param":null,"sequence_number":1}
            ]"#,
            expect![[r#"
                [
                  {
                    "type": "response.output_text.delta",
                    "sequence_number": 4,
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": "Hi",
                    "obfuscation": "x"
                  },
                  {
                    "type": "response.web_search_call.searching",
                    "output_index": 0,
                    "item_id": "ws_1",
                    "sequence_number": 3
                  },
                  {
                    "type": "error",
                    "sequence_number": 1,
                    "code": "ERR_SOMETHING",
                    "message": "Something went wrong",
                    "param": null
                  }
                ]
            "#]],
        );
        check::<StreamEvent>(
            r#"{"delta": "no type"}"#,
            expect![[r#"
                error: invalid JSON: a stream event needs a string `type`
            "#]],
        );
    }

    #[test]
    fn events_are_written_as_server_sent_events() {
        let event = StreamEvent::OutputTextDelta(TextDeltaEvent {
            sequence_number: 4,
            item_id: "msg_1".to_owned(),
            output_index: 0,
            content_index: 0,
            delta: "Hi\nthere".to_owned(),
            logprobs: Some(Vec::new()),
            extra: Map::new(),
        });
        assert_eq!(event.event_type(), "response.output_text.delta");
        assert_eq!(event.sequence_number(), 4);
        assert_eq!(
            event.to_sse(),
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":4,\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hi\\nthere\",\"logprobs\":[]}\n\n"
        );
    }
}
