//! Backends: one struct per backend protocol, behind a closed enum. Every backend speaks the
//! gateway's canonical form, OpenAI Chat Completions (hearth-protocol's types): requests go in
//! as `ChatCompletionRequest` with `model` already set to the backend's own model id, answers
//! come back as `ChatCompletionResponse` or a stream of `ChatCompletionChunk`s. Translation to
//! a backend's own protocol happens inside its file.
//!
//! Connections are pooled: one `reqwest::Client` per runtime configuration, shared by all
//! backends; no request builds a client. Connect timeouts live in that client; first-token,
//! idle and total timeouts are applied by the caller around these calls.

pub mod anthropic;
pub mod ollama;
pub mod openai;
pub mod responses;

use std::{pin::Pin, time::Duration};

use futures_util::Stream;
use hearth_core::{
    Secret,
    config::{file::Api, file::ModelParams, model::Provider},
};
use hearth_protocol::{
    ProtocolError,
    openai::{
        chat::{ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse},
        embeddings::{EmbeddingsRequest, EmbeddingsResponse},
    },
};

/// How long a status question (what models, what is loaded, healthy?) may take a backend:
/// these answer in milliseconds, and a route listing several backends must not hang on one.
pub const STATUS_TIMEOUT: Duration = Duration::from_secs(5);

/// A backend's answer as it streams.
pub type ChunkStream =
    Pin<Box<dyn Stream<Item = Result<ChatCompletionChunk, BackendError>> + Send + 'static>>;

/// What went wrong talking to a backend. Messages name the provider and say what happened in
/// words a user can act on; they never include a key or a full payload.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The provider's URL is not in the message, which any caller may read: the admin has it
    /// in the configuration, and the log has it.
    #[error("cannot connect to provider `{provider}`: {detail}")]
    Connect { provider: String, detail: String },
    #[error("provider `{provider}` answered HTTP {status}: {message}")]
    Status {
        provider: String,
        status: u16,
        message: String,
    },
    #[error("provider `{provider}` sent something that is not valid {what}: {detail}")]
    Garbage {
        provider: String,
        what: &'static str,
        detail: String,
    },
    #[error("provider `{provider}` closed the stream before it finished")]
    Truncated { provider: String },
    #[error("provider `{provider}` failed mid-stream: {message}")]
    MidStream { provider: String, message: String },
    #[error("provider `{provider}` gave no {phase} within {after:?}")]
    Timeout {
        provider: String,
        phase: &'static str,
        after: Duration,
    },
    #[error("cannot translate for provider `{provider}`: {source}")]
    Translate {
        provider: String,
        source: ProtocolError,
    },
    #[error("provider `{provider}` speaks `{api}`, which this gateway cannot reach yet")]
    Unsupported { provider: String, api: &'static str },
    #[error(
        "provider `{provider}` sent more than {} MiB for {}, Hearth's limit; the answer was dropped",
        limit.bytes / (1024 * 1024),
        limit.what
    )]
    TooLarge { provider: String, limit: Limit },
}

/// How much Hearth reads of one backend answer: a backend is not trusted to be small, and one
/// answering with hundreds of megabytes must not take the gateway's memory with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub bytes: usize,
    /// What is read ("a whole answer"), as the error names it.
    pub what: &'static str,
}

/// A whole (not streamed) answer: chat, embeddings, a response.
pub const WHOLE_ANSWER: Limit = Limit {
    bytes: 64 * 1024 * 1024,
    what: "a whole answer",
};
/// A list of models (`/v1/models`, `/api/tags`, `/api/ps`) or a version.
pub const MODEL_LIST: Limit = Limit {
    bytes: 8 * 1024 * 1024,
    what: "a model list",
};
/// Of an error answer only this much is read: its message is at the start, the rest is dropped
/// unread.
pub const ERROR_BODY_BYTES: usize = 64 * 1024;

/// Reads `response`'s body up to `limit` bytes: `Ok(None)` when it is longer (said by its
/// `Content-Length`, before a byte is read, or found while reading, which stops there).
pub(crate) async fn read_at_most(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// The first `limit` bytes of `response`'s body (all of it when shorter); a body cut short
/// gives what came.
async fn read_prefix(mut response: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = limit - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= limit {
            break;
        }
    }
    body
}

impl Endpoint {
    /// A request to `path` below the base URL, with the provider's key when it has one.
    pub(crate) fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self
            .http
            .request(method, format!("{}{path}", self.base_url));
        match &self.api_key {
            Some(key) => request.bearer_auth(key.expose()),
            None => request,
        }
    }

    /// The body of a successful answer, read up to `limit`: a body cut short is
    /// [`BackendError::Truncated`], a longer one [`BackendError::TooLarge`].
    pub(crate) async fn read(
        &self,
        response: reqwest::Response,
        limit: Limit,
    ) -> Result<Vec<u8>, BackendError> {
        read_body(&self.provider, response, limit).await
    }

    pub(crate) fn connect_error(&self, error: &reqwest::Error) -> BackendError {
        let detail = openai::describe(error);
        tracing::info!(provider = %self.provider, url = %self.base_url, %detail, "cannot connect");
        BackendError::Connect {
            provider: self.provider.clone(),
            detail,
        }
    }

    /// Sends `request`; an error status becomes [`BackendError::Status`] with the server's own
    /// message.
    pub(crate) async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, BackendError> {
        // A pooled connection to a server that has since restarted (a service switch, a crash
        // and its restart) fails before the request reaches anyone: such a request is sent
        // once more, on a new connection. Only failures before any answer are retried.
        let retry = request.try_clone();
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) if stale_connection(&error) && retry.is_some() => {
                tracing::debug!(provider = %self.provider, %error, "retrying on a new connection");
                match retry {
                    Some(retry) => retry
                        .send()
                        .await
                        .map_err(|error| self.connect_error(&error))?,
                    None => return Err(self.connect_error(&error)),
                }
            }
            Err(error) => return Err(self.connect_error(&error)),
        };
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let body = read_prefix(response, ERROR_BODY_BYTES).await;
        Err(BackendError::Status {
            provider: self.provider.clone(),
            status,
            message: error_message(&body),
        })
    }
}

/// One configured provider, ready to call.
#[derive(Debug, Clone)]
pub enum Backend {
    Ollama(ollama::Ollama),
    OpenAi(openai::OpenAiCompletions),
    Responses(responses::OpenAiResponses),
    Anthropic(anthropic::AnthropicMessages),
}

/// What every backend needs to know about the provider it serves.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub provider: String,
    /// Without a trailing slash.
    pub base_url: String,
    pub api_key: Option<Secret<String>>,
    pub http: reqwest::Client,
}

impl Backend {
    pub fn new(provider: &Provider, endpoint: Endpoint) -> Result<Backend, BackendError> {
        match provider.api {
            Api::Ollama => Ok(Backend::Ollama(ollama::Ollama::new(endpoint))),
            Api::OpenaiCompletions => Ok(Backend::OpenAi(openai::OpenAiCompletions::new(endpoint))),
            Api::OpenaiResponses => Ok(Backend::Responses(responses::OpenAiResponses::new(
                endpoint,
            ))),
            Api::AnthropicMessages => Ok(Backend::Anthropic(anthropic::AnthropicMessages::new(
                endpoint,
            ))),
        }
    }

    pub async fn chat(
        &self,
        request: ChatCompletionRequest,
        params: &ModelParams,
    ) -> Result<ChatCompletionResponse, BackendError> {
        match self {
            Backend::Ollama(backend) => backend.chat(request, params).await,
            Backend::OpenAi(backend) => backend.chat(request, params).await,
            Backend::Responses(backend) => backend.chat(request, params).await,
            Backend::Anthropic(backend) => backend.chat(request, params).await,
        }
    }

    /// Resolves once the backend accepted the request (its response headers arrived), so a
    /// refused request is still an ordinary HTTP error for the client.
    pub async fn chat_stream(
        &self,
        request: ChatCompletionRequest,
        params: &ModelParams,
    ) -> Result<ChunkStream, BackendError> {
        match self {
            Backend::Ollama(backend) => backend.chat_stream(request, params).await,
            Backend::OpenAi(backend) => backend.chat_stream(request, params).await,
            Backend::Responses(backend) => backend.chat_stream(request, params).await,
            Backend::Anthropic(backend) => backend.chat_stream(request, params).await,
        }
    }

    /// Embeddings for `request.input`; `request.model` is the backend's own id.
    pub async fn embeddings(
        &self,
        request: &EmbeddingsRequest,
    ) -> Result<EmbeddingsResponse, BackendError> {
        match self {
            Backend::Ollama(backend) => backend.embeddings(request).await,
            Backend::OpenAi(backend) => backend.embeddings(request).await,
            Backend::Responses(backend) => backend.embeddings(request).await,
            Backend::Anthropic(backend) => backend.embeddings(request).await,
        }
    }

    /// The model ids the backend serves now.
    pub async fn list_models(&self) -> Result<Vec<String>, BackendError> {
        match self {
            Backend::Ollama(backend) => backend.list_models().await,
            Backend::OpenAi(backend) => backend.list_models().await,
            Backend::Responses(backend) => backend.list_models().await,
            Backend::Anthropic(backend) => backend.list_models().await,
        }
    }

    /// Frees the model's memory: Ollama unloads it (keep_alive 0); an OpenAI-compatible server
    /// holds its model for as long as it runs, so its service must be stopped instead.
    pub async fn unload(&self, model: &str) -> Result<(), BackendError> {
        match self {
            Backend::Ollama(backend) => backend.unload(model).await,
            Backend::OpenAi(backend) => Err(BackendError::Unsupported {
                provider: backend.provider_id().to_owned(),
                api: "openai-completions (unload: stop its service)",
            }),
            Backend::Responses(backend) => Err(BackendError::Unsupported {
                provider: backend.provider_id().to_owned(),
                api: "openai-responses (unload: stop its service)",
            }),
            Backend::Anthropic(backend) => Err(BackendError::Unsupported {
                provider: backend.provider_id().to_owned(),
                api: "anthropic-messages (a cloud service: nothing to unload)",
            }),
        }
    }

    pub async fn health(&self) -> Result<(), BackendError> {
        match self {
            Backend::Ollama(backend) => backend.health().await,
            Backend::OpenAi(backend) => backend.health().await,
            Backend::Responses(backend) => backend.health().await,
            Backend::Anthropic(backend) => backend.health().await,
        }
    }
}

/// A response body of server-sent events as `(event name, data)` pairs, parsed as the bytes
/// arrive; refuses an answer that is not `text/event-stream`. A transport failure ends it with
/// [`BackendError::MidStream`]; the caller decides whether the end it saw was complete.
pub(crate) fn sse_messages(
    provider: String,
    response: reqwest::Response,
) -> Result<impl Stream<Item = Result<(Option<String>, String), BackendError>> + Send, BackendError>
{
    use futures_util::StreamExt as _;
    use hearth_protocol::framing::{
        DEFAULT_MAX_LINE_BYTES,
        sse::{SseEvent, SseParser},
    };
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
    Ok(async_stream::try_stream! {
        let mut parser = SseParser::new(DEFAULT_MAX_LINE_BYTES);
        let garbage = |error: ProtocolError| BackendError::Garbage {
            provider: provider.clone(),
            what: "server-sent events",
            detail: shorten(&error.to_string(), 200),
        };
        loop {
            let (events, ended) = match bytes.next().await {
                Some(Ok(chunk)) => (parser.feed(&chunk).map_err(garbage)?, false),
                Some(Err(error)) => {
                    Err(BackendError::MidStream {
                        provider: provider.clone(),
                        message: openai::describe(&error),
                    })?;
                    (Vec::new(), true)
                }
                None => (parser.finish().map_err(garbage)?, true),
            };
            for event in events {
                if let SseEvent::Message { event, data } = event {
                    yield (event, data);
                }
            }
            if ended {
                break;
            }
        }
    })
}

/// A backend protocol's stream converter: that protocol's events in, chat chunks out.
pub(crate) trait ChunkConverter: Send + 'static {
    type Event: serde::de::DeserializeOwned + Send;
    /// What an event is called in errors ("Anthropic event").
    const EVENT: &'static str;
    fn push(&mut self, event: Self::Event) -> Result<Vec<ChatCompletionChunk>, ProtocolError>;
    fn is_finished(&self) -> bool;
}

impl ChunkConverter for hearth_protocol::convert::AnthropicToOpenAiStream {
    type Event = hearth_protocol::anthropic::StreamEvent;
    const EVENT: &'static str = "Anthropic event";
    fn push(&mut self, event: Self::Event) -> Result<Vec<ChatCompletionChunk>, ProtocolError> {
        self.push(event)
    }
    fn is_finished(&self) -> bool {
        self.is_finished()
    }
}

impl ChunkConverter for hearth_protocol::convert::ResponsesToOpenAiStream {
    type Event = hearth_protocol::openai::responses::StreamEvent;
    const EVENT: &'static str = "Responses event";
    fn push(&mut self, event: Self::Event) -> Result<Vec<ChatCompletionChunk>, ProtocolError> {
        self.push(event)
    }
    fn is_finished(&self) -> bool {
        self.is_finished()
    }
}

/// A streamed answer in named server-sent events (Responses, Messages) as chat chunks: each
/// event's data parsed and converted as it arrives; an upstream error event ends the stream
/// with [`BackendError::MidStream`], an end before the converter finished with
/// [`BackendError::Truncated`].
pub(crate) fn converted_stream<C: ChunkConverter>(
    provider: String,
    response: reqwest::Response,
    mut converter: C,
) -> Result<ChunkStream, BackendError> {
    use futures_util::StreamExt as _;
    let mut messages = Box::pin(sse_messages(provider.clone(), response)?);
    Ok(Box::pin(async_stream::try_stream! {
        while let Some(message) = messages.next().await {
            let (_, data) = message?;
            let event: C::Event =
                hearth_protocol::from_json(data.as_bytes()).map_err(|error| BackendError::Garbage {
                    provider: provider.clone(),
                    what: C::EVENT,
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
    }))
}

/// The body of `provider`'s successful answer, read up to `limit`.
pub(crate) async fn read_body(
    provider: &str,
    response: reqwest::Response,
    limit: Limit,
) -> Result<Vec<u8>, BackendError> {
    match read_at_most(response, limit.bytes).await {
        Ok(Some(body)) => Ok(body),
        Ok(None) => Err(BackendError::TooLarge {
            provider: provider.to_owned(),
            limit,
        }),
        Err(error) => {
            tracing::debug!(%provider, detail = %openai::describe(&error), "answer cut short");
            Err(BackendError::Truncated {
                provider: provider.to_owned(),
            })
        }
    }
}

/// A whole JSON answer of `what` ("Anthropic message JSON"), read up to `limit`.
pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(
    provider: &str,
    response: reqwest::Response,
    what: &'static str,
    limit: Limit,
) -> Result<T, BackendError> {
    let body = read_body(provider, response, limit).await?;
    hearth_protocol::from_json(&body).map_err(|error| BackendError::Garbage {
        provider: provider.to_owned(),
        what,
        detail: shorten(&error.to_string(), 200),
    })
}

/// A failure of the connection itself (refused, reset, closed under a pooled request), not a
/// timeout and not an answer: nothing reached a model, so one more try is harmless.
fn stale_connection(error: &reqwest::Error) -> bool {
    !error.is_timeout()
        && !error.is_status()
        && !error.is_body()
        && !error.is_decode()
        && (error.is_connect() || error.is_request())
}

/// Reads an error body of any common shape (`{"error":{"message"}}`, `{"error":"..."}`,
/// `{"message"}`) into one line, shortened; the status alone when there is none.
pub(crate) fn error_message(body: &[u8]) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let message = parsed.as_ref().and_then(|value| {
        value["error"]["message"]
            .as_str()
            .or_else(|| value["error"].as_str())
            .or_else(|| value["message"].as_str())
            .map(str::to_owned)
    });
    let text = message.unwrap_or_else(|| {
        let raw = String::from_utf8_lossy(body);
        let raw = raw.trim();
        if raw.is_empty() {
            "no message".to_owned()
        } else if raw.starts_with('<') {
            // An error page of some other server: its markup helps nobody.
            "an HTML page (is this address a model server?)".to_owned()
        } else {
            raw.to_owned()
        }
    });
    shorten(&text, 300)
}

pub(crate) fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(limit).collect();
    short.push('…');
    short
}
