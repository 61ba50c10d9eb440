//! `POST /api/chat`: Ollama's native chat, so any Ollama client can use Hearth. The request is
//! translated into the canonical form (`chat_request_to_openai`) and goes through the same
//! pipeline as every other API — routing, tool policy, context guard, timeouts — and the answer
//! comes back in Ollama's shape: one JSON object, or (Ollama's default, `stream` absent) NDJSON
//! lines written as the chunks arrive, ending with the `done: true` line that carries
//! `done_reason` and the eval counts. Nothing is written while the backend loads (Ollama sends
//! nothing either); a backend failing mid-stream ends the stream with an `{"error": "..."}`
//! line. Errors before the answer starts are `{"error": "..."}` with their HTTP status.
//!
//! A request without messages is Ollama's "load the model" (with `keep_alive: 0`, "unload")
//! request. Hearth keeps models resident itself, so it checks that the model routes and answers
//! `done: true` with `done_reason: "load"` (or `"unload"`) without calling the backend.
//!
//! `/api/generate` (`ollama_generate.rs`) is a chat underneath and shares [`answer`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use futures_util::{Stream, StreamExt};
use hearth_protocol::{
    convert::{OpenAiToOllamaStream, chat_request_to_openai, chat_response_to_ollama},
    from_json,
    ollama::{ChatRequest, ChatResponse, DoneReason, ErrorResponse, KeepAlive, Message},
};
use serde::Serialize;

use crate::{
    auth::{Caller, authenticate},
    error::GatewayError,
    pipeline::{self, StreamEvent},
    providers::BackendError,
    state::Gateway,
};

pub async fn chat(State(gateway): State<Gateway>, headers: HeaderMap, body: Bytes) -> Response {
    let answered = async {
        // Authentication comes before parsing: a stranger learns nothing from our parse errors.
        let caller = authenticate(&gateway.runtime(), &headers)?;
        let request: ChatRequest = from_json(&body).map_err(GatewayError::invalid_body)?;
        answer(
            &gateway,
            &headers,
            &caller,
            request,
            "ollama-chat",
            |reply| reply,
        )
        .await
    };
    answered
        .await
        .unwrap_or_else(|error| refused(error, "Ollama chat"))
}

/// Logs a refused request and answers it in Ollama's error shape.
pub(super) fn refused(error: GatewayError, what: &str) -> Response {
    tracing::warn!(status = %error.status(), %error, "{what} refused");
    error.into_ollama_response()
}

/// Answers an Ollama chat request. `shape` turns each Ollama chat response (the whole answer, or
/// one line of a stream) into what the route sends: itself for `/api/chat`, a generate
/// response for `/api/generate`. `api` names the client API in the metrics.
pub(super) async fn answer<T>(
    gateway: &Gateway,
    headers: &HeaderMap,
    caller: &Caller,
    request: ChatRequest,
    api: &'static str,
    shape: fn(ChatResponse) -> T,
) -> Result<Response, GatewayError>
where
    T: Serialize + Send + 'static,
{
    if request.messages.is_empty() {
        return Ok(Json(shape(load(gateway, headers, caller, &request)?)).into_response());
    }
    let streamed = request.streams();
    let canonical = chat_request_to_openai(request).map_err(GatewayError::untranslatable)?;
    let prepared = pipeline::prepare(gateway, headers, caller, canonical, api).await?;
    let provider = prepared.provider().to_owned();
    if !streamed {
        let (out_headers, answer) = prepared.complete().await?;
        // The backend's tool-call arguments must be a JSON object for Ollama; if they are not,
        // the backend sent something Hearth cannot hand on.
        let reply = chat_response_to_ollama(answer, &created_at())
            .map_err(|source| BackendError::Translate { provider, source })?;
        return Ok((out_headers, Json(shape(reply))).into_response());
    }
    let (out_headers, events) = prepared.stream().await?;
    Ok(super::streamed(
        out_headers,
        "application/x-ndjson",
        ndjson(events, provider, shape),
    ))
}

/// The pipeline's events as Ollama NDJSON lines, each written as soon as its chunk arrives.
fn ndjson<T>(
    events: impl Stream<Item = StreamEvent> + Send + 'static,
    provider: String,
    shape: fn(ChatResponse) -> T,
) -> impl Stream<Item = Bytes> + Send + 'static
where
    T: Serialize + Send + 'static,
{
    async_stream::stream! {
        let mut events = std::pin::pin!(events);
        let mut converter = OpenAiToOllamaStream::new();
        while let Some(event) = events.next().await {
            let replies = match event {
                StreamEvent::Chunk(chunk) => converter.push(*chunk, &created_at()),
                StreamEvent::KeepAlive => continue,
                StreamEvent::Done => converter.finish(&created_at()),
                StreamEvent::Failed(message) => {
                    yield line(&ErrorResponse::new(message));
                    return;
                }
            };
            match replies {
                Ok(replies) => {
                    for reply in replies {
                        yield line(&shape(reply));
                    }
                }
                Err(source) => {
                    let error = BackendError::Translate { provider: provider.clone(), source };
                    tracing::warn!(%error, "Ollama stream ended: untranslatable chunk");
                    yield line(&ErrorResponse::new(error.to_string()));
                    return;
                }
            }
        }
        if !converter.is_finished() {
            // The pipeline always ends with `Done` or `Failed`; never leave a client waiting
            // for a `done` line that will not come.
            yield line(&ErrorResponse::new("the answer ended before it was complete"));
        }
    }
}

/// One NDJSON line.
fn line(value: &impl Serialize) -> Bytes {
    let mut json = serde_json::to_vec(value).unwrap_or_else(|error| {
        // Hearth's own wire types always serialize; say so on the wire if one ever does not.
        format!(r#"{{"error":"cannot serialize the answer: {error}"}}"#).into_bytes()
    });
    json.push(b'\n');
    Bytes::from(json)
}

/// The answer to a request without messages: the model must route, and nothing more happens.
fn load(
    gateway: &Gateway,
    headers: &HeaderMap,
    caller: &Caller,
    request: &ChatRequest,
) -> Result<ChatResponse, GatewayError> {
    let runtime = gateway.runtime();
    let config = &runtime.config;
    let route = pipeline::route_caller(config, caller, headers);
    let target = pipeline::choose_model(config, &route, caller, &request.model)?;
    if !runtime.backends.contains_key(&target.provider) {
        let api = config
            .providers
            .get(&target.provider)
            .map_or("unknown", |provider| provider.api.as_str());
        return Err(BackendError::Unsupported {
            provider: target.provider,
            api,
        }
        .into());
    }
    let reason = if request.keep_alive.as_ref().is_some_and(unloads) {
        DoneReason::Unload
    } else {
        DoneReason::Load
    };
    tracing::info!(model = %target, ?reason, "Ollama load request answered without a backend call");
    Ok(ChatResponse {
        model: target.to_string(),
        created_at: created_at(),
        message: Message::default(),
        done: true,
        done_reason: Some(reason),
        ..ChatResponse::default()
    })
}

/// `keep_alive: 0` (or `"0"`, `"0s"`, `"0m"`…): unload now.
fn unloads(keep_alive: &KeepAlive) -> bool {
    match keep_alive {
        KeepAlive::Seconds(seconds) => seconds.as_f64() == Some(0.0),
        KeepAlive::Duration(text) => text
            .trim()
            .trim_end_matches(char::is_alphabetic)
            .parse::<f64>()
            .is_ok_and(|value| value == 0.0),
    }
}

/// Now, as Ollama stamps `created_at`.
pub(super) fn created_at() -> String {
    rfc3339(SystemTime::now())
}

/// RFC 3339 in UTC with microseconds (`2024-07-22T20:33:28.123648Z`), the form Ollama clients
/// parse. Hand-written (the civil-from-days algorithm) rather than a date crate for one format.
pub(super) fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let seconds = since.as_secs();
    let (days, of_day) = (seconds / 86_400, seconds % 86_400);
    // Howard Hinnant's `civil_from_days`, for days since 1970-01-01 (never negative here).
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        of_day / 3_600,
        of_day % 3_600 / 60,
        of_day % 60,
        since.subsec_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339() {
        let at = |seconds: u64, micros: u64| {
            rfc3339(UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_micros(micros))
        };
        let cases = [
            (at(0, 0), "1970-01-01T00:00:00.000000Z"),
            (at(951_782_400, 0), "2000-02-29T00:00:00.000000Z"),
            (at(951_868_799, 999_999), "2000-02-29T23:59:59.999999Z"),
            (at(1_721_680_408, 123_648), "2024-07-22T20:33:28.123648Z"),
            (at(4_102_444_800, 0), "2100-01-01T00:00:00.000000Z"),
            (at(11_013_321_600, 0), "2319-01-01T00:00:00.000000Z"),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn keep_alive_zero_means_unload() {
        let seconds = |n: i64| KeepAlive::Seconds(n.into());
        let text = |t: &str| KeepAlive::Duration(t.to_owned());
        assert!(unloads(&seconds(0)));
        assert!(unloads(&text("0")));
        assert!(unloads(&text("0s")));
        assert!(unloads(&text("0m")));
        assert!(!unloads(&seconds(-1)));
        assert!(!unloads(&text("5m")));
        assert!(!unloads(&text("24h")));
    }
}
