//! First contact: what is on this machine, proposed as configuration, and applied the one way
//! (`config::setup::apply`, which never overwrites what the user wrote). `hearth setup`, the
//! admin API (`/admin/setup`, the UI's first page, the tray menu) and a starting gateway
//! (`hearth serve`, the app) all come here.
//!
//! A first run (no configuration file yet) writes the default configuration with the servers
//! that already answer on this machine in it, and their models: Hearth answers through them
//! with no step in between. What would start a program (a service for an installed server and
//! a model file) is only proposed; the user applies it with one click or `hearth setup --apply`.

use std::time::Duration;

use hearth_core::config::{
    ConfigFile, Validated,
    setup::{self, Applied, Proposal},
    store::{self, Paths, StoreError},
};
use hearth_services::{
    discovery::{self, Findings, Options},
    memory,
    spec::port_is_free,
};
use serde::Serialize;

use crate::state::Runtime;

/// What discovery found and what it proposes for a configuration.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Discovery {
    pub findings: Findings,
    pub proposal: Proposal,
}

/// Discovers what this machine has and proposes what `current` lacks.
pub async fn discover(current: &ConfigFile, options: &Options) -> Discovery {
    let http = hearth_services::health::client();
    let findings = discovery::discover(&http, options).await;
    let memory = tokio::task::spawn_blocking(memory::sample)
        .await
        .ok()
        .flatten();
    // A proposed service's port must be free now, not only unknown to the configuration:
    // something else may listen there (another program, another Hearth's service).
    let mut taken = vec![current.gateway.port];
    let mut proposal = discovery::propose(&findings, current, memory.as_ref(), &taken);
    for _ in 0..32 {
        let busy: Vec<u16> = proposal
            .services
            .iter()
            .filter_map(|service| service.service.port)
            .filter(|port| !port_is_free(*port))
            .collect();
        if busy.is_empty() {
            break;
        }
        taken.extend(busy);
        proposal = discovery::propose(&findings, current, memory.as_ref(), &taken);
    }
    Discovery { findings, proposal }
}

/// The part of a proposal a first run applies by itself: providers whose servers answered, and
/// a primary among their models. Services (programs Hearth would start) wait for the user.
pub fn answering_only(proposal: &Proposal) -> Proposal {
    let providers: Vec<_> = proposal
        .providers
        .iter()
        .filter(|provider| provider.running)
        .cloned()
        .collect();
    let primary = proposal.primary.clone().filter(|primary| {
        providers
            .iter()
            .any(|provider| primary.starts_with(&format!("{}/", provider.id)))
    });
    Proposal {
        providers,
        services: Vec::new(),
        primary,
        notes: Vec::new(),
    }
}

/// The configuration a starting gateway serves, and what it should tell the user.
#[derive(Debug)]
pub struct Startup {
    pub validated: Validated,
    /// On a first run: what was written besides the defaults.
    pub first_run: Option<Applied>,
    /// When no model is configured: what `hearth setup --apply` would add (empty when
    /// discovery found nothing either).
    pub proposal: Option<Proposal>,
}

/// Loads the configuration for `hearth serve` or the app. A first run writes the default
/// configuration, with the servers that answer here and their models in it (tokens are the
/// caller's to ensure). When no model is configured, discovery's proposal comes back too, so
/// the caller can say what would serve.
pub async fn load_for_start(paths: &Paths, options: &Options) -> Result<Startup, StoreError> {
    // Start-up, before anything is served: the file is read and written in place.
    let loaded = store::load(paths)?;
    if loaded.validated.config.model_count() > 0 {
        return Ok(Startup {
            validated: loaded.validated,
            first_run: None,
            proposal: None,
        });
    }
    let found = discover(&loaded.validated.config.file, options).await;
    if loaded.from_file {
        return Ok(Startup {
            validated: loaded.validated,
            first_run: None,
            proposal: Some(found.proposal),
        });
    }
    let mut document = loaded.document;
    let applied =
        setup::apply(&mut document, &answering_only(&found.proposal)).map_err(|error| {
            StoreError::Write {
                path: paths.config_file.clone(),
                source: std::io::Error::other(error.to_string()),
            }
        })?;
    let validated = store::save(paths, &document)?;
    let proposal = (validated.config.model_count() == 0).then_some(found.proposal);
    Ok(Startup {
        validated,
        first_run: Some(applied),
        proposal,
    })
}

/// Discovers again and adds what is proposed to the running configuration (the admin API's
/// apply, the tray's "Use what was found"), through `config_edit` like every edit; a new
/// primary model's service is started by the reconciliation that follows.
pub async fn apply_discovered(
    gateway: &crate::Gateway,
) -> Result<(Applied, Vec<hearth_core::config::Diagnostic>), crate::config_edit::EditError> {
    let found = discover(&gateway.runtime().config.file, &Options::from_env()).await;
    let applied = std::sync::Arc::new(std::sync::Mutex::new(Applied::default()));
    let record = std::sync::Arc::clone(&applied);
    let warnings = crate::config_edit::edit_config(gateway, move |document| {
        let done = setup::apply(document, &found.proposal).map_err(|error| error.to_string())?;
        if let Ok(mut record) = record.lock() {
            *record = done;
        }
        Ok(())
    })
    .await?;
    let applied = applied
        .lock()
        .map(|applied| applied.clone())
        .unwrap_or_default();
    Ok((applied, warnings))
}

/// One provider as the Models page shows it: reachable or not, what it lists.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderState {
    pub id: String,
    pub api: &'static str,
    pub base_url: String,
    pub reachable: bool,
    /// Why not, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The models the server lists (when it answered).
    pub listed: Vec<String>,
    /// The models the configuration lists.
    pub configured: Vec<String>,
    /// The service that runs its server, if Hearth runs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// How long a reachability probe may take.
const PROBE: Duration = Duration::from_secs(2);

/// Every provider of `runtime`, probed concurrently (a model list each).
pub async fn providers(
    runtime: &Runtime,
    services: &[(String, Option<String>)],
) -> Vec<ProviderState> {
    let probes = runtime
        .config
        .providers
        .values()
        .map(|provider| async move {
            let listed = match runtime.backends.get(&provider.id) {
                Some(backend) => match tokio::time::timeout(PROBE, backend.list_models()).await {
                    Ok(Ok(listed)) => Ok(listed),
                    Ok(Err(error)) => Err(error.to_string()),
                    Err(_) => Err(format!("no answer within {}s", PROBE.as_secs())),
                },
                None => Err(format!(
                    "Hearth cannot reach `{}` providers yet",
                    provider.api.as_str()
                )),
            };
            let (reachable, error, listed) = match listed {
                Ok(listed) => (true, None, listed),
                Err(error) => (false, Some(error), Vec::new()),
            };
            ProviderState {
                id: provider.id.clone(),
                api: provider.api.as_str(),
                base_url: provider.base_url.clone(),
                reachable,
                error,
                listed,
                configured: provider
                    .models
                    .iter()
                    .map(|model| model.id.clone())
                    .collect(),
                service: services
                    .iter()
                    .find(|(_, serves)| serves.as_deref() == Some(provider.id.as_str()))
                    .map(|(name, _)| name.clone()),
            }
        });
    futures_util::future::join_all(probes).await
}

/// What to do next when nothing can answer a request for `default` yet, in one line — `hearth
/// status`, the dashboard and the tray say it; `None` when the default agent's model can be
/// reached (its service runs, or its server answers).
pub async fn next_step(gateway: &crate::Gateway) -> Option<String> {
    let runtime = gateway.runtime();
    let config = &runtime.config;
    let agent = config.agent(&config.default_agent)?;
    let Some(model) = config.agent_model(agent) else {
        return Some(if config.model_count() == 0 {
            "No model is configured yet: `hearth setup` finds the servers and models on this \
             machine and `hearth setup --apply` adds them (or the dashboard's Models page)"
                .to_owned()
        } else {
            format!(
                "No primary model among the {} configured: choose one with `hearth model use \
                 PROVIDER/MODEL` (`hearth model list`)",
                config.model_count()
            )
        });
    };
    let residency = gateway.residency();
    if let Some(spec) = crate::residency::service_for(&runtime, residency.layout(), &model.provider)
    {
        let state = residency.services().status(&spec).await.state;
        return (!state.is_up() && state != hearth_services::ServiceState::Unknown).then(|| {
            format!(
                "The primary model {model} is not loaded: its service `{}` is {}; start it with \
                 `hearth model use {model}` (its log: `hearth services logs {}`)",
                spec.name,
                state.as_str(),
                spec.name
            )
        });
    }
    let backend = runtime.backends.get(&model.provider)?;
    match tokio::time::timeout(PROBE, backend.health()).await {
        Ok(Ok(())) => None,
        _ => {
            let base_url = config
                .providers
                .get(&model.provider)
                .map_or("?", |provider| provider.base_url.as_str());
            Some(format!(
                "The primary model {model} cannot be reached: provider `{}` does not answer at \
                 {base_url}; start its server, or choose another model (`hearth model use`, \
                 `hearth setup`)",
                model.provider
            ))
        }
    }
}
