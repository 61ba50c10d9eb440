//! `POST /v1/embeddings`, after OpenAI's API reference ("Create embeddings", "The embedding
//! object"). Hearth passes embeddings through: the shapes name what routing needs and keep the
//! rest (`input` and each `embedding` stay JSON values: strings, token arrays, floats or base64).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An embeddings request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingsRequest {
    pub model: String,
    /// A string, an array of strings, or token arrays.
    pub input: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An embeddings response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingsResponse {
    #[serde(default = "list_object")]
    pub object: String,
    #[serde(default)]
    pub data: Vec<Embedding>,
    #[serde(default)]
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<EmbeddingsUsage>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn list_object() -> String {
    "list".to_owned()
}

/// One vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    #[serde(default)]
    pub index: u32,
    /// An array of floats, or a base64 string with `encoding_format: "base64"`.
    pub embedding: Value,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Token counts of an embeddings call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingsUsage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::from_json;

    #[test]
    fn published_examples_round_trip() {
        // OpenAI API reference, "Create embeddings": request and response examples.
        let request = r#"{"model":"text-embedding-ada-002","input":"The food was delicious and the waiter...","encoding_format":"float","user":"u1"}"#;
        let parsed: EmbeddingsRequest = from_json(request.as_bytes()).unwrap();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), request);

        let response = r#"{"object":"list","data":[{"index":0,"embedding":[0.0023064255,-0.009327292,-0.0028842222],"object":"embedding"}],"model":"text-embedding-ada-002","usage":{"prompt_tokens":8,"total_tokens":8}}"#;
        let parsed: EmbeddingsResponse = from_json(response.as_bytes()).unwrap();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), response);
    }

    #[test]
    fn missing_input_is_refused() {
        let error = from_json::<EmbeddingsRequest>(br#"{"model":"m"}"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid JSON: missing field `input` at line 1 column 13"
        );
    }
}
