//! `GET /api/version`, as Ollama answers it, so Ollama clients accept Hearth as a server.

use axum::{Json, extract::State, http::HeaderMap};
use serde_json::{Value, json};

use crate::{auth::authenticate, error::GatewayError, state::Gateway};

pub async fn version(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Value>, GatewayError> {
    authenticate(&gateway.runtime(), &headers)?;
    Ok(Json(json!({ "version": env!("CARGO_PKG_VERSION") })))
}
