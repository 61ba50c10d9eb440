//! An OpenAI Responses request body (`POST /v1/responses`), parsed as the route parses it: its
//! input items, the response shell, the chat request alone and after a stored history (its own
//! input, as a continued conversation would have), and on to every backend.

use hearth_protocol::{
    convert::{input_items, listed_input_items, response_shell, responses_request_to_openai},
    from_json,
    openai::responses::ResponsesRequest,
};

use crate::{response_context, round_trip, send, to_backends};

pub fn run(data: &[u8]) {
    let Ok(request) = from_json::<ResponsesRequest>(data) else {
        return;
    };
    round_trip(&request);
    let items = input_items(&request);
    send(&items);
    send(&listed_input_items(&items, "resp_fuzz"));
    round_trip(&response_shell(&request, &response_context()));
    if let Ok(chat) = responses_request_to_openai(&request, &[]) {
        round_trip(&chat);
        to_backends(&chat);
    }
    if let Ok(chat) = responses_request_to_openai(&request, &items) {
        send(&chat);
    }
}
