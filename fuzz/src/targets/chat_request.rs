//! An OpenAI Chat Completions request body (`POST /v1/chat/completions`): parsed as the route
//! parses it, round-tripped, and sent on to every kind of backend.

use hearth_protocol::{from_json, openai::chat::ChatCompletionRequest};

use crate::{round_trip, to_backends};

pub fn run(data: &[u8]) {
    let Ok(request) = from_json::<ChatCompletionRequest>(data) else {
        return;
    };
    round_trip(&request);
    to_backends(&request);
}
