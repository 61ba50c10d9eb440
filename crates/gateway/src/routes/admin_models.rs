//! The admin API for models and residency (admin token and a loopback `Host`): the models and
//! which are resident, switching the active one with its progress streamed, unloading, memory,
//! and a server-sent event stream of every state change.

use std::convert::Infallible;

use axum::{
    Json,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use futures_util::StreamExt as _;
use hearth_core::config::ModelRef;
use hearth_services::memory;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    auth::require_admin,
    error::GatewayError,
    residency::{self, Event},
    state::Gateway,
};

/// `GET /admin/models`: every configured model, which are resident and which is active, the
/// estimated peak of each, contention, memory and the last switch.
pub async fn list(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Value>, GatewayError> {
    let runtime = gateway.runtime();
    require_admin(&runtime, &headers)?;
    let layout = gateway.residency().layout();
    let resident = residency::resident(&gateway).await;
    let mut models = Vec::new();
    for provider in runtime.config.providers.values() {
        let service = residency::service_for(&runtime, layout, &provider.id);
        let service_state = match &service {
            Some(spec) => Some(gateway.residency().services().status(spec).await.state),
            None => None,
        };
        for model in &provider.models {
            let reference = ModelRef {
                provider: provider.id.clone(),
                model: model.id.clone(),
            };
            let name = reference.to_string();
            let size = residency::model_size(&runtime, layout, &reference);
            models.push(json!({
                "model": name,
                "provider": provider.id,
                "api": provider.api.as_str(),
                "service": service.as_ref().map(|spec| &spec.name),
                "serviceState": service_state,
                "resident": resident.iter().any(|found| found.model == name),
                "active": runtime.config.primary.as_ref() == Some(&reference),
                "sizeBytes": size,
                "contextWindow": model.context_window,
                "estimatedPeak": size.map(|size| memory::estimate(size, model.context_window).peak),
            }));
        }
    }
    Ok(Json(json!({
        "residency": runtime.config.file.models.residency.as_str(),
        "active": runtime.config.primary.as_ref().map(ToString::to_string),
        "models": models,
        "resident": resident,
        "contention": residency::contention(&resident),
        "memory": memory::sample(),
        "lastSwitch": gateway.residency().last_switch(),
    })))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Activate {
    /// `provider/model-id` or an alias.
    model: String,
    /// Load it even when the memory estimate says it does not fit.
    #[serde(default)]
    force: bool,
}

/// `POST /admin/models/activate` `{"model", "force"}`: switches the active model. The answer is
/// NDJSON: one progress object per step change, the last one saying `done` or `failed` and
/// why. The switch runs on its own task: a client that leaves does not leave it half done.
pub async fn activate(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GatewayError> {
    let runtime = gateway.runtime();
    require_admin(&runtime, &headers)?;
    let request: Activate =
        serde_json::from_slice(&body).map_err(|error| GatewayError::BadRequest {
            message: format!(
                "invalid activate request: {error}; send {{\"model\": \"provider/model\"}}"
            ),
            code: "invalid_request",
        })?;
    // An unknown model, or one no backend can serve, is an error before anything starts.
    let target = crate::pipeline::resolve_named_model(&runtime.config, &request.model)?;
    if !runtime.backends.contains_key(&target.provider) {
        return Err(GatewayError::ModelNotFound {
            message: format!(
                "provider `{}` cannot be served by this gateway (see `hearth status` warnings)",
                target.provider
            ),
        });
    }
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    let task_gateway = gateway.clone();
    tokio::spawn(async move {
        if let Err(error) =
            residency::activate(&task_gateway, &request.model, request.force, Some(sender)).await
        {
            tracing::warn!(%error, "model switch refused");
        }
    });
    let lines = tokio_stream_from(receiver).map(|progress| {
        let mut line = serde_json::to_vec(&progress).unwrap_or_default();
        line.push(b'\n');
        Ok::<Bytes, Infallible>(Bytes::from(line))
    });
    let mut response = Response::new(Body::from_stream(lines));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    Ok(response)
}

fn tokio_stream_from<T: Send + 'static>(
    mut receiver: tokio::sync::mpsc::UnboundedReceiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    async_stream::stream! {
        while let Some(item) = receiver.recv().await {
            yield item;
        }
    }
}

/// `POST /admin/models/unload`: unloads every resident model (the menu's "Unload all").
pub async fn unload(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Value>, GatewayError> {
    require_admin(&gateway.runtime(), &headers)?;
    let done = residency::unload_all(&gateway).await;
    Ok(Json(json!({ "unloaded": done })))
}

/// `GET /admin/bench`: the history `hearth bench` keeps in `<data dir>/bench/history.jsonl`,
/// oldest first.
pub async fn bench_history(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Value>, GatewayError> {
    require_admin(&gateway.runtime(), &headers)?;
    Ok(Json(
        json!({ "history": crate::bench::history(&gateway).await }),
    ))
}

/// `POST /admin/bench` `{model, runs, maxTokens}`: runs the benchmark (see `bench.rs`) and
/// answers with its record and each measured answer.
pub async fn bench(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<crate::bench::Outcome>, GatewayError> {
    require_admin(&gateway.runtime(), &headers)?;
    let request: crate::bench::Bench = if body.is_empty() {
        crate::bench::Bench {
            model: None,
            runs: None,
            max_tokens: None,
        }
    } else {
        serde_json::from_slice(&body).map_err(|error| GatewayError::BadRequest {
            message: format!("invalid bench request: {error}"),
            code: "invalid_request",
        })?
    };
    Ok(Json(crate::bench::run(&gateway, request).await?))
}

/// `GET /admin/memory`.
pub async fn memory(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Value>, GatewayError> {
    require_admin(&gateway.runtime(), &headers)?;
    Ok(Json(json!({ "memory": memory::sample() })))
}

/// `GET /admin/events`: server-sent events, one JSON object each — `service` (started,
/// healthy, exited, restarting, stopped) and `switch` (a model switch's progress) — with a
/// keep-alive comment every 15 s.
pub async fn events(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Response, GatewayError> {
    require_admin(&gateway.runtime(), &headers)?;
    let mut switches = gateway.residency().subscribe();
    let mut services = gateway.residency().services().subscribe();
    let mut closing = gateway.residency().closing();
    let stream = async_stream::stream! {
        yield Ok::<Bytes, Infallible>(Bytes::from_static(b": hearth events\n\n"));
        let mut keep_alive = tokio::time::interval(std::time::Duration::from_secs(15));
        keep_alive.tick().await;
        loop {
            let event = tokio::select! {
                event = switches.recv() => match event {
                    Ok(event) => Some(event),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => None,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
                event = services.recv() => match event {
                    Ok(event) => Some(Event::Service(event)),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => None,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
                _ = async { let _ = closing.wait_for(|closed| *closed).await; } => break,
                _ = keep_alive.tick() => {
                    yield Ok(Bytes::from_static(b": keep-alive\n\n"));
                    continue;
                }
            };
            if let Some(event) = event
                && let Ok(json) = serde_json::to_string(&event)
            {
                yield Ok(Bytes::from(format!("data: {json}\n\n")));
            }
        }
    };
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}
