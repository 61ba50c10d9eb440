//! Anthropic Messages ↔ OpenAI Chat Completions, Hearth's canonical form, both ways.
//!
//! The client direction serves `POST /v1/messages` in front of any backend: the request becomes
//! a chat request ([`messages_request_to_openai`]) and the answer comes back as a message
//! ([`chat_response_to_messages`], [`OpenAiToAnthropicStream`]). The backend direction reaches
//! Anthropic's cloud from a chat request ([`chat_request_to_messages`]) and reads its answer
//! ([`messages_response_to_openai`], [`AnthropicToOpenAiStream`]).
//!
//! The shapes differ most in three places. Anthropic puts the system prompt in a field, tool
//! results in user messages (as `tool_result` blocks) and requires user and assistant turns to
//! alternate; OpenAI has a `system` message, one `tool` message per result and no alternation
//! rule. Anthropic's tool input is a JSON object, OpenAI's arguments a JSON string. And a
//! streamed Anthropic answer is a sequence of numbered blocks (`content_block_start`, deltas,
//! `content_block_stop`), where OpenAI sends loose deltas of content, reasoning and indexed tool
//! calls.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value, json};

use super::arguments::arguments_to_object;
use super::response::{CompletionIds, reasoning};
use crate::ProtocolError;
use crate::anthropic::{
    self, BlockDelta, ContentBlock, DeltaUsage, ErrorDetail, ImageBlock, ImageSource, MessageDelta,
    MessageRole, MessagesResponse, StopReason, StreamEvent, TextBlock, ThinkingBlock,
    ToolResultBlock, ToolUseBlock,
};
use crate::error::excerpt;
use crate::openai::chat::{
    ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, ChatMessage, Choice,
    ChunkChoice, ContentPart, Delta, FinishReason, FunctionCall, FunctionCallDelta,
    FunctionDefinition, FunctionName, ImageUrl, ImageUrlPart, MessageContent, NamedToolChoice,
    ResponseMessage, Role, Stop, StreamOptions, TextPart, Tool, ToolCall, ToolCallDelta,
    ToolChoice, ToolChoiceMode, Usage,
};

/// The most argument text one streamed tool call may accumulate (as for the Ollama streams).
const MAX_ARGUMENTS_BYTES: usize = 8 * 1024 * 1024;
const NAME_CHARS: usize = 64;
const KIND_CHARS: usize = 40;
const URL_CHARS: usize = 60;
const MESSAGE_CHARS: usize = 300;

/// The reasoning budget for an OpenAI `reasoning_effort`, towards Anthropic.
const LOW_BUDGET: u32 = 1024;
const MEDIUM_BUDGET: u32 = 4096;
const HIGH_BUDGET: u32 = 16384;

const NO_EQUIVALENT: &str =
    "has no equivalent in OpenAI Chat Completions, which Hearth's backends speak";
const NOT_IN_USER: &str = "cannot appear in a user message";
const NOT_IN_ASSISTANT: &str = "cannot appear in an assistant message";
const NOT_IN_SYSTEM: &str = "cannot appear in a system prompt, which takes only text";
const NOT_IN_TOOL_RESULT: &str = "cannot appear in a tool result, which takes text and images";

// ---------------------------------------------------------------------------------------------
// Anthropic client → canonical request

/// A Messages request as a Chat Completions request, for any backend.
///
/// The system prompt becomes a leading `system` message; each `tool_result` becomes a `tool`
/// message, placed before what else its user message says (and one whose `tool_use_id` no
/// earlier `tool_use` has is refused); `is_error` results are prefixed `Error: `. Images a tool
/// returned go into the user message after the results. `max_tokens` is sent as `max_tokens`,
/// the field local servers read. A streamed request asks for usage in the stream, which
/// `message_delta` reports.
pub fn messages_request_to_openai(
    request: anthropic::MessagesRequest,
) -> Result<ChatCompletionRequest, ProtocolError> {
    let anthropic::MessagesRequest {
        model,
        messages,
        system,
        max_tokens,
        stop_sequences,
        temperature,
        top_p,
        top_k,
        stream,
        tools,
        tool_choice,
        thinking,
        metadata,
        ..
    } = request;
    if messages.is_empty() {
        return Err(ProtocolError::EmptyMessages);
    }

    let mut out = Vec::with_capacity(messages.len() + 1);
    if let Some(system) = system {
        let text = system_to_openai(system)?;
        if !text.is_empty() {
            out.push(ChatMessage::text(Role::System, text));
        }
    }
    let mut tool_use_ids = HashSet::new();
    for (index, message) in messages.into_iter().enumerate() {
        match message.role {
            MessageRole::User => user_to_openai(index, message.content, &tool_use_ids, &mut out)?,
            MessageRole::Assistant => {
                out.push(assistant_to_openai(
                    index,
                    message.content,
                    &mut tool_use_ids,
                )?);
            }
            MessageRole::Other(role) => {
                return Err(ProtocolError::UnknownRole {
                    index,
                    role: excerpt(&role, KIND_CHARS),
                    expected: "user, assistant",
                });
            }
        }
    }

    let tools = tools
        .into_iter()
        .enumerate()
        .map(|(index, tool)| tool_to_openai(index, tool))
        .collect::<Result<Vec<_>, _>>()?;
    let mut extra = Map::new();
    let tool_choice = match tool_choice {
        Some(choice) => {
            let (choice, serial) = tool_choice_to_openai(choice, &tools)?;
            if serial {
                extra.insert("parallel_tool_calls".to_owned(), Value::Bool(false));
            }
            Some(choice)
        }
        None => None,
    };
    if let Some(top_k) = top_k {
        extra.insert("top_k".to_owned(), Value::from(top_k));
    }
    if let Some(user) = metadata.and_then(|metadata| metadata.user_id) {
        extra.insert("user".to_owned(), Value::String(user));
    }
    let streams = stream.unwrap_or(false);
    Ok(ChatCompletionRequest {
        model,
        messages: out,
        tools,
        tool_choice,
        stream,
        stream_options: streams.then(|| StreamOptions {
            include_usage: Some(true),
            extra: Map::new(),
        }),
        max_tokens: Some(max_tokens),
        temperature,
        top_p,
        stop: (!stop_sequences.is_empty()).then_some(Stop::Many(stop_sequences)),
        reasoning_effort: thinking.and_then(effort_from_thinking),
        extra,
        ..ChatCompletionRequest::default()
    })
}

fn system_to_openai(system: anthropic::System) -> Result<String, ProtocolError> {
    let blocks = match system {
        anthropic::MessageContent::Text(text) => return Ok(text),
        anthropic::MessageContent::Blocks(blocks) => blocks,
    };
    let mut texts = Vec::with_capacity(blocks.len());
    for (position, block) in blocks.into_iter().enumerate() {
        match block {
            ContentBlock::Text(block) => texts.push(block.text),
            other => {
                return Err(refused(
                    format!("system[{position}]"),
                    &other,
                    NOT_IN_SYSTEM,
                ));
            }
        }
    }
    Ok(texts.join("\n"))
}

/// The tool messages of a user turn's results, then the user message with the rest.
fn user_to_openai(
    index: usize,
    content: anthropic::MessageContent,
    tool_use_ids: &HashSet<String>,
    out: &mut Vec<ChatMessage>,
) -> Result<(), ProtocolError> {
    let blocks = match content {
        anthropic::MessageContent::Text(text) => {
            out.push(ChatMessage::text(Role::User, text));
            return Ok(());
        }
        anthropic::MessageContent::Blocks(blocks) => blocks,
    };
    let mut results = 0;
    let mut tool_images = Vec::new();
    let mut parts = Vec::with_capacity(blocks.len());
    for (position, block) in blocks.into_iter().enumerate() {
        let at = || format!("messages[{index}].content[{position}]");
        match block {
            ContentBlock::Text(block) => parts.push(text_part(block.text)),
            ContentBlock::Image(block) => parts.push(image_part(block.source)),
            ContentBlock::ToolResult(result) => {
                if !tool_use_ids.contains(&result.tool_use_id) {
                    return Err(ProtocolError::UnknownToolUseId {
                        at: at(),
                        id: excerpt(&result.tool_use_id, NAME_CHARS),
                    });
                }
                let (text, images) = tool_result_to_openai(&at(), result.content)?;
                let text = if result.is_error == Some(true) {
                    format!("Error: {text}")
                } else {
                    text
                };
                let mut message = ChatMessage::text(Role::Tool, text);
                message.tool_call_id = Some(result.tool_use_id);
                out.push(message);
                results += 1;
                tool_images.extend(images);
            }
            other @ ContentBlock::Other(_) => return Err(refused(at(), &other, NO_EQUIVALENT)),
            other => return Err(refused(at(), &other, NOT_IN_USER)),
        }
    }
    // Images a tool returned reach the model in the user turn right after the results.
    tool_images.extend(parts);
    let parts = tool_images;
    if !parts.is_empty() || results == 0 {
        let mut message = ChatMessage::text(Role::User, "");
        message.content = Some(content_of_parts(parts));
        out.push(message);
    }
    Ok(())
}

/// A tool result's text (its text blocks joined with `\n`) and images.
fn tool_result_to_openai(
    at: &str,
    content: Option<anthropic::MessageContent>,
) -> Result<(String, Vec<ContentPart>), ProtocolError> {
    let blocks = match content {
        None => return Ok((String::new(), Vec::new())),
        Some(anthropic::MessageContent::Text(text)) => return Ok((text, Vec::new())),
        Some(anthropic::MessageContent::Blocks(blocks)) => blocks,
    };
    let mut texts = Vec::new();
    let mut images = Vec::new();
    for (position, block) in blocks.into_iter().enumerate() {
        match block {
            ContentBlock::Text(block) => texts.push(block.text),
            ContentBlock::Image(block) => images.push(image_part(block.source)),
            other => {
                let reason = match other {
                    ContentBlock::Other(_) => NO_EQUIVALENT,
                    _ => NOT_IN_TOOL_RESULT,
                };
                return Err(refused(format!("{at}.content[{position}]"), &other, reason));
            }
        }
    }
    Ok((texts.join("\n"), images))
}

fn assistant_to_openai(
    index: usize,
    content: anthropic::MessageContent,
    tool_use_ids: &mut HashSet<String>,
) -> Result<ChatMessage, ProtocolError> {
    let blocks = match content {
        anthropic::MessageContent::Text(text) => {
            return Ok(ChatMessage::text(Role::Assistant, text));
        }
        anthropic::MessageContent::Blocks(blocks) => blocks,
    };
    let mut texts = Vec::new();
    let mut thinking = Vec::new();
    let mut tool_calls = Vec::new();
    for (position, block) in blocks.into_iter().enumerate() {
        let at = || format!("messages[{index}].content[{position}]");
        match block {
            ContentBlock::Text(block) => texts.push(block.text),
            ContentBlock::Thinking(block) => thinking.push(block.thinking),
            // Encrypted: nothing another model can read.
            ContentBlock::RedactedThinking(_) => {}
            ContentBlock::ToolUse(call) => {
                tool_use_ids.insert(call.id.clone());
                tool_calls.push(ToolCall {
                    id: call.id,
                    kind: "function".to_owned(),
                    function: FunctionCall {
                        name: call.name,
                        arguments: call.input.to_string(),
                        extra: Map::new(),
                    },
                    extra: Map::new(),
                });
            }
            other @ ContentBlock::Other(_) => return Err(refused(at(), &other, NO_EQUIVALENT)),
            other => return Err(refused(at(), &other, NOT_IN_ASSISTANT)),
        }
    }
    let content = if texts.is_empty() && !tool_calls.is_empty() {
        None
    } else {
        Some(MessageContent::Text(texts.join("\n")))
    };
    Ok(ChatMessage {
        role: Role::Assistant,
        content,
        name: None,
        tool_calls,
        tool_call_id: None,
        reasoning_content: (!thinking.is_empty()).then(|| thinking.join("\n")),
        extra: Map::new(),
    })
}

fn refused(at: String, block: &ContentBlock, reason: &'static str) -> ProtocolError {
    ProtocolError::UnsupportedBlock {
        at,
        kind: excerpt(block.kind(), KIND_CHARS),
        reason,
    }
}

fn text_part(text: String) -> ContentPart {
    ContentPart::Text(TextPart {
        text,
        extra: Map::new(),
    })
}

fn image_part(source: ImageSource) -> ContentPart {
    let url = match source {
        ImageSource::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
        ImageSource::Url { url } => url,
    };
    ContentPart::ImageUrl(ImageUrlPart {
        image_url: ImageUrl {
            url,
            detail: None,
            extra: Map::new(),
        },
        extra: Map::new(),
    })
}

/// Text alone as a string (parts joined with `\n`), what every backend reads; parts otherwise.
fn content_of_parts(parts: Vec<ContentPart>) -> MessageContent {
    if parts
        .iter()
        .all(|part| matches!(part, ContentPart::Text(_)))
    {
        let texts: Vec<String> = parts
            .into_iter()
            .filter_map(|part| match part {
                ContentPart::Text(part) => Some(part.text),
                _ => None,
            })
            .collect();
        MessageContent::Text(texts.join("\n"))
    } else {
        MessageContent::Parts(parts)
    }
}

fn tool_to_openai(index: usize, tool: anthropic::Tool) -> Result<Tool, ProtocolError> {
    if !tool.is_custom() {
        return Err(ProtocolError::UnsupportedToolType {
            index,
            kind: excerpt(tool.kind.as_deref().unwrap_or_default(), KIND_CHARS),
        });
    }
    let strict = tool.extra.get("strict").and_then(Value::as_bool);
    Ok(Tool {
        kind: "function".to_owned(),
        function: Some(FunctionDefinition {
            name: tool.name,
            description: tool.description,
            parameters: (!tool.input_schema.is_null()).then_some(tool.input_schema),
            strict,
            extra: Map::new(),
        }),
        extra: Map::new(),
    })
}

/// The OpenAI choice, and whether calls must come one at a time.
fn tool_choice_to_openai(
    choice: anthropic::ToolChoice,
    tools: &[Tool],
) -> Result<(ToolChoice, bool), ProtocolError> {
    let (choice, serial) = match choice {
        anthropic::ToolChoice::Auto {
            disable_parallel_tool_use,
        } => (
            ToolChoice::Mode(ToolChoiceMode::Auto),
            disable_parallel_tool_use,
        ),
        anthropic::ToolChoice::Any {
            disable_parallel_tool_use,
        } => (
            ToolChoice::Mode(ToolChoiceMode::Required),
            disable_parallel_tool_use,
        ),
        anthropic::ToolChoice::None {
            disable_parallel_tool_use,
        } => (
            ToolChoice::Mode(ToolChoiceMode::None),
            disable_parallel_tool_use,
        ),
        anthropic::ToolChoice::Tool {
            name,
            disable_parallel_tool_use,
        } => {
            let known = tools.iter().any(|tool| {
                tool.function
                    .as_ref()
                    .is_some_and(|function| function.name == name)
            });
            if !known {
                return Err(ProtocolError::ToolChoiceNotInTools {
                    name: excerpt(&name, NAME_CHARS),
                });
            }
            let named = NamedToolChoice {
                kind: "function".to_owned(),
                function: FunctionName { name },
            };
            (ToolChoice::Function(named), disable_parallel_tool_use)
        }
    };
    Ok((choice, serial == Some(true)))
}

/// `budget_tokens` as an effort: under 2048 `low`, under 8192 `medium`, else `high`. Disabled
/// and adaptive thinking send no effort (the model's default).
fn effort_from_thinking(thinking: anthropic::Thinking) -> Option<String> {
    match thinking {
        anthropic::Thinking::Enabled { budget_tokens } => Some(
            match budget_tokens {
                0..2048 => "low",
                2048..8192 => "medium",
                _ => "high",
            }
            .to_owned(),
        ),
        anthropic::Thinking::Disabled | anthropic::Thinking::Adaptive => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Canonical response → Anthropic client

/// A chat response as a message with the caller's `id` (`msg_…`). Reasoning comes first as a
/// `thinking` block (with an empty signature), then the text, then each tool call as a
/// `tool_use` block; an answer with none of these is one empty text block, so that
/// `content[0].text` holds. Only choice 0 is kept; tool-call arguments must parse as objects.
pub fn chat_response_to_messages(
    response: ChatCompletionResponse,
    id: &str,
) -> Result<MessagesResponse, ProtocolError> {
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
    let mut content = Vec::new();
    let mut calls_tools = false;
    if let Some(message) = message {
        if let Some(thinking) = reasoning(message.reasoning_content, &message.extra) {
            content.push(thinking_block(thinking));
        }
        if let Some(text) = message.content.filter(|text| !text.is_empty()) {
            content.push(ContentBlock::text(text));
        }
        for (index, call) in message.tool_calls.into_iter().enumerate() {
            let input = arguments_to_object(&call.function.name, &call.function.arguments)?;
            content.push(ContentBlock::ToolUse(ToolUseBlock {
                id: tool_use_id(call.id, index, id),
                name: call.function.name,
                input: Value::Object(input),
                extra: Map::new(),
            }));
            calls_tools = true;
        }
    }
    if content.is_empty() {
        content.push(ContentBlock::text(""));
    }
    let usage = usage.unwrap_or_default();
    Ok(MessagesResponse {
        id: id.to_owned(),
        kind: "message".to_owned(),
        role: MessageRole::Assistant,
        content,
        model,
        stop_reason: Some(stop_reason(finish.as_ref(), calls_tools)),
        stop_sequence: None,
        usage: anthropic::Usage {
            input_tokens: usage.prompt_tokens,
            output_tokens: usage.completion_tokens,
            ..anthropic::Usage::default()
        },
        extra: Map::new(),
    })
}

fn thinking_block(thinking: String) -> ContentBlock {
    ContentBlock::Thinking(ThinkingBlock {
        thinking,
        signature: String::new(),
        extra: Map::new(),
    })
}

/// The call's own id, else `toolu_<index>_<message id>`.
fn tool_use_id(id: String, index: impl std::fmt::Display, message_id: &str) -> String {
    if id.is_empty() {
        format!("toolu_{index}_{message_id}")
    } else {
        id
    }
}

/// `max_tokens` when cut, `refusal` when filtered, `tool_use` when the answer calls tools
/// (whatever the backend said), else `end_turn`: Chat Completions cannot tell a stop sequence
/// from a natural end.
fn stop_reason(finish: Option<&FinishReason>, calls_tools: bool) -> StopReason {
    match finish {
        Some(FinishReason::Length) => StopReason::MaxTokens,
        Some(FinishReason::ContentFilter) => StopReason::Refusal,
        _ if calls_tools => StopReason::ToolUse,
        _ => StopReason::EndTurn,
    }
}

// ---------------------------------------------------------------------------------------------
// Canonical stream → Anthropic client

/// Turns OpenAI chunks into Anthropic stream events: `message_start` first; text, reasoning and
/// each tool call as numbered blocks, a change of kind closing the open block and opening the
/// next; at [`Self::finish`] (call it on `[DONE]` or at the end of the body; it also happens
/// once both the finish reason and the usage are in) the open block's `content_block_stop`,
/// `message_delta` with the stop reason and usage, and `message_stop`.
///
/// Tool calls stream as they come: the fragment that names a call opens its `tool_use` block
/// (arguments sent before the name wait for it), the argument fragments follow as
/// `input_json_delta`. Servers send calls one after another; a call that goes on after a later
/// one started cannot be followed (its block is closed) and is refused with
/// [`ProtocolError::ToolCallsInterleaved`]. Only choice 0 is followed; chunks after the end
/// are ignored.
#[derive(Debug)]
pub struct OpenAiToAnthropicStream {
    id: String,
    model: String,
    started: bool,
    finished: bool,
    /// How many blocks have been opened: the next block's index.
    blocks: u32,
    open: Option<(u32, OpenBlock)>,
    /// OpenAI tool-call index → the call.
    calls: BTreeMap<u32, StreamedCall>,
    calls_tools: bool,
    finish_reason: Option<FinishReason>,
    usage: Option<Usage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpenBlock {
    Text,
    Thinking,
    /// The tool call of this OpenAI index.
    Tool(u32),
}

#[derive(Debug, Default)]
struct StreamedCall {
    id: Option<String>,
    name: String,
    /// Argument text not yet sent (it waits for the call's name).
    unsent: String,
    bytes: usize,
    state: CallState,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum CallState {
    /// Not named yet: no block.
    #[default]
    Unnamed,
    Open,
    Closed,
}

impl OpenAiToAnthropicStream {
    /// A stream answering as message `id` (`msg_…`) of `model`.
    pub fn new(id: impl Into<String>, model: impl Into<String>) -> Self {
        OpenAiToAnthropicStream {
            id: id.into(),
            model: model.into(),
            started: false,
            finished: false,
            blocks: 0,
            open: None,
            calls: BTreeMap::new(),
            calls_tools: false,
            finish_reason: None,
            usage: None,
        }
    }

    /// Whether `message_stop` (or an `error` event) has gone out.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The events one OpenAI chunk becomes (zero or more).
    pub fn push(&mut self, chunk: ChatCompletionChunk) -> Result<Vec<StreamEvent>, ProtocolError> {
        if self.finished {
            return Ok(Vec::new());
        }
        let ChatCompletionChunk {
            model,
            choices,
            usage,
            ..
        } = chunk;
        if self.model.is_empty() {
            self.model = model;
        }
        // The usage-only chunk (no choices) is the last one; a backend that reports usage on
        // every chunk (vLLM's continuous usage) must not end the message early.
        let last = usage.is_some() && choices.is_empty();
        if usage.is_some() {
            self.usage = usage;
        }
        let mut out = Vec::new();
        self.start(&mut out);
        for choice in choices.into_iter().filter(|choice| choice.index == 0) {
            let Delta {
                content,
                reasoning_content,
                tool_calls,
                extra,
                ..
            } = choice.delta;
            if let Some(thinking) = reasoning(reasoning_content, &extra) {
                let delta = BlockDelta::ThinkingDelta { thinking };
                self.delta(OpenBlock::Thinking, delta, &mut out);
            }
            if let Some(text) = content.filter(|text| !text.is_empty()) {
                self.delta(OpenBlock::Text, BlockDelta::TextDelta { text }, &mut out);
            }
            for fragment in tool_calls {
                self.tool_fragment(fragment, &mut out)?;
            }
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(reason);
            }
        }
        if self.finish_reason.is_some() && last {
            out.extend(self.finish());
        }
        Ok(out)
    }

    /// The end of the stream: closes the open block, then `message_delta` and `message_stop`
    /// (with `message_start` first when no chunk came). Nothing once finished.
    pub fn finish(&mut self) -> Vec<StreamEvent> {
        if self.finished {
            return Vec::new();
        }
        let mut out = Vec::new();
        self.start(&mut out);
        self.close(&mut out);
        let unnamed = self
            .calls
            .iter()
            .find(|(_, call)| call.state == CallState::Unnamed && call.bytes > 0);
        if let Some((&index, _)) = unnamed {
            out.extend(self.fail(&ProtocolError::ToolCallWithoutName { index }.to_string()));
            return out;
        }
        self.finished = true;
        let usage = self.usage.take();
        out.push(StreamEvent::MessageDelta {
            delta: MessageDelta {
                stop_reason: Some(stop_reason(self.finish_reason.as_ref(), self.calls_tools)),
                stop_sequence: None,
                extra: Map::new(),
            },
            usage: DeltaUsage {
                output_tokens: usage.as_ref().map_or(0, |usage| usage.completion_tokens),
                input_tokens: usage.as_ref().map(|usage| usage.prompt_tokens),
                ..DeltaUsage::default()
            },
        });
        out.push(StreamEvent::MessageStop);
        out
    }

    /// The stream broke (the backend failed or sent something untranslatable): one `error`
    /// event of type `api_error` saying `message`, and nothing after it.
    pub fn fail(&mut self, message: &str) -> Vec<StreamEvent> {
        if self.finished {
            return Vec::new();
        }
        self.finished = true;
        vec![StreamEvent::Error {
            error: ErrorDetail {
                kind: "api_error".to_owned(),
                message: message.to_owned(),
                extra: Map::new(),
            },
        }]
    }

    fn start(&mut self, out: &mut Vec<StreamEvent>) {
        if self.started {
            return;
        }
        self.started = true;
        out.push(StreamEvent::MessageStart {
            message: MessagesResponse {
                id: self.id.clone(),
                kind: "message".to_owned(),
                role: MessageRole::Assistant,
                content: Vec::new(),
                model: self.model.clone(),
                stop_reason: None,
                stop_sequence: None,
                usage: anthropic::Usage {
                    input_tokens: self.usage.as_ref().map_or(0, |usage| usage.prompt_tokens),
                    ..anthropic::Usage::default()
                },
                extra: Map::new(),
            },
        });
    }

    /// A text or thinking delta, in a block of its kind (opened when another kind is open).
    fn delta(&mut self, kind: OpenBlock, delta: BlockDelta, out: &mut Vec<StreamEvent>) {
        let index = match self.open {
            Some((index, open)) if open == kind => index,
            _ => {
                let block = match kind {
                    OpenBlock::Thinking => thinking_block(String::new()),
                    _ => ContentBlock::text(""),
                };
                self.open_block(kind, block, out)
            }
        };
        out.push(StreamEvent::ContentBlockDelta { index, delta });
    }

    fn tool_fragment(
        &mut self,
        fragment: ToolCallDelta,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), ProtocolError> {
        let ToolCallDelta {
            index: call_index,
            id,
            function,
            ..
        } = fragment;
        let (name, arguments) = function
            .map(|function| (function.name, function.arguments))
            .unwrap_or_default();
        let arguments = arguments.filter(|arguments| !arguments.is_empty());
        let call = self.calls.entry(call_index).or_default();
        if call.state == CallState::Closed {
            return match arguments {
                Some(_) => Err(ProtocolError::ToolCallsInterleaved { index: call_index }),
                None => Ok(()),
            };
        }
        if let Some(id) = id.filter(|id| !id.is_empty()) {
            call.id.get_or_insert(id);
        }
        if let Some(name) = name.filter(|name| !name.is_empty())
            && call.name.is_empty()
        {
            call.name = name;
        }
        if let Some(arguments) = arguments {
            if call.bytes + arguments.len() > MAX_ARGUMENTS_BYTES {
                return Err(ProtocolError::ToolArgumentsTooLong {
                    tool: excerpt(&call.name, NAME_CHARS),
                    limit: MAX_ARGUMENTS_BYTES,
                });
            }
            call.bytes += arguments.len();
            call.unsent.push_str(&arguments);
        }

        if call.state == CallState::Unnamed && !call.name.is_empty() {
            call.state = CallState::Open;
            let block = ContentBlock::ToolUse(ToolUseBlock {
                id: tool_use_id(call.id.clone().unwrap_or_default(), call_index, &self.id),
                name: call.name.clone(),
                input: Value::Object(Map::new()),
                extra: Map::new(),
            });
            self.calls_tools = true;
            self.close(out);
            self.open_block(OpenBlock::Tool(call_index), block, out);
        }
        if let Some((index, OpenBlock::Tool(open))) = self.open
            && open == call_index
            && let Some(call) = self.calls.get_mut(&call_index)
            && !call.unsent.is_empty()
        {
            let partial_json = std::mem::take(&mut call.unsent);
            out.push(StreamEvent::ContentBlockDelta {
                index,
                delta: BlockDelta::InputJsonDelta { partial_json },
            });
        }
        Ok(())
    }

    fn open_block(
        &mut self,
        kind: OpenBlock,
        content_block: ContentBlock,
        out: &mut Vec<StreamEvent>,
    ) -> u32 {
        self.close(out);
        let index = self.blocks;
        self.blocks += 1;
        self.open = Some((index, kind));
        out.push(StreamEvent::ContentBlockStart {
            index,
            content_block,
        });
        index
    }

    fn close(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some((index, kind)) = self.open.take() {
            if let OpenBlock::Tool(call) = kind
                && let Some(call) = self.calls.get_mut(&call)
            {
                call.state = CallState::Closed;
            }
            out.push(StreamEvent::ContentBlockStop { index });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Canonical request → Anthropic backend

/// A Chat Completions request as a Messages request, for Anthropic's cloud.
///
/// `system` and `developer` messages are joined (with `\n`) into `system`; `tool` results
/// become `tool_result` blocks of a user message; consecutive messages of one role are merged,
/// as Anthropic requires turns to alternate, with tool results first in their user turn; empty
/// messages are left out; past reasoning is dropped (Anthropic takes back only its own signed
/// thinking). `max_tokens` is `max_completion_tokens`, else `max_tokens`, else
/// `default_max_tokens`. A `reasoning_effort` of `low`, `medium` or `high` (`xhigh`) enables
/// thinking with 1024, 4096 or 16384 budget tokens, `max_tokens` raised by the budget when it
/// does not exceed it; thinking drops `temperature`, `top_p` and `top_k`, which Anthropic refuses
/// with it, and is itself dropped when a tool is forced, which Anthropic refuses too.
pub fn chat_request_to_messages(
    request: ChatCompletionRequest,
    default_max_tokens: u32,
) -> Result<anthropic::MessagesRequest, ProtocolError> {
    if let Some(n) = request.n
        && n > 1
    {
        return Err(ProtocolError::OutOfRange {
            field: "n",
            value: n.to_string(),
            expected: "1: Anthropic answers with one choice per request",
        });
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
        stop,
        reasoning_effort,
        extra,
        ..
    } = request;

    let mut system = Vec::new();
    let mut turns: Vec<anthropic::Message> = Vec::new();
    let mut pending = Vec::new();
    for (index, message) in messages.into_iter().enumerate() {
        let (role, blocks) = match message.role.clone() {
            Role::System | Role::Developer => {
                let text = system_from_openai(index, message.content)?;
                if !text.is_empty() {
                    system.push(text);
                }
                continue;
            }
            Role::User => (
                MessageRole::User,
                blocks_from_openai(index, message.content, "Anthropic")?,
            ),
            Role::Assistant => (
                MessageRole::Assistant,
                assistant_from_openai(index, message, &mut pending)?,
            ),
            Role::Tool | Role::Function => (
                MessageRole::User,
                vec![tool_result_from_openai(index, message, &mut pending)?],
            ),
            Role::Other(role) => {
                return Err(ProtocolError::UnknownRole {
                    index,
                    role: excerpt(&role, KIND_CHARS),
                    expected: "system, developer, user, assistant, tool",
                });
            }
        };
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some(last) if last.role == role => {
                if let anthropic::MessageContent::Blocks(existing) = &mut last.content {
                    existing.extend(blocks);
                }
            }
            _ => turns.push(anthropic::Message {
                role,
                content: anthropic::MessageContent::Blocks(blocks),
                extra: Map::new(),
            }),
        }
    }
    for turn in &mut turns {
        if let anthropic::MessageContent::Blocks(blocks) = &mut turn.content {
            // Anthropic wants a user turn's tool results before anything else (a stable sort).
            blocks.sort_by_key(|block| !matches!(block, ContentBlock::ToolResult(_)));
        }
    }

    let tools = tools
        .into_iter()
        .enumerate()
        .map(|(index, tool)| tool_from_openai(index, tool))
        .collect::<Result<Vec<_>, _>>()?;
    let serial = extra.get("parallel_tool_calls").and_then(Value::as_bool) == Some(false);
    let tool_choice = tool_choice_from_openai(tool_choice, &tools, serial)?;
    let forced = matches!(
        tool_choice,
        Some(anthropic::ToolChoice::Any { .. } | anthropic::ToolChoice::Tool { .. })
    );
    let budget = match reasoning_effort.as_deref() {
        _ if forced => None,
        Some("low") => Some(LOW_BUDGET),
        Some("medium") => Some(MEDIUM_BUDGET),
        Some("high" | "xhigh") => Some(HIGH_BUDGET),
        _ => None,
    };
    let mut max_tokens = max_completion_tokens
        .or(max_tokens)
        .unwrap_or(default_max_tokens);
    if let Some(budget) = budget
        && max_tokens <= budget
    {
        max_tokens = max_tokens.saturating_add(budget);
    }
    let thinks = budget.is_some();
    let top_k = extra
        .get("top_k")
        .and_then(Value::as_u64)
        .and_then(|top_k| u32::try_from(top_k).ok());
    let user_id = extra.get("user").and_then(Value::as_str).map(str::to_owned);
    Ok(anthropic::MessagesRequest {
        model,
        messages: turns,
        system: (!system.is_empty()).then(|| anthropic::MessageContent::Text(system.join("\n"))),
        max_tokens,
        stop_sequences: stop.map(Stop::into_vec).unwrap_or_default(),
        // OpenAI's range is 0 to 2, Anthropic's 0 to 1.
        temperature: temperature
            .filter(|_| !thinks)
            .map(|temperature| temperature.clamp(0.0, 1.0)),
        top_p: top_p.filter(|_| !thinks),
        top_k: top_k.filter(|_| !thinks),
        stream,
        tools,
        tool_choice,
        thinking: budget.map(|budget_tokens| anthropic::Thinking::Enabled { budget_tokens }),
        metadata: user_id.map(|user_id| anthropic::Metadata {
            user_id: Some(user_id),
            extra: Map::new(),
        }),
        extra: Map::new(),
    })
}

fn system_from_openai(
    index: usize,
    content: Option<MessageContent>,
) -> Result<String, ProtocolError> {
    let parts = match content {
        None => return Ok(String::new()),
        Some(MessageContent::Text(text)) => return Ok(text),
        Some(MessageContent::Parts(parts)) => parts,
    };
    let mut texts = Vec::with_capacity(parts.len());
    for part in parts {
        match part {
            ContentPart::Text(part) => texts.push(part.text),
            other => {
                return Err(ProtocolError::UnsupportedContentPart {
                    index,
                    kind: excerpt(other.kind(), KIND_CHARS),
                    target: "an Anthropic system prompt",
                });
            }
        }
    }
    Ok(texts.join("\n"))
}

/// Text and images as blocks (empty text left out).
fn blocks_from_openai(
    index: usize,
    content: Option<MessageContent>,
    target: &'static str,
) -> Result<Vec<ContentBlock>, ProtocolError> {
    let parts = match content {
        None => return Ok(Vec::new()),
        Some(MessageContent::Text(text)) if text.is_empty() => return Ok(Vec::new()),
        Some(MessageContent::Text(text)) => return Ok(vec![ContentBlock::text(text)]),
        Some(MessageContent::Parts(parts)) => parts,
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for part in parts {
        match part {
            ContentPart::Text(part) if part.text.is_empty() => {}
            ContentPart::Text(part) => blocks.push(ContentBlock::Text(TextBlock {
                text: part.text,
                extra: Map::new(),
            })),
            ContentPart::ImageUrl(part) => blocks.push(ContentBlock::Image(ImageBlock {
                source: image_source(index, part.image_url.url)?,
                extra: Map::new(),
            })),
            ContentPart::Other(_) => {
                return Err(ProtocolError::UnsupportedContentPart {
                    index,
                    kind: excerpt(part.kind(), KIND_CHARS),
                    target,
                });
            }
        }
    }
    Ok(blocks)
}

/// `data:image/png;base64,iVBOR…` → a base64 source; an http(s) link → a URL source.
fn image_source(index: usize, url: String) -> Result<ImageSource, ProtocolError> {
    let inline = url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(','))
        .and_then(|(media, data)| Some((media.strip_suffix(";base64")?, data)));
    if let Some((media_type, data)) = inline {
        return Ok(ImageSource::Base64 {
            media_type: media_type.to_owned(),
            data: data.to_owned(),
        });
    }
    if url.starts_with("https://") || url.starts_with("http://") {
        return Ok(ImageSource::Url { url });
    }
    Err(ProtocolError::InvalidImageUrl {
        index,
        excerpt: excerpt(&url, URL_CHARS),
    })
}

/// Text, then each tool call as a `tool_use` block; the calls wait in `pending` for results.
fn assistant_from_openai(
    index: usize,
    message: ChatMessage,
    pending: &mut Vec<(String, String)>,
) -> Result<Vec<ContentBlock>, ProtocolError> {
    // Calls an earlier assistant turn left unanswered are not answered later.
    pending.clear();
    let mut blocks = blocks_from_openai(index, message.content, "an Anthropic assistant message")?;
    if let Some(image) = blocks
        .iter()
        .find(|block| matches!(block, ContentBlock::Image(_)))
    {
        return Err(ProtocolError::UnsupportedContentPart {
            index,
            kind: image.kind().to_owned(),
            target: "an Anthropic assistant message",
        });
    }
    for (position, call) in message.tool_calls.into_iter().enumerate() {
        let ToolCall { id, function, .. } = call;
        let input = arguments_to_object(&function.name, &function.arguments)?;
        let id = if id.is_empty() {
            format!("toolu_{index}_{position}")
        } else {
            id
        };
        pending.push((id.clone(), function.name.clone()));
        blocks.push(ContentBlock::ToolUse(ToolUseBlock {
            id,
            name: function.name,
            input: Value::Object(input),
            extra: Map::new(),
        }));
    }
    Ok(blocks)
}

/// A `tool` (or legacy `function`) message as a `tool_result`. Without a `tool_call_id` it
/// answers the first pending call of its `name`, else the first pending call.
fn tool_result_from_openai(
    index: usize,
    message: ChatMessage,
    pending: &mut Vec<(String, String)>,
) -> Result<ContentBlock, ProtocolError> {
    let tool_use_id = match message.tool_call_id.filter(|id| !id.is_empty()) {
        Some(id) => {
            pending.retain(|(pending, _)| *pending != id);
            id
        }
        None => {
            let position = message
                .name
                .as_deref()
                .and_then(|name| pending.iter().position(|(_, call)| call == name))
                .or((!pending.is_empty()).then_some(0));
            match position {
                Some(position) => pending.remove(position).0,
                None => {
                    return Err(ProtocolError::UnknownToolUseId {
                        at: format!("messages[{index}]"),
                        id: String::new(),
                    });
                }
            }
        }
    };
    let content = match message.content {
        None => None,
        Some(MessageContent::Text(text)) => Some(anthropic::MessageContent::Text(text)),
        parts @ Some(MessageContent::Parts(_)) => Some(anthropic::MessageContent::Blocks(
            blocks_from_openai(index, parts, "an Anthropic tool result")?,
        )),
    };
    Ok(ContentBlock::ToolResult(ToolResultBlock {
        tool_use_id,
        content,
        is_error: None,
        extra: Map::new(),
    }))
}

fn tool_from_openai(index: usize, tool: Tool) -> Result<anthropic::Tool, ProtocolError> {
    let function = match tool.function {
        Some(function) if tool.kind == "function" => function,
        _ => {
            return Err(ProtocolError::UnsupportedToolType {
                index,
                kind: excerpt(&tool.kind, KIND_CHARS),
            });
        }
    };
    let mut extra = Map::new();
    if let Some(strict) = function.strict {
        extra.insert("strict".to_owned(), Value::Bool(strict));
    }
    Ok(anthropic::Tool {
        name: function.name,
        description: function.description,
        // Anthropic requires a schema; a function without parameters takes none.
        input_schema: function
            .parameters
            .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        kind: None,
        extra,
    })
}

/// `auto` → `auto`, `required` → `any`, `none` → `none`, a named function → `tool`; newer forms
/// leave the choice to the model. Without tools there is no choice to send.
fn tool_choice_from_openai(
    choice: Option<ToolChoice>,
    tools: &[anthropic::Tool],
    serial: bool,
) -> Result<Option<anthropic::ToolChoice>, ProtocolError> {
    let disable_parallel_tool_use = serial.then_some(true);
    let choice = match choice {
        Some(ToolChoice::Function(named)) => {
            let name = named.function.name;
            if !tools.iter().any(|tool| tool.name == name) {
                return Err(ProtocolError::ToolChoiceNotInTools {
                    name: excerpt(&name, NAME_CHARS),
                });
            }
            anthropic::ToolChoice::Tool {
                name,
                disable_parallel_tool_use,
            }
        }
        Some(ToolChoice::Mode(ToolChoiceMode::Required)) => anthropic::ToolChoice::Any {
            disable_parallel_tool_use,
        },
        Some(ToolChoice::Mode(ToolChoiceMode::None)) => anthropic::ToolChoice::None {
            disable_parallel_tool_use: None,
        },
        Some(ToolChoice::Mode(ToolChoiceMode::Auto)) => anthropic::ToolChoice::Auto {
            disable_parallel_tool_use,
        },
        _ if serial => anthropic::ToolChoice::Auto {
            disable_parallel_tool_use,
        },
        _ => return Ok(None),
    };
    Ok((!tools.is_empty()).then_some(choice))
}

// ---------------------------------------------------------------------------------------------
// Anthropic backend → canonical response

/// An Anthropic message as a chat response. Thinking becomes `reasoning_content`, text blocks
/// are joined as they are (Anthropic splits one answer into blocks around citations), each
/// `tool_use` becomes a tool call keeping its `toolu_…` id; redacted thinking and server-tool
/// blocks have no Chat Completions form and are left out.
pub fn messages_response_to_openai(
    response: MessagesResponse,
    ids: &CompletionIds,
) -> ChatCompletionResponse {
    let MessagesResponse {
        content,
        model,
        stop_reason,
        usage,
        ..
    } = response;
    let mut text = String::new();
    let mut thinking = Vec::new();
    let mut tool_calls = Vec::new();
    for block in content {
        match block {
            ContentBlock::Text(block) => text.push_str(&block.text),
            ContentBlock::Thinking(block) => thinking.push(block.thinking),
            ContentBlock::ToolUse(call) => tool_calls.push(ToolCall {
                id: call.id,
                kind: "function".to_owned(),
                function: FunctionCall {
                    name: call.name,
                    arguments: call.input.to_string(),
                    extra: Map::new(),
                },
                extra: Map::new(),
            }),
            _ => {}
        }
    }
    let content = if text.is_empty() && !tool_calls.is_empty() {
        None
    } else {
        Some(text)
    };
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
                reasoning_content: (!thinking.is_empty()).then(|| thinking.join("\n")),
                tool_calls,
                extra: Map::new(),
            },
            finish_reason: Some(finish_reason(stop_reason.as_ref())),
            extra: Map::new(),
        }],
        usage: Some(usage_to_openai(&usage)),
        extra: Map::new(),
    }
}

/// `end_turn`, `stop_sequence`, `pause_turn` (and unknown reasons) → `stop`; `max_tokens` and
/// `model_context_window_exceeded` → `length`; `tool_use` → `tool_calls`; `refusal` →
/// `content_filter`.
fn finish_reason(stop_reason: Option<&StopReason>) -> FinishReason {
    match stop_reason {
        Some(StopReason::MaxTokens | StopReason::ModelContextWindowExceeded) => {
            FinishReason::Length
        }
        Some(StopReason::ToolUse) => FinishReason::ToolCalls,
        Some(StopReason::Refusal) => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    }
}

/// OpenAI counts the whole prompt, Anthropic's `input_tokens` only its uncached part: the cache
/// counts are added in, and the cache reads reported as `prompt_tokens_details.cached_tokens`.
fn usage_to_openai(usage: &anthropic::Usage) -> Usage {
    let cached = usage.cache_read_input_tokens.unwrap_or(0);
    let prompt_tokens = usage
        .input_tokens
        .saturating_add(usage.cache_creation_input_tokens.unwrap_or(0))
        .saturating_add(cached);
    let mut extra = Map::new();
    if usage.cache_read_input_tokens.is_some() {
        extra.insert(
            "prompt_tokens_details".to_owned(),
            json!({"cached_tokens": cached}),
        );
    }
    Usage {
        prompt_tokens,
        completion_tokens: usage.output_tokens,
        total_tokens: prompt_tokens.saturating_add(usage.output_tokens),
        extra,
    }
}

// ---------------------------------------------------------------------------------------------
// Anthropic backend stream → canonical stream

/// Turns Anthropic stream events into OpenAI chunks: the role at `message_start`, text and
/// thinking deltas as `content` and `reasoning_content`, each `tool_use` block as a tool call
/// (its start gives the index, id and name, its `input_json_delta`s the argument fragments),
/// then at `message_stop` a chunk with the `finish_reason` and — when the client asked with
/// `stream_options.include_usage` — a usage chunk with no choices. An `error` event is returned
/// as [`ProtocolError::UpstreamStreamError`]; `ping`s and unknown events give nothing.
#[derive(Debug)]
pub struct AnthropicToOpenAiStream {
    ids: CompletionIds,
    include_usage: bool,
    model: String,
    started: bool,
    finished: bool,
    /// Anthropic block index → the tool call it streams.
    tool_blocks: BTreeMap<u32, StreamedToolBlock>,
    tool_calls: u32,
    usage: anthropic::Usage,
    stop_reason: Option<StopReason>,
}

#[derive(Debug)]
struct StreamedToolBlock {
    /// The OpenAI tool-call index.
    call: u32,
    name: String,
    bytes: usize,
}

impl AnthropicToOpenAiStream {
    pub fn new(ids: CompletionIds, include_usage: bool) -> Self {
        AnthropicToOpenAiStream {
            ids,
            include_usage,
            model: String::new(),
            started: false,
            finished: false,
            tool_blocks: BTreeMap::new(),
            tool_calls: 0,
            usage: anthropic::Usage::default(),
            stop_reason: None,
        }
    }

    /// Whether the final chunk has gone out (or the upstream failed).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The OpenAI chunks one event becomes (zero or more).
    pub fn push(&mut self, event: StreamEvent) -> Result<Vec<ChatCompletionChunk>, ProtocolError> {
        if self.finished {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        match event {
            StreamEvent::MessageStart { message } => {
                self.model = message.model;
                self.usage = message.usage;
                self.start(&mut out);
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => self.block_start(index, content_block, &mut out),
            StreamEvent::ContentBlockDelta { index, delta } => {
                self.block_delta(index, delta, &mut out)?;
            }
            StreamEvent::MessageDelta { delta, usage } => {
                if delta.stop_reason.is_some() {
                    self.stop_reason = delta.stop_reason;
                }
                self.usage.output_tokens = usage.output_tokens;
                if let Some(input_tokens) = usage.input_tokens {
                    self.usage.input_tokens = input_tokens;
                }
                if usage.cache_creation_input_tokens.is_some() {
                    self.usage.cache_creation_input_tokens = usage.cache_creation_input_tokens;
                }
                if usage.cache_read_input_tokens.is_some() {
                    self.usage.cache_read_input_tokens = usage.cache_read_input_tokens;
                }
            }
            StreamEvent::MessageStop => {
                self.start(&mut out);
                self.finished = true;
                let reason = finish_reason(self.stop_reason.as_ref());
                out.push(self.chunk(vec![choice(Delta::default(), Some(reason))]));
                if self.include_usage {
                    let mut usage = self.chunk(Vec::new());
                    usage.usage = Some(usage_to_openai(&self.usage));
                    out.push(usage);
                }
            }
            StreamEvent::Error { error } => {
                self.finished = true;
                return Err(ProtocolError::UpstreamStreamError {
                    kind: excerpt(&error.kind, KIND_CHARS),
                    message: excerpt(&error.message, MESSAGE_CHARS),
                });
            }
            StreamEvent::ContentBlockStop { .. } | StreamEvent::Ping | StreamEvent::Other(_) => {}
        }
        Ok(out)
    }

    fn block_start(&mut self, index: u32, block: ContentBlock, out: &mut Vec<ChatCompletionChunk>) {
        self.start(out);
        let delta = match block {
            ContentBlock::ToolUse(call) => {
                let call_index = self.tool_calls;
                self.tool_calls += 1;
                // The input is `{}` when it streams; a server that sends it whole is read too.
                let arguments = match call.input {
                    Value::Object(input) if input.is_empty() => String::new(),
                    input => input.to_string(),
                };
                self.tool_blocks.insert(
                    index,
                    StreamedToolBlock {
                        call: call_index,
                        name: call.name.clone(),
                        bytes: arguments.len(),
                    },
                );
                Delta {
                    tool_calls: vec![ToolCallDelta {
                        index: call_index,
                        id: Some(call.id),
                        kind: Some("function".to_owned()),
                        function: Some(FunctionCallDelta {
                            name: Some(call.name),
                            arguments: Some(arguments),
                        }),
                        extra: Map::new(),
                    }],
                    ..Delta::default()
                }
            }
            ContentBlock::Text(block) if !block.text.is_empty() => Delta {
                content: Some(block.text),
                ..Delta::default()
            },
            ContentBlock::Thinking(block) if !block.thinking.is_empty() => Delta {
                reasoning_content: Some(block.thinking),
                ..Delta::default()
            },
            _ => return,
        };
        out.push(self.chunk(vec![choice(delta, None)]));
    }

    fn block_delta(
        &mut self,
        index: u32,
        delta: BlockDelta,
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Result<(), ProtocolError> {
        self.start(out);
        let delta = match delta {
            BlockDelta::TextDelta { text } if !text.is_empty() => Delta {
                content: Some(text),
                ..Delta::default()
            },
            BlockDelta::ThinkingDelta { thinking } if !thinking.is_empty() => Delta {
                reasoning_content: Some(thinking),
                ..Delta::default()
            },
            BlockDelta::InputJsonDelta { partial_json } if !partial_json.is_empty() => {
                // Input of a block that is not a `tool_use` (a server tool's) has no OpenAI form.
                let Some(block) = self.tool_blocks.get_mut(&index) else {
                    return Ok(());
                };
                if block.bytes + partial_json.len() > MAX_ARGUMENTS_BYTES {
                    return Err(ProtocolError::ToolArgumentsTooLong {
                        tool: excerpt(&block.name, NAME_CHARS),
                        limit: MAX_ARGUMENTS_BYTES,
                    });
                }
                block.bytes += partial_json.len();
                Delta {
                    tool_calls: vec![ToolCallDelta {
                        index: block.call,
                        function: Some(FunctionCallDelta {
                            name: None,
                            arguments: Some(partial_json),
                        }),
                        ..ToolCallDelta::default()
                    }],
                    ..Delta::default()
                }
            }
            _ => return Ok(()),
        };
        out.push(self.chunk(vec![choice(delta, None)]));
        Ok(())
    }

    /// The role chunk, once, before anything else.
    fn start(&mut self, out: &mut Vec<ChatCompletionChunk>) {
        if self.started {
            return;
        }
        self.started = true;
        let role = Delta {
            role: Some(Role::Assistant),
            content: Some(String::new()),
            ..Delta::default()
        };
        out.push(self.chunk(vec![choice(role, None)]));
    }

    fn chunk(&self, choices: Vec<ChunkChoice>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.ids.id.clone(),
            object: "chat.completion.chunk".to_owned(),
            created: self.ids.created,
            model: self.model.clone(),
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

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use super::*;
    use crate::from_json;

    fn pretty<T: Serialize>(result: Result<T, ProtocolError>) -> String {
        match result {
            Ok(value) => serde_json::to_string_pretty(&value).unwrap() + "\n",
            Err(error) => format!("error: {error}\n"),
        }
    }

    /// Anthropic request JSON → the chat request sent on (or the error).
    fn check_request_to_openai(json: &str, expect: Expect) {
        let request = from_json(json.as_bytes()).unwrap();
        expect.assert_eq(&pretty(messages_request_to_openai(request)));
    }

    /// Chat response JSON → the Anthropic message Hearth answers with (or the error).
    fn check_response_to_messages(json: &str, expect: Expect) {
        let response = from_json(json.as_bytes()).unwrap();
        expect.assert_eq(&pretty(chat_response_to_messages(response, "msg_hearth_1")));
    }

    /// Chat request JSON → the Anthropic request sent on (or the error).
    fn check_request_to_messages(json: &str, expect: Expect) {
        let request = from_json(json.as_bytes()).unwrap();
        expect.assert_eq(&pretty(chat_request_to_messages(request, 4096)));
    }

    /// Anthropic response JSON → the chat response Hearth answers with.
    fn check_response_to_openai(json: &str, expect: Expect) {
        let response = from_json(json.as_bytes()).unwrap();
        let ids = CompletionIds::new("chatcmpl-7", 1721680408);
        expect.assert_eq(&pretty(Ok(messages_response_to_openai(response, &ids))));
    }

    /// OpenAI `data:` payloads, one per line (`[DONE]` calls `finish`, `FAIL <message>` calls
    /// `fail`) → the `data:` of each Anthropic event, one per line.
    fn check_stream_to_anthropic(lines: &str, expect: Expect) {
        let mut stream = OpenAiToAnthropicStream::new("msg_hearth_1", "qwen3");
        let mut out = String::new();
        let mut emit = |events: Vec<StreamEvent>| {
            for event in events {
                out += &serde_json::to_string(&event).unwrap();
                out += "\n";
            }
        };
        for line in lines.lines().map(str::trim).filter(|line| !line.is_empty()) {
            if line == "[DONE]" {
                emit(stream.finish());
            } else if let Some(message) = line.strip_prefix("FAIL ") {
                emit(stream.fail(message));
            } else {
                match stream.push(from_json(line.as_bytes()).unwrap()) {
                    Ok(events) => emit(events),
                    Err(error) => {
                        out += &format!("error: {error}\n");
                        break;
                    }
                }
            }
        }
        expect.assert_eq(&out);
    }

    /// An Anthropic SSE body as published (`event:` and `data:` lines) → the `data:` of each
    /// OpenAI chunk, one per line.
    fn check_stream_to_openai(sse: &str, include_usage: bool, expect: Expect) {
        let mut stream = AnthropicToOpenAiStream::new(
            CompletionIds::new("chatcmpl-9", 1748386497),
            include_usage,
        );
        let mut out = String::new();
        for data in sse
            .lines()
            .filter_map(|line| line.trim().strip_prefix("data: "))
        {
            match stream.push(from_json(data.as_bytes()).unwrap()) {
                Ok(chunks) => {
                    for chunk in chunks {
                        out += &serde_json::to_string(&chunk).unwrap();
                        out += "\n";
                    }
                }
                Err(error) => out += &format!("error: {error}\n"),
            }
        }
        expect.assert_eq(&out);
    }

    // -----------------------------------------------------------------------------------------
    // Anthropic client → canonical request

    #[test]
    fn basic_request_and_system_as_string() {
        // Anthropic API reference, "Messages", example request, with a system prompt.
        check_request_to_openai(
            r#"{"model": "claude-sonnet-4-5", "max_tokens": 1024, "system": "You are a seasoned data scientist.",
                "messages": [{"role": "user", "content": "Hello, world"}]}"#,
            expect![[r#"
                {
                  "model": "claude-sonnet-4-5",
                  "messages": [
                    {
                      "role": "system",
                      "content": "You are a seasoned data scientist."
                    },
                    {
                      "role": "user",
                      "content": "Hello, world"
                    }
                  ],
                  "max_tokens": 1024
                }
            "#]],
        );
    }

    #[test]
    fn system_as_blocks_and_sampling() {
        // Prompt caching guide: system blocks with `cache_control` (ignored), plus every
        // sampling field and metadata.
        check_request_to_openai(
            r#"{"model": "claude-sonnet-4-5", "max_tokens": 1024,
                "system": [
                  {"type": "text", "text": "You are an AI assistant tasked with analyzing literary works."},
                  {"type": "text", "text": "<the entire contents of Pride and Prejudice>", "cache_control": {"type": "ephemeral"}}
                ],
                "messages": [{"role": "user", "content": [{"type": "text", "text": "Analyze the major themes."}, {"type": "text", "text": "Be brief."}]}],
                "stop_sequences": ["\n\nHuman:"], "temperature": 0.7, "top_p": 0.9, "top_k": 40,
                "metadata": {"user_id": "13803d75-b4b5-4c3e-b2a2-6f21399b021b"},
                "thinking": {"type": "enabled", "budget_tokens": 4000}, "stream": true}"#,
            expect![[r#"
                {
                  "model": "claude-sonnet-4-5",
                  "messages": [
                    {
                      "role": "system",
                      "content": "You are an AI assistant tasked with analyzing literary works.\n<the entire contents of Pride and Prejudice>"
                    },
                    {
                      "role": "user",
                      "content": "Analyze the major themes.\nBe brief."
                    }
                  ],
                  "stream": true,
                  "stream_options": {
                    "include_usage": true
                  },
                  "max_tokens": 1024,
                  "temperature": 0.7,
                  "top_p": 0.9,
                  "stop": [
                    "\n\nHuman:"
                  ],
                  "reasoning_effort": "medium",
                  "top_k": 40,
                  "user": "13803d75-b4b5-4c3e-b2a2-6f21399b021b"
                }
            "#]],
        );
    }

    #[test]
    fn images_to_openai() {
        // Vision guide: a base64 image and a URL image, then the question.
        check_request_to_openai(
            r#"{"model": "claude-sonnet-4-5", "max_tokens": 1024, "messages": [{"role": "user", "content": [
                 {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQSkZJRg"}},
                 {"type": "image", "source": {"type": "url", "url": "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg"}},
                 {"type": "text", "text": "How are these images different?"}]}]}"#,
            expect![[r#"
                {
                  "model": "claude-sonnet-4-5",
                  "messages": [
                    {
                      "role": "user",
                      "content": [
                        {
                          "type": "image_url",
                          "image_url": {
                            "url": "data:image/jpeg;base64,/9j/4AAQSkZJRg"
                          }
                        },
                        {
                          "type": "image_url",
                          "image_url": {
                            "url": "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg"
                          }
                        },
                        {
                          "type": "text",
                          "text": "How are these images different?"
                        }
                      ]
                    }
                  ],
                  "max_tokens": 1024
                }
            "#]],
        );
    }

    #[test]
    fn tool_conversation_to_openai() {
        // Tool use guide: the tools, a forced choice, the assistant's thinking, text and call,
        // then the user's turn with the result (and an error result of a second call) before
        // more text.
        check_request_to_openai(
            r#"{
              "model": "claude-sonnet-4-5",
              "max_tokens": 1024,
              "tools": [{"name": "get_weather", "description": "Get the current weather in a given location",
                         "input_schema": {"type": "object", "properties": {"location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"}}, "required": ["location"]}},
                        {"name": "get_time", "input_schema": {"type": "object"}, "strict": true}],
              "tool_choice": {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": true},
              "messages": [
                {"role": "user", "content": "What's the weather like in San Francisco?"},
                {"role": "assistant", "content": [
                  {"type": "thinking", "thinking": "The user wants the weather.", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"},
                  {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"},
                  {"type": "text", "text": "I'll check the current weather in San Francisco for you."},
                  {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"location": "San Francisco, CA", "unit": "celsius"}},
                  {"type": "tool_use", "id": "toolu_02", "name": "get_time", "input": {}}]},
                {"role": "user", "content": [
                  {"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": "15 degrees"},
                  {"type": "text", "text": "Also, is it raining?"},
                  {"type": "tool_result", "tool_use_id": "toolu_02", "content": [{"type": "text", "text": "clock unavailable"}], "is_error": true}]}
              ]
            }"#,
            expect![[r#"
                {
                  "model": "claude-sonnet-4-5",
                  "messages": [
                    {
                      "role": "user",
                      "content": "What's the weather like in San Francisco?"
                    },
                    {
                      "role": "assistant",
                      "content": "I'll check the current weather in San Francisco for you.",
                      "tool_calls": [
                        {
                          "id": "toolu_01A09q90qw90lq917835lq9",
                          "type": "function",
                          "function": {
                            "name": "get_weather",
                            "arguments": "{\"location\":\"San Francisco, CA\",\"unit\":\"celsius\"}"
                          }
                        },
                        {
                          "id": "toolu_02",
                          "type": "function",
                          "function": {
                            "name": "get_time",
                            "arguments": "{}"
                          }
                        }
                      ],
                      "reasoning_content": "The user wants the weather."
                    },
                    {
                      "role": "tool",
                      "content": "15 degrees",
                      "tool_call_id": "toolu_01A09q90qw90lq917835lq9"
                    },
                    {
                      "role": "tool",
                      "content": "Error: clock unavailable",
                      "tool_call_id": "toolu_02"
                    },
                    {
                      "role": "user",
                      "content": "Also, is it raining?"
                    }
                  ],
                  "tools": [
                    {
                      "type": "function",
                      "function": {
                        "name": "get_weather",
                        "description": "Get the current weather in a given location",
                        "parameters": {
                          "type": "object",
                          "properties": {
                            "location": {
                              "type": "string",
                              "description": "The city and state, e.g. San Francisco, CA"
                            }
                          },
                          "required": [
                            "location"
                          ]
                        }
                      }
                    },
                    {
                      "type": "function",
                      "function": {
                        "name": "get_time",
                        "parameters": {
                          "type": "object"
                        },
                        "strict": true
                      }
                    }
                  ],
                  "tool_choice": {
                    "type": "function",
                    "function": {
                      "name": "get_weather"
                    }
                  },
                  "max_tokens": 1024,
                  "parallel_tool_calls": false
                }
            "#]],
        );
    }

    #[test]
    fn tool_results_with_images_and_no_text() {
        // A screenshot returned by a tool reaches the model after the result; `any` is
        // `required`; a result with no content is empty text.
        check_request_to_openai(
            r#"{"model": "m", "max_tokens": 100, "tools": [{"name": "screenshot", "input_schema": {"type": "object"}}],
                "tool_choice": {"type": "any"},
                "messages": [
                  {"role": "user", "content": "Look at the screen."},
                  {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "screenshot", "input": {}},
                                                    {"type": "tool_use", "id": "toolu_2", "name": "screenshot", "input": {}}]},
                  {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": [
                      {"type": "text", "text": "Screenshot taken."},
                      {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo"}}]},
                    {"type": "tool_result", "tool_use_id": "toolu_2"}]}]}"#,
            expect![[r#"
                {
                  "model": "m",
                  "messages": [
                    {
                      "role": "user",
                      "content": "Look at the screen."
                    },
                    {
                      "role": "assistant",
                      "tool_calls": [
                        {
                          "id": "toolu_1",
                          "type": "function",
                          "function": {
                            "name": "screenshot",
                            "arguments": "{}"
                          }
                        },
                        {
                          "id": "toolu_2",
                          "type": "function",
                          "function": {
                            "name": "screenshot",
                            "arguments": "{}"
                          }
                        }
                      ]
                    },
                    {
                      "role": "tool",
                      "content": "Screenshot taken.",
                      "tool_call_id": "toolu_1"
                    },
                    {
                      "role": "tool",
                      "content": "",
                      "tool_call_id": "toolu_2"
                    },
                    {
                      "role": "user",
                      "content": [
                        {
                          "type": "image_url",
                          "image_url": {
                            "url": "data:image/png;base64,iVBORw0KGgo"
                          }
                        }
                      ]
                    }
                  ],
                  "tools": [
                    {
                      "type": "function",
                      "function": {
                        "name": "screenshot",
                        "parameters": {
                          "type": "object"
                        }
                      }
                    }
                  ],
                  "tool_choice": "required",
                  "max_tokens": 100
                }
            "#]],
        );
    }

    #[test]
    fn refused_requests_name_the_place() {
        let request = |messages: &str| {
            format!(r#"{{"model": "m", "max_tokens": 10, "messages": {messages}}}"#)
        };
        check_request_to_openai(
            &request("[]"),
            expect![[r#"
                error: `messages` is empty: a request needs at least one message
            "#]],
        );
        // Tool use guide's result, without the assistant turn that made the call.
        check_request_to_openai(
            &request(
                r#"[{"role": "user", "content": "What's the weather?"},
                    {"role": "assistant", "content": "Let me check."},
                    {"role": "user", "content": [{"type": "text", "text": "here"},
                      {"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": "15 degrees"}]}]"#,
            ),
            expect![[r#"
                error: messages[2].content[1]: `tool_result` answers tool_use id `toolu_01A09q90qw90lq917835lq9`, which no earlier assistant `tool_use` has
            "#]],
        );
        // PDF support guide: a document block.
        check_request_to_openai(
            &request(
                r#"[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
                    {"role": "user", "content": [
                      {"type": "text", "text": "What are the key findings in this document?"},
                      {"type": "document", "source": {"type": "url", "url": "https://assets.anthropic.com/m/1cd9d098ac3e6467/original/Claude-3-Model-Card-October-Addendum.pdf"}}]}]"#,
            ),
            expect![[r#"
                error: messages[2].content[1]: a `document` block has no equivalent in OpenAI Chat Completions, which Hearth's backends speak
            "#]],
        );
        check_request_to_openai(
            &request(
                r#"[{"role": "user", "content": [{"type": "tool_use", "id": "t", "name": "x", "input": {}}]}]"#,
            ),
            expect![[r#"
                error: messages[0].content[0]: a `tool_use` block cannot appear in a user message
            "#]],
        );
        check_request_to_openai(
            &request(
                r#"[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": [
                      {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}]}]"#,
            ),
            expect![[r#"
                error: messages[1].content[0]: a `image` block cannot appear in an assistant message
            "#]],
        );
        check_request_to_openai(
            &request(
                r#"[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "search", "input": {}}]},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [
                      {"type": "search_result", "source": "https://example.com", "title": "T", "content": []}]}]}]"#,
            ),
            expect![[r#"
                error: messages[2].content[0].content[0]: a `search_result` block has no equivalent in OpenAI Chat Completions, which Hearth's backends speak
            "#]],
        );
        check_request_to_openai(
            r#"{"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}],
                "system": [{"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}]}"#,
            expect![[r#"
                error: system[0]: a `image` block cannot appear in a system prompt, which takes only text
            "#]],
        );
        check_request_to_openai(
            &request(r#"[{"role": "system", "content": "Be nice."}]"#),
            expect![[r#"
                error: messages[0]: role `system` is not one of user, assistant
            "#]],
        );
        // Streaming guide, "web search tool": a server tool.
        check_request_to_openai(
            r#"{"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "What is the weather like in New York City today?"}],
                "tools": [{"type": "web_search_20250305", "name": "web_search", "max_uses": 5}]}"#,
            expect![[r#"
                error: tools[0]: tool type `web_search_20250305` is not supported; only `function` tools are
            "#]],
        );
        check_request_to_openai(
            r#"{"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}],
                "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
                "tool_choice": {"type": "tool", "name": "get_time"}}"#,
            expect![[r#"
                error: `tool_choice` names `get_time`, which is not among the request's tools
            "#]],
        );
    }

    #[test]
    fn thinking_budgets_become_efforts() {
        let effort = |thinking: &str| {
            let json = format!(
                r#"{{"model": "m", "max_tokens": 20000, "thinking": {thinking}, "messages": [{{"role": "user", "content": "What is 27 * 453?"}}]}}"#
            );
            messages_request_to_openai(from_json(json.as_bytes()).unwrap())
                .unwrap()
                .reasoning_effort
        };
        // Extended thinking guide: 16000 is `high`.
        assert_eq!(
            effort(r#"{"type": "enabled", "budget_tokens": 16000}"#).as_deref(),
            Some("high")
        );
        assert_eq!(
            effort(r#"{"type": "enabled", "budget_tokens": 8191}"#).as_deref(),
            Some("medium")
        );
        assert_eq!(
            effort(r#"{"type": "enabled", "budget_tokens": 2048}"#).as_deref(),
            Some("medium")
        );
        assert_eq!(
            effort(r#"{"type": "enabled", "budget_tokens": 1024}"#).as_deref(),
            Some("low")
        );
        assert_eq!(effort(r#"{"type": "disabled"}"#), None);
        assert_eq!(effort(r#"{"type": "adaptive"}"#), None);
    }

    // -----------------------------------------------------------------------------------------
    // Canonical response → Anthropic client

    #[test]
    fn tool_call_answer_to_messages() {
        // OpenAI API reference, "Functions" response, from a server with vLLM's `reasoning`.
        check_response_to_messages(
            r#"{"id":"chatcmpl-abc123","object":"chat.completion","created":1699896916,"model":"qwen3",
                "choices":[{"index":0,"message":{"role":"assistant","content":"Let me look.","reasoning":"Need the weather.","tool_calls":[
                  {"id":"call_abc123","type":"function","function":{"name":"get_current_weather","arguments":"{\n\"location\": \"Boston, MA\"\n}"}},
                  {"id":"","type":"function","function":{"name":"get_time","arguments":""}}]},
                  "logprobs":null,"finish_reason":"stop"}],
                "usage":{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99}}"#,
            expect![[r#"
                {
                  "id": "msg_hearth_1",
                  "type": "message",
                  "role": "assistant",
                  "content": [
                    {
                      "type": "thinking",
                      "thinking": "Need the weather.",
                      "signature": ""
                    },
                    {
                      "type": "text",
                      "text": "Let me look."
                    },
                    {
                      "type": "tool_use",
                      "id": "call_abc123",
                      "name": "get_current_weather",
                      "input": {
                        "location": "Boston, MA"
                      }
                    },
                    {
                      "type": "tool_use",
                      "id": "toolu_1_msg_hearth_1",
                      "name": "get_time",
                      "input": {}
                    }
                  ],
                  "model": "qwen3",
                  "stop_reason": "tool_use",
                  "stop_sequence": null,
                  "usage": {
                    "input_tokens": 82,
                    "output_tokens": 17
                  }
                }
            "#]],
        );
    }

    #[test]
    fn plain_answers_to_messages() {
        // OpenAI API reference, "The chat completion object", cut by the length limit.
        check_response_to_messages(
            r#"{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,"model":"gpt-4.1-2025-04-14",
                "choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I assist you today?","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"length"}],
                "usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29}}"#,
            expect![[r#"
                {
                  "id": "msg_hearth_1",
                  "type": "message",
                  "role": "assistant",
                  "content": [
                    {
                      "type": "text",
                      "text": "Hello! How can I assist you today?"
                    }
                  ],
                  "model": "gpt-4.1-2025-04-14",
                  "stop_reason": "max_tokens",
                  "stop_sequence": null,
                  "usage": {
                    "input_tokens": 19,
                    "output_tokens": 10
                  }
                }
            "#]],
        );
        // Nothing at all (no choices, no usage): one empty text block, zeros; filtered: refusal.
        check_response_to_messages(
            r#"{"model":"m","choices":[]}"#,
            expect![[r#"
                {
                  "id": "msg_hearth_1",
                  "type": "message",
                  "role": "assistant",
                  "content": [
                    {
                      "type": "text",
                      "text": ""
                    }
                  ],
                  "model": "m",
                  "stop_reason": "end_turn",
                  "stop_sequence": null,
                  "usage": {
                    "input_tokens": 0,
                    "output_tokens": 0
                  }
                }
            "#]],
        );
        check_response_to_messages(
            r#"{"model":"m","choices":[{"index":0,"message":{"content":""},"finish_reason":"content_filter"}]}"#,
            expect![[r#"
                {
                  "id": "msg_hearth_1",
                  "type": "message",
                  "role": "assistant",
                  "content": [
                    {
                      "type": "text",
                      "text": ""
                    }
                  ],
                  "model": "m",
                  "stop_reason": "refusal",
                  "stop_sequence": null,
                  "usage": {
                    "input_tokens": 0,
                    "output_tokens": 0
                  }
                }
            "#]],
        );
        check_response_to_messages(
            r#"{"model":"m","choices":[{"index":0,"message":{"content":null,"tool_calls":[
                {"id":"c1","type":"function","function":{"name":"shell","arguments":"rm -rf /tmp/x"}}]},"finish_reason":"tool_calls"}]}"#,
            expect![[r#"
                error: the arguments of tool call `shell` are not valid JSON (expected value at line 1 column 1): "rm -rf /tmp/x"
            "#]],
        );
    }

    // -----------------------------------------------------------------------------------------
    // Canonical stream → Anthropic client

    #[test]
    fn text_stream_to_anthropic() {
        // OpenAI API reference, "The chat completion chunk object", with `include_usage`: the
        // usage chunk ends the message without waiting for [DONE]; what comes after is ignored.
        check_stream_to_anthropic(
            r#"
            {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}
            {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]}
            {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"!"},"logprobs":null,"finish_reason":null}]}
            {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}
            {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}
            [DONE]
            {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"late"}}]}
            "#,
            expect![[r#"
                {"type":"message_start","message":{"id":"msg_hearth_1","type":"message","role":"assistant","content":[],"model":"qwen3","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}
                {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}
                {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}
                {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!"}}
                {"type":"content_block_stop","index":0}
                {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":12,"input_tokens":9}}
                {"type":"message_stop"}
            "#]],
        );
    }

    #[test]
    fn thinking_text_and_two_tool_calls_to_anthropic() {
        // vLLM-style `reasoning`, then text, then two calls in fragments (the second named in
        // its own chunk, its arguments before the name buffered), llama-server's usage on the
        // finish chunk (the message ends at the end of the stream, not at the first usage: a
        // backend may report usage on every chunk).
        check_stream_to_anthropic(
            r#"
            {"model":"qwen3","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}
            {"model":"qwen3","choices":[{"index":0,"delta":{"reasoning_content":"The user wants "}}]}
            {"model":"qwen3","choices":[{"index":0,"delta":{"reasoning":"two cities."}}]}
            {"model":"qwen3","choices":[{"index":0,"delta":{"content":"Checking both."}}]}
            {"model":"qwen3","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}
            {"model":"qwen3","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":null,"type":null,"function":{"name":null,"arguments":"{\"location\":"}}]}}]}
            {"model":"qwen3","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]}
            {"model":"qwen3","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"location\":"}}]}}]}
            {"model":"qwen3","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"name":"get_weather","arguments":"\"Rome\"}"}}]}}]}
            {"model":"qwen3","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":80,"completion_tokens":20,"total_tokens":100}}
            [DONE]
            "#,
            expect![[r#"
                {"type":"message_start","message":{"id":"msg_hearth_1","type":"message","role":"assistant","content":[],"model":"qwen3","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}
                {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}
                {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The user wants "}}
                {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"two cities."}}
                {"type":"content_block_stop","index":0}
                {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}
                {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Checking both."}}
                {"type":"content_block_stop","index":1}
                {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","name":"get_weather","input":{}}}
                {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"location\":"}}
                {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}
                {"type":"content_block_stop","index":2}
                {"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_1_msg_hearth_1","name":"get_weather","input":{}}}
                {"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"location\":\"Rome\"}"}}
                {"type":"content_block_stop","index":3}
                {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":20,"input_tokens":80}}
                {"type":"message_stop"}
            "#]],
        );
    }

    #[test]
    fn usage_on_every_chunk_does_not_end_the_message_early() {
        // vLLM's `continuous_usage_stats`: usage rides on every chunk, the finish chunk too;
        // the message ends with the stream and reports the last usage.
        check_stream_to_anthropic(
            r#"
            {"model":"qwen3","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"}}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}
            {"model":"qwen3","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}
            {"model":"qwen3","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}
            [DONE]
            "#,
            expect![[r#"
                {"type":"message_start","message":{"id":"msg_hearth_1","type":"message","role":"assistant","content":[],"model":"qwen3","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":0}}}
                {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}
                {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}
                {"type":"content_block_stop","index":0}
                {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":3,"input_tokens":5}}
                {"type":"message_stop"}
            "#]],
        );
    }

    #[test]
    fn whole_calls_in_one_chunk_to_anthropic() {
        // Ollama's OpenAI endpoint sends each call whole, several in one chunk.
        check_stream_to_anthropic(
            r#"
            {"model":"llama3.2","choices":[{"index":0,"delta":{"role":"assistant","content":"","tool_calls":[{"id":"call_a","index":0,"type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Toronto\"}"}},{"id":"call_b","index":1,"type":"function","function":{"name":"get_time","arguments":"{}"}}]}}]}
            {"model":"llama3.2","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"stop"}]}
            [DONE]
            "#,
            expect![[r#"
                {"type":"message_start","message":{"id":"msg_hearth_1","type":"message","role":"assistant","content":[],"model":"qwen3","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}
                {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"call_a","name":"get_weather","input":{}}}
                {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"location\":\"Toronto\"}"}}
                {"type":"content_block_stop","index":0}
                {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_b","name":"get_time","input":{}}}
                {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{}"}}
                {"type":"content_block_stop","index":1}
                {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":0}}
                {"type":"message_stop"}
            "#]],
        );
    }

    #[test]
    fn cut_and_empty_streams_to_anthropic() {
        // The backend fails mid-answer: an error event, then nothing, not even at [DONE].
        check_stream_to_anthropic(
            r#"
            {"model":"m","choices":[{"index":0,"delta":{"content":"Once upon"}}]}
            FAIL the backend closed the connection
            {"model":"m","choices":[{"index":0,"delta":{"content":" a time"}}]}
            [DONE]
            "#,
            expect![[r#"
                {"type":"message_start","message":{"id":"msg_hearth_1","type":"message","role":"assistant","content":[],"model":"qwen3","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}
                {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}
                {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Once upon"}}
                {"type":"error","error":{"type":"api_error","message":"the backend closed the connection"}}
            "#]],
        );
        // No chunk at all, then [DONE] twice: one message, empty.
        check_stream_to_anthropic(
            "[DONE]\n[DONE]",
            expect![[r#"
                {"type":"message_start","message":{"id":"msg_hearth_1","type":"message","role":"assistant","content":[],"model":"qwen3","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}
                {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":0}}
                {"type":"message_stop"}
            "#]],
        );
        // Cut by the length limit mid-call.
        check_stream_to_anthropic(
            r#"
            {"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{\"a\":"}}]}}]}
            {"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}
            [DONE]
            "#,
            expect![[r#"
                {"type":"message_start","message":{"id":"msg_hearth_1","type":"message","role":"assistant","content":[],"model":"qwen3","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}
                {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"c","name":"f","input":{}}}
                {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}
                {"type":"content_block_stop","index":0}
                {"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":0}}
                {"type":"message_stop"}
            "#]],
        );
    }

    #[test]
    fn hostile_streams_to_anthropic() {
        check_stream_to_anthropic(
            r#"
            {"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{"}}]}}]}
            {"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"b","function":{"name":"g","arguments":"{"}}]}}]}
            {"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"}"}}]}}]}
            "#,
            expect![[r#"
                {"type":"message_start","message":{"id":"msg_hearth_1","type":"message","role":"assistant","content":[],"model":"qwen3","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}
                {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"a","name":"f","input":{}}}
                {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{"}}
                {"type":"content_block_stop","index":0}
                {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"b","name":"g","input":{}}}
                {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{"}}
                error: the streamed tool call at index 0 continued after a later call had started
            "#]],
        );
        check_stream_to_anthropic(
            r#"
            {"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":7,"function":{"arguments":"{}"}}]}}]}
            [DONE]
            "#,
            expect![[r#"
                {"type":"message_start","message":{"id":"msg_hearth_1","type":"message","role":"assistant","content":[],"model":"qwen3","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}
                {"type":"error","error":{"type":"api_error","message":"the streamed tool call at index 7 ended without a function name"}}
            "#]],
        );
        let mut stream = OpenAiToAnthropicStream::new("msg_1", "m");
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
            stream.push(fragment(megabyte.clone())).unwrap();
        }
        assert_eq!(
            stream.push(fragment(megabyte)).unwrap_err().to_string(),
            "the streamed arguments of tool call `f` exceed 8388608 bytes"
        );
        assert!(!stream.is_finished());
        assert_eq!(stream.fail("too long").len(), 1);
        assert!(stream.is_finished());
        assert!(stream.finish().is_empty());
    }

    // -----------------------------------------------------------------------------------------
    // Canonical request → Anthropic backend

    #[test]
    fn default_example_to_messages() {
        // OpenAI API reference, "Create chat completion", example "Default", with a limit, a
        // stop, a `user` and an OpenAI-range temperature.
        check_request_to_messages(
            r#"{"model": "claude-sonnet-4-5", "messages": [
                 {"role": "developer", "content": "You are a helpful assistant."},
                 {"role": "user", "content": "Hello!"}],
                "max_tokens": 300, "stop": "END", "temperature": 1.5, "top_p": 0.9, "top_k": 20, "user": "user-1234",
                "seed": 7, "stream": true, "stream_options": {"include_usage": true}}"#,
            expect![[r#"
                {
                  "model": "claude-sonnet-4-5",
                  "messages": [
                    {
                      "role": "user",
                      "content": [
                        {
                          "type": "text",
                          "text": "Hello!"
                        }
                      ]
                    }
                  ],
                  "system": "You are a helpful assistant.",
                  "max_tokens": 300,
                  "stop_sequences": [
                    "END"
                  ],
                  "temperature": 1.0,
                  "top_p": 0.9,
                  "top_k": 20,
                  "stream": true,
                  "metadata": {
                    "user_id": "user-1234"
                  }
                }
            "#]],
        );
    }

    #[test]
    fn tool_conversation_to_messages() {
        // OpenAI function-calling guide: two calls, their results, then a user follow-up (merged
        // into the results' user turn, after them); images both ways; reasoning dropped;
        // `required` is `any`, which keeps thinking off.
        check_request_to_messages(
            r#"{
              "model": "claude-sonnet-4-5",
              "messages": [
                {"role": "system", "content": "You are a weather bot."},
                {"role": "user", "content": [
                  {"type": "text", "text": "What is the weather like here and in Paris?"},
                  {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg"}},
                  {"type": "image_url", "image_url": {"url": "https://upload.wikimedia.org/a.jpg", "detail": "low"}}]},
                {"role": "user", "content": "Quickly."},
                {"role": "assistant", "content": null, "reasoning_content": "Two calls.", "tool_calls": [
                  {"id": "call_12345xyz", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris, France\"}"}},
                  {"id": "", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]},
                {"role": "tool", "tool_call_id": "call_12345xyz", "content": "14°C, cloudy"},
                {"role": "tool", "content": [{"type": "text", "text": "20°C"}]},
                {"role": "user", "content": "And tomorrow?"}
              ],
              "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get current temperature for a given location.",
                "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}, "strict": true}},
                        {"type": "function", "function": {"name": "now"}}],
              "tool_choice": "required",
              "parallel_tool_calls": false,
              "reasoning_effort": "high",
              "max_completion_tokens": 2000
            }"#,
            expect![[r#"
                {
                  "model": "claude-sonnet-4-5",
                  "messages": [
                    {
                      "role": "user",
                      "content": [
                        {
                          "type": "text",
                          "text": "What is the weather like here and in Paris?"
                        },
                        {
                          "type": "image",
                          "source": {
                            "type": "base64",
                            "media_type": "image/png",
                            "data": "iVBORw0KGgoAAAANSUhEUg"
                          }
                        },
                        {
                          "type": "image",
                          "source": {
                            "type": "url",
                            "url": "https://upload.wikimedia.org/a.jpg"
                          }
                        },
                        {
                          "type": "text",
                          "text": "Quickly."
                        }
                      ]
                    },
                    {
                      "role": "assistant",
                      "content": [
                        {
                          "type": "tool_use",
                          "id": "call_12345xyz",
                          "name": "get_weather",
                          "input": {
                            "location": "Paris, France"
                          }
                        },
                        {
                          "type": "tool_use",
                          "id": "toolu_3_1",
                          "name": "get_weather",
                          "input": {}
                        }
                      ]
                    },
                    {
                      "role": "user",
                      "content": [
                        {
                          "type": "tool_result",
                          "tool_use_id": "call_12345xyz",
                          "content": "14°C, cloudy"
                        },
                        {
                          "type": "tool_result",
                          "tool_use_id": "toolu_3_1",
                          "content": [
                            {
                              "type": "text",
                              "text": "20°C"
                            }
                          ]
                        },
                        {
                          "type": "text",
                          "text": "And tomorrow?"
                        }
                      ]
                    }
                  ],
                  "system": "You are a weather bot.",
                  "max_tokens": 2000,
                  "tools": [
                    {
                      "name": "get_weather",
                      "description": "Get current temperature for a given location.",
                      "input_schema": {
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
                      "name": "now",
                      "input_schema": {
                        "type": "object",
                        "properties": {}
                      }
                    }
                  ],
                  "tool_choice": {
                    "type": "any",
                    "disable_parallel_tool_use": true
                  }
                }
            "#]],
        );
    }

    #[test]
    fn reasoning_effort_to_thinking() {
        // The budget is kept under `max_tokens` by raising it; sampling fields are dropped.
        check_request_to_messages(
            r#"{"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "What is 27 * 453?"}],
                "reasoning_effort": "medium", "max_tokens": 1000, "temperature": 0.2, "top_p": 0.5,
                "tools": [{"type": "function", "function": {"name": "calc"}}], "tool_choice": "auto"}"#,
            expect![[r#"
                {
                  "model": "claude-sonnet-4-5",
                  "messages": [
                    {
                      "role": "user",
                      "content": [
                        {
                          "type": "text",
                          "text": "What is 27 * 453?"
                        }
                      ]
                    }
                  ],
                  "max_tokens": 5096,
                  "tools": [
                    {
                      "name": "calc",
                      "input_schema": {
                        "type": "object",
                        "properties": {}
                      }
                    }
                  ],
                  "tool_choice": {
                    "type": "auto"
                  },
                  "thinking": {
                    "type": "enabled",
                    "budget_tokens": 4096
                  }
                }
            "#]],
        );
        let thinking = |effort: &str| {
            let json = format!(
                r#"{{"model": "m", "messages": [], "reasoning_effort": "{effort}", "max_tokens": 50000}}"#
            );
            let request = chat_request_to_messages(from_json(json.as_bytes()).unwrap(), 4096);
            request.map(|request| (request.thinking, request.max_tokens))
        };
        assert_eq!(
            thinking("low"),
            Ok((
                Some(anthropic::Thinking::Enabled {
                    budget_tokens: 1024
                }),
                50000
            ))
        );
        assert_eq!(
            thinking("xhigh"),
            Ok((
                Some(anthropic::Thinking::Enabled {
                    budget_tokens: 16384
                }),
                50000
            ))
        );
        assert_eq!(thinking("minimal"), Ok((None, 50000)));
        assert_eq!(thinking("none"), Ok((None, 50000)));
    }

    #[test]
    fn refused_requests_to_messages() {
        check_request_to_messages(
            r#"{"model": "m", "messages": [{"role": "user", "content": "Hi"}], "n": 2}"#,
            expect![[r#"
                error: `n` = 2 is out of range (1: Anthropic answers with one choice per request)
            "#]],
        );
        check_request_to_messages(
            r#"{"model": "m", "messages": [{"role": "user", "content": [
                 {"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}]}]}"#,
            expect![[r#"
                error: messages[0]: image "file:///etc/passwd" is neither a base64 `data:` URL nor an http(s) link
            "#]],
        );
        check_request_to_messages(
            r#"{"model": "m", "messages": [{"role": "user", "content": [
                 {"type": "input_audio", "input_audio": {"data": "UklGR", "format": "wav"}}]}]}"#,
            expect![[r#"
                error: messages[0]: a content part of type `input_audio` cannot be sent to Anthropic
            "#]],
        );
        check_request_to_messages(
            r#"{"model": "m", "messages": [{"role": "narrator", "content": "Once"}]}"#,
            expect![[r#"
                error: messages[0]: role `narrator` is not one of system, developer, user, assistant, tool
            "#]],
        );
        check_request_to_messages(
            r#"{"model": "m", "messages": [{"role": "tool", "content": "orphan"}]}"#,
            expect![[r#"
                error: messages[0]: `tool_result` answers tool_use id ``, which no earlier assistant `tool_use` has
            "#]],
        );
        check_request_to_messages(
            r#"{"model": "m", "messages": [{"role": "assistant", "tool_calls": [
                 {"id": "c1", "type": "function", "function": {"name": "run", "arguments": "{\"cmd\": \"ls"}}]}]}"#,
            expect![[r#"
                error: the arguments of tool call `run` are not valid JSON (EOF while parsing a string at line 1 column 11): "{\"cmd\": \"ls"
            "#]],
        );
        check_request_to_messages(
            r#"{"model": "m", "messages": [], "tools": [{"type": "web_search_preview"}]}"#,
            expect![[r#"
                error: tools[0]: tool type `web_search_preview` is not supported; only `function` tools are
            "#]],
        );
        check_request_to_messages(
            r#"{"model": "m", "messages": [], "tools": [{"type": "function", "function": {"name": "a"}}],
                "tool_choice": {"type": "function", "function": {"name": "b"}}}"#,
            expect![[r#"
                error: `tool_choice` names `b`, which is not among the request's tools
            "#]],
        );
    }

    // -----------------------------------------------------------------------------------------
    // Anthropic backend → canonical response

    #[test]
    fn tool_use_answer_to_openai() {
        // Tool use guide, the model's answer (it has no `type` and no `usage`).
        check_response_to_openai(
            r#"{
              "id": "msg_01Aq9w938a90dw8q",
              "model": "claude-sonnet-4-5",
              "stop_reason": "tool_use",
              "role": "assistant",
              "content": [
                {"type": "text", "text": "I'll check the current weather in San Francisco for you."},
                {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"location": "San Francisco, CA", "unit": "celsius"}}
              ]
            }"#,
            expect![[r#"
                {
                  "id": "chatcmpl-7",
                  "object": "chat.completion",
                  "created": 1721680408,
                  "model": "claude-sonnet-4-5",
                  "choices": [
                    {
                      "index": 0,
                      "message": {
                        "role": "assistant",
                        "content": "I'll check the current weather in San Francisco for you.",
                        "tool_calls": [
                          {
                            "id": "toolu_01A09q90qw90lq917835lq9",
                            "type": "function",
                            "function": {
                              "name": "get_weather",
                              "arguments": "{\"location\":\"San Francisco, CA\",\"unit\":\"celsius\"}"
                            }
                          }
                        ]
                      },
                      "finish_reason": "tool_calls"
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
    fn thinking_answer_with_cache_to_openai() {
        // Extended thinking guide's answer shape, with prompt-caching usage and a redacted block.
        check_response_to_openai(
            r#"{"id": "msg_013Zva2CMHLNnXjNJJKqJ2EF", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
                "content": [
                  {"type": "thinking", "thinking": "Let me solve this step by step...", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"},
                  {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"},
                  {"type": "text", "text": "27 * 453 = ", "citations": null},
                  {"type": "text", "text": "12,231"}],
                "stop_reason": "max_tokens", "stop_sequence": null,
                "usage": {"input_tokens": 25, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 1200, "output_tokens": 503}}"#,
            expect![[r#"
                {
                  "id": "chatcmpl-7",
                  "object": "chat.completion",
                  "created": 1721680408,
                  "model": "claude-sonnet-4-5-20250929",
                  "choices": [
                    {
                      "index": 0,
                      "message": {
                        "role": "assistant",
                        "content": "27 * 453 = 12,231",
                        "reasoning_content": "Let me solve this step by step..."
                      },
                      "finish_reason": "length"
                    }
                  ],
                  "usage": {
                    "prompt_tokens": 1325,
                    "completion_tokens": 503,
                    "total_tokens": 1828,
                    "prompt_tokens_details": {
                      "cached_tokens": 1200
                    }
                  }
                }
            "#]],
        );
        let finish = |reason: &str| {
            let json = format!(r#"{{"id": "m", "content": [], "stop_reason": "{reason}"}}"#);
            let response = messages_response_to_openai(
                from_json(json.as_bytes()).unwrap(),
                &CompletionIds::new("c", 0),
            );
            format!(
                "{reason} → {}",
                response.choices[0].finish_reason.as_ref().unwrap()
            )
        };
        let reasons: Vec<_> = [
            "end_turn",
            "stop_sequence",
            "pause_turn",
            "max_tokens",
            "model_context_window_exceeded",
            "tool_use",
            "refusal",
            "something_new",
        ]
        .into_iter()
        .map(finish)
        .collect();
        expect![[r#"
            [
                "end_turn → stop",
                "stop_sequence → stop",
                "pause_turn → stop",
                "max_tokens → length",
                "model_context_window_exceeded → length",
                "tool_use → tool_calls",
                "refusal → content_filter",
                "something_new → stop",
            ]
        "#]]
        .assert_debug_eq(&reasons);
    }

    // -----------------------------------------------------------------------------------------
    // Anthropic backend stream → canonical stream

    #[test]
    fn published_text_stream_to_openai() {
        // Streaming guide, "Basic streaming request", verbatim.
        check_stream_to_openai(
            r#"
event: message_start
data: {"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-5-20250929", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "output_tokens": 1}}}

event: content_block_start
data: {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!"}}

event: content_block_stop
data: {"type": "content_block_stop", "index": 0}

event: message_delta
data: {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence":null}, "usage": {"output_tokens": 15}}

event: message_stop
data: {"type": "message_stop"}
            "#,
            true,
            expect![[r#"
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"content":"!"},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[],"usage":{"prompt_tokens":25,"completion_tokens":15,"total_tokens":40}}
            "#]],
        );
    }

    #[test]
    fn published_tool_use_stream_to_openai() {
        // Streaming guide, "Streaming request with tool use", verbatim but for the run of
        // one-word text deltas, shortened.
        check_stream_to_openai(
            r#"
event: message_start
data: {"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2},"content":[],"stop_reason":null}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":","}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" CA"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":":"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\":"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \"San"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" Francisc"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"o,"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" CA\""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":", "}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"unit\": \"fah"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"renheit\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}

event: message_stop
data: {"type":"message_stop"}
            "#,
            false,
            expect![[r#"
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"content":"Okay"},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"content":","},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"content":" CA"},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"content":":"},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"location\":"}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":" \"San"}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":" Francisc"}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"o,"}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":" CA\""}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":", "}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"unit\": \"fah"}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"renheit\"}"}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}
            "#]],
        );
    }

    #[test]
    fn published_thinking_stream_and_error_to_openai() {
        // Streaming guide, "Streaming request with extended thinking" (shortened; its
        // `message_start` and `message_delta` carry no usage), then the guide's error event
        // in a second stream.
        check_stream_to_openai(
            r#"
event: message_start
data: {"type": "message_start", "message": {"id": "msg_01...", "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-5-20250929", "stop_reason": null, "stop_sequence": null}}

event: content_block_start
data: {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Let me solve this step by step:\n\n1. First break down 27 * 453"}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds..."}}

event: content_block_stop
data: {"type": "content_block_stop", "index": 0}

event: content_block_start
data: {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "27 * 453 = 12,231"}}

event: content_block_stop
data: {"type": "content_block_stop", "index": 1}

event: message_delta
data: {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}}

event: message_stop
data: {"type": "message_stop"}
            "#,
            true,
            expect![[r#"
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"reasoning_content":"Let me solve this step by step:\n\n1. First break down 27 * 453"},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"content":"27 * 453 = 12,231"},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5-20250929","choices":[],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}
            "#]],
        );
        check_stream_to_openai(
            r#"
event: message_start
data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"usage":{"input_tokens":10,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"query\": \"weather\"}"}}

event: error
data: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}

event: message_stop
data: {"type": "message_stop"}
            "#,
            true,
            expect![[r#"
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1748386497,"model":"claude-sonnet-4-5","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}
                error: the upstream stream failed with `overloaded_error`: Overloaded
            "#]],
        );
    }

    // -----------------------------------------------------------------------------------------
    // Round trips

    fn reparse<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(json: &str) {
        let parsed: T = from_json(json.as_bytes()).unwrap();
        let written = serde_json::to_string(&parsed).unwrap();
        let again: T = from_json(written.as_bytes()).unwrap();
        assert_eq!(parsed, again);
        let original: Value = serde_json::from_str(json).unwrap();
        let written: Value = serde_json::from_str(&written).unwrap();
        assert_eq!(original, written, "a field was lost or changed");
    }

    #[test]
    fn wire_types_round_trip_with_unknown_fields() {
        reparse::<anthropic::MessagesRequest>(
            r#"{"model": "claude-sonnet-4-5", "max_tokens": 1024, "container": "c_1",
                "messages": [{"role": "user", "content": [
                  {"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral", "ttl": "5m"}},
                  {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}, "title": "A"}]}],
                "tools": [{"name": "t", "input_schema": {"type": "object"}, "defer_loading": true}],
                "thinking": {"type": "enabled", "budget_tokens": 1024}}"#,
        );
        reparse::<MessagesResponse>(
            r#"{"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
                "content": [{"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
                            {"type": "text", "text": "Sunny.", "citations": [{"type": "web_search_result_location", "url": "https://example.com"}]}],
                "stop_reason": "end_turn", "stop_sequence": null,
                "usage": {"input_tokens": 1, "output_tokens": 2, "server_tool_use": {"web_search_requests": 1}},
                "stop_details": null}"#,
        );
        reparse::<StreamEvent>(
            r#"{"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null, "container": null},
                "usage": {"output_tokens": 47, "input_tokens": 849, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}"#,
        );
        reparse::<StreamEvent>(
            r#"{"type": "content_block_delta", "index": 2, "delta": {"type": "citations_delta", "citation": {}}}"#,
        );
        reparse::<StreamEvent>(r#"{"type": "brand_new_event", "payload": [1, 2]}"#);
        reparse::<anthropic::ErrorResponse>(
            r#"{"type": "error", "error": {"type": "not_found_error", "message": "The requested resource could not be found."}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}"#,
        );
    }
}
