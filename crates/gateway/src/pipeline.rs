//! The one pipeline every model request goes through, whatever API the client speaks. A route
//! parses its API's request into the canonical form (OpenAI Chat Completions), and `prepare`
//! does the rest of the way in: identity → route (agent, model, provider) → the agent's tool
//! policy on the request → context guard → per-model parameters. `complete` and `stream` then
//! call the backend under the configured timeouts, apply the policy to the answer (streamed:
//! chunk by chunk) and write the audit log. Routes only translate the result back into their
//! API's shape.
//!
//! A stream waits briefly for the backend's first chunk before the route answers 200, so a
//! backend that refuses or fails at once gives the client a real HTTP error. While the backend
//! is still loading its model the stream yields keep-alives; a backend failing mid-stream ends
//! it with a `Failed` event, never a hang.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use futures_util::{Stream, StreamExt};
use hearth_core::{
    config::{Config, ModelRef, file::ModelParams, model::Timeouts},
    policy::ToolPolicy,
    routing::{self, Claims, Route},
};
use hearth_protocol::openai::chat::{
    ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse,
};

use crate::{
    auth::Caller,
    enforce::{self, AuditContext, StreamAudit},
    error::GatewayError,
    guard,
    metrics::{Labels, Observation},
    providers::{Backend, BackendError, ChunkStream},
    state::Gateway,
};

/// How long a stream waits for the first chunk before the route answers 200 and keep-alives
/// take over.
const FIRST_CHUNK_GRACE: Duration = Duration::from_secs(2);
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(5);

/// The claims a trusted client makes about the conversation it relays.
pub fn claims(headers: &HeaderMap) -> Claims {
    let read = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    Claims {
        channel: read("x-hearth-channel"),
        account_id: read("x-hearth-account"),
        peer_kind: read("x-hearth-peer-kind"),
        peer_id: read("x-hearth-peer-id"),
    }
}

/// Routes the caller; logs claims dropped from an untrusted caller.
pub fn route_caller(config: &Config, caller: &Caller, headers: &HeaderMap) -> Route {
    let client = match caller {
        Caller::Client(name) => Some(name.as_str()),
        Caller::Admin | Caller::Anonymous => None,
    };
    let route = routing::route(config, client, &claims(headers));
    if let Some(ignored) = &route.ignored_claims {
        tracing::warn!(
            client = client.unwrap_or("anonymous"),
            ?ignored,
            "identity headers ignored: only trusted clients may assert channel or peer"
        );
    }
    route
}

/// The model a request names: empty, `default` or `auto` mean the agent's model (its own, else
/// the primary, else the one model configured — `Config::agent_model`); otherwise an alias, a
/// `provider/model-id` reference, or a bare model id that exactly one provider lists. A model
/// the configuration does not name is refused unless its provider has `anyModel` (naming one
/// would load it); then the caller must be allowed it (`Config::may_use`: anonymous callers
/// reach local models only, an agent its `models`). The admin may use any.
pub fn choose_model(
    config: &Config,
    route: &Route,
    caller: &Caller,
    requested: &str,
) -> Result<ModelRef, GatewayError> {
    let requested = requested.trim();
    let target = if requested.is_empty() || matches!(requested, "default" | "auto") {
        route
            .model
            .clone()
            .ok_or_else(|| GatewayError::ModelNotFound {
                message: no_default_model(config, &route.agent),
            })?
    } else {
        resolve_named_model(config, requested)?
    };
    let open = config
        .providers
        .get(&target.provider)
        .is_some_and(|provider| provider.any_model);
    if !open && !config.names_model(&target) {
        return Err(GatewayError::ModelNotFound {
            message: format!(
                "unknown model: `{target}` is not a model Hearth is configured with; add it to `providers.{}.models`, or set `providers.{}.anyModel` to let requests name any model of it",
                target.provider, target.provider
            ),
        });
    }
    if !matches!(caller, Caller::Admin) {
        config
            .may_use(&route.agent, matches!(caller, Caller::Anonymous), &target)
            .map_err(|refused| GatewayError::ModelNotAllowed {
                message: refused.to_string(),
            })?;
    }
    Ok(target)
}

/// Why `default` names no model, and the command that fixes it.
pub fn no_default_model(config: &Config, agent: &str) -> String {
    match config.model_count() {
        0 => "no model is configured yet: run `hearth setup` to find the servers and models on \
              this machine and `hearth setup --apply` to use them (or add a provider in the \
              dashboard, `hearth open`)"
            .to_owned(),
        count => format!(
            "`default` names no model: agent `{agent}` has none of its own, no primary model is \
             set, and {count} models are configured; choose one with `hearth model use \
             PROVIDER/MODEL` (`hearth model list` lists them), or name a model in the request"
        ),
    }
}

/// What a client or the user names a model by: an alias, a `provider/model-id` reference, or
/// a bare model id that exactly one provider lists.
pub fn resolve_named_model(config: &Config, requested: &str) -> Result<ModelRef, GatewayError> {
    let requested = requested.trim();
    match config.resolve_model(requested) {
        Ok(reference) => Ok(reference),
        Err(error) => {
            let owners: Vec<&str> = config
                .providers
                .values()
                .filter(|provider| provider.model(requested).is_some())
                .map(|provider| provider.id.as_str())
                .collect();
            if let [provider] = owners.as_slice() {
                return Ok(ModelRef {
                    provider: (*provider).to_owned(),
                    model: requested.to_owned(),
                });
            }
            let hint = error
                .suggestion()
                .map(|suggestion| format!("; did you mean `{suggestion}`?"))
                .unwrap_or_default();
            Err(GatewayError::ModelNotFound {
                message: format!("unknown model: {error}{hint}"),
            })
        }
    }
}

/// The header that carries a request's id, in and out.
pub const REQUEST_ID: &str = "x-hearth-request-id";

/// The id the request middleware gave this request (a fresh one if it ran without it).
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .map_or_else(new_request_id, str::to_owned)
}

pub fn new_request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis());
    format!(
        "req_{started:x}_{}",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The response headers naming where a request went (`x-hearth-request-id` is the request
/// middleware's).
fn hearth_headers(agent: &str, model: &str, provider: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("x-hearth-agent", agent),
        ("x-hearth-model", model),
        ("x-hearth-provider", provider),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    headers
}

/// A request that passed every check, ready for its backend.
#[derive(Debug)]
pub struct Prepared {
    backend: Backend,
    /// `model` is the backend's own id.
    request: ChatCompletionRequest,
    params: ModelParams,
    policy: ToolPolicy,
    audit: AuditContext,
    provider: String,
    timeouts: Timeouts,
    /// Counts the request once, whatever becomes of it.
    observation: Observation,
    /// `provider/model-id`, what the client is shown.
    pub shown_model: String,
    /// `x-hearth-agent`, `x-hearth-model`, `x-hearth-provider`.
    pub headers: HeaderMap,
    /// Keeps a model switch waiting until this request's answer has ended.
    residency: Option<crate::residency::RequestGuard>,
}

/// Takes a request in canonical form the whole way to its backend's door. `caller` is what the
/// route's `authenticate` said: routes authenticate before they parse, and once is enough. `api` names the
/// client API for the metrics (`openai-completions`, `ollama-chat`, `ollama-generate`…); a
/// refused request is counted here, one that passes when its answer ends.
pub async fn prepare(
    gateway: &Gateway,
    headers: &HeaderMap,
    caller: &Caller,
    request: ChatCompletionRequest,
    api: &'static str,
) -> Result<Prepared, GatewayError> {
    // A model switch in progress holds this until routing has flipped: the request is then
    // routed by the configuration the switch left behind.
    let residency = gateway.residency().enter().await;
    let mut labels = Labels::unknown(api);
    let mut prepared = prepare_labelled(gateway, headers, caller, request, &mut labels)
        .inspect_err(|error| gateway.metrics().refused(&labels, error))?;
    let runtime = gateway.runtime();
    if let Some(target) = ModelRef::parse(&prepared.shown_model) {
        crate::residency::check_resident(gateway, &runtime, &target)
            .await
            .inspect_err(|error| gateway.metrics().refused(&labels, error))?;
    }
    prepared.residency = Some(residency);
    Ok(prepared)
}

/// `prepare`, filling in `labels` as the configuration tells them.
fn prepare_labelled(
    gateway: &Gateway,
    headers: &HeaderMap,
    caller: &Caller,
    mut request: ChatCompletionRequest,
    labels: &mut Labels,
) -> Result<Prepared, GatewayError> {
    let runtime = gateway.runtime();
    let config = &runtime.config;
    let route = route_caller(config, caller, headers);
    if config.agent(&route.agent).is_some() {
        labels.agent.clone_from(&route.agent);
    }
    if request.messages.is_empty() {
        return Err(GatewayError::BadRequest {
            message: "`messages` is empty: send at least one message".to_owned(),
            code: "invalid_request",
        });
    }
    let target = choose_model(config, &route, caller, &request.model)?;
    let provider =
        config
            .providers
            .get(&target.provider)
            .ok_or_else(|| GatewayError::ModelNotFound {
                message: format!("provider `{}` is not configured", target.provider),
            })?;
    labels.provider.clone_from(&provider.id);
    labels.set_model(config, &target);
    let backend = runtime
        .backends
        .get(&target.provider)
        .ok_or_else(|| {
            GatewayError::Backend(BackendError::Unsupported {
                provider: provider.id.clone(),
                api: provider.api.as_str(),
            })
        })?
        .clone();
    let agent = config
        .agent(&route.agent)
        .ok_or_else(|| GatewayError::ModelNotFound {
            message: format!("agent `{}` is not configured", route.agent),
        })?;
    let removed = enforce::request(&agent.policy, &agent.id, &mut request)?;
    gateway.metrics().tools_removed(&agent.id, removed.len());
    if !removed.is_empty() {
        tracing::info!(agent = %agent.id, tools = ?removed, "denied tools removed from the request");
    }
    let shown_model = target.to_string();
    guard::check_modalities(&shown_model, provider.model(&target.model), &request)?;
    if let Some(warning) = guard::apply(&shown_model, provider.model(&target.model), &mut request)?
    {
        tracing::warn!(agent = %agent.id, "{warning}");
    }
    let id = request_id(headers);
    tracing::info!(
        request_id = %id,
        agent = %agent.id,
        model = %shown_model,
        stream = request.stream == Some(true),
        "model request"
    );
    request.model.clone_from(&target.model);
    Ok(Prepared {
        backend,
        params: config.params.get(&target).cloned().unwrap_or_default(),
        policy: agent.policy.clone(),
        audit: AuditContext {
            activity: Some(Arc::clone(&gateway.metrics().activity)),
            agent: agent.id.clone(),
            client: match caller {
                Caller::Client(name) => Some(name.clone()),
                Caller::Admin => Some("admin".to_owned()),
                Caller::Anonymous => None,
            },
            request_id: id.clone(),
            workspace: agent.workspace.clone(),
        },
        provider: provider.id.clone(),
        timeouts: config.gateway.timeouts,
        observation: Observation::new(Arc::clone(gateway.metrics()), labels.clone()),
        headers: hearth_headers(&agent.id, &shown_model, &provider.id),
        shown_model,
        request,
        residency: None,
    })
}

/// What a stream brings, in the order it comes.
#[derive(Debug)]
pub enum StreamEvent {
    /// A chunk, with the policy applied and `model` set to what the client is shown. Usage
    /// comes on the last chunks whether or not the client asked; routes drop what their API
    /// does not want.
    Chunk(Box<ChatCompletionChunk>),
    /// Nothing yet from a backend still loading; a route may tell the client it is alive.
    KeepAlive,
    /// The backend failed or fell silent; the message says which, in words for the client.
    Failed(String),
    /// The backend finished.
    Done,
}

impl Prepared {
    /// The agent the request was routed to.
    pub fn agent(&self) -> &str {
        &self.audit.agent
    }

    /// The provider that will answer (for errors in translating its answer).
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Asks for the whole answer at once.
    pub async fn complete(mut self) -> Result<(HeaderMap, ChatCompletionResponse), GatewayError> {
        self.request.stream = Some(false);
        let total = self.timeouts.total;
        self.observation.start();
        let mut answer = tokio::time::timeout(total, self.backend.chat(self.request, &self.params))
            .await
            .map_err(|_| BackendError::Timeout {
                provider: self.provider.clone(),
                phase: "answer",
                after: total,
            })
            .and_then(|answer| answer)
            .map_err(|error| self.observation.failed_with(error))?;
        self.observation.answered(&answer);
        let records = enforce::response(&self.policy, &self.audit, &mut answer);
        self.observation
            .tool_calls_blocked(records.iter().filter(|record| !record.allowed).count());
        self.audit.write(&records).await;
        answer.model = self.shown_model;
        Ok((self.headers, answer))
    }

    /// Starts a streamed answer. Failures before the first chunk (within a short grace) are
    /// returned as errors; later ones arrive as `StreamEvent::Failed`.
    pub async fn stream(
        mut self,
    ) -> Result<(HeaderMap, impl Stream<Item = StreamEvent> + Send + 'static), GatewayError> {
        self.request.stream = Some(true);
        let timeouts = self.timeouts;
        let started = Instant::now();
        let mut observation = self.observation;
        observation.start();
        let mut upstream: ChunkStream = tokio::time::timeout(
            timeouts.first_token,
            self.backend.chat_stream(self.request, &self.params),
        )
        .await
        .map_err(|_| BackendError::Timeout {
            provider: self.provider.clone(),
            phase: "first token",
            after: timeouts.first_token,
        })
        .and_then(|upstream| upstream)
        .map_err(|error| observation.failed_with(error))?;
        let first = match tokio::time::timeout(
            FIRST_CHUNK_GRACE.min(timeouts.first_token),
            upstream.next(),
        )
        .await
        {
            Ok(Some(Ok(chunk))) => {
                observation.chunk(&chunk);
                Some(chunk)
            }
            Ok(Some(Err(error))) => return Err(observation.failed_with(error)),
            Ok(None) => {
                return Err(observation.failed_with(BackendError::Truncated {
                    provider: self.provider.clone(),
                }));
            }
            Err(_) => None,
        };
        let (policy, audit, provider, shown_model) =
            (self.policy, self.audit, self.provider, self.shown_model);
        let residency = self.residency;
        // The stream is polled after the request's span has closed: its log lines name the id.
        let request_id = audit.request_id.clone();
        let events = async_stream::stream! {
            let mut filter = StreamAudit::new(policy, audit);
            let shape = |mut chunk: ChatCompletionChunk, filter: &mut StreamAudit, observation: &Observation| {
                let blocked = filter.blocked();
                filter.filter(&mut chunk);
                observation.tool_calls_blocked(filter.blocked() - blocked);
                chunk.model.clone_from(&shown_model);
                chunk
            };
            // Waiting for the headers already spent part of the first-token allowance: count
            // it from the start, so it is not granted twice.
            let mut last = if first.is_some() { Instant::now() } else { started };
            let mut got_first = first.is_some();
            if let Some(chunk) = first {
                yield StreamEvent::Chunk(Box::new(shape(chunk, &mut filter, &observation)));
            }
            let total_deadline = tokio::time::Instant::from_std(started + timeouts.total);
            // The first tick is immediate: a client still waiting when the grace ends gets a
            // keep-alive at once, then one every few seconds until the first token.
            let mut keep_alive = tokio::time::interval(KEEP_ALIVE_EVERY);
            loop {
                let (limit, phase) = if got_first {
                    (timeouts.idle, "next chunk")
                } else {
                    (timeouts.first_token, "first token")
                };
                let deadline = tokio::time::Instant::from_std(last + limit).min(total_deadline);
                let (phase, after) = if deadline == total_deadline {
                    ("complete answer", timeouts.total)
                } else {
                    (phase, limit)
                };
                tokio::select! {
                    next = tokio::time::timeout_at(deadline, upstream.next()) => match next {
                        Err(_) => {
                            let error = BackendError::Timeout { provider: provider.clone(), phase, after };
                            tracing::warn!(%request_id, %error, "stream ended by timeout");
                            let error = observation.failed_with(error);
                            yield StreamEvent::Failed(error.to_string());
                            break;
                        }
                        Ok(None) => {
                            observation.streamed();
                            yield StreamEvent::Done;
                            break;
                        }
                        Ok(Some(Err(error))) => {
                            tracing::warn!(%request_id, %error, "backend failed mid-stream");
                            let error = observation.failed_with(error);
                            yield StreamEvent::Failed(error.to_string());
                            break;
                        }
                        Ok(Some(Ok(chunk))) => {
                            got_first = true;
                            last = Instant::now();
                            observation.chunk(&chunk);
                            yield StreamEvent::Chunk(Box::new(shape(chunk, &mut filter, &observation)));
                        }
                    },
                    _ = keep_alive.tick(), if !got_first => {
                        yield StreamEvent::KeepAlive;
                    }
                }
            }
            let blocked = filter.blocked();
            if blocked > 0 {
                tracing::info!(%request_id, blocked, "denied tool calls removed from the stream");
            }
            filter.finish().await;
            drop(residency);
        };
        Ok((self.headers, events))
    }
}
