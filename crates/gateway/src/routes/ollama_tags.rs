//! `GET /api/tags`: the models an Ollama client may name, in Ollama's list shape. Every
//! configured model is listed as `provider/model-id` and every alias under its own name (with
//! `alias_of` saying what it points to), since both work as `model` on `/api/chat`.
//!
//! Sizes come from the model's `sizeBytes` when configured. `ollama` providers are asked for
//! their own `/api/tags`, which fills in what the config leaves out (size, digest, details, the
//! date on disk); a provider that lists no models serves whatever its backend has, so that list
//! is asked for too. A backend that does not answer is left out of the enrichment with a log
//! line — the configured models are still listed. `modified_at`, where no backend gives one,
//! is when the configuration file last changed.

use axum::{
    Json,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use futures_util::future::join_all;
use hearth_core::config::{Config, model::Provider};
use hearth_protocol::ollama::{ListResponse, ModelSummary};
use serde_json::Value;

use super::ollama_chat::{created_at, refused, rfc3339};
use crate::{
    auth::authenticate,
    error::GatewayError,
    providers::{Backend, BackendError},
    state::Gateway,
};

pub async fn tags(State(gateway): State<Gateway>, headers: HeaderMap) -> Response {
    match list(&gateway, &headers).await {
        Ok(list) => Json(list).into_response(),
        Err(error) => refused(error, "Ollama model list"),
    }
}

async fn list(gateway: &Gateway, headers: &HeaderMap) -> Result<ListResponse, GatewayError> {
    let runtime = gateway.runtime();
    authenticate(&runtime, headers)?;
    let config = &runtime.config;
    let configured_at = configured_at(gateway).await;
    let asked = config.providers.values().filter_map(|provider| {
        let backend = runtime.backends.get(&provider.id)?;
        let ask = matches!(backend, Backend::Ollama(_)) || provider.models.is_empty();
        ask.then(|| on_backend(provider, backend))
    });
    let on_backends = join_all(asked).await;
    let mut models = Vec::new();
    for provider in config.providers.values() {
        let on_backend = on_backends
            .iter()
            .find(|(id, _)| *id == provider.id)
            .map_or(&[][..], |(_, models)| models.as_slice());
        models.extend(listed(provider, on_backend, &configured_at));
    }
    models.extend(aliases(config, &models, &configured_at));
    Ok(ListResponse { models })
}

/// What a backend has, by its own names; nothing (logged) when it does not answer.
async fn on_backend(provider: &Provider, backend: &Backend) -> (String, Vec<ModelSummary>) {
    let ask = async {
        match backend {
            Backend::Ollama(ollama) => ollama.tags().await.map(|tags| tags.models),
            Backend::OpenAi(_) | Backend::Responses(_) | Backend::Anthropic(_) => {
                backend.list_models().await.map(|ids| {
                    ids.into_iter()
                        .map(|id| ModelSummary {
                            model: id.clone(),
                            name: id,
                            ..ModelSummary::default()
                        })
                        .collect()
                })
            }
        }
    };
    let answer: Result<Vec<ModelSummary>, BackendError> =
        tokio::time::timeout(crate::providers::STATUS_TIMEOUT, ask)
            .await
            .unwrap_or_else(|_| {
                Err(BackendError::Timeout {
                    provider: provider.id.clone(),
                    phase: "model list",
                    after: crate::providers::STATUS_TIMEOUT,
                })
            });
    let models = answer.unwrap_or_else(|error| {
        tracing::warn!(provider = %provider.id, %error, "/api/tags: backend model list skipped");
        Vec::new()
    });
    (provider.id.clone(), models)
}

/// The provider's models under Hearth's names: the configured ones (enriched by what the
/// backend says of them), or, when none are configured, all the backend has.
fn listed(
    provider: &Provider,
    on_backend: &[ModelSummary],
    configured_at: &str,
) -> Vec<ModelSummary> {
    let named = |mut summary: ModelSummary, id: &str| {
        summary.name = format!("{}/{id}", provider.id);
        summary.model.clone_from(&summary.name);
        if summary.modified_at.is_empty() {
            configured_at.clone_into(&mut summary.modified_at);
        }
        summary
    };
    if provider.models.is_empty() {
        return on_backend
            .iter()
            .map(|summary| named(summary.clone(), &summary.name.clone()))
            .collect();
    }
    provider
        .models
        .iter()
        .map(|model| {
            let found = on_backend.iter().find(|summary| {
                // Ollama lists `llama3.2:latest` for a model configured as `llama3.2`.
                summary.name == model.id
                    || summary.model == model.id
                    || summary.name.strip_suffix(":latest") == Some(model.id.as_str())
            });
            let mut summary = named(found.cloned().unwrap_or_default(), &model.id);
            if let Some(size) = model.size_bytes {
                summary.size = size;
            }
            summary
        })
        .collect()
}

/// Every alias as a model of its own, described like its target.
fn aliases(config: &Config, models: &[ModelSummary], configured_at: &str) -> Vec<ModelSummary> {
    config
        .aliases
        .iter()
        .map(|(alias, target)| {
            let target_name = target.to_string();
            let mut summary = models
                .iter()
                .find(|summary| summary.name == target_name)
                .cloned()
                .unwrap_or_else(|| ModelSummary {
                    modified_at: configured_at.to_owned(),
                    ..ModelSummary::default()
                });
            summary.name.clone_from(alias);
            summary.model.clone_from(alias);
            summary
                .extra
                .insert("alias_of".to_owned(), Value::String(target_name));
            summary
        })
        .collect()
}

/// When the configuration file last changed (now, when there is no file to ask).
async fn configured_at(gateway: &Gateway) -> String {
    let Some(file) = gateway.config_file() else {
        return created_at();
    };
    match tokio::fs::metadata(file)
        .await
        .and_then(|meta| meta.modified())
    {
        Ok(modified) => rfc3339(modified),
        Err(_) => created_at(),
    }
}

#[cfg(test)]
mod tests {
    use hearth_core::config::file::{Api, ModelFile};

    use super::*;

    fn model(id: &str, size_bytes: Option<u64>) -> ModelFile {
        serde_json::from_value(serde_json::json!({ "id": id, "sizeBytes": size_bytes })).unwrap()
    }

    fn provider(id: &str, models: Vec<ModelFile>) -> Provider {
        Provider {
            id: id.to_owned(),
            api: Api::Ollama,
            base_url: "http://127.0.0.1:11434".to_owned(),
            api_key: None,
            models,
            any_model: false,
        }
    }

    fn show(models: &[ModelSummary]) -> Vec<String> {
        models
            .iter()
            .map(|m| format!("{} {} {} {}", m.name, m.size, m.digest, m.modified_at))
            .collect()
    }

    #[test]
    fn configured_models_take_the_backends_details_and_the_configs_size() {
        let on_backend = [
            ModelSummary {
                name: "llama3.2:latest".to_owned(),
                model: "llama3.2:latest".to_owned(),
                size: 2_000,
                digest: "abc".to_owned(),
                modified_at: "2025-01-02T03:04:05Z".to_owned(),
                ..ModelSummary::default()
            },
            ModelSummary {
                name: "qwen3:8b".to_owned(),
                size: 5_000,
                ..ModelSummary::default()
            },
        ];
        let configured = provider(
            "ollama",
            vec![
                model("llama3.2", None),
                model("qwen3:8b", Some(42)),
                model("gone", None),
            ],
        );
        assert_eq!(
            show(&listed(&configured, &on_backend, "T")),
            [
                "ollama/llama3.2 2000 abc 2025-01-02T03:04:05Z",
                "ollama/qwen3:8b 42  T",
                "ollama/gone 0  T",
            ]
        );
        // No models configured: whatever the backend has, under Hearth's names.
        assert_eq!(
            show(&listed(&provider("ollama", Vec::new()), &on_backend, "T")),
            [
                "ollama/llama3.2:latest 2000 abc 2025-01-02T03:04:05Z",
                "ollama/qwen3:8b 5000  T",
            ]
        );
    }
}
