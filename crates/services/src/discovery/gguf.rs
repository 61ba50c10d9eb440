//! The key/value header of a GGUF file (ggml's format: magic `GGUF`, a u32 version, u64 tensor
//! and key/value counts, then the key/value pairs), read without touching the tensors.
//!
//! A model file may be anything a user downloaded, so every length is bounded before it is
//! trusted: at most [`MAX_KV`] pairs, keys and the strings we keep at most [`MAX_STRING`]
//! bytes, nested arrays at most [`MAX_DEPTH`] deep, and nothing read past [`MAX_HEADER`] bytes
//! into the file. Values we do not need (the tokenizer's vocabulary, the chat template's text)
//! are skipped by seeking; only string arrays need their element lengths read one by one.

use std::{
    fs::File,
    io::{self, BufReader, Read, Seek, SeekFrom},
    path::Path,
};

use serde::{Deserialize, Serialize};

/// Most key/value pairs a header may declare (real models have a few dozen).
pub const MAX_KV: u64 = 65_536;
/// Longest key, and longest string value kept.
pub const MAX_STRING: u64 = 1024 * 1024;
/// How far into the file the header may reach (a vocabulary of 256k tokens is a few MiB).
pub const MAX_HEADER: u64 = 256 * 1024 * 1024;
/// How deep arrays of arrays may nest.
pub const MAX_DEPTH: u32 = 3;

const STRING: u32 = 8;
const ARRAY: u32 = 9;

/// What the header says about the model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GgufInfo {
    /// The format version (2 or 3).
    pub version: u32,
    /// `general.architecture`, e.g. `llama`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// `general.name`, e.g. `SmolLM2 135M Instruct`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `<architecture>.context_length`: the context the model was trained for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
    /// Whether `tokenizer.chat_template` is present; a model without one is a base model.
    pub chat_template: bool,
}

/// Why a header could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    #[error("cannot read it: {0}")]
    Io(#[from] io::Error),
    #[error("it is not a GGUF file (no `GGUF` magic)")]
    NotGguf,
    #[error("GGUF version {0} is not supported (2 and 3 are)")]
    Version(u32),
    #[error("its header ends early (truncated or corrupt)")]
    Truncated,
    #[error("its header declares {0} key/values (more than {MAX_KV}): corrupt")]
    TooManyKeys(u64),
    #[error("its header has a {0}-byte key (more than {MAX_STRING}): corrupt")]
    KeyTooLong(u64),
    #[error("its header has a value of unknown type {0}: corrupt")]
    UnknownType(u32),
    #[error("its header nests arrays more than {MAX_DEPTH} deep: corrupt")]
    TooDeep,
    #[error("its header reaches past {MAX_HEADER} bytes: corrupt")]
    TooLarge,
}

/// Reads the header of the GGUF file at `path`.
pub fn read(path: &Path) -> Result<GgufInfo, GgufError> {
    parse(BufReader::new(File::open(path)?))
}

/// Reads a GGUF header from `reader`, positioned at the start of the file.
pub fn parse<R: Read + Seek>(reader: R) -> Result<GgufInfo, GgufError> {
    let mut header = Header {
        reader,
        position: 0,
    };
    if header.bytes::<4>()? != *b"GGUF" {
        return Err(GgufError::NotGguf);
    }
    let version = header.u32()?;
    if !matches!(version, 2 | 3) {
        return Err(GgufError::Version(version));
    }
    let _tensors = header.u64()?;
    let count = header.u64()?;
    if count > MAX_KV {
        return Err(GgufError::TooManyKeys(count));
    }
    let mut info = GgufInfo {
        version,
        ..GgufInfo::default()
    };
    // `<arch>.context_length` may come before `general.architecture`: keep them all (bounded
    // by the key count) and pick once the architecture is known.
    let mut context_lengths: Vec<(String, u64)> = Vec::new();
    for _ in 0..count {
        let length = header.u64()?;
        if length > MAX_STRING {
            return Err(GgufError::KeyTooLong(length));
        }
        let key = header.string(length)?;
        let kind = header.u32()?;
        match key.as_str() {
            "general.architecture" | "general.name" if kind == STRING => {
                let length = header.u64()?;
                let value = if length <= MAX_STRING {
                    Some(header.string(length)?)
                } else {
                    header.skip(length)?;
                    None
                };
                if key == "general.architecture" {
                    info.architecture = value;
                } else {
                    info.name = value;
                }
            }
            "tokenizer.chat_template" => {
                info.chat_template = true;
                header.skip_value(kind, 0)?;
            }
            _ => match key.strip_suffix(".context_length") {
                Some(architecture) => {
                    if let Some(value) = header.integer(kind)? {
                        context_lengths.push((architecture.to_owned(), value));
                    }
                }
                None => header.skip_value(kind, 0)?,
            },
        }
    }
    let end = header.reader.seek(SeekFrom::End(0))?;
    if header.position > end {
        return Err(GgufError::Truncated);
    }
    info.context_length = info.architecture.as_deref().and_then(|architecture| {
        context_lengths
            .iter()
            .find(|(prefix, _)| prefix == architecture)
            .map(|(_, value)| *value)
    });
    Ok(info)
}

/// The size in bytes of a fixed-size value type, `None` for strings and arrays.
fn fixed_size(kind: u32) -> Result<Option<u64>, GgufError> {
    Ok(Some(match kind {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        10..=12 => 8,
        STRING | ARRAY => return Ok(None),
        other => return Err(GgufError::UnknownType(other)),
    }))
}

struct Header<R> {
    reader: R,
    /// Bytes consumed so far, to enforce [`MAX_HEADER`].
    position: u64,
}

impl<R: Read + Seek> Header<R> {
    fn advance(&mut self, by: u64) -> Result<(), GgufError> {
        self.position = self.position.saturating_add(by);
        if self.position > MAX_HEADER {
            return Err(GgufError::TooLarge);
        }
        Ok(())
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], GgufError> {
        let mut buffer = [0; N];
        self.reader.read_exact(&mut buffer).map_err(eof)?;
        self.advance(N as u64)?;
        Ok(buffer)
    }

    fn u32(&mut self) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }

    fn u64(&mut self) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }

    /// A string of `length` bytes (already checked against [`MAX_STRING`]).
    fn string(&mut self, length: u64) -> Result<String, GgufError> {
        self.advance(length)?;
        let mut buffer = Vec::new();
        (&mut self.reader)
            .take(length)
            .read_to_end(&mut buffer)
            .map_err(eof)?;
        if buffer.len() as u64 != length {
            return Err(GgufError::Truncated);
        }
        Ok(String::from_utf8_lossy(&buffer).into_owned())
    }

    /// Moves past `length` bytes without reading them. Seeking past the end is allowed by the
    /// OS: the next read then fails as truncated, and `parse` ends by checking the header fits
    /// in the file.
    fn skip(&mut self, length: u64) -> Result<(), GgufError> {
        self.advance(length)?;
        let offset = i64::try_from(length).map_err(|_| GgufError::TooLarge)?;
        self.reader.seek_relative(offset)?;
        Ok(())
    }

    /// An integer value of any integer type, `None` (skipped) for other types or a negative one.
    fn integer(&mut self, kind: u32) -> Result<Option<u64>, GgufError> {
        Ok(match kind {
            0 => Some(u64::from(self.bytes::<1>()?[0])),
            1 => u64::try_from(i8::from_le_bytes(self.bytes()?)).ok(),
            2 => Some(u64::from(u16::from_le_bytes(self.bytes()?))),
            3 => u64::try_from(i16::from_le_bytes(self.bytes()?)).ok(),
            4 => Some(u64::from(self.u32()?)),
            5 => u64::try_from(i32::from_le_bytes(self.bytes()?)).ok(),
            10 => Some(self.u64()?),
            11 => u64::try_from(i64::from_le_bytes(self.bytes()?)).ok(),
            other => {
                self.skip_value(other, 0)?;
                None
            }
        })
    }

    fn skip_value(&mut self, kind: u32, depth: u32) -> Result<(), GgufError> {
        if let Some(size) = fixed_size(kind)? {
            return self.skip(size);
        }
        if kind == STRING {
            let length = self.u64()?;
            return self.skip(length);
        }
        if depth >= MAX_DEPTH {
            return Err(GgufError::TooDeep);
        }
        let element = self.u32()?;
        let count = self.u64()?;
        match fixed_size(element)? {
            Some(size) => self.skip(count.checked_mul(size).ok_or(GgufError::TooLarge)?),
            None => {
                // Each element takes at least 8 bytes (a length or a type), so MAX_HEADER
                // ends a hostile count long before it could loop for long.
                for _ in 0..count {
                    self.skip_value(element, depth + 1)?;
                }
                Ok(())
            }
        }
    }
}

fn eof(error: io::Error) -> GgufError {
    if error.kind() == io::ErrorKind::UnexpectedEof {
        GgufError::Truncated
    } else {
        GgufError::Io(error)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use expect_test::{Expect, expect};

    use super::*;

    /// A GGUF header as the spec lays it out, built from typed pairs.
    #[derive(Default)]
    struct Writer(Vec<u8>);

    impl Writer {
        fn header(version: u32, count: u64) -> Writer {
            let mut writer = Writer::default();
            writer.0.extend_from_slice(b"GGUF");
            writer.0.extend_from_slice(&version.to_le_bytes());
            writer.0.extend_from_slice(&0u64.to_le_bytes());
            writer.0.extend_from_slice(&count.to_le_bytes());
            writer
        }
        fn string(mut self, text: &str) -> Self {
            self.0.extend_from_slice(&(text.len() as u64).to_le_bytes());
            self.0.extend_from_slice(text.as_bytes());
            self
        }
        fn kind(mut self, kind: u32) -> Self {
            self.0.extend_from_slice(&kind.to_le_bytes());
            self
        }
        fn raw(mut self, bytes: &[u8]) -> Self {
            self.0.extend_from_slice(bytes);
            self
        }
    }

    fn check(bytes: Vec<u8>, expected: Expect) {
        let result = match parse(Cursor::new(bytes)) {
            Ok(info) => format!("{info:?}"),
            Err(error) => format!("error: {error}"),
        };
        expected.assert_eq(&result);
    }

    #[test]
    fn the_model_facts_are_read_and_everything_else_is_skipped() {
        let bytes = Writer::header(3, 7)
            .string("llama.context_length") // before the architecture
            .kind(4)
            .raw(&8192u32.to_le_bytes())
            .string("general.architecture")
            .kind(STRING)
            .string("llama")
            .string("general.name")
            .kind(STRING)
            .string("Tiny Chat")
            .string("tokenizer.ggml.tokens")
            .kind(ARRAY)
            .kind(STRING)
            .raw(&3u64.to_le_bytes())
            .string("<s>")
            .string("</s>")
            .string("hi")
            .string("tokenizer.ggml.scores")
            .kind(ARRAY)
            .kind(6)
            .raw(&2u64.to_le_bytes())
            .raw(&[0; 8])
            .string("tokenizer.chat_template")
            .kind(STRING)
            .string("{% for m in messages %}{{ m.content }}{% endfor %}")
            .string("general.quantized")
            .kind(7)
            .raw(&[1]);
        check(
            bytes.0,
            expect![[
                r#"GgufInfo { version: 3, architecture: Some("llama"), name: Some("Tiny Chat"), context_length: Some(8192), chat_template: true }"#
            ]],
        );
    }

    #[test]
    fn a_base_model_has_no_chat_template_and_v2_is_read_too() {
        let bytes = Writer::header(2, 2)
            .string("general.architecture")
            .kind(STRING)
            .string("qwen2")
            .string("qwen2.context_length")
            .kind(10)
            .raw(&32_768u64.to_le_bytes());
        check(
            bytes.0,
            expect![[
                r#"GgufInfo { version: 2, architecture: Some("qwen2"), name: None, context_length: Some(32768), chat_template: false }"#
            ]],
        );
    }

    #[test]
    fn broken_and_hostile_headers_are_errors_not_allocations() {
        check(
            b"GGML....".to_vec(),
            expect!["error: it is not a GGUF file (no `GGUF` magic)"],
        );
        check(
            Writer::header(1, 0).0,
            expect!["error: GGUF version 1 is not supported (2 and 3 are)"],
        );
        let truncated = Writer::header(3, 2)
            .string("general.architecture")
            .kind(STRING);
        check(
            truncated.0,
            expect!["error: its header ends early (truncated or corrupt)"],
        );
        check(
            Writer::header(3, u64::MAX).0,
            expect![
                "error: its header declares 18446744073709551615 key/values (more than 65536): corrupt"
            ],
        );
        let huge_key = Writer::header(3, 1).raw(&(1u64 << 40).to_le_bytes());
        check(
            huge_key.0,
            expect!["error: its header has a 1099511627776-byte key (more than 1048576): corrupt"],
        );
        let huge_array = Writer::header(3, 1)
            .string("tokenizer.ggml.scores")
            .kind(ARRAY)
            .kind(6)
            .raw(&(u64::MAX / 2).to_le_bytes());
        check(
            huge_array.0,
            expect!["error: its header reaches past 268435456 bytes: corrupt"],
        );
        let endless_strings = Writer::header(3, 1)
            .string("tokenizer.ggml.tokens")
            .kind(ARRAY)
            .kind(STRING)
            .raw(&u64::MAX.to_le_bytes());
        check(
            endless_strings.0,
            expect!["error: its header ends early (truncated or corrupt)"],
        );
        // The last value runs past the end of the file: skipped by seeking, still caught.
        let cut_template = Writer::header(3, 1)
            .string("tokenizer.chat_template")
            .kind(STRING)
            .raw(&100u64.to_le_bytes())
            .raw(b"{% for");
        check(
            cut_template.0,
            expect!["error: its header ends early (truncated or corrupt)"],
        );
        let unknown = Writer::header(3, 1).string("x").kind(13);
        check(
            unknown.0,
            expect!["error: its header has a value of unknown type 13: corrupt"],
        );
        let deep = Writer::header(3, 1)
            .string("x")
            .kind(ARRAY)
            .kind(ARRAY)
            .raw(&1u64.to_le_bytes())
            .kind(ARRAY)
            .raw(&1u64.to_le_bytes())
            .kind(ARRAY)
            .raw(&1u64.to_le_bytes())
            .kind(ARRAY)
            .raw(&1u64.to_le_bytes());
        check(
            deep.0,
            expect!["error: its header nests arrays more than 3 deep: corrupt"],
        );
    }
}
