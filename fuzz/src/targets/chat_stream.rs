//! An OpenAI-compatible backend's chat stream: SSE bytes in arbitrary chunks, each event's data
//! read as the OpenAI provider reads it (a chunk, or an error that ends the stream), the chunks
//! handed to every kind of client's stream converter.

use hearth_protocol::openai::{chat::StreamData, responses::ResponsesRequest};

use crate::{Ending, client_streams, round_trip, sse_data};

pub fn run(data: &[u8]) {
    let mut chunks = Vec::new();
    let mut ending = Ending::Done;
    for message in sse_data(data) {
        match StreamData::parse(&message) {
            Ok(StreamData::Chunk(chunk)) => {
                round_trip(&chunk);
                chunks.push(chunk);
            }
            Ok(StreamData::Error(_)) | Err(_) => {
                ending = Ending::Failed;
                break;
            }
        }
    }
    client_streams(&ResponsesRequest::default(), &chunks, ending);
}
