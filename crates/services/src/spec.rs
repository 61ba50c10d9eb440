//! A service as Hearth runs it: the configuration entry with every default filled in, and the
//! state a driver reports for it.

use std::{
    collections::BTreeMap,
    net::{Ipv4Addr, TcpListener},
    path::{Path, PathBuf},
    time::Duration,
};

use hearth_core::config::file::{RestartPolicy, ServiceDriver, ServiceFile, ServiceTemplate};
use serde::Serialize;

use crate::ServicesError;

/// The PATH a service gets when its entry sets none: the program's own directory first, then
/// Homebrew's and the system's. launchd and the supervisor both start services with this
/// explicit value, never the caller's PATH.
pub const DEFAULT_PATH: &str = "/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";

/// One service, ready to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    pub name: String,
    pub template: Option<ServiceTemplate>,
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Always holds `PATH`.
    pub env: BTreeMap<String, String>,
    pub working_dir: PathBuf,
    /// Where the supervisor records the PID of the process it started (one file per service
    /// name, under the data dir: never shared, whatever `workingDir` says).
    pub pid_file: PathBuf,
    pub port: Option<u16>,
    pub health_url: Option<String>,
    pub log_file: PathBuf,
    pub restart: RestartPolicy,
    #[serde(serialize_with = "as_secs")]
    pub start_timeout: Duration,
    pub provider: Option<String>,
    pub driver: ServiceDriver,
}

fn as_secs<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(duration.as_secs())
}

/// Where services keep their files by default.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `<data dir>/services/<name>` is each one's working directory.
    pub data_dir: PathBuf,
    /// `<log dir>/<name>.log`: `~/Library/Logs/Hearth` on macOS, `<data dir>/logs/services`
    /// elsewhere.
    pub log_dir: PathBuf,
}

impl Layout {
    pub fn new(data_dir: &Path) -> Layout {
        let log_dir = if cfg!(target_os = "macos") {
            std::env::var_os("HOME").map_or_else(
                || data_dir.join("logs/services"),
                |home| PathBuf::from(home).join("Library/Logs/Hearth"),
            )
        } else {
            data_dir.join("logs/services")
        };
        Layout {
            data_dir: data_dir.to_owned(),
            log_dir,
        }
    }
}

impl ServiceSpec {
    /// Fills in the defaults of a validated entry.
    pub fn resolve(name: &str, file: &ServiceFile, layout: &Layout) -> ServiceSpec {
        let program = PathBuf::from(&file.program);
        let mut env = file.env.clone();
        env.entry("PATH".to_owned()).or_insert_with(|| {
            match program.parent().and_then(Path::to_str) {
                Some(dir) if !dir.is_empty() && !DEFAULT_PATH.split(':').any(|d| d == dir) => {
                    format!("{dir}:{DEFAULT_PATH}")
                }
                _ => DEFAULT_PATH.to_owned(),
            }
        });
        ServiceSpec {
            name: name.to_owned(),
            template: file.template,
            args: file.args.clone(),
            env,
            working_dir: file.working_dir.as_ref().map_or_else(
                || layout.data_dir.join("services").join(name),
                PathBuf::from,
            ),
            pid_file: layout.data_dir.join("run").join(format!("{name}.pid")),
            port: file.port,
            health_url: file.health_url.clone(),
            log_file: file
                .log_file
                .as_ref()
                .map_or_else(|| layout.log_dir.join(format!("{name}.log")), PathBuf::from),
            restart: file.restart,
            start_timeout: file.start_timeout.get(),
            provider: file.provider.clone(),
            driver: file.driver.unwrap_or(default_driver()),
            program,
        }
    }

    /// `app.hearth.<name>`: the LaunchAgent label, also used in logs.
    pub fn label(&self) -> String {
        format!("app.hearth.{}", self.name)
    }

    /// The command line, as a person would type it (for `hearth services`, the UI and the log),
    /// with the value after a flag that names a key, token, secret or password shown as `*****`.
    pub fn command_line(&self) -> String {
        let secret_flag = |word: &str| {
            let word = word.to_ascii_lowercase();
            word.starts_with('-')
                && ["key", "token", "secret", "password"]
                    .iter()
                    .any(|name| word.contains(name))
        };
        let mut hide_next = false;
        let args = self.args.iter().map(|word| {
            let shown = if hide_next {
                "*****".to_owned()
            } else if let Some((flag, _)) =
                word.split_once('=').filter(|(flag, _)| secret_flag(flag))
            {
                format!("{flag}=*****")
            } else {
                word.clone()
            };
            hide_next = secret_flag(word) && !word.contains('=');
            shown
        });
        std::iter::once(self.program.display().to_string())
            .chain(args.collect::<Vec<_>>())
            .map(|word| {
                if word.is_empty()
                    || word.contains(|c: char| c.is_whitespace() || "'\"$\\".contains(c))
                {
                    format!("'{}'", word.replace('\'', r"'\''"))
                } else {
                    word
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Creates the directories the service writes to: its log file's, its working directory,
    /// and `more`.
    pub fn create_dirs(&self, more: &[&Path]) -> Result<(), ServicesError> {
        let dirs = [self.log_file.parent(), Some(self.working_dir.as_path())];
        for dir in dirs.into_iter().flatten().chain(more.iter().copied()) {
            std::fs::create_dir_all(dir).map_err(|error| ServicesError::Io {
                name: self.name.clone(),
                action: "create its directories",
                detail: format!("{}: {error}", dir.display()),
            })?;
        }
        Ok(())
    }

    /// Refuses a program that does not exist or cannot be executed.
    pub fn check_program(&self) -> Result<(), ServicesError> {
        use std::os::unix::fs::PermissionsExt as _;
        match std::fs::metadata(&self.program) {
            Err(_) => Err(ServicesError::ProgramMissing {
                name: self.name.clone(),
                program: self.program.clone(),
            }),
            Ok(metadata) if !metadata.is_file() || metadata.permissions().mode() & 0o111 == 0 => {
                Err(ServicesError::ProgramNotExecutable {
                    name: self.name.clone(),
                    program: self.program.clone(),
                })
            }
            Ok(_) => Ok(()),
        }
    }

    /// Refuses to start when another process holds the port (callers skip this when the
    /// process on the port is this service's own).
    pub fn check_port_free(&self) -> Result<(), ServicesError> {
        match self.port {
            Some(port) if !port_is_free(port) => Err(ServicesError::PortTaken {
                name: self.name.clone(),
                port,
            }),
            _ => Ok(()),
        }
    }
}

/// True when nothing listens on the loopback port.
pub fn port_is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// launchd on macOS, the supervisor elsewhere; `HEARTH_SERVICE_DRIVER=supervisor` makes Hearth
/// run services as its children on a Mac too (the tests set it, so a test run on a Mac never
/// writes a LaunchAgent into `~/Library/LaunchAgents` nor loads one into the user's session).
/// Read once per process.
pub fn default_driver() -> ServiceDriver {
    static DRIVER: std::sync::OnceLock<ServiceDriver> = std::sync::OnceLock::new();
    *DRIVER.get_or_init(|| {
        driver_for(
            cfg!(target_os = "macos"),
            std::env::var("HEARTH_SERVICE_DRIVER").ok().as_deref(),
        )
    })
}

/// The default driver on macOS or not, with `HEARTH_SERVICE_DRIVER`'s value; launchd only
/// where it exists, and an unknown value changes nothing.
fn driver_for(macos: bool, requested: Option<&str>) -> ServiceDriver {
    match requested.map(str::trim) {
        Some("supervisor") => ServiceDriver::Supervisor,
        Some("launchd") if macos => ServiceDriver::Launchd,
        _ if macos => ServiceDriver::Launchd,
        _ => ServiceDriver::Supervisor,
    }
}

/// What a driver knows about a service right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceState {
    /// Not running, and not asked to.
    Stopped,
    /// Started; not yet healthy.
    Starting,
    /// Running (and healthy, when it has a health URL and the driver checked).
    Running,
    /// It exited on its own and waits for its restart back-off.
    Restarting,
    /// It exited on its own and will not be restarted (restart policy, or it kept crashing).
    Failed,
    /// The driver cannot tell (launchd's answer was unreadable).
    Unknown,
}

impl ServiceState {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceState::Stopped => "stopped",
            ServiceState::Starting => "starting",
            ServiceState::Running => "running",
            ServiceState::Restarting => "restarting",
            ServiceState::Failed => "failed",
            ServiceState::Unknown => "unknown",
        }
    }

    /// Running or about to be.
    pub fn is_up(self) -> bool {
        matches!(
            self,
            ServiceState::Starting | ServiceState::Running | ServiceState::Restarting
        )
    }
}

/// A service's state, as `hearth services list` and the admin API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceStatus {
    pub name: String,
    pub state: ServiceState,
    pub pid: Option<u32>,
    /// Restarts after unexpected exits since Hearth started it.
    pub restarts: u32,
    /// How the last run ended (`exit status 1`, `signal 9`), when one did.
    pub last_exit: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(file: serde_json::Value) -> ServiceSpec {
        let file: ServiceFile = serde_json::from_value(file).unwrap();
        ServiceSpec::resolve(
            "llama",
            &file,
            &Layout {
                data_dir: "/data".into(),
                log_dir: "/logs".into(),
            },
        )
    }

    #[test]
    fn the_driver_is_launchd_on_a_mac_unless_the_environment_asks_for_the_supervisor() {
        use ServiceDriver::{Launchd, Supervisor};
        let table = [
            (true, None, Launchd),
            (true, Some("supervisor"), Supervisor),
            (true, Some("launchd"), Launchd),
            (true, Some("systemd"), Launchd),
            (false, None, Supervisor),
            (false, Some("launchd"), Supervisor),
        ];
        for (macos, requested, expected) in table {
            assert_eq!(
                driver_for(macos, requested),
                expected,
                "macos: {macos}, HEARTH_SERVICE_DRIVER={requested:?}"
            );
        }
    }

    #[test]
    fn defaults_fill_in_an_explicit_path_a_log_file_and_a_working_dir() {
        let spec = spec(
            serde_json::json!({ "program": "/opt/llama/bin/llama-server", "args": ["-m", "my model.gguf"] }),
        );
        assert_eq!(spec.env["PATH"], format!("/opt/llama/bin:{DEFAULT_PATH}"));
        assert_eq!(spec.log_file, PathBuf::from("/logs/llama.log"));
        assert_eq!(spec.working_dir, PathBuf::from("/data/services/llama"));
        assert_eq!(spec.label(), "app.hearth.llama");
        assert_eq!(
            spec.command_line(),
            "/opt/llama/bin/llama-server -m 'my model.gguf'"
        );
    }

    #[test]
    fn the_command_line_hides_keys_and_tokens() {
        let spec = spec(serde_json::json!({ "program": "/usr/bin/server",
            "args": ["--api-key", "sk-123", "--port", "1", "--token=abc", "-m", "x"] }));
        assert_eq!(
            spec.command_line(),
            "/usr/bin/server --api-key ***** --port 1 --token=***** -m x"
        );
    }

    #[test]
    fn a_path_of_the_entry_is_kept_as_it_is() {
        let spec =
            spec(serde_json::json!({ "program": "/usr/bin/true", "env": { "PATH": "/x/bin" } }));
        assert_eq!(spec.env["PATH"], "/x/bin");
    }

    #[test]
    fn a_missing_or_non_executable_program_is_refused_with_its_path() {
        let missing = spec(serde_json::json!({ "program": "/no/such/llama-server" }));
        let error = missing.check_program().unwrap_err().to_string();
        assert!(
            error.contains("/no/such/llama-server does not exist"),
            "{error}"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server");
        std::fs::write(&file, "#!/bin/sh\n").unwrap();
        let plain = spec(serde_json::json!({ "program": file }));
        let error = plain.check_program().unwrap_err().to_string();
        assert!(error.contains("is not an executable file"), "{error}");
    }

    #[test]
    fn a_taken_port_is_refused() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let taken = spec(serde_json::json!({ "program": "/usr/bin/true", "port": port }));
        assert!(matches!(
            taken.check_port_free(),
            Err(ServicesError::PortTaken { .. })
        ));
        drop(listener);
        assert!(taken.check_port_free().is_ok());
    }
}
