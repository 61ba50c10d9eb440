//! `GET /v1/models`, after OpenAI's API reference ("List models", "The model object").

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `{"object": "list", "data": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelList {
    #[serde(default = "list_object")]
    pub object: String,
    #[serde(default)]
    pub data: Vec<Model>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ModelList {
    pub fn new(data: Vec<Model>) -> Self {
        ModelList {
            object: list_object(),
            data,
            extra: Map::new(),
        }
    }
}

fn list_object() -> String {
    "list".to_owned()
}

fn model_object() -> String {
    "model".to_owned()
}

/// One model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub id: String,
    #[serde(default = "model_object")]
    pub object: String,
    /// Unix seconds; local servers often send 0 or leave it out (read as 0).
    #[serde(default)]
    pub created: u64,
    #[serde(default)]
    pub owned_by: String,
    /// Backend extensions (llama-server's `meta`, LM Studio's `state`…).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Model {
    pub fn new(id: impl Into<String>, created: u64, owned_by: impl Into<String>) -> Self {
        Model {
            id: id.into(),
            object: model_object(),
            created,
            owned_by: owned_by.into(),
            extra: Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::from_json;

    #[test]
    fn published_example_round_trips() {
        // OpenAI API reference, "List models", response example.
        let json = r#"{"object":"list","data":[{"id":"model-id-0","object":"model","created":1686935002,"owned_by":"organization-owner"},{"id":"model-id-1","object":"model","created":1686935002,"owned_by":"organization-owner","meta":{"n_ctx_train":4096}}]}"#;
        let list: ModelList = from_json(json.as_bytes()).unwrap();
        assert_eq!(list.data.len(), 2);
        assert_eq!(serde_json::to_string(&list).unwrap(), json);
    }

    #[test]
    fn sparse_local_server_listing_reads() {
        let list: ModelList = from_json(br#"{"data":[{"id":"qwen3"}]}"#).unwrap();
        assert_eq!(list.data, vec![Model::new("qwen3", 0, "")]);
        assert_eq!(list.object, "list");
    }
}
