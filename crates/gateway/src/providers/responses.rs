//! `openai-responses` backends: OpenAI's Responses API (OpenAI's cloud, llama-server's
//! `/v1/responses`). The canonical request is translated with `chat_request_to_responses`
//! and sent statelessly (`store: false`, the whole conversation every time: Hearth keeps the
//! state, so a backend's own store is never relied on); answers and Responses events come back
//! as chat completions and chunks. The base URL includes the version (`…/v1`), as for
//! `openai-completions`.

use futures_util::StreamExt;
use hearth_core::config::file::ModelParams;
use hearth_protocol::{
    convert::{ResponsesToOpenAiStream, chat_request_to_responses, response_to_openai},
    from_json,
    openai::{
        chat::{ChatCompletionRequest, ChatCompletionResponse},
        embeddings::{EmbeddingsRequest, EmbeddingsResponse},
        responses::{Response, StreamEvent},
    },
};

use super::{
    BackendError, ChunkStream, Endpoint, ollama::completion_ids, openai::OpenAiCompletions, shorten,
};

#[derive(Debug, Clone)]
pub struct OpenAiResponses {
    endpoint: Endpoint,
    /// The same server's OpenAI routes other than chat (models, embeddings).
    openai: OpenAiCompletions,
}

impl OpenAiResponses {
    pub fn new(endpoint: Endpoint) -> OpenAiResponses {
        OpenAiResponses {
            openai: OpenAiCompletions::new(endpoint.clone()),
            endpoint,
        }
    }

    pub fn provider_id(&self) -> &str {
        &self.endpoint.provider
    }

    fn provider(&self) -> String {
        self.endpoint.provider.clone()
    }

    fn translate(&self, source: hearth_protocol::ProtocolError) -> BackendError {
        BackendError::Translate {
            provider: self.provider(),
            source,
        }
    }

    /// The canonical request as a stateless Responses request.
    fn request(
        &self,
        request: ChatCompletionRequest,
        params: &ModelParams,
        stream: bool,
    ) -> Result<reqwest::RequestBuilder, BackendError> {
        let mut request =
            chat_request_to_responses(request).map_err(|error| self.translate(error))?;
        request.stream = Some(stream);
        request.store = Some(false);
        if request.temperature.is_none() {
            request.temperature = params.temperature;
        }
        if request.top_p.is_none() {
            request.top_p = params.top_p;
        }
        Ok(self
            .endpoint
            .request(reqwest::Method::POST, "/responses")
            .json(&request))
    }

    pub async fn chat(
        &self,
        request: ChatCompletionRequest,
        params: &ModelParams,
    ) -> Result<ChatCompletionResponse, BackendError> {
        let response = self
            .endpoint
            .send(self.request(request, params, false)?)
            .await?;
        let body = response
            .bytes()
            .await
            .map_err(|error| BackendError::Truncated {
                provider: format!("{} ({})", self.provider(), super::openai::describe(&error)),
            })?;
        let answer: Response = from_json(&body).map_err(|error| BackendError::Garbage {
            provider: self.provider(),
            what: "Responses JSON",
            detail: shorten(&error.to_string(), 200),
        })?;
        if let Some(error) = &answer.error {
            return Err(BackendError::MidStream {
                provider: self.provider(),
                message: shorten(&error.message, 300),
            });
        }
        Ok(response_to_openai(answer, &completion_ids()))
    }

    pub async fn chat_stream(
        &self,
        request: ChatCompletionRequest,
        params: &ModelParams,
    ) -> Result<ChunkStream, BackendError> {
        let response = self
            .endpoint
            .send(self.request(request, params, true)?)
            .await?;
        let provider = self.provider();
        let mut messages = Box::pin(super::sse_messages(provider.clone(), response)?);
        let stream = async_stream::try_stream! {
            let mut converter = ResponsesToOpenAiStream::new(completion_ids(), true);
            while let Some(message) = messages.next().await {
                let (_, data) = message?;
                let event: StreamEvent = from_json(data.as_bytes()).map_err(|error| BackendError::Garbage {
                    provider: provider.clone(),
                    what: "Responses event",
                    detail: shorten(&error.to_string(), 200),
                })?;
                let chunks = converter.push(event).map_err(|error| BackendError::MidStream {
                    provider: provider.clone(),
                    message: shorten(&error.to_string(), 300),
                })?;
                for chunk in chunks {
                    yield chunk;
                }
                if converter.is_finished() {
                    break;
                }
            }
            if !converter.is_finished() {
                Err(BackendError::Truncated { provider: provider.clone() })?;
            }
        };
        Ok(Box::pin(stream))
    }

    /// `/embeddings` and `/models`: a Responses server is an OpenAI server, which has them.
    pub async fn embeddings(
        &self,
        request: &EmbeddingsRequest,
    ) -> Result<EmbeddingsResponse, BackendError> {
        self.openai.embeddings(request).await
    }

    pub async fn list_models(&self) -> Result<Vec<String>, BackendError> {
        self.openai.list_models().await
    }

    pub async fn health(&self) -> Result<(), BackendError> {
        self.openai.health().await
    }
}
