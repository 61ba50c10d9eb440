//! The admin API for the configuration as the UI edits it (admin token or the UI's session,
//! loopback `Host`): the document, edits by dotted path validated before anything is written
//! (each problem with its JSON path, for the field it concerns), the route simulator, policy
//! explanations, recent activity, tokens, and the one-time login links of `hearth open`.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::HeaderMap,
};
use hearth_core::{
    config::store,
    routing::{Claims, route},
};
use serde::Deserialize;
use serde_json::{Value, json};

pub use crate::config_edit::{EditError, edit_config};
use crate::{auth::require_admin, error::GatewayError, state::Gateway};

async fn document(gateway: &Gateway) -> Value {
    match gateway.paths() {
        Some(paths) => {
            let file = paths.config_file.clone();
            tokio::task::spawn_blocking(move || store::read_document(&file).map(|(doc, _)| doc))
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or(Value::Null)
        }
        None => serde_json::to_value(&gateway.runtime().config.file).unwrap_or(Value::Null),
    }
}

/// `GET /admin/config`: the file as written, and the warnings of the configuration in force.
pub async fn get(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Value>, GatewayError> {
    let runtime = gateway.runtime();
    require_admin(&runtime, &headers)?;
    Ok(Json(
        json!({ "document": document(&gateway).await, "warnings": runtime.warnings }),
    ))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Set {
    /// Dotted path with indexes: `bindings`, `agents[1].tools`, `gateway.port`.
    path: String,
    /// The new value, as JSON.
    value: Value,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Unset {
    path: String,
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, GatewayError> {
    serde_json::from_slice(body).map_err(GatewayError::invalid_body)
}

/// `POST /admin/config/set` `{path, value}`.
pub async fn set(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, EditError> {
    require_admin(&gateway.runtime(), &headers)?;
    let Set { path, value } = parse(&body)?;
    let warnings = edit_config(&gateway, move |document| {
        store::set(document, &path, value).map_err(|error| error.to_string())
    })
    .await?;
    Ok(Json(
        json!({ "document": document(&gateway).await, "warnings": warnings }),
    ))
}

/// `POST /admin/config/unset` `{path}`.
pub async fn unset(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, EditError> {
    require_admin(&gateway.runtime(), &headers)?;
    let Unset { path } = parse(&body)?;
    let warnings = edit_config(&gateway, move |document| {
        store::unset(document, &path)
            .map(|_| ())
            .map_err(|error| error.to_string())
    })
    .await?;
    Ok(Json(
        json!({ "document": document(&gateway).await, "warnings": warnings }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    client: Option<String>,
    channel: Option<String>,
    account: Option<String>,
    peer_kind: Option<String>,
    peer_id: Option<String>,
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// `GET /admin/route?client=&channel=&account=&peerKind=&peerId=`: what `hearth route simulate`
/// says.
pub async fn simulate(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Query(identity): Query<Identity>,
) -> Result<Json<Value>, GatewayError> {
    let runtime = gateway.runtime();
    require_admin(&runtime, &headers)?;
    let config = &runtime.config;
    let client = non_empty(identity.client);
    if let Some(name) = &client
        && config.client(name).is_none()
    {
        let known: Vec<&str> = config.clients.iter().map(|c| c.name.as_str()).collect();
        let hint = hearth_core::config::diagnostic::did_you_mean(name, known.iter().copied())
            .unwrap_or_else(|| format!("known clients: {}", known.join(", ")));
        return Err(GatewayError::BadRequest {
            message: format!("there is no client `{name}`; {hint}"),
            code: "unknown_client",
        });
    }
    let claims = Claims {
        channel: non_empty(identity.channel),
        account_id: non_empty(identity.account),
        peer_kind: non_empty(identity.peer_kind),
        peer_id: non_empty(identity.peer_id),
    };
    let decision = route(config, client.as_deref(), &claims);
    Ok(Json(serde_json::to_value(&decision).unwrap_or(Value::Null)))
}

/// `GET /admin/policy/{agent}?tool=a&tool=b`: what `hearth policy explain` says.
pub async fn policy(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(agent): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<Value>, GatewayError> {
    let runtime = gateway.runtime();
    require_admin(&runtime, &headers)?;
    let config = &runtime.config;
    let Some(found) = config.agent(&agent) else {
        let known: Vec<&str> = config.agents.iter().map(|a| a.id.as_str()).collect();
        let hint = hearth_core::config::diagnostic::did_you_mean(&agent, known.iter().copied())
            .unwrap_or_else(|| format!("agents: {}", known.join(", ")));
        return Err(GatewayError::NotFound(format!(
            "there is no agent `{agent}`; {hint}"
        )));
    };
    let tools: Vec<String> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(key, _)| key == "tool")
        .map(|(_, value)| value.into_owned())
        .filter(|tool| !tool.trim().is_empty())
        .collect();
    let decisions: Vec<_> = tools.iter().map(|tool| found.policy.decide(tool)).collect();
    Ok(Json(json!({
        "agent": found.id,
        "effective": found.policy.effective(),
        "decisions": decisions,
    })))
}

/// `GET /admin/stats`: requests in flight, the last requests' speed, the last blocked calls.
pub async fn stats(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Value>, GatewayError> {
    require_admin(&gateway.runtime(), &headers)?;
    let activity = &gateway.metrics().activity;
    Ok(Json(json!({
        "inFlight": gateway.metrics().in_flight_total(),
        "recent": activity.recent(),
        "blocked": activity.recent_blocked(),
    })))
}

/// `GET /admin/tokens`: which tokens there are (names and references, never values).
pub async fn tokens(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Value>, GatewayError> {
    let runtime = gateway.runtime();
    require_admin(&runtime, &headers)?;
    let config = &runtime.config;
    let mut tokens =
        vec![json!({ "name": "admin", "reference": config.gateway.admin_token.to_string() })];
    for client in &config.clients {
        tokens.push(json!({ "name": client.name, "reference": client.token.to_string() }));
    }
    Ok(Json(json!({ "tokens": tokens })))
}

/// `POST /admin/tokens/{name}/reveal|rotate`: a token's value, or a new one. A rotation puts
/// the new token in force at once; callers holding the old one are refused from then on.
pub async fn token(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path((name, action)): Path<(String, String)>,
) -> Result<Json<Value>, GatewayError> {
    let runtime = gateway.runtime();
    require_admin(&runtime, &headers)?;
    let config = &runtime.config;
    let reference = if name == "admin" {
        config.gateway.admin_token.clone()
    } else {
        config
            .client(&name)
            .map(|client| client.token.clone())
            .ok_or_else(|| GatewayError::NotFound(format!("there is no token `{name}`")))?
    };
    let store = gateway.store();
    let value = match action.as_str() {
        "reveal" => {
            let store = store.clone();
            tokio::task::spawn_blocking(move || hearth_secrets::resolve(store.as_ref(), &reference))
                .await
                .map_err(|error| GatewayError::ServiceFailed {
                    message: error.to_string(),
                })?
        }
        "rotate" => {
            let _config_writes = gateway.config_writes().await;
            let rotated = {
                let store = store.clone();
                tokio::task::spawn_blocking(move || {
                    hearth_secrets::rotate_token(store.as_ref(), &reference)
                })
                .await
                .map_err(|error| GatewayError::ServiceFailed {
                    message: error.to_string(),
                })?
            };
            if rotated.is_ok() {
                // The runtime holds resolved tokens: load them again.
                let current = gateway.runtime();
                let config = current.config.clone();
                let warnings = current.warnings.clone();
                let reloaded = tokio::task::spawn_blocking(move || {
                    crate::Runtime::load(config, warnings, store.as_ref())
                })
                .await
                .map_err(|error| GatewayError::ServiceFailed {
                    message: error.to_string(),
                })?
                .map_err(|error| GatewayError::ServiceFailed {
                    message: error.to_string(),
                })?;
                gateway.replace(reloaded);
            }
            rotated
        }
        other => {
            return Err(GatewayError::NotFound(format!(
                "`{other}` is not a token action: use reveal or rotate"
            )));
        }
    }
    .map_err(|error| GatewayError::BadRequest {
        message: error.to_string(),
        code: "token_error",
    })?;
    Ok(Json(json!({ "name": name, "token": value.expose() })))
}

/// `POST /admin/login-link`: a one-time link that signs a browser in to the UI (two minutes).
pub async fn login_link(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Value>, GatewayError> {
    require_admin(&gateway.runtime(), &headers)?;
    let url = gateway
        .login_link()
        .ok_or_else(|| GatewayError::ServiceFailed {
            message: "cannot make a login code".to_owned(),
        })?;
    Ok(Json(json!({
        "url": url,
        "expiresInSeconds": crate::session::CODE_TTL.as_secs(),
    })))
}
