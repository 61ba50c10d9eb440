//! An Ollama request body: `POST /api/chat` (to a chat request, and on to every backend) and
//! `POST /api/generate` (to a chat request first), parsed as the routes parse them.

use hearth_protocol::{
    convert::{chat_request_to_openai, generate_request_to_chat},
    from_json,
    ollama::{ChatRequest, GenerateRequest},
};

use crate::{round_trip, to_backends};

pub fn run(data: &[u8]) {
    if let Ok(request) = from_json::<ChatRequest>(data) {
        round_trip(&request);
        if let Ok(chat) = chat_request_to_openai(request) {
            round_trip(&chat);
            to_backends(&chat);
        }
    }
    if let Ok(request) = from_json::<GenerateRequest>(data) {
        round_trip(&request);
        if let Ok(chat) = generate_request_to_chat(request) {
            round_trip(&chat);
            if let Ok(chat) = chat_request_to_openai(chat) {
                to_backends(&chat);
            }
        }
    }
}
