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
    #[error("the task that reads the secret store failed: {0}")]
    Task(String),
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
    /// Set when the secret store refused and this runtime stands in ([`Runtime::load_or_lock`]).
    pub locked: Option<Locked>,
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
        // A missing provider key is not fatal: that provider fails with a clear error, the
        // others serve.
        let backends = backends(&config, &mut warnings, |reference| {
            hearth_secrets::resolve(store, reference).map_err(|error| error.to_string())
        })?;
        Ok(Runtime {
            config,
            admin_token,
            client_tokens,
            backends,
            warnings,
            locked: None,
        })
    }

    /// [`Runtime::load`], or — when the secret store refuses (a denied or cancelled Keychain
    /// prompt, a locked keychain) — a runtime *locked* until [`Runtime::unlock`]: no further
    /// `keychain:` reference is read (each read could ask the user again), `env:` ones still
    /// are, and whatever could not be read is replaced by what no caller can present. The admin
    /// token becomes a random one nobody is told (the app's own window still signs in, through
    /// its session), clients without their token are refused, providers without their key fail
    /// with a clear error. Anonymous loopback callers are served as always. The app starts this
    /// way instead of exiting; `hearth serve` keeps the strict load and says what to fix.
    pub fn load_or_lock(
        config: Config,
        warnings: Vec<Diagnostic>,
        store: &dyn SecretStore,
    ) -> Result<Runtime, RuntimeError> {
        let error = match Runtime::load(config.clone(), warnings.clone(), store) {
            Err(RuntimeError::Secrets(error)) => error,
            other => return other,
        };
        let why = error.to_string();
        let env_only = |reference: &SecretRef| match reference {
            SecretRef::Env(_) => hearth_secrets::resolve(store, reference).ok(),
            SecretRef::Keychain(_) => None,
        };
        let mut locked_warnings = warnings.clone();
        let admin_token = match env_only(&config.gateway.admin_token) {
            Some(token) => token,
            None => {
                locked_warnings.push(Diagnostic::warning(
                    "gateway.adminToken",
                    format!("not read ({why}): the admin API accepts only the app's own window until the secret store answers"),
                ));
                hearth_secrets::generate_token()?
            }
        };
        let mut client_tokens = Vec::new();
        for (index, client) in config.clients.iter().enumerate() {
            match env_only(&client.token) {
                Some(token) => client_tokens.push((client.name.clone(), token)),
                None => locked_warnings.push(Diagnostic::warning(
                    format!("clients[{index}].token"),
                    format!(
                        "not read ({why}): client `{}` is refused until the secret store answers",
                        client.name
                    ),
                )),
            }
        }
        let backends = backends(&config, &mut locked_warnings, |reference| {
            env_only(reference).ok_or_else(|| format!("not read ({why})"))
        })?;
        Ok(Runtime {
            config,
            admin_token,
            client_tokens,
            backends,
            warnings: locked_warnings,
            locked: Some(Locked {
                error: why,
                warnings,
            }),
        })
    }

    /// The locked runtime loaded again, strictly: every token from the secret store. Blocking.
    /// `None` when this runtime is not locked.
    pub fn unlock(&self, store: &dyn SecretStore) -> Option<Result<Runtime, RuntimeError>> {
        let locked = self.locked.as_ref()?;
        Some(Runtime::load(
            self.config.clone(),
            locked.warnings.clone(),
            store,
        ))
    }
}

/// Why a runtime is locked, and what it needs to load again.
#[derive(Debug, Clone)]
pub struct Locked {
    /// The secret store's refusal, as the user should read it.
    pub error: String,
    /// The configuration's own warnings (the locked runtime's add what was not read).
    warnings: Vec<Diagnostic>,
}

/// One backend per provider; a provider whose key `api_key` cannot give, or whose protocol
/// cannot be served, is left out with a warning.
fn backends(
    config: &Config,
    warnings: &mut Vec<Diagnostic>,
    api_key: impl Fn(&SecretRef) -> Result<Secret<String>, String>,
) -> Result<BTreeMap<String, Backend>, RuntimeError> {
    // No redirects: a provider's key goes only where its `baseUrl` says (reqwest would carry
    // `x-api-key` to another host), and a model API that redirects is answered as an error.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.gateway.timeouts.connect)
        .pool_idle_timeout(std::time::Duration::from_secs(90))
        .build()
        .map_err(|error| RuntimeError::Http(error.to_string()))?;
    let mut backends = BTreeMap::new();
    for provider in config.providers.values() {
        let api_key = match &provider.api_key {
            Some(reference) => match api_key(reference) {
                Ok(key) => Some(key),
                Err(error) => {
                    warnings.push(Diagnostic::warning(
                        format!("providers.{}.apiKey", provider.id),
                        error,
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
    Ok(backends)
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
        Some(format!("http://127.0.0.1:{port}/ui/#login={code}"))
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
