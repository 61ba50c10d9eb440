//! `openai-responses` backends: OpenAI's Responses API (OpenAI's cloud, llama-server's
//! `/v1/responses`). The canonical request is translated with `chat_request_to_responses`
//! and sent statelessly (`store: false`, the whole conversation every time: Hearth keeps the
//! state, so a backend's own store is never relied on); answers and Responses events come back
//! as chat completions and chunks. The base URL includes the version (`…/v1`), as for
//! `openai-completions`.

use hearth_core::config::file::ModelParams;
use hearth_protocol::{
    convert::{ResponsesToOpenAiStream, chat_request_to_responses, response_to_openai},
    openai::{
        chat::{ChatCompletionRequest, ChatCompletionResponse},
        embeddings::{EmbeddingsRequest, EmbeddingsResponse},
        responses::Response,
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
        let request = self.request(request, params, false)?;
        let response = self.endpoint.send(request).await?;
        let answer: Response = super::read_json(
            &self.endpoint.provider,
            response,
            "Responses JSON",
            super::WHOLE_ANSWER,
        )
        .await?;
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
        let request = self.request(request, params, true)?;
        let response = self.endpoint.send(request).await?;
        let converter = ResponsesToOpenAiStream::new(completion_ids(), true);
        super::converted_stream(self.provider(), response, converter)
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
