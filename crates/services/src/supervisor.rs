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
/// A service without a health URL counts as healthy once it has run this long.
const SURVIVAL: Duration = Duration::from_secs(1);

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
    spec: ServiceSpec,
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
        let launched_now = existing.is_none();
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
                // One that crashed earlier and waits for its back-off is given until the
                // deadline; one started just now that exits at once has failed.
                ServiceState::Restarting if !launched_now => {}
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

    /// Stops every service this supervisor started, all at once: each is asked to stop first,
    /// then each is awaited, so they share one grace period.
    pub async fn shutdown(&self) {
        let controls: Vec<(watch::Sender<bool>, JoinHandle<()>)> = self
            .lock()
            .values_mut()
            .filter_map(|slot| slot.control.take())
            .collect();
        for (stop, _) in &controls {
            let _ = stop.send(false);
        }
        for (_stop, mut task) in controls {
            if tokio::time::timeout(STOP_GRACE + Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
                let _ = task.await;
            }
        }
    }

    /// The spec a running service was started with (a reload may have changed the config).
    pub fn running_spec(&self, name: &str) -> Option<ServiceSpec> {
        self.lock()
            .get(name)
            .filter(|slot| {
                slot.control
                    .as_ref()
                    .is_some_and(|(_, task)| !task.is_finished())
            })
            .map(|slot| slot.spec.clone())
    }

    /// The names of the services running (or restarting) under this supervisor.
    pub fn running(&self) -> Vec<String> {
        self.lock()
            .iter()
            .filter(|(_, slot)| {
                slot.control
                    .as_ref()
                    .is_some_and(|(_, task)| !task.is_finished())
            })
            .map(|(name, _)| name.clone())
            .collect()
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
        spec.create_dirs(&[])?;
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
                spec: spec.clone(),
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
            // Whatever happens to the child, its whole process group goes with it.
            let _group = GroupGuard(pid);
            let started = Instant::now();
            let mut healthy = false;
            self.publish(
                ServiceState::Starting,
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
                        // Without a health URL, running for a moment counts as healthy.
                        let passed = match &self.spec.health_url {
                            Some(url) => health::probe(&self.http, url).await,
                            None => started.elapsed() >= SURVIVAL,
                        };
                        // A health URL answered by some other process while ours has
                        // already exited (it lost the port) is no health of ours.
                        let exited = matches!(child.try_wait(), Ok(Some(_)));
                        if passed && !exited {
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
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut log = std::fs::OpenOptions::new()
            .mode(0o600)
            .create(true)
            .append(true)
            .open(&spec.log_file)
            .map_err(|error| format!("cannot open {}: {error}", spec.log_file.display()))?;
        let _ = writeln!(log, "--- hearth: starting {}", spec.command_line());
        let stderr = log
            .try_clone()
            .map_err(|error| format!("cannot open {}: {error}", spec.log_file.display()))?;
        let mut command = Command::new(&spec.program);
        command.args(&spec.args).env_clear();
        // HOME (and TMPDIR) only: servers keep caches there and some refuse to start without
        // it. Nothing else of Hearth's environment reaches a service.
        for name in ["HOME", "TMPDIR"] {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command
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
                if let Some(pid) = child.id()
                    && let Some(started) = start_time(pid)
                {
                    if let Some(dir) = spec.pid_file.parent() {
                        let _ = std::fs::create_dir_all(dir);
                    }
                    let _ = std::fs::write(&spec.pid_file, format!("{pid} {started}\n"));
                }
            })
    }
}

/// Kills a process group when dropped (a monitor that ends, however it ends, leaves none of
/// its service's processes behind: Ollama's runners, a wrapper's children).
struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(group) = self.0.and_then(|pid| i32::try_from(pid).ok()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(group),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// When process `pid` started, as the kernel says: with the PID it names one process for good
/// (a PID is reused; a PID and its start time are not). Linux: field 22 of `/proc/PID/stat`;
/// elsewhere `ps -o lstart=`.
fn start_time(pid: u32) -> Option<String> {
    if std::path::Path::new("/proc/self/stat").exists() {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // After the command in parentheses: state is field 3, start time field 22.
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.first() == Some(&"Z") {
            return None;
        }
        fields.get(19).map(|field| (*field).to_owned())
    } else {
        let output = std::process::Command::new("ps")
            .args(["-o", "lstart=", "-p", &pid.to_string()])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&output.stdout)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("_");
        (!text.is_empty()).then_some(text)
    }
}

/// Stops an orphan of an earlier Hearth: the process the pid file names, if the same process
/// (PID and start time) still runs. Anything else with that PID is left alone.
async fn reap_stale(spec: &ServiceSpec) {
    let Some((pid, started)) = std::fs::read_to_string(&spec.pid_file)
        .ok()
        .and_then(|text| {
            let (pid, started) = text.trim().split_once(' ')?;
            Some((
                pid.parse::<u32>().ok().filter(|pid| *pid > 1)?,
                started.to_owned(),
            ))
        })
    else {
        return;
    };
    let _ = std::fs::remove_file(&spec.pid_file);
    let same = || start_time(pid).is_some_and(|now| now == started);
    if !same() {
        return;
    }
    tracing::warn!(service = %spec.name, pid, "stopping a server an earlier Hearth left running");
    use nix::sys::signal::{Signal, killpg};
    let Ok(raw) = i32::try_from(pid) else { return };
    let group = nix::unistd::Pid::from_raw(raw);
    let _ = killpg(group, Signal::SIGTERM);
    let deadline = tokio::time::Instant::now() + STOP_GRACE;
    while same() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = killpg(group, Signal::SIGKILL);
    while same() && tokio::time::Instant::now() < deadline + Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
