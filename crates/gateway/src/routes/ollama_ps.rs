//! `GET /api/ps`: the models in memory, per backend, in Ollama's shape, named as Hearth names
//! them (`provider/model`) so a client can send the name back.
//!
//! What "in memory" can honestly mean depends on the backend:
//! - `ollama` providers are asked (`/api/ps`), and their answer is passed on as it is.
//! - An OpenAI-compatible server (llama-server, mlx_lm.server, LM Studio…) cannot say what it
//!   holds. llama-server and mlx_lm.server keep their model for as long as they run, so when
//!   the server answers its health check Hearth reports the provider's models that the
//!   configuration routes to by default — the global primary and agents' own models — and
//!   nothing otherwise. Their `expires_at` is Ollama's "never" (what Ollama itself reports for
//!   `keep_alive: -1`: now plus Go's longest duration, about 292 years), `size` is the
//!   configured `sizeBytes` (else 0), `size_vram` is 0 (unknown).
//!
//! A backend that does not answer is left out, with a log line; the route still answers 200.

use std::time::{Duration, SystemTime};

use axum::{
    Json,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use futures_util::future::join_all;
use hearth_core::config::{Config, model::Provider};
use hearth_protocol::ollama::{PsResponse, RunningModel};

use super::ollama_chat::{refused, rfc3339};
use crate::{auth::authenticate, error::GatewayError, providers::Backend, state::Gateway};

/// Go's `time.Duration(math.MaxInt64)`: what Ollama adds to now for a model that never unloads.
const NEVER: Duration = Duration::from_nanos(i64::MAX as u64);

pub async fn ps(State(gateway): State<Gateway>, headers: HeaderMap) -> Response {
    match running(&gateway, &headers).await {
        Ok(list) => Json(list).into_response(),
        Err(error) => refused(error, "Ollama running-model list"),
    }
}

async fn running(gateway: &Gateway, headers: &HeaderMap) -> Result<PsResponse, GatewayError> {
    let runtime = gateway.runtime();
    authenticate(&runtime, headers)?;
    let config = &runtime.config;
    let asked = config.providers.values().filter_map(|provider| {
        let backend = runtime.backends.get(&provider.id)?;
        Some(resident(config, provider, backend))
    });
    let models = join_all(asked).await.into_iter().flatten().collect();
    Ok(PsResponse { models })
}

/// What one backend holds; nothing (logged) when it does not answer.
async fn resident(config: &Config, provider: &Provider, backend: &Backend) -> Vec<RunningModel> {
    let ask = async {
        match backend {
            Backend::Ollama(ollama) => ollama.running().await.map(|ps| {
                ps.models
                    .into_iter()
                    .map(|mut model| {
                        model.name = format!("{}/{}", provider.id, model.name);
                        model.model = format!("{}/{}", provider.id, model.model);
                        model
                    })
                    .collect()
            }),
            Backend::OpenAi(_) | Backend::Responses(_) | Backend::Anthropic(_) => backend
                .health()
                .await
                .map(|()| routed_models(config, provider)),
        }
    };
    let answer = tokio::time::timeout(crate::providers::STATUS_TIMEOUT, ask)
        .await
        .unwrap_or_else(|_| {
            Err(crate::providers::BackendError::Timeout {
                provider: provider.id.clone(),
                phase: "status answer",
                after: crate::providers::STATUS_TIMEOUT,
            })
        });
    answer.unwrap_or_else(|error| {
        tracing::warn!(provider = %provider.id, %error, "/api/ps: backend skipped");
        Vec::new()
    })
}

/// The provider's models the configuration routes to by default, as resident for good.
fn routed_models(config: &Config, provider: &Provider) -> Vec<RunningModel> {
    let routed: Vec<_> = config
        .primary
        .iter()
        .chain(
            config
                .agents
                .iter()
                .filter_map(|agent| agent.model.as_ref()),
        )
        .filter(|reference| reference.provider == provider.id)
        .collect();
    let expires_at = rfc3339(SystemTime::now() + NEVER);
    let mut models: Vec<RunningModel> = Vec::new();
    for reference in routed {
        let name = reference.to_string();
        if models.iter().any(|model| model.name == name) {
            continue;
        }
        let configured = provider.model(&reference.model);
        models.push(RunningModel {
            model: name.clone(),
            name,
            size: configured.and_then(|model| model.size_bytes).unwrap_or(0),
            expires_at: expires_at.clone(),
            context_length: configured.and_then(|model| model.context_window),
            ..RunningModel::default()
        });
    }
    models
}
