//! Editing the configuration while Hearth runs, the one way every writer does it (the admin
//! API, a model switch, the app): read the file, apply the edit, validate, build the runtime,
//! save atomically and put it in force — all under `Gateway::config_writes` — then reconcile
//! the services with the result. A refusal carries every problem with its JSON path.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use hearth_core::config::{Diagnostic, store};
use serde_json::{Value, json};

use crate::{error::GatewayError, residency, state::Gateway};

/// Why an edit was not applied.
#[derive(Debug)]
pub enum EditError {
    /// The result would not validate: every problem, with its path.
    Invalid(Vec<Diagnostic>),
    Other(GatewayError),
}

impl From<GatewayError> for EditError {
    fn from(error: GatewayError) -> EditError {
        EditError::Other(error)
    }
}

impl IntoResponse for EditError {
    fn into_response(self) -> Response {
        match self {
            EditError::Invalid(diagnostics) => {
                let errors: Vec<&Diagnostic> =
                    diagnostics.iter().filter(|d| d.is_error()).collect();
                let message = match errors.as_slice() {
                    [one] => format!("{one}"),
                    many => format!(
                        "the change would make the configuration invalid ({} problems); nothing was written",
                        many.len()
                    ),
                };
                (
                    StatusCode::BAD_REQUEST,
                    Json(json!({
                        "error": { "message": message, "type": "invalid_request_error", "code": "invalid_config" },
                        "diagnostics": diagnostics,
                    })),
                )
                    .into_response()
            }
            EditError::Other(error) => error.into_response(),
        }
    }
}

/// Applies `edit` to the configuration file, saves it (validated, atomically) and puts it in
/// force, under the lock every configuration writer holds; then reconciles the services.
pub async fn edit_config(
    gateway: &Gateway,
    edit: impl FnOnce(&mut Value) -> Result<(), String> + Send + 'static,
) -> Result<Vec<Diagnostic>, EditError> {
    let Some(paths) = gateway.paths().cloned() else {
        return Err(EditError::Other(GatewayError::BadRequest {
            message: "this gateway runs without a configuration file".to_owned(),
            code: "no_config_file",
        }));
    };
    let _config_writes = gateway.config_writes().await;
    let store = gateway.store();
    let running = gateway.runtime().config.gateway.clone();
    let loaded = tokio::task::spawn_blocking(move || -> Result<crate::Runtime, EditError> {
        let bad = |message: String| {
            EditError::Other(GatewayError::BadRequest {
                message,
                code: "invalid_config",
            })
        };
        let (mut document, _) =
            store::read_document(&paths.config_file).map_err(|error| bad(error.to_string()))?;
        edit(&mut document).map_err(bad)?;
        let validated = hearth_core::config::validate_value(&document, &paths.environment())
            .map_err(EditError::Invalid)?;
        let runtime = crate::Runtime::load(validated.config, validated.warnings, store.as_ref())
            .map_err(|error| bad(error.to_string()))?;
        // Where Hearth listens changes only with a restart; say so instead of half-applying.
        if let Some(what) = crate::reload::listening_changed(&running, &runtime.config.gateway) {
            return Err(EditError::Invalid(vec![Diagnostic::error(
                what.trim_matches('`'),
                format!(
                    "{what} changes only when Hearth restarts; edit the file and restart Hearth"
                ),
            )]));
        }
        store::save(&paths, &document).map_err(|error| match error {
            store::StoreError::Invalid(found) | store::StoreError::Refused(found) => {
                EditError::Invalid(found)
            }
            other => bad(other.to_string()),
        })?;
        Ok(runtime)
    })
    .await
    .map_err(|error| {
        EditError::Other(GatewayError::ServiceFailed {
            message: error.to_string(),
        })
    })??;
    let warnings = loaded.warnings.clone();
    let previous_primary = gateway.runtime().config.primary.clone();
    gateway.replace(loaded);
    tokio::spawn(residency::reconcile(gateway.clone(), previous_primary));
    Ok(warnings)
}

impl std::fmt::Display for EditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EditError::Invalid(diagnostics) => {
                let errors: Vec<String> = diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .map(ToString::to_string)
                    .collect();
                f.write_str(&errors.join("; "))
            }
            EditError::Other(error) => write!(f, "{error}"),
        }
    }
}
