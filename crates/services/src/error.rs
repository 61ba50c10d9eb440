//! What can go wrong running a service. Messages say what happened and what to do about it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ServicesError {
    #[error("service `{0}` is not configured")]
    Unknown(String),
    #[error("service `{name}`: program {} does not exist; install it or fix `services.{name}.program`", program.display())]
    ProgramMissing { name: String, program: PathBuf },
    #[error("service `{name}`: {} is not an executable file; fix `services.{name}.program` or run `chmod +x` on it", program.display())]
    ProgramNotExecutable { name: String, program: PathBuf },
    #[error(
        "service `{name}`: port {port} is already in use by another process; stop it or give the service another `port`"
    )]
    PortTaken { name: String, port: u16 },
    #[error("service `{name}` did not pass its health check ({url}) within {after:?}{}", last_log.as_deref().map(|log| format!("; its log ends:\n{log}")).unwrap_or_default())]
    Unhealthy {
        name: String,
        url: String,
        after: std::time::Duration,
        last_log: Option<String>,
    },
    #[error("service `{name}` exited while starting ({status}){}", last_log.as_deref().map(|log| format!("; its log ends:\n{log}")).unwrap_or_default())]
    ExitedWhileStarting {
        name: String,
        status: String,
        last_log: Option<String>,
    },
    #[error("service `{name}`: cannot {action}: {detail}")]
    Io {
        name: String,
        action: &'static str,
        detail: String,
    },
    #[error("launchctl {command} failed for {label}: {detail}")]
    Launchctl {
        command: String,
        label: String,
        detail: String,
    },
    #[error("cannot render the LaunchAgent plist for {label}: {detail}")]
    Plist { label: String, detail: String },
}
