//! `POST /v1/responses`, `GET` and `DELETE /v1/responses/{id}`: the OpenAI Responses API in
//! front of every backend, also those that lack it. The request is translated into the
//! canonical form (`responses_request_to_openai`) and takes the same pipeline as a chat
//! completion — routing, tool policy, context guard, timeouts, metrics — and the answer comes
//! back as a `Response` object, or as Responses server-sent events (`response.created` …
//! `response.completed`, each with its `sequence_number`).
//!
//! Hearth keeps the conversation itself: unless `store` is false, each response is saved with
//! the whole conversation through its output in the agent's workspace ([`ResponseStore`]), and
//! `previous_response_id` puts that conversation before the new input. A response is found only
//! by the agent it belongs to. A streamed response is saved before `response.completed` goes
//! out, so a client may go on from it the moment it sees that event.

use std::{
    path::PathBuf,
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;
use hearth_protocol::{
    convert::{
        OpenAiToResponsesStream, ResponseContext, chat_response_to_response, conversation,
        input_items, listed_input_items, responses_request_to_openai,
    },
    framing::sse::KEEP_ALIVE,
    from_json,
    openai::responses::{InputItem, ResponsesRequest},
};
use serde_json::json;

use crate::{
    auth::{Caller, authenticate},
    error::GatewayError,
    pipeline::{self, StreamEvent},
    response_store::{self, ResponseStore, StoredResponse},
    state::{Gateway, Runtime},
};

pub async fn create(State(gateway): State<Gateway>, headers: HeaderMap, body: Bytes) -> Response {
    handle(gateway, headers, body)
        .await
        .unwrap_or_else(|error| refused(error, "response"))
}

pub async fn get(
    State(gateway): State<Gateway>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let found = async {
        let (store, workspace, agent) = agent_store(&gateway, &headers)?;
        let stored = load(&store, &workspace, &agent, &id).await?;
        Ok::<_, GatewayError>(Json(stored.response).into_response())
    };
    found
        .await
        .unwrap_or_else(|error| refused(error, "response lookup"))
}

/// `?order=asc|desc&limit=1..100&after=ITEM_ID`, as OpenAI's list endpoints take them.
#[derive(Debug, serde::Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    order: Option<String>,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

/// `GET /v1/responses/{id}/input_items`: the response's own input (not its history), newest
/// first unless `order=asc`, a page at a time.
pub async fn input_items_list(
    State(gateway): State<Gateway>,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<ListQuery>,
    headers: HeaderMap,
) -> Response {
    let listed = async {
        let (store, workspace, agent) = agent_store(&gateway, &headers)?;
        let limit = match query.limit.as_deref() {
            None => 20,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|limit| (1..=100).contains(limit))
                .ok_or_else(|| GatewayError::BadRequest {
                    message: format!("`limit` must be a whole number from 1 to 100, not {text:?}"),
                    code: "invalid_request",
                })?,
        };
        let ascending = match query.order.as_deref() {
            None | Some("desc") => false,
            Some("asc") => true,
            Some(other) => {
                return Err(GatewayError::BadRequest {
                    message: format!("`order` must be `asc` or `desc`, not {other:?}"),
                    code: "invalid_request",
                });
            }
        };
        let stored = load(&store, &workspace, &agent, &id).await?;
        let own = stored
            .conversation
            .get(stored.input.clone())
            .unwrap_or_default();
        let mut items = listed_input_items(own, &stored.response.id);
        if !ascending {
            items.reverse();
        }
        let start = match &query.after {
            Some(after) => {
                items
                    .iter()
                    .position(|item| item.id() == Some(after.as_str()))
                    .ok_or_else(|| GatewayError::BadRequest {
                        message: format!("`after`: no input item {after:?} in this response"),
                        code: "invalid_request",
                    })?
                    + 1
            }
            None => 0,
        };
        let end = (start + limit).min(items.len());
        let page: Vec<InputItem> = items.get(start..end).unwrap_or_default().to_vec();
        Ok::<_, GatewayError>(
            Json(json!({
                "object": "list",
                "data": page,
                "first_id": page.first().and_then(InputItem::id),
                "last_id": page.last().and_then(InputItem::id),
                "has_more": end < items.len(),
            }))
            .into_response(),
        )
    };
    listed
        .await
        .unwrap_or_else(|error| refused(error, "input item list"))
}

pub async fn delete(
    State(gateway): State<Gateway>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let deleted = async {
        let (store, workspace, agent) = agent_store(&gateway, &headers)?;
        let deleted = store
            .delete(&workspace, &agent, &id)
            .await
            .map_err(storage_error)?;
        if !deleted {
            return Err(not_found(&id));
        }
        Ok(Json(json!({ "id": id, "object": "response", "deleted": true })).into_response())
    };
    deleted
        .await
        .unwrap_or_else(|error| refused(error, "response deletion"))
}

fn refused(error: GatewayError, what: &str) -> Response {
    tracing::warn!(status = %error.status(), %error, "{what} refused");
    error.into_response()
}

async fn handle(
    gateway: Gateway,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GatewayError> {
    // Authentication comes before parsing: a stranger learns nothing from our parse errors.
    let caller = authenticate(&gateway.runtime(), &headers)?;
    let request: ResponsesRequest = from_json(&body).map_err(GatewayError::invalid_body)?;
    let (store, workspace, agent) = routed_store(&gateway.runtime(), &caller, &headers)?;
    let history = match request.previous_response_id.as_deref() {
        Some(previous) => load(&store, &workspace, &agent, previous)
            .await
            .map_err(|error| match error {
                GatewayError::NotFound(_) => GatewayError::BadRequest {
                    message: format!(
                        "previous response `{previous}` not found: it was never stored (`store: false`), was deleted, expired, or belongs to another agent"
                    ),
                    code: "previous_response_not_found",
                },
                other => other,
            })?
            .conversation,
        None => Vec::new(),
    };
    within_limit(&gateway.runtime(), &request, &history, body.len())?;
    let canonical =
        responses_request_to_openai(&request, &history).map_err(GatewayError::untranslatable)?;
    let streamed = request.stream == Some(true);
    let prepared =
        pipeline::prepare(&gateway, &headers, &caller, canonical, "openai-responses").await?;
    if prepared.agent() != agent {
        // The configuration changed between the lookup and routing: the history read belongs
        // to another agent than the one that would answer.
        return Err(GatewayError::BadRequest {
            message: "the configuration changed while the request was routed; send it again"
                .to_owned(),
            code: "config_changed",
        });
    }
    let context = ResponseContext {
        id: response_store::new_id(),
        created_at: now(),
        model: prepared.shown_model.clone(),
        previous_response_id: request.previous_response_id.clone(),
        store: request.store != Some(false),
    };
    let input = history.len()..history.len() + input_items(&request).len();
    let saver = Saver {
        store: context.store.then_some(store),
        workspace,
        agent,
        input,
    };
    if !streamed {
        let (out_headers, answer) = prepared.complete().await?;
        let response = chat_response_to_response(answer, &request, &context);
        saver
            .save(&response, conversation(&history, &request, &response))
            .await;
        return Ok((out_headers, Json(response)).into_response());
    }
    let (out_headers, events) = prepared.stream().await?;
    let sse = async_stream::stream! {
        let mut translator = OpenAiToResponsesStream::new(&request, context);
        for event in translator.start() {
            yield event.to_sse();
        }
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            match event {
                StreamEvent::Chunk(chunk) => {
                    for event in translator.push(*chunk) {
                        yield event.to_sse();
                    }
                }
                StreamEvent::KeepAlive => yield KEEP_ALIVE.to_owned(),
                StreamEvent::Failed(message) => {
                    for event in translator.fail(&message) {
                        yield event.to_sse();
                    }
                    break;
                }
                StreamEvent::Done => {
                    let closing = translator.finish();
                    let response = translator.response();
                    saver.save(response, conversation(&history, &request, response)).await;
                    for event in closing {
                        yield event.to_sse();
                    }
                    break;
                }
            }
        }
    };
    Ok(super::streamed(out_headers, "text/event-stream", sse))
}

/// A conversation from `previous_response_id` is a request as large as if the client had sent
/// it whole, and is held to the same limit (`gateway.bodyLimitMiB`): otherwise a chain grows
/// one stored file, and what every turn loads and sends, without bound.
fn within_limit(
    runtime: &Runtime,
    request: &ResponsesRequest,
    history: &[InputItem],
    body: usize,
) -> Result<(), GatewayError> {
    let Some(previous) = request.previous_response_id.as_deref() else {
        return Ok(());
    };
    let limit = runtime.config.gateway.body_limit_bytes;
    let size = serde_json::to_vec(history).map_or(usize::MAX, |bytes| bytes.len()) + body;
    if size <= limit {
        return Ok(());
    }
    const MIB: f64 = 1024.0 * 1024.0;
    Err(GatewayError::BadRequest {
        message: format!(
            "the conversation up to `{previous}` with this input is {:.1} MiB, over the limit of {} MiB for a request (`gateway.bodyLimitMiB`): start a new conversation, or send a shorter one without `previous_response_id`",
            size as f64 / MIB,
            limit / (1024 * 1024)
        ),
        code: "conversation_too_large",
    })
}

/// Where a finished response goes, if anywhere.
struct Saver {
    store: Option<ResponseStore>,
    workspace: PathBuf,
    agent: String,
    /// Where the request's own input lies in the conversation.
    input: std::ops::Range<usize>,
}

impl Saver {
    /// Saves a response that ended (completed or incomplete). A failure to save does not take
    /// the answer from the client; it is logged, and going on from it will say "not found".
    async fn save(
        &self,
        response: &hearth_protocol::openai::responses::Response,
        conversation: Vec<InputItem>,
    ) {
        let Some(store) = &self.store else {
            return;
        };
        let stored = StoredResponse {
            agent: self.agent.clone(),
            response: response.clone(),
            conversation,
            input: self.input.clone(),
        };
        if let Err(error) = store.save(&self.workspace, stored).await {
            tracing::error!(
                agent = %self.agent,
                response = %response.id,
                %error,
                "cannot store the response; previous_response_id will not find it"
            );
        }
    }
}

/// The store, workspace and agent of whoever is asking (for a lookup or a deletion).
fn agent_store(
    gateway: &Gateway,
    headers: &HeaderMap,
) -> Result<(ResponseStore, PathBuf, String), GatewayError> {
    let runtime = gateway.runtime();
    let caller = authenticate(&runtime, headers)?;
    routed_store(&runtime, &caller, headers)
}

fn routed_store(
    runtime: &Runtime,
    caller: &Caller,
    headers: &HeaderMap,
) -> Result<(ResponseStore, PathBuf, String), GatewayError> {
    let config = &runtime.config;
    let route = pipeline::route_caller(config, caller, headers);
    let agent = config
        .agent(&route.agent)
        .ok_or_else(|| GatewayError::ModelNotFound {
            message: format!("agent `{}` is not configured", route.agent),
        })?;
    let store = ResponseStore::new(
        config.gateway.responses_max_stored,
        config.gateway.responses_max_age,
        config.gateway.responses_max_bytes,
    );
    Ok((store, agent.workspace.clone(), agent.id.clone()))
}

async fn load(
    store: &ResponseStore,
    workspace: &std::path::Path,
    agent: &str,
    id: &str,
) -> Result<StoredResponse, GatewayError> {
    store
        .load(workspace, agent, id)
        .await
        .map_err(storage_error)?
        .ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> GatewayError {
    GatewayError::NotFound(format!(
        "no response `{}` is stored for this agent",
        crate::providers::shorten(id, 80)
    ))
}

fn storage_error(error: std::io::Error) -> GatewayError {
    tracing::error!(%error, "response store");
    GatewayError::ServiceFailed {
        message: "the response store cannot be read or written; see Hearth's log".to_owned(),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
