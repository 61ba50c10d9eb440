//! Server-sent events, after the WHATWG HTML standard's "Interpreting an event stream": lines end
//! with CRLF, LF or CR; `:` starts a comment; `data:` lines accumulate (joined with `\n`) until a
//! blank line dispatches the event; one space after the colon is dropped. OpenAI-style streams
//! end with `data: [DONE]`, reported as [`SseEvent::Done`]. Also the few lines needed to write
//! such a stream.

use std::borrow::Cow;

use super::DEFAULT_MAX_LINE_BYTES;
use crate::ProtocolError;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseEvent {
    /// An event's data, with its `event:` name when it had one (`error`, for instance).
    Message { event: Option<String>, data: String },
    /// `data: [DONE]`: the stream is complete.
    Done,
}

/// A push parser: [`feed`](Self::feed) it bytes as they arrive.
#[derive(Debug)]
pub struct SseParser {
    line: Vec<u8>,
    /// The last byte fed was a CR: a LF right after it ends nothing.
    after_cr: bool,
    first_line: bool,
    data: String,
    has_data: bool,
    event: Option<String>,
    max_bytes: usize,
}

impl Default for SseParser {
    fn default() -> Self {
        SseParser::new(DEFAULT_MAX_LINE_BYTES)
    }
}

impl SseParser {
    /// A parser refusing lines and events longer than `max_bytes`.
    pub fn new(max_bytes: usize) -> Self {
        SseParser {
            line: Vec::new(),
            after_cr: false,
            first_line: true,
            data: String::new(),
            has_data: false,
            event: None,
            max_bytes,
        }
    }

    /// The events completed by `bytes`.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, ProtocolError> {
        let mut events = Vec::new();
        let mut rest = bytes;
        while let Some((&first, tail)) = rest.split_first() {
            if self.after_cr {
                self.after_cr = false;
                if first == b'\n' {
                    rest = tail;
                    continue;
                }
            }
            match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(end) => {
                    self.append(&rest[..end])?;
                    self.after_cr = rest[end] == b'\r';
                    rest = &rest[end + 1..];
                    self.end_line(&mut events)?;
                }
                None => {
                    self.append(rest)?;
                    break;
                }
            }
        }
        Ok(events)
    }

    /// The end of the body. The standard drops an event not followed by a blank line; Hearth
    /// dispatches it, since some servers end without one.
    pub fn finish(&mut self) -> Result<Vec<SseEvent>, ProtocolError> {
        let mut events = Vec::new();
        if !self.line.is_empty() {
            self.end_line(&mut events)?;
        }
        self.end_line(&mut events)?;
        self.after_cr = false;
        Ok(events)
    }

    fn append(&mut self, bytes: &[u8]) -> Result<(), ProtocolError> {
        if self.line.len() + bytes.len() > self.max_bytes {
            self.line.clear();
            return Err(ProtocolError::LineTooLong {
                limit: self.max_bytes,
            });
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn end_line(&mut self, events: &mut Vec<SseEvent>) -> Result<(), ProtocolError> {
        let bytes = std::mem::take(&mut self.line);
        let mut line = String::from_utf8_lossy(&bytes);
        if std::mem::take(&mut self.first_line)
            && let Some(rest) = line.strip_prefix('\u{feff}')
        {
            line = Cow::Owned(rest.to_owned());
        }
        if line.is_empty() {
            self.dispatch(events);
            return Ok(());
        }
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "data" => {
                if self.data.len() + value.len() + 1 > self.max_bytes {
                    self.data.clear();
                    self.has_data = false;
                    return Err(ProtocolError::LineTooLong {
                        limit: self.max_bytes,
                    });
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            // `id` and `retry` matter to browsers reconnecting, not to a proxy.
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, events: &mut Vec<SseEvent>) {
        let event = self.event.take();
        if !std::mem::take(&mut self.has_data) {
            return;
        }
        let data = std::mem::take(&mut self.data);
        if data.trim() == "[DONE]" {
            events.push(SseEvent::Done);
        } else {
            events.push(SseEvent::Message { event, data });
        }
    }
}

/// One event carrying `data` (split over several `data:` lines if it has line breaks).
pub fn encode_data(data: &str) -> String {
    let mut out = String::with_capacity(data.len() + 8);
    for line in data.split('\n') {
        out.push_str("data: ");
        out.push_str(line.strip_suffix('\r').unwrap_or(line));
        out.push('\n');
    }
    out.push('\n');
    out
}

/// The event that ends an OpenAI-style stream.
pub const DONE: &str = "data: [DONE]\n\n";

/// A comment that keeps the connection (and proxies, and client timeouts) alive while the
/// backend is still loading.
pub const KEEP_ALIVE: &str = ": keep-alive\n\n";

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    fn parse_in(chunks: &[&[u8]], max: usize) -> Result<Vec<SseEvent>, ProtocolError> {
        let mut parser = SseParser::new(max);
        let mut events = Vec::new();
        for chunk in chunks {
            events.extend(parser.feed(chunk)?);
        }
        events.extend(parser.finish()?);
        Ok(events)
    }

    fn render(events: &[SseEvent]) -> String {
        events
            .iter()
            .map(|event| match event {
                SseEvent::Done => "[DONE]\n".to_owned(),
                SseEvent::Message { event, data } => format!("{event:?} {data:?}\n"),
            })
            .collect()
    }

    /// Parse `stream` whole, then check that every split into two chunks, and byte-by-byte
    /// feeding, give the same events.
    fn check(stream: &str, expect: Expect) {
        let bytes = stream.as_bytes();
        let whole = parse_in(&[bytes], usize::MAX).unwrap();
        for split in 0..=bytes.len() {
            let (a, b) = bytes.split_at(split);
            assert_eq!(
                parse_in(&[a, b], usize::MAX).unwrap(),
                whole,
                "split at {split}"
            );
        }
        let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(parse_in(&bytewise, usize::MAX).unwrap(), whole);
        expect.assert_eq(&render(&whole));
    }

    #[test]
    fn openai_stream_with_done() {
        // OpenAI API reference, streaming: `data: {...}` events, `data: [DONE]` at the end.
        check(
            "data: {\"id\":\"chatcmpl-123\",\"choices\":[{\"delta\":{\"content\":\"Hello\"}}]}\n\n\
             data: {\"id\":\"chatcmpl-123\",\"choices\":[{\"delta\":{\"content\":\" wörld 🦀\"}}]}\n\n\
             data: [DONE]\n\n",
            expect![[r#"
                None "{\"id\":\"chatcmpl-123\",\"choices\":[{\"delta\":{\"content\":\"Hello\"}}]}"
                None "{\"id\":\"chatcmpl-123\",\"choices\":[{\"delta\":{\"content\":\" wörld 🦀\"}}]}"
                [DONE]
            "#]],
        );
    }

    #[test]
    fn comments_line_endings_and_multiline_data() {
        check(
            "\u{feff}: keep-alive\r\n\r\n\
             event: error\r\ndata: {\"error\":\r\ndata:  \"x\"}\r\n\r\n\
             data:no space\rid: 7\rretry: 10\r\r\
             data\n\n\
             : comment only\n\n\
             event: ignored without data\n\n\
             data: last, unterminated",
            expect![[r#"
                Some("error") "{\"error\":\n \"x\"}"
                None "no space"
                None ""
                None "last, unterminated"
            "#]],
        );
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let events = parse_in(&[b"data: caf\xc3", b"\xa9 \xff\n\n"], usize::MAX).unwrap();
        assert_eq!(render(&events), "None \"café \u{fffd}\"\n");
    }

    #[test]
    fn oversized_lines_and_events_are_refused() {
        assert_eq!(
            parse_in(&[b"data: 0123", b"456789\n\n"], 8).unwrap_err(),
            ProtocolError::LineTooLong { limit: 8 }
        );
        assert_eq!(
            parse_in(&[b"data: 123\ndata: 456\ndata: 789\n\n"], 8).unwrap_err(),
            ProtocolError::LineTooLong { limit: 8 }
        );
    }

    #[test]
    fn pseudo_random_bytes_never_panic() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let alphabet = b"data: \r\n:[DONE]event{}\xff\xc3";
        for _ in 0..200 {
            let bytes: Vec<u8> = (0..64)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            let whole = parse_in(&[&bytes], 32);
            for split in 0..=bytes.len() {
                let (a, b) = bytes.split_at(split);
                assert_eq!(parse_in(&[a, b], 32), whole);
            }
        }
    }

    #[test]
    fn writing_events() {
        assert_eq!(encode_data("{\"a\":1}"), "data: {\"a\":1}\n\n");
        assert_eq!(encode_data("two\r\nlines"), "data: two\ndata: lines\n\n");
        let events = parse_in(&[encode_data("x\ny").as_bytes(), DONE.as_bytes()], 64).unwrap();
        assert_eq!(render(&events), "None \"x\\ny\"\n[DONE]\n");
        assert_eq!(parse_in(&[KEEP_ALIVE.as_bytes()], 64).unwrap(), Vec::new());
    }
}
