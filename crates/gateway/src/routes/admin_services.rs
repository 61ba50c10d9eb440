//! The admin API for services (admin token and a loopback `Host`): list, install, uninstall,
//! start, stop, restart, the log's tail, the LaunchAgent plist.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use hearth_core::config::{file::ServiceTemplate, store};
use hearth_services::{ServiceSpec, health, launchd, templates};
use serde::Deserialize;
use serde_json::{Value, json};

use super::admin_config::EditError;
use crate::{
    auth::require_admin,
    error::GatewayError,
    residency::{service, service_error, specs},
    state::Gateway,
};

/// One service as the API shows it: its definition and its state.
async fn describe(gateway: &Gateway, spec: &ServiceSpec) -> Value {
    let status = gateway.residency().services().status(spec).await;
    json!({
        "name": spec.name,
        "template": spec.template.map(ServiceTemplate::as_str),
        "driver": spec.driver.as_str(),
        "provider": spec.provider,
        "port": spec.port,
        "healthUrl": spec.health_url,
        "command": spec.command_line(),
        "logFile": spec.log_file,
        "workingDir": spec.working_dir,
        "restart": spec.restart.as_str(),
        "state": status.state,
        "pid": status.pid,
        "restarts": status.restarts,
        "lastExit": status.last_exit,
    })
}

/// `GET /admin/services`.
pub async fn list(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Value>, GatewayError> {
    let runtime = gateway.runtime();
    require_admin(&runtime, &headers)?;
    let mut services = Vec::new();
    for spec in specs(&runtime, gateway.residency().layout()) {
        services.push(describe(&gateway, &spec).await);
    }
    Ok(Json(json!({ "services": services })))
}

/// `POST /admin/services/{name}/{start|stop|restart}`: answers once it is done (started means
/// healthy).
pub async fn action(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path((name, action)): Path<(String, String)>,
) -> Result<Json<Value>, GatewayError> {
    let runtime = gateway.runtime();
    require_admin(&runtime, &headers)?;
    let spec = service(&runtime, gateway.residency().layout(), &name)?;
    let services = gateway.residency().services();
    let _one_at_a_time = gateway.residency().one_at_a_time().await;
    match action.as_str() {
        "start" => {
            services.start(&spec).await.map_err(service_error)?;
        }
        "stop" => services.stop(&spec).await.map_err(service_error)?,
        "restart" => {
            services.restart(&spec).await.map_err(service_error)?;
        }
        other => {
            return Err(GatewayError::NotFound(format!(
                "`{other}` is not a service action: use start, stop or restart"
            )));
        }
    }
    Ok(Json(describe(&gateway, &spec).await))
}

#[derive(Debug, Deserialize)]
pub struct LogQuery {
    lines: Option<usize>,
}

/// `GET /admin/services/{name}/logs?lines=N`: the last N lines (100 by default, at most 5000).
pub async fn logs(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(query): Query<LogQuery>,
) -> Result<Response, GatewayError> {
    let runtime = gateway.runtime();
    require_admin(&runtime, &headers)?;
    let spec = service(&runtime, gateway.residency().layout(), &name)?;
    let lines = query.lines.unwrap_or(100).min(5000);
    let text = match health::tail(&spec.log_file, lines) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => {
            return Err(GatewayError::ServiceFailed {
                message: format!("cannot read {}: {error}", spec.log_file.display()),
            });
        }
    };
    Ok(Json(json!({ "logFile": spec.log_file, "lines": text })).into_response())
}

/// `GET /admin/services/{name}/plist`: the LaunchAgent property list (XML).
pub async fn plist(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, GatewayError> {
    let runtime = gateway.runtime();
    require_admin(&runtime, &headers)?;
    let spec = service(&runtime, gateway.residency().layout(), &name)?;
    let xml = launchd::render(&spec, launchd::BUNDLE_ID).map_err(service_error)?;
    let mut response = xml.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-plist"),
    );
    Ok(response)
}

/// `POST /admin/services`: what `hearth services install` sends.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Install {
    name: String,
    template: ServiceTemplate,
    program: Option<String>,
    model: Option<String>,
    port: Option<u16>,
    provider: Option<String>,
    #[serde(default)]
    args: Vec<String>,
}

/// Writes the service into the configuration file (validated first); the running gateway
/// takes it at once.
pub async fn install(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, EditError> {
    let runtime = gateway.runtime();
    require_admin(&runtime, &headers)?;
    let install: Install =
        serde_json::from_slice(&body).map_err(|error| GatewayError::BadRequest {
            message: format!("invalid install request: {error}"),
            code: "invalid_request",
        })?;
    if !hearth_core::config::is_id(&install.name) {
        return Err(EditError::Other(GatewayError::BadRequest {
            message: format!(
                "`{}` is not a valid service name: use lower-case letters, digits, `-` and `_`",
                install.name
            ),
            code: "invalid_request",
        }));
    }
    if runtime.config.services.contains_key(&install.name) {
        return Err(EditError::Other(GatewayError::BadRequest {
            message: format!(
                "service `{}` exists already; uninstall it first or pick another name",
                install.name
            ),
            code: "service_exists",
        }));
    }
    let entry = templates::render(
        install.template,
        templates::TemplateInput {
            program: install.program,
            port: install.port,
            model: install.model,
            provider: install.provider,
            extra_args: install.args,
        },
    )
    .map_err(|error| GatewayError::BadRequest {
        message: error.to_string(),
        code: "invalid_request",
    })?;
    ServiceSpec::resolve(&install.name, &entry, gateway.residency().layout())
        .check_program()
        .map_err(|error| GatewayError::BadRequest {
            message: error.to_string(),
            code: "invalid_request",
        })?;
    let value = serde_json::to_value(&entry).map_err(|error| GatewayError::BadRequest {
        message: error.to_string(),
        code: "invalid_request",
    })?;
    super::admin_config::edit_config(&gateway, move |document| {
        store::set(document, &format!("services.{}", install.name), value)
            .map_err(|error| error.to_string())
    })
    .await?;
    Ok(Json(json!({ "installed": entry })))
}

/// `DELETE /admin/services/{name}`: stops it and removes it from the configuration.
pub async fn uninstall(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Json<Value>, EditError> {
    let runtime = gateway.runtime();
    require_admin(&runtime, &headers)?;
    let spec = service(&runtime, gateway.residency().layout(), &name)?;
    {
        let _one_at_a_time = gateway.residency().one_at_a_time().await;
        gateway
            .residency()
            .services()
            .uninstall(&spec)
            .await
            .map_err(service_error)?;
    }
    let key = format!("services.{name}");
    super::admin_config::edit_config(&gateway, move |document| {
        store::unset(document, &key)
            .map(|_| ())
            .map_err(|error| error.to_string())
    })
    .await?;
    Ok(Json(json!({ "uninstalled": name })))
}
