//! `openai-completions` backends: mlx_lm.server, llama-server, LM Studio, vLLM, exo. The
//! gateway's canonical form is this protocol, so requests pass through with the model id set,
//! per-model parameters added, and streams parsed chunk by chunk as they arrive.
//!
//! mlx_lm.server loads whatever the `model` field names, so the id sent is exactly the
//! configured model id (a path or a hub name), never an alias.

use futures_util::StreamExt;
use hearth_core::config::file::ModelParams;
use hearth_protocol::{
    framing::{
        DEFAULT_MAX_LINE_BYTES,
        sse::{SseEvent, SseParser},
    },
    from_json,
    openai::{
        chat::{ChatCompletionRequest, ChatCompletionResponse, StreamData},
        embeddings::{EmbeddingsRequest, EmbeddingsResponse},
        models::ModelList,
    },
};
use serde_json::{Value, json};

use super::{BackendError, ChunkStream, Endpoint, shorten};

#[derive(Debug, Clone)]
pub struct OpenAiCompletions {
    endpoint: Endpoint,
}

impl OpenAiCompletions {
    pub fn new(endpoint: Endpoint) -> OpenAiCompletions {
        OpenAiCompletions { endpoint }
    }

    pub fn provider_id(&self) -> &str {
        &self.endpoint.provider
    }

    fn provider(&self) -> String {
        self.endpoint.provider.clone()
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.endpoint.request(reqwest::Method::POST, path)
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.endpoint.request(reqwest::Method::GET, path)
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, BackendError> {
        self.endpoint.send(request).await
    }

    pub async fn chat(
        &self,
        mut request: ChatCompletionRequest,
        params: &ModelParams,
    ) -> Result<ChatCompletionResponse, BackendError> {
        request.stream = Some(false);
        request.stream_options = None;
        apply_params(&mut request, params);
        let response = self
            .send(self.post("/chat/completions").json(&request))
            .await?;
        let body = self.endpoint.read(response, super::WHOLE_ANSWER).await?;
        from_json(&body).map_err(|error| BackendError::Garbage {
            provider: self.provider(),
            what: "chat completion JSON",
            detail: shorten(&error.to_string(), 200),
        })
    }

    pub async fn chat_stream(
        &self,
        mut request: ChatCompletionRequest,
        params: &ModelParams,
    ) -> Result<ChunkStream, BackendError> {
        request.stream = Some(true);
        // Always ask for usage: decode speed and metrics need it. The client's own wish is
        // honoured where the stream is handed on.
        request.stream_options = Some(hearth_protocol::openai::chat::StreamOptions {
            include_usage: Some(true),
            extra: Default::default(),
        });
        apply_params(&mut request, params);
        let response = self
            .send(self.post("/chat/completions").json(&request))
            .await?;
        let provider = self.provider();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("no content type")
            .to_owned();
        if !content_type.starts_with("text/event-stream") {
            return Err(BackendError::Garbage {
                provider,
                what: "server-sent events",
                detail: format!("the answer is `{}`", shorten(&content_type, 80)),
            });
        }
        let mut bytes = response.bytes_stream();
        let garbage = {
            let provider = provider.clone();
            move |error: hearth_protocol::ProtocolError| BackendError::Garbage {
                provider: provider.clone(),
                what: "server-sent events",
                detail: shorten(&error.to_string(), 200),
            }
        };
        let stream = async_stream::try_stream! {
            let mut parser = SseParser::new(DEFAULT_MAX_LINE_BYTES);
            // A stream is complete at `[DONE]`, or when the body ends after a finish reason.
            let mut finished = false;
            let mut ended = false;
            while !ended {
                let events = match bytes.next().await {
                    Some(Ok(chunk)) => parser.feed(&chunk).map_err(&garbage)?,
                    Some(Err(error)) => {
                        Err::<(), _>(BackendError::MidStream {
                            provider: provider.clone(),
                            message: describe(&error),
                        })?;
                        Vec::new()
                    }
                    None => {
                        ended = true;
                        parser.finish().map_err(&garbage)?
                    }
                };
                for event in events {
                    let data = match event {
                        SseEvent::Done => {
                            finished = true;
                            ended = true;
                            break;
                        }
                        SseEvent::Message { data, .. } => data,
                    };
                    let parsed = StreamData::parse(&data).map_err(|error| BackendError::Garbage {
                        provider: provider.clone(),
                        what: "chat completion chunk",
                        detail: shorten(&error.to_string(), 200),
                    })?;
                    match parsed {
                        StreamData::Chunk(chunk) => {
                            if chunk.choices.iter().any(|choice| choice.finish_reason.is_some()) {
                                finished = true;
                            }
                            yield chunk;
                        }
                        StreamData::Error(error) => {
                            Err::<(), _>(BackendError::MidStream {
                                provider: provider.clone(),
                                message: shorten(&error.message, 300),
                            })?;
                        }
                    }
                }
            }
            if !finished {
                Err::<(), _>(BackendError::Truncated { provider: provider.clone() })?;
            }
        };
        Ok(Box::pin(stream))
    }

    /// `/embeddings`, passed through with the backend's model id.
    pub async fn embeddings(
        &self,
        request: &EmbeddingsRequest,
    ) -> Result<EmbeddingsResponse, BackendError> {
        let response = self.send(self.post("/embeddings").json(request)).await?;
        let body = self.endpoint.read(response, super::WHOLE_ANSWER).await?;
        from_json(&body).map_err(|error| BackendError::Garbage {
            provider: self.provider(),
            what: "embeddings JSON",
            detail: shorten(&error.to_string(), 200),
        })
    }

    pub async fn list_models(&self) -> Result<Vec<String>, BackendError> {
        let response = self.send(self.get("/models")).await?;
        let body = self.endpoint.read(response, super::MODEL_LIST).await?;
        let list: ModelList = from_json(&body).map_err(|error| BackendError::Garbage {
            provider: self.provider(),
            what: "model list",
            detail: shorten(&error.to_string(), 200),
        })?;
        Ok(list.data.into_iter().map(|model| model.id).collect())
    }

    pub async fn health(&self) -> Result<(), BackendError> {
        self.send(self.get("/models")).await.map(|_| ())
    }
}

/// The fields beyond the typed ones that a client may send on to an OpenAI-compatible server:
/// OpenAI's legacy `functions` and `function_call` (already held to the agent's tool policy)
/// and the sampling knobs llama-server, mlx_lm.server, vLLM and LM Studio read. Anything else
/// is dropped — `n_predict`, `max_new_tokens`, `min_tokens` or `ignore_eos` would get around the
/// output clamp (`maxTokens`), and the chat template's variables are Hearth's to set.
const PASSED_EXTRAS: [&str; 23] = [
    "functions",
    "function_call",
    "top_k",
    "min_p",
    "typical_p",
    "tfs_z",
    "repeat_penalty",
    "repetition_penalty",
    "repeat_last_n",
    "presence_penalty",
    "frequency_penalty",
    "mirostat",
    "mirostat_tau",
    "mirostat_eta",
    "dry_multiplier",
    "dry_base",
    "dry_allowed_length",
    "xtc_probability",
    "xtc_threshold",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "parallel_tool_calls",
];

/// Keeps only [`PASSED_EXTRAS`] of the client's extra fields, and of `chat_template_kwargs`
/// only `enable_thinking` (a boolean: how clients switch a model's thinking).
fn keep_known_extras(request: &mut ChatCompletionRequest) {
    let thinking = request
        .extra
        .get("chat_template_kwargs")
        .and_then(|kwargs| kwargs.get("enable_thinking"))
        .and_then(Value::as_bool);
    let dropped: Vec<String> = request
        .extra
        .keys()
        .filter(|key| !PASSED_EXTRAS.contains(&key.as_str()))
        .cloned()
        .collect();
    for key in &dropped {
        request.extra.remove(key);
    }
    if !dropped.is_empty() {
        tracing::debug!(fields = ?dropped, "request fields not passed to the backend");
    }
    if let Some(thinking) = thinking {
        request.extra.insert(
            "chat_template_kwargs".to_owned(),
            json!({ "enable_thinking": thinking }),
        );
    }
}

/// Per-model parameters from the config fill what the client left unset. `think` goes to the
/// chat template, which is how llama-server and mlx_lm.server switch thinking.
fn apply_params(request: &mut ChatCompletionRequest, params: &ModelParams) {
    keep_known_extras(request);
    if request.temperature.is_none() {
        request.temperature = params.temperature;
    }
    if request.top_p.is_none() {
        request.top_p = params.top_p;
    }
    if request.seed.is_none() {
        request.seed = params.seed;
    }
    if let Some(top_k) = params.top_k {
        request.extra.entry("top_k").or_insert(json!(top_k));
    }
    if let Some(think) = params.think {
        let kwargs = request
            .extra
            .entry("chat_template_kwargs")
            .or_insert_with(|| json!({}));
        if let Value::Object(kwargs) = kwargs {
            kwargs.entry("enable_thinking").or_insert(json!(think));
        }
    }
}

/// An error of reqwest in a few words, without the URL's query or any header.
pub(crate) fn describe(error: &reqwest::Error) -> String {
    if error.is_connect() {
        "connection refused or unreachable (is the server running?)".to_owned()
    } else if error.is_timeout() {
        "timed out".to_owned()
    } else {
        let mut text = error.to_string();
        if let Some(source) = std::error::Error::source(error) {
            text = format!("{text}: {source}");
        }
        // Where the provider is, is the admin's to know, not every caller's.
        if let Some(url) = error.url() {
            text = text.replace(&format!(" for url ({url})"), "");
            text = text.replace(url.as_str(), "the provider");
        }
        shorten(&text, 200)
    }
}
