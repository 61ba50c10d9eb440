//! Newline-delimited JSON, as Ollama streams: one JSON document per line. The splitter only
//! cuts lines (LF, with an optional CR before it) and skips blank ones; parsing each line is the
//! caller's (see [`crate::ollama::StreamLine`]).

use super::DEFAULT_MAX_LINE_BYTES;
use crate::ProtocolError;

/// A push splitter: [`feed`](Self::feed) it bytes as they arrive, get complete lines.
#[derive(Debug)]
pub struct NdjsonSplitter {
    buffer: Vec<u8>,
    /// How much of `buffer` is known to hold no newline.
    scanned: usize,
    max_bytes: usize,
}

impl Default for NdjsonSplitter {
    fn default() -> Self {
        NdjsonSplitter::new(DEFAULT_MAX_LINE_BYTES)
    }
}

impl NdjsonSplitter {
    /// A splitter refusing lines longer than `max_bytes`.
    pub fn new(max_bytes: usize) -> Self {
        NdjsonSplitter {
            buffer: Vec::new(),
            scanned: 0,
            max_bytes,
        }
    }

    /// The lines completed by `bytes`, without their line ending; blank lines are skipped.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<String>, ProtocolError> {
        self.buffer.extend_from_slice(bytes);
        let mut lines = Vec::new();
        let mut start = 0;
        while let Some(offset) = self.buffer[self.scanned..].iter().position(|&b| b == b'\n') {
            let end = self.scanned + offset;
            // Each line, not only what is left buffered: a long line must not pass because
            // the chunk that brought its end also brought its newline.
            if end - start > self.max_bytes {
                return Err(self.too_long());
            }
            if let Some(line) = line_of(&self.buffer[start..end])? {
                lines.push(line);
            }
            start = end + 1;
            self.scanned = start;
        }
        self.buffer.drain(..start);
        self.scanned = self.buffer.len();
        if self.buffer.len() > self.max_bytes {
            return Err(self.too_long());
        }
        Ok(lines)
    }

    /// Drops what is buffered: the body is broken from here on.
    fn too_long(&mut self) -> ProtocolError {
        self.buffer.clear();
        self.scanned = 0;
        ProtocolError::LineTooLong {
            limit: self.max_bytes,
        }
    }

    /// The end of the body: a last line without a newline, if any.
    pub fn finish(&mut self) -> Result<Option<String>, ProtocolError> {
        let rest = std::mem::take(&mut self.buffer);
        self.scanned = 0;
        line_of(&rest)
    }
}

fn line_of(bytes: &[u8]) -> Result<Option<String>, ProtocolError> {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match std::str::from_utf8(bytes) {
        Ok(line) => Ok(Some(line.to_owned())),
        Err(error) => Err(ProtocolError::InvalidUtf8 {
            valid_up_to: error.valid_up_to(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    fn split_in(chunks: &[&[u8]], max: usize) -> Result<Vec<String>, ProtocolError> {
        let mut splitter = NdjsonSplitter::new(max);
        let mut lines = Vec::new();
        for chunk in chunks {
            lines.extend(splitter.feed(chunk)?);
        }
        lines.extend(splitter.finish()?);
        Ok(lines)
    }

    /// Split `stream` whole, then check that every split into two chunks, every split into
    /// three, and byte-by-byte feeding give the same lines.
    fn check(stream: &str, expect: Expect) {
        let bytes = stream.as_bytes();
        let whole = split_in(&[bytes], usize::MAX).unwrap();
        for first in 0..=bytes.len() {
            let (a, rest) = bytes.split_at(first);
            assert_eq!(split_in(&[a, rest], usize::MAX).unwrap(), whole);
            for second in 0..=rest.len() {
                let (b, c) = rest.split_at(second);
                assert_eq!(split_in(&[a, b, c], usize::MAX).unwrap(), whole);
            }
        }
        let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(split_in(&bytewise, usize::MAX).unwrap(), whole);
        expect.assert_eq(&(whole.join("\n") + "\n"));
    }

    #[test]
    fn ollama_stream() {
        // docs/api.md, "Chat Request (Streaming)": chunks, then the final one, with a
        // multi-byte character and CRLF endings thrown in.
        check(
            "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"The\"},\"done\":false}\n\
             {\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\" ciel é 🦀\"},\"done\":false}\r\n\
             \r\n   \n\
             {\"model\":\"llama3.2\",\"done\":true,\"eval_count\":282}",
            expect![[r#"
                {"model":"llama3.2","message":{"role":"assistant","content":"The"},"done":false}
                {"model":"llama3.2","message":{"role":"assistant","content":" ciel é 🦀"},"done":false}
                {"model":"llama3.2","done":true,"eval_count":282}
            "#]],
        );
    }

    #[test]
    fn bad_lines_are_refused() {
        assert_eq!(
            split_in(&[b"{\"a\":\"\xff\"}\n"], 64).unwrap_err(),
            ProtocolError::InvalidUtf8 { valid_up_to: 6 }
        );
        assert_eq!(
            split_in(&[b"0123456789", b"0123456789"], 16).unwrap_err(),
            ProtocolError::LineTooLong { limit: 16 }
        );
        // Many short lines in one chunk are fine whatever the limit.
        assert_eq!(split_in(&[b"1\n2\n3\n4\n5\n6\n"], 2).unwrap().len(), 6);
    }

    /// Found by fuzzing (fuzz/ `ndjson_framing`): a line over the limit passed when its end
    /// came in the chunk that completed it, so the same body was refused or not depending on
    /// where the network cut it.
    #[test]
    fn a_long_line_is_refused_wherever_it_ends() {
        let too_long = Err(ProtocolError::LineTooLong { limit: 8 });
        assert_eq!(split_in(&[b"0123456789\n"], 8), too_long);
        assert_eq!(split_in(&[b"01234", b"56789\n"], 8), too_long);
        assert_eq!(split_in(&[b"1\n0123456789\n2\n"], 8), too_long);
        // The limit counts the bytes before the newline, as a line still coming in is counted.
        assert_eq!(split_in(&[b"01234567\n"], 8).unwrap(), ["01234567"]);
        assert_eq!(split_in(&[b"0123456\r\n"], 8).unwrap(), ["0123456"]);
    }
}
