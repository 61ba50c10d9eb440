//! The crate's one error type: what can go wrong parsing a body, converting between APIs or
//! framing a stream. Messages name the place (`messages[2]`, the tool's name) and quote at most a
//! short excerpt of what was sent, never the whole payload: requests carry user content.

/// Everything hearth-protocol can refuse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProtocolError {
    /// A body that is not the JSON its API expects.
    #[error("invalid JSON{}: {message}", at(path))]
    InvalidJson { path: String, message: String },

    /// Tool-call arguments (OpenAI sends them as a JSON string) that do not parse.
    #[error("the arguments of tool call `{tool}` are not valid JSON ({reason}): {excerpt:?}")]
    ToolArgumentsNotJson {
        tool: String,
        reason: String,
        excerpt: String,
    },

    /// Tool-call arguments that parse but are not an object (Ollama takes only objects).
    #[error("the arguments of tool call `{tool}` must be a JSON object, not {found}")]
    ToolArgumentsNotObject { tool: String, found: &'static str },

    /// Streamed tool-call arguments beyond the limit, before they were complete.
    #[error("the streamed arguments of tool call `{tool}` exceed {limit} bytes")]
    ToolArgumentsTooLong { tool: String, limit: usize },

    /// A streamed tool call that ended without ever naming its function.
    #[error("the streamed tool call at index {index} ended without a function name")]
    ToolCallWithoutName { index: u32 },

    /// A message role the target API has no equivalent for.
    #[error("messages[{index}]: role `{role}` is not one of {expected}")]
    UnknownRole {
        index: usize,
        role: String,
        expected: &'static str,
    },

    /// An image given by URL where the target API needs the bytes.
    #[error(
        "messages[{index}]: image {excerpt:?} is not a base64 `data:` URL; \
         Ollama takes image bytes, and Hearth does not fetch links"
    )]
    UnsupportedImageUrl { index: usize, excerpt: String },

    /// A content part (audio, file…) the target API cannot carry.
    #[error("messages[{index}]: a content part of type `{kind}` cannot be sent to {target}")]
    UnsupportedContentPart {
        index: usize,
        kind: String,
        target: &'static str,
    },

    /// A tool that is not a function tool.
    #[error("tools[{index}]: tool type `{kind}` is not supported; only `function` tools are")]
    UnsupportedToolType { index: usize, kind: String },

    /// A `tool_choice` naming a function that is not among the tools.
    #[error("`tool_choice` names `{name}`, which is not among the request's tools")]
    ToolChoiceNotInTools { name: String },

    /// More than one choice asked of a backend that gives one.
    #[error("`n` = {n} is not supported: Ollama answers with one choice per request")]
    UnsupportedChoiceCount { n: u32 },

    /// An /api/generate feature a chat backend cannot honour.
    #[error("/api/generate with `{field}` cannot be served by a chat backend: {reason}")]
    GenerateNotTranslatable {
        field: &'static str,
        reason: &'static str,
    },

    /// A number the target API cannot represent.
    #[error("`{field}` = {value} is out of range ({expected})")]
    OutOfRange {
        field: &'static str,
        value: String,
        expected: &'static str,
    },

    /// A stream line (SSE or NDJSON) beyond the configured limit.
    #[error("a streamed line or event is longer than {limit} bytes")]
    LineTooLong { limit: usize },

    /// An NDJSON line that is not UTF-8.
    #[error("a streamed line is not valid UTF-8 (invalid byte at offset {valid_up_to})")]
    InvalidUtf8 { valid_up_to: usize },

    /// A Messages request without messages.
    #[error("`messages` is empty: a request needs at least one message")]
    EmptyMessages,

    /// An Anthropic content block that cannot be translated where it is (`at` is its JSON path,
    /// `messages[2].content[1]`).
    #[error("{at}: a `{kind}` block {reason}")]
    UnsupportedBlock {
        at: String,
        kind: String,
        reason: &'static str,
    },

    /// An Anthropic `tool_result` answering no earlier `tool_use`.
    #[error(
        "{at}: `tool_result` answers tool_use id `{id}`, \
         which no earlier assistant `tool_use` has"
    )]
    UnknownToolUseId { at: String, id: String },

    /// An image URL that is neither a base64 `data:` URL nor an http(s) link.
    #[error(
        "messages[{index}]: image {excerpt:?} is neither a base64 `data:` URL \
         nor an http(s) link"
    )]
    InvalidImageUrl { index: usize, excerpt: String },

    /// A streamed tool call continued after a later call had started, which a target that
    /// streams one call at a time cannot follow.
    #[error("the streamed tool call at index {index} continued after a later call had started")]
    ToolCallsInterleaved { index: u32 },

    /// An `error` event in an upstream stream (Anthropic's `overloaded_error`…).
    #[error("the upstream stream failed with `{kind}`: {message}")]
    UpstreamStreamError { kind: String, message: String },

    /// A Responses request with no input and no earlier conversation to go on from.
    #[error("`input` is empty and there is no `previous_response_id` conversation to go on from")]
    EmptyInput,

    /// A Responses input item Hearth cannot translate (`at` is `input[3]`, or the place in the
    /// stored conversation that `previous_response_id` continues).
    #[error("{at}: item type `{kind}` is not supported")]
    UnsupportedInputItem { at: String, kind: String },

    /// A content part of a Responses input item that cannot be carried where it goes.
    #[error("{at}: a content part of type `{kind}` is not supported {reason}")]
    UnsupportedInputContent {
        at: String,
        kind: String,
        reason: &'static str,
    },

    /// A Responses message role other than user, assistant, system and developer.
    #[error("{at}: role `{role}` is not one of user, assistant, system, developer")]
    UnknownInputRole { at: String, role: String },

    /// A `function_call_output` answering no earlier `function_call`.
    #[error(
        "{at}: `function_call_output` answers call id `{call_id}`, \
         but no earlier `function_call` has that call id"
    )]
    UnknownCallId { at: String, call_id: String },

    /// A Responses `tool_choice` naming a hosted tool (or a newer form).
    #[error(
        "`tool_choice` of type `{kind}` is not supported; only `none`, `auto`, `required`, \
         a function or `allowed_tools` are"
    )]
    UnsupportedToolChoice { kind: String },

    /// More than one choice asked of a target that answers once.
    #[error("`n` = {n} is not supported: {target} answers with one choice per request")]
    UnsupportedChoiceCountFor { n: u32, target: &'static str },
}

fn at(path: &str) -> String {
    if path.is_empty() || path == "." {
        String::new()
    } else {
        format!(" at `{path}`")
    }
}

/// At most `max` characters of `text`, cut on a character boundary, with `…` when cut.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_cuts_on_character_boundaries() {
        assert_eq!(excerpt("héllo wörld", 4), "héll…");
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(excerpt("", 3), "");
        assert_eq!(excerpt("🦀🦀🦀", 2), "🦀🦀…");
    }
}
