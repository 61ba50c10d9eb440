//! What the fuzz targets share: cutting an input into chunks the way a network might, reading
//! SSE and NDJSON bodies the way the gateway's providers do, the serialization round trip every
//! wire type must survive, and the client-direction stream converters driven the way the
//! gateway's routes drive them.
//!
//! Panics are the point here: a failed assertion is a finding libFuzzer saves as a crash.

use hearth_protocol::{
    convert::{
        CompletionIds, OpenAiToAnthropicStream, OpenAiToOllamaStream, OpenAiToResponsesStream,
        ResponseContext, chat_request_to_messages, chat_request_to_ollama, chat_request_to_openai,
        chat_request_to_responses, chat_response_to_generate, chat_response_to_messages,
        chat_response_to_ollama, chat_response_to_openai, chat_response_to_response, conversation,
        messages_request_to_openai, messages_response_to_openai, output_to_input,
        response_to_openai, responses_request_to_openai,
    },
    framing::{NdjsonSplitter, SseEvent, SseParser},
    openai::{
        chat::{ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse},
        responses::ResponsesRequest,
    },
};
use serde::{Serialize, de::DeserializeOwned};

pub mod targets;

/// A clock and ids, fixed: every conversion takes them as parameters.
pub const CREATED: u64 = 1_700_000_000;
pub const CREATED_AT: &str = "2023-11-14T22:13:20Z";

/// Chunk lengths (1 to 16 bytes) drawn from a generator seeded by the input itself, so each
/// mutation of the input also tries other chunk boundaries.
pub fn chunks(data: &[u8]) -> Vec<&[u8]> {
    // FNV-1a as the seed, xorshift64 as the generator.
    let mut state = data.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    }) | 1;
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let take = usize::try_from(state % 16).unwrap_or(0) + 1;
        let (head, tail) = rest.split_at(take.min(rest.len()));
        out.push(head);
        rest = tail;
    }
    out
}

/// The framing invariant: however a body is cut, it fails or not alike, and when it does not, it
/// gives the same items. When it fails, each cut gives a prefix of what byte-by-byte feeding
/// gives: the items completed before the error in the same `feed` are dropped with it (the body
/// is broken from there, and the gateway ends the stream).
pub fn same_framing<T: PartialEq + std::fmt::Debug>(
    bytewise: &(Vec<T>, bool),
    cuts: &[(&str, (Vec<T>, bool))],
) {
    for (cut, (items, failed)) in cuts {
        assert_eq!(*failed, bytewise.1, "{cut}: fails alike");
        if bytewise.1 {
            assert!(
                bytewise.0.starts_with(items),
                "{cut}: a prefix of the bytewise items: {items:?} vs {:?}",
                bytewise.0
            );
        } else {
            assert_eq!(items, &bytewise.0, "{cut}: the same items");
        }
    }
}

/// What an SSE parser makes of `pieces` fed in turn, then the end of the body: the events up to
/// the first error, and whether there was one (the gateway ends the stream there).
pub fn sse_events<'a>(
    max_bytes: usize,
    pieces: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<SseEvent>, bool) {
    let mut parser = SseParser::new(max_bytes);
    let mut events = Vec::new();
    for piece in pieces {
        match parser.feed(piece) {
            Ok(more) => events.extend(more),
            Err(_) => return (events, true),
        }
    }
    match parser.finish() {
        Ok(more) => events.extend(more),
        Err(_) => return (events, true),
    }
    (events, false)
}

/// The same for NDJSON lines.
pub fn ndjson_lines<'a>(
    max_bytes: usize,
    pieces: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<String>, bool) {
    let mut splitter = NdjsonSplitter::new(max_bytes);
    let mut lines = Vec::new();
    for piece in pieces {
        match splitter.feed(piece) {
            Ok(more) => lines.extend(more),
            Err(_) => return (lines, true),
        }
    }
    match splitter.finish() {
        Ok(last) => lines.extend(last),
        Err(_) => return (lines, true),
    }
    (lines, false)
}

/// The `data` of a streamed body's messages, as the gateway's providers read it: SSE in chunks,
/// up to `[DONE]` or the first framing error.
pub fn sse_data(data: &[u8]) -> Vec<String> {
    let (events, _) = sse_events(
        hearth_protocol::framing::DEFAULT_MAX_LINE_BYTES,
        chunks(data),
    );
    let mut out = Vec::new();
    for event in events {
        match event {
            SseEvent::Message { data, .. } => out.push(data),
            SseEvent::Done => break,
        }
    }
    out
}

/// A wire type serialized and parsed back is the same document: what Hearth forwards after
/// parsing loses nothing and means the same.
pub fn round_trip<T: Serialize + DeserializeOwned>(value: &T) {
    let first = serde_json::to_value(value).expect("a parsed value serializes");
    let again: T = match serde_json::from_value(first.clone()) {
        Ok(again) => again,
        Err(error) => panic!("{error}: the serialized form does not parse back: {first}"),
    };
    let second = serde_json::to_value(&again).expect("a parsed value serializes");
    assert_eq!(
        first, second,
        "the serialized form changes when parsed back"
    );
}

/// Serializes, as the gateway does with everything it sends.
pub fn send<T: Serialize>(value: &T) {
    serde_json::to_value(value).expect("a converted value serializes");
}

/// The responses a Responses client's stream is about.
pub fn response_context() -> ResponseContext {
    ResponseContext {
        id: "resp_fuzz".into(),
        created_at: CREATED,
        model: "fuzz-model".into(),
        previous_response_id: None,
        store: true,
    }
}

/// How a backend's chat stream ended, for the client-direction converters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The body ended (`[DONE]`, or the converter that read it finished).
    Done,
    /// The backend failed mid-stream.
    Failed,
}

/// Drives the three client-direction stream converters (Ollama NDJSON, Anthropic Messages
/// events, Responses events) over one chat chunk stream, as the routes do, and checks what can
/// be checked cheaply: every event serializes, Responses events count up from 0.
pub fn client_streams(request: &ResponsesRequest, chunks: &[ChatCompletionChunk], ending: Ending) {
    // Ollama client (routes/ollama_chat.rs): push, then finish at the end.
    let mut ollama = OpenAiToOllamaStream::new();
    let mut ollama_ok = true;
    for chunk in chunks {
        match ollama.push(chunk.clone(), CREATED_AT) {
            Ok(lines) => lines.iter().for_each(send),
            Err(_) => {
                ollama_ok = false;
                break;
            }
        }
    }
    if ollama_ok
        && ending == Ending::Done
        && let Ok(lines) = ollama.finish(CREATED_AT)
    {
        lines.iter().for_each(send);
    }

    // Anthropic client (routes/messages.rs): push; fail on a conversion error or a failure.
    let mut messages = OpenAiToAnthropicStream::new("msg_fuzz", "fuzz-model");
    let mut failed = false;
    for chunk in chunks {
        match messages.push(chunk.clone()) {
            Ok(events) => events.iter().for_each(send),
            Err(error) => {
                messages.fail(&error.to_string()).iter().for_each(send);
                failed = true;
                break;
            }
        }
    }
    if !failed {
        let closing = match ending {
            Ending::Done => messages.finish(),
            Ending::Failed => messages.fail("the backend failed"),
        };
        closing.iter().for_each(send);
    }

    // Responses client (routes/responses.rs): start, push, then finish or fail; the stored
    // conversation of the final response.
    let mut responses = OpenAiToResponsesStream::new(request, response_context());
    let mut events = responses.start();
    for chunk in chunks {
        events.extend(responses.push(chunk.clone()));
    }
    events.extend(match ending {
        Ending::Done => responses.finish(),
        Ending::Failed => responses.fail("the backend failed"),
    });
    for (expected, event) in events.iter().enumerate() {
        assert_eq!(
            event.sequence_number(),
            u64::try_from(expected).expect("fits"),
            "Responses events are numbered in order: {event:?}"
        );
        send(event);
    }
    let response = responses.response();
    send(response);
    send(&conversation(&[], request, response));
}

/// A chat request as the pipeline sends it to each kind of backend: as it is (OpenAI-compatible),
/// to Ollama, to Anthropic Messages, to a Responses backend; each converted request serializes,
/// survives a round trip, and converts back to a chat request without panicking.
pub fn to_backends(request: &ChatCompletionRequest) {
    send(request);
    if let Ok(ollama) = chat_request_to_ollama(request.clone()) {
        round_trip(&ollama);
        let _ = chat_request_to_openai(ollama);
    }
    if let Ok(messages) = chat_request_to_messages(request.clone(), 4096) {
        round_trip(&messages);
        let _ = messages_request_to_openai(messages);
    }
    if let Ok(responses) = chat_request_to_responses(request.clone()) {
        round_trip(&responses);
        let _ = responses_request_to_openai(&responses, &[]);
    }
}

/// A whole chat answer as the routes give it to each kind of client: as it is, to Ollama's
/// /api/chat and /api/generate, to Anthropic Messages, to a Responses client (with the stored
/// conversation); each converted answer serializes, survives a round trip, and converts back.
pub fn to_clients(answer: &ChatCompletionResponse) {
    let ids = CompletionIds::new("chatcmpl-fuzz", CREATED);
    send(answer);
    if let Ok(ollama) = chat_response_to_ollama(answer.clone(), CREATED_AT) {
        round_trip(&ollama);
        round_trip(&chat_response_to_generate(ollama.clone()));
        send(&chat_response_to_openai(ollama, &ids));
    }
    if let Ok(message) = chat_response_to_messages(answer.clone(), "msg_fuzz") {
        round_trip(&message);
        send(&messages_response_to_openai(message, &ids));
    }
    let request = ResponsesRequest::default();
    let response = chat_response_to_response(answer.clone(), &request, &response_context());
    round_trip(&response);
    send(&conversation(&[], &request, &response));
    send(&output_to_input(&response.output));
    send(&response_to_openai(response, &ids));
}
