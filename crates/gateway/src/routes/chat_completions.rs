//! `POST /v1/chat/completions`: OpenAI Chat Completions, the gateway's canonical form, so this
//! route only parses the request, runs the pipeline and writes the answer: JSON, or server-sent
//! events with keep-alive comments while the backend loads, usage only when the client asked
//! (`stream_options.include_usage`), an error event if the backend fails mid-stream, and
//! `data: [DONE]` at the end.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;
use hearth_protocol::{
    framing::sse::{DONE, KEEP_ALIVE},
    from_json,
    openai::chat::ChatCompletionRequest,
};

use crate::{
    enforce,
    error::GatewayError,
    pipeline::{self, StreamEvent},
    state::Gateway,
};

pub async fn chat_completions(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle(gateway, headers, body).await {
        Ok(response) => response,
        Err(error) => {
            tracing::warn!(status = %error.status(), %error, "chat completion refused");
            error.into_response()
        }
    }
}

async fn handle(
    gateway: Gateway,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GatewayError> {
    // Authentication comes before parsing: a stranger learns nothing from our parse errors.
    let caller = crate::auth::authenticate(&gateway.runtime(), &headers)?;
    let request: ChatCompletionRequest = from_json(&body).map_err(GatewayError::invalid_body)?;
    let streamed = request.stream == Some(true);
    let wants_usage = request
        .stream_options
        .as_ref()
        .and_then(|options| options.include_usage)
        .unwrap_or(false);
    let prepared =
        pipeline::prepare(&gateway, &headers, &caller, request, "openai-completions").await?;
    if !streamed {
        let (headers, answer) = prepared.complete().await?;
        return Ok((headers, Json(answer)).into_response());
    }
    let (out_headers, events) = prepared.stream().await?;
    let sse = events.filter_map(move |event| {
        let text = match event {
            StreamEvent::Chunk(mut chunk) => {
                if !wants_usage {
                    chunk.usage = None;
                }
                // The usage-only chunk at the end has no choices: nothing to send without usage.
                (wants_usage || !chunk.choices.is_empty())
                    .then(|| serde_json::to_string(&chunk).ok())
                    .flatten()
                    .map(|json| format!("data: {json}\n\n"))
            }
            StreamEvent::KeepAlive => Some(KEEP_ALIVE.to_owned()),
            StreamEvent::Failed(message) => Some(enforce::stream_error_event(&message)),
            StreamEvent::Done => Some(DONE.to_owned()),
        };
        std::future::ready(text)
    });
    Ok(super::streamed(out_headers, "text/event-stream", sse))
}
