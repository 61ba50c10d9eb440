//! NDJSON framing: any bytes, cut anywhere, give the same lines and fail alike (see
//! [`crate::same_framing`]), under the default bound and under a tiny one; no line is blank or
//! holds a line feed.

use hearth_protocol::framing::DEFAULT_MAX_LINE_BYTES;

use crate::{chunks, ndjson_lines, same_framing};

pub fn run(data: &[u8]) {
    for max_bytes in [DEFAULT_MAX_LINE_BYTES, 24] {
        let bytewise = ndjson_lines(max_bytes, data.chunks(1));
        let cuts = [
            ("whole", ndjson_lines(max_bytes, [data])),
            ("random chunks", ndjson_lines(max_bytes, chunks(data))),
        ];
        same_framing(&bytewise, &cuts);
        for line in &bytewise.0 {
            let blank = line.bytes().all(|byte| byte.is_ascii_whitespace());
            assert!(!line.contains('\n') && !blank, "{line:?}");
        }
    }
}
