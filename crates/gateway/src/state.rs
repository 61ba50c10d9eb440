//! What the gateway runs on: the validated configuration together with the tokens resolved from
//! the secret store (a `Runtime`), swapped atomically when the configuration changes, so a
//! request sees one consistent configuration from start to finish.

use std::{
    collections::BTreeMap,
    fmt,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Instant,
};

use arc_swap::ArcSwap;
use hearth_core::{
    Secret, SecretRef,
    config::{Config, Diagnostic, store::Paths},
};
use hearth_secrets::{SecretStore, SecretsError, ensure_token};

use crate::{
    metrics::Metrics,
    providers::{Backend, Endpoint},
    residency::Residency,
};

/// Why a configuration could not be made ready to serve.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

/// A configuration ready to serve: every token it names resolved, every provider's backend
/// built over one pooled HTTP client.
#[derive(Debug)]
pub struct Runtime {
    pub config: Config,
    pub admin_token: Secret<String>,
    /// Client name and its token, in config order.
    pub client_tokens: Vec<(String, Secret<String>)>,
    /// By provider id; providers whose protocol cannot be served yet are missing.
    pub backends: BTreeMap<String, Backend>,
    /// Warnings of the configuration, shown by `hearth status` and the UI.
    pub warnings: Vec<Diagnostic>,
}

impl Runtime {
    /// Resolves the admin and client tokens, creating `keychain:` ones that do not exist yet
    /// (a first run). Blocking: the secret store may do I/O.
    pub fn load(
        config: Config,
        warnings: Vec<Diagnostic>,
        store: &dyn SecretStore,
    ) -> Result<Runtime, RuntimeError> {
        let resolve =
            |reference: &SecretRef| ensure_token(store, reference).map(|(token, _)| token);
        let admin_token = resolve(&config.gateway.admin_token)?;
        let client_tokens = config
            .clients
            .iter()
            .map(|client| Ok((client.name.clone(), resolve(&client.token)?)))
            .collect::<Result<Vec<_>, SecretsError>>()?;
        let mut warnings = warnings;
        let http = reqwest::Client::builder()
            .connect_timeout(config.gateway.timeouts.connect)
            .pool_idle_timeout(std::time::Duration::from_secs(90))
            .build()
            .map_err(|error| RuntimeError::Http(error.to_string()))?;
        let mut backends = BTreeMap::new();
        for provider in config.providers.values() {
            // A missing provider key is not fatal: that provider fails with a clear error,
            // the others serve.
            let api_key = match &provider.api_key {
                Some(reference) => match hearth_secrets::resolve(store, reference) {
                    Ok(key) => Some(key),
                    Err(error) => {
                        warnings.push(Diagnostic::warning(
                            format!("providers.{}.apiKey", provider.id),
                            error.to_string(),
                        ));
                        None
                    }
                },
                None => None,
            };
            let endpoint = Endpoint {
                provider: provider.id.clone(),
                base_url: provider.base_url.clone(),
                api_key,
                http: http.clone(),
            };
            match Backend::new(provider, endpoint) {
                Ok(backend) => {
                    backends.insert(provider.id.clone(), backend);
                }
                Err(error) => warnings.push(Diagnostic::warning(
                    format!("providers.{}.api", provider.id),
                    error.to_string(),
                )),
            }
        }
        Ok(Runtime {
            config,
            admin_token,
            client_tokens,
            backends,
            warnings,
        })
    }
}

/// The gateway's shared state; cheap to clone.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: ArcSwap<Runtime>,
    store: Arc<dyn SecretStore>,
    paths: Option<Paths>,
    started: Instant,
    /// The last configuration change that was refused, for `hearth status`.
    refused: Mutex<Option<Vec<Diagnostic>>>,
    /// One registry for the process: reloads keep the counts.
    metrics: Arc<Metrics>,
    /// The services and which model is resident; survives reloads.
    residency: Arc<Residency>,
    /// Every read-modify-write of the configuration file and its swap into the runtime (hot
    /// reload, a switch's new primary, the admin API's edits) holds this, so none undoes another.
    config_writes: tokio::sync::Mutex<()>,
    /// The web UI's browser sessions.
    sessions: crate::session::Sessions,
}

impl fmt::Debug for Gateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gateway")
            .field("paths", &self.inner.paths)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// `paths` are where the configuration file and the data dir are: a model switch saves the
    /// new primary model there, services keep their logs and working directories there. Without
    /// them (tests) a switch changes only the running configuration and services live in a
    /// temporary directory.
    pub fn new(runtime: Runtime, store: Arc<dyn SecretStore>, paths: Option<Paths>) -> Gateway {
        let data_dir = paths.as_ref().map_or_else(
            || std::env::temp_dir().join("hearth-services"),
            |paths| paths.data_dir.clone(),
        );
        Gateway {
            inner: Arc::new(Inner {
                runtime: ArcSwap::from_pointee(runtime),
                store,
                residency: Arc::new(Residency::new(&data_dir)),
                config_writes: tokio::sync::Mutex::new(()),
                sessions: crate::session::Sessions::default(),
                paths,
                started: Instant::now(),
                refused: Mutex::new(None),
                metrics: Arc::new(Metrics::new()),
            }),
        }
    }

    /// The configuration in force now.
    pub fn runtime(&self) -> Arc<Runtime> {
        self.inner.runtime.load_full()
    }

    /// Puts a new configuration in force; requests already running keep the one they started
    /// with.
    pub fn replace(&self, runtime: Runtime) {
        self.inner.runtime.store(Arc::new(runtime));
        self.set_refused(None);
    }

    pub fn store(&self) -> Arc<dyn SecretStore> {
        Arc::clone(&self.inner.store)
    }

    pub fn config_file(&self) -> Option<&PathBuf> {
        self.inner.paths.as_ref().map(|paths| &paths.config_file)
    }

    pub fn paths(&self) -> Option<&Paths> {
        self.inner.paths.as_ref()
    }

    pub(crate) fn sessions(&self) -> &crate::session::Sessions {
        &self.inner.sessions
    }

    /// The last finished model requests (time to first token, decode speed), oldest first.
    pub fn recent_requests(&self) -> Vec<crate::activity::Sample> {
        self.inner.metrics.activity.recent()
    }

    /// A one-time link that signs a browser (or the app's window) in to the UI.
    pub fn login_link(&self) -> Option<String> {
        let (code, _) = self.inner.sessions.issue_code()?;
        let port = self.runtime().config.gateway.port;
        Some(format!("http://127.0.0.1:{port}/ui/login?code={code}"))
    }

    pub async fn config_writes(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.config_writes.lock().await
    }

    pub fn residency(&self) -> &Arc<Residency> {
        &self.inner.residency
    }

    pub(crate) fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    pub fn uptime(&self) -> std::time::Duration {
        self.inner.started.elapsed()
    }

    pub(crate) fn set_refused(&self, found: Option<Vec<Diagnostic>>) {
        if let Ok(mut refused) = self.inner.refused.lock() {
            *refused = found;
        }
    }

    pub fn refused(&self) -> Option<Vec<Diagnostic>> {
        self.inner
            .refused
            .lock()
            .ok()
            .and_then(|refused| refused.clone())
    }
}
