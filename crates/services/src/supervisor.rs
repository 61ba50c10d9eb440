//! The supervisor driver (any OS; the default where launchd is absent): Hearth spawns the
//! service's process itself, appends its output to the log file, restarts it with back-off
//! when it dies (as its restart policy says), and stops it by PID — SIGTERM to its process
//! group, SIGKILL after a grace period. `shutdown` stops every process it started, so none
//! outlives Hearth; each one is also killed if its monitor is dropped.
//!
//! One monitor task per running service owns the child process. State lives in a
//! `watch` channel per service, so `start` can wait for health and callers can read it at any
//! time without locking the task.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use hearth_core::config::file::RestartPolicy;
use serde::Serialize;
use tokio::{
    process::{Child, Command},
    sync::{broadcast, watch},
    task::JoinHandle,
};

use crate::{ServiceSpec, ServiceState, ServiceStatus, ServicesError, health};

/// How long a stopped service gets between SIGTERM and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(10);
/// Back-off after the first unexpected exit; doubled each time, up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A run this long resets the back-off.
const STABLE_RUN: Duration = Duration::from_secs(60);
/// After this many short runs in a row the service is left `failed`.
const MAX_QUICK_CRASHES: u32 = 5;
/// How often a starting service's health URL is probed.
const PROBE_EVERY: Duration = Duration::from_millis(250);

/// Something that happened to a service, for the event stream (the app's notifications).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceEvent {
    pub service: String,
    pub state: ServiceState,
    pub pid: Option<u32>,
    pub restarts: u32,
    /// What happened, in words: `started`, `healthy`, `exited (signal 9); restarting in 2s`…
    pub message: String,
}

/// Runs services as child processes of Hearth.
#[derive(Debug, Clone)]
pub struct Supervisor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    slots: Mutex<BTreeMap<String, Slot>>,
    events: broadcast::Sender<ServiceEvent>,
    http: reqwest::Client,
}

#[derive(Debug)]
struct Slot {
    status: watch::Receiver<ServiceStatus>,
    /// Present while a monitor runs; `false` sent on it asks the monitor to stop.
    control: Option<(watch::Sender<bool>, JoinHandle<()>)>,
}

impl Default for Supervisor {
    fn default() -> Self {
        Supervisor::new()
    }
}

impl Supervisor {
    pub fn new() -> Supervisor {
        Supervisor {
            inner: Arc::new(Inner {
                slots: Mutex::new(BTreeMap::new()),
                events: broadcast::channel(256).0,
                http: health::client(),
            }),
        }
    }

    /// Every state change of every service.
    pub fn subscribe(&self) -> broadcast::Receiver<ServiceEvent> {
        self.inner.events.subscribe()
    }

    /// The service's state; `stopped` for one this supervisor never started.
    pub fn status(&self, name: &str) -> ServiceStatus {
        self.lock()
            .get(name)
            .map(|slot| slot.status.borrow().clone())
            .unwrap_or_else(|| stopped(name))
    }

    /// Starts the service and waits until it is healthy (its health URL answers 2xx; without
    /// one, until it has run for a moment). A service already running is left as it is. On
    /// any failure nothing is left running and the error says why, with the log's last lines.
    pub async fn start(&self, spec: &ServiceSpec) -> Result<ServiceStatus, ServicesError> {
        let existing = self.lock().get(&spec.name).and_then(|slot| {
            slot.control
                .as_ref()
                .filter(|(_, task)| !task.is_finished())
                .map(|_| slot.status.clone())
        });
        let mut status = match existing {
            Some(status) => status,
            None => {
                reap_stale(spec).await;
                self.launch(spec)?
            }
        };
        let deadline = tokio::time::Instant::now() + spec.start_timeout;
        loop {
            let current = status.borrow_and_update().clone();
            match current.state {
                ServiceState::Running => return Ok(current),
                ServiceState::Starting => {}
                ServiceState::Restarting
                | ServiceState::Failed
                | ServiceState::Stopped
                | ServiceState::Unknown => {
                    let last_log = self.log_tail(spec);
                    self.stop(&spec.name).await;
                    return Err(ServicesError::ExitedWhileStarting {
                        name: spec.name.clone(),
                        status: current
                            .last_exit
                            .unwrap_or_else(|| "it did not start".to_owned()),
                        last_log,
                    });
                }
            }
            match tokio::time::timeout_at(deadline, status.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => {
                    // The monitor is gone: its last state was published before it ended.
                    let current = status.borrow().clone();
                    if current.state == ServiceState::Running {
                        return Ok(current);
                    }
                    return Err(ServicesError::ExitedWhileStarting {
                        name: spec.name.clone(),
                        status: current
                            .last_exit
                            .unwrap_or_else(|| "it did not start".to_owned()),
                        last_log: self.log_tail(spec),
                    });
                }
                Err(_) => {
                    let last_log = self.log_tail(spec);
                    self.stop(&spec.name).await;
                    return Err(ServicesError::Unhealthy {
                        name: spec.name.clone(),
                        url: spec.health_url.clone().unwrap_or_default(),
                        after: spec.start_timeout,
                        last_log,
                    });
                }
            }
        }
    }

    /// Stops the service (SIGTERM, then SIGKILL after `STOP_GRACE`) and waits until it is
    /// gone. Stopping a stopped service does nothing.
    pub async fn stop(&self, name: &str) {
        let control = self
            .lock()
            .get_mut(name)
            .and_then(|slot| slot.control.take());
        if let Some((stop, task)) = control {
            let _ = stop.send(false);
            let mut task = task;
            if tokio::time::timeout(STOP_GRACE + Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                // The child is killed when its monitor is dropped.
                task.abort();
                let _ = task.await;
            }
        }
    }

    /// Stops every service this supervisor started, all at once.
    pub async fn shutdown(&self) {
        let names: Vec<String> = self.lock().keys().cloned().collect();
        futures_join_all(names.iter().map(|name| self.stop(name))).await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Slot>> {
        self.inner
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn log_tail(&self, spec: &ServiceSpec) -> Option<String> {
        health::tail(&spec.log_file, 15)
            .ok()
            .filter(|tail| !tail.trim().is_empty())
    }

    /// Checks what can be checked before anything runs, then starts the monitor.
    fn launch(&self, spec: &ServiceSpec) -> Result<watch::Receiver<ServiceStatus>, ServicesError> {
        spec.check_program()?;
        spec.check_port_free()?;
        for dir in [spec.log_file.parent(), Some(spec.working_dir.as_path())]
            .into_iter()
            .flatten()
        {
            std::fs::create_dir_all(dir).map_err(|error| ServicesError::Io {
                name: spec.name.clone(),
                action: "create its directories",
                detail: format!("{}: {error}", dir.display()),
            })?;
        }
        let restarts = self.status(&spec.name).restarts;
        let (status_tx, status_rx) = watch::channel(ServiceStatus {
            state: ServiceState::Starting,
            restarts,
            ..stopped(&spec.name)
        });
        let (stop_tx, stop_rx) = watch::channel(true);
        let monitor = Monitor {
            spec: spec.clone(),
            status: status_tx,
            stop: stop_rx,
            events: self.inner.events.clone(),
            http: self.inner.http.clone(),
        };
        let task = tokio::spawn(monitor.run());
        self.lock().insert(
            spec.name.clone(),
            Slot {
                status: status_rx.clone(),
                control: Some((stop_tx, task)),
            },
        );
        Ok(status_rx)
    }
}

fn stopped(name: &str) -> ServiceStatus {
    ServiceStatus {
        name: name.to_owned(),
        state: ServiceState::Stopped,
        pid: None,
        restarts: 0,
        last_exit: None,
    }
}

/// Awaits every future (the services stop in parallel, each with its own grace period).
async fn futures_join_all<F: std::future::Future<Output = ()>>(futures: impl Iterator<Item = F>) {
    let mut set = Vec::new();
    for future in futures {
        set.push(Box::pin(future));
    }
    for future in set {
        future.await;
    }
}

/// Owns one service's process for as long as it should run.
struct Monitor {
    spec: ServiceSpec,
    status: watch::Sender<ServiceStatus>,
    stop: watch::Receiver<bool>,
    events: broadcast::Sender<ServiceEvent>,
    http: reqwest::Client,
}

impl Monitor {
    async fn run(mut self) {
        let mut backoff = FIRST_BACKOFF;
        let mut quick_crashes = 0;
        loop {
            let mut child = match self.spawn() {
                Ok(child) => child,
                Err(error) => {
                    self.publish(
                        ServiceState::Failed,
                        None,
                        |status| {
                            status.last_exit = Some(error.clone());
                        },
                        format!("cannot start: {error}"),
                    );
                    return;
                }
            };
            let pid = child.id();
            let started = Instant::now();
            let mut healthy = self.spec.health_url.is_none();
            self.publish(
                if healthy {
                    ServiceState::Running
                } else {
                    ServiceState::Starting
                },
                pid,
                |_| {},
                format!("started (pid {})", pid.unwrap_or_default()),
            );
            let mut probe = tokio::time::interval(PROBE_EVERY);
            let exit = loop {
                tokio::select! {
                    exit = child.wait() => break exit,
                    changed = self.stop.changed() => {
                        if changed.is_err() || !*self.stop.borrow() {
                            terminate(&mut child, pid).await;
                            self.publish(ServiceState::Stopped, None, |_| {}, "stopped".to_owned());
                            return;
                        }
                    }
                    _ = probe.tick(), if !healthy => {
                        if let Some(url) = &self.spec.health_url
                            && health::probe(&self.http, url).await
                        {
                            healthy = true;
                            self.publish(ServiceState::Running, pid, |_| {}, "healthy".to_owned());
                        }
                    }
                }
            };
            let (crashed, how) = match &exit {
                Ok(status) => (!status.success(), describe(*status)),
                Err(error) => (true, format!("lost track of it: {error}")),
            };
            let restart = match self.spec.restart {
                RestartPolicy::Always => true,
                RestartPolicy::OnFailure => crashed,
                RestartPolicy::Never => false,
            };
            if started.elapsed() >= STABLE_RUN {
                backoff = FIRST_BACKOFF;
                quick_crashes = 0;
            } else {
                quick_crashes += 1;
            }
            if !restart || quick_crashes >= MAX_QUICK_CRASHES {
                let (state, message) = if !restart && !crashed {
                    (ServiceState::Stopped, format!("exited ({how})"))
                } else if restart {
                    (
                        ServiceState::Failed,
                        format!(
                            "exited ({how}); {quick_crashes} short runs in a row, not restarting"
                        ),
                    )
                } else {
                    (
                        ServiceState::Failed,
                        format!("exited ({how}); restart policy `never`"),
                    )
                };
                self.publish(
                    state,
                    None,
                    |status| status.last_exit = Some(how.clone()),
                    message,
                );
                return;
            }
            self.publish(
                ServiceState::Restarting,
                None,
                |status| {
                    status.last_exit = Some(how.clone());
                    status.restarts += 1;
                },
                format!("exited ({how}); restarting in {}s", backoff.as_secs()),
            );
            tracing::warn!(service = %self.spec.name, exit = %how, "service exited; restarting");
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                changed = self.stop.changed() => {
                    if changed.is_err() || !*self.stop.borrow() {
                        self.publish(ServiceState::Stopped, None, |_| {}, "stopped".to_owned());
                        return;
                    }
                }
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    fn publish(
        &self,
        state: ServiceState,
        pid: Option<u32>,
        change: impl FnOnce(&mut ServiceStatus),
        message: String,
    ) {
        self.status.send_modify(|status| {
            status.state = state;
            status.pid = pid;
            change(status);
        });
        let status = self.status.borrow().clone();
        tracing::info!(service = %self.spec.name, state = state.as_str(), %message, "service");
        let _ = self.events.send(ServiceEvent {
            service: status.name,
            state,
            pid,
            restarts: status.restarts,
            message,
        });
    }

    /// The process, in its own process group, with exactly the spec's environment, its output
    /// appended to the log file.
    fn spawn(&self) -> Result<Child, String> {
        use std::io::Write as _;
        let spec = &self.spec;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&spec.log_file)
            .map_err(|error| format!("cannot open {}: {error}", spec.log_file.display()))?;
        let _ = writeln!(log, "--- hearth: starting {}", spec.command_line());
        let stderr = log
            .try_clone()
            .map_err(|error| format!("cannot open {}: {error}", spec.log_file.display()))?;
        Command::new(&spec.program)
            .args(&spec.args)
            .env_clear()
            .envs(&spec.env)
            .current_dir(&spec.working_dir)
            .stdin(std::process::Stdio::null())
            .stdout(log)
            .stderr(stderr)
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| format!("cannot run {}: {error}", spec.program.display()))
            .inspect(|child| {
                if let Some(pid) = child.id() {
                    let _ = std::fs::write(pid_file(spec), format!("{pid}\n"));
                }
            })
    }
}

/// `<working dir>/hearth.pid`: the PID of the process Hearth started last, so a Hearth that
/// was killed outright (no chance to stop its children) can stop its orphan when it starts
/// again, instead of finding the port taken.
fn pid_file(spec: &ServiceSpec) -> std::path::PathBuf {
    spec.working_dir.join("hearth.pid")
}

/// Stops an orphan of an earlier Hearth: the PID in the pid file, if that process still runs
/// this service's program. Anything else with that PID is left alone.
async fn reap_stale(spec: &ServiceSpec) {
    let file = pid_file(spec);
    let Some(pid) = std::fs::read_to_string(&file)
        .ok()
        .and_then(|text| text.trim().parse::<i32>().ok())
        .filter(|pid| *pid > 1)
    else {
        return;
    };
    let _ = std::fs::remove_file(&file);
    if !runs_program(pid, &spec.program) {
        return;
    }
    tracing::warn!(service = %spec.name, pid, "stopping a server an earlier Hearth left running");
    use nix::sys::signal::{Signal, kill, killpg};
    let group = nix::unistd::Pid::from_raw(pid);
    let _ = killpg(group, Signal::SIGTERM);
    let deadline = tokio::time::Instant::now() + STOP_GRACE;
    while runs_program(pid, &spec.program) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if runs_program(pid, &spec.program) {
        let _ = killpg(group, Signal::SIGKILL);
        let _ = kill(group, Signal::SIGKILL);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Whether process `pid` is alive and runs `program` (its command line's first word).
fn runs_program(pid: i32, program: &std::path::Path) -> bool {
    let first_word = if std::path::Path::new("/proc/self/cmdline").exists() {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        // A zombie is dead already; its parent will reap it.
        if stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            == Some("Z")
        {
            return false;
        }
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .ok()
            .and_then(|bytes| {
                bytes
                    .split(|byte| *byte == 0)
                    .next()
                    .map(|word| String::from_utf8_lossy(word).into_owned())
            })
    } else {
        std::process::Command::new("ps")
            .args(["-o", "command=", "-p", &pid.to_string()])
            .output()
            .ok()
            .map(|output| {
                String::from_utf8_lossy(&output.stdout)
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_owned()
            })
    };
    first_word.is_some_and(|word| !word.is_empty() && std::path::Path::new(&word) == program)
}

/// SIGTERM to the process group, SIGKILL after the grace period; reaps the child.
async fn terminate(child: &mut Child, pid: Option<u32>) {
    use nix::sys::signal::{Signal, killpg};
    let group = pid
        .and_then(|pid| i32::try_from(pid).ok())
        .map(nix::unistd::Pid::from_raw);
    if let Some(group) = group {
        let _ = killpg(group, Signal::SIGTERM);
    }
    if tokio::time::timeout(STOP_GRACE, child.wait())
        .await
        .is_err()
    {
        if let Some(group) = group {
            let _ = killpg(group, Signal::SIGKILL);
        }
        let _ = child.kill().await;
    }
}

/// `exit status 1`, `signal 9 (SIGKILL)`.
fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => match nix::sys::signal::Signal::try_from(signal) {
            Ok(name) => format!("signal {signal} ({name})"),
            Err(_) => format!("signal {signal}"),
        },
        (None, None) => "ended".to_owned(),
    }
}
