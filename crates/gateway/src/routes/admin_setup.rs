//! The admin API of first contact (admin token and a loopback `Host`): what discovery finds on
//! this machine and proposes (`GET /admin/setup`), applying it in one step
//! (`POST /admin/setup/apply`), and every provider with whether it answers
//! (`GET /admin/providers`) — the UI's Models page and first page, and the tray menu.

use axum::{Json, extract::State, http::HeaderMap};
use hearth_services::discovery::Options;
use serde_json::{Value, json};

use super::admin_config::EditError;
use crate::{
    auth::require_admin,
    error::GatewayError,
    residency::specs,
    setup::{ProviderState, apply_discovered, discover, providers},
    state::Gateway,
};

/// `GET /admin/setup`: what discovery finds and what it proposes to add.
pub async fn proposal(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Value>, GatewayError> {
    let runtime = gateway.runtime();
    require_admin(&runtime, &headers)?;
    let found = discover(&runtime.config.file, &Options::from_env()).await;
    Ok(Json(json!({
        "findings": found.findings,
        "proposal": found.proposal,
        "empty": found.proposal.is_empty(),
    })))
}

/// `POST /admin/setup/apply`: discovers again and adds what it proposes, never overwriting
/// anything; a new primary model's service is started (`residency::reconcile`).
pub async fn apply(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Value>, EditError> {
    require_admin(&gateway.runtime(), &headers)?;
    let (applied, warnings) = apply_discovered(&gateway).await?;
    Ok(Json(json!({ "applied": applied, "warnings": warnings })))
}

/// `GET /admin/providers`: each provider, whether its server answers, what it lists.
pub async fn list(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Value>, GatewayError> {
    let runtime = gateway.runtime();
    require_admin(&runtime, &headers)?;
    let services: Vec<(String, Option<String>)> = specs(&runtime, gateway.residency().layout())
        .into_iter()
        .map(|spec| (spec.name, spec.provider))
        .collect();
    let found: Vec<ProviderState> = providers(&runtime, &services).await;
    Ok(Json(json!({ "providers": found })))
}
