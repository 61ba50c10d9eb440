//! `POST /v1/messages`: Anthropic's Messages API in front of every backend. The request is
//! translated into the canonical form (`messages_request_to_openai`) and takes the same
//! pipeline as a chat completion — routing, tool policy, context guard, timeouts, metrics —
//! and the answer comes back as an Anthropic message, or as its server-sent events
//! (`message_start`, `content_block_start/delta/stop`, `message_delta`, `message_stop`), with
//! `ping` events while the backend loads and an `error` event if it fails mid-stream. Errors
//! before the answer starts are in Anthropic's shape with their HTTP status.
//!
//! Anthropic's SDKs send the key as `x-api-key`, which authenticates like a bearer token.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;
use hearth_protocol::{
    anthropic::{MessagesRequest, StreamEvent as AnthropicEvent},
    convert::{OpenAiToAnthropicStream, chat_response_to_messages, messages_request_to_openai},
    from_json,
};

use crate::{
    auth::authenticate,
    error::GatewayError,
    pipeline::{self, StreamEvent},
    providers::BackendError,
    state::Gateway,
};

pub async fn messages(State(gateway): State<Gateway>, headers: HeaderMap, body: Bytes) -> Response {
    handle(gateway, headers, body)
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(status = %error.status(), %error, "message refused");
            error.into_anthropic_response()
        })
}

async fn handle(
    gateway: Gateway,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GatewayError> {
    // Authentication comes before parsing: a stranger learns nothing from our parse errors.
    let caller = authenticate(&gateway.runtime(), &headers)?;
    let request: MessagesRequest = from_json(&body).map_err(GatewayError::invalid_body)?;
    let streamed = request.stream == Some(true);
    let canonical = messages_request_to_openai(request).map_err(GatewayError::untranslatable)?;
    let prepared =
        pipeline::prepare(&gateway, &headers, &caller, canonical, "anthropic-messages").await?;
    let provider = prepared.provider().to_owned();
    let id = message_id();
    if !streamed {
        let (out_headers, answer) = prepared.complete().await?;
        // Tool-call arguments must be a JSON object for Anthropic; if they are not, the
        // backend sent something Hearth cannot hand on.
        let message = chat_response_to_messages(answer, &id)
            .map_err(|source| BackendError::Translate { provider, source })?;
        return Ok((out_headers, Json(message)).into_response());
    }
    let shown_model = prepared.shown_model.clone();
    let (out_headers, events) = prepared.stream().await?;
    let sse = async_stream::stream! {
        let mut translator = OpenAiToAnthropicStream::new(id, shown_model);
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            match event {
                StreamEvent::Chunk(chunk) => match translator.push(*chunk) {
                    Ok(out) => {
                        for event in out {
                            yield event.to_sse();
                        }
                    }
                    Err(error) => {
                        let error = BackendError::Translate { provider: provider.clone(), source: error };
                        tracing::warn!(%error, "message stream ended");
                        for event in translator.fail(&error.to_string()) {
                            yield event.to_sse();
                        }
                        break;
                    }
                },
                StreamEvent::KeepAlive => yield AnthropicEvent::Ping.to_sse(),
                StreamEvent::Failed(message) => {
                    for event in translator.fail(&message) {
                        yield event.to_sse();
                    }
                    break;
                }
                StreamEvent::Done => {
                    for event in translator.finish() {
                        yield event.to_sse();
                    }
                    break;
                }
            }
        }
    };
    Ok(super::streamed(out_headers, "text/event-stream", sse))
}

/// `POST /v1/messages/count_tokens`: the prompt's size as the context guard estimates it (four
/// characters a token; local servers have no tokenizer route to ask). Agents such as Claude
/// Code call it to decide when to compact a conversation.
pub async fn count_tokens(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let counted = async {
        let _caller = authenticate(&gateway.runtime(), &headers)?;
        let mut document: serde_json::Value =
            from_json(&body).map_err(GatewayError::invalid_body)?;
        // The count takes a message request without its output budget.
        if let Some(object) = document.as_object_mut() {
            object
                .entry("max_tokens")
                .or_insert(serde_json::Value::from(1));
        }
        let request: MessagesRequest =
            serde_json::from_value(document).map_err(GatewayError::invalid_body)?;
        let canonical =
            messages_request_to_openai(request).map_err(GatewayError::untranslatable)?;
        let input_tokens = crate::guard::estimate_prompt_tokens(&canonical);
        Ok::<_, GatewayError>(
            Json(serde_json::json!({ "input_tokens": input_tokens })).into_response(),
        )
    };
    counted.await.unwrap_or_else(|error| {
        tracing::warn!(status = %error.status(), %error, "token count refused");
        error.into_anthropic_response()
    })
}

/// `msg_` and the request's own id: unique, and it names the request in Hearth's log.
fn message_id() -> String {
    format!("msg_{}", crate::pipeline::new_request_id())
}
