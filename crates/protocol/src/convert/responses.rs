//! The Responses API, both ways: a Responses client in front of a Chat Completions backend
//! ([`responses_request_to_openai`], then [`chat_response_to_response`] or
//! [`OpenAiToResponsesStream`]), and the canonical Chat Completions form sent to a backend that
//! speaks the Responses API ([`chat_request_to_responses`], then [`response_to_openai`] or
//! [`ResponsesToOpenAiStream`]).
//!
//! Conversation state: Chat Completions is stateless, so for `previous_response_id` the caller
//! keeps each response's whole conversation as input items ([`conversation`]) and hands it back
//! as `history`. Towards a Responses backend nothing is stored there: every request carries the
//! whole conversation.
//!
//! Output item ids are made from the response id and the item's place in `output`:
//! `rs_<n>_<response id>`, `msg_<n>_<response id>`, `fc_<n>_<response id>`; a tool call the
//! backend gave no id gets call id `call_<i>_<response id>`, `<i>` its place among the answer's
//! calls. The same answer always gets the same ids.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value};

use super::response::{CompletionIds, reasoning};
use crate::ProtocolError;
use crate::error::excerpt;
use crate::openai::chat::{
    ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, ChatMessage, Choice,
    ChunkChoice, ContentPart, Delta, FinishReason, FunctionCall, FunctionCallDelta,
    FunctionDefinition, FunctionName, ImageUrl, ImageUrlPart, JsonSchemaFormat,
    MessageContent as ChatContent, NamedToolChoice, ResponseFormat, ResponseMessage, Role,
    StreamOptions, TextPart, Tool, ToolCall, ToolCallDelta, ToolChoice, ToolChoiceMode, Usage,
};
use crate::openai::responses::{
    ArgumentsDeltaEvent, ArgumentsDoneEvent, ContentPartEvent, FunctionCallItem,
    FunctionCallOutputItem, FunctionTool, IncompleteDetails, Input, InputContent, InputImage,
    InputItem, InputText, InputTokensDetails, ItemStatus, MessageContent, MessageItem, MessageRole,
    OutputContent, OutputItem, OutputItemEvent, OutputMessage, OutputText, OutputTokensDetails,
    ReasoningConfig, ReasoningItem, ReasoningText, Response, ResponseError, ResponseEvent,
    ResponseStatus, ResponseUsage, ResponsesRequest, ResponsesTool, ResponsesToolChoice,
    StreamEvent, SummaryTextDeltaEvent, TextConfig, TextDeltaEvent, TextDoneEvent, TextFormat,
    ToolOutput, type_of,
};

/// How much of a name or id an error message quotes.
const NAME_CHARS: usize = 64;

// ---------------------------------------------------------------------------------------------
// Conversation state

/// The request's `input` as items: a string is one user message.
pub fn input_items(request: &ResponsesRequest) -> Vec<InputItem> {
    match &request.input {
        None => Vec::new(),
        Some(Input::Text(text)) => vec![InputItem::Message(MessageItem {
            role: MessageRole::User,
            content: MessageContent::Text(text.clone()),
            id: None,
            status: None,
            extra: Map::new(),
        })],
        Some(Input::Items(items)) => items.clone(),
    }
}

/// A response's input items as `GET /v1/responses/{id}/input_items` lists them: each with an
/// id (its own, else `item_<n>_<response id>`, `n` its place in the input) and a message's
/// text content as one `input_text` part (`output_text` for an assistant's), the shape the
/// SDK's list items have.
pub fn listed_input_items(items: &[InputItem], response_id: &str) -> Vec<InputItem> {
    items
        .iter()
        .enumerate()
        .map(|(n, item)| {
            let fallback = || format!("item_{n}_{response_id}");
            let mut item = item.clone();
            match &mut item {
                InputItem::Message(message) => {
                    message.id.get_or_insert_with(fallback);
                    if let MessageContent::Text(text) = &message.content {
                        let text = text.clone();
                        let part = if message.role == MessageRole::Assistant {
                            InputContent::OutputText(OutputText {
                                text,
                                annotations: Vec::new(),
                                logprobs: None,
                                extra: Map::new(),
                            })
                        } else {
                            InputContent::InputText(InputText {
                                text,
                                extra: Map::new(),
                            })
                        };
                        message.content = MessageContent::Parts(vec![part]);
                    }
                }
                InputItem::FunctionCall(call) => {
                    call.id.get_or_insert_with(fallback);
                }
                InputItem::FunctionCallOutput(output) => {
                    output.id.get_or_insert_with(fallback);
                }
                InputItem::Reasoning(_) => {}
                InputItem::Other(map) => {
                    map.entry("id").or_insert_with(|| Value::String(fallback()));
                }
            }
            item
        })
        .collect()
}

/// A response's output as history items: the assistant's message (its `output_text` and
/// `refusal` parts), its function calls and its reasoning, in order.
pub fn output_to_input(items: &[OutputItem]) -> Vec<InputItem> {
    items
        .iter()
        .map(|item| match item {
            OutputItem::Message(message) => InputItem::Message(MessageItem {
                role: MessageRole::Assistant,
                content: MessageContent::Parts(
                    message
                        .content
                        .iter()
                        .map(|part| match part {
                            OutputContent::OutputText(text) => {
                                InputContent::OutputText(text.clone())
                            }
                            OutputContent::Refusal(refusal) => {
                                InputContent::Refusal(refusal.clone())
                            }
                            OutputContent::ReasoningText(text) => {
                                InputContent::OutputText(OutputText::new(text.text.clone()))
                            }
                            OutputContent::Other(map) => InputContent::Other(map.clone()),
                        })
                        .collect(),
                ),
                id: Some(message.id.clone()),
                status: Some(message.status.clone()),
                extra: Map::new(),
            }),
            OutputItem::FunctionCall(call) => InputItem::FunctionCall(call.clone()),
            OutputItem::Reasoning(reasoning) => InputItem::Reasoning(reasoning.clone()),
            OutputItem::Other(map) => InputItem::Other(map.clone()),
        })
        .collect()
}

/// What to keep for a response, so that a later `previous_response_id` can go on from it: the
/// history it continued, its own input, then its output.
pub fn conversation(
    history: &[InputItem],
    request: &ResponsesRequest,
    response: &Response,
) -> Vec<InputItem> {
    let mut items = history.to_vec();
    items.extend(input_items(request));
    items.extend(output_to_input(&response.output));
    items
}

// ---------------------------------------------------------------------------------------------
// Responses client → Chat Completions backend: the request

/// A Responses request, after the stored conversation it continues (`history`, oldest first;
/// empty without `previous_response_id`), as a Chat Completions request. `instructions` become
/// a leading `system` message; those of earlier responses are not carried over, as OpenAI
/// documents. A streamed request asks for usage in the stream, for `response.completed`.
pub fn responses_request_to_openai(
    request: &ResponsesRequest,
    history: &[InputItem],
) -> Result<ChatCompletionRequest, ProtocolError> {
    let input = input_items(request);
    if history.is_empty() && input.is_empty() {
        return Err(ProtocolError::EmptyInput);
    }
    let mut messages = Vec::with_capacity(history.len() + input.len() + 1);
    if let Some(instructions) = request
        .instructions
        .as_ref()
        .filter(|text| !text.is_empty())
    {
        messages.push(ChatMessage::text(Role::System, instructions.clone()));
    }
    let mut builder = MessageBuilder {
        messages,
        ..MessageBuilder::default()
    };
    for (index, item) in history.iter().enumerate() {
        builder.push(&format!("the stored conversation's item {index}"), item)?;
    }
    for (index, item) in input.iter().enumerate() {
        builder.push(&format!("input[{index}]"), item)?;
    }

    let (tools, tool_choice) = tools_to_openai(&request.tools, request.tool_choice.as_ref())?;
    let streams = request.streams();
    let mut extra = Map::new();
    if let Some(parallel) = request.parallel_tool_calls {
        extra.insert("parallel_tool_calls".to_owned(), Value::Bool(parallel));
    }
    if let Some(user) = &request.user {
        extra.insert("user".to_owned(), Value::String(user.clone()));
    }
    Ok(ChatCompletionRequest {
        model: request.model.clone().unwrap_or_default(),
        messages: builder.messages,
        tools,
        tool_choice,
        stream: request.stream,
        stream_options: streams.then(|| StreamOptions {
            include_usage: Some(true),
            extra: Map::new(),
        }),
        max_tokens: request.max_output_tokens,
        temperature: request.temperature,
        top_p: request.top_p,
        response_format: request
            .text
            .as_ref()
            .and_then(|text| text.format.as_ref())
            .and_then(format_to_openai),
        reasoning_effort: request
            .reasoning
            .as_ref()
            .and_then(|reasoning| reasoning.effort.clone()),
        extra,
        ..ChatCompletionRequest::default()
    })
}

/// Chat messages built item by item.
#[derive(Debug, Default)]
struct MessageBuilder {
    messages: Vec<ChatMessage>,
    /// The call ids of every `function_call` so far, which a `function_call_output` must answer.
    calls: HashSet<String>,
    /// The last message is an assistant turn that a following `function_call` joins.
    assistant_open: bool,
    /// Reasoning waiting for the assistant message that follows it.
    reasoning: Option<String>,
}

impl MessageBuilder {
    fn push(&mut self, at: &str, item: &InputItem) -> Result<(), ProtocolError> {
        match item {
            InputItem::Message(message) => self.message(at, message),
            InputItem::FunctionCall(call) => {
                self.calls.insert(call.call_id.clone());
                let call = ToolCall {
                    id: call.call_id.clone(),
                    kind: "function".to_owned(),
                    function: FunctionCall {
                        name: call.name.clone(),
                        arguments: call.arguments.clone(),
                        extra: Map::new(),
                    },
                    extra: Map::new(),
                };
                match self.messages.last_mut() {
                    Some(last) if self.assistant_open => last.tool_calls.push(call),
                    _ => {
                        let mut message = self.assistant(None);
                        message.tool_calls.push(call);
                        self.messages.push(message);
                        self.assistant_open = true;
                    }
                }
                Ok(())
            }
            InputItem::FunctionCallOutput(output) => self.tool_result(at, output),
            InputItem::Reasoning(item) => {
                self.assistant_open = false;
                if let Some(text) = reasoning_item_text(item) {
                    match &mut self.reasoning {
                        Some(pending) => {
                            pending.push('\n');
                            pending.push_str(&text);
                        }
                        None => self.reasoning = Some(text),
                    }
                }
                Ok(())
            }
            InputItem::Other(map) => Err(ProtocolError::UnsupportedInputItem {
                at: at.to_owned(),
                kind: excerpt(type_of(map).unwrap_or("(none)"), NAME_CHARS),
            }),
        }
    }

    fn message(&mut self, at: &str, message: &MessageItem) -> Result<(), ProtocolError> {
        let role = match &message.role {
            MessageRole::User => Role::User,
            MessageRole::Assistant => Role::Assistant,
            MessageRole::System => Role::System,
            MessageRole::Developer => Role::Developer,
            MessageRole::Other(role) => {
                return Err(ProtocolError::UnknownInputRole {
                    at: at.to_owned(),
                    role: excerpt(role, NAME_CHARS),
                });
            }
        };
        let content = content_to_openai(at, &message.content)?;
        if role == Role::Assistant {
            let message = self.assistant(Some(content));
            self.messages.push(message);
            self.assistant_open = true;
        } else {
            // Reasoning no assistant turn followed belongs to nothing.
            self.reasoning = None;
            self.messages.push(ChatMessage {
                content: Some(content),
                ..ChatMessage::text(role, "")
            });
            self.assistant_open = false;
        }
        Ok(())
    }

    /// A new assistant message, taking the pending reasoning.
    fn assistant(&mut self, content: Option<ChatContent>) -> ChatMessage {
        ChatMessage {
            content,
            reasoning_content: self.reasoning.take(),
            ..ChatMessage::text(Role::Assistant, "")
        }
    }

    fn tool_result(
        &mut self,
        at: &str,
        output: &FunctionCallOutputItem,
    ) -> Result<(), ProtocolError> {
        if !self.calls.contains(&output.call_id) {
            return Err(ProtocolError::UnknownCallId {
                at: at.to_owned(),
                call_id: excerpt(&output.call_id, NAME_CHARS),
            });
        }
        let text = match &output.output {
            ToolOutput::Text(text) => text.clone(),
            ToolOutput::Parts(parts) => {
                let mut texts = Vec::with_capacity(parts.len());
                for part in parts {
                    match part.text() {
                        Some(text) => texts.push(text),
                        None => {
                            return Err(ProtocolError::UnsupportedInputContent {
                                at: at.to_owned(),
                                kind: excerpt(part.kind(), NAME_CHARS),
                                reason: "in a function call's output towards a Chat Completions \
                                         backend (only text is)",
                            });
                        }
                    }
                }
                texts.join("\n")
            }
        };
        self.reasoning = None;
        self.assistant_open = false;
        self.messages.push(ChatMessage {
            tool_call_id: Some(output.call_id.clone()),
            ..ChatMessage::text(Role::Tool, text)
        });
        Ok(())
    }
}

/// A reasoning item's text: its `reasoning_text` parts, else its summary; none when it carries
/// only `encrypted_content`.
fn reasoning_item_text(item: &ReasoningItem) -> Option<String> {
    let content: Vec<&str> = item
        .content
        .iter()
        .flatten()
        .map(|part| part.text.as_str())
        .filter(|text| !text.is_empty())
        .collect();
    let texts = if content.is_empty() {
        item.summary
            .iter()
            .map(|part| part.text.as_str())
            .filter(|text| !text.is_empty())
            .collect()
    } else {
        content
    };
    (!texts.is_empty()).then(|| texts.join("\n"))
}

/// Text parts become one string (joined with `\n`); with an image, the parts stay parts.
fn content_to_openai(at: &str, content: &MessageContent) -> Result<ChatContent, ProtocolError> {
    let parts = match content {
        MessageContent::Text(text) => return Ok(ChatContent::Text(text.clone())),
        MessageContent::Parts(parts) => parts,
    };
    if let Some(texts) = parts
        .iter()
        .map(InputContent::text)
        .collect::<Option<Vec<_>>>()
    {
        return Ok(ChatContent::Text(texts.join("\n")));
    }
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        let refused = |reason| ProtocolError::UnsupportedInputContent {
            at: at.to_owned(),
            kind: excerpt(part.kind(), NAME_CHARS),
            reason,
        };
        out.push(match part {
            InputContent::InputImage(InputImage {
                image_url: Some(url),
                detail,
                ..
            }) => ContentPart::ImageUrl(ImageUrlPart {
                image_url: ImageUrl {
                    url: url.clone(),
                    detail: detail.clone(),
                    extra: Map::new(),
                },
                extra: Map::new(),
            }),
            InputContent::InputImage(_) => {
                return Err(refused(
                    "without `image_url`: Hearth keeps no uploaded files, send the image as a \
                     link or a `data:` URL",
                ));
            }
            _ => match part.text() {
                Some(text) => ContentPart::Text(TextPart {
                    text: text.to_owned(),
                    extra: Map::new(),
                }),
                None => {
                    return Err(refused(
                        "towards a Chat Completions backend (only text and images are)",
                    ));
                }
            },
        });
    }
    Ok(ChatContent::Parts(out))
}

/// Function tools flattened into Chat's `{"type": "function", "function": {…}}`; `tool_choice`
/// mapped, `allowed_tools` by sending only the allowed functions.
fn tools_to_openai(
    tools: &[ResponsesTool],
    choice: Option<&ResponsesToolChoice>,
) -> Result<(Vec<Tool>, Option<ToolChoice>), ProtocolError> {
    let mut out = Vec::with_capacity(tools.len());
    for (index, tool) in tools.iter().enumerate() {
        match tool {
            ResponsesTool::Function(function) => out.push(Tool {
                kind: "function".to_owned(),
                function: Some(FunctionDefinition {
                    name: function.name.clone(),
                    description: function.description.clone(),
                    parameters: function.parameters.clone(),
                    strict: function.strict,
                    extra: Map::new(),
                }),
                extra: Map::new(),
            }),
            ResponsesTool::Other(_) => {
                return Err(ProtocolError::UnsupportedToolType {
                    index,
                    kind: excerpt(tool.kind(), NAME_CHARS),
                });
            }
        }
    }
    let named = |name: &str| {
        out.iter()
            .any(|tool| tool.function.as_ref().is_some_and(|f| f.name == name))
    };
    let choice = match choice {
        None => None,
        Some(ResponsesToolChoice::Mode(mode)) => Some(ToolChoice::Mode(mode.clone())),
        Some(ResponsesToolChoice::Function { name }) => {
            if !named(name) {
                return Err(ProtocolError::ToolChoiceNotInTools {
                    name: excerpt(name, NAME_CHARS),
                });
            }
            Some(ToolChoice::Function(NamedToolChoice {
                kind: "function".to_owned(),
                function: FunctionName { name: name.clone() },
            }))
        }
        Some(ResponsesToolChoice::Other(value)) => {
            let kind = value.get("type").and_then(Value::as_str).unwrap_or("");
            if kind != "allowed_tools" {
                return Err(ProtocolError::UnsupportedToolChoice {
                    kind: excerpt(if kind.is_empty() { "(none)" } else { kind }, NAME_CHARS),
                });
            }
            let allowed: HashSet<&str> = value
                .get("tools")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|tool| tool.get("type").and_then(Value::as_str) == Some("function"))
                .filter_map(|tool| tool.get("name").and_then(Value::as_str))
                .collect();
            out.retain(|tool| {
                tool.function
                    .as_ref()
                    .is_some_and(|f| allowed.contains(f.name.as_str()))
            });
            let mode = value.get("mode").and_then(Value::as_str).unwrap_or("auto");
            Some(ToolChoice::Mode(ToolChoiceMode::from(mode)))
        }
    };
    Ok((out, choice))
}

/// `text.format` as `response_format`; plain text needs none.
fn format_to_openai(format: &TextFormat) -> Option<ResponseFormat> {
    let json_schema = (format.kind == "json_schema").then(|| JsonSchemaFormat {
        name: format.name.clone().unwrap_or_else(|| "response".to_owned()),
        description: format.description.clone(),
        schema: format.schema.clone(),
        strict: format.strict,
        extra: Map::new(),
    });
    match format.kind.as_str() {
        "text" => None,
        "json_object" | "json_schema" => Some(ResponseFormat {
            kind: format.kind.clone(),
            json_schema,
            extra: Map::new(),
        }),
        // A newer format: passed on for the backend to judge.
        _ => Some(ResponseFormat {
            kind: format.kind.clone(),
            json_schema: None,
            extra: format.extra.clone(),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Responses client → Chat Completions backend: the answer

/// The identity and state of a response Hearth makes: its id (`resp_…`) and Unix time, the
/// model it names, the response it continues and whether it is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseContext {
    pub id: String,
    pub created_at: u64,
    pub model: String,
    pub previous_response_id: Option<String>,
    pub store: bool,
}

impl ResponseContext {
    fn item_id(&self, prefix: &str, output_index: usize) -> String {
        format!("{prefix}_{output_index}_{}", self.id)
    }
}

/// The response object before any output: `in_progress`, with the request's parameters echoed
/// (and OpenAI's defaults where it gave none: `tool_choice` `auto`, `parallel_tool_calls`
/// true, text format `text`, `truncation` `disabled`, empty `metadata`).
pub fn response_shell(request: &ResponsesRequest, context: &ResponseContext) -> Response {
    Response {
        id: context.id.clone(),
        object: "response".to_owned(),
        created_at: context.created_at,
        status: ResponseStatus::InProgress,
        error: None,
        incomplete_details: None,
        instructions: request.instructions.clone(),
        max_output_tokens: request.max_output_tokens,
        model: context.model.clone(),
        output: Vec::new(),
        parallel_tool_calls: request.parallel_tool_calls.unwrap_or(true),
        previous_response_id: context.previous_response_id.clone(),
        reasoning: Some(request.reasoning.clone().unwrap_or_default()),
        store: context.store,
        temperature: request.temperature,
        text: Some(request.text.clone().unwrap_or_else(|| TextConfig {
            format: Some(TextFormat::text()),
            extra: Map::new(),
        })),
        tool_choice: request
            .tool_choice
            .clone()
            .unwrap_or(ResponsesToolChoice::Mode(ToolChoiceMode::Auto)),
        tools: request.tools.clone(),
        top_p: request.top_p,
        truncation: Some(
            request
                .truncation
                .clone()
                .unwrap_or_else(|| "disabled".to_owned()),
        ),
        usage: None,
        user: request.user.clone(),
        metadata: Some(request.metadata.clone().unwrap_or_default()),
        extra: Map::new(),
    }
}

/// A Chat Completions answer as the response object: its reasoning, its text and each of its
/// tool calls as output items, in that order; `incomplete` when the answer was cut
/// (`max_output_tokens`) or filtered (`content_filter`). Only choice 0 is kept.
pub fn chat_response_to_response(
    response: ChatCompletionResponse,
    request: &ResponsesRequest,
    context: &ResponseContext,
) -> Response {
    let mut out = response_shell(request, context);
    let ChatCompletionResponse { choices, usage, .. } = response;
    let choice = choices.into_iter().min_by_key(|choice| choice.index);
    let finish = choice
        .as_ref()
        .and_then(|choice| choice.finish_reason.clone());
    let (status, details) = ending(finish.as_ref());
    let item_status = match status {
        ResponseStatus::Incomplete => ItemStatus::Incomplete,
        _ => ItemStatus::Completed,
    };
    if let Some(Choice { message, .. }) = choice {
        let ResponseMessage {
            content,
            reasoning_content,
            tool_calls,
            extra,
            ..
        } = message;
        if let Some(text) = reasoning(reasoning_content, &extra) {
            let id = context.item_id("rs", out.output.len());
            out.output
                .push(OutputItem::Reasoning(reasoning_output(id, text)));
        }
        if let Some(text) = content.filter(|text| !text.is_empty()) {
            let id = context.item_id("msg", out.output.len());
            out.output
                .push(OutputItem::Message(message_output(id, item_status, text)));
        }
        let mut call_ids = HashSet::new();
        for (position, call) in tool_calls.into_iter().enumerate() {
            let index = out.output.len();
            // A call id must name one call: a repeated one (models that write their own ids
            // repeat them) gets Hearth's, as a missing one does.
            let call_id = if call.id.is_empty() || call_ids.contains(&call.id) {
                context.item_id("call", position)
            } else {
                call.id
            };
            call_ids.insert(call_id.clone());
            out.output.push(OutputItem::FunctionCall(FunctionCallItem {
                id: Some(context.item_id("fc", index)),
                call_id,
                name: call.function.name,
                arguments: call.function.arguments,
                status: Some(ItemStatus::Completed),
                extra: Map::new(),
            }));
        }
    }
    out.status = status;
    out.incomplete_details = details;
    out.usage = usage.as_ref().map(usage_to_responses);
    out
}

/// `completed`, or `incomplete` and why.
fn ending(finish: Option<&FinishReason>) -> (ResponseStatus, Option<IncompleteDetails>) {
    let reason = match finish {
        Some(FinishReason::Length) => "max_output_tokens",
        Some(FinishReason::ContentFilter) => "content_filter",
        _ => return (ResponseStatus::Completed, None),
    };
    let details = IncompleteDetails {
        reason: Some(reason.to_owned()),
        extra: Map::new(),
    };
    (ResponseStatus::Incomplete, Some(details))
}

fn reasoning_output(id: String, text: String) -> ReasoningItem {
    ReasoningItem {
        id,
        summary: Vec::new(),
        content: Some(vec![ReasoningText::new(text)]),
        encrypted_content: None,
        status: None,
        extra: Map::new(),
    }
}

fn message_output(id: String, status: ItemStatus, text: String) -> OutputMessage {
    OutputMessage {
        id,
        status,
        role: MessageRole::Assistant,
        content: vec![OutputContent::OutputText(OutputText::new(text))],
        extra: Map::new(),
    }
}

/// Chat usage as Responses usage; a total the backend left out is the sum.
fn usage_to_responses(usage: &Usage) -> ResponseUsage {
    let detail = |details: &str, count: &str| {
        usage
            .extra
            .get(details)
            .and_then(|details| details.get(count))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let total = if usage.total_tokens == 0 {
        usage.prompt_tokens.saturating_add(usage.completion_tokens)
    } else {
        usage.total_tokens
    };
    ResponseUsage {
        input_tokens: usage.prompt_tokens,
        input_tokens_details: InputTokensDetails {
            cached_tokens: detail("prompt_tokens_details", "cached_tokens"),
            cache_write_tokens: 0,
            extra: Map::new(),
        },
        output_tokens: usage.completion_tokens,
        output_tokens_details: OutputTokensDetails {
            reasoning_tokens: detail("completion_tokens_details", "reasoning_tokens"),
            extra: Map::new(),
        },
        total_tokens: total,
        extra: Map::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Responses client → Chat Completions backend: the stream

/// Turns Chat Completions chunks into Responses events, in OpenAI's order: `response.created`
/// and `response.in_progress` ([`Self::start`]); then one output item at a time — reasoning
/// (`output_item.added`, `content_part.added`, `reasoning_text.delta`…, `reasoning_text.done`,
/// `content_part.done`, `output_item.done`), the message (the same with `output_text`), each
/// tool call (`output_item.added` with its name and call id, `function_call_arguments.delta`…,
/// `function_call_arguments.done`, `output_item.done`); then `response.completed` or
/// `response.incomplete` with the whole response ([`Self::finish`]), or `response.failed`
/// ([`Self::fail`]). `sequence_number` counts every event from 0.
///
/// The first tool call streams as it comes. A backend could interleave the fragments of several
/// calls, which one-item-at-a-time events cannot follow, so the fragments of every other call are
/// gathered and each is sent whole at the end, in index order — as is text or reasoning that
/// arrives after a call began. Only choice 0 is followed; chunks after the end are ignored.
#[derive(Debug)]
pub struct OpenAiToResponsesStream {
    context: ResponseContext,
    response: Response,
    sequence: u64,
    started: bool,
    finished: bool,
    /// The reasoning or message item being streamed.
    open: Option<OpenText>,
    /// Tool calls by chunk index.
    calls: BTreeMap<u32, PendingCall>,
    /// The chunk index of the call streaming live, once it has a name.
    live: Option<u32>,
    /// The call ids of the calls announced so far, each given to one call only.
    call_ids: HashSet<String>,
    /// Reasoning and text that arrived after a tool call began, sent at the end.
    late_reasoning: String,
    late_text: String,
    finish_reason: Option<FinishReason>,
    usage: Option<Usage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextKind {
    Reasoning,
    Message,
}

#[derive(Debug)]
struct OpenText {
    kind: TextKind,
    output_index: usize,
    id: String,
    text: String,
}

#[derive(Debug, Default)]
struct PendingCall {
    id: Option<String>,
    name: String,
    arguments: String,
    /// Its item id and output index, once announced.
    item: Option<(String, usize)>,
    /// How much of `arguments` went out.
    sent: usize,
}

impl OpenAiToResponsesStream {
    pub fn new(request: &ResponsesRequest, context: ResponseContext) -> Self {
        OpenAiToResponsesStream {
            response: response_shell(request, &context),
            context,
            sequence: 0,
            started: false,
            finished: false,
            open: None,
            calls: BTreeMap::new(),
            live: None,
            call_ids: HashSet::new(),
            late_reasoning: String::new(),
            late_text: String::new(),
            finish_reason: None,
            usage: None,
        }
    }

    /// The response as it stands: the items closed so far; after [`Self::finish`], the whole
    /// answer to store.
    pub fn response(&self) -> &Response {
        &self.response
    }

    /// Whether the last event (`completed`, `incomplete` or `failed`) has gone out.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// `response.created` then `response.in_progress` (once; the other methods send them first
    /// if they have not gone out).
    pub fn start(&mut self) -> Vec<StreamEvent> {
        if self.started {
            return Vec::new();
        }
        self.started = true;
        let created = self.response_event();
        let in_progress = self.response_event();
        vec![
            StreamEvent::Created(created),
            StreamEvent::InProgress(in_progress),
        ]
    }

    /// The events one chunk becomes (zero or more).
    pub fn push(&mut self, chunk: ChatCompletionChunk) -> Vec<StreamEvent> {
        if self.finished {
            return Vec::new();
        }
        let mut out = self.start();
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        for choice in chunk.choices.into_iter().filter(|choice| choice.index == 0) {
            let Delta {
                content,
                reasoning_content,
                tool_calls,
                extra,
                ..
            } = choice.delta;
            if let Some(text) = reasoning(reasoning_content, &extra) {
                self.text(TextKind::Reasoning, &text, &mut out);
            }
            if let Some(text) = content.filter(|text| !text.is_empty()) {
                self.text(TextKind::Message, &text, &mut out);
            }
            for fragment in tool_calls {
                self.fragment(fragment, &mut out);
            }
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(reason);
            }
        }
        out
    }

    /// The end of the chunks: what is still open closes with its whole text or arguments, the
    /// gathered calls and late text follow, then `response.completed` (or
    /// `response.incomplete`, when the answer was cut) with every output item and the usage.
    pub fn finish(&mut self) -> Vec<StreamEvent> {
        if self.finished {
            return Vec::new();
        }
        let mut out = self.start();
        self.close_text(&mut out);
        if let Some(index) = self.live.take() {
            self.close_call(index, &mut out);
        }
        for index in self.calls.keys().copied().collect::<Vec<_>>() {
            self.announce(index, &mut out);
            self.send_arguments(index, &mut out);
            self.close_call(index, &mut out);
        }
        for (kind, text) in [
            (
                TextKind::Reasoning,
                std::mem::take(&mut self.late_reasoning),
            ),
            (TextKind::Message, std::mem::take(&mut self.late_text)),
        ] {
            if !text.is_empty() {
                self.text(kind, &text, &mut out);
                self.close_text(&mut out);
            }
        }
        let (status, details) = ending(self.finish_reason.as_ref());
        self.response.status = status.clone();
        self.response.incomplete_details = details;
        self.response.usage = self.usage.as_ref().map(usage_to_responses);
        self.finished = true;
        let event = self.response_event();
        out.push(match status {
            ResponseStatus::Incomplete => StreamEvent::Incomplete(event),
            _ => StreamEvent::Completed(event),
        });
        out
    }

    /// The stream broke (the backend failed or vanished): `response.failed` with
    /// `error {code: "server_error", message}` and the output so far (what was open marked
    /// `incomplete`), and nothing after it.
    pub fn fail(&mut self, message: &str) -> Vec<StreamEvent> {
        if self.finished {
            return Vec::new();
        }
        let mut out = self.start();
        if let Some(open) = self.open.take() {
            let item = self.text_item(&open, ItemStatus::Incomplete);
            self.response.output.push(item);
        }
        if let Some(index) = self.live.take()
            && let Some(call) = self.calls.remove(&index)
            && let Some(item) = call_item(&self.context, index, &call, ItemStatus::Incomplete)
        {
            self.response.output.push(OutputItem::FunctionCall(item));
        }
        self.response.status = ResponseStatus::Failed;
        self.response.error = Some(ResponseError {
            code: "server_error".to_owned(),
            message: message.to_owned(),
            extra: Map::new(),
        });
        self.response.usage = self.usage.as_ref().map(usage_to_responses);
        self.finished = true;
        out.push(StreamEvent::Failed(self.response_event()));
        out
    }

    fn next_sequence(&mut self) -> u64 {
        let sequence = self.sequence;
        self.sequence += 1;
        sequence
    }

    fn response_event(&mut self) -> ResponseEvent {
        ResponseEvent {
            sequence_number: self.next_sequence(),
            response: self.response.clone(),
            extra: Map::new(),
        }
    }

    /// A reasoning or text delta: streamed, unless a tool call began (then kept for the end).
    fn text(&mut self, kind: TextKind, delta: &str, out: &mut Vec<StreamEvent>) {
        if !self.calls.is_empty() {
            match kind {
                TextKind::Reasoning => self.late_reasoning.push_str(delta),
                TextKind::Message => self.late_text.push_str(delta),
            }
            return;
        }
        if self.open.as_ref().is_some_and(|open| open.kind != kind) {
            self.close_text(out);
        }
        if self.open.is_none() {
            let output_index = self.response.output.len();
            let prefix = match kind {
                TextKind::Reasoning => "rs",
                TextKind::Message => "msg",
            };
            let open = OpenText {
                kind,
                output_index,
                id: self.context.item_id(prefix, output_index),
                text: String::new(),
            };
            let item = self.text_item(&open, ItemStatus::InProgress);
            let added = self.item_event(output_index, item);
            out.push(StreamEvent::OutputItemAdded(added));
            let part = text_part(kind, String::new());
            out.push(StreamEvent::ContentPartAdded(self.part_event(&open, part)));
            self.open = Some(open);
        }
        let sequence_number = self.next_sequence();
        let Some(open) = self.open.as_mut() else {
            return;
        };
        open.text.push_str(delta);
        let event = TextDeltaEvent {
            sequence_number,
            item_id: open.id.clone(),
            output_index: index_u32(open.output_index),
            content_index: 0,
            delta: delta.to_owned(),
            logprobs: logprobs(kind),
            extra: Map::new(),
        };
        out.push(match kind {
            TextKind::Reasoning => StreamEvent::ReasoningTextDelta(event),
            TextKind::Message => StreamEvent::OutputTextDelta(event),
        });
    }

    /// The open reasoning or message item's `.done` events, and the item into `output`.
    fn close_text(&mut self, out: &mut Vec<StreamEvent>) {
        let Some(open) = self.open.take() else {
            return;
        };
        let done = TextDoneEvent {
            sequence_number: self.next_sequence(),
            item_id: open.id.clone(),
            output_index: index_u32(open.output_index),
            content_index: 0,
            text: open.text.clone(),
            logprobs: logprobs(open.kind),
            extra: Map::new(),
        };
        out.push(match open.kind {
            TextKind::Reasoning => StreamEvent::ReasoningTextDone(done),
            TextKind::Message => StreamEvent::OutputTextDone(done),
        });
        let part = text_part(open.kind, open.text.clone());
        out.push(StreamEvent::ContentPartDone(self.part_event(&open, part)));
        let status = match self.finish_reason {
            Some(FinishReason::Length | FinishReason::ContentFilter) => ItemStatus::Incomplete,
            _ => ItemStatus::Completed,
        };
        let item = self.text_item(&open, status);
        self.response.output.push(item.clone());
        let done = self.item_event(open.output_index, item);
        out.push(StreamEvent::OutputItemDone(done));
    }

    fn text_item(&self, open: &OpenText, status: ItemStatus) -> OutputItem {
        let finished = status != ItemStatus::InProgress;
        match open.kind {
            TextKind::Reasoning => {
                let mut item = reasoning_output(open.id.clone(), open.text.clone());
                if !finished {
                    item.content = Some(Vec::new());
                }
                OutputItem::Reasoning(item)
            }
            TextKind::Message => {
                let mut item = message_output(open.id.clone(), status, open.text.clone());
                if !finished {
                    item.content.clear();
                }
                OutputItem::Message(item)
            }
        }
    }

    fn part_event(&mut self, open: &OpenText, part: OutputContent) -> ContentPartEvent {
        ContentPartEvent {
            sequence_number: self.next_sequence(),
            item_id: open.id.clone(),
            output_index: index_u32(open.output_index),
            content_index: 0,
            part,
            extra: Map::new(),
        }
    }

    fn item_event(&mut self, output_index: usize, item: OutputItem) -> OutputItemEvent {
        OutputItemEvent {
            sequence_number: self.next_sequence(),
            output_index: index_u32(output_index),
            item,
            extra: Map::new(),
        }
    }

    /// A tool-call fragment: gathered; streamed when it belongs to the live call.
    fn fragment(&mut self, fragment: ToolCallDelta, out: &mut Vec<StreamEvent>) {
        self.close_text(out);
        let index = fragment.index;
        let call = self.calls.entry(index).or_default();
        if let Some(id) = fragment.id.filter(|id| !id.is_empty()) {
            call.id.get_or_insert(id);
        }
        if let Some(function) = fragment.function {
            if let Some(name) = function.name.filter(|name| !name.is_empty())
                && call.name.is_empty()
            {
                call.name = name;
            }
            if let Some(arguments) = function.arguments {
                call.arguments.push_str(&arguments);
            }
        }
        let named = !call.name.is_empty();
        if self.live.is_none() && named && call.item.is_none() {
            self.live = Some(index);
            self.announce(index, out);
        }
        if self.live == Some(index) {
            self.send_arguments(index, out);
        }
    }

    /// `output_item.added` for a call not yet announced. Items open one at a time and close in
    /// order, so the next output index is the number of items closed. The call id is settled
    /// here: one that comes later, or that an earlier call has, would change the item's
    /// identity between `added` and `done` (the SDK's stream helper refuses that), so the call
    /// gets Hearth's id instead.
    fn announce(&mut self, index: u32, out: &mut Vec<StreamEvent>) {
        let output_index = self.response.output.len();
        let item_id = self.context.item_id("fc", output_index);
        let Some(call) = self
            .calls
            .get_mut(&index)
            .filter(|call| call.item.is_none())
        else {
            return;
        };
        let call_id = match call.id.take() {
            Some(id) if !self.call_ids.contains(&id) => id,
            _ => self.context.item_id("call", index as usize),
        };
        self.call_ids.insert(call_id.clone());
        call.id = Some(call_id);
        call.item = Some((item_id, output_index));
        let Some(item) = call_item(&self.context, index, call, ItemStatus::InProgress) else {
            return;
        };
        let added = self.item_event(output_index, OutputItem::FunctionCall(item));
        out.push(StreamEvent::OutputItemAdded(added));
    }

    /// The arguments of an announced call not yet sent, as one `function_call_arguments.delta`.
    fn send_arguments(&mut self, index: u32, out: &mut Vec<StreamEvent>) {
        let Some(call) = self.calls.get_mut(&index) else {
            return;
        };
        let Some((item_id, output_index)) = call.item.clone() else {
            return;
        };
        let delta = call
            .arguments
            .get(call.sent..)
            .unwrap_or_default()
            .to_owned();
        if delta.is_empty() {
            return;
        }
        call.sent = call.arguments.len();
        out.push(StreamEvent::FunctionCallArgumentsDelta(
            ArgumentsDeltaEvent {
                sequence_number: self.next_sequence(),
                item_id,
                output_index: index_u32(output_index),
                delta,
                extra: Map::new(),
            },
        ));
    }

    /// `function_call_arguments.done` and `output_item.done` for an announced call, and the
    /// call into `output`.
    fn close_call(&mut self, index: u32, out: &mut Vec<StreamEvent>) {
        let Some(call) = self.calls.remove(&index) else {
            return;
        };
        let Some(item) = call_item(&self.context, index, &call, ItemStatus::Completed) else {
            return;
        };
        let output_index = call.item.map_or(0, |(_, output_index)| output_index);
        out.push(StreamEvent::FunctionCallArgumentsDone(ArgumentsDoneEvent {
            sequence_number: self.next_sequence(),
            item_id: item.id.clone().unwrap_or_default(),
            output_index: index_u32(output_index),
            arguments: item.arguments.clone(),
            name: Some(item.name.clone()),
            extra: Map::new(),
        }));
        self.response
            .output
            .push(OutputItem::FunctionCall(item.clone()));
        let done = self.item_event(output_index, OutputItem::FunctionCall(item));
        out.push(StreamEvent::OutputItemDone(done));
    }
}

/// An announced call as an item; while in progress without arguments, as OpenAI announces it.
fn call_item(
    context: &ResponseContext,
    index: u32,
    call: &PendingCall,
    status: ItemStatus,
) -> Option<FunctionCallItem> {
    let (item_id, _) = call.item.as_ref()?;
    let arguments = if status == ItemStatus::InProgress {
        String::new()
    } else {
        call.arguments.clone()
    };
    Some(FunctionCallItem {
        id: Some(item_id.clone()),
        call_id: call
            .id
            .clone()
            .unwrap_or_else(|| context.item_id("call", index as usize)),
        name: call.name.clone(),
        arguments,
        status: Some(status),
        extra: Map::new(),
    })
}

fn text_part(kind: TextKind, text: String) -> OutputContent {
    match kind {
        TextKind::Reasoning => OutputContent::ReasoningText(ReasoningText::new(text)),
        TextKind::Message => OutputContent::OutputText(OutputText::new(text)),
    }
}

/// `output_text` events carry `logprobs` (the SDK requires them); reasoning events do not.
fn logprobs(kind: TextKind) -> Option<Vec<Value>> {
    (kind == TextKind::Message).then(Vec::new)
}

fn index_u32(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------------------------------------
// Canonical Chat Completions → Responses backend: the request

/// A Chat Completions request as a Responses request, for a backend that speaks the Responses
/// API. Leading `system`/`developer` messages become `instructions`; later ones stay in place as
/// `developer` messages. Nothing is stored on the backend (`store: false`): every request
/// carries the whole conversation. `stream_options` has no Responses field (a Responses stream
/// always ends with usage): read [`ChatCompletionRequest::wants_stream_usage`] first and hand it
/// to [`ResponsesToOpenAiStream::new`].
pub fn chat_request_to_responses(
    request: ChatCompletionRequest,
) -> Result<ResponsesRequest, ProtocolError> {
    if let Some(n) = request.n
        && n > 1
    {
        return Err(ProtocolError::UnsupportedChoiceCountFor {
            n,
            target: "the Responses API",
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
        response_format,
        reasoning_effort,
        mut extra,
        ..
    } = request;

    let mut instructions: Vec<String> = Vec::new();
    let mut items = Vec::with_capacity(messages.len());
    let mut leading = true;
    for (index, message) in messages.into_iter().enumerate() {
        let instruction = matches!(message.role, Role::System | Role::Developer);
        if leading && instruction {
            instructions.push(chat_text(message.content));
            continue;
        }
        leading = false;
        message_to_items(index, message, &mut items)?;
    }

    let mut out_tools = Vec::with_capacity(tools.len());
    for (index, tool) in tools.into_iter().enumerate() {
        match tool.function {
            Some(function) if tool.kind == "function" => {
                out_tools.push(ResponsesTool::Function(FunctionTool {
                    name: function.name,
                    description: function.description,
                    parameters: function.parameters,
                    strict: function.strict,
                    extra: Map::new(),
                }));
            }
            _ => {
                return Err(ProtocolError::UnsupportedToolType {
                    index,
                    kind: excerpt(&tool.kind, NAME_CHARS),
                });
            }
        }
    }
    let tool_choice = tool_choice.map(|choice| match choice {
        ToolChoice::Mode(mode) => ResponsesToolChoice::Mode(mode),
        ToolChoice::Function(named) => ResponsesToolChoice::Function {
            name: named.function.name,
        },
        ToolChoice::Other(value) => ResponsesToolChoice::Other(value),
    });

    Ok(ResponsesRequest {
        model: Some(model),
        input: Some(Input::Items(items)),
        instructions: (!instructions.is_empty()).then(|| instructions.join("\n\n")),
        tools: out_tools,
        tool_choice,
        parallel_tool_calls: extra.get("parallel_tool_calls").and_then(Value::as_bool),
        reasoning: reasoning_effort.map(|effort| ReasoningConfig {
            effort: Some(effort),
            summary: None,
            extra: Map::new(),
        }),
        max_output_tokens: max_completion_tokens.or(max_tokens),
        temperature,
        top_p,
        store: Some(false),
        stream,
        text: response_format.and_then(format_to_responses),
        user: match extra.remove("user") {
            Some(Value::String(user)) => Some(user),
            _ => None,
        },
        ..ResponsesRequest::default()
    })
}

/// A chat message's text (parts joined with `\n`; other parts have no place here).
fn chat_text(content: Option<ChatContent>) -> String {
    match content {
        None => String::new(),
        Some(ChatContent::Text(text)) => text,
        Some(ChatContent::Parts(parts)) => parts
            .into_iter()
            .filter_map(|part| match part {
                ContentPart::Text(part) => Some(part.text),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn message_to_items(
    index: usize,
    message: ChatMessage,
    items: &mut Vec<InputItem>,
) -> Result<(), ProtocolError> {
    let role = match &message.role {
        Role::System | Role::Developer => MessageRole::Developer,
        Role::User => MessageRole::User,
        Role::Assistant => MessageRole::Assistant,
        Role::Tool | Role::Function => {
            items.push(InputItem::FunctionCallOutput(FunctionCallOutputItem {
                call_id: message.tool_call_id.unwrap_or_default(),
                output: ToolOutput::Text(chat_text(message.content)),
                id: None,
                status: None,
                extra: Map::new(),
            }));
            return Ok(());
        }
        Role::Other(role) => {
            return Err(ProtocolError::UnknownRole {
                index,
                role: excerpt(role, NAME_CHARS),
                expected: "system, developer, user, assistant, tool",
            });
        }
    };
    let content = match message.content {
        None => None,
        Some(ChatContent::Text(text)) => Some(MessageContent::Text(text)),
        Some(ChatContent::Parts(parts)) if role == MessageRole::User => {
            let mut out = Vec::with_capacity(parts.len());
            for part in parts {
                out.push(match part {
                    ContentPart::Text(part) => InputContent::InputText(InputText {
                        text: part.text,
                        extra: Map::new(),
                    }),
                    ContentPart::ImageUrl(part) => InputContent::InputImage(InputImage {
                        image_url: Some(part.image_url.url),
                        file_id: None,
                        detail: Some(part.image_url.detail.unwrap_or_else(|| "auto".to_owned())),
                        extra: Map::new(),
                    }),
                    ContentPart::Other(_) => {
                        return Err(ProtocolError::UnsupportedContentPart {
                            index,
                            kind: excerpt(part.kind(), NAME_CHARS),
                            target: "the Responses API",
                        });
                    }
                });
            }
            Some(MessageContent::Parts(out))
        }
        Some(parts) => Some(MessageContent::Text(chat_text(Some(parts)))),
    };
    // An assistant turn that only calls tools has no message.
    if let Some(content) = content.filter(|content| {
        role != MessageRole::Assistant
            || !matches!(content, MessageContent::Text(text) if text.is_empty())
    }) {
        items.push(InputItem::Message(MessageItem {
            role,
            content,
            id: None,
            status: None,
            extra: Map::new(),
        }));
    }
    for call in message.tool_calls {
        items.push(InputItem::FunctionCall(FunctionCallItem {
            id: None,
            call_id: call.id,
            name: call.function.name,
            arguments: call.function.arguments,
            status: None,
            extra: Map::new(),
        }));
    }
    Ok(())
}

/// `response_format` as `text.format`: flat, where Chat nests the schema.
fn format_to_responses(format: ResponseFormat) -> Option<TextConfig> {
    let schema = format.json_schema.unwrap_or_default();
    let format = match format.kind.as_str() {
        "json_schema" => TextFormat {
            kind: format.kind,
            name: Some(schema.name).filter(|name| !name.is_empty()),
            description: schema.description,
            schema: schema.schema,
            strict: schema.strict,
            extra: Map::new(),
        },
        _ => TextFormat {
            kind: format.kind,
            ..TextFormat::text()
        },
    };
    Some(TextConfig {
        format: Some(format),
        extra: Map::new(),
    })
}

// ---------------------------------------------------------------------------------------------
// Canonical Chat Completions → Responses backend: the answer

/// A Responses backend's response object as a Chat Completions answer: `output_text` (and
/// `refusal`) parts joined into `content`, function calls into `tool_calls`, reasoning text
/// (else its summary) into `reasoning_content`.
pub fn response_to_openai(response: Response, ids: &CompletionIds) -> ChatCompletionResponse {
    let Response {
        model,
        output,
        status,
        incomplete_details,
        usage,
        ..
    } = response;
    let mut text = String::new();
    let mut reasoning_texts = Vec::new();
    let mut tool_calls = Vec::new();
    for item in output {
        match item {
            OutputItem::Message(message) => {
                for part in message.content {
                    match part {
                        OutputContent::OutputText(part) => text.push_str(&part.text),
                        OutputContent::Refusal(part) => text.push_str(&part.refusal),
                        OutputContent::ReasoningText(_) | OutputContent::Other(_) => {}
                    }
                }
            }
            OutputItem::FunctionCall(call) => tool_calls.push(ToolCall {
                id: call.call_id,
                kind: "function".to_owned(),
                function: FunctionCall {
                    name: call.name,
                    arguments: call.arguments,
                    extra: Map::new(),
                },
                extra: Map::new(),
            }),
            OutputItem::Reasoning(item) => reasoning_texts.extend(reasoning_item_text(&item)),
            OutputItem::Other(_) => {}
        }
    }
    let finish_reason = chat_finish(&status, incomplete_details.as_ref(), !tool_calls.is_empty());
    let content = (!text.is_empty() || tool_calls.is_empty()).then_some(text);
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
                reasoning_content: (!reasoning_texts.is_empty())
                    .then(|| reasoning_texts.join("\n")),
                tool_calls,
                extra: Map::new(),
            },
            finish_reason: Some(finish_reason),
            extra: Map::new(),
        }],
        usage: usage.as_ref().map(usage_to_openai),
        extra: Map::new(),
    }
}

/// `length` (or `content_filter`) when cut, else `tool_calls` when the answer calls tools, else
/// `stop`.
fn chat_finish(
    status: &ResponseStatus,
    details: Option<&IncompleteDetails>,
    calls_tools: bool,
) -> FinishReason {
    if *status == ResponseStatus::Incomplete {
        return match details.and_then(|details| details.reason.as_deref()) {
            Some("content_filter") => FinishReason::ContentFilter,
            _ => FinishReason::Length,
        };
    }
    if calls_tools {
        FinishReason::ToolCalls
    } else {
        FinishReason::Stop
    }
}

/// Responses usage as Chat usage, with the cached and reasoning counts as OpenAI details when
/// there are any.
fn usage_to_openai(usage: &ResponseUsage) -> Usage {
    let mut extra = Map::new();
    let cached = usage.input_tokens_details.cached_tokens;
    if cached > 0 {
        extra.insert(
            "prompt_tokens_details".to_owned(),
            serde_json::json!({ "cached_tokens": cached }),
        );
    }
    let reasoning = usage.output_tokens_details.reasoning_tokens;
    if reasoning > 0 {
        extra.insert(
            "completion_tokens_details".to_owned(),
            serde_json::json!({ "reasoning_tokens": reasoning }),
        );
    }
    let total = if usage.total_tokens == 0 {
        usage.input_tokens.saturating_add(usage.output_tokens)
    } else {
        usage.total_tokens
    };
    Usage {
        prompt_tokens: usage.input_tokens,
        completion_tokens: usage.output_tokens,
        total_tokens: total,
        extra,
    }
}

// ---------------------------------------------------------------------------------------------
// Canonical Chat Completions → Responses backend: the stream

/// Turns a Responses backend's events into Chat Completions chunks: the role first (at the
/// first event), text and refusal deltas as `content`, reasoning and reasoning-summary deltas as
/// `reasoning_content`, each function call as a tool-call fragment naming it (at its
/// `output_item.added`) followed by its argument fragments, then — at `response.completed` or
/// `response.incomplete` — a chunk with the `finish_reason` and, when the client asked with
/// `stream_options.include_usage`, a usage chunk with no choices. Text or arguments that a
/// `.done` event holds beyond what its deltas sent go out as one more fragment, for servers that
/// send few deltas or none. `response.failed` and `error` are errors. Other events add nothing;
/// events after the end are ignored.
#[derive(Debug)]
pub struct ResponsesToOpenAiStream {
    ids: CompletionIds,
    include_usage: bool,
    model: String,
    started: bool,
    finished: bool,
    /// Tool-call index and arguments sent so far, by output index.
    calls: BTreeMap<u32, (u32, String)>,
    /// Text sent so far, by output and content index.
    texts: BTreeMap<(u32, u32), String>,
}

impl ResponsesToOpenAiStream {
    pub fn new(ids: CompletionIds, include_usage: bool) -> Self {
        ResponsesToOpenAiStream {
            ids,
            include_usage,
            model: String::new(),
            started: false,
            finished: false,
            calls: BTreeMap::new(),
            texts: BTreeMap::new(),
        }
    }

    /// Whether the final chunk has gone out.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The chunks one event becomes (zero or more), or the error a failed stream reports.
    pub fn push(&mut self, event: StreamEvent) -> Result<Vec<ChatCompletionChunk>, ProtocolError> {
        if self.finished {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        if let StreamEvent::Created(event) | StreamEvent::InProgress(event) = &event
            && self.model.is_empty()
        {
            self.model.clone_from(&event.response.model);
        }
        if !self.started {
            self.started = true;
            out.push(self.chunk(Delta {
                role: Some(Role::Assistant),
                content: Some(String::new()),
                ..Delta::default()
            }));
        }
        match event {
            StreamEvent::OutputTextDelta(event) | StreamEvent::RefusalDelta(event)
                if !event.delta.is_empty() =>
            {
                self.texts
                    .entry((event.output_index, event.content_index))
                    .or_default()
                    .push_str(&event.delta);
                out.push(self.text_chunk(event.delta));
            }
            // A server that sends no (or not all) deltas: the rest of the text.
            StreamEvent::OutputTextDone(event) => {
                let sent = self
                    .texts
                    .entry((event.output_index, event.content_index))
                    .or_default();
                if let Some(rest) = event
                    .text
                    .strip_prefix(sent.as_str())
                    .filter(|rest| !rest.is_empty())
                    .map(str::to_owned)
                {
                    sent.push_str(&rest);
                    out.push(self.text_chunk(rest));
                }
            }
            StreamEvent::ReasoningTextDelta(TextDeltaEvent { delta, .. })
            | StreamEvent::ReasoningSummaryTextDelta(SummaryTextDeltaEvent { delta, .. })
                if !delta.is_empty() =>
            {
                out.push(self.chunk(Delta {
                    reasoning_content: Some(delta),
                    ..Delta::default()
                }));
            }
            StreamEvent::OutputItemAdded(OutputItemEvent {
                output_index,
                item: OutputItem::FunctionCall(call),
                ..
            }) => out.extend(self.call(output_index, &call)),
            StreamEvent::FunctionCallArgumentsDelta(event) => {
                if let Some((index, sent)) = self.calls.get_mut(&event.output_index)
                    && !event.delta.is_empty()
                {
                    sent.push_str(&event.delta);
                    let fragment = arguments_fragment(*index, event.delta);
                    out.push(self.tool_chunk(fragment));
                }
            }
            // A server that sends no (or not all) deltas: the rest of the arguments.
            StreamEvent::FunctionCallArgumentsDone(event) => {
                out.extend(self.rest_of_arguments(event.output_index, &event.arguments));
            }
            StreamEvent::OutputItemDone(OutputItemEvent {
                output_index,
                item: OutputItem::FunctionCall(call),
                ..
            }) => {
                if self.calls.contains_key(&output_index) {
                    out.extend(self.rest_of_arguments(output_index, &call.arguments));
                } else {
                    out.extend(self.call(output_index, &call));
                }
            }
            StreamEvent::Completed(event) | StreamEvent::Incomplete(event) => {
                self.finished = true;
                let response = event.response;
                let reason = chat_finish(
                    &response.status,
                    response.incomplete_details.as_ref(),
                    !self.calls.is_empty(),
                );
                let mut last = self.chunk(Delta::default());
                if let Some(choice) = last.choices.first_mut() {
                    choice.finish_reason = Some(reason);
                }
                out.push(last);
                if self.include_usage {
                    let mut usage = self.chunk(Delta::default());
                    usage.choices.clear();
                    usage.usage = Some(
                        response
                            .usage
                            .as_ref()
                            .map(usage_to_openai)
                            .unwrap_or_default(),
                    );
                    out.push(usage);
                }
            }
            StreamEvent::Failed(event) => {
                self.finished = true;
                let error = event.response.error;
                return Err(ProtocolError::UpstreamStreamError {
                    kind: error
                        .as_ref()
                        .map(|error| error.code.clone())
                        .filter(|code| !code.is_empty())
                        .unwrap_or_else(|| "response.failed".to_owned()),
                    message: error
                        .map(|error| error.message)
                        .filter(|message| !message.is_empty())
                        .unwrap_or_else(|| "the response failed".to_owned()),
                });
            }
            StreamEvent::Error(event) => {
                self.finished = true;
                return Err(ProtocolError::UpstreamStreamError {
                    kind: event
                        .code
                        .filter(|code| !code.is_empty())
                        .unwrap_or_else(|| "error".to_owned()),
                    message: event.message,
                });
            }
            _ => {}
        }
        Ok(out)
    }

    /// The fragment that names a new call (with whatever arguments it already has).
    fn call(&mut self, output_index: u32, call: &FunctionCallItem) -> Option<ChatCompletionChunk> {
        if self.calls.contains_key(&output_index) {
            return None;
        }
        let index = u32::try_from(self.calls.len()).unwrap_or(u32::MAX);
        let arguments = call.arguments.clone();
        self.calls.insert(output_index, (index, arguments.clone()));
        let fragment = ToolCallDelta {
            index,
            id: Some(call.call_id.clone()),
            kind: Some("function".to_owned()),
            function: Some(FunctionCallDelta {
                name: Some(call.name.clone()),
                arguments: Some(arguments),
            }),
            extra: Map::new(),
        };
        Some(self.tool_chunk(fragment))
    }

    fn rest_of_arguments(&mut self, output_index: u32, whole: &str) -> Option<ChatCompletionChunk> {
        let (index, sent) = self.calls.get_mut(&output_index)?;
        let rest = whole.strip_prefix(sent.as_str())?;
        if rest.is_empty() {
            return None;
        }
        let fragment = arguments_fragment(*index, rest.to_owned());
        sent.push_str(rest);
        Some(self.tool_chunk(fragment))
    }

    fn text_chunk(&self, text: String) -> ChatCompletionChunk {
        self.chunk(Delta {
            content: Some(text),
            ..Delta::default()
        })
    }

    fn tool_chunk(&self, fragment: ToolCallDelta) -> ChatCompletionChunk {
        self.chunk(Delta {
            tool_calls: vec![fragment],
            ..Delta::default()
        })
    }

    fn chunk(&self, delta: Delta) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.ids.id.clone(),
            object: "chat.completion.chunk".to_owned(),
            created: self.ids.created,
            model: self.model.clone(),
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason: None,
                extra: Map::new(),
            }],
            usage: None,
            extra: Map::new(),
        }
    }
}

fn arguments_fragment(index: u32, arguments: String) -> ToolCallDelta {
    ToolCallDelta {
        index,
        function: Some(FunctionCallDelta {
            name: None,
            arguments: Some(arguments),
        }),
        ..ToolCallDelta::default()
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use serde::Serialize;

    use super::*;
    use crate::framing::sse::{SseEvent, SseParser};
    use crate::from_json;

    fn context() -> ResponseContext {
        ResponseContext {
            id: "resp_7".to_owned(),
            created_at: 1741290958,
            model: "gpt-4.1-2025-04-14".to_owned(),
            previous_response_id: None,
            store: true,
        }
    }

    fn pretty<T: Serialize>(value: &T) -> String {
        serde_json::to_string_pretty(value).unwrap() + "\n"
    }

    /// A Responses request (after a stored conversation, JSON items) → the chat request sent
    /// to the backend, or the error.
    fn check_request(request_json: &str, history_json: &str, expect: Expect) {
        let request: ResponsesRequest = from_json(request_json.as_bytes()).unwrap();
        let history: Vec<InputItem> = from_json(history_json.as_bytes()).unwrap();
        let out = match responses_request_to_openai(&request, &history) {
            Ok(chat) => pretty(&chat),
            Err(error) => format!("error: {error}\n"),
        };
        expect.assert_eq(&out);
    }

    /// A chat answer → the response object the client gets.
    fn check_response(request_json: &str, chat_json: &str, expect: Expect) {
        let request: ResponsesRequest = from_json(request_json.as_bytes()).unwrap();
        let chat = from_json(chat_json.as_bytes()).unwrap();
        expect.assert_eq(&pretty(&chat_response_to_response(
            chat,
            &request,
            &context(),
        )));
    }

    /// Events one per line; `response.*` events show only what changes: status, output,
    /// usage and error.
    fn show_events(events: &[StreamEvent]) -> String {
        let mut out = String::new();
        for event in events {
            let mut value = serde_json::to_value(event).unwrap();
            if let Some(response) = value.get_mut("response") {
                let keep = ["status", "incomplete_details", "error", "output", "usage"];
                let brief: Map<String, Value> = keep
                    .iter()
                    .filter_map(|key| Some((key.to_string(), response.get(*key)?.clone())))
                    .filter(|(_, value)| !value.is_null())
                    .collect();
                *response = Value::Object(brief);
            }
            out += &serde_json::to_string(&value).unwrap();
            out += "\n";
        }
        out
    }

    /// Chat chunks (one JSON per line; `[DONE]` finishes, `FAIL <message>` fails) → the
    /// Responses events the client gets, numbered 0, 1, 2… without a gap.
    fn check_stream(request_json: &str, chunks: &str, expect: Expect) {
        let request: ResponsesRequest = from_json(request_json.as_bytes()).unwrap();
        let mut stream = OpenAiToResponsesStream::new(&request, context());
        let mut events = stream.start();
        for line in chunks
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
        {
            if line == "[DONE]" {
                events.extend(stream.finish());
            } else if let Some(message) = line.strip_prefix("FAIL ") {
                events.extend(stream.fail(message));
            } else {
                events.extend(stream.push(from_json(line.as_bytes()).unwrap()));
            }
        }
        assert!(stream.is_finished());
        for (expected, event) in events.iter().enumerate() {
            assert_eq!(event.sequence_number(), expected as u64, "{event:?}");
        }
        // What the gateway stores is what `response.completed` carried.
        if let Some(StreamEvent::Completed(last) | StreamEvent::Incomplete(last)) = events.last() {
            assert_eq!(&last.response, stream.response());
        }
        expect.assert_eq(&show_events(&events));
    }

    #[test]
    fn string_input_with_instructions() {
        // OpenAI API reference, "Create a model response", the "Streaming" example request.
        check_request(
            r#"{"model": "gpt-4.1", "instructions": "You are a helpful assistant.", "input": "Hello!", "stream": true}"#,
            "[]",
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
                  "stream": true,
                  "stream_options": {
                    "include_usage": true
                  }
                }
            "#]],
        );
    }

    #[test]
    fn easy_input_messages_tools_and_options() {
        // OpenAI function-calling guide ("Function tool example"): EasyInputMessages without
        // `type`, a flat function tool; with the parameters the chat request carries.
        check_request(
            r#"{
              "model": "gpt-4.1",
              "input": [
                {"role": "developer", "content": "Talk like a pirate."},
                {"role": "user", "content": "What is the weather like in Paris today?"}
              ],
              "tools": [{
                "type": "function",
                "name": "get_weather",
                "description": "Get current temperature for a given location.",
                "parameters": {
                  "type": "object",
                  "properties": {"location": {"type": "string", "description": "City and country e.g. Bogotá, Colombia"}},
                  "required": ["location"],
                  "additionalProperties": false
                },
                "strict": true
              }],
              "tool_choice": {"type": "function", "name": "get_weather"},
              "parallel_tool_calls": false,
              "reasoning": {"effort": "low", "summary": "auto"},
              "max_output_tokens": 256,
              "temperature": 0.2,
              "top_p": 0.9,
              "text": {"format": {"type": "json_schema", "name": "weather", "schema": {"type": "object"}, "strict": true}},
              "user": "user-1234",
              "metadata": {"k": "v"},
              "store": false
            }"#,
            "[]",
            expect![[r#"
                {
                  "model": "gpt-4.1",
                  "messages": [
                    {
                      "role": "developer",
                      "content": "Talk like a pirate."
                    },
                    {
                      "role": "user",
                      "content": "What is the weather like in Paris today?"
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
                              "type": "string",
                              "description": "City and country e.g. Bogotá, Colombia"
                            }
                          },
                          "required": [
                            "location"
                          ],
                          "additionalProperties": false
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
                  "max_tokens": 256,
                  "temperature": 0.2,
                  "top_p": 0.9,
                  "response_format": {
                    "type": "json_schema",
                    "json_schema": {
                      "name": "weather",
                      "schema": {
                        "type": "object"
                      },
                      "strict": true
                    }
                  },
                  "reasoning_effort": "low",
                  "parallel_tool_calls": false,
                  "user": "user-1234"
                }
            "#]],
        );
        // `allowed_tools` sends only the allowed functions.
        check_request(
            r#"{"input": "hi", "text": {"format": {"type": "json_object"}},
                "tools": [{"type": "function", "name": "get_weather"}, {"type": "function", "name": "send_email"}],
                "tool_choice": {"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "get_weather"}]}}"#,
            "[]",
            expect![[r#"
                {
                  "model": "",
                  "messages": [
                    {
                      "role": "user",
                      "content": "hi"
                    }
                  ],
                  "tools": [
                    {
                      "type": "function",
                      "function": {
                        "name": "get_weather"
                      }
                    }
                  ],
                  "tool_choice": "required",
                  "response_format": {
                    "type": "json_object"
                  }
                }
            "#]],
        );
    }

    #[test]
    fn function_call_round_trip_after_stored_history() {
        // OpenAI function-calling guide: the first response's output (reasoning, a call) is the
        // stored conversation; the next request sends the call's output.
        check_request(
            r#"{"model": "gpt-4.1", "previous_response_id": "resp_7", "instructions": "Be brief.",
                "input": [{"type": "function_call_output", "call_id": "call_12345xyz", "output": "15°C"}]}"#,
            r#"[
              {"role": "user", "content": "What is the weather like in Paris today?"},
              {"type": "reasoning", "id": "rs_1", "summary": [], "content": [{"type": "reasoning_text", "text": "Need the weather tool."}]},
              {"type": "function_call", "id": "fc_12345xyz", "call_id": "call_12345xyz", "name": "get_weather", "arguments": "{\"location\":\"Paris, France\"}"}
            ]"#,
            expect![[r#"
                {
                  "model": "gpt-4.1",
                  "messages": [
                    {
                      "role": "system",
                      "content": "Be brief."
                    },
                    {
                      "role": "user",
                      "content": "What is the weather like in Paris today?"
                    },
                    {
                      "role": "assistant",
                      "tool_calls": [
                        {
                          "id": "call_12345xyz",
                          "type": "function",
                          "function": {
                            "name": "get_weather",
                            "arguments": "{\"location\":\"Paris, France\"}"
                          }
                        }
                      ],
                      "reasoning_content": "Need the weather tool."
                    },
                    {
                      "role": "tool",
                      "content": "15°C",
                      "tool_call_id": "call_12345xyz"
                    }
                  ]
                }
            "#]],
        );
        // The guide's "Sample response with multiple function calls" handed back in `input`
        // after the assistant's text, with both results (one as parts) and an image.
        check_request(
            r#"{"model": "gpt-4.1", "input": [
              {"role": "user", "content": [{"type": "input_text", "text": "Weather in Paris and Bogotá?"},
                                           {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo", "detail": "low"}]},
              {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
               "content": [{"type": "output_text", "text": "Checking both.", "annotations": []}]},
              {"id": "fc_12345xyz", "call_id": "call_12345xyz", "type": "function_call", "name": "get_weather", "arguments": "{\"location\":\"Paris, France\"}"},
              {"id": "fc_67890abc", "call_id": "call_67890abc", "type": "function_call", "name": "get_weather", "arguments": "{\"location\":\"Bogotá, Colombia\"}"},
              {"type": "function_call_output", "call_id": "call_67890abc", "output": [{"type": "input_text", "text": "18°C"}]},
              {"type": "function_call_output", "call_id": "call_12345xyz", "output": "15°C"}
            ]}"#,
            "[]",
            expect![[r#"
                {
                  "model": "gpt-4.1",
                  "messages": [
                    {
                      "role": "user",
                      "content": [
                        {
                          "type": "text",
                          "text": "Weather in Paris and Bogotá?"
                        },
                        {
                          "type": "image_url",
                          "image_url": {
                            "url": "data:image/png;base64,iVBORw0KGgo",
                            "detail": "low"
                          }
                        }
                      ]
                    },
                    {
                      "role": "assistant",
                      "content": "Checking both.",
                      "tool_calls": [
                        {
                          "id": "call_12345xyz",
                          "type": "function",
                          "function": {
                            "name": "get_weather",
                            "arguments": "{\"location\":\"Paris, France\"}"
                          }
                        },
                        {
                          "id": "call_67890abc",
                          "type": "function",
                          "function": {
                            "name": "get_weather",
                            "arguments": "{\"location\":\"Bogotá, Colombia\"}"
                          }
                        }
                      ]
                    },
                    {
                      "role": "tool",
                      "content": "18°C",
                      "tool_call_id": "call_67890abc"
                    },
                    {
                      "role": "tool",
                      "content": "15°C",
                      "tool_call_id": "call_12345xyz"
                    }
                  ]
                }
            "#]],
        );
    }

    #[test]
    fn refused_requests_name_the_place() {
        check_request(
            r#"{"input": [{"type": "function_call_output", "call_id": "call_nowhere", "output": "15°C"}]}"#,
            r#"[{"type": "function_call", "call_id": "call_12345xyz", "name": "get_weather", "arguments": "{}"}]"#,
            expect![[r#"
                error: input[0]: `function_call_output` answers call id `call_nowhere`, but no earlier `function_call` has that call id
            "#]],
        );
        // OpenAI API reference, "Web search" example.
        check_request(
            r#"{"model": "gpt-4.1", "tools": [{"type": "web_search_preview"}], "input": "What was a positive news story from today?"}"#,
            "[]",
            expect![[r#"
                error: tools[0]: tool type `web_search_preview` is not supported; only `function` tools are
            "#]],
        );
        check_request(
            r#"{"input": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}, {"role": "user", "content": "c"},
                          {"type": "file_search_call", "id": "fs_1", "queries": [], "status": "completed"}]}"#,
            "[]",
            expect![[r#"
                error: input[3]: item type `file_search_call` is not supported
            "#]],
        );
        check_request(
            r#"{"input": "go on"}"#,
            r#"[{"type": "item_reference", "id": "msg_1"}]"#,
            expect![[r#"
                error: the stored conversation's item 0: item type `item_reference` is not supported
            "#]],
        );
        check_request(
            r#"{"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "file-6F2ksmvXxt4VdoqmHRw6kL"}]}]}"#,
            "[]",
            expect![[r#"
                error: input[0]: a content part of type `input_file` is not supported towards a Chat Completions backend (only text and images are)
            "#]],
        );
        check_request(
            r#"{"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file-1", "detail": "auto"}]}]}"#,
            "[]",
            expect![[r#"
                error: input[0]: a content part of type `input_image` is not supported without `image_url`: Hearth keeps no uploaded files, send the image as a link or a `data:` URL
            "#]],
        );
        check_request(
            r#"{"input": [{"type": "function_call", "call_id": "c", "name": "screenshot", "arguments": "{}"},
                          {"type": "function_call_output", "call_id": "c", "output": [{"type": "input_image", "image_url": "https://x/y.png"}]}]}"#,
            "[]",
            expect![[r#"
                error: input[1]: a content part of type `input_image` is not supported in a function call's output towards a Chat Completions backend (only text is)
            "#]],
        );
        check_request(
            r#"{"input": [{"role": "narrator", "content": "Once upon a time"}]}"#,
            "[]",
            expect![[r#"
                error: input[0]: role `narrator` is not one of user, assistant, system, developer
            "#]],
        );
        check_request(
            r#"{"input": [], "tool_choice": "auto"}"#,
            "[]",
            expect![[r#"
                error: `input` is empty and there is no `previous_response_id` conversation to go on from
            "#]],
        );
        check_request(
            r#"{"input": "hi", "tool_choice": {"type": "file_search"}}"#,
            "[]",
            expect![[r#"
                error: `tool_choice` of type `file_search` is not supported; only `none`, `auto`, `required`, a function or `allowed_tools` are
            "#]],
        );
        check_request(
            r#"{"input": "hi", "tool_choice": {"type": "function", "name": "missing"}, "tools": [{"type": "function", "name": "get_weather"}]}"#,
            "[]",
            expect![[r#"
                error: `tool_choice` names `missing`, which is not among the request's tools
            "#]],
        );
    }

    #[test]
    fn chat_answers_as_response_objects() {
        // OpenAI API reference, "The chat completion object" (default example), for the
        // "Streaming" example request: every field the SDK requires is there.
        check_response(
            r#"{"model": "gpt-4.1", "instructions": "You are a helpful assistant.", "input": "Hello!"}"#,
            r#"{"id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", "object": "chat.completion", "created": 1741569952,
                "model": "gpt-4.1-2025-04-14",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello! How can I assist you today?", "refusal": null, "annotations": []},
                             "logprobs": null, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29,
                          "prompt_tokens_details": {"cached_tokens": 3, "audio_tokens": 0},
                          "completion_tokens_details": {"reasoning_tokens": 0}}}"#,
            expect![[r#"
                {
                  "id": "resp_7",
                  "object": "response",
                  "created_at": 1741290958,
                  "status": "completed",
                  "error": null,
                  "incomplete_details": null,
                  "instructions": "You are a helpful assistant.",
                  "max_output_tokens": null,
                  "model": "gpt-4.1-2025-04-14",
                  "output": [
                    {
                      "type": "message",
                      "id": "msg_0_resp_7",
                      "status": "completed",
                      "role": "assistant",
                      "content": [
                        {
                          "type": "output_text",
                          "text": "Hello! How can I assist you today?",
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
                  "temperature": null,
                  "text": {
                    "format": {
                      "type": "text"
                    }
                  },
                  "tool_choice": "auto",
                  "tools": [],
                  "top_p": null,
                  "truncation": "disabled",
                  "usage": {
                    "input_tokens": 19,
                    "input_tokens_details": {
                      "cached_tokens": 3,
                      "cache_write_tokens": 0
                    },
                    "output_tokens": 10,
                    "output_tokens_details": {
                      "reasoning_tokens": 0
                    },
                    "total_tokens": 29
                  },
                  "user": null,
                  "metadata": {}
                }
            "#]],
        );
        // OpenAI API reference, "Functions" response example, from a llama-server with
        // reasoning and no total.
        check_response(
            r#"{"model": "m", "input": "What is the weather like in Boston today?", "tool_choice": "required", "parallel_tool_calls": false}"#,
            r#"{"id": "chatcmpl-abc123", "model": "gpt-4o-mini", "created": 1699896916,
                "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
                  "reasoning_content": "Need the weather.",
                  "tool_calls": [{"id": "call_abc123", "type": "function", "function": {"name": "get_current_weather", "arguments": "{\n\"location\": \"Boston, MA\"\n}"}},
                                 {"id": "", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]}}],
                "usage": {"prompt_tokens": 82, "completion_tokens": 17}}"#,
            expect![[r#"
                {
                  "id": "resp_7",
                  "object": "response",
                  "created_at": 1741290958,
                  "status": "completed",
                  "error": null,
                  "incomplete_details": null,
                  "instructions": null,
                  "max_output_tokens": null,
                  "model": "gpt-4.1-2025-04-14",
                  "output": [
                    {
                      "type": "reasoning",
                      "id": "rs_0_resp_7",
                      "summary": [],
                      "content": [
                        {
                          "type": "reasoning_text",
                          "text": "Need the weather."
                        }
                      ]
                    },
                    {
                      "type": "function_call",
                      "id": "fc_1_resp_7",
                      "call_id": "call_abc123",
                      "name": "get_current_weather",
                      "arguments": "{\n\"location\": \"Boston, MA\"\n}",
                      "status": "completed"
                    },
                    {
                      "type": "function_call",
                      "id": "fc_2_resp_7",
                      "call_id": "call_1_resp_7",
                      "name": "get_time",
                      "arguments": "{}",
                      "status": "completed"
                    }
                  ],
                  "parallel_tool_calls": false,
                  "previous_response_id": null,
                  "reasoning": {
                    "effort": null,
                    "summary": null
                  },
                  "store": true,
                  "temperature": null,
                  "text": {
                    "format": {
                      "type": "text"
                    }
                  },
                  "tool_choice": "required",
                  "tools": [],
                  "top_p": null,
                  "truncation": "disabled",
                  "usage": {
                    "input_tokens": 82,
                    "input_tokens_details": {
                      "cached_tokens": 0,
                      "cache_write_tokens": 0
                    },
                    "output_tokens": 17,
                    "output_tokens_details": {
                      "reasoning_tokens": 0
                    },
                    "total_tokens": 99
                  },
                  "user": null,
                  "metadata": {}
                }
            "#]],
        );
        // Cut by the token limit: incomplete.
        check_response(
            r#"{"input": "Tell me a story", "max_output_tokens": 2}"#,
            r#"{"choices": [{"index": 0, "message": {"role": "assistant", "content": "Once upon"}, "finish_reason": "length"}]}"#,
            expect![[r#"
                {
                  "id": "resp_7",
                  "object": "response",
                  "created_at": 1741290958,
                  "status": "incomplete",
                  "error": null,
                  "incomplete_details": {
                    "reason": "max_output_tokens"
                  },
                  "instructions": null,
                  "max_output_tokens": 2,
                  "model": "gpt-4.1-2025-04-14",
                  "output": [
                    {
                      "type": "message",
                      "id": "msg_0_resp_7",
                      "status": "incomplete",
                      "role": "assistant",
                      "content": [
                        {
                          "type": "output_text",
                          "text": "Once upon",
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
                  "temperature": null,
                  "text": {
                    "format": {
                      "type": "text"
                    }
                  },
                  "tool_choice": "auto",
                  "tools": [],
                  "top_p": null,
                  "truncation": "disabled",
                  "usage": null,
                  "user": null,
                  "metadata": {}
                }
            "#]],
        );
    }

    #[test]
    fn streamed_text_answer() {
        // OpenAI API reference, "The chat completion chunk object" streaming example with
        // `include_usage`, for the Responses reference's "Streaming" example request: the
        // events of the Responses reference's streaming example, in its order.
        check_stream(
            r#"{"model": "gpt-4.1", "instructions": "You are a helpful assistant.", "input": "Hello!", "stream": true}"#,
            r#"
            {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}
            {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}]}
            {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":" there!"},"logprobs":null,"finish_reason":null}]}
            {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}
            {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":37,"completion_tokens":11,"total_tokens":48}}
            [DONE]
            {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"after the end"}}]}
            "#,
            expect![[r#"
                {"type":"response.created","sequence_number":0,"response":{"status":"in_progress","output":[]}}
                {"type":"response.in_progress","sequence_number":1,"response":{"status":"in_progress","output":[]}}
                {"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"type":"message","id":"msg_0_resp_7","status":"in_progress","role":"assistant","content":[]}}
                {"type":"response.content_part.added","sequence_number":3,"item_id":"msg_0_resp_7","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}
                {"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_0_resp_7","output_index":0,"content_index":0,"delta":"Hi","logprobs":[]}
                {"type":"response.output_text.delta","sequence_number":5,"item_id":"msg_0_resp_7","output_index":0,"content_index":0,"delta":" there!","logprobs":[]}
                {"type":"response.output_text.done","sequence_number":6,"item_id":"msg_0_resp_7","output_index":0,"content_index":0,"text":"Hi there!","logprobs":[]}
                {"type":"response.content_part.done","sequence_number":7,"item_id":"msg_0_resp_7","output_index":0,"content_index":0,"part":{"type":"output_text","text":"Hi there!","annotations":[]}}
                {"type":"response.output_item.done","sequence_number":8,"output_index":0,"item":{"type":"message","id":"msg_0_resp_7","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there!","annotations":[]}]}}
                {"type":"response.completed","sequence_number":9,"response":{"status":"completed","output":[{"type":"message","id":"msg_0_resp_7","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there!","annotations":[]}]}],"usage":{"input_tokens":37,"input_tokens_details":{"cached_tokens":0,"cache_write_tokens":0},"output_tokens":11,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":48}}}
            "#]],
        );
    }

    #[test]
    fn the_first_events_carry_the_whole_shell() {
        // Compare with the Responses reference's streaming example: the same fields, in the
        // same order.
        let request: ResponsesRequest = from_json(
            br#"{"model": "gpt-4.1", "instructions": "You are a helpful assistant.", "input": "Hello!", "stream": true}"#,
        )
        .unwrap();
        let mut stream = OpenAiToResponsesStream::new(&request, context());
        let created = stream.start();
        expect![[r#"
            event: response.created
            data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_7","object":"response","created_at":1741290958,"status":"in_progress","error":null,"incomplete_details":null,"instructions":"You are a helpful assistant.","max_output_tokens":null,"model":"gpt-4.1-2025-04-14","output":[],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":null,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":null,"truncation":"disabled","usage":null,"user":null,"metadata":{}}}

        "#]]
        .assert_eq(&created[0].to_sse());
        assert!(stream.start().is_empty());
    }

    #[test]
    fn reasoning_text_and_two_tool_calls_streamed() {
        // llama-server's reasoning deltas, then text, then the OpenAI function-calling guide's
        // "Streaming" fragments for one call (null ids and names after the first) and a second
        // call; usage on the finish chunk, as llama-server sends it.
        check_stream(
            r#"{"model": "m", "input": "Weather in Paris? And the time?", "stream": true}"#,
            r#"
            {"choices":[{"index":0,"delta":{"role":"assistant","content":null}}]}
            {"choices":[{"index":0,"delta":{"reasoning_content":"Two "}}]}
            {"choices":[{"index":0,"delta":{"reasoning":"tools."}}]}
            {"choices":[{"index":0,"delta":{"content":"Checking."}}]}
            {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","function":{"arguments":"","name":"get_weather"},"type":"function"}]}}]}
            {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":null,"function":{"arguments":"{\"","name":null},"type":null}]}}]}
            {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":null,"function":{"arguments":"location\":\"Paris\"}","name":null},"type":null}]}}]}
            {"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","function":{"name":"get_time","arguments":""}}]}}]}
            {"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]}}]}
            {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":80,"completion_tokens":20,"total_tokens":100}}
            [DONE]
            "#,
            expect![[r#"
                {"type":"response.created","sequence_number":0,"response":{"status":"in_progress","output":[]}}
                {"type":"response.in_progress","sequence_number":1,"response":{"status":"in_progress","output":[]}}
                {"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"type":"reasoning","id":"rs_0_resp_7","summary":[],"content":[]}}
                {"type":"response.content_part.added","sequence_number":3,"item_id":"rs_0_resp_7","output_index":0,"content_index":0,"part":{"type":"reasoning_text","text":""}}
                {"type":"response.reasoning_text.delta","sequence_number":4,"item_id":"rs_0_resp_7","output_index":0,"content_index":0,"delta":"Two "}
                {"type":"response.reasoning_text.delta","sequence_number":5,"item_id":"rs_0_resp_7","output_index":0,"content_index":0,"delta":"tools."}
                {"type":"response.reasoning_text.done","sequence_number":6,"item_id":"rs_0_resp_7","output_index":0,"content_index":0,"text":"Two tools."}
                {"type":"response.content_part.done","sequence_number":7,"item_id":"rs_0_resp_7","output_index":0,"content_index":0,"part":{"type":"reasoning_text","text":"Two tools."}}
                {"type":"response.output_item.done","sequence_number":8,"output_index":0,"item":{"type":"reasoning","id":"rs_0_resp_7","summary":[],"content":[{"type":"reasoning_text","text":"Two tools."}]}}
                {"type":"response.output_item.added","sequence_number":9,"output_index":1,"item":{"type":"message","id":"msg_1_resp_7","status":"in_progress","role":"assistant","content":[]}}
                {"type":"response.content_part.added","sequence_number":10,"item_id":"msg_1_resp_7","output_index":1,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}
                {"type":"response.output_text.delta","sequence_number":11,"item_id":"msg_1_resp_7","output_index":1,"content_index":0,"delta":"Checking.","logprobs":[]}
                {"type":"response.output_text.done","sequence_number":12,"item_id":"msg_1_resp_7","output_index":1,"content_index":0,"text":"Checking.","logprobs":[]}
                {"type":"response.content_part.done","sequence_number":13,"item_id":"msg_1_resp_7","output_index":1,"content_index":0,"part":{"type":"output_text","text":"Checking.","annotations":[]}}
                {"type":"response.output_item.done","sequence_number":14,"output_index":1,"item":{"type":"message","id":"msg_1_resp_7","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Checking.","annotations":[]}]}}
                {"type":"response.output_item.added","sequence_number":15,"output_index":2,"item":{"type":"function_call","id":"fc_2_resp_7","call_id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","name":"get_weather","arguments":"","status":"in_progress"}}
                {"type":"response.function_call_arguments.delta","sequence_number":16,"item_id":"fc_2_resp_7","output_index":2,"delta":"{\""}
                {"type":"response.function_call_arguments.delta","sequence_number":17,"item_id":"fc_2_resp_7","output_index":2,"delta":"location\":\"Paris\"}"}
                {"type":"response.function_call_arguments.done","sequence_number":18,"item_id":"fc_2_resp_7","output_index":2,"arguments":"{\"location\":\"Paris\"}","name":"get_weather"}
                {"type":"response.output_item.done","sequence_number":19,"output_index":2,"item":{"type":"function_call","id":"fc_2_resp_7","call_id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","name":"get_weather","arguments":"{\"location\":\"Paris\"}","status":"completed"}}
                {"type":"response.output_item.added","sequence_number":20,"output_index":3,"item":{"type":"function_call","id":"fc_3_resp_7","call_id":"call_2","name":"get_time","arguments":"","status":"in_progress"}}
                {"type":"response.function_call_arguments.delta","sequence_number":21,"item_id":"fc_3_resp_7","output_index":3,"delta":"{}"}
                {"type":"response.function_call_arguments.done","sequence_number":22,"item_id":"fc_3_resp_7","output_index":3,"arguments":"{}","name":"get_time"}
                {"type":"response.output_item.done","sequence_number":23,"output_index":3,"item":{"type":"function_call","id":"fc_3_resp_7","call_id":"call_2","name":"get_time","arguments":"{}","status":"completed"}}
                {"type":"response.completed","sequence_number":24,"response":{"status":"completed","output":[{"type":"reasoning","id":"rs_0_resp_7","summary":[],"content":[{"type":"reasoning_text","text":"Two tools."}]},{"type":"message","id":"msg_1_resp_7","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Checking.","annotations":[]}]},{"type":"function_call","id":"fc_2_resp_7","call_id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","name":"get_weather","arguments":"{\"location\":\"Paris\"}","status":"completed"},{"type":"function_call","id":"fc_3_resp_7","call_id":"call_2","name":"get_time","arguments":"{}","status":"completed"}],"usage":{"input_tokens":80,"input_tokens_details":{"cached_tokens":0,"cache_write_tokens":0},"output_tokens":20,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":100}}}
            "#]],
        );
    }

    #[test]
    fn interleaved_tool_fragments_still_add_up() {
        // Two calls whose fragments alternate, the second without an id; text after the calls.
        check_stream(
            r#"{"input": "x", "stream": true}"#,
            r#"
            {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","function":{"name":"a","arguments":"{\"x\":"}}]}}]}
            {"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"name":"b","arguments":"{\"y\":"}}]}}]}
            {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}}]}
            {"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"2}"}}]}}]}
            {"choices":[{"index":0,"delta":{"content":"Late words."}}]}
            {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}
            [DONE]
            "#,
            expect![[r#"
                {"type":"response.created","sequence_number":0,"response":{"status":"in_progress","output":[]}}
                {"type":"response.in_progress","sequence_number":1,"response":{"status":"in_progress","output":[]}}
                {"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"type":"function_call","id":"fc_0_resp_7","call_id":"call_a","name":"a","arguments":"","status":"in_progress"}}
                {"type":"response.function_call_arguments.delta","sequence_number":3,"item_id":"fc_0_resp_7","output_index":0,"delta":"{\"x\":"}
                {"type":"response.function_call_arguments.delta","sequence_number":4,"item_id":"fc_0_resp_7","output_index":0,"delta":"1}"}
                {"type":"response.function_call_arguments.done","sequence_number":5,"item_id":"fc_0_resp_7","output_index":0,"arguments":"{\"x\":1}","name":"a"}
                {"type":"response.output_item.done","sequence_number":6,"output_index":0,"item":{"type":"function_call","id":"fc_0_resp_7","call_id":"call_a","name":"a","arguments":"{\"x\":1}","status":"completed"}}
                {"type":"response.output_item.added","sequence_number":7,"output_index":1,"item":{"type":"function_call","id":"fc_1_resp_7","call_id":"call_1_resp_7","name":"b","arguments":"","status":"in_progress"}}
                {"type":"response.function_call_arguments.delta","sequence_number":8,"item_id":"fc_1_resp_7","output_index":1,"delta":"{\"y\":2}"}
                {"type":"response.function_call_arguments.done","sequence_number":9,"item_id":"fc_1_resp_7","output_index":1,"arguments":"{\"y\":2}","name":"b"}
                {"type":"response.output_item.done","sequence_number":10,"output_index":1,"item":{"type":"function_call","id":"fc_1_resp_7","call_id":"call_1_resp_7","name":"b","arguments":"{\"y\":2}","status":"completed"}}
                {"type":"response.output_item.added","sequence_number":11,"output_index":2,"item":{"type":"message","id":"msg_2_resp_7","status":"in_progress","role":"assistant","content":[]}}
                {"type":"response.content_part.added","sequence_number":12,"item_id":"msg_2_resp_7","output_index":2,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}
                {"type":"response.output_text.delta","sequence_number":13,"item_id":"msg_2_resp_7","output_index":2,"content_index":0,"delta":"Late words.","logprobs":[]}
                {"type":"response.output_text.done","sequence_number":14,"item_id":"msg_2_resp_7","output_index":2,"content_index":0,"text":"Late words.","logprobs":[]}
                {"type":"response.content_part.done","sequence_number":15,"item_id":"msg_2_resp_7","output_index":2,"content_index":0,"part":{"type":"output_text","text":"Late words.","annotations":[]}}
                {"type":"response.output_item.done","sequence_number":16,"output_index":2,"item":{"type":"message","id":"msg_2_resp_7","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Late words.","annotations":[]}]}}
                {"type":"response.completed","sequence_number":17,"response":{"status":"completed","output":[{"type":"function_call","id":"fc_0_resp_7","call_id":"call_a","name":"a","arguments":"{\"x\":1}","status":"completed"},{"type":"function_call","id":"fc_1_resp_7","call_id":"call_1_resp_7","name":"b","arguments":"{\"y\":2}","status":"completed"},{"type":"message","id":"msg_2_resp_7","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Late words.","annotations":[]}]}]}}
            "#]],
        );
    }

    #[test]
    fn a_call_keeps_the_call_id_it_was_announced_with() {
        // The id comes after the name (the call is announced with Hearth's id, which stays), and
        // a model that writes its own ids repeats one: `added` and `done` of each item must
        // agree and no two calls share an id, or the SDK's stream helper raises.
        check_stream(
            r#"{"input": "x", "stream": true}"#,
            r#"
            {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"a"}}]}}]}
            {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"late","function":{"arguments":"{}"}}]}}]}
            {"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"same","function":{"name":"b","arguments":"{}"}}]}}]}
            {"choices":[{"index":0,"delta":{"tool_calls":[{"index":2,"id":"same","function":{"name":"c","arguments":"{}"}}]}}]}
            {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}
            [DONE]
            "#,
            expect![[r#"
                {"type":"response.created","sequence_number":0,"response":{"status":"in_progress","output":[]}}
                {"type":"response.in_progress","sequence_number":1,"response":{"status":"in_progress","output":[]}}
                {"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"type":"function_call","id":"fc_0_resp_7","call_id":"call_0_resp_7","name":"a","arguments":"","status":"in_progress"}}
                {"type":"response.function_call_arguments.delta","sequence_number":3,"item_id":"fc_0_resp_7","output_index":0,"delta":"{}"}
                {"type":"response.function_call_arguments.done","sequence_number":4,"item_id":"fc_0_resp_7","output_index":0,"arguments":"{}","name":"a"}
                {"type":"response.output_item.done","sequence_number":5,"output_index":0,"item":{"type":"function_call","id":"fc_0_resp_7","call_id":"call_0_resp_7","name":"a","arguments":"{}","status":"completed"}}
                {"type":"response.output_item.added","sequence_number":6,"output_index":1,"item":{"type":"function_call","id":"fc_1_resp_7","call_id":"same","name":"b","arguments":"","status":"in_progress"}}
                {"type":"response.function_call_arguments.delta","sequence_number":7,"item_id":"fc_1_resp_7","output_index":1,"delta":"{}"}
                {"type":"response.function_call_arguments.done","sequence_number":8,"item_id":"fc_1_resp_7","output_index":1,"arguments":"{}","name":"b"}
                {"type":"response.output_item.done","sequence_number":9,"output_index":1,"item":{"type":"function_call","id":"fc_1_resp_7","call_id":"same","name":"b","arguments":"{}","status":"completed"}}
                {"type":"response.output_item.added","sequence_number":10,"output_index":2,"item":{"type":"function_call","id":"fc_2_resp_7","call_id":"call_2_resp_7","name":"c","arguments":"","status":"in_progress"}}
                {"type":"response.function_call_arguments.delta","sequence_number":11,"item_id":"fc_2_resp_7","output_index":2,"delta":"{}"}
                {"type":"response.function_call_arguments.done","sequence_number":12,"item_id":"fc_2_resp_7","output_index":2,"arguments":"{}","name":"c"}
                {"type":"response.output_item.done","sequence_number":13,"output_index":2,"item":{"type":"function_call","id":"fc_2_resp_7","call_id":"call_2_resp_7","name":"c","arguments":"{}","status":"completed"}}
                {"type":"response.completed","sequence_number":14,"response":{"status":"completed","output":[{"type":"function_call","id":"fc_0_resp_7","call_id":"call_0_resp_7","name":"a","arguments":"{}","status":"completed"},{"type":"function_call","id":"fc_1_resp_7","call_id":"same","name":"b","arguments":"{}","status":"completed"},{"type":"function_call","id":"fc_2_resp_7","call_id":"call_2_resp_7","name":"c","arguments":"{}","status":"completed"}]}}
            "#]],
        );
        let request: ResponsesRequest = from_json(br#"{"input": "x"}"#).unwrap();
        let chat = from_json(
            br#"{"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null, "tool_calls": [
                {"id": "same", "type": "function", "function": {"name": "b", "arguments": "{}"}},
                {"id": "same", "type": "function", "function": {"name": "c", "arguments": "{}"}}]}}]}"#,
        )
        .unwrap();
        let response = chat_response_to_response(chat, &request, &context());
        let call_ids: Vec<&str> = response
            .output
            .iter()
            .filter_map(|item| match item {
                OutputItem::FunctionCall(call) => Some(call.call_id.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(call_ids, ["same", "call_1_resp_7"]);
    }

    #[test]
    fn failure_mid_stream_ends_it() {
        check_stream(
            r#"{"input": "Tell me a story", "stream": true}"#,
            r#"
            {"choices":[{"index":0,"delta":{"content":"Once"}}]}
            FAIL the backend closed the connection
            {"choices":[{"index":0,"delta":{"content":" upon"}}]}
            [DONE]
            FAIL again
            "#,
            expect![[r#"
                {"type":"response.created","sequence_number":0,"response":{"status":"in_progress","output":[]}}
                {"type":"response.in_progress","sequence_number":1,"response":{"status":"in_progress","output":[]}}
                {"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"type":"message","id":"msg_0_resp_7","status":"in_progress","role":"assistant","content":[]}}
                {"type":"response.content_part.added","sequence_number":3,"item_id":"msg_0_resp_7","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}
                {"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_0_resp_7","output_index":0,"content_index":0,"delta":"Once","logprobs":[]}
                {"type":"response.failed","sequence_number":5,"response":{"status":"failed","error":{"code":"server_error","message":"the backend closed the connection"},"output":[{"type":"message","id":"msg_0_resp_7","status":"incomplete","role":"assistant","content":[{"type":"output_text","text":"Once","annotations":[]}]}]}}
            "#]],
        );
    }

    #[test]
    fn length_cut_stream_is_incomplete() {
        check_stream(
            r#"{"input": "Tell me a story", "max_output_tokens": 2, "stream": true}"#,
            r#"
            {"choices":[{"index":0,"delta":{"content":"Once upon"},"finish_reason":"length"}]}
            [DONE]
            "#,
            expect![[r#"
                {"type":"response.created","sequence_number":0,"response":{"status":"in_progress","output":[]}}
                {"type":"response.in_progress","sequence_number":1,"response":{"status":"in_progress","output":[]}}
                {"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"type":"message","id":"msg_0_resp_7","status":"in_progress","role":"assistant","content":[]}}
                {"type":"response.content_part.added","sequence_number":3,"item_id":"msg_0_resp_7","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}
                {"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_0_resp_7","output_index":0,"content_index":0,"delta":"Once upon","logprobs":[]}
                {"type":"response.output_text.done","sequence_number":5,"item_id":"msg_0_resp_7","output_index":0,"content_index":0,"text":"Once upon","logprobs":[]}
                {"type":"response.content_part.done","sequence_number":6,"item_id":"msg_0_resp_7","output_index":0,"content_index":0,"part":{"type":"output_text","text":"Once upon","annotations":[]}}
                {"type":"response.output_item.done","sequence_number":7,"output_index":0,"item":{"type":"message","id":"msg_0_resp_7","status":"incomplete","role":"assistant","content":[{"type":"output_text","text":"Once upon","annotations":[]}]}}
                {"type":"response.incomplete","sequence_number":8,"response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[{"type":"message","id":"msg_0_resp_7","status":"incomplete","role":"assistant","content":[{"type":"output_text","text":"Once upon","annotations":[]}]}]}}
            "#]],
        );
    }

    /// A chat request → the Responses request sent to the backend, or the error.
    fn check_to_responses(chat_json: &str, expect: Expect) {
        let chat = from_json(chat_json.as_bytes()).unwrap();
        let out = match chat_request_to_responses(chat) {
            Ok(request) => pretty(&request),
            Err(error) => format!("error: {error}\n"),
        };
        expect.assert_eq(&out);
    }

    #[test]
    fn chat_requests_to_a_responses_backend() {
        // OpenAI API reference, "Create chat completion", examples "Image input" and
        // "Functions", and the function-calling guide's call and result.
        check_to_responses(
            r#"{
              "model": "gpt-4.1",
              "messages": [
                {"role": "developer", "content": "You are a helpful assistant."},
                {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
                {"role": "user", "content": [
                  {"type": "text", "text": "What is in this image?"},
                  {"type": "image_url", "image_url": {"url": "https://upload.wikimedia.org/a.jpg"}}
                ]},
                {"role": "assistant", "content": "A boardwalk.", "reasoning_content": "Looked at it."},
                {"role": "developer", "content": "Now use tools."},
                {"role": "user", "content": "What is the weather like in Paris today?"},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "call_12345xyz", "type": "function",
                  "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris, France\"}"}}]},
                {"role": "tool", "tool_call_id": "call_12345xyz", "content": "14°C"}
              ],
              "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get the weather",
                "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}, "strict": true}}],
              "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
              "parallel_tool_calls": false,
              "reasoning_effort": "high",
              "max_tokens": 100,
              "max_completion_tokens": 300,
              "temperature": 0.5,
              "stream": true,
              "stream_options": {"include_usage": true},
              "response_format": {"type": "json_schema", "json_schema": {"name": "weather", "schema": {"type": "object"}, "strict": true}},
              "user": "user-1234",
              "seed": 7
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
                          "text": "What is in this image?"
                        },
                        {
                          "type": "input_image",
                          "image_url": "https://upload.wikimedia.org/a.jpg",
                          "detail": "auto"
                        }
                      ]
                    },
                    {
                      "type": "message",
                      "role": "assistant",
                      "content": "A boardwalk."
                    },
                    {
                      "type": "message",
                      "role": "developer",
                      "content": "Now use tools."
                    },
                    {
                      "type": "message",
                      "role": "user",
                      "content": "What is the weather like in Paris today?"
                    },
                    {
                      "type": "function_call",
                      "call_id": "call_12345xyz",
                      "name": "get_weather",
                      "arguments": "{\"location\":\"Paris, France\"}"
                    },
                    {
                      "type": "function_call_output",
                      "call_id": "call_12345xyz",
                      "output": "14°C"
                    }
                  ],
                  "instructions": "You are a helpful assistant.\n\nBe brief.",
                  "tools": [
                    {
                      "type": "function",
                      "name": "get_weather",
                      "description": "Get the weather",
                      "parameters": {
                        "type": "object",
                        "properties": {
                          "location": {
                            "type": "string"
                          }
                        }
                      },
                      "strict": true
                    }
                  ],
                  "tool_choice": {
                    "type": "function",
                    "name": "get_weather"
                  },
                  "parallel_tool_calls": false,
                  "reasoning": {
                    "effort": "high",
                    "summary": null
                  },
                  "max_output_tokens": 300,
                  "temperature": 0.5,
                  "store": false,
                  "stream": true,
                  "text": {
                    "format": {
                      "type": "json_schema",
                      "name": "weather",
                      "schema": {
                        "type": "object"
                      },
                      "strict": true
                    }
                  },
                  "user": "user-1234"
                }
            "#]],
        );
        check_to_responses(
            r#"{"model": "m", "messages": [{"role": "user", "content": "hi"}], "n": 2}"#,
            expect![[r#"
                error: `n` = 2 is not supported: the Responses API answers with one choice per request
            "#]],
        );
        check_to_responses(
            r#"{"model": "m", "messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "UklGR", "format": "wav"}}]}]}"#,
            expect![[r#"
                error: messages[0]: a content part of type `input_audio` cannot be sent to the Responses API
            "#]],
        );
        check_to_responses(
            r#"{"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "custom", "custom": {"name": "x"}}]}"#,
            expect![[r#"
                error: tools[0]: tool type `custom` is not supported; only `function` tools are
            "#]],
        );
    }

    #[test]
    fn response_objects_as_chat_answers() {
        let ids = CompletionIds::new("chatcmpl-9", 1741476777);
        let show = |json: &str| {
            let response = from_json(json.as_bytes()).unwrap();
            pretty(&response_to_openai(response, &ids))
        };
        // OpenAI API reference, "The response object".
        expect![[r#"
            {
              "id": "chatcmpl-9",
              "object": "chat.completion",
              "created": 1741476777,
              "model": "gpt-4o-2024-08-06",
              "choices": [
                {
                  "index": 0,
                  "message": {
                    "role": "assistant",
                    "content": "The image depicts a scenic landscape."
                  },
                  "finish_reason": "stop"
                }
              ],
              "usage": {
                "prompt_tokens": 328,
                "completion_tokens": 52,
                "total_tokens": 380
              }
            }
        "#]]
        .assert_eq(&show(
            r#"{"id": "resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41", "object": "response", "created_at": 1741476777,
                "status": "completed", "model": "gpt-4o-2024-08-06",
                "output": [{"type": "message", "id": "msg_67ccd3acc8d48190a77525dc6de64b4104becb25c45c1d41", "status": "completed", "role": "assistant",
                            "content": [{"type": "output_text", "text": "The image depicts a scenic landscape.", "annotations": []}]}],
                "parallel_tool_calls": true, "tool_choice": "auto", "tools": [],
                "usage": {"input_tokens": 328, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 52,
                          "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 380}}"#,
        ));
        // The function-calling guide's output with a reasoning summary (OpenAI shows no raw
        // reasoning) and a refusal.
        expect![[r#"
            {
              "id": "chatcmpl-9",
              "object": "chat.completion",
              "created": 1741476777,
              "model": "o4-mini",
              "choices": [
                {
                  "index": 0,
                  "message": {
                    "role": "assistant",
                    "content": "Not that city.",
                    "reasoning_content": "Weather first.",
                    "tool_calls": [
                      {
                        "id": "call_12345xyz",
                        "type": "function",
                        "function": {
                          "name": "get_weather",
                          "arguments": "{\"location\":\"Paris, France\"}"
                        }
                      }
                    ]
                  },
                  "finish_reason": "tool_calls"
                }
              ],
              "usage": {
                "prompt_tokens": 10,
                "completion_tokens": 5,
                "total_tokens": 15,
                "prompt_tokens_details": {
                  "cached_tokens": 4
                },
                "completion_tokens_details": {
                  "reasoning_tokens": 3
                }
              }
            }
        "#]]
        .assert_eq(&show(
            r#"{"id": "resp_1", "status": "completed", "model": "o4-mini", "output": [
                {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Weather first."}]},
                {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant", "content": [{"type": "refusal", "refusal": "Not that city."}]},
                {"type": "function_call", "id": "fc_12345xyz", "call_id": "call_12345xyz", "name": "get_weather", "arguments": "{\"location\":\"Paris, France\"}"},
                {"type": "web_search_call", "id": "ws_1", "status": "completed"}],
               "usage": {"input_tokens": 10, "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 3}, "input_tokens_details": {"cached_tokens": 4}}}"#,
        ));
        // Cut short.
        expect![[r#"
            {
              "id": "chatcmpl-9",
              "object": "chat.completion",
              "created": 1741476777,
              "model": "m",
              "choices": [
                {
                  "index": 0,
                  "message": {
                    "role": "assistant",
                    "content": "Once"
                  },
                  "finish_reason": "length"
                }
              ]
            }
        "#]]
        .assert_eq(&show(
            r#"{"id": "resp_2", "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}, "model": "m",
                "output": [{"type": "message", "id": "msg_1", "status": "incomplete", "role": "assistant", "content": [{"type": "output_text", "text": "Once", "annotations": []}]}]}"#,
        ));
    }

    /// A Responses backend's stream (SSE, or one JSON event per line) → the chat chunks an
    /// OpenAI client gets, one per line, or the error.
    fn check_backend_stream(events: &str, include_usage: bool, expect: Expect) {
        let text: String = events
            .lines()
            .map(str::trim_start)
            .map(|line| format!("{line}\n"))
            .collect();
        let data: Vec<String> = if text.contains("data:") {
            let mut parser = SseParser::default();
            let mut framed = parser.feed(text.as_bytes()).unwrap();
            framed.extend(parser.finish().unwrap());
            framed
                .into_iter()
                .filter_map(|event| match event {
                    SseEvent::Message { data, .. } => Some(data),
                    SseEvent::Done => None,
                })
                .collect()
        } else {
            text.lines()
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let mut stream = ResponsesToOpenAiStream::new(
            CompletionIds::new("chatcmpl-9", 1741290958),
            include_usage,
        );
        let mut out = String::new();
        for data in data {
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
        assert!(stream.is_finished());
        expect.assert_eq(&out);
    }

    #[test]
    fn published_responses_stream_to_chat_chunks() {
        // OpenAI API reference, "Create a model response", the "Streaming" example output,
        // verbatim (its `...` stands for more deltas).
        check_backend_stream(
            r#"
            event: response.created
            data: {"type":"response.created","response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"in_progress","error":null,"incomplete_details":null,"instructions":"You are a helpful assistant.","max_output_tokens":null,"model":"gpt-4.1-2025-04-14","output":[],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":null,"user":null,"metadata":{}}}

            event: response.in_progress
            data: {"type":"response.in_progress","response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"in_progress","error":null,"incomplete_details":null,"instructions":"You are a helpful assistant.","max_output_tokens":null,"model":"gpt-4.1-2025-04-14","output":[],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":null,"user":null,"metadata":{}}}

            event: response.output_item.added
            data: {"type":"response.output_item.added","output_index":0,"item":{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"in_progress","role":"assistant","content":[]}}

            event: response.content_part.added
            data: {"type":"response.content_part.added","item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}

            event: response.output_text.delta
            data: {"type":"response.output_text.delta","item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"delta":"Hi"}

            ...

            event: response.output_text.done
            data: {"type":"response.output_text.done","item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"text":"Hi there! How can I assist you today?"}

            event: response.content_part.done
            data: {"type":"response.content_part.done","item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"part":{"type":"output_text","text":"Hi there! How can I assist you today?","annotations":[]}}

            event: response.output_item.done
            data: {"type":"response.output_item.done","output_index":0,"item":{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there! How can I assist you today?","annotations":[]}]}}

            event: response.completed
            data: {"type":"response.completed","response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"completed","error":null,"incomplete_details":null,"instructions":"You are a helpful assistant.","max_output_tokens":null,"model":"gpt-4.1-2025-04-14","output":[{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there! How can I assist you today?","annotations":[]}]}],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":{"input_tokens":37,"output_tokens":11,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":48},"user":null,"metadata":{}}}
            "#,
            true,
            expect![[r#"
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"content":" there! How can I assist you today?"},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4.1-2025-04-14","choices":[],"usage":{"prompt_tokens":37,"completion_tokens":11,"total_tokens":48}}
            "#]],
        );
    }

    #[test]
    fn published_function_call_stream_to_chat_chunks() {
        // OpenAI function-calling guide, "Streaming" output events, verbatim (between a
        // `response.created` and a `response.completed`), and a reasoning delta before them.
        check_backend_stream(
            r#"
            {"type":"response.created","response":{"id":"resp_1234xyz","model":"gpt-4.1","status":"in_progress","output":[]}}
            {"type":"response.reasoning_summary_text.delta","item_id":"rs_1","output_index":0,"summary_index":0,"delta":"Weather."}
            {"type":"response.output_item.added","response_id":"resp_1234xyz","output_index":0,"item":{"type":"function_call","id":"fc_1234xyz","call_id":"call_1234xyz","name":"get_weather","arguments":""}}
            {"type":"response.function_call_arguments.delta","response_id":"resp_1234xyz","item_id":"fc_1234xyz","output_index":0,"delta":"{\""}
            {"type":"response.function_call_arguments.delta","response_id":"resp_1234xyz","item_id":"fc_1234xyz","output_index":0,"delta":"location"}
            {"type":"response.function_call_arguments.delta","response_id":"resp_1234xyz","item_id":"fc_1234xyz","output_index":0,"delta":"\":\""}
            {"type":"response.function_call_arguments.delta","response_id":"resp_1234xyz","item_id":"fc_1234xyz","output_index":0,"delta":"Paris"}
            {"type":"response.function_call_arguments.delta","response_id":"resp_1234xyz","item_id":"fc_1234xyz","output_index":0,"delta":","}
            {"type":"response.function_call_arguments.delta","response_id":"resp_1234xyz","item_id":"fc_1234xyz","output_index":0,"delta":" France"}
            {"type":"response.function_call_arguments.delta","response_id":"resp_1234xyz","item_id":"fc_1234xyz","output_index":0,"delta":"\"}"}
            {"type":"response.function_call_arguments.done","response_id":"resp_1234xyz","item_id":"fc_1234xyz","output_index":0,"arguments":"{\"location\":\"Paris, France\"}"}
            {"type":"response.output_item.done","response_id":"resp_1234xyz","output_index":0,"item":{"type":"function_call","id":"fc_1234xyz","call_id":"call_2345abc","name":"get_weather","arguments":"{\"location\":\"Paris, France\"}"}}
            {"type":"response.output_item.done","output_index":1,"item":{"type":"function_call","id":"fc_2","call_id":"call_2","name":"get_time","arguments":"{}"}}
            {"type":"response.completed","response":{"id":"resp_1234xyz","model":"gpt-4.1","status":"completed","output":[]}}
            {"type":"response.output_text.delta","item_id":"msg_1","output_index":2,"content_index":0,"delta":"after the end"}
            "#,
            false,
            expect![[r#"
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4.1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4.1","choices":[{"index":0,"delta":{"reasoning_content":"Weather."},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1234xyz","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\""}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"location"}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\":\""}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"Paris"}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":","}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":" France"}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"}"}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4.1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}
            "#]],
        );
    }

    #[test]
    fn failed_backend_streams_are_errors() {
        check_backend_stream(
            r#"
            {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","model":"m","status":"in_progress"}}
            {"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Par"}
            {"type":"response.failed","sequence_number":2,"response":{"id":"resp_1","status":"failed","error":{"code":"server_error","message":"The model crashed."}}}
            "#,
            false,
            expect![[r#"
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"m","choices":[{"index":0,"delta":{"content":"Par"},"finish_reason":null}]}
                error: the upstream stream failed with `server_error`: The model crashed.
            "#]],
        );
        // OpenAI API reference, "Streaming events", `error`.
        check_backend_stream(
            r#"{"type":"error","code":"ERR_SOMETHING","message":"Something went wrong","param":null,"sequence_number":1}"#,
            false,
            expect![[r#"
                error: the upstream stream failed with `ERR_SOMETHING`: Something went wrong
            "#]],
        );
        // Cut short, with usage asked for but not given.
        check_backend_stream(
            r#"
            {"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Once"}
            {"type":"response.incomplete","response":{"id":"resp_1","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}}}
            "#,
            true,
            expect![[r#"
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"","choices":[{"index":0,"delta":{"content":"Once"},"finish_reason":null}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}
                {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1741290958,"model":"","choices":[],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}
            "#]],
        );
    }

    #[test]
    fn stored_conversation_goes_on() {
        // What the gateway keeps after a response is what the next turn reads back.
        let request: ResponsesRequest =
            from_json(br#"{"model": "m", "input": "What is the weather like in Paris today?"}"#)
                .unwrap();
        let chat = from_json(
            br#"{"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": "Checking.",
                 "reasoning_content": "Use the tool.",
                 "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]}}]}"#,
        )
        .unwrap();
        let response = chat_response_to_response(chat, &request, &context());
        let stored = conversation(&[], &request, &response);
        let next: ResponsesRequest = from_json(
            br#"{"model": "m", "previous_response_id": "resp_7", "input": [{"type": "function_call_output", "call_id": "call_1", "output": "15 C"}]}"#,
        )
        .unwrap();
        // Stored as JSON, read back.
        let stored: Vec<InputItem> =
            from_json(serde_json::to_string(&stored).unwrap().as_bytes()).unwrap();
        let chat = responses_request_to_openai(&next, &stored).unwrap();
        expect![[r#"
            [
              {
                "role": "user",
                "content": "What is the weather like in Paris today?"
              },
              {
                "role": "assistant",
                "content": "Checking.",
                "tool_calls": [
                  {
                    "id": "call_1",
                    "type": "function",
                    "function": {
                      "name": "get_weather",
                      "arguments": "{}"
                    }
                  }
                ],
                "reasoning_content": "Use the tool."
              },
              {
                "role": "tool",
                "content": "15 C",
                "tool_call_id": "call_1"
              }
            ]
        "#]]
        .assert_eq(&pretty(&chat.messages));
    }
}
