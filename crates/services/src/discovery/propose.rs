//! From findings to a proposal, purely: the same findings and configuration always give the
//! same proposal, in the same order.
//!
//! A running server becomes a provider (reusing the id of one already configured at its
//! address); an installed program with models to serve becomes services, made by the templates
//! `hearth services install` uses, each with its provider; the primary model is what is already
//! in memory, else what a running server offers, else the largest proposed model that fits in
//! memory. Models without a chat template are never proposed to chat with.

use std::collections::BTreeSet;

use hearth_core::config::{
    ConfigFile,
    file::{Api, ModelFile, ProviderFile, ServiceTemplate},
    setup::{Proposal, ProposedProvider, ProposedService},
};

use super::{Findings, FoundModel, ModelFormat, ProgramKind, RunningServer, ServerKind};
use crate::{
    memory::{self, Memory},
    templates::{self, TemplateInput},
};

/// The context a proposed llama-server is started with at most (`-c`): a first run should
/// not reserve the KV cache of a 128k-token context.
pub const MAX_FIRST_CONTEXT: u64 = 8192;
/// Longest slug taken from a file name.
const MAX_SLUG: usize = 40;

/// What to add to `current` for what discovery found. `memory` (a sample of this machine)
/// picks the largest proposed model that fits as primary, when nothing is running; without it
/// the smallest is picked. `taken_ports` are ports proposed services must not use (the
/// gateway's, any known to be busy).
pub fn propose(
    findings: &Findings,
    current: &ConfigFile,
    memory: Option<&Memory>,
    taken_ports: &[u16],
) -> Proposal {
    let mut plan = Plan::new(findings, current, taken_ports);
    plan.running_servers();
    plan.ollama_service();
    plan.llama_services();
    plan.mlx_services();
    if findings.program(ProgramKind::Lms).is_some()
        && !findings
            .servers
            .iter()
            .any(|server| server.kind == ServerKind::LmStudio)
    {
        plan.notes.push(
            "LM Studio's CLI is installed: `lms server start` serves its models at :1234; then \
             run `hearth setup` again"
                .to_owned(),
        );
    }
    let primary = if current.models.primary.is_none() {
        plan.primary(memory)
    } else {
        None
    };
    let Plan {
        mut providers,
        mut services,
        notes,
        ..
    } = plan;
    providers.sort_by(|a, b| a.id.cmp(&b.id));
    services.sort_by(|a, b| a.name.cmp(&b.name));
    Proposal {
        providers,
        services,
        primary,
        notes,
    }
}

struct Plan<'a> {
    findings: &'a Findings,
    current: &'a ConfigFile,
    providers: Vec<ProposedProvider>,
    services: Vec<ProposedService>,
    notes: Vec<String>,
    used_ports: BTreeSet<u16>,
    /// The caller's `taken_ports`.
    taken: BTreeSet<u16>,
    /// Each running server with the id of its provider (configured or proposed).
    running: Vec<(&'a RunningServer, String)>,
    /// Models of proposed services, for the primary.
    candidates: Vec<Candidate>,
}

struct Candidate {
    reference: String,
    size: Option<u64>,
    context: Option<u64>,
}

impl<'a> Plan<'a> {
    fn new(findings: &'a Findings, current: &'a ConfigFile, taken_ports: &[u16]) -> Plan<'a> {
        let taken: BTreeSet<u16> = taken_ports.iter().copied().collect();
        let mut used_ports = taken.clone();
        used_ports.extend(current.services.values().filter_map(|service| service.port));
        used_ports.extend(findings.servers.iter().map(|server| server.port));
        used_ports.extend(
            current
                .providers
                .values()
                .filter_map(|provider| loopback_port(&provider.base_url)),
        );
        Plan {
            findings,
            current,
            providers: Vec::new(),
            services: Vec::new(),
            notes: findings.notes.clone(),
            used_ports,
            taken,
            running: Vec::new(),
            candidates: Vec::new(),
        }
    }

    // ---- running servers ----

    fn running_servers(&mut self) {
        for server in &self.findings.servers {
            let api = server.kind.api();
            let base_url = server.base_url();
            let existing = self.configured_at(api, &base_url);
            let id = match existing {
                Some((id, _)) => id.to_owned(),
                None => self.free_provider_id(server.kind.provider_id()),
            };
            self.running.push((server, id.clone()));
            let what = format!("{} running at {}", server.kind.describe(), server.url);
            if server.models.is_empty() {
                self.notes.push(format!("{what} lists no models"));
                continue;
            }
            let listed: Vec<&str> = existing
                .map(|(_, provider)| provider.models.iter().map(|m| m.id.as_str()).collect())
                .unwrap_or_default();
            let mut models: Vec<ModelFile> = server
                .models
                .iter()
                .filter(|model| !listed.contains(&model.id.as_str()))
                .map(|model| model_file(&model.id, model.size_bytes, model.context_window))
                .collect();
            if models.is_empty() {
                self.notes.push(format!(
                    "{what}: its models are already configured (provider `{id}`)"
                ));
                continue;
            }
            models.sort_by(|a, b| a.id.cmp(&b.id));
            self.providers.push(ProposedProvider {
                id,
                provider: provider_file(api, base_url, models),
                origin: what,
                running: true,
            });
        }
    }

    // ---- Ollama installed, not running ----

    fn ollama_service(&mut self) {
        let store: Vec<&FoundModel> = self.models(ModelFormat::Ollama);
        if self.is_running(ServerKind::Ollama) {
            return; // its `/api/tags` already listed the store
        }
        let Some(program) = self.findings.program(ProgramKind::Ollama) else {
            if !store.is_empty() {
                self.notes.push(format!(
                    "Ollama's store has {} but Ollama is neither running nor installed: install \
                     it (https://ollama.com) or start it, then run `hearth setup` again",
                    count(store.len(), "model")
                ));
            }
            return;
        };
        if store.is_empty() {
            self.notes.push(format!(
                "Ollama is installed at {} but has no models: `ollama pull` one, then run \
                 `hearth setup` again",
                program.path.display()
            ));
            return;
        }
        // A service already configured for Ollama keeps its port; its provider gains the models.
        let configured = self.current.services.iter().find(|(_, service)| {
            service.template == Some(ServiceTemplate::Ollama)
                || std::path::Path::new(&service.program)
                    .file_name()
                    .is_some_and(|name| name == "ollama")
        });
        let idle = self.idle_provider(Api::Ollama, None, false);
        let (port, service_name, existing_id) = match (configured, idle) {
            (Some((name, service)), _) => (service.port.unwrap_or(11434), Some(name.clone()), None),
            // The configured provider nothing serves (the default `ollama` at :11434) is the
            // one the service is for.
            (None, Some((port, id, _))) => (port, None, Some(id)),
            (None, None) => match self.next_port(11434) {
                Some(port) => (port, None, None),
                None => return,
            },
        };
        self.used_ports.insert(port);
        let base_url = format!("http://127.0.0.1:{port}");
        let existing = match &existing_id {
            Some(id) => self
                .current
                .providers
                .get_key_value(id)
                .map(|(id, provider)| (id.as_str(), provider)),
            None => self.configured_at(Api::Ollama, &base_url),
        };
        let base_url = existing.map_or(base_url, |(_, provider)| provider.base_url.clone());
        let listed: Vec<&str> = existing
            .map(|(_, provider)| provider.models.iter().map(|m| m.id.as_str()).collect())
            .unwrap_or_default();
        let id = match existing {
            Some((id, _)) => id.to_owned(),
            None => self.free_provider_id("ollama"),
        };
        let mut models = Vec::new();
        for model in &store {
            let reference = format!("{id}/{}", model.name);
            self.candidates.push(Candidate {
                reference,
                size: model.size_bytes,
                context: None,
            });
            if !listed.contains(&model.name.as_str()) {
                models.push(model_file(&model.name, model.size_bytes, None));
            }
        }
        let origin = format!(
            "ollama at {} with {} in {}",
            program.path.display(),
            count(store.len(), "model"),
            store
                .first()
                .and_then(|model| model.path.ancestors().nth(5))
                .map(|path| path.display().to_string())
                .unwrap_or_default()
        );
        let runner = match service_name {
            Some(name) => format!("run by the configured service `{name}`"),
            None => {
                // Services and providers are separate namespaces: the service may share its
                // provider's id.
                let name = self.first_free("ollama", |plan, name| {
                    plan.current.services.contains_key(name)
                        || plan.services.iter().any(|proposed| proposed.name == name)
                });
                let input = TemplateInput {
                    program: program.path.to_str().map(str::to_owned),
                    port: Some(port),
                    provider: Some(id.clone()),
                    ..TemplateInput::default()
                };
                if !self.add_service(name.clone(), ServiceTemplate::Ollama, input, origin.clone()) {
                    return;
                }
                format!("run by the proposed service `{name}`")
            }
        };
        if !models.is_empty() {
            self.providers.push(ProposedProvider {
                id,
                provider: provider_file(Api::Ollama, base_url, models),
                origin: format!("{origin}, {runner}"),
                running: false,
            });
        }
    }

    // ---- llama-server with GGUF files ----

    fn llama_services(&mut self) {
        let ggufs = self.models(ModelFormat::Gguf);
        let program = self.findings.program(ProgramKind::LlamaServer);
        let Some(program) = program else {
            if !ggufs.is_empty() {
                self.notes.push(format!(
                    "{} found ({}) but llama-server is not installed: `brew install llama.cpp`, \
                     then run `hearth setup` again",
                    count(ggufs.len(), "GGUF model file"),
                    names(&ggufs)
                ));
            }
            return;
        };
        if ggufs.is_empty() {
            self.notes.push(format!(
                "llama-server is installed at {} but no GGUF model file was found: pass one \
                 with `hearth setup --model-file PATH`",
                program.path.display()
            ));
            return;
        }
        for model in ggufs {
            if self.skipped(model) {
                continue;
            }
            let slug = slug(&model.name);
            let name = self.free_service_name(&format!("llama-{slug}"));
            let Some(port) = self
                .next_port(templates::default_port(ServiceTemplate::LlamaServer).unwrap_or(8081))
            else {
                return;
            };
            let context = model
                .context_length()
                .unwrap_or(memory::DEFAULT_CONTEXT)
                .min(MAX_FIRST_CONTEXT);
            let origin = format!(
                "llama-server at {} with {}",
                program.path.display(),
                with_size(model)
            );
            let input = TemplateInput {
                program: program.path.to_str().map(str::to_owned),
                port: Some(port),
                model: model.path.to_str().map(str::to_owned),
                provider: Some(name.clone()),
                extra_args: vec![
                    "-c".to_owned(),
                    context.to_string(),
                    "--alias".to_owned(),
                    slug.clone(),
                ],
            };
            if !self.add_service(
                name.clone(),
                ServiceTemplate::LlamaServer,
                input,
                origin.clone(),
            ) {
                continue;
            }
            self.candidates.push(Candidate {
                reference: format!("{name}/{slug}"),
                size: model.size_bytes,
                context: Some(context),
            });
            self.providers.push(ProposedProvider {
                provider: provider_file(
                    Api::OpenaiCompletions,
                    format!("http://127.0.0.1:{port}/v1"),
                    vec![model_file(&slug, model.size_bytes, Some(context))],
                ),
                origin: format!("{origin}, run by the proposed service `{name}`"),
                id: name,
                running: false,
            });
        }
    }

    // ---- mlx_lm.server with MLX folders ----

    fn mlx_services(&mut self) {
        let folders = self.models(ModelFormat::Mlx);
        let Some(program) = self.findings.program(ProgramKind::MlxLm) else {
            if !folders.is_empty() {
                self.notes.push(format!(
                    "{} found ({}) but mlx_lm.server is not installed: `pip install mlx-lm`, then \
                     run `hearth setup` again",
                    count(folders.len(), "MLX model"),
                    names(&folders)
                ));
            }
            return;
        };
        if folders.is_empty() {
            self.notes.push(format!(
                "mlx_lm.server is installed at {} but no MLX model was found in the Hugging Face \
                 cache: `hf download mlx-community/<model>`, then run `hearth setup` again",
                program.path.display()
            ));
            return;
        }
        for model in folders {
            if self.skipped(model) {
                continue;
            }
            let repo_name = model.name.rsplit('/').next().unwrap_or(&model.name);
            let name = self.free_service_name(&format!("mlx-{}", slug(repo_name)));
            // The configured provider at mlx_lm.server's usual address that nothing serves
            // yet (the default `mlx`) is where the first MLX service goes.
            let usual = templates::default_port(ServiceTemplate::MlxLm).unwrap_or(8080);
            let (port, id, base_url) =
                match self.idle_provider(Api::OpenaiCompletions, Some(usual), true) {
                    Some(idle) => idle,
                    None => match self.next_port(usual) {
                        Some(port) => (port, name.clone(), format!("http://127.0.0.1:{port}/v1")),
                        None => return,
                    },
                };
            self.used_ports.insert(port);
            let origin = format!(
                "mlx_lm.server at {} with {}",
                program.path.display(),
                with_size(model)
            );
            let input = TemplateInput {
                program: program.path.to_str().map(str::to_owned),
                port: Some(port),
                model: Some(model.name.clone()),
                provider: Some(id.clone()),
                extra_args: Vec::new(),
            };
            if !self.add_service(name.clone(), ServiceTemplate::MlxLm, input, origin.clone()) {
                continue;
            }
            self.candidates.push(Candidate {
                reference: format!("{id}/{}", model.name),
                size: model.size_bytes,
                context: None,
            });
            self.providers.push(ProposedProvider {
                provider: provider_file(
                    Api::OpenaiCompletions,
                    base_url,
                    vec![model_file(&model.name, model.size_bytes, None)],
                ),
                origin: format!("{origin}, run by the proposed service `{name}`"),
                id,
                running: false,
            });
        }
    }

    /// A configured provider of `api` on a loopback port (`port`, when given) that no
    /// configured or proposed service serves, no running server answers for and no one has
    /// taken (with no models, when `empty`): the defaults' `ollama` and `mlx` are such
    /// providers, waiting for their server. Its port, id and base URL.
    fn idle_provider(
        &self,
        api: Api,
        port: Option<u16>,
        empty: bool,
    ) -> Option<(u16, String, String)> {
        let wanted = port;
        self.current.providers.iter().find_map(|(id, provider)| {
            let port = loopback_port(&provider.base_url)?;
            let idle = provider.api == api
                && wanted.is_none_or(|wanted| wanted == port)
                && !self.taken.contains(&port)
                && (!empty || provider.models.is_empty())
                && (api != Api::OpenaiCompletions
                    || provider.base_url.trim_end_matches('/').ends_with("/v1"))
                && !self
                    .findings
                    .servers
                    .iter()
                    .any(|server| server.port == port)
                && !self.current.services.values().any(|service| {
                    service.port == Some(port) || service.provider.as_deref() == Some(id)
                })
                && !self.services.iter().any(|proposed| {
                    proposed.service.port == Some(port)
                        || proposed.service.provider.as_deref() == Some(id)
                });
            idle.then(|| (port, id.clone(), provider.base_url.clone()))
        })
    }

    /// True (with a note) for a base model or one a configured service already serves.
    fn skipped(&mut self, model: &FoundModel) -> bool {
        if model.is_base() {
            self.notes.push(format!(
                "{} ({}) is a base model (no chat template): not proposed",
                model.name,
                model.path.display()
            ));
            return true;
        }
        let path = model.path.to_string_lossy();
        let served = self.current.services.iter().find(|(_, service)| {
            service
                .args
                .iter()
                .any(|arg| *arg == path || *arg == model.name)
        });
        if let Some((name, _)) = served {
            self.notes.push(format!(
                "{}: already served by service `{name}`",
                model.name
            ));
            return true;
        }
        false
    }

    /// Renders and adds a service; false (with a note) when the template refuses.
    fn add_service(
        &mut self,
        name: String,
        template: ServiceTemplate,
        input: TemplateInput,
        origin: String,
    ) -> bool {
        if input.program.is_none() {
            self.notes.push(format!(
                "{origin}: the program's path is not UTF-8, which a configuration cannot hold"
            ));
            return false;
        }
        match templates::render(template, input) {
            Ok(service) => {
                self.services.push(ProposedService {
                    name,
                    service,
                    origin,
                });
                true
            }
            Err(error) => {
                self.notes.push(format!("{origin}: {error}"));
                false
            }
        }
    }

    // ---- the primary model ----

    fn primary(&mut self, memory: Option<&Memory>) -> Option<String> {
        let chat = |server: &RunningServer, id: &str| {
            server.models.iter().any(|model| {
                model.id == id && model.chat_template != Some(false) && !self.known_base(id)
            }) && !looks_like_embedding(id)
        };
        for (server, provider) in &self.running {
            if server.kind == ServerKind::Ollama
                && let Some(loaded) = server.loaded.iter().find(|name| chat(server, name))
            {
                return Some(format!("{provider}/{loaded}"));
            }
        }
        for (server, provider) in &self.running {
            if let Some(model) = server.models.iter().find(|model| chat(server, &model.id)) {
                return Some(format!("{provider}/{}", model.id));
            }
        }
        let candidates = self
            .candidates
            .iter()
            .filter(|candidate| !looks_like_embedding(&candidate.reference));
        match memory {
            Some(memory) => {
                let fitting = candidates.filter_map(|candidate| {
                    let size = candidate.size?;
                    let peak = memory::estimate(size, candidate.context).peak;
                    (peak <= memory.room(0)).then_some((size, candidate))
                });
                // The largest; among equals, the first by name.
                let chosen = fitting
                    .max_by(|(a, x), (b, y)| a.cmp(b).then_with(|| y.reference.cmp(&x.reference)))
                    .map(|(_, candidate)| candidate.reference.clone());
                if chosen.is_none() && !self.candidates.is_empty() {
                    self.notes.push(format!(
                        "none of the proposed models fits in the memory available now ({}{}): \
                         choose a primary with `hearth config set models.primary …`",
                        memory::human(memory.available),
                        memory
                            .gpu_limit
                            .map(|limit| format!(", GPU limit {}", limit.describe()))
                            .unwrap_or_default()
                    ));
                }
                chosen
            }
            None => candidates
                .min_by(|a, b| {
                    (a.size.is_none(), a.size, &a.reference).cmp(&(
                        b.size.is_none(),
                        b.size,
                        &b.reference,
                    ))
                })
                .map(|candidate| candidate.reference.clone()),
        }
    }

    /// Whether a model file of that name is known to be a base model.
    fn known_base(&self, name: &str) -> bool {
        self.findings
            .model_files
            .iter()
            .any(|model| model.is_base() && (model.name == name || slug(&model.name) == name))
    }

    // ---- names and ports ----

    fn models(&self, format: ModelFormat) -> Vec<&'a FoundModel> {
        self.findings
            .model_files
            .iter()
            .filter(|model| model.format == format)
            .collect()
    }

    fn is_running(&self, kind: ServerKind) -> bool {
        self.findings
            .servers
            .iter()
            .any(|server| server.kind == kind)
    }

    /// The configured provider with this API at this address.
    fn configured_at(&self, api: Api, base_url: &str) -> Option<(&'a str, &'a ProviderFile)> {
        self.current
            .providers
            .iter()
            .find(|(_, provider)| provider.api == api && same_url(&provider.base_url, base_url))
            .map(|(id, provider)| (id.as_str(), provider))
    }

    /// `preferred`, or `preferred-2`, `-3`… when a provider elsewhere has it.
    fn free_provider_id(&self, preferred: &str) -> String {
        self.first_free(preferred, |plan, id| {
            plan.current.providers.contains_key(id)
                || plan.providers.iter().any(|proposed| proposed.id == id)
        })
    }

    /// A name free both as a service and as a provider (the service's provider shares it).
    fn free_service_name(&self, preferred: &str) -> String {
        self.first_free(preferred, |plan, name| {
            plan.current.services.contains_key(name)
                || plan.current.providers.contains_key(name)
                || plan.services.iter().any(|proposed| proposed.name == name)
                || plan.providers.iter().any(|proposed| proposed.id == name)
        })
    }

    fn first_free(&self, preferred: &str, taken: impl Fn(&Plan<'a>, &str) -> bool) -> String {
        if !taken(self, preferred) {
            return preferred.to_owned();
        }
        (2u32..)
            .map(|n| format!("{preferred}-{n}"))
            .find(|candidate| !taken(self, candidate))
            .unwrap_or_else(|| preferred.to_owned())
    }

    /// The first port from `start` up that nothing uses, now taken.
    fn next_port(&mut self, start: u16) -> Option<u16> {
        let port = (start..=u16::MAX).find(|port| !self.used_ports.contains(port));
        match port {
            Some(port) => {
                self.used_ports.insert(port);
            }
            None => self
                .notes
                .push(format!("no free port from {start} up for another service")),
        }
        port
    }
}

fn model_file(id: &str, size_bytes: Option<u64>, context_window: Option<u64>) -> ModelFile {
    ModelFile {
        id: id.to_owned(),
        name: None,
        context_window,
        max_tokens: None,
        input: None,
        reasoning: None,
        size_bytes,
    }
}

fn provider_file(api: Api, base_url: String, models: Vec<ModelFile>) -> ProviderFile {
    ProviderFile {
        api,
        base_url,
        api_key: None,
        models,
        any_model: false,
    }
}

/// A file name as an id: lower-case ASCII letters and digits, runs of anything else as one
/// `-`, at most 40 characters.
fn slug(text: &str) -> String {
    let mut slug = String::new();
    for character in text.chars() {
        if character.is_ascii_alphanumeric() {
            slug.push(character.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.truncate(MAX_SLUG);
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "model".to_owned()
    } else {
        slug.to_owned()
    }
}

/// The port of a base URL on this machine (`http://127.0.0.1:8080/v1` → 8080).
fn loopback_port(url: &str) -> Option<u16> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next()?;
    let (host, port) = authority.rsplit_once(':')?;
    matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "0.0.0.0")
        .then(|| port.parse().ok())
        .flatten()
}

/// Two base URLs name the same server when they differ only by a trailing `/`.
fn same_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// Embedding models share servers with chat models; their ids say what they are.
fn looks_like_embedding(id: &str) -> bool {
    id.to_ascii_lowercase().contains("embed")
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn names(models: &[&FoundModel]) -> String {
    models
        .iter()
        .map(|model| model.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn with_size(model: &FoundModel) -> String {
    match model.size_bytes {
        Some(size) => format!("{} ({})", model.path.display(), memory::human(size)),
        None => model.path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ids() {
        assert_eq!(
            slug("SmolLM2-135M-Instruct-Q8_0"),
            "smollm2-135m-instruct-q8-0"
        );
        assert_eq!(slug("__Weird  name!!"), "weird-name");
        assert_eq!(slug("ÄÖÜ"), "model");
        let long = slug("Meta-Llama-3.1-70B-Instruct-abliterated-v3.5-IQ2_XXS-imatrix");
        assert_eq!(long, "meta-llama-3-1-70b-instruct-abliterated");
        assert!(long.len() <= MAX_SLUG);
        assert!(hearth_core::config::is_id(&format!("llama-{long}-2")));
    }

    #[test]
    fn only_loopback_ports_are_ours() {
        assert_eq!(loopback_port("http://127.0.0.1:8080/v1"), Some(8080));
        assert_eq!(loopback_port("http://localhost:11434"), Some(11434));
        assert_eq!(loopback_port("http://10.0.0.2:1234/v1"), None);
        assert_eq!(loopback_port("https://api.openai.com/v1"), None);
    }
}
