//! The HTTP routes, one module per API. `router` wires them to the shared `Gateway`.

mod admin;
mod health;
mod ollama_version;

use axum::{Router, routing::get};

use crate::state::Gateway;

pub fn router(gateway: Gateway) -> Router {
    Router::new()
        .route("/health", get(health::health))
        .route("/api/version", get(ollama_version::version))
        .route("/admin/status", get(admin::status))
        .with_state(gateway)
}
