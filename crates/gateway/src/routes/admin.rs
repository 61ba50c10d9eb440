//! The admin API (admin token and a loopback `Host` required): what `hearth status` shows.

use axum::{Json, extract::State, http::HeaderMap};
use serde_json::{Value, json};

use crate::{auth::require_admin, error::GatewayError, state::Gateway};

/// `GET /admin/status`: the configuration in force and anything that needs the user.
pub async fn status(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Value>, GatewayError> {
    let runtime = gateway.runtime();
    require_admin(&runtime, &headers)?;
    let config = &runtime.config;
    let providers: Vec<Value> = config
        .providers
        .values()
        .map(|provider| {
            json!({
                "id": provider.id,
                "api": provider.api.as_str(),
                "baseUrl": provider.base_url,
                "models": provider.models.iter().map(|m| &m.id).collect::<Vec<_>>(),
            })
        })
        .collect();
    let agents: Vec<Value> = config
        .agents
        .iter()
        .map(|agent| {
            json!({
                "id": agent.id,
                "name": agent.name,
                "model": config.agent_model(agent).map(ToString::to_string),
            })
        })
        .collect();
    let layout = gateway.residency().layout();
    let mut services = Vec::new();
    for spec in crate::residency::specs(&runtime, layout) {
        let status = gateway.residency().services().status(&spec).await;
        services.push(json!({ "name": spec.name, "state": status.state, "pid": status.pid }));
    }
    let resident = crate::residency::resident(&gateway).await;
    let next_step = crate::setup::next_step(&gateway).await;
    Ok(Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "services": services,
        "resident": resident.iter().map(|model| &model.model).collect::<Vec<_>>(),
        "contention": crate::residency::contention(&resident),
        "uptimeSeconds": gateway.uptime().as_secs(),
        "configFile": gateway.config_file(),
        "listen": format!("{}:{}", config.gateway.bind, config.gateway.port),
        "primary": config.primary.as_ref().map(ToString::to_string),
        "defaultAgent": config.default_agent,
        "providers": providers,
        "agents": agents,
        "clients": config.clients.iter().map(|c| &c.name).collect::<Vec<_>>(),
        "warnings": runtime.warnings,
        "refusedChange": gateway.refused(),
        "nextStep": next_step,
    })))
}
