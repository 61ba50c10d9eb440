//! Hot reload: the configuration file is watched and a change is validated before it replaces
//! the running configuration. An invalid file is refused with a log line (and shown by
//! `hearth status`); the old configuration keeps serving.
//!
//! Watching reads the file once a second and compares its bytes with the last ones seen. Editors
//! and Hearth's own atomic saves replace the file by renaming, which inotify-style watchers
//! follow poorly, and a modification time can repeat within a timer tick; reading a few
//! kilobytes a second costs nothing and misses nothing.

use std::{path::PathBuf, time::Duration};

use hearth_core::config::store::{self, Paths, StoreError};

use crate::state::{Gateway, Runtime};

async fn contents(path: &PathBuf) -> Option<Vec<u8>> {
    tokio::fs::read(path).await.ok()
}

/// Watches `paths.config_file`, applying every valid change, until the returned future is
/// dropped. The file is read once here, when the watcher is made (right after the gateway
/// loaded it), so a change made before the future first runs is not mistaken for the baseline.
pub fn watch_config(
    gateway: Gateway,
    paths: Paths,
    every: Duration,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let baseline = std::fs::read(&paths.config_file).ok();
    watch(gateway, paths, every, baseline)
}

async fn watch(gateway: Gateway, paths: Paths, every: Duration, baseline: Option<Vec<u8>>) {
    let mut last = baseline;
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        let now = contents(&paths.config_file).await;
        if now == last {
            continue;
        }
        last = now;
        // Read, validate and swap under the lock every configuration writer holds, so a load
        // begun before a switch saved cannot replace what the switch put in force.
        let config_writes = gateway.config_writes().await;
        let paths = paths.clone();
        let store = gateway.store();
        let loaded = tokio::task::spawn_blocking(move || {
            let loaded = store::load(&paths)?;
            Runtime::load(
                loaded.validated.config,
                loaded.validated.warnings,
                store.as_ref(),
            )
            .map_err(|error| StoreError::Read {
                path: paths.config_file.clone(),
                source: std::io::Error::other(error.to_string()),
            })
        })
        .await;
        let loaded = loaded.map(|result| {
            result.and_then(|runtime| {
                let running = gateway.runtime();
                match listening_changed(&running.config.gateway, &runtime.config.gateway) {
                    Some(what) => Err(StoreError::Invalid(vec![
                        hearth_core::config::Diagnostic::error(
                            "gateway",
                            format!(
                                "{what} changes only when Hearth restarts (it is listening already); restart it to apply this file"
                            ),
                        ),
                    ])),
                    None => Ok(runtime),
                }
            })
        });
        match loaded {
            Ok(Ok(runtime)) => {
                tracing::info!(file = %gateway_file(&gateway), "configuration reloaded");
                let previous_primary = gateway.runtime().config.primary.clone();
                gateway.replace(runtime);
                tokio::spawn(crate::residency::reconcile(
                    gateway.clone(),
                    previous_primary,
                ));
            }
            Ok(Err(StoreError::Invalid(found))) => {
                for diagnostic in &found {
                    tracing::error!(%diagnostic, "configuration change refused");
                }
                tracing::error!(
                    "the configuration file is invalid; still serving the previous one"
                );
                gateway.set_refused(Some(found));
            }
            Ok(Err(error)) => {
                tracing::error!(%error, "configuration change not applied; still serving the previous one");
            }
            Err(error) => tracing::error!(%error, "configuration reload failed"),
        }
        drop(config_writes);
    }
}

fn gateway_file(gateway: &Gateway) -> String {
    gateway
        .config_file()
        .map(|path| path.display().to_string())
        .unwrap_or_default()
}

/// What a reload cannot change while the gateway runs: where it listens and the rules tied to
/// it (anonymous access and tokens depend on `allowRemote`, the body limit on the router). A
/// live change there would leave the listener and the rules disagreeing.
pub(crate) fn listening_changed(
    running: &hearth_core::config::model::Gateway,
    new: &hearth_core::config::model::Gateway,
) -> Option<&'static str> {
    if running.bind != new.bind {
        Some("`gateway.bind`")
    } else if running.port != new.port {
        Some("`gateway.port`")
    } else if running.allow_remote != new.allow_remote {
        Some("`gateway.allowRemote`")
    } else if running.body_limit_bytes != new.body_limit_bytes {
        Some("`gateway.bodyLimitMiB`")
    } else {
        None
    }
}

/// Loads a locked runtime again with every secret read from the store, and puts it in force
/// (the app's "Try again" after a denied Keychain prompt). `Ok(false)` when nothing is locked.
pub async fn unlock_secrets(gateway: &Gateway) -> Result<bool, crate::RuntimeError> {
    let _config_writes = gateway.config_writes().await;
    let running = gateway.runtime();
    let store = gateway.store();
    let unlocked = tokio::task::spawn_blocking(move || running.unlock(store.as_ref()))
        .await
        .map_err(|error| crate::RuntimeError::Task(error.to_string()))?;
    match unlocked {
        None => Ok(false),
        Some(runtime) => {
            gateway.replace(runtime?);
            tracing::info!("the secret store answered: every token is in force");
            Ok(true)
        }
    }
}
