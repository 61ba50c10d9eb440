//! One interface over both drivers: a service whose spec says `launchd` is a LaunchAgent, one
//! that says `supervisor` is Hearth's child. Starting waits for health either way.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::{
    ServiceSpec, ServiceState, ServiceStatus, ServicesError, Supervisor, health, launchd, logs,
    supervisor::ServiceEvent,
};
use hearth_core::config::file::ServiceDriver;

/// Runs services with the driver each one names.
#[derive(Debug, Clone, Default)]
pub struct Services {
    supervisor: Supervisor,
    /// launchd's answers, briefly: every model request asks whether its service is up, and
    /// for a LaunchAgent that is a `launchctl print` process.
    launchd_status: Arc<Mutex<StatusCache>>,
}

/// How long a `launchctl print` answer is reused. A service that died in between is found by
/// the request itself (its backend refuses the connection).
pub const LAUNCHD_STATUS_TTL: Duration = Duration::from_secs(2);

/// The last status of each LaunchAgent and when it was read; an action on a service forgets its
/// entry, so a start or stop is seen at once.
#[derive(Debug, Default)]
pub struct StatusCache {
    entries: HashMap<String, (Instant, ServiceStatus)>,
}

impl StatusCache {
    /// The status read less than [`LAUNCHD_STATUS_TTL`] before `now`.
    pub fn get(&self, label: &str, now: Instant) -> Option<ServiceStatus> {
        self.entries
            .get(label)
            .filter(|(read, _)| now.saturating_duration_since(*read) < LAUNCHD_STATUS_TTL)
            .map(|(_, status)| status.clone())
    }

    pub fn put(&mut self, label: String, read: Instant, status: ServiceStatus) {
        self.entries.insert(label, (read, status));
    }

    pub fn forget(&mut self, label: &str) {
        self.entries.remove(label);
    }
}

impl Services {
    pub fn new() -> Services {
        Services::default()
    }

    /// State changes of supervised services (launchd reports none: it is polled).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<ServiceEvent> {
        self.supervisor.subscribe()
    }

    /// Starts the service and waits for its health check; a running one is left alone.
    pub async fn start(&self, spec: &ServiceSpec) -> Result<ServiceStatus, ServicesError> {
        rotate_log(spec);
        self.forget(spec);
        match spec.driver {
            ServiceDriver::Supervisor => self.supervisor.start(spec).await,
            ServiceDriver::Launchd => {
                let status = self.status(spec).await;
                if !status.state.is_up() {
                    spec.check_port_free()?;
                    let owned = spec.clone();
                    blocking(spec, move || {
                        let agent = system_launchd(&owned)?;
                        agent.install(&owned)?;
                        agent.start(&owned)
                    })
                    .await?;
                }
                wait_healthy(spec).await?;
                Ok(self.status(spec).await)
            }
        }
    }

    /// Stops the service and waits until it is gone; a LaunchAgent's plist goes with it, so it
    /// stays stopped after the next login.
    pub async fn stop(&self, spec: &ServiceSpec) -> Result<(), ServicesError> {
        self.forget(spec);
        match spec.driver {
            ServiceDriver::Supervisor => {
                self.supervisor.stop(&spec.name).await;
                Ok(())
            }
            ServiceDriver::Launchd => {
                let owned = spec.clone();
                blocking(spec, move || system_launchd(&owned)?.stop(&owned)).await
            }
        }
    }

    /// Stops it and removes what the driver keeps of it (the LaunchAgent plist).
    pub async fn uninstall(&self, spec: &ServiceSpec) -> Result<(), ServicesError> {
        self.forget(spec);
        match spec.driver {
            ServiceDriver::Supervisor => {
                self.supervisor.stop(&spec.name).await;
                Ok(())
            }
            ServiceDriver::Launchd => {
                let owned = spec.clone();
                blocking(spec, move || system_launchd(&owned)?.uninstall(&owned)).await
            }
        }
    }

    /// Stops and starts it again, waiting for health.
    pub async fn restart(&self, spec: &ServiceSpec) -> Result<ServiceStatus, ServicesError> {
        rotate_log(spec);
        self.forget(spec);
        match spec.driver {
            ServiceDriver::Supervisor => {
                self.supervisor.stop(&spec.name).await;
                self.supervisor.start(spec).await
            }
            ServiceDriver::Launchd => {
                let owned = spec.clone();
                blocking(spec, move || {
                    let agent = system_launchd(&owned)?;
                    agent.install(&owned)?;
                    agent.restart(&owned)
                })
                .await?;
                wait_healthy(spec).await?;
                Ok(self.status(spec).await)
            }
        }
    }

    /// What the driver says now.
    pub async fn status(&self, spec: &ServiceSpec) -> ServiceStatus {
        match spec.driver {
            ServiceDriver::Supervisor => self.supervisor.status(&spec.name),
            ServiceDriver::Launchd => {
                let now = Instant::now();
                if let Some(status) = self.cached(spec, now) {
                    return status;
                }
                let owned = spec.clone();
                let name = spec.name.clone();
                let status = blocking(spec, move || system_launchd(&owned)?.status(&owned))
                    .await
                    .unwrap_or(ServiceStatus {
                        name,
                        state: ServiceState::Unknown,
                        pid: None,
                        restarts: 0,
                        last_exit: None,
                    });
                if let Ok(mut cache) = self.launchd_status.lock() {
                    cache.put(spec.label(), now, status.clone());
                }
                status
            }
        }
    }

    fn cached(&self, spec: &ServiceSpec, now: Instant) -> Option<ServiceStatus> {
        self.launchd_status
            .lock()
            .ok()
            .and_then(|cache| cache.get(&spec.label(), now))
    }

    fn forget(&self, spec: &ServiceSpec) {
        if let Ok(mut cache) = self.launchd_status.lock() {
            cache.forget(&spec.label());
        }
    }

    /// The supervised services running now, each with the spec it was started with.
    pub fn supervised(&self) -> Vec<ServiceSpec> {
        self.supervisor
            .running()
            .iter()
            .filter_map(|name| self.supervisor.running_spec(name))
            .collect()
    }

    /// Stops what Hearth itself runs; LaunchAgents keep running, as launchd means them to.
    pub async fn shutdown(&self) {
        self.supervisor.shutdown().await;
    }
}

/// Rotates the service's log when it has grown past [`logs::LIMIT`]; a failure is logged, never
/// in the way of the service.
pub fn rotate_log(spec: &ServiceSpec) {
    match logs::rotate(&spec.log_file, logs::LIMIT, logs::KEEP) {
        Ok(true) => {
            tracing::info!(service = %spec.name, log = %spec.log_file.display(), "log rotated")
        }
        Ok(false) => {}
        Err(error) => {
            tracing::warn!(service = %spec.name, log = %spec.log_file.display(), %error, "cannot rotate the log");
        }
    }
}

/// The user's LaunchAgents in `gui/<uid>`, driven by `/bin/launchctl`.
fn system_launchd(
    spec: &ServiceSpec,
) -> Result<launchd::Launchd<launchd::SystemLaunchctl>, ServicesError> {
    let agents = launchd::launch_agents_dir().ok_or_else(|| ServicesError::Io {
        name: spec.name.clone(),
        action: "find ~/Library/LaunchAgents",
        detail: "HOME is not set".to_owned(),
    })?;
    Ok(launchd::Launchd::new(
        launchd::SystemLaunchctl,
        launchd::gui_domain(),
        agents,
    ))
}

async fn blocking<T: Send + 'static>(
    spec: &ServiceSpec,
    work: impl FnOnce() -> Result<T, ServicesError> + Send + 'static,
) -> Result<T, ServicesError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ServicesError::Io {
            name: spec.name.clone(),
            action: "ask launchd",
            detail: error.to_string(),
        })?
}

/// Polls the health URL until it answers or the start timeout passes.
async fn wait_healthy(spec: &ServiceSpec) -> Result<(), ServicesError> {
    let Some(url) = &spec.health_url else {
        return Ok(());
    };
    let http = health::client();
    let deadline = tokio::time::Instant::now() + spec.start_timeout;
    while tokio::time::Instant::now() < deadline {
        if health::probe(&http, url).await {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    Err(ServicesError::Unhealthy {
        name: spec.name.clone(),
        url: url.clone(),
        after: spec.start_timeout,
        last_log: health::tail(&spec.log_file, 15).ok(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launchd_answers_are_reused_briefly_and_forgotten_after_an_action() {
        let status = |state| ServiceStatus {
            name: "llama".to_owned(),
            state,
            pid: None,
            restarts: 0,
            last_exit: None,
        };
        let start = Instant::now();
        let mut cache = StatusCache::default();
        assert_eq!(cache.get("app.hearth.llama", start), None);
        cache.put(
            "app.hearth.llama".to_owned(),
            start,
            status(ServiceState::Running),
        );
        let soon = start + Duration::from_millis(1500);
        assert_eq!(
            cache
                .get("app.hearth.llama", soon)
                .map(|status| status.state),
            Some(ServiceState::Running)
        );
        assert_eq!(cache.get("app.hearth.other", soon), None);
        assert_eq!(
            cache.get("app.hearth.llama", start + LAUNCHD_STATUS_TTL),
            None
        );
        cache.forget("app.hearth.llama");
        assert_eq!(cache.get("app.hearth.llama", soon), None);
    }
}
