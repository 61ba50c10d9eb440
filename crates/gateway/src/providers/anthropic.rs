//! `anthropic-messages` backends: Anthropic's Messages API (Anthropic's cloud; llama-server's
//! `/v1/messages` speaks it too). The canonical request is translated with
//! `chat_request_to_messages` (system messages become `system`, tool results `tool_result`
//! blocks, turns merged to alternate) and answers and Messages events come back as chat
//! completions and chunks. The key goes in `x-api-key` with the `anthropic-version` header,
//! as Anthropic requires. The base URL may name the version (`https://api.anthropic.com/v1`)
//! or not (`https://api.anthropic.com`): `/v1` is added when it is missing.

use hearth_core::config::file::ModelParams;
use hearth_protocol::{
    anthropic::MessagesResponse,
    convert::{AnthropicToOpenAiStream, chat_request_to_messages, messages_response_to_openai},
    from_json,
    openai::{
        chat::{ChatCompletionRequest, ChatCompletionResponse},
        embeddings::{EmbeddingsRequest, EmbeddingsResponse},
    },
};
use serde_json::Value;

use super::{BackendError, ChunkStream, Endpoint, ollama::completion_ids, shorten};

/// The API version Hearth's translation follows.
const ANTHROPIC_VERSION: &str = "2023-06-01";
/// Anthropic requires `max_tokens`; this is what a request that set none gets.
const DEFAULT_MAX_TOKENS: u32 = 4096;

#[derive(Debug, Clone)]
pub struct AnthropicMessages {
    endpoint: Endpoint,
}

impl AnthropicMessages {
    pub fn new(endpoint: Endpoint) -> AnthropicMessages {
        AnthropicMessages { endpoint }
    }

    pub fn provider_id(&self) -> &str {
        &self.endpoint.provider
    }

    fn provider(&self) -> String {
        self.endpoint.provider.clone()
    }

    /// A request to `path` below the versioned base URL, with Anthropic's headers.
    fn build(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let base = self.endpoint.base_url.as_str();
        let url = if base.ends_with("/v1") {
            format!("{base}{path}")
        } else {
            format!("{base}/v1{path}")
        };
        let request = self
            .endpoint
            .http
            .request(method, url)
            .header("anthropic-version", ANTHROPIC_VERSION);
        match &self.endpoint.api_key {
            Some(key) => request.header("x-api-key", key.expose()),
            None => request,
        }
    }

    fn request(
        &self,
        request: ChatCompletionRequest,
        params: &ModelParams,
        stream: bool,
    ) -> Result<reqwest::RequestBuilder, BackendError> {
        let mut request =
            chat_request_to_messages(request, DEFAULT_MAX_TOKENS).map_err(|source| {
                BackendError::Translate {
                    provider: self.provider(),
                    source,
                }
            })?;
        request.stream = Some(stream);
        // Anthropic refuses sampling parameters alongside extended thinking.
        if request.thinking.is_none() {
            request.temperature = request.temperature.or(params.temperature);
            request.top_p = request.top_p.or(params.top_p);
            request.top_k = request.top_k.or(params.top_k);
        }
        Ok(self
            .build(reqwest::Method::POST, "/messages")
            .json(&request))
    }

    pub async fn chat(
        &self,
        request: ChatCompletionRequest,
        params: &ModelParams,
    ) -> Result<ChatCompletionResponse, BackendError> {
        let request = self.request(request, params, false)?;
        let response = self.endpoint.send(request).await?;
        let answer: MessagesResponse = super::read_json(
            &self.endpoint.provider,
            response,
            "Anthropic message JSON",
            super::WHOLE_ANSWER,
        )
        .await?;
        Ok(messages_response_to_openai(answer, &completion_ids()))
    }

    pub async fn chat_stream(
        &self,
        request: ChatCompletionRequest,
        params: &ModelParams,
    ) -> Result<ChunkStream, BackendError> {
        let request = self.request(request, params, true)?;
        let response = self.endpoint.send(request).await?;
        let converter = AnthropicToOpenAiStream::new(completion_ids(), true);
        super::converted_stream(self.provider(), response, converter)
    }

    pub async fn embeddings(
        &self,
        _request: &EmbeddingsRequest,
    ) -> Result<EmbeddingsResponse, BackendError> {
        Err(BackendError::Unsupported {
            provider: self.provider(),
            api: "anthropic-messages (Anthropic has no embeddings API)",
        })
    }

    /// `/v1/models`: `{"data": [{"id": …}, …]}`.
    pub async fn list_models(&self) -> Result<Vec<String>, BackendError> {
        let response = self
            .endpoint
            .send(self.build(reqwest::Method::GET, "/models"))
            .await?;
        let body = self.endpoint.read(response, super::MODEL_LIST).await?;
        let list: Value = from_json(&body).map_err(|error| BackendError::Garbage {
            provider: self.provider(),
            what: "model list",
            detail: shorten(&error.to_string(), 200),
        })?;
        Ok(list["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|model| model["id"].as_str().map(str::to_owned))
            .collect())
    }

    pub async fn health(&self) -> Result<(), BackendError> {
        self.endpoint
            .send(self.build(reqwest::Method::GET, "/models"))
            .await
            .map(|_| ())
    }
}
