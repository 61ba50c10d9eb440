//! The `launchctl` command sequences that install, start, stop and inspect a LaunchAgent, and a
//! loose reading of `launchctl print`, whose output Apple documents as not an API.

use std::{
    io::Write as _,
    os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use hearth_core::config::file::RestartPolicy;

use super::plist::{BUNDLE_ID, plist_path, render};
use crate::{ServiceSpec, ServiceState, ServiceStatus, ServicesError};

/// Where macOS keeps the tool.
const LAUNCHCTL: &str = "/bin/launchctl";

/// How many times `start` bootstraps a service that launchd is still tearing down.
const BOOTSTRAP_ATTEMPTS: u32 = 5;

/// The `launchctl` exit codes this driver tells apart.
mod exit {
    /// `No such process`: `bootout` of a service that is not loaded.
    pub const NO_SUCH_PROCESS: i32 = 3;
    /// `Input/output error`: `bootstrap` of a service that is loaded already, or whose previous
    /// instance is still being booted out; launchd does not say which.
    pub const IO_ERROR: i32 = 5;
    /// `Operation already in progress`: `bootstrap` of a service that is loaded.
    pub const IN_PROGRESS: i32 = 37;
    /// `Could not find service`: the label is not loaded in the domain.
    pub const NOT_FOUND: i32 = 113;
}

/// Runs `launchctl`; tests replay recorded outcomes instead.
pub trait Launchctl {
    /// Runs `launchctl <args>` to completion.
    fn run(&self, args: &[String]) -> std::io::Result<Outcome>;
}

impl<L: Launchctl + ?Sized> Launchctl for &L {
    fn run(&self, args: &[String]) -> std::io::Result<Outcome> {
        (**self).run(args)
    }
}

/// How one `launchctl` run ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The exit code; -1 when a signal ended it.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The real `/bin/launchctl`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLaunchctl;

impl Launchctl for SystemLaunchctl {
    fn run(&self, args: &[String]) -> std::io::Result<Outcome> {
        let output = Command::new(LAUNCHCTL)
            .args(args)
            .stdin(Stdio::null())
            .output()?;
        Ok(Outcome {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

/// `gui/<uid>`: the domain of the logged-in user's agents.
pub fn gui_domain() -> String {
    format!("gui/{}", nix::unistd::getuid())
}

/// Services as LaunchAgents of one domain. Every method blocks until `launchctl` returns (and
/// `start` may sleep between attempts): async callers run them on a blocking thread.
#[derive(Debug)]
pub struct Launchd<L: Launchctl> {
    ctl: L,
    domain: String,
    agents_dir: PathBuf,
    retry_delay: Duration,
}

impl<L: Launchctl> Launchd<L> {
    /// A driver for `domain` (`gui/<uid>`, see [`gui_domain`]) keeping plists in `agents_dir`.
    pub fn new(ctl: L, domain: String, agents_dir: PathBuf) -> Launchd<L> {
        Launchd {
            ctl,
            domain,
            agents_dir,
            retry_delay: Duration::from_millis(500),
        }
    }

    /// How long `start` waits before bootstrapping again a service launchd is still booting out.
    pub fn with_retry_delay(mut self, retry_delay: Duration) -> Launchd<L> {
        self.retry_delay = retry_delay;
        self
    }

    /// The plist of `spec` in this driver's agents directory.
    pub fn plist_path(&self, spec: &ServiceSpec) -> PathBuf {
        plist_path(&self.agents_dir, spec)
    }

    /// `gui/<uid>/<label>`: the service as `launchctl` names it.
    pub fn target(&self, spec: &ServiceSpec) -> String {
        format!("{}/{}", self.domain, spec.label())
    }

    /// Writes the service's plist (atomically, mode 0644) and creates the directories it names.
    /// A loaded service keeps the plist it was bootstrapped with until it is booted out.
    pub fn install(&self, spec: &ServiceSpec) -> Result<PathBuf, ServicesError> {
        spec.check_program()?;
        let xml = render(spec, BUNDLE_ID)?;
        // launchd refuses to spawn (EX_CONFIG) into a working directory that does not exist.
        spec.create_dirs(&[self.agents_dir.as_path()])?;
        let path = self.plist_path(spec);
        write_atomically(&path, &xml).map_err(|error| ServicesError::Io {
            name: spec.name.clone(),
            action: "write its LaunchAgent plist",
            detail: format!("{}: {error}", path.display()),
        })?;
        tracing::debug!(label = spec.label(), path = %path.display(), "LaunchAgent plist written");
        Ok(path)
    }

    /// Loads the installed service (which starts it: the plist has `RunAtLoad`), or starts it if
    /// it is loaded but not running.
    pub fn start(&self, spec: &ServiceSpec) -> Result<(), ServicesError> {
        let path = self.plist_path(spec);
        if !path.is_file() {
            return Err(ServicesError::Launchctl {
                command: "bootstrap".to_owned(),
                label: spec.label(),
                detail: format!(
                    "{} does not exist; install the service first",
                    path.display()
                ),
            });
        }
        let bootstrap = [
            "bootstrap".to_owned(),
            self.domain.clone(),
            path.to_string_lossy().into_owned(),
        ];
        let mut last = Outcome::default();
        for attempt in 1..=BOOTSTRAP_ATTEMPTS {
            if attempt > 1 {
                std::thread::sleep(self.retry_delay);
            }
            let outcome = self.run(spec, "bootstrap", &bootstrap)?;
            match outcome.code {
                0 => return Ok(()),
                exit::IO_ERROR | exit::IN_PROGRESS => {}
                _ => return Err(failure(spec, "bootstrap", &outcome, "")),
            }
            // Loaded already, or a previous instance still on its way out: print tells.
            let print = self.print(spec)?;
            match print.code {
                0 => return self.kickstart_unless_running(spec, &print.stdout),
                exit::NOT_FOUND => {
                    tracing::debug!(
                        label = spec.label(),
                        attempt,
                        "bootstrap refused while the service is still being booted out"
                    );
                    last = outcome;
                }
                _ => return Err(failure(spec, "print", &print, "")),
            }
        }
        let hint = format!(
            " (after {BOOTSTRAP_ATTEMPTS} attempts; try `launchctl bootout {}` and start again)",
            self.target(spec)
        );
        Err(failure(spec, "bootstrap", &last, &hint))
    }

    /// Unloads the service, which stops it; one that is not loaded is stopped already.
    pub fn stop(&self, spec: &ServiceSpec) -> Result<(), ServicesError> {
        let outcome = self.run(spec, "bootout", &["bootout".to_owned(), self.target(spec)])?;
        match outcome.code {
            0 | exit::NO_SUCH_PROCESS | exit::NOT_FOUND => Ok(()),
            _ => Err(failure(spec, "bootout", &outcome, "")),
        }
    }

    /// Kills and starts the service again, or loads it when it is not loaded.
    pub fn restart(&self, spec: &ServiceSpec) -> Result<(), ServicesError> {
        let args = ["kickstart".to_owned(), "-k".to_owned(), self.target(spec)];
        let outcome = self.run(spec, "kickstart -k", &args)?;
        match outcome.code {
            0 => Ok(()),
            exit::NOT_FOUND => self.start(spec),
            _ => Err(failure(spec, "kickstart -k", &outcome, "")),
        }
    }

    /// Stops the service and removes its plist, so it does not come back at the next login.
    pub fn uninstall(&self, spec: &ServiceSpec) -> Result<(), ServicesError> {
        self.stop(spec)?;
        let path = self.plist_path(spec);
        match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(ServicesError::Io {
                name: spec.name.clone(),
                action: "remove its LaunchAgent plist",
                detail: format!("{}: {error}", path.display()),
            }),
            _ => Ok(()),
        }
    }

    /// What launchd says about the service; not loaded is stopped.
    pub fn status(&self, spec: &ServiceSpec) -> Result<ServiceStatus, ServicesError> {
        let print = self.print(spec)?;
        match print.code {
            0 => Ok(parse_print(&print.stdout).status(spec)),
            exit::NOT_FOUND => Ok(ServiceStatus {
                name: spec.name.clone(),
                state: ServiceState::Stopped,
                pid: None,
                restarts: 0,
                last_exit: None,
            }),
            _ => Err(failure(spec, "print", &print, "")),
        }
    }

    fn print(&self, spec: &ServiceSpec) -> Result<Outcome, ServicesError> {
        self.run(spec, "print", &["print".to_owned(), self.target(spec)])
    }

    fn kickstart_unless_running(
        &self,
        spec: &ServiceSpec,
        print: &str,
    ) -> Result<(), ServicesError> {
        if parse_print(print).state.as_deref() == Some("running") {
            return Ok(());
        }
        let outcome = self.run(
            spec,
            "kickstart",
            &["kickstart".to_owned(), self.target(spec)],
        )?;
        match outcome.code {
            0 => Ok(()),
            _ => Err(failure(spec, "kickstart", &outcome, "")),
        }
    }

    fn run(
        &self,
        spec: &ServiceSpec,
        command: &str,
        args: &[String],
    ) -> Result<Outcome, ServicesError> {
        tracing::debug!(label = spec.label(), "launchctl {}", args.join(" "));
        self.ctl
            .run(args)
            .map_err(|error| ServicesError::Launchctl {
                command: command.to_owned(),
                label: spec.label(),
                detail: format!("cannot run {LAUNCHCTL}: {error}"),
            })
    }
}

/// `exit 5: Bootstrap failed: 5: Input/output error`, then `hint`.
fn failure(spec: &ServiceSpec, command: &str, outcome: &Outcome, hint: &str) -> ServicesError {
    let message = [&outcome.stderr, &outcome.stdout]
        .into_iter()
        .map(|text| text.trim())
        .find(|text| !text.is_empty());
    let detail = match message {
        Some(message) => format!("exit {}: {message}{hint}", outcome.code),
        None => format!("exit {}{hint}", outcome.code),
    };
    ServicesError::Launchctl {
        command: command.to_owned(),
        label: spec.label(),
        detail,
    }
}

/// Writes a temporary file next to `path` and renames it over `path`, so launchd never reads a
/// half-written plist.
fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&temporary)?;
        // The umask may have taken bits away; launchd wants exactly rw-r--r--.
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// What `launchctl print <domain>/<label>` says about a service, as far as it could be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrintInfo {
    /// `running`, `not running`, `waiting`, `spawn scheduled`…
    pub state: Option<String>,
    pub pid: Option<u32>,
    /// As printed: `0`, `78: EX_CONFIG`, `(never exited)`.
    pub last_exit_code: Option<String>,
    /// How many times launchd started it since it was loaded.
    pub runs: Option<u32>,
}

impl PrintInfo {
    /// The numeric part of `last exit code`; `None` when it never exited or it is unreadable.
    pub fn exit_code(&self) -> Option<i32> {
        let text = self.last_exit_code.as_deref()?;
        text.split(':').next()?.trim().parse().ok()
    }

    /// The state, read with the service's restart policy: a service launchd keeps alive that
    /// exited with an error is waiting for its restart; without `KeepAlive` it has failed.
    pub fn service_state(&self, restart: RestartPolicy) -> ServiceState {
        match self.state.as_deref() {
            Some("running") => ServiceState::Running,
            Some("spawn scheduled") => ServiceState::Restarting,
            Some("waiting" | "not running") => {
                match (self.exit_code(), self.last_exit_code.as_deref()) {
                    (Some(0), _) | (None, None | Some("(never exited)")) => ServiceState::Stopped,
                    (Some(_), _) if restart != RestartPolicy::Never => ServiceState::Restarting,
                    (Some(_), _) => ServiceState::Failed,
                    (None, Some(_)) => ServiceState::Unknown,
                }
            }
            _ => ServiceState::Unknown,
        }
    }

    /// The status `hearth services list` shows for `spec`.
    pub fn status(&self, spec: &ServiceSpec) -> ServiceStatus {
        let state = self.service_state(spec.restart);
        ServiceStatus {
            name: spec.name.clone(),
            state,
            pid: self.pid.filter(|_| state == ServiceState::Running),
            // Every run after the first was a restart.
            restarts: self.runs.map_or(0, |runs| runs.saturating_sub(1)),
            last_exit: self.last_exit(),
        }
    }

    /// `exit status 78 (EX_CONFIG)`, as the supervisor words it; `None` when it never exited.
    fn last_exit(&self) -> Option<String> {
        let text = self.last_exit_code.as_deref()?;
        let code = self.exit_code()?;
        match text.split_once(':').map(|(_, name)| name.trim()) {
            Some(name) if !name.is_empty() => Some(format!("exit status {code} ({name})")),
            _ => Some(format!("exit status {code}")),
        }
    }
}

/// Reads the service's own `state`, `pid`, `last exit code` and `runs` out of `launchctl print`
/// output. Keys inside nested blocks (`environment = {`, `event triggers = {`…) are ignored,
/// as are unknown lines, indentation and CRLF line ends; the first occurrence of a key wins.
pub fn parse_print(text: &str) -> PrintInfo {
    let mut info = PrintInfo::default();
    // The output is one `gui/501/<label> = {` block; without it, keys sit at the top.
    let own_level = match text.lines().map(str::trim).find(|line| !line.is_empty()) {
        Some(first) if first.ends_with('{') => 1,
        _ => 0,
    };
    let mut depth = 0usize;
    for line in text.lines().map(str::trim) {
        if line.starts_with('}') {
            depth = depth.saturating_sub(1);
            continue;
        }
        if line.ends_with('{') {
            depth += 1;
            continue;
        }
        if depth != own_level {
            continue;
        }
        let Some((key, value)) = line.split_once(" = ") else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "state" if info.state.is_none() => info.state = Some(value.to_owned()),
            "pid" if info.pid.is_none() => info.pid = value.parse().ok(),
            "last exit code" if info.last_exit_code.is_none() => {
                info.last_exit_code = Some(value.to_owned());
            }
            "runs" if info.runs.is_none() => info.runs = value.parse().ok(),
            _ => {}
        }
    }
    info
}
