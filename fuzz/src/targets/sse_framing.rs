//! SSE framing: any bytes, cut anywhere, give the same events and fail alike (see
//! [`crate::same_framing`]), under the default bound and under a tiny one that the input can
//! exceed; and an event written by `encode_data` reads back as its data.

use hearth_protocol::framing::{DEFAULT_MAX_LINE_BYTES, SseEvent, sse::encode_data};

use crate::{chunks, same_framing, sse_events};

pub fn run(data: &[u8]) {
    for max_bytes in [DEFAULT_MAX_LINE_BYTES, 24] {
        let bytewise = sse_events(max_bytes, data.chunks(1));
        let cuts = [
            ("whole", sse_events(max_bytes, [data])),
            ("random chunks", sse_events(max_bytes, chunks(data))),
        ];
        same_framing(&bytewise, &cuts);
    }

    let text = String::from_utf8_lossy(data);
    if !text.contains('\r') && text.trim() != "[DONE]" {
        let (events, failed) = sse_events(DEFAULT_MAX_LINE_BYTES, [encode_data(&text).as_bytes()]);
        assert!(!failed);
        let expected = SseEvent::Message {
            event: None,
            data: text.into_owned(),
        };
        assert_eq!(events, [expected], "encode_data reads back");
    }
}
