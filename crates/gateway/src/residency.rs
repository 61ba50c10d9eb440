//! The residency manager: which models are in memory, and switching the active one.
//!
//! Activating a model is one transaction, serialised with every other switch and published step
//! by step as `Progress`: check that it fits in memory → wait for the requests in flight →
//! unload the other models (`exclusive` mode: Ollama's `keep_alive: 0` for each model in its
//! `/api/ps`, a stop for services of other engines) → start the target's service and wait for
//! its health → warm it with a one-token request → make it the primary model, persisted in the
//! configuration file and swapped into the running configuration at once. A failure after
//! something was stopped rolls back: the target's service is stopped again and the services
//! that were running are started again, and the progress says so and why.
//!
//! Requests and switches meet at one `RwLock`: every model request holds a read guard from
//! routing until its answer ends; a switch takes the write guard after the memory check. The
//! lock is fair, so while a switch waits for the requests in flight, new requests queue behind
//! it, and they are routed by the configuration the switch left behind.

use std::{
    path::Path,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use hearth_core::config::{
    ModelRef,
    file::{Api, Residency as Mode, ServiceDriver},
    store,
};
use hearth_protocol::openai::chat::{ChatCompletionRequest, ChatMessage, Role};
use hearth_services::{
    ServiceSpec, ServiceStatus, ServicesError, memory, services::Services, spec::Layout,
    supervisor::ServiceEvent,
};
use serde::Serialize;
use tokio::sync::{OwnedRwLockReadGuard, RwLock, broadcast};

use crate::{
    error::GatewayError,
    providers::Backend,
    state::{Gateway, Runtime},
};

/// What the event stream carries.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Event {
    /// A service started, became healthy, exited, restarted or stopped.
    Service(ServiceEvent),
    /// A model switch moved on.
    Switch(Progress),
}

/// A model switch as far as it has come.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub id: u64,
    pub model: String,
    pub state: SwitchState,
    pub steps: Vec<Step>,
    /// Index of the step running now.
    pub current: Option<usize>,
    pub elapsed_ms: u64,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SwitchState {
    Running,
    Done,
    Failed,
}

/// One planned step.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub title: String,
    pub state: StepState,
    /// What it found or did: `1 request finished`, `12.1 MiB needed, 20.3 GiB available`.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StepState {
    Pending,
    Running,
    Done,
    Skipped,
    Failed,
}

/// A model that is in memory now.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Resident {
    /// `provider/model-id`.
    pub model: String,
    pub provider: String,
    /// The service that holds it, when a service does.
    pub service: Option<String>,
    /// Bytes in memory (Ollama) or the weights' size on disk (a service's model file).
    pub size: Option<u64>,
}

/// The residency manager's shared state; one per gateway.
#[derive(Debug)]
pub struct Residency {
    services: Services,
    layout: Layout,
    gate: Arc<RwLock<()>>,
    switching: tokio::sync::Mutex<()>,
    events: broadcast::Sender<Event>,
    last: Mutex<Option<Progress>>,
    next_id: AtomicU64,
    /// Turns true when the gateway shuts down: event streams end, so shutdown need not wait.
    closing: tokio::sync::watch::Sender<bool>,
    /// False from `starting_up` (a host's start, `crate::run`) until `start_services` has started
    /// what start-up starts: meanwhile a request for a model whose service is not up yet waits
    /// instead of being refused.
    started_up: tokio::sync::watch::Sender<bool>,
}

/// Held by a model request for as long as it runs: a switch waits for it.
pub type RequestGuard = OwnedRwLockReadGuard<()>;

impl Residency {
    pub fn new(data_dir: &Path) -> Residency {
        let services = Services::new();
        let events = broadcast::channel(256).0;
        Residency {
            services,
            layout: Layout::new(data_dir),
            gate: Arc::new(RwLock::new(())),
            switching: tokio::sync::Mutex::new(()),
            events,
            last: Mutex::new(None),
            next_id: AtomicU64::new(1),
            closing: tokio::sync::watch::channel(false).0,
            started_up: tokio::sync::watch::channel(true).0,
        }
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Switch progress; service events come from `services().subscribe()`.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Waits while a switch is flipping routing, then lets the request in.
    pub async fn enter(&self) -> RequestGuard {
        Arc::clone(&self.gate).read_owned().await
    }

    /// Held by everything that starts or stops services: switches, unloads, the admin API's
    /// service actions, start-up and reconciliation run one at a time.
    pub async fn one_at_a_time(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.switching.lock().await
    }

    /// Marks the start-up window that `start_services` ends.
    pub fn starting_up(&self) {
        self.started_up.send_replace(false);
    }

    /// Ends the event streams and the start-up wait (the gateway is shutting down).
    pub fn close(&self) {
        self.closing.send_replace(true);
        // A request waiting for start-up would otherwise hold the shutdown until its timeout.
        self.started_up.send_replace(true);
    }

    /// Resolves once `close` was called.
    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// The last switch, running or ended.
    pub fn last_switch(&self) -> Option<Progress> {
        self.last.lock().ok().and_then(|last| last.clone())
    }

    fn publish(&self, progress: &Progress) {
        if let Ok(mut last) = self.last.lock() {
            *last = Some(progress.clone());
        }
        let _ = self.events.send(Event::Switch(progress.clone()));
    }
}

/// Every configured service, with its defaults filled in.
pub fn specs(runtime: &Runtime, layout: &Layout) -> Vec<ServiceSpec> {
    runtime
        .config
        .services
        .iter()
        .map(|(name, file)| ServiceSpec::resolve(name, file, layout))
        .collect()
}

/// The service that serves `provider`, if one does. Asked on every model request: only the
/// matching entry is resolved.
pub fn service_for(runtime: &Runtime, layout: &Layout, provider: &str) -> Option<ServiceSpec> {
    runtime
        .config
        .services
        .iter()
        .find(|(_, file)| file.provider.as_deref() == Some(provider))
        .map(|(name, file)| ServiceSpec::resolve(name, file, layout))
}

/// The one service named `name`.
pub fn service(
    runtime: &Runtime,
    layout: &Layout,
    name: &str,
) -> Result<ServiceSpec, GatewayError> {
    let services = &runtime.config.services;
    services
        .get(name)
        .map(|file| ServiceSpec::resolve(name, file, layout))
        .ok_or_else(|| {
            let known: Vec<&str> = services.keys().map(String::as_str).collect();
            GatewayError::NotFound(format!(
                "there is no service `{name}`{}",
                if known.is_empty() {
                    "; none is configured (`hearth services install`)".to_owned()
                } else {
                    format!("; configured: {}", known.join(", "))
                }
            ))
        })
}

/// The size of a model's weights: the configured `sizeBytes`, else the size of the model file
/// its service loads (`-m` / `--model` naming an existing file).
pub fn model_size(runtime: &Runtime, layout: &Layout, model: &ModelRef) -> Option<u64> {
    let configured = runtime
        .config
        .providers
        .get(&model.provider)
        .and_then(|provider| provider.model(&model.model))
        .and_then(|found| found.size_bytes);
    configured.or_else(|| {
        let spec = service_for(runtime, layout, &model.provider)?;
        let position = spec
            .args
            .iter()
            .position(|arg| arg == "-m" || arg == "--model")?;
        let file = spec.args.get(position + 1)?;
        std::fs::metadata(file).ok().map(|metadata| metadata.len())
    })
}

/// The models in memory now: each running service's provider's models (a server holds its
/// model while it runs), and what every Ollama provider's `/api/ps` lists.
pub async fn resident(gateway: &Gateway) -> Vec<Resident> {
    let runtime = gateway.runtime();
    let residency = gateway.residency();
    let layout = residency.layout();
    let mut found = Vec::new();
    for spec in specs(&runtime, layout) {
        let Some(provider_id) = &spec.provider else {
            continue;
        };
        let Some(provider) = runtime.config.providers.get(provider_id) else {
            continue;
        };
        if provider.api == Api::Ollama {
            continue; // asked below, model by model
        }
        if !residency.services().status(&spec).await.state.is_up() {
            continue;
        }
        // One server holds one model: the primary when it is this provider's, else the
        // first one the provider lists.
        let model = runtime
            .config
            .primary
            .as_ref()
            .filter(|primary| primary.provider == provider.id)
            .map(|primary| primary.model.clone())
            .or_else(|| provider.models.first().map(|model| model.id.clone()));
        let Some(model) = model else {
            continue;
        };
        let reference = ModelRef {
            provider: provider.id.clone(),
            model,
        };
        found.push(Resident {
            size: model_size(&runtime, layout, &reference),
            model: reference.to_string(),
            provider: provider.id.clone(),
            service: Some(spec.name.clone()),
        });
    }
    for (id, backend) in &runtime.backends {
        if let Backend::Ollama(ollama) = backend
            && let Ok(Ok(ps)) =
                tokio::time::timeout(crate::providers::STATUS_TIMEOUT, ollama.running()).await
        {
            for model in ps.models {
                found.push(Resident {
                    model: format!("{id}/{}", model.name),
                    provider: id.clone(),
                    service: service_for(&runtime, layout, id).map(|spec| spec.name),
                    size: Some(model.size),
                });
            }
        }
    }
    found
}

/// Two or more models resident at once: each slows the other (decode speed halves with two
/// large ones). `None` when at most one is.
pub fn contention(resident: &[Resident]) -> Option<String> {
    (resident.len() > 1).then(|| {
        let names: Vec<String> = resident
            .iter()
            .map(|model| match model.size {
                Some(size) => format!("{} ({})", model.model, memory::human(size)),
                None => model.model.clone(),
            })
            .collect();
        format!(
            "{} models are resident at once: {}; they compete for memory bandwidth (`hearth model use` unloads the others)",
            resident.len(),
            names.join(", ")
        )
    })
}

/// A switch in the making: the plan, its progress, and what to undo.
struct Switch<'a> {
    residency: &'a Residency,
    progress: Progress,
    started: Instant,
    /// The caller's own copy of every update (the admin route streams it).
    watcher: Option<tokio::sync::mpsc::UnboundedSender<Progress>>,
}

impl Switch<'_> {
    fn step(&mut self, index: usize, state: StepState, detail: Option<String>) {
        if let Some(step) = self.progress.steps.get_mut(index) {
            step.state = state;
            if detail.is_some() {
                step.detail = detail;
            }
        }
        self.progress.current = (state == StepState::Running).then_some(index);
        self.progress.elapsed_ms =
            u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.publish();
    }

    fn publish(&self) {
        self.residency.publish(&self.progress);
        if let Some(watcher) = &self.watcher {
            let _ = watcher.send(self.progress.clone());
        }
    }

    fn end(mut self, error: Option<String>) -> Progress {
        self.progress.state = if error.is_some() {
            SwitchState::Failed
        } else {
            SwitchState::Done
        };
        self.progress.error = error;
        self.progress.current = None;
        self.progress.elapsed_ms =
            u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        for step in &mut self.progress.steps {
            if step.state == StepState::Pending {
                step.state = StepState::Skipped;
            }
        }
        self.publish();
        self.progress
    }
}

/// What a switch has to do besides starting the target.
enum Unload {
    Service(ServiceSpec),
    Ollama { provider: String, model: String },
}

/// Makes `requested` the active model; see the module documentation. The returned progress
/// says whether it worked; a request that cannot even be planned (unknown model) is an error.
pub async fn activate(
    gateway: &Gateway,
    requested: &str,
    force: bool,
    watcher: Option<tokio::sync::mpsc::UnboundedSender<Progress>>,
) -> Result<Progress, GatewayError> {
    let residency = gateway.residency();
    let _one_at_a_time = residency.switching.lock().await;
    let runtime = gateway.runtime();
    let target = crate::pipeline::resolve_named_model(&runtime.config, requested)?;
    let layout = residency.layout();
    let mode = runtime.config.file.models.residency;
    let target_service = service_for(&runtime, layout, &target.provider);
    let backend = runtime
        .backends
        .get(&target.provider)
        .cloned()
        .ok_or_else(|| GatewayError::ModelNotFound {
            message: format!("provider `{}` cannot be served", target.provider),
        })?;

    let now_resident = resident(gateway).await;
    let mut unloads = Vec::new();
    if mode == Mode::Exclusive {
        for model in &now_resident {
            if model.model == target.to_string() {
                continue;
            }
            let is_ollama = runtime
                .config
                .providers
                .get(&model.provider)
                .is_some_and(|provider| provider.api == Api::Ollama);
            if is_ollama {
                unloads.push(Unload::Ollama {
                    provider: model.provider.clone(),
                    model: model.model[model.provider.len() + 1..].to_owned(),
                });
            } else if let Some(name) = &model.service
                && target_service
                    .as_ref()
                    .is_none_or(|spec| &spec.name != name)
                && !unloads
                    .iter()
                    .any(|unload| matches!(unload, Unload::Service(spec) if &spec.name == name))
                && let Ok(spec) = service(&runtime, layout, name)
            {
                unloads.push(Unload::Service(spec));
            }
        }
    }
    let freed: u64 = now_resident
        .iter()
        .filter(|model| {
            unloads.iter().any(|unload| match unload {
                Unload::Service(spec) => model.service.as_deref() == Some(spec.name.as_str()),
                Unload::Ollama {
                    provider,
                    model: id,
                } => model.model == format!("{provider}/{id}"),
            })
        })
        .filter_map(|model| model.size)
        .sum();

    let mut steps = vec![
        "check memory".to_owned(),
        "wait for requests in flight".to_owned(),
    ];
    for unload in &unloads {
        steps.push(match unload {
            Unload::Service(spec) => format!("stop service {}", spec.name),
            Unload::Ollama { provider, model } => format!("unload {provider}/{model}"),
        });
    }
    let start_index = target_service.as_ref().map(|spec| {
        steps.push(format!("start service {} and wait for health", spec.name));
        steps.len() - 1
    });
    steps.push(format!("warm up {target}"));
    steps.push("switch routing".to_owned());
    let mut switch = Switch {
        residency,
        progress: Progress {
            id: residency.next_id.fetch_add(1, Ordering::Relaxed),
            model: target.to_string(),
            state: SwitchState::Running,
            steps: steps
                .into_iter()
                .map(|title| Step {
                    title,
                    state: StepState::Pending,
                    detail: None,
                })
                .collect(),
            current: None,
            elapsed_ms: 0,
            error: None,
        },
        started: Instant::now(),
        watcher,
    };
    switch.publish();

    // 1. Memory.
    switch.step(0, StepState::Running, None);
    let context = runtime
        .config
        .providers
        .get(&target.provider)
        .and_then(|provider| provider.model(&target.model))
        .and_then(|model| model.context_window);
    let already = now_resident
        .iter()
        .any(|model| model.model == target.to_string());
    match (model_size(&runtime, layout, &target), memory::sample()) {
        _ if already => switch.step(0, StepState::Done, Some("already resident".to_owned())),
        (Some(size), Some(sample)) => {
            let estimate = memory::estimate(size, context);
            match memory::fit(&estimate, &sample, freed) {
                Ok(detail) => switch.step(0, StepState::Done, Some(detail)),
                Err(refusal) if force => {
                    switch.step(
                        0,
                        StepState::Done,
                        Some(format!("{}; forced", refusal.detail)),
                    );
                }
                Err(refusal) => {
                    switch.step(0, StepState::Failed, Some(refusal.detail.clone()));
                    return Ok(switch.end(Some(format!(
                        "{target} does not fit in memory: {refusal}, or pass --force"
                    ))));
                }
            }
        }
        (None, _) => switch.step(
            0,
            StepState::Skipped,
            Some("size unknown (set `sizeBytes` on the model); not checked".to_owned()),
        ),
        (Some(_), None) => switch.step(
            0,
            StepState::Skipped,
            Some("this platform does not report memory".to_owned()),
        ),
    }

    // 2. Requests in flight finish; new ones wait behind the switch.
    switch.step(1, StepState::Running, None);
    let waited = Instant::now();
    let Ok(exclusive) =
        tokio::time::timeout(DRAIN_TIMEOUT, Arc::clone(&residency.gate).write_owned()).await
    else {
        let error = format!(
            "requests were still in flight after {}s (a long generation, or a client that stopped reading); nothing was changed: try again when they are done",
            DRAIN_TIMEOUT.as_secs()
        );
        switch.step(1, StepState::Failed, Some(error.clone()));
        return Ok(switch.end(Some(format!("switch to {target} failed: {error}"))));
    };
    switch.step(
        1,
        StepState::Done,
        Some(format!("waited {} ms", waited.elapsed().as_millis())),
    );

    // 3. Unload the others.
    let mut stopped: Vec<ServiceSpec> = Vec::new();
    let mut unloaded: Vec<String> = Vec::new();
    let mut failure = None;
    for (offset, unload) in unloads.iter().enumerate() {
        let index = 2 + offset;
        switch.step(index, StepState::Running, None);
        let result = match unload {
            Unload::Service(spec) => residency
                .services()
                .stop(spec)
                .await
                .map(|()| {
                    stopped.push(spec.clone());
                    "stopped; its memory is released".to_owned()
                })
                .map_err(|error| error.to_string()),
            Unload::Ollama { provider, model } => match runtime.backends.get(provider) {
                Some(backend) => backend
                    .unload(model)
                    .await
                    .map(|()| {
                        unloaded.push(format!("{provider}/{model}"));
                        "keep_alive 0 sent".to_owned()
                    })
                    .map_err(|error| error.to_string()),
                None => Err(format!("provider `{provider}` cannot be reached")),
            },
        };
        match result {
            Ok(detail) => switch.step(index, StepState::Done, Some(detail)),
            Err(error) => {
                switch.step(index, StepState::Failed, Some(error.clone()));
                failure = Some(error);
                break;
            }
        }
    }

    // 4. Start the target's service.
    let mut started_target = false;
    if failure.is_none()
        && let (Some(index), Some(spec)) = (start_index, &target_service)
    {
        switch.step(index, StepState::Running, None);
        let was_up = residency.services().status(spec).await.state.is_up();
        match residency.services().start(spec).await {
            Ok(status) => {
                started_target = !was_up;
                let detail = if was_up {
                    "already running".to_owned()
                } else {
                    format!("healthy (pid {})", status.pid.unwrap_or_default())
                };
                switch.step(index, StepState::Done, Some(detail));
            }
            Err(error) => {
                switch.step(index, StepState::Failed, Some(error.to_string()));
                failure = Some(error.to_string());
            }
        }
    }

    // 5. Warm it: the first real request must not pay the load.
    let warm_index = switch.progress.steps.len() - 2;
    if failure.is_none() {
        switch.step(warm_index, StepState::Running, None);
        let params = runtime
            .config
            .params
            .get(&target)
            .cloned()
            .unwrap_or_default();
        let request = ChatCompletionRequest {
            model: target.model.clone(),
            messages: vec![ChatMessage::text(Role::User, "Hi")],
            max_tokens: Some(1),
            stream: Some(false),
            ..ChatCompletionRequest::default()
        };
        let first_token = runtime.config.gateway.timeouts.first_token;
        let warmed = Instant::now();
        match tokio::time::timeout(first_token, backend.chat(request, &params)).await {
            Ok(Ok(_)) => switch.step(
                warm_index,
                StepState::Done,
                Some(format!("answered in {} ms", warmed.elapsed().as_millis())),
            ),
            Ok(Err(error)) => {
                switch.step(warm_index, StepState::Failed, Some(error.to_string()));
                failure = Some(error.to_string());
            }
            Err(_) => {
                let error = format!("no answer within {first_token:?}");
                switch.step(warm_index, StepState::Failed, Some(error.clone()));
                failure = Some(error);
            }
        }
    }

    // 6. Flip routing while no request is in flight.
    if failure.is_none() {
        let flip_index = switch.progress.steps.len() - 1;
        switch.step(flip_index, StepState::Running, None);
        match make_primary(gateway, &target).await {
            Ok(detail) => switch.step(flip_index, StepState::Done, Some(detail)),
            Err(error) => {
                switch.step(flip_index, StepState::Failed, Some(error.clone()));
                failure = Some(error);
            }
        }
    }

    if let Some(error) = failure {
        let undone = roll_back(
            residency,
            &target_service,
            started_target,
            &stopped,
            &unloaded,
        )
        .await;
        drop(exclusive);
        return Ok(switch.end(Some(format!(
            "switch to {target} failed: {error}; {undone}"
        ))));
    }
    drop(exclusive);
    Ok(switch.end(None))
}

/// Puts things back as they were before a failed switch: the target's service stopped if
/// the switch started it, the services it stopped started again.
async fn roll_back(
    residency: &Residency,
    target: &Option<ServiceSpec>,
    started_target: bool,
    stopped: &[ServiceSpec],
    unloaded: &[String],
) -> String {
    let mut said = Vec::new();
    // The target goes when the switch started it, when it is not healthy, and when the models
    // it displaced come back (one model resident, as before).
    if let Some(spec) = target
        && (started_target
            || !stopped.is_empty()
            || !residency.services().status(spec).await.state.is_up())
    {
        let _ = residency.services().stop(spec).await;
        said.push(format!("service {} stopped", spec.name));
    }
    for spec in stopped {
        match residency.services().start(spec).await {
            Ok(_) => said.push(format!("service {} running again", spec.name)),
            Err(error) => said.push(format!(
                "service {} could not be restarted: {error}",
                spec.name
            )),
        }
    }
    if !unloaded.is_empty() {
        said.push(format!(
            "{} stay unloaded until their next request loads them",
            unloaded.join(", ")
        ));
    }
    if said.is_empty() {
        "nothing had changed; the active model is as it was".to_owned()
    } else {
        format!("rolled back: {}; routing unchanged", said.join(", "))
    }
}

/// `models.primary = target`, saved to the configuration file (validated, atomically) and put
/// in force in the same step.
async fn make_primary(gateway: &Gateway, target: &ModelRef) -> Result<String, String> {
    let runtime = gateway.runtime();
    if runtime.config.primary.as_ref() == Some(target) {
        return Ok("already the primary model".to_owned());
    }
    let reference = target.to_string();
    if gateway.paths().is_some() {
        crate::config_edit::edit_config(gateway, move |document| {
            store::set(
                document,
                "models.primary",
                serde_json::Value::String(reference),
            )
            .map_err(|error| error.to_string())
        })
        .await
        .map_err(|error| error.to_string())?;
        return Ok(format!("{target} is the primary model (saved)"));
    }
    // No file (tests): the running configuration only.
    let _config_writes = gateway.config_writes().await;
    let store = gateway.store();
    let mut config = runtime.config.clone();
    let warnings = runtime.warnings.clone();
    let built = tokio::task::spawn_blocking(move || {
        config.primary = config.resolve_model(&reference).ok();
        config.file.models.primary = Some(reference);
        Runtime::load(config, warnings, store.as_ref()).map_err(|error| error.to_string())
    })
    .await
    .map_err(|error| error.to_string())??;
    gateway.replace(built);
    Ok(format!("{target} is the primary model"))
}

/// Unloads every resident model (the menu's "Unload all"): stops the services that hold
/// models and asks each Ollama to drop its own. Waits for requests in flight first.
pub async fn unload_all(gateway: &Gateway) -> Vec<String> {
    let residency = gateway.residency();
    let _one_at_a_time = residency.switching.lock().await;
    let _exclusive = Arc::clone(&residency.gate).write_owned().await;
    let runtime = gateway.runtime();
    let mut done = Vec::new();
    for model in resident(gateway).await {
        let is_ollama = runtime
            .config
            .providers
            .get(&model.provider)
            .is_some_and(|provider| provider.api == Api::Ollama);
        let outcome = if is_ollama {
            match runtime.backends.get(&model.provider) {
                Some(backend) => backend
                    .unload(&model.model[model.provider.len() + 1..])
                    .await
                    .map_err(|error| error.to_string()),
                None => Err("unreachable".to_owned()),
            }
        } else if let Some(name) = &model.service {
            match service(&runtime, residency.layout(), name) {
                Ok(spec) => residency
                    .services()
                    .stop(&spec)
                    .await
                    .map_err(|e| e.to_string()),
                Err(error) => Err(error.to_string()),
            }
        } else {
            continue;
        };
        done.push(match outcome {
            Ok(()) => format!("{}: unloaded", model.model),
            Err(error) => format!("{}: {error}", model.model),
        });
    }
    done
}

/// At start-up: the services that serve no model (speech sidecars) and the one holding the
/// primary model (`exclusive`), or every service (`shared`). Failures are logged, not fatal:
/// the gateway serves what it can.
pub async fn start_services(gateway: Gateway) {
    let runtime = gateway.runtime();
    let residency = gateway.residency();
    let primary_provider = runtime
        .config
        .primary
        .as_ref()
        .map(|model| model.provider.clone());
    let shared = runtime.config.file.models.residency == Mode::Shared;
    let _one_at_a_time = residency.one_at_a_time().await;
    for spec in specs(&runtime, residency.layout()) {
        match at_start(&spec, primary_provider.as_deref(), shared) {
            AtStart::Start => match residency.services().start(&spec).await {
                Ok(status) => {
                    tracing::info!(service = %spec.name, pid = ?status.pid, "service ready");
                }
                Err(error) => {
                    tracing::error!(service = %spec.name, %error, "service did not start");
                }
            },
            AtStart::StopIfRunning => {
                if residency.services().status(&spec).await.state.is_up() {
                    match residency.services().stop(&spec).await {
                        Ok(()) => tracing::info!(
                            service = %spec.name,
                            "stopped: the primary model does not need it"
                        ),
                        Err(error) => tracing::warn!(
                            service = %spec.name,
                            %error,
                            "cannot stop a service the primary model does not need"
                        ),
                    }
                }
            }
            AtStart::Leave => {}
        }
    }
    residency.started_up.send_replace(true);
}

/// What a starting Hearth does with one configured service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtStart {
    Start,
    /// A LaunchAgent that launchd brought back at login (it ran when the Mac shut down) but that
    /// residency does not want: in exclusive mode only the primary's service runs.
    StopIfRunning,
    Leave,
}

/// Shared mode starts every service; exclusive mode the primary's and those that serve no
/// provider (speech, custom), and stops other LaunchAgents that came back at login. A supervised
/// service cannot be running before Hearth starts it, so it is left alone.
pub fn at_start(spec: &ServiceSpec, primary_provider: Option<&str>, shared: bool) -> AtStart {
    let wanted = shared || spec.provider.is_none() || spec.provider.as_deref() == primary_provider;
    match (wanted, spec.driver) {
        (true, _) => AtStart::Start,
        (false, ServiceDriver::Launchd) => AtStart::StopIfRunning,
        (false, ServiceDriver::Supervisor) => AtStart::Leave,
    }
}

/// How often the services' logs are checked against [`hearth_services::logs::LIMIT`].
pub const LOG_ROTATION_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// Keeps the configured services' log files to a size while Hearth runs (a server that runs for
/// weeks writes a line per request); starting a service rotates its log too.
pub async fn rotate_logs(gateway: Gateway) {
    let mut tick = tokio::time::interval(LOG_ROTATION_EVERY);
    loop {
        tick.tick().await;
        let specs = specs(&gateway.runtime(), gateway.residency().layout());
        let _ = tokio::task::spawn_blocking(move || {
            specs.iter().for_each(hearth_services::services::rotate_log);
        })
        .await;
    }
}

/// After a configuration change: a supervised service that is no longer configured is stopped,
/// and one whose definition changed while it runs is restarted with the new one. A primary
/// model that changed (`previous_primary` was the one before) while no model's service runs —
/// a first `hearth setup --apply`, a hand edit on a fresh install — gets its service started;
/// with another model's service running, switching stays `hearth model use`'s job.
pub async fn reconcile(gateway: Gateway, previous_primary: Option<ModelRef>) {
    let residency = gateway.residency();
    let _one_at_a_time = residency.one_at_a_time().await;
    let runtime = gateway.runtime();
    let configured = specs(&runtime, residency.layout());
    let supervised = residency.services().supervised();
    if let Some(primary) = runtime.config.primary.as_ref()
        && previous_primary.as_ref() != Some(primary)
        && !supervised.iter().any(|running| running.provider.is_some())
        && let Some(spec) = service_for(&runtime, residency.layout(), &primary.provider)
    {
        tracing::info!(service = %spec.name, model = %primary, "starting the new primary model's service");
        if let Err(error) = residency.services().start(&spec).await {
            tracing::error!(service = %spec.name, %error, "service did not start");
        }
    }
    for running in supervised {
        match configured.iter().find(|spec| spec.name == running.name) {
            None => {
                tracing::info!(service = %running.name, "service removed from the configuration: stopping it");
                let _ = residency.services().stop(&running).await;
            }
            Some(spec) if *spec != running => {
                tracing::info!(service = %spec.name, "service definition changed: restarting it");
                let _ = residency.services().stop(&running).await;
                if let Err(error) = residency.services().start(spec).await {
                    tracing::error!(service = %spec.name, %error, "service did not start again");
                }
            }
            Some(_) => {}
        }
    }
}

/// Refuses a request for a model whose service is not running (exclusive mode unloads it),
/// naming the active model and the command that switches.
pub async fn check_resident(
    gateway: &Gateway,
    runtime: &Runtime,
    target: &ModelRef,
) -> Result<(), GatewayError> {
    let residency = gateway.residency();
    let Some(spec) = service_for(runtime, residency.layout(), &target.provider) else {
        return Ok(());
    };
    let mut status: ServiceStatus = residency.services().status(&spec).await;
    if !status.state.is_up() && !*residency.started_up.borrow() {
        // Hearth itself is starting: its start-up may be about to start this very service.
        let mut started_up = residency.started_up.subscribe();
        let _ = tokio::time::timeout(spec.start_timeout, started_up.wait_for(|done| *done)).await;
        status = residency.services().status(&spec).await;
    }
    // A service still starting (Hearth just started, or a setup just made it primary) is
    // waited for, as a model that loads is: the first request after start-up is answered.
    if status.state == hearth_services::ServiceState::Starting {
        return match residency.services().start(&spec).await {
            Ok(_) => Ok(()),
            Err(error) => Err(GatewayError::NotResident {
                message: format!("model `{target}` did not load: {error}"),
            }),
        };
    }
    // A state the driver cannot read is no reason to refuse: the backend call will tell.
    if status.state.is_up() || status.state == hearth_services::ServiceState::Unknown {
        return Ok(());
    }
    Err(GatewayError::NotResident {
        message: format!(
            "model `{target}` is not loaded: its service `{}` is {}{}; switch to it with `hearth model use {target}`",
            spec.name,
            status.state.as_str(),
            runtime
                .config
                .primary
                .as_ref()
                .map(|primary| format!(" (the active model is `{primary}`)"))
                .unwrap_or_default(),
        ),
    })
}

/// A `ServicesError` as the admin API reports it.
pub fn service_error(error: ServicesError) -> GatewayError {
    GatewayError::ServiceFailed {
        message: error.to_string(),
    }
}

/// How long a switch waits for the requests in flight before it gives up (new requests queue
/// behind a waiting switch, so the wait must end).
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);

/// The bound within which the gateway waits for a stopping service when it shuts down.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

#[cfg(test)]
mod tests {
    use super::*;

    fn resident(model: &str, size: Option<u64>) -> Resident {
        Resident {
            model: model.to_owned(),
            provider: model.split('/').next().unwrap_or_default().to_owned(),
            service: None,
            size,
        }
    }

    #[test]
    fn two_resident_models_are_contention_and_one_is_not() {
        assert_eq!(contention(&[]), None);
        assert_eq!(contention(&[resident("mlx/qwen", Some(17 << 30))]), None);
        expect_test::expect!["2 models are resident at once: mlx/qwen (17.0 GiB), ollama/gemma4:26b; they compete for memory bandwidth (`hearth model use` unloads the others)"]
            .assert_eq(
                &contention(&[resident("mlx/qwen", Some(17 << 30)), resident("ollama/gemma4:26b", None)])
                    .unwrap_or_default(),
            );
    }
    #[test]
    fn at_login_only_what_residency_wants_runs() {
        use hearth_core::config::file::ServiceTemplate;
        use hearth_services::templates::{self, TemplateInput};
        let file = templates::render(
            ServiceTemplate::Custom,
            TemplateInput {
                program: Some("/bin/sh".into()),
                ..TemplateInput::default()
            },
        )
        .unwrap();
        let spec = |provider: Option<&str>, driver| ServiceSpec {
            provider: provider.map(str::to_owned),
            driver,
            ..ServiceSpec::resolve("x", &file, &Layout::new(std::path::Path::new("/data")))
        };
        let (launchd, supervisor) = (ServiceDriver::Launchd, ServiceDriver::Supervisor);
        let table = [
            // (service's provider, driver, primary's provider, shared) => what a start does
            ((Some("mlx"), launchd, Some("mlx"), false), AtStart::Start),
            (
                (Some("llama"), launchd, Some("mlx"), false),
                AtStart::StopIfRunning,
            ),
            (
                (Some("llama"), supervisor, Some("mlx"), false),
                AtStart::Leave,
            ),
            ((Some("llama"), launchd, Some("mlx"), true), AtStart::Start),
            ((None, launchd, Some("mlx"), false), AtStart::Start),
            (
                (Some("llama"), launchd, None, false),
                AtStart::StopIfRunning,
            ),
        ];
        for ((provider, driver, primary, shared), expected) in table {
            assert_eq!(
                at_start(&spec(provider, driver), primary, shared),
                expected,
                "{provider:?} {driver:?}, primary {primary:?}, shared {shared}"
            );
        }
    }
}
