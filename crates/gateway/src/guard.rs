//! The context guard: a request whose estimated prompt plus output budget exceeds the model's
//! context window is refused before it is sent, with the numbers; an output budget above the
//! model's `maxTokens` is clamped to it.
//!
//! The prompt is estimated at four characters a token (plus a little per message), the usual
//! rule of thumb for English and code. It errs on the generous side for the caller; the
//! backend's own tokenizer has the last word.
//!
//! A model declared with its `input` modalities takes only those: an image for a text-only
//! model (a declared model without `input` is text-only) is refused here, with the message
//! that carries it, rather than silently dropped or sent to fail somewhere inside the backend.

use hearth_core::config::file::{Modality, ModelFile};
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

/// Refuses content the model does not take: images, unless its `input` lists `image`.
pub fn check_modalities(
    model_ref: &str,
    model: Option<&ModelFile>,
    request: &ChatCompletionRequest,
) -> Result<(), GatewayError> {
    let Some(model) = model else {
        return Ok(());
    };
    let takes_images = model
        .input
        .as_ref()
        .is_some_and(|input| input.contains(&Modality::Image));
    if takes_images {
        return Ok(());
    }
    let with_image = request.messages.iter().position(|message| {
        matches!(&message.content, Some(MessageContent::Parts(parts))
            if parts.iter().any(|part| matches!(part, ContentPart::ImageUrl(_))))
    });
    match with_image {
        Some(index) => Err(GatewayError::BadRequest {
            message: format!(
                "messages[{index}] has an image, but `{model_ref}` takes text only; send it to a model whose `input` lists \"image\", or send text"
            ),
            code: "unsupported_content",
        }),
        None => Ok(()),
    }
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
    // Both fields are clamped and the larger counts: backends read one or the other, so a small
    // value in one must not hide a huge one in the other.
    if let Some(max) = model.max_tokens {
        let max = u32::try_from(max).unwrap_or(u32::MAX);
        for field in [&mut request.max_tokens, &mut request.max_completion_tokens] {
            if let Some(asked) = field.as_mut() {
                *asked = (*asked).min(max);
            }
        }
    }
    let asked = request
        .max_tokens
        .into_iter()
        .chain(request.max_completion_tokens)
        .max()
        .map(u64::from);
    let budget = asked.or(model.max_tokens);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_budget_fields_are_clamped_and_the_larger_counts() {
        let model = ModelFile {
            id: "m".to_owned(),
            name: None,
            context_window: Some(4096),
            max_tokens: Some(512),
            input: None,
            reasoning: None,
            size_bytes: None,
        };
        let mut request: ChatCompletionRequest = serde_json::from_value(serde_json::json!({
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "max_completion_tokens": 10,
            "max_tokens": 4_000_000_000u32
        }))
        .unwrap();
        apply("p/m", Some(&model), &mut request).unwrap();
        assert_eq!(request.max_tokens, Some(512));
        assert_eq!(request.max_completion_tokens, Some(10));
        let mut too_long = request.clone();
        too_long.messages[0].content = Some(MessageContent::Text("word ".repeat(20_000)));
        let error = apply("p/m", Some(&model), &mut too_long).unwrap_err();
        assert!(
            error.to_string().contains("4096-token context window"),
            "{error}"
        );
    }
}
