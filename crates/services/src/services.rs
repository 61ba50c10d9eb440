//! One interface over both drivers: a service whose spec says `launchd` is a LaunchAgent, one
//! that says `supervisor` is Hearth's child. Starting waits for health either way.

use crate::{
    ServiceSpec, ServiceState, ServiceStatus, ServicesError, Supervisor, health, launchd, logs,
    supervisor::ServiceEvent,
};
use hearth_core::config::file::ServiceDriver;

/// Runs services with the driver each one names.
#[derive(Debug, Clone, Default)]
pub struct Services {
    supervisor: Supervisor,
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
                let owned = spec.clone();
                let name = spec.name.clone();
                blocking(spec, move || system_launchd(&owned)?.status(&owned))
                    .await
                    .unwrap_or(ServiceStatus {
                        name,
                        state: ServiceState::Unknown,
                        pid: None,
                        restarts: 0,
                        last_exit: None,
                    })
            }
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
