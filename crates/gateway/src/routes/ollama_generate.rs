//! `POST /api/generate`: Ollama's prompt completion, served as a chat. The request becomes a
//! chat request (`generate_request_to_chat`: the `system` text, then the prompt as the user
//! turn) and takes the `/api/chat` path through the pipeline; each answer or NDJSON line comes
//! back as a generate response (`chat_response_to_generate`, the text in `response`).
//!
//! Refused with 400, because a chat backend cannot honour them: `raw` prompts, `suffix`
//! (fill-in-the-middle) and `template` overrides. `context` (the deprecated token memory) is
//! ignored and never returned. An empty prompt is Ollama's "load the model" request, answered
//! `done: true, done_reason: "load"` without calling the backend, as on `/api/chat`.

use axum::{body::Bytes, extract::State, http::HeaderMap, response::Response};
use hearth_protocol::{
    convert::{chat_response_to_generate, generate_request_to_chat},
    from_json,
    ollama::GenerateRequest,
};

use super::ollama_chat::{answer, refused};
use crate::{auth::authenticate, error::GatewayError, state::Gateway};

pub async fn generate(State(gateway): State<Gateway>, headers: HeaderMap, body: Bytes) -> Response {
    let answered = async {
        let caller = authenticate(&gateway.runtime(), &headers)?;
        let request: GenerateRequest = from_json(&body).map_err(GatewayError::invalid_body)?;
        let chat = generate_request_to_chat(request).map_err(|error| GatewayError::BadRequest {
            message: error.to_string(),
            code: "invalid_request",
        })?;
        answer(
            &gateway,
            &headers,
            &caller,
            chat,
            "ollama-generate",
            chat_response_to_generate,
        )
        .await
    };
    answered
        .await
        .unwrap_or_else(|error| refused(error, "Ollama generate"))
}
