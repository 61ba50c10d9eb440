//! An Ollama backend's /api/chat stream: NDJSON bytes in arbitrary chunks, each line read as the
//! Ollama provider reads it (a chunk, or an error that ends the stream), converted to chat
//! chunks by `OllamaToOpenAiStream` and handed to every kind of client's stream converter.

use hearth_protocol::{
    convert::{CompletionIds, OllamaToOpenAiStream},
    framing::DEFAULT_MAX_LINE_BYTES,
    ollama::{ChatResponse, StreamLine},
    openai::responses::ResponsesRequest,
};

use crate::{CREATED, Ending, chunks, client_streams, ndjson_lines, round_trip};

pub fn run(data: &[u8]) {
    let (lines, mut failed) = ndjson_lines(DEFAULT_MAX_LINE_BYTES, chunks(data));
    let mut converter =
        OllamaToOpenAiStream::new(CompletionIds::new("chatcmpl-fuzz", CREATED), true);
    let mut chat = Vec::new();
    for line in lines {
        match StreamLine::<ChatResponse>::parse(&line) {
            Ok(StreamLine::Chunk(chunk)) => {
                round_trip(&chunk);
                chat.extend(converter.push(chunk));
            }
            Ok(StreamLine::Error(_)) | Err(_) => {
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
