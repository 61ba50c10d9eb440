//! The context guard: a request whose estimated prompt plus output budget exceeds the model's
//! context window is refused before it is sent, with the numbers; an output budget above the
//! model's `maxTokens` is clamped to it.
//!
//! The prompt is estimated at four characters a token (plus a little per message), the usual
//! rule of thumb for English and code. It errs on the generous side for the caller; the
//! backend's own tokenizer has the last word.

use hearth_core::config::file::ModelFile;
use hearth_protocol::openai::chat::{ChatCompletionRequest, ContentPart, MessageContent};

use crate::error::GatewayError;

/// Estimated prompt tokens of a request: messages, tool calls and tool definitions.
pub fn estimate_prompt_tokens(request: &ChatCompletionRequest) -> u64 {
    let mut chars: usize = 0;
    for message in &request.messages {
        chars += 16; // role and framing tokens
        match &message.content {
            Some(MessageContent::Text(text)) => chars += text.len(),
            Some(MessageContent::Parts(parts)) => {
                for part in parts {
                    if let ContentPart::Text(text) = part {
                        chars += text.text.len();
                    }
                }
            }
            None => {}
        }
        for call in &message.tool_calls {
            chars += call.function.name.len() + call.function.arguments.len();
        }
    }
    for tool in &request.tools {
        chars += serde_json::to_string(tool).map_or(0, |text| text.len());
    }
    u64::try_from(chars / 4).unwrap_or(u64::MAX)
}

/// Clamps the output budget to the model's `maxTokens` and refuses what cannot fit. Returns a
/// warning for a reasoning model whose budget leaves little room for the answer.
pub fn apply(
    model_ref: &str,
    model: Option<&ModelFile>,
    request: &mut ChatCompletionRequest,
) -> Result<Option<String>, GatewayError> {
    let Some(model) = model else {
        return Ok(None);
    };
    let asked = request
        .max_completion_tokens
        .or(request.max_tokens)
        .map(u64::from);
    let budget = match (asked, model.max_tokens) {
        (Some(asked), Some(max)) if asked > max => {
            let clamped = u32::try_from(max).unwrap_or(u32::MAX);
            if request.max_completion_tokens.is_some() {
                request.max_completion_tokens = Some(clamped);
            }
            if request.max_tokens.is_some() {
                request.max_tokens = Some(clamped);
            }
            Some(max)
        }
        (Some(asked), _) => Some(asked),
        (None, max) => max,
    };
    if let Some(window) = model.context_window {
        let prompt = estimate_prompt_tokens(request);
        let output = budget.unwrap_or(0);
        if prompt.saturating_add(output) > window {
            return Err(GatewayError::ContextTooLong {
                message: format!(
                    "the request needs about {prompt} prompt tokens plus {output} output tokens, \
                     more than the {window}-token context window of `{model_ref}`; shorten the \
                     conversation or lower max_tokens"
                ),
            });
        }
    }
    let warning = (model.reasoning == Some(true))
        .then_some(budget)
        .flatten()
        .filter(|budget| *budget < 1024)
        .map(|budget| {
            format!(
                "`{model_ref}` reasons before it answers; a budget of {budget} tokens may be spent thinking, leaving an empty answer"
            )
        });
    Ok(warning)
}
