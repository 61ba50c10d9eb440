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
    /// `Service is disabled`: the label is switched off — in System Settings → Login Items, or
    /// by `launchctl disable` — and launchd will not load it until it is enabled again.
    pub const DISABLED: i32 = 119;
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
                exit::DISABLED => return Err(self.disabled(spec)),
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
        // launchd also answers a disabled label with a bare exit 5 (it says why only to root).
        if self.is_disabled(spec)? {
            return Err(self.disabled(spec));
        }
        let hint = format!(
            " (after {BOOTSTRAP_ATTEMPTS} attempts; try `launchctl bootout {}` and start again)",
            self.target(spec)
        );
        Err(failure(spec, "bootstrap", &last, &hint))
    }

    /// Unloads the service, which stops it, and removes its plist, so it stays stopped after the
    /// next login too (launchd loads every plist in `~/Library/LaunchAgents` at login, and the
    /// plist says `RunAtLoad`). One that is not loaded is stopped already. The plist is kept when
    /// launchd refused, so what is running stays described.
    pub fn stop(&self, spec: &ServiceSpec) -> Result<(), ServicesError> {
        self.bootout(spec)?;
        self.remove_plist(spec)
    }

    /// Unloads the service and loads it again from its plist as it is now: a restart after its
    /// definition changed runs the new definition (`kickstart -k` would run the loaded one).
    /// One that is not loaded is just loaded.
    pub fn restart(&self, spec: &ServiceSpec) -> Result<(), ServicesError> {
        self.bootout(spec)?;
        self.start(spec)
    }

    /// Stops the service and removes its plist; the same as [`Launchd::stop`], for the callers
    /// that mean to forget a service rather than pause it.
    pub fn uninstall(&self, spec: &ServiceSpec) -> Result<(), ServicesError> {
        self.stop(spec)
    }

    /// `bootout`, then waits until launchd no longer lists the service (it unloads in the
    /// background and refuses a new bootstrap of the label meanwhile).
    fn bootout(&self, spec: &ServiceSpec) -> Result<(), ServicesError> {
        let outcome = self.run(spec, "bootout", &["bootout".to_owned(), self.target(spec)])?;
        match outcome.code {
            0 => {}
            exit::NO_SUCH_PROCESS | exit::NOT_FOUND => return Ok(()),
            _ => return Err(failure(spec, "bootout", &outcome, "")),
        }
        for attempt in 1..=BOOTSTRAP_ATTEMPTS {
            if attempt > 1 {
                std::thread::sleep(self.retry_delay);
            }
            let print = self.print(spec)?;
            if print.code != 0 {
                return Ok(());
            }
        }
        Err(ServicesError::Launchctl {
            command: "bootout".to_owned(),
            label: spec.label(),
            detail: format!(
                "the service is still loaded after {BOOTSTRAP_ATTEMPTS} checks; see `launchctl print {}`",
                self.target(spec)
            ),
        })
    }

    fn remove_plist(&self, spec: &ServiceSpec) -> Result<(), ServicesError> {
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

    /// Whether the label is switched off (`launchctl print-disabled <domain>`).
    fn is_disabled(&self, spec: &ServiceSpec) -> Result<bool, ServicesError> {
        let outcome = self.run(
            spec,
            "print-disabled",
            &["print-disabled".to_owned(), self.domain.clone()],
        )?;
        Ok(outcome.code == 0 && parse_disabled(&outcome.stdout).contains(&spec.label()))
    }

    /// The refusal of a switched-off label, saying where to switch it on. Hearth never disables a
    /// label itself (a stop removes the plist instead), so this is the user's choice, and Hearth
    /// does not override it.
    fn disabled(&self, spec: &ServiceSpec) -> ServicesError {
        ServicesError::Launchctl {
            command: "bootstrap".to_owned(),
            label: spec.label(),
            detail: format!(
                "macOS does not allow it to run: it is switched off in System Settings → General → \
                 Login Items (under \"Allow in the Background\", as Hearth), or was disabled with \
                 `launchctl disable`. Switch Hearth on there (or run `launchctl enable {}`) and \
                 start it again",
                self.target(spec)
            ),
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
    /// As printed when a signal ended the last run: `Killed: 9`, `Terminated: 15`.
    pub last_signal: Option<String>,
}

impl PrintInfo {
    /// The numeric part of `last exit code`; `None` when it never exited or it is unreadable.
    pub fn exit_code(&self) -> Option<i32> {
        let text = self.last_exit_code.as_deref()?;
        text.split(':').next()?.trim().parse().ok()
    }

    /// The number of the signal that ended the last run; `None` when none did.
    pub fn signal(&self) -> Option<i32> {
        let text = self.last_signal.as_deref()?;
        text.rsplit(':').next()?.trim().parse().ok()
    }

    /// The state, read with the service's restart policy: a service launchd keeps alive that
    /// exited with an error, or that a signal ended, is waiting for its restart; without
    /// `KeepAlive` it has failed. Hearth stops a service by unloading it, so a loaded service
    /// that a signal ended was killed by someone else — the system reclaiming memory, a user —
    /// and is never "stopped".
    pub fn service_state(&self, restart: RestartPolicy) -> ServiceState {
        match self.state.as_deref() {
            Some("running") => ServiceState::Running,
            Some("spawn scheduled") => ServiceState::Restarting,
            Some("waiting" | "not running") if self.signal().is_some() => {
                if restart == RestartPolicy::Never {
                    ServiceState::Failed
                } else {
                    ServiceState::Restarting
                }
            }
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

    /// `exit status 78 (EX_CONFIG)` or `signal 9 (Killed)`, as the supervisor words them; `None`
    /// when it never exited.
    fn last_exit(&self) -> Option<String> {
        if let Some(signal) = self.signal() {
            let name = self
                .last_signal
                .as_deref()
                .and_then(|text| text.rsplit_once(':'))
                .map(|(name, _)| name.trim())
                .filter(|name| !name.is_empty());
            return Some(match name {
                Some(name) => format!("signal {signal} ({name})"),
                None => format!("signal {signal}"),
            });
        }
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
            "last terminating signal" if info.last_signal.is_none() => {
                info.last_signal = Some(value.to_owned());
            }
            _ => {}
        }
    }
    info
}

/// The labels `launchctl print-disabled <domain>` lists as switched off. Lines read
/// `"app.hearth.llama" => disabled` (macOS 13 and later; `=> true` before), inside the
/// `disabled services = {` block; other blocks (`login item associations`) are ignored.
pub fn parse_disabled(text: &str) -> Vec<String> {
    let mut labels = Vec::new();
    let mut in_services = false;
    for line in text.lines().map(str::trim) {
        if line.ends_with('{') {
            in_services = line.starts_with("disabled services");
            continue;
        }
        if line.starts_with('}') {
            in_services = false;
            continue;
        }
        if !in_services {
            continue;
        }
        let Some((label, state)) = line.split_once("=>") else {
            continue;
        };
        if matches!(state.trim(), "disabled" | "true") {
            labels.push(label.trim().trim_matches('"').to_owned());
        }
    }
    labels
}
