//! `POST /v1/chat/completions`: the pipeline every chat request goes through. Identity → route
//! (agent, model, provider) → the agent's tool policy on the request → context guard → the
//! backend, under the configured timeouts → the policy on the answer (streamed: chunk by chunk)
//! → the audit log. Responses carry `x-hearth-agent`, `x-hearth-model`, `x-hearth-provider`.
//!
//! A streamed request waits briefly for the backend's first chunk before answering 200, so that
//! a backend that refuses or fails at once gives the client a real HTTP error. A backend still
//! loading its model gets SSE keep-alive comments until its first token; a backend failing
//! mid-stream ends the client's stream with an error event, never a hang.

use std::{
    convert::Infallible,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use axum::{
    Json,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, HeaderName, HeaderValue, header},
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;
use hearth_core::{
    config::{Config, ModelRef},
    routing::{self, Claims, Route},
};
use hearth_protocol::{
    framing::sse::{DONE, KEEP_ALIVE},
    from_json,
    openai::chat::{ChatCompletionChunk, ChatCompletionRequest},
};

use crate::{
    auth::{Caller, authenticate},
    enforce::{self, AuditContext, StreamFilter},
    error::GatewayError,
    guard,
    providers::{BackendError, ChunkStream},
    state::Gateway,
};

/// How long a streamed request waits for the first chunk before it answers 200 and sends
/// keep-alives instead.
const FIRST_CHUNK_GRACE: Duration = Duration::from_secs(2);
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(10);

pub async fn chat_completions(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle(gateway, headers, body).await {
        Ok(response) => response,
        Err(error) => {
            tracing::warn!(status = %error.status(), %error, "chat completion refused");
            error.into_response()
        }
    }
}

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

/// The model a request names: empty, `default` or `auto` mean the agent's model; otherwise an
/// alias, a `provider/model-id` reference, or a bare model id that exactly one provider lists.
pub fn choose_model(
    config: &Config,
    route: &Route,
    requested: &str,
) -> Result<ModelRef, GatewayError> {
    let requested = requested.trim();
    if requested.is_empty() || matches!(requested, "default" | "auto") {
        return route.model.clone().ok_or_else(|| GatewayError::ModelNotFound {
            message: format!(
                "agent `{}` has no model and no primary model is set; name a model in the request or set `models.primary`",
                route.agent
            ),
        });
    }
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

fn request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis());
    format!(
        "req_{started:x}_{}",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn hearth_headers(agent: &str, model: &str, provider: &str, request_id: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("x-hearth-agent", agent),
        ("x-hearth-model", model),
        ("x-hearth-provider", provider),
        ("x-hearth-request-id", request_id),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    headers
}

async fn handle(
    gateway: Gateway,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GatewayError> {
    let runtime = gateway.runtime();
    let config = &runtime.config;
    let caller = authenticate(&runtime, &headers)?;
    let route = route_caller(config, &caller, &headers);
    let mut request: ChatCompletionRequest =
        from_json(&body).map_err(|error| GatewayError::BadRequest {
            message: format!("invalid request body: {error}"),
            code: "invalid_request",
        })?;
    if request.messages.is_empty() {
        return Err(GatewayError::BadRequest {
            message: "`messages` is empty: send at least one message".to_owned(),
            code: "invalid_request",
        });
    }
    let target = choose_model(config, &route, &request.model)?;
    let provider =
        config
            .providers
            .get(&target.provider)
            .ok_or_else(|| GatewayError::ModelNotFound {
                message: format!("provider `{}` is not configured", target.provider),
            })?;
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
    if !removed.is_empty() {
        tracing::info!(agent = %agent.id, tools = ?removed, "denied tools removed from the request");
    }
    let shown_model = target.to_string();
    if let Some(warning) = guard::apply(&shown_model, provider.model(&target.model), &mut request)?
    {
        tracing::warn!(agent = %agent.id, "{warning}");
    }
    let params = config.params.get(&target).cloned().unwrap_or_default();
    let id = request_id();
    let audit = AuditContext {
        agent: agent.id.clone(),
        client: match &caller {
            Caller::Client(name) => Some(name.clone()),
            Caller::Admin => Some("admin".to_owned()),
            Caller::Anonymous => None,
        },
        request_id: id.clone(),
        workspace: agent.workspace.clone(),
    };
    let out_headers = hearth_headers(&agent.id, &shown_model, &provider.id, &id);
    let timeouts = config.gateway.timeouts;
    let policy = agent.policy.clone();
    tracing::info!(request_id = %id, agent = %agent.id, model = %shown_model, stream = request.stream == Some(true), "chat completion");
    request.model = target.model.clone();

    if request.stream != Some(true) {
        let answer = tokio::time::timeout(timeouts.total, backend.chat(request, &params))
            .await
            .map_err(|_| BackendError::Timeout {
                provider: provider.id.clone(),
                phase: "answer",
                after: timeouts.total,
            })??;
        let mut answer = answer;
        let records = enforce::response(&policy, &audit, &mut answer);
        audit.write(&records).await;
        answer.model = shown_model;
        return Ok((out_headers, Json(answer)).into_response());
    }

    let wants_usage = request
        .stream_options
        .as_ref()
        .and_then(|options| options.include_usage)
        .unwrap_or(false);
    let started = Instant::now();
    let mut upstream: ChunkStream =
        tokio::time::timeout(timeouts.first_token, backend.chat_stream(request, &params))
            .await
            .map_err(|_| BackendError::Timeout {
                provider: provider.id.clone(),
                phase: "first token",
                after: timeouts.first_token,
            })??;
    // Early failures are still real HTTP errors: wait a moment for the first chunk.
    let first =
        match tokio::time::timeout(FIRST_CHUNK_GRACE.min(timeouts.first_token), upstream.next())
            .await
        {
            Ok(Some(Ok(chunk))) => Some(chunk),
            Ok(Some(Err(error))) => return Err(error.into()),
            Ok(None) => {
                return Err(BackendError::Truncated {
                    provider: provider.id.clone(),
                }
                .into());
            }
            Err(_) => None,
        };
    let provider_id = provider.id.clone();
    let body = async_stream::stream! {
        let mut filter = StreamFilter::default();
        let shape = |mut chunk: ChatCompletionChunk, filter: &mut StreamFilter| -> Option<String> {
            filter.filter(&policy, &mut chunk);
            if !wants_usage {
                chunk.usage = None;
                if chunk.choices.is_empty() {
                    return None;
                }
            }
            chunk.model.clone_from(&shown_model);
            serde_json::to_string(&chunk).ok().map(|json| format!("data: {json}\n\n"))
        };
        let mut last = Instant::now();
        let mut got_first = first.is_some();
        if let Some(event) = first.and_then(|chunk| shape(chunk, &mut filter)) {
            yield event;
        }
        let total_deadline = tokio::time::Instant::from_std(started + timeouts.total);
        let mut keep_alive = tokio::time::interval(KEEP_ALIVE_EVERY);
        keep_alive.tick().await;
        loop {
            let (limit, phase) = if got_first {
                (timeouts.idle, "chunk (idle)")
            } else {
                (timeouts.first_token, "first token")
            };
            let deadline = tokio::time::Instant::from_std(last + limit).min(total_deadline);
            let phase = if deadline == total_deadline { "complete answer" } else { phase };
            tokio::select! {
                next = tokio::time::timeout_at(deadline, upstream.next()) => match next {
                    Err(_) => {
                        let error = BackendError::Timeout {
                            provider: provider_id.clone(),
                            phase,
                            after: deadline.into_std().saturating_duration_since(if got_first { last } else { started }),
                        };
                        tracing::warn!(%error, "stream ended by timeout");
                        yield enforce::stream_error_event(&error.to_string());
                        break;
                    }
                    Ok(None) => {
                        yield DONE.to_owned();
                        break;
                    }
                    Ok(Some(Err(error))) => {
                        tracing::warn!(%error, "backend failed mid-stream");
                        yield enforce::stream_error_event(&error.to_string());
                        break;
                    }
                    Ok(Some(Ok(chunk))) => {
                        got_first = true;
                        last = Instant::now();
                        if let Some(event) = shape(chunk, &mut filter) {
                            yield event;
                        }
                    }
                },
                _ = keep_alive.tick(), if !got_first => {
                    yield KEEP_ALIVE.to_owned();
                }
            }
        }
        let blocked = filter.blocked();
        if blocked > 0 {
            tracing::info!(blocked, "denied tool calls removed from the stream");
        }
        audit.write(&filter.records(&policy, &audit)).await;
    };
    let mut response = Response::new(Body::from_stream(
        body.map(|event| Ok::<Bytes, Infallible>(Bytes::from(event))),
    ));
    let headers = response.headers_mut();
    headers.extend(out_headers);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}
