//! An Anthropic Messages request body (`POST /v1/messages`), parsed as the route parses it,
//! to a chat request, and on to every backend.

use hearth_protocol::{anthropic::MessagesRequest, convert::messages_request_to_openai, from_json};

use crate::{round_trip, to_backends};

pub fn run(data: &[u8]) {
    let Ok(request) = from_json::<MessagesRequest>(data) else {
        return;
    };
    round_trip(&request);
    if let Ok(chat) = messages_request_to_openai(request) {
        round_trip(&chat);
        to_backends(&chat);
    }
}
