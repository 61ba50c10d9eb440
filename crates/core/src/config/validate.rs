//! The validate step: file types in, runtime types out, every problem reported at once.
//!
//! Order: the text is parsed (syntax errors carry line and column), the document's shape is
//! checked against the schema (all structural errors), serde builds the file types, and then
//! the cross-references are checked here (agents, models, aliases, clients, bindings, secrets).

use std::{
    collections::{BTreeMap, BTreeSet},
    net::IpAddr,
    path::{Path, PathBuf},
};

use serde_json::Value;

use super::{
    diagnostic::{Diagnostic, JsonPath, did_you_mean, nearest},
    file::{AgentFile, BindingFile, ConfigFile, Profile, ServiceDriver, ToolsFile},
    model::{
        Agent, AnonymousAgent, Binding, Client, Config, Gateway, Match, ModelPattern, ModelRef,
        Provider, Timeouts, UnknownModel, resolve_model,
    },
    schema::json_schema,
    shape,
};
use crate::{policy::ToolPolicy, secret::SecretRef};

/// What validation needs to know about the machine: where default workspaces go and what `~`
/// means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// Agents without a `workspace` get `<data_dir>/agents/<id>`.
    pub data_dir: PathBuf,
    pub home: Option<PathBuf>,
}

/// A configuration that passed validation, with the warnings it still deserves.
#[derive(Debug, Clone)]
pub struct Validated {
    pub config: Config,
    pub warnings: Vec<Diagnostic>,
}

/// Parses JSON text; a syntax error names its line and column.
pub fn parse(text: &str) -> Result<Value, Diagnostic> {
    serde_json::from_str(text).map_err(|error| {
        let message = error.to_string();
        // serde_json appends " at line L column C"; the position is shown separately.
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(head, _)| head)
            .to_owned();
        Diagnostic {
            position: Some((error.line(), error.column())),
            ..Diagnostic::error("", format!("invalid JSON: {message}"))
        }
    })
}

/// Validates configuration text. On failure, the list holds every error and warning.
pub fn validate_str(text: &str, env: &Environment) -> Result<Validated, Vec<Diagnostic>> {
    let value = parse(text).map_err(|diagnostic| vec![diagnostic])?;
    validate_value(&value, env)
}

/// Validates a parsed document.
pub fn validate_value(value: &Value, env: &Environment) -> Result<Validated, Vec<Diagnostic>> {
    let mut pruned = value.clone();
    let (structural, complete) = shape::check_and_prune(json_schema(), &mut pruned);
    if !complete {
        return Err(structural);
    }
    let file: ConfigFile = match serde_path_to_error::deserialize(&pruned) {
        Ok(file) => file,
        Err(_) if !structural.is_empty() => return Err(structural),
        Err(error) => {
            let path = error.path().to_string();
            let path = if path == "." { String::new() } else { path };
            return Err(vec![Diagnostic::error(
                path,
                error.into_inner().to_string(),
            )]);
        }
    };
    // What the shape check removed is already reported; the rest is checked for
    // cross-references, so one run lists both kinds of problem.
    match (validate_file(file, env), structural.is_empty()) {
        (Ok(validated), true) => Ok(validated),
        (Ok(validated), false) => Err(structural.into_iter().chain(validated.warnings).collect()),
        (Err(found), _) => {
            let (errors, warnings): (Vec<_>, Vec<_>) = structural
                .into_iter()
                .chain(found)
                .partition(Diagnostic::is_error);
            Err(errors.into_iter().chain(warnings).collect())
        }
    }
}

/// Checks the cross-references of parsed file types and builds the runtime configuration.
pub fn validate_file(file: ConfigFile, env: &Environment) -> Result<Validated, Vec<Diagnostic>> {
    let mut check = Checker {
        env,
        found: Vec::new(),
    };
    let config = check.config(file);
    let (errors, warnings): (Vec<_>, Vec<_>) =
        check.found.into_iter().partition(Diagnostic::is_error);
    match config {
        Some(config) if errors.is_empty() => Ok(Validated { config, warnings }),
        _ => Err(errors.into_iter().chain(warnings).collect()),
    }
}

struct Checker<'e> {
    env: &'e Environment,
    found: Vec<Diagnostic>,
}

/// Whether `text` is a valid id (agents, services): lower-case letters, digits, `-` and `_`,
/// starting with a letter or digit, at most 64 characters.
pub fn is_id(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
        && text.len() <= 64
}

impl Checker<'_> {
    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.found.push(Diagnostic::error(path, message));
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.found.push(diagnostic);
    }

    fn config(&mut self, file: ConfigFile) -> Option<Config> {
        let root = JsonPath::root();
        let providers = self.providers(&file, &root.key("providers"));
        let models_path = root.key("models");
        let aliases = self.aliases(&file, &providers, &models_path.key("aliases"));
        let resolve = |checker: &mut Checker, name: &str, path: &JsonPath| {
            checker.model_ref(&providers, &aliases, name, path)
        };
        let primary = file
            .models
            .primary
            .as_deref()
            .and_then(|name| resolve(self, name, &models_path.key("primary")));
        let fallbacks = self.model_list(
            &providers,
            &aliases,
            &file.models.fallbacks,
            &models_path.key("fallbacks"),
        );
        let mut params = BTreeMap::new();
        for (name, value) in &file.models.params {
            if let Some(reference) = resolve(self, name, &models_path.key("params").key(name)) {
                params.insert(reference, value.clone());
            }
        }
        let agents = self.agents(&file, &providers, &aliases);
        let agent_ids: Vec<&str> = agents.iter().map(|agent| agent.id.as_str()).collect();
        let default_agent = self.named_agent(
            file.default_agent.as_deref(),
            &agent_ids,
            &root.key("defaultAgent"),
        );
        let anonymous = self.named_agent(
            file.anonymous_agent.as_deref(),
            &agent_ids,
            &root.key("anonymousAgent"),
        );
        let anonymous_agent = match anonymous {
            Some(agent) => AnonymousAgent {
                agent,
                configured: true,
            },
            None => AnonymousAgent {
                agent: least_privileged(&agents),
                configured: false,
            },
        };
        let clients = self.clients(&file, &root.key("clients"));
        let client_names: Vec<&str> = file.clients.iter().map(|c| c.name.as_str()).collect();
        let trusted = file.clients.iter().any(|client| client.trusted);
        let bindings = self.bindings(
            &file.bindings,
            &agent_ids,
            (&client_names, trusted),
            &root.key("bindings"),
        );
        let gateway = self.gateway(&file, &root.key("gateway"));
        self.services(&file, &providers, &root.key("services"));
        self.voice(&file, &root.key("voice"));
        if primary.is_none() && file.models.primary.is_none() {
            let without_model = agents.iter().filter(|agent| agent.model.is_none()).count();
            let listed: usize = providers.values().map(|p| p.models.len()).sum();
            // With exactly one model, that one is everybody's default.
            if without_model > 0 && listed > 1 {
                self.push(
                    Diagnostic::warning(
                        "models.primary",
                        format!(
                            "no primary model, and {without_model} agent(s) name no model of their own"
                        ),
                    )
                    .with_hint("set one with `hearth config set models.primary PROVIDER/MODEL`"),
                );
            }
        }
        if file.default_agent.is_none()
            && let Some(first) = agents.first()
            && first.id != anonymous_agent.agent
            && first.policy.privilege()
                > agents
                    .iter()
                    .map(|a| a.policy.privilege())
                    .min()
                    .unwrap_or(0)
        {
            // The seeds' trap in another form: the catch-all is the most powerful agent.
            self.push(
                Diagnostic::warning(
                    "defaultAgent",
                    format!(
                        "not set, so requests that no binding matches go to the first agent, `{}`, which is not the least-privileged one",
                        first.id
                    ),
                )
                .with_hint(format!(
                    "name the agent for unmatched requests, e.g. `hearth config set defaultAgent {}`",
                    anonymous_agent.agent
                )),
            );
        }
        let default_agent = default_agent.or_else(|| agents.first().map(|a| a.id.clone()))?;
        let mut listed = providers.values().flat_map(|provider| {
            provider.models.iter().map(|model| ModelRef {
                provider: provider.id.clone(),
                model: model.id.clone(),
            })
        });
        let sole_model = match (listed.next(), listed.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        };
        Some(Config {
            default_agent,
            sole_model,
            anonymous_agent,
            providers,
            primary,
            fallbacks,
            aliases,
            params,
            agents,
            clients,
            bindings,
            gateway: gateway?,
            services: file.services.clone(),
            voice: file.voice.clone(),
            app: file.app.clone(),
            file,
        })
    }

    fn providers(&mut self, file: &ConfigFile, path: &JsonPath) -> BTreeMap<String, Provider> {
        let mut providers = BTreeMap::new();
        for (id, provider) in &file.providers {
            let here = path.key(id);
            if !is_id(id) {
                self.push(
                    Diagnostic::error(&here, format!("`{id}` is not a valid provider id"))
                        .with_hint("use lower-case letters, digits, `-` and `_`; no `/`"),
                );
            }
            let base_url = self.url(&provider.base_url, &here.key("baseUrl"));
            if provider.api == super::file::Api::Ollama
                && provider.base_url.trim_end_matches('/').ends_with("/v1")
            {
                self.push(
                    Diagnostic::warning(
                        here.key("baseUrl"),
                        "an `ollama` provider speaks Ollama's native API at the server's root; `/v1` is its OpenAI-compatible API, which ignores keep_alive",
                    )
                    .with_hint("write the root, like `http://127.0.0.1:11434`"),
                );
            }
            let api_key = provider
                .api_key
                .as_deref()
                .and_then(|text| self.secret_ref(text, &here.key("apiKey")));
            let mut seen = BTreeSet::new();
            for (index, model) in provider.models.iter().enumerate() {
                let model_path = here.key("models").index(index);
                if model.id.trim().is_empty() {
                    self.error(model_path.key("id"), "a model id cannot be empty");
                } else if !seen.insert(model.id.as_str()) {
                    self.error(
                        model_path.key("id"),
                        format!("model `{}` is listed twice in provider `{id}`", model.id),
                    );
                }
                if model.context_window == Some(0) {
                    self.error(
                        model_path.key("contextWindow"),
                        "a context window cannot be 0",
                    );
                }
                if model.max_tokens == Some(0) {
                    self.error(model_path.key("maxTokens"), "maxTokens cannot be 0");
                }
                if let (Some(window), Some(max)) = (model.context_window, model.max_tokens)
                    && max > window
                {
                    self.error(
                        model_path.key("maxTokens"),
                        format!("maxTokens ({max}) is larger than the context window ({window})"),
                    );
                }
            }
            providers.insert(
                id.clone(),
                Provider {
                    id: id.clone(),
                    api: provider.api,
                    base_url: base_url.unwrap_or_default(),
                    api_key,
                    models: provider.models.clone(),
                    any_model: provider.any_model,
                },
            );
        }
        providers
    }

    fn aliases(
        &mut self,
        file: &ConfigFile,
        providers: &BTreeMap<String, Provider>,
        path: &JsonPath,
    ) -> BTreeMap<String, ModelRef> {
        let mut aliases: BTreeMap<String, ModelRef> = BTreeMap::new();
        let mut spelled: BTreeMap<String, &str> = BTreeMap::new();
        for (alias, target) in &file.models.aliases {
            let here = path.key(alias);
            let lower = alias.to_lowercase();
            if alias.trim().is_empty() {
                self.error(&here, "an alias cannot be empty");
                continue;
            }
            if alias.contains('/') {
                self.push(
                    Diagnostic::error(&here, format!("alias `{alias}` contains `/`")).with_hint(
                        "it would read as a `provider/model-id` reference; pick a name without `/`",
                    ),
                );
                continue;
            }
            if let Some(first) = spelled.get(&lower) {
                self.error(
                    &here,
                    format!("alias `{alias}` is ambiguous: `{first}` differs only in case"),
                );
                continue;
            }
            let other_model = providers.values().find_map(|provider| {
                provider
                    .models
                    .iter()
                    .any(|model| model.id.eq_ignore_ascii_case(alias))
                    .then(|| ModelRef {
                        provider: provider.id.clone(),
                        model: alias.clone(),
                    })
            });
            // Aliases never name other aliases: one step of indirection keeps them readable.
            let resolved = resolve_model(providers, &BTreeMap::new(), target);
            match resolved {
                Ok(reference) => {
                    if let Some(other) = other_model.filter(|other| *other != reference) {
                        self.error(
                            &here,
                            format!(
                                "alias `{alias}` is ambiguous: it is also the id of model `{other}`"
                            ),
                        );
                        continue;
                    }
                    spelled.insert(lower.clone(), alias);
                    aliases.insert(lower, reference);
                }
                Err(error) => self.unknown_model(error, &here),
            }
        }
        aliases
    }

    fn unknown_model(&mut self, error: UnknownModel, path: &JsonPath) {
        let hint = error
            .suggestion()
            .map(|suggestion| format!("did you mean `{suggestion}`?"));
        let mut diagnostic = Diagnostic::error(path, error.to_string());
        diagnostic.hint = hint;
        self.push(diagnostic);
    }

    fn model_ref(
        &mut self,
        providers: &BTreeMap<String, Provider>,
        aliases: &BTreeMap<String, ModelRef>,
        name: &str,
        path: &JsonPath,
    ) -> Option<ModelRef> {
        match resolve_model(providers, aliases, name) {
            Ok(reference) => Some(reference),
            Err(error) => {
                self.unknown_model(error, path);
                None
            }
        }
    }

    fn model_list(
        &mut self,
        providers: &BTreeMap<String, Provider>,
        aliases: &BTreeMap<String, ModelRef>,
        names: &[String],
        path: &JsonPath,
    ) -> Vec<ModelRef> {
        names
            .iter()
            .enumerate()
            .filter_map(|(index, name)| {
                self.model_ref(providers, aliases, name, &path.index(index))
            })
            .collect()
    }

    /// An agent's `models`: references and aliases as elsewhere, and `provider/*`.
    fn model_patterns(
        &mut self,
        providers: &BTreeMap<String, Provider>,
        aliases: &BTreeMap<String, ModelRef>,
        names: &[String],
        path: &JsonPath,
    ) -> Vec<ModelPattern> {
        let mut patterns = Vec::new();
        for (index, name) in names.iter().enumerate() {
            let here = path.index(index);
            if let Some(provider) = name.strip_suffix("/*") {
                if providers.contains_key(provider) {
                    patterns.push(ModelPattern::Provider(provider.to_owned()));
                } else {
                    let mut diagnostic = Diagnostic::error(
                        here,
                        format!("`{name}` names provider `{provider}`, which is not configured"),
                    );
                    if let Some(found) = nearest(provider, providers.keys().map(String::as_str)) {
                        diagnostic = diagnostic.with_hint(format!("did you mean `{found}/*`?"));
                    }
                    self.push(diagnostic);
                }
            } else if let Some(model) = self.model_ref(providers, aliases, name, &here) {
                patterns.push(ModelPattern::Model(model));
            }
        }
        patterns
    }

    fn agents(
        &mut self,
        file: &ConfigFile,
        providers: &BTreeMap<String, Provider>,
        aliases: &BTreeMap<String, ModelRef>,
    ) -> Vec<Agent> {
        let path = JsonPath::root().key("agents");
        let implicit;
        let listed: &[AgentFile] = if file.agents.is_empty() {
            // A file without agents still routes: one agent with every tool, on loopback.
            implicit = [AgentFile {
                id: "main".to_owned(),
                name: Some("Main".to_owned()),
                workspace: None,
                model: None,
                fallbacks: None,
                models: None,
                tools: ToolsFile::default(),
            }];
            &implicit
        } else {
            &file.agents
        };
        let mut seen = BTreeSet::new();
        let mut agents = Vec::new();
        for (index, agent) in listed.iter().enumerate() {
            let here = path.index(index);
            if !is_id(&agent.id) {
                self.push(
                    Diagnostic::error(
                        here.key("id"),
                        format!("`{}` is not a valid agent id", agent.id),
                    )
                    .with_hint("use lower-case letters, digits, `-` and `_`"),
                );
            } else if !seen.insert(agent.id.clone()) {
                self.error(
                    here.key("id"),
                    format!("agent `{}` is defined twice", agent.id),
                );
            }
            let workspace = match &agent.workspace {
                Some(text) => self.path(text, &here.key("workspace")),
                None => Some(self.env.data_dir.join("agents").join(&agent.id)),
            };
            let model = agent
                .model
                .as_deref()
                .and_then(|name| self.model_ref(providers, aliases, name, &here.key("model")));
            let fallbacks = agent
                .fallbacks
                .as_ref()
                .map(|names| self.model_list(providers, aliases, names, &here.key("fallbacks")));
            let models = agent
                .models
                .as_ref()
                .map(|names| self.model_patterns(providers, aliases, names, &here.key("models")));
            let (policy, diagnostics) = ToolPolicy::compile(&agent.tools, &here.key("tools"));
            self.found.extend(diagnostics);
            // A policy with errors is reported above; the agent still counts for the
            // cross-references below, so one mistake does not cascade into others.
            let policy = policy.or_else(|| {
                let nothing = ToolsFile {
                    profile: Some(Profile::Minimal),
                    ..ToolsFile::default()
                };
                ToolPolicy::compile(&nothing, &here).0
            });
            if let Some(policy) = policy {
                agents.push(Agent {
                    id: agent.id.clone(),
                    name: agent.name.clone().unwrap_or_else(|| agent.id.clone()),
                    workspace: workspace.unwrap_or_default(),
                    model,
                    fallbacks,
                    models,
                    policy,
                });
            }
        }
        agents
    }

    fn named_agent(
        &mut self,
        name: Option<&str>,
        known: &[&str],
        path: &JsonPath,
    ) -> Option<String> {
        let name = name?;
        if known.contains(&name) {
            return Some(name.to_owned());
        }
        let mut diagnostic = Diagnostic::error(path, format!("there is no agent `{name}`"));
        diagnostic.hint = did_you_mean(name, known.iter().copied());
        self.push(diagnostic);
        None
    }

    fn clients(&mut self, file: &ConfigFile, path: &JsonPath) -> Vec<Client> {
        let mut seen = BTreeSet::new();
        let mut clients = Vec::new();
        for (index, client) in file.clients.iter().enumerate() {
            let here = path.index(index);
            if client.name.trim().is_empty() {
                self.error(here.key("name"), "a client name cannot be empty");
            } else if !seen.insert(client.name.clone()) {
                self.error(
                    here.key("name"),
                    format!("client `{}` is defined twice", client.name),
                );
            }
            if let Some(token) = self.secret_ref(&client.token, &here.key("token")) {
                clients.push(Client {
                    name: client.name.clone(),
                    token,
                    trusted: client.trusted,
                });
            }
        }
        let mut tokens = BTreeMap::new();
        for client in &clients {
            if let Some(first) = tokens.insert(client.token.clone(), client.name.clone()) {
                self.error(
                    path.to_string(),
                    format!(
                        "clients `{first}` and `{}` share the token `{}`: a token must name one client",
                        client.name, client.token
                    ),
                );
            }
        }
        clients
    }

    fn bindings(
        &mut self,
        bindings: &[BindingFile],
        agents: &[&str],
        (clients, trusted): (&[&str], bool),
        path: &JsonPath,
    ) -> Vec<Binding> {
        let mut result: Vec<Binding> = Vec::new();
        for (index, binding) in bindings.iter().enumerate() {
            let here = path.index(index);
            let agent_ok = self
                .named_agent(Some(&binding.agent), agents, &here.key("agent"))
                .is_some();
            let m = &binding.matcher;
            let clean = |text: &Option<String>| {
                text.as_deref()
                    .map(str::trim)
                    .filter(|text| !text.is_empty())
                    .map(str::to_owned)
            };
            let matcher = Match {
                client: clean(&m.client),
                channel: clean(&m.channel).map(|text| text.to_lowercase()),
                account_id: clean(&m.account_id),
                peer_kind: m
                    .peer
                    .as_ref()
                    .and_then(|peer| clean(&peer.kind))
                    .map(|text| text.to_lowercase()),
                peer_id: m.peer.as_ref().and_then(|peer| clean(&peer.id)),
            };
            if let Some(name) = &matcher.client
                && !clients.contains(&name.as_str())
            {
                let mut diagnostic = Diagnostic::error(
                    here.key("match").key("client"),
                    format!("there is no client `{name}`"),
                );
                diagnostic.hint = did_you_mean(name, clients.iter().copied());
                self.push(diagnostic);
            }
            let asserts = matcher.channel.is_some()
                || matcher.account_id.is_some()
                || matcher.peer_kind.is_some()
                || matcher.peer_id.is_some();
            if asserts && !trusted {
                self.push(
                    Diagnostic::warning(
                        here.key("match"),
                        "matches on channel, account or peer, but no client is trusted to assert them, so it never matches",
                    )
                    .with_hint("mark the client that relays these messages `\"trusted\": true`"),
                );
            }
            if let Some(earlier) = result.iter().find(|earlier| earlier.matcher == matcher) {
                self.push(Diagnostic::warning(
                    &here,
                    format!(
                        "never wins: bindings[{}] has the same match and comes first",
                        earlier.index
                    ),
                ));
            }
            if agent_ok {
                result.push(Binding {
                    index,
                    agent: binding.agent.clone(),
                    matcher,
                });
            }
        }
        // The seeds' trap: a catch-all above specific rules reads as if it swallowed them.
        for binding in result
            .iter()
            .filter(|binding| binding.matcher.is_catch_all())
        {
            let later: Vec<String> = result
                .iter()
                .filter(|other| other.index > binding.index && !other.matcher.is_catch_all())
                .map(|other| format!("bindings[{}]", other.index))
                .collect();
            if !later.is_empty() {
                self.push(
                    Diagnostic::warning(
                        path.index(binding.index),
                        format!(
                            "a catch-all placed before more specific rules ({}); they still win by specificity, but the order misleads readers",
                            later.join(", ")
                        ),
                    )
                    .with_hint("move the catch-all to the end of the list"),
                );
            }
        }
        result
    }

    fn gateway(&mut self, file: &ConfigFile, path: &JsonPath) -> Option<Gateway> {
        let gateway = &file.gateway;
        let bind = match gateway.bind.parse::<IpAddr>() {
            Ok(address) => Some(address),
            Err(_) => {
                self.push(
                    Diagnostic::error(
                        path.key("bind"),
                        format!("`{}` is not an IP address", gateway.bind),
                    )
                    .with_hint("use `127.0.0.1` (loopback) unless Hearth must be reachable from other machines"),
                );
                None
            }
        };
        if let Some(address) = bind
            && !address.is_loopback()
            && !gateway.allow_remote
        {
            self.push(
                Diagnostic::error(
                    path.key("bind"),
                    format!("`{address}` is not a loopback address"),
                )
                .with_hint("to serve other machines, also set `gateway.allowRemote: true`; every route then requires a token"),
            );
        }
        let admin_token = self.secret_ref(&gateway.admin_token, &path.key("adminToken"));
        if gateway.body_limit_mib == 0 {
            self.error(
                path.key("bodyLimitMiB"),
                "the body limit must be at least 1 MiB",
            );
        }
        let timeouts = &gateway.timeouts;
        let timeouts = Timeouts {
            connect: timeouts.connect.get(),
            first_token: timeouts.first_token.get(),
            idle: timeouts.idle.get(),
            total: timeouts.total.get(),
        };
        if timeouts.first_token > timeouts.total {
            self.push(Diagnostic::warning(
                path.key("timeouts").key("firstToken"),
                "longer than `total`, so `total` cuts in first",
            ));
        }
        Some(Gateway {
            bind: bind?,
            port: gateway.port,
            allow_remote: gateway.allow_remote,
            admin_token: admin_token?,
            timeouts,
            body_limit_bytes: usize::try_from(gateway.body_limit_mib)
                .unwrap_or(usize::MAX)
                .saturating_mul(1024 * 1024),
            responses_max_stored: usize::try_from(gateway.responses.max_stored)
                .unwrap_or(usize::MAX)
                .max(1),
            responses_max_age: gateway.responses.max_age.get(),
            responses_max_bytes: u64::from(gateway.responses.max_mib.max(1)) * 1024 * 1024,
        })
    }

    fn services(
        &mut self,
        file: &ConfigFile,
        providers: &BTreeMap<String, Provider>,
        path: &JsonPath,
    ) {
        for (name, service) in &file.services {
            let here = path.key(name);
            if !is_id(name) {
                self.push(
                    Diagnostic::error(&here, format!("`{name}` is not a valid service name"))
                        .with_hint("use lower-case letters, digits, `-` and `_`"),
                );
            }
            if !Path::new(&service.program).is_absolute() {
                self.push(
                    Diagnostic::error(
                        here.key("program"),
                        format!("`{}` is not an absolute path", service.program),
                    )
                    .with_hint("services start with a minimal environment; give the full path"),
                );
            }
            for (key, value) in [
                ("workingDir", &service.working_dir),
                ("logFile", &service.log_file),
            ] {
                if let Some(value) = value
                    && !Path::new(value).is_absolute()
                {
                    self.error(here.key(key), format!("`{value}` is not an absolute path"));
                }
            }
            if let Some(path) = service.env.get("PATH")
                && let Some(relative) = path.split(':').find(|dir| !Path::new(dir).is_absolute())
            {
                self.push(
                    Diagnostic::error(
                        here.key("env").key("PATH"),
                        format!("`{relative}` in PATH is not an absolute directory"),
                    )
                    .with_hint(
                        "a service's PATH is resolved without a shell or a current directory",
                    ),
                );
            }
            if service.port == Some(0) {
                self.error(here.key("port"), "port 0 is not a port a client can reach");
            }
            if let Some(port) = service.port
                && port != 0
                && port == file.gateway.port
            {
                self.error(
                    here.key("port"),
                    format!("port {port} is the gateway's own port"),
                );
            }
            if service.driver == Some(ServiceDriver::Launchd) && !cfg!(target_os = "macos") {
                self.push(
                    Diagnostic::error(here.key("driver"), "launchd exists only on macOS")
                        .with_hint("use `supervisor`, or leave `driver` out"),
                );
            }
            if service.start_timeout.get().is_zero() {
                self.error(
                    here.key("startTimeout"),
                    "a start needs some time to pass its health check",
                );
            }
            if let Some(url) = &service.health_url {
                self.url(url, &here.key("healthUrl"));
            }
            if let Some(provider) = &service.provider {
                if !providers.contains_key(provider) {
                    let mut diagnostic = Diagnostic::error(
                        here.key("provider"),
                        format!("there is no provider `{provider}`"),
                    );
                    diagnostic.hint = did_you_mean(provider, providers.keys().map(String::as_str));
                    self.push(diagnostic);
                } else if let Some(first) = file
                    .services
                    .iter()
                    .find(|(_, found)| found.provider.as_ref() == Some(provider))
                    .map(|(other, _)| other)
                    .filter(|first| *first != name)
                {
                    self.error(
                        here.key("provider"),
                        format!("provider `{provider}` is already served by service `{first}`"),
                    );
                }
            }
            if let Some(port) = service.port
                && let Some(first) = file
                    .services
                    .iter()
                    .find(|(_, found)| found.port == Some(port))
                    .map(|(other, _)| other)
                    .filter(|first| *first != name)
            {
                self.error(
                    here.key("port"),
                    format!("port {port} is already service `{first}`'s"),
                );
            }
        }
    }

    fn voice(&mut self, file: &ConfigFile, path: &JsonPath) {
        for (key, endpoint) in [("stt", &file.voice.stt), ("tts", &file.voice.tts)] {
            if let Some(endpoint) = endpoint {
                let here = path.key(key);
                self.url(&endpoint.base_url, &here.key("baseUrl"));
                if let Some(key) = &endpoint.api_key {
                    self.secret_ref(key, &here.key("apiKey"));
                }
            }
        }
        if file.voice.max_concurrent == 0 {
            self.error(
                path.key("maxConcurrent"),
                "at least one audio request must be able to run",
            );
        }
    }

    fn url(&mut self, text: &str, path: &JsonPath) -> Option<String> {
        match url::Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                if !url.username().is_empty() || url.password().is_some() {
                    self.push(
                        Diagnostic::error(path, "credentials in a URL end up in logs")
                            .with_hint("put the key in `apiKey` as a secret reference"),
                    );
                    return None;
                }
                Some(text.trim_end_matches('/').to_owned())
            }
            Ok(url) if text.contains("://") && !matches!(url.scheme(), "http" | "https") => {
                self.push(Diagnostic::error(
                    path,
                    format!("`{text}` is not an http or https URL"),
                ));
                None
            }
            _ => {
                self.push(
                    Diagnostic::error(path, format!("`{text}` is not a URL"))
                        .with_hint("write it in full, like `http://127.0.0.1:11434`"),
                );
                None
            }
        }
    }

    fn secret_ref(&mut self, text: &str, path: &JsonPath) -> Option<SecretRef> {
        match text.parse::<SecretRef>() {
            Ok(reference) => Some(reference),
            // The message never repeats the value: it may be a real key.
            Err(error) => {
                self.error(path, error.to_string());
                None
            }
        }
    }

    fn path(&mut self, text: &str, path: &JsonPath) -> Option<PathBuf> {
        if let Some(rest) = text.strip_prefix("~/") {
            if let Some(home) = &self.env.home {
                return Some(home.join(rest));
            }
            self.error(path, "`~` is used but the home directory is unknown");
            return None;
        }
        let candidate = PathBuf::from(text);
        if candidate.is_absolute() {
            Some(candidate)
        } else {
            self.push(
                Diagnostic::error(path, format!("`{text}` is not an absolute path"))
                    .with_hint("write a full path or one starting with `~/`"),
            );
            None
        }
    }
}

/// The agent that allows the fewest known tools; the first such agent on a tie.
fn least_privileged(agents: &[Agent]) -> String {
    agents
        .iter()
        .enumerate()
        .min_by_key(|(index, agent)| (agent.policy.privilege(), *index))
        .map(|(_, agent)| agent.id.clone())
        .unwrap_or_default()
}
