//! `GET /health`: the gateway answers. Backends' health is on `/admin/status`.

use axum::{Json, extract::State, http::HeaderMap};
use serde_json::{Value, json};

use crate::{auth::authenticate, error::GatewayError, state::Gateway};

pub async fn health(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Value>, GatewayError> {
    authenticate(&gateway.runtime(), &headers)?;
    Ok(Json(json!({ "status": "ok" })))
}
