//! `POST /v1/embeddings`: passed through to the backend of the model the request names (or the
//! caller's agent's model), with the same authentication, routing and timeouts as chat.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use hearth_protocol::{from_json, openai::embeddings::EmbeddingsRequest};

use crate::{
    auth::authenticate,
    error::GatewayError,
    pipeline::{choose_model, route_caller},
    providers::BackendError,
    state::Gateway,
};

pub async fn embeddings(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle(gateway, headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn handle(
    gateway: Gateway,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GatewayError> {
    let caller = authenticate(&gateway.runtime(), &headers)?;
    // Like model requests: wait out a switch, then see the configuration it left.
    let _residency = gateway.residency().enter().await;
    let runtime = gateway.runtime();
    let config = &runtime.config;
    let mut request: EmbeddingsRequest = from_json(&body).map_err(GatewayError::invalid_body)?;
    let route = route_caller(config, &caller, &headers);
    let target = choose_model(config, &route, &caller, &request.model)?;
    let backend =
        runtime
            .backends
            .get(&target.provider)
            .ok_or_else(|| GatewayError::ModelNotFound {
                message: format!("provider `{}` cannot be reached", target.provider),
            })?;
    crate::residency::check_resident(&gateway, &runtime, &target).await?;
    request.model.clone_from(&target.model);
    let total = config.gateway.timeouts.total;
    let mut answer = tokio::time::timeout(total, backend.embeddings(&request))
        .await
        .map_err(|_| BackendError::Timeout {
            provider: target.provider.clone(),
            phase: "embeddings",
            after: total,
        })??;
    answer.model = target.to_string();
    Ok(Json(answer).into_response())
}
