//! `GET /v1/models`: the models a caller may name — every configured model as
//! `provider/model-id`, and every alias.

use axum::{Json, extract::State, http::HeaderMap};
use serde_json::{Value, json};

use crate::{auth::authenticate, error::GatewayError, state::Gateway};

pub async fn models(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Value>, GatewayError> {
    let runtime = gateway.runtime();
    authenticate(&runtime, &headers)?;
    let config = &runtime.config;
    let mut data: Vec<Value> = Vec::new();
    for provider in config.providers.values() {
        for model in &provider.models {
            data.push(json!({
                "id": format!("{}/{}", provider.id, model.id),
                "object": "model",
                "created": 0,
                "owned_by": provider.id,
            }));
        }
    }
    for (alias, target) in &config.aliases {
        data.push(json!({
            "id": alias,
            "object": "model",
            "created": 0,
            "owned_by": target.provider,
            "alias_of": target.to_string(),
        }));
    }
    Ok(Json(json!({ "object": "list", "data": data })))
}
