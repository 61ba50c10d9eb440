//! The HTTP routes, one module per API. `router` wires them to the shared `Gateway`.

mod admin;
mod chat_completions;
mod embeddings;
mod health;
mod metrics;
mod models;
mod ollama_chat;
mod ollama_generate;
mod ollama_ps;
mod ollama_tags;
mod ollama_version;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{get, post},
};

use crate::state::Gateway;

pub fn router(gateway: Gateway) -> Router {
    let body_limit = gateway.runtime().config.gateway.body_limit_bytes;
    Router::new()
        .route(
            "/v1/chat/completions",
            post(chat_completions::chat_completions),
        )
        .route("/v1/models", get(models::models))
        .route("/v1/embeddings", post(embeddings::embeddings))
        .route("/api/chat", post(ollama_chat::chat))
        .route("/api/generate", post(ollama_generate::generate))
        .layer(DefaultBodyLimit::max(body_limit))
        .route("/health", get(health::health))
        .route("/metrics", get(metrics::metrics))
        .route("/api/version", get(ollama_version::version))
        .route("/api/tags", get(ollama_tags::tags))
        .route("/api/ps", get(ollama_ps::ps))
        .route("/admin/status", get(admin::status))
        .with_state(gateway)
}
