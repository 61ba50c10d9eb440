//! A whole (not streamed) answer body of each backend protocol, parsed as the providers parse
//! it: OpenAI chat, Ollama /api/chat and /api/generate, Anthropic Messages, Responses; each
//! converted to a chat answer and on to every kind of client. The listings, errors and
//! embeddings the providers read are parsed and round-tripped too.

use hearth_protocol::{
    anthropic::MessagesResponse,
    convert::{
        CompletionIds, chat_response_to_openai, messages_response_to_openai, response_to_openai,
    },
    from_json, ollama,
    openai::{
        chat::{ChatCompletionResponse, ErrorResponse},
        embeddings::EmbeddingsResponse,
        models::ModelList,
        responses::Response,
    },
};

use crate::{CREATED, round_trip, to_clients};

pub fn run(data: &[u8]) {
    let ids = CompletionIds::new("chatcmpl-fuzz", CREATED);
    if let Ok(answer) = from_json::<ChatCompletionResponse>(data) {
        round_trip(&answer);
        to_clients(&answer);
    }
    if let Ok(answer) = from_json::<ollama::ChatResponse>(data) {
        round_trip(&answer);
        to_clients(&chat_response_to_openai(answer, &ids));
    }
    if let Ok(answer) = from_json::<MessagesResponse>(data) {
        round_trip(&answer);
        to_clients(&messages_response_to_openai(answer, &ids));
    }
    if let Ok(answer) = from_json::<Response>(data) {
        round_trip(&answer);
        to_clients(&response_to_openai(answer, &ids));
    }
    if let Ok(answer) = from_json::<ollama::GenerateResponse>(data) {
        round_trip(&answer);
    }
    if let Ok(list) = from_json::<ModelList>(data) {
        round_trip(&list);
    }
    if let Ok(list) = from_json::<ollama::ListResponse>(data) {
        round_trip(&list);
    }
    if let Ok(list) = from_json::<ollama::PsResponse>(data) {
        round_trip(&list);
    }
    if let Ok(error) = from_json::<ErrorResponse>(data) {
        round_trip(&error);
    }
    if let Ok(embeddings) = from_json::<EmbeddingsResponse>(data) {
        round_trip(&embeddings);
    }
}
