//! Parsing a body into a wire type, with the JSON path of the first problem.

use serde::de::DeserializeOwned;

use crate::ProtocolError;
use crate::error::excerpt;

/// serde's messages quote offending strings in full; keep them short.
const MAX_MESSAGE_CHARS: usize = 300;

/// Parse `json` into `T`, reporting where it went wrong (`messages[2].content: …`).
pub fn from_json<T: DeserializeOwned>(json: &[u8]) -> Result<T, ProtocolError> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        ProtocolError::InvalidJson {
            path: error.path().to_string(),
            message: excerpt(&error.inner().to_string(), MAX_MESSAGE_CHARS),
        }
    })?;
    deserializer
        .end()
        .map_err(|error| ProtocolError::InvalidJson {
            path: String::new(),
            message: error.to_string(),
        })?;
    Ok(value)
}

/// Deserialize an already-parsed value into `T`, with the same path reporting.
pub(crate) fn from_value<T: DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, ProtocolError> {
    serde_path_to_error::deserialize(value).map_err(|error| ProtocolError::InvalidJson {
        path: error.path().to_string(),
        message: excerpt(&error.inner().to_string(), MAX_MESSAGE_CHARS),
    })
}
