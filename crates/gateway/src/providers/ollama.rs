//! `ollama` backends, over Ollama's native API: `/api/chat` for chat (never its `/v1`, which
//! ignores `keep_alive`), `/api/tags` and `/api/ps` for what is on disk and in memory,
//! `/api/version` for health, and `/api/generate` with `keep_alive: 0` to unload a model.
//!
//! Requests are translated by hearth-protocol's `chat_request_to_ollama`, then the model's
//! configured parameters fill what the client left unset. `keep_alive` is always sent, `24h`
//! unless the config says otherwise: Ollama unloads an idle model after five minutes, and the
//! next request then pays a cold load. `stream` is always sent too, because Ollama streams
//! unless told not to.
//!
//! Answers come back through `chat_response_to_openai`, or line by line through
//! `OllamaToOpenAiStream` as NDJSON arrives; a stream always ends with a usage chunk, like the
//! `openai-completions` backend's (the client's own `include_usage` is honoured where the
//! stream is handed on). Completion ids and timestamps are made here, since hearth-protocol
//! reads no clock.

use std::{
    hash::{BuildHasher, Hasher, RandomState},
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use futures_util::StreamExt;
use hearth_core::config::file::ModelParams;
use hearth_protocol::openai::embeddings::{
    Embedding, EmbeddingsRequest, EmbeddingsResponse, EmbeddingsUsage,
};
use hearth_protocol::{
    ProtocolError,
    convert::{
        CompletionIds, OllamaToOpenAiStream, chat_request_to_ollama, chat_response_to_openai,
    },
    framing::NdjsonSplitter,
    from_json,
    ollama::{
        ChatRequest, ChatResponse, GenerateRequest, GenerateResponse, KeepAlive, ListResponse,
        PsResponse, StreamLine, Think, VersionResponse,
    },
    openai::chat::{ChatCompletionRequest, ChatCompletionResponse},
};
use serde::de::DeserializeOwned;

use super::{BackendError, ChunkStream, Endpoint, openai::describe, shorten};

/// What Hearth sends as `keep_alive` when the model's config names none.
pub const DEFAULT_KEEP_ALIVE: &str = "24h";

#[derive(Debug, Clone)]
pub struct Ollama {
    endpoint: Endpoint,
}

impl Ollama {
    pub fn new(endpoint: Endpoint) -> Ollama {
        Ollama { endpoint }
    }

    fn provider(&self) -> String {
        self.endpoint.provider.clone()
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.endpoint.request(method, path)
    }

    fn garbage(&self, what: &'static str, error: &ProtocolError) -> BackendError {
        garbage(&self.endpoint.provider, what, error)
    }

    /// Sends `request`; an error status becomes [`BackendError::Status`] with Ollama's own
    /// `{"error": "..."}` message.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, BackendError> {
        self.endpoint.send(request).await
    }

    /// The whole body of a successful answer, up to `limit`.
    async fn body(
        &self,
        response: reqwest::Response,
        limit: super::Limit,
    ) -> Result<Vec<u8>, BackendError> {
        self.endpoint.read(response, limit).await
    }

    /// One JSON object of a non-streamed answer. An `{"error": ...}` in its place, after a
    /// success status, means the request was accepted and then failed while running: that is
    /// reported as [`BackendError::MidStream`], like the same line in a stream.
    async fn answer<T: DeserializeOwned>(
        &self,
        response: reqwest::Response,
        what: &'static str,
    ) -> Result<T, BackendError> {
        let body = self.body(response, super::WHOLE_ANSWER).await?;
        let text = std::str::from_utf8(&body).map_err(|error| BackendError::Garbage {
            provider: self.provider(),
            what,
            detail: error.to_string(),
        })?;
        match StreamLine::<T>::parse(text).map_err(|error| self.garbage(what, &error))? {
            StreamLine::Chunk(answer) => Ok(answer),
            StreamLine::Error(message) => Err(BackendError::MidStream {
                provider: self.provider(),
                message: shorten(&message, 300),
            }),
        }
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        what: &'static str,
    ) -> Result<T, BackendError> {
        let response = self.send(self.request(reqwest::Method::GET, path)).await?;
        let body = self.body(response, super::MODEL_LIST).await?;
        from_json(&body).map_err(|error| self.garbage(what, &error))
    }

    /// The native request for `request`, with the model's parameters and `stream` set.
    fn chat_request(
        &self,
        request: ChatCompletionRequest,
        params: &ModelParams,
        stream: bool,
    ) -> Result<ChatRequest, BackendError> {
        let mut native =
            chat_request_to_ollama(request).map_err(|source| BackendError::Translate {
                provider: self.provider(),
                source,
            })?;
        native.stream = Some(stream);
        apply_params(&mut native, params);
        Ok(native)
    }

    pub async fn chat(
        &self,
        request: ChatCompletionRequest,
        params: &ModelParams,
    ) -> Result<ChatCompletionResponse, BackendError> {
        let native = self.chat_request(request, params, false)?;
        let post = self
            .request(reqwest::Method::POST, "/api/chat")
            .json(&native);
        let response = self.send(post).await?;
        let answer: ChatResponse = self.answer(response, "Ollama chat response").await?;
        Ok(chat_response_to_openai(answer, &completion_ids()))
    }

    /// Resolves once Ollama answered with a success status; the chunks then follow the NDJSON
    /// lines as they arrive. An `{"error": ...}` line ends the stream with
    /// [`BackendError::MidStream`], a body that ends before the `done: true` line with
    /// [`BackendError::Truncated`], a line that is not a chat chunk with
    /// [`BackendError::Garbage`].
    pub async fn chat_stream(
        &self,
        request: ChatCompletionRequest,
        params: &ModelParams,
    ) -> Result<ChunkStream, BackendError> {
        let native = self.chat_request(request, params, true)?;
        let post = self
            .request(reqwest::Method::POST, "/api/chat")
            .json(&native);
        let response = self.send(post).await?;
        let provider = self.provider();
        let mut bytes = response.bytes_stream();
        let mut converter = OllamaToOpenAiStream::new(completion_ids(), true);
        let stream = async_stream::try_stream! {
            let mut splitter = NdjsonSplitter::default();
            let mut ended = false;
            while !ended {
                let lines = match bytes.next().await {
                    Some(Ok(chunk)) => splitter
                        .feed(&chunk)
                        .map_err(|error| garbage(&provider, "NDJSON", &error))?,
                    Some(Err(error)) => {
                        // The connection broke: Ollama never finished the answer.
                        let detail = describe(&error);
                        tracing::debug!(%provider, %detail, "Ollama stream cut short");
                        Err::<(), _>(BackendError::Truncated { provider: provider.clone() })?;
                        Vec::new()
                    }
                    None => {
                        ended = true;
                        splitter
                            .finish()
                            .map_err(|error| garbage(&provider, "NDJSON", &error))?
                            .into_iter()
                            .collect()
                    }
                };
                for line in lines {
                    let parsed = StreamLine::<ChatResponse>::parse(&line)
                        .map_err(|error| garbage(&provider, "Ollama chat chunk", &error))?;
                    match parsed {
                        StreamLine::Chunk(chunk) => {
                            for out in converter.push(chunk) {
                                yield out;
                            }
                        }
                        StreamLine::Error(message) => {
                            Err::<(), _>(BackendError::MidStream {
                                provider: provider.clone(),
                                message: shorten(&message, 300),
                            })?;
                        }
                    }
                    if converter.is_finished() {
                        // Anything after `done` is not part of this answer.
                        ended = true;
                        break;
                    }
                }
            }
            if !converter.is_finished() {
                Err::<(), _>(BackendError::Truncated { provider: provider.clone() })?;
            }
        };
        Ok(Box::pin(stream))
    }

    /// The models on disk (`/api/tags`), by name (`llama3.2:latest`).
    pub async fn list_models(&self) -> Result<Vec<String>, BackendError> {
        let tags = self.tags().await?;
        Ok(tags.models.into_iter().map(|model| model.name).collect())
    }

    /// `/api/tags`: the models on disk, with sizes and details.
    pub async fn tags(&self) -> Result<ListResponse, BackendError> {
        self.get_json("/api/tags", "Ollama model list").await
    }

    /// `/api/ps`: the models in memory now, with their sizes and when they unload.
    pub async fn running(&self) -> Result<PsResponse, BackendError> {
        self.get_json("/api/ps", "Ollama running-model list").await
    }

    /// `/api/version`: the server's version.
    pub async fn version(&self) -> Result<String, BackendError> {
        let version: VersionResponse = self.get_json("/api/version", "Ollama version").await?;
        Ok(version.version)
    }

    /// Healthy when `/api/version` answers like Ollama does.
    pub async fn health(&self) -> Result<(), BackendError> {
        self.version().await.map(|_| ())
    }

    /// Embeddings through Ollama's `/api/embed` (`{model, input}` → `{embeddings: [[…]]}`),
    /// answered in OpenAI's shape.
    pub async fn embeddings(
        &self,
        request: &EmbeddingsRequest,
    ) -> Result<EmbeddingsResponse, BackendError> {
        let body = serde_json::json!({
            "model": request.model,
            "input": request.input,
            "keep_alive": DEFAULT_KEEP_ALIVE,
        });
        let post = self
            .request(reqwest::Method::POST, "/api/embed")
            .json(&body);
        let response = self.send(post).await?;
        let answer: serde_json::Value = self.answer(response, "Ollama embed response").await?;
        let Some(vectors) = answer
            .get("embeddings")
            .and_then(serde_json::Value::as_array)
        else {
            return Err(BackendError::Garbage {
                provider: self.provider(),
                what: "Ollama embed response",
                detail: "no `embeddings` array".to_owned(),
            });
        };
        let tokens = answer
            .get("prompt_eval_count")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        Ok(EmbeddingsResponse {
            object: "list".to_owned(),
            data: vectors
                .iter()
                .zip(0..)
                .map(|(vector, index)| Embedding {
                    index,
                    embedding: vector.clone(),
                    extra: serde_json::Map::new(),
                })
                .collect(),
            model: request.model.clone(),
            usage: Some(EmbeddingsUsage {
                prompt_tokens: tokens,
                total_tokens: tokens,
                extra: serde_json::Map::new(),
            }),
            extra: serde_json::Map::new(),
        })
    }

    /// Unloads `model` from memory now: Ollama's documented empty `/api/generate` with
    /// `keep_alive: 0`. A model that is not loaded unloads as a no-op; one that does not exist
    /// is a 404 [`BackendError::Status`].
    pub async fn unload(&self, model: &str) -> Result<(), BackendError> {
        let request = GenerateRequest {
            model: model.to_owned(),
            stream: Some(false),
            keep_alive: Some(KeepAlive::Seconds(0.into())),
            ..GenerateRequest::default()
        };
        let post = self
            .request(reqwest::Method::POST, "/api/generate")
            .json(&request);
        let response = self.send(post).await?;
        let _: GenerateResponse = self.answer(response, "Ollama unload response").await?;
        Ok(())
    }
}

/// The model's configured parameters fill what the client left unset; `keep_alive` is always
/// the config's (OpenAI requests have no such field), `24h` by default.
fn apply_params(request: &mut ChatRequest, params: &ModelParams) {
    let keep_alive = params
        .keep_alive
        .map_or_else(|| DEFAULT_KEEP_ALIVE.to_owned(), |spec| spec.to_string());
    request.keep_alive = Some(KeepAlive::Duration(keep_alive));
    if request.think.is_none() {
        request.think = params.think.map(Think::Enabled);
    }
    let mut options = request.options.take().unwrap_or_default();
    options.temperature = options.temperature.or(params.temperature);
    options.top_p = options.top_p.or(params.top_p);
    options.top_k = options.top_k.or(params.top_k.map(i64::from));
    options.seed = options.seed.or(params.seed);
    request.options = (!options.is_empty()).then_some(options);
}

fn garbage(provider: &str, what: &'static str, error: &ProtocolError) -> BackendError {
    BackendError::Garbage {
        provider: provider.to_owned(),
        what,
        detail: shorten(&error.to_string(), 200),
    }
}

/// A fresh completion id (`chatcmpl-` and 16 hex digits) and the current Unix time. The id is
/// a process-wide counter hashed by std's randomly keyed SipHash: 64 random-looking bits that
/// differ from call to call and from run to run, without another dependency. Ids only need
/// to be distinct, not secret.
pub(crate) fn completion_ids() -> CompletionIds {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(NEXT.fetch_add(1, Ordering::Relaxed));
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    CompletionIds::new(format!("chatcmpl-{:016x}", hasher.finish()), created)
}
