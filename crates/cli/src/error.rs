//! The CLI's failures and their exit codes: 1 for invalid input (a bad config, an unknown
//! agent), 2 for usage errors (clap's own), 3 when the environment fails (files, secret store).

use std::process::ExitCode;

#[derive(Debug)]
pub enum CliError {
    /// The input is wrong; the message (and any diagnostics already printed) says how.
    Invalid(String),
    /// Something around Hearth failed: a file, the secret store, a running instance.
    Environment(String),
}

impl CliError {
    pub fn invalid(message: impl Into<String>) -> CliError {
        CliError::Invalid(message.into())
    }

    pub fn environment(message: impl std::fmt::Display) -> CliError {
        CliError::Environment(message.to_string())
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Invalid(_) => ExitCode::from(1),
            CliError::Environment(_) => ExitCode::from(3),
        }
    }

    pub fn message(&self) -> &str {
        match self {
            CliError::Invalid(message) | CliError::Environment(message) => message,
        }
    }
}

impl From<hearth_core::config::store::StoreError> for CliError {
    fn from(error: hearth_core::config::store::StoreError) -> CliError {
        use hearth_core::config::store::StoreError;
        match error {
            StoreError::Invalid(found) => {
                crate::output::diagnostics(&found);
                CliError::invalid(StoreError::Invalid(found).to_string())
            }
            StoreError::Refused(found) => {
                crate::output::diagnostics(&found);
                CliError::invalid(StoreError::Refused(found).to_string())
            }
            StoreError::Edit(edit) => CliError::invalid(edit.to_string()),
            other => CliError::environment(other),
        }
    }
}

impl From<hearth_secrets::SecretsError> for CliError {
    fn from(error: hearth_secrets::SecretsError) -> CliError {
        use hearth_secrets::SecretsError;
        match error {
            // What the user typed is wrong, not the machine.
            SecretsError::BadName { .. } | SecretsError::EmptyValue { .. } => {
                CliError::invalid(error.to_string())
            }
            other => CliError::environment(other),
        }
    }
}

pub type CliResult = Result<(), CliError>;

impl From<hearth_gateway::RuntimeError> for CliError {
    fn from(error: hearth_gateway::RuntimeError) -> CliError {
        match error {
            hearth_gateway::RuntimeError::Secrets(error) => error.into(),
            other => CliError::environment(other),
        }
    }
}
