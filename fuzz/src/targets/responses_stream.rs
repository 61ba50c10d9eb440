//! A Responses backend's stream: SSE bytes in arbitrary chunks, each event's data parsed as the
//! provider parses it (`providers::converted_stream`), converted to chat chunks by
//! `ResponsesToOpenAiStream` until it finishes or refuses an event, and the chunks handed to every
//! kind of client's stream converter.

use hearth_protocol::{
    convert::{CompletionIds, ResponsesToOpenAiStream},
    from_json,
    openai::responses::ResponsesRequest,
    openai::responses::StreamEvent,
};

use crate::{CREATED, Ending, client_streams, round_trip, sse_data};

pub fn run(data: &[u8]) {
    let mut converter =
        ResponsesToOpenAiStream::new(CompletionIds::new("chatcmpl-fuzz", CREATED), true);
    let mut chat = Vec::new();
    let mut failed = false;
    for message in sse_data(data) {
        let Ok(event) = from_json::<StreamEvent>(message.as_bytes()) else {
            failed = true;
            break;
        };
        round_trip(&event);
        match converter.push(event) {
            Ok(chunks) => chat.extend(chunks),
            Err(_) => {
                failed = true;
                break;
            }
        }
        if converter.is_finished() {
            break;
        }
    }
    chat.iter().for_each(round_trip);
    let ending = if failed || !converter.is_finished() {
        Ending::Failed
    } else {
        Ending::Done
    };
    client_streams(&ResponsesRequest::default(), &chat, ending);
}
