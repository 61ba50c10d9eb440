//! OpenClaw's `openclaw.json` (JSON5) into Hearth's configuration.
//!
//! OpenClaw files are found written in several dialects, and this module reads them all:
//! - providers under `models.providers`, `inference.providers` or `gateway.providers`, their
//!   protocol in `api`, `protocol` or `type`, their key in `apiKey`, `credentials` or `auth`;
//! - model selection under `agents.defaults` (`model.primary`, `models`), `agents` itself
//!   (`active_model`, `model_registry`) or `gateway.agents.default` (`registry` and friends);
//! - agents as `agents.list` or `instances`, each an array or a map keyed by agent id;
//! - bindings as `bindings` or `routing_rules`, anywhere an agents section is.
//!
//! Every key of the document is either read by the mapping or reported as unmapped with its
//! path: [`Obj`] remembers which keys were read, and what is left is reported at the end.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::{ImportError, Imported, Unmapped};
use crate::{
    config::{
        diagnostic::{JsonPath, json_kind},
        duration::DurationSpec,
        file::{
            AgentFile, Api, BindingFile, ClientFile, ConfigFile, MatchFile, Modality, ModelFile,
            ModelParams, PeerFile, Profile, ProviderFile, ToolsFile,
        },
    },
    secret::{Secret, SecretRef},
};

/// OpenClaw's group of all its own built-in tools, which Hearth has no single group for.
fn is_all_openclaw_tools(name: &str) -> bool {
    name.trim().eq_ignore_ascii_case("group:openclaw")
}

/// The client the OpenClaw gateway becomes when its bindings match on channel or peer.
pub const OPENCLAW_CLIENT: &str = "openclaw";

/// Reads an OpenClaw configuration (JSON5, any of the dialects above) into a Hearth one.
///
/// Inline API keys come back in [`Imported::secrets`] and the configuration refers to them as
/// `keychain:provider.<id>.apiKey`; keys already written as references (`env:NAME`,
/// `keychain:NAME`, `${NAME}`) stay references.
pub fn import_openclaw(text: &str) -> Result<Imported, ImportError> {
    let document: Value = json5::from_str(text).map_err(syntax_error)?;
    let Value::Object(root) = &document else {
        return Err(ImportError::NotAnObject {
            found: json_kind(&document),
        });
    };
    let mut importer = Importer::default();
    importer.document(root);
    importer.finish()
}

fn syntax_error(error: json5::Error) -> ImportError {
    ImportError::Syntax {
        message: error
            .code()
            .map_or_else(|| error.to_string(), |code| code.to_string()),
        position: error
            .position()
            .map(|position| (position.line + 1, position.column + 1)),
    }
}

/// One member of an object, with its path in the source document.
#[derive(Debug, Clone)]
struct Field<'a> {
    key: &'a str,
    value: &'a Value,
    path: JsonPath,
}

/// An object being mapped. It remembers which keys were read, so that what is left can be
/// reported, and which synonyms lost to another spelling of the same setting.
#[derive(Debug)]
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: JsonPath,
    taken: BTreeSet<&'a str>,
    /// Members that were another spelling of a setting already read, with the key used.
    shadowed: Vec<(Field<'a>, &'a str)>,
}

impl<'a> Obj<'a> {
    fn new(map: &'a Map<String, Value>, path: JsonPath) -> Obj<'a> {
        Obj {
            map,
            path,
            taken: BTreeSet::new(),
            shadowed: Vec::new(),
        }
    }

    /// The first of `names` (spellings of one setting) that is present, marked as read.
    fn take(&mut self, names: &[&str]) -> Option<Field<'a>> {
        let mut found: Option<Field<'a>> = None;
        for name in names {
            let Some((key, value)) = self.map.get_key_value(*name) else {
                continue;
            };
            if !self.taken.insert(key.as_str()) {
                continue;
            }
            let field = Field {
                key: key.as_str(),
                value,
                path: self.path.key(key),
            };
            match &found {
                None => found = Some(field),
                Some(first) => self.shadowed.push((field, first.key)),
            }
        }
        found
    }

    /// Members not read, in document order.
    fn rest(&self) -> impl Iterator<Item = Field<'a>> + '_ {
        self.map
            .iter()
            .filter(|(key, _)| !self.taken.contains(key.as_str()))
            .map(|(key, value)| Field {
                key: key.as_str(),
                value,
                path: self.path.key(key),
            })
    }
}

/// Where an unread key sits, to say why it has no Hearth equivalent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Root,
    /// `models` or `inference`: the sections that hold providers.
    Section,
    Gateway,
    Provider,
    Model,
    AgentsRoot,
    Defaults,
    RegistryEntry,
    Params,
    Agent,
    Tools,
    Binding,
}

fn reason(context: Context, key: &str) -> &'static str {
    match (context, key) {
        (Context::Root, "channels") => {
            "channel connections (accounts, allow-lists, DM policy) stay with OpenClaw; Hearth \
             routes on the channel and peer that a trusted client reports"
        }
        (Context::Root, "messages") => {
            "message and speech settings stay with OpenClaw; Hearth's speech sidecars are set in \
             its `voice` section"
        }
        (Context::Root, "auth") => {
            "OpenClaw's sign-in profiles; Hearth keeps provider keys as secret references"
        }
        (Context::Root, "env") => {
            "environment for OpenClaw's process; Hearth reads `env:NAME` references from its own \
             environment"
        }
        (Context::Root, "meta" | "wizard" | "update") => "OpenClaw's own bookkeeping",
        (Context::Root, _) => "OpenClaw setting with no Hearth equivalent",
        (Context::Section, "mode") => {
            "OpenClaw's catalogue merge mode; Hearth uses exactly the providers in its file"
        }
        (Context::Section, _) => "model catalogue setting with no Hearth equivalent",
        (Context::Gateway, "auth") => {
            "OpenClaw's gateway authentication; Hearth gives each caller its own token \
             (`clients`)"
        }
        (
            Context::Gateway,
            "port" | "listen_port" | "listenPort" | "bind" | "bind_address" | "bindAddress"
            | "host" | "mode",
        ) => {
            "OpenClaw's own listener; Hearth's gateway has its own address (`gateway.bind`, \
             `gateway.port`, 127.0.0.1:11500 by default)"
        }
        (Context::Gateway, _) => "OpenClaw gateway setting with no Hearth equivalent",
        (Context::Provider, "headers") => "Hearth providers send no custom headers",
        (Context::Provider, _) => "provider setting with no Hearth equivalent",
        (Context::Model, _) => "model setting with no Hearth equivalent",
        (Context::AgentsRoot | Context::Defaults, _) => "agent default with no Hearth equivalent",
        (Context::RegistryEntry, _) => "model entry setting with no Hearth equivalent",
        (Context::Params, _) => {
            "no Hearth model parameter by this name (Hearth has think, temperature, topP, topK, \
             seed and keepAlive)"
        }
        (Context::Agent, _) => "agent setting with no Hearth equivalent",
        (Context::Tools, "media") => {
            "media understanding stays with OpenClaw; Hearth proxies speech to text to the \
             sidecar in `voice.stt`"
        }
        (Context::Tools, "exec" | "elevated" | "sandbox" | "web" | "browser") => {
            "settings of OpenClaw's tool runtime; Hearth only decides which tools a model may \
             see and call"
        }
        (Context::Tools, _) => {
            "tool setting with no Hearth equivalent (Hearth's policy is profile, allow and deny)"
        }
        (Context::Binding, _) => "binding setting with no Hearth equivalent",
    }
}

const API_WORDS: &str = "ollama, openai-completions, openai-responses or anthropic-messages";

fn api_from(text: &str) -> Option<Api> {
    match text.trim().to_ascii_lowercase().as_str() {
        "ollama" | "ollama-native" => Some(Api::Ollama),
        "openai-completions" | "openai-compat" | "openai-compatible" | "openai" => {
            Some(Api::OpenaiCompletions)
        }
        "openai-responses" => Some(Api::OpenaiResponses),
        "anthropic-messages" | "anthropic" => Some(Api::AnthropicMessages),
        _ => None,
    }
}

fn profile_from(text: &str) -> Option<Profile> {
    match text.trim().to_ascii_lowercase().as_str() {
        "full" | "full_access" | "full-access" | "all" | "unrestricted" => Some(Profile::Full),
        "coding" => Some(Profile::Coding),
        "messaging" => Some(Profile::Messaging),
        "minimal" => Some(Profile::Minimal),
        _ => None,
    }
}

/// Hearth's peer kinds from the spellings the dialects use.
fn peer_kind_from(text: &str) -> Option<&'static str> {
    match text.trim().to_ascii_lowercase().as_str() {
        "dm" | "direct" | "direct_message" | "direct-message" | "directmessage" | "private"
        | "im" => Some("dm"),
        "group" | "group_chat" | "group-chat" | "groupchat" => Some("group"),
        _ => None,
    }
}

/// Hearth ids are up to 64 lower-case letters, digits, `-` and `_`, starting with a letter
/// or digit; anything else becomes `-`.
fn hearth_id(text: &str) -> Option<String> {
    let id: String = text
        .trim()
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .skip_while(|c| !c.is_ascii_alphanumeric())
        .take(64)
        .collect();
    (!id.is_empty()).then_some(id)
}

/// Whether `text` is an http(s) URL with a host and no credentials in it.
fn is_plain_http_url(text: &str) -> bool {
    let Some((scheme, rest)) = text.trim().split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https")
        && !authority.is_empty()
        && !authority.contains('@')
}

/// Hearth's workspaces are absolute paths or start with `~/`.
fn is_workspace_path(text: &str) -> bool {
    text.starts_with("~/") || std::path::Path::new(text).is_absolute()
}

fn is_placeholder(text: &str) -> bool {
    let text = text.trim();
    text.starts_with('<') && text.ends_with('>')
}

/// The agents' default workspace, if the file names one.
#[derive(Debug)]
struct DefaultWorkspace {
    path: JsonPath,
    value: String,
    used: bool,
}

#[derive(Debug, Default)]
struct Importer {
    config: ConfigFile,
    secrets: Vec<(String, Secret<String>)>,
    mapped: Vec<String>,
    unmapped: Vec<Unmapped>,
    /// Where cost or pricing was found; reported once at the end.
    cost_paths: Vec<String>,
    /// Provider ids as the source wrote them, to Hearth's.
    provider_ids: BTreeMap<String, String>,
    /// Agent ids as the source wrote them, to Hearth's.
    agent_ids: BTreeMap<String, String>,
    /// Hearth ids of agents that brought their own tool policy.
    agents_with_tools: BTreeSet<String>,
    /// Hearth id of the first agent marked `default: true`.
    flagged_default: Option<String>,
}

impl Importer {
    fn unmapped(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.unmapped.push(Unmapped {
            path: path.into(),
            reason: reason.into(),
        });
    }

    fn mapped(&mut self, line: impl Into<String>) {
        self.mapped.push(line.into());
    }

    /// Reports what `obj` holds that nothing read.
    fn leftovers(&mut self, obj: &Obj<'_>, context: Context) {
        for (field, used) in &obj.shadowed {
            self.unmapped(
                &field.path,
                format!("the same setting as `{used}`, which the import used instead"),
            );
        }
        let rest: Vec<Field<'_>> = obj.rest().collect();
        for field in rest {
            if matches!(field.key, "cost" | "pricing") {
                self.cost_paths.push(field.path.into());
            } else {
                self.unmapped(&field.path, reason(context, field.key));
            }
        }
    }

    // Typed reads: each reports a value of the wrong type and returns `None`.

    fn object<'a>(&mut self, field: &Field<'a>) -> Option<Obj<'a>> {
        match field.value {
            Value::Object(map) => Some(Obj::new(map, field.path.clone())),
            other => {
                self.unmapped(
                    &field.path,
                    format!("expected an object, found {}", json_kind(other)),
                );
                None
            }
        }
    }

    fn string<'a>(&mut self, field: &Field<'a>) -> Option<&'a str> {
        match field.value {
            Value::String(text) => Some(text.as_str()),
            other => {
                self.unmapped(
                    &field.path,
                    format!("expected a string, found {}", json_kind(other)),
                );
                None
            }
        }
    }

    fn workspace(&mut self, field: &Field<'_>) -> Option<String> {
        let text = self.string(field)?;
        if is_workspace_path(text) {
            Some(text.to_owned())
        } else {
            self.unmapped(
                &field.path,
                "a workspace is an absolute path or starts with `~/`; the agent gets Hearth's \
                 default (`<data dir>/agents/<id>`)",
            );
            None
        }
    }

    fn whole_number(&mut self, field: &Field<'_>) -> Option<u64> {
        let number = field.value.as_u64().filter(|tokens| *tokens > 0);
        if number.is_none() {
            self.unmapped(&field.path, "expected a positive whole number of tokens");
        }
        number
    }

    fn boolean(&mut self, field: &Field<'_>) -> Option<bool> {
        let flag = field.value.as_bool();
        if flag.is_none() {
            self.unmapped(&field.path, "expected true or false");
        }
        flag
    }

    /// A list of strings; a single string counts as a list of one.
    fn strings(&mut self, field: &Field<'_>) -> Vec<String> {
        match field.value {
            Value::String(text) => vec![text.clone()],
            Value::Array(items) => {
                let mut out = Vec::new();
                for (index, item) in items.iter().enumerate() {
                    match item {
                        Value::String(text) => out.push(text.clone()),
                        other => self.unmapped(
                            field.path.index(index),
                            format!("expected a string, found {}", json_kind(other)),
                        ),
                    }
                }
                out
            }
            other => {
                self.unmapped(
                    &field.path,
                    format!("expected a list of strings, found {}", json_kind(other)),
                );
                Vec::new()
            }
        }
    }

    // The document.

    fn document(&mut self, root: &Map<String, Value>) {
        let mut root = Obj::new(root, JsonPath::root());
        let mut done: Vec<(Obj<'_>, Context)> = Vec::new();

        // Providers first: every model reference is checked against them.
        let mut gateway = None;
        for (names, context) in [
            (&["models"][..], Context::Section),
            (&["inference"][..], Context::Section),
            (&["gateway"][..], Context::Gateway),
        ] {
            let Some(field) = root.take(names) else {
                continue;
            };
            let Some(mut section) = self.object(&field) else {
                continue;
            };
            if let Some(providers) = section.take(&["providers"]) {
                self.providers(&providers);
            }
            if context == Context::Gateway {
                gateway = Some(section);
            } else {
                done.push((section, context));
            }
        }

        // The agents sections: `agents` and `gateway.agents`.
        let mut agent_sections = Vec::new();
        let mut lists = Vec::new();
        let mut binding_fields = Vec::new();
        let top_agents = root.take(&["agents"]);
        let gateway_agents = gateway.as_mut().and_then(|g| g.take(&["agents"]));
        for field in [top_agents, gateway_agents].into_iter().flatten() {
            if field.value.is_array() {
                // Already a list of agents.
                lists.push(field);
            } else if let Some(section) = self.object(&field) {
                agent_sections.push(section);
            }
        }
        if let Some(gateway) = gateway {
            done.push((gateway, Context::Gateway));
        }

        // Model selection and the default workspace, from each section and its defaults.
        let mut registries = Vec::new();
        let mut models = Vec::new();
        let mut workspaces = Vec::new();
        let mut defaults_objects = Vec::new();
        for section in &mut agent_sections {
            if let Some(field) = section.take(&["defaults", "default"])
                && let Some(mut defaults) = self.object(&field)
            {
                workspaces.extend(defaults.take(&["workspace", "default_workspace"]));
                models.extend(defaults.take(&["model", "primary_model", "active_model"]));
                registries.extend(defaults.take(&["models", "model_registry", "registry"]));
                defaults_objects.push(defaults);
            }
            workspaces.extend(section.take(&["default_workspace"]));
            models.extend(section.take(&["primary_model", "active_model"]));
            registries.extend(section.take(&["model_registry", "registry"]));
            lists.extend(section.take(&["list", "instances"]));
            binding_fields.extend(section.take(&["bindings", "routing_rules"]));
        }
        binding_fields.extend(root.take(&["bindings", "routing_rules"]));

        for registry in &registries {
            self.registry(registry);
        }
        let mut models = models.into_iter();
        if let Some(first) = models.next() {
            self.primary(&first);
            for other in models {
                self.unmapped(
                    &other.path,
                    format!("the primary model is already set by `{}`", first.path),
                );
            }
        }

        let mut workspaces = workspaces.into_iter();
        let first_workspace = workspaces.next();
        if let Some(first) = &first_workspace {
            for other in workspaces {
                self.unmapped(
                    &other.path,
                    format!("the default workspace is already set by `{}`", first.path),
                );
            }
        }
        let default_workspace = first_workspace.and_then(|first| {
            self.workspace(&first).map(|value| DefaultWorkspace {
                path: first.path,
                value,
                used: false,
            })
        });

        for list in &lists {
            self.agent_list(list);
        }
        self.apply_default_workspace(default_workspace);

        let global_tools = root.take(&["tools"]);
        if let Some(field) = global_tools
            && let Some(mut tools) = self.object(&field)
        {
            self.global_tools(&mut tools);
            done.push((tools, Context::Tools));
        }

        for field in &binding_fields {
            self.bindings(field);
        }
        if let Some(first) = binding_fields.first() {
            self.trust_note(&first.path);
        }
        self.default_agent();

        for defaults in &defaults_objects {
            self.leftovers(defaults, Context::Defaults);
        }
        for section in &agent_sections {
            self.leftovers(section, Context::AgentsRoot);
        }
        for (obj, context) in &done {
            self.leftovers(obj, *context);
        }
        self.leftovers(&root, Context::Root);
    }

    fn finish(mut self) -> Result<Imported, ImportError> {
        if let Some(first) = self.cost_paths.first().cloned() {
            let count = self.cost_paths.len();
            let places = if count == 1 {
                "1 place".to_owned()
            } else {
                format!("{count} places, the first shown")
            };
            self.unmapped(
                first,
                format!(
                    "cost and pricing are dropped: Hearth serves local models and keeps no \
                     billing ({places})"
                ),
            );
        }
        let config = &self.config;
        let empty = config.providers.is_empty()
            && config.agents.is_empty()
            && config.bindings.is_empty()
            && config.models.primary.is_none()
            && config.models.aliases.is_empty();
        if empty {
            return Err(ImportError::NothingToImport {
                unmapped: self.unmapped,
            });
        }
        Ok(Imported {
            config: self.config,
            secrets: self.secrets,
            mapped: self.mapped,
            unmapped: self.unmapped,
        })
    }

    // Providers and their models.

    fn providers(&mut self, field: &Field<'_>) {
        let Some(providers) = self.object(field) else {
            return;
        };
        for (original, value) in providers.map {
            let path = providers.path.key(original);
            let Value::Object(map) = value else {
                self.unmapped(
                    &path,
                    format!("expected an object, found {}", json_kind(value)),
                );
                continue;
            };
            self.provider(original, Obj::new(map, path));
        }
    }

    fn provider(&mut self, original: &str, mut obj: Obj<'_>) {
        let path = obj.path.clone();
        let Some(id) = hearth_id(original) else {
            self.unmapped(&path, "provider left out: its id has no letters or digits");
            return;
        };
        if self.config.providers.contains_key(&id) {
            self.unmapped(
                &path,
                format!("provider left out: another provider is already imported as `{id}`"),
            );
            return;
        }
        let Some(api_field) = obj.take(&["api", "protocol", "type"]) else {
            self.unmapped(
                &path,
                format!("provider left out: it names no protocol; set `api` to {API_WORDS}"),
            );
            return;
        };
        let Some(api_text) = self.string(&api_field) else {
            return;
        };
        let Some(api) = api_from(api_text) else {
            self.unmapped(
                &path,
                format!(
                    "provider left out: it speaks `{api_text}`, which Hearth has no adapter for \
                     (Hearth speaks {API_WORDS})"
                ),
            );
            return;
        };
        let Some(base_url_field) = obj.take(&["baseUrl", "baseURL", "base_url", "endpoint", "url"])
        else {
            self.unmapped(&path, "provider left out: it has no base URL (`baseUrl`)");
            return;
        };
        let Some(base_url) = self.string(&base_url_field) else {
            return;
        };
        if !is_plain_http_url(base_url) {
            // Not echoed: a URL with credentials in it holds a secret.
            self.unmapped(
                &base_url_field.path,
                "provider left out: its base URL is not an http(s) URL without \
                 credentials (put a key in `apiKey` instead)",
            );
            return;
        }

        // The provider's own line goes before what its key and models add.
        let first_line = self.mapped.len();
        let key_field = obj.take(&["apiKey", "api_key", "credentials"]);
        let auth_field = obj.take(&["auth"]);
        let api_key = self.provider_key(&id, key_field, auth_field);

        let mut models = Vec::new();
        if let Some(field) = obj.take(&["models"]) {
            match field.value {
                Value::Array(items) => {
                    for (index, item) in items.iter().enumerate() {
                        let item_path = field.path.index(index);
                        match item {
                            Value::Object(map) => {
                                let Some(model) = self.model(Obj::new(map, item_path.clone()), api)
                                else {
                                    continue;
                                };
                                if models.iter().any(|m: &ModelFile| m.id == model.id) {
                                    self.unmapped(
                                        item_path,
                                        format!("model `{}` is already listed", model.id),
                                    );
                                } else {
                                    models.push(model);
                                }
                            }
                            other => self.unmapped(
                                item_path,
                                format!("expected an object, found {}", json_kind(other)),
                            ),
                        }
                    }
                }
                other => self.unmapped(
                    &field.path,
                    format!("expected a list of models, found {}", json_kind(other)),
                ),
            }
        }
        self.leftovers(&obj, Context::Provider);

        let mut lines = Vec::new();
        if id != original {
            lines.push(format!(
                "provider `{original}` is `{id}` in Hearth (ids are lower-case letters, digits, \
                 `-` and `_`)"
            ));
        }
        let listed = if models.is_empty() {
            "no models listed (Hearth asks the backend)".to_owned()
        } else {
            let ids: Vec<&str> = models.iter().map(|m: &ModelFile| m.id.as_str()).collect();
            format!("models {}", ids.join(", "))
        };
        lines.push(format!(
            "provider `{id}`: {} at {base_url}, {listed}",
            api.as_str()
        ));
        self.mapped.splice(first_line..first_line, lines);
        self.provider_ids.insert(original.to_owned(), id.clone());
        self.config.providers.insert(
            id,
            ProviderFile {
                api,
                base_url: base_url.to_owned(),
                api_key,
                models,
                any_model: false,
            },
        );
    }

    /// The provider's key as a secret reference; an inline key moves to `secrets`.
    fn provider_key(
        &mut self,
        id: &str,
        key_field: Option<Field<'_>>,
        auth_field: Option<Field<'_>>,
    ) -> Option<String> {
        // OpenClaw's `auth` is usually a mode (`api-key`, `oauth`, ...), in some dialects the
        // key itself.
        const AUTH_MODES: [&str; 5] = ["api-key", "oauth", "token", "aws-sdk", "none"];
        let mut field = key_field;
        if let Some(auth) = auth_field {
            match (auth.value.as_str(), &field) {
                (Some(mode), _) if AUTH_MODES.contains(&mode) => self.unmapped(
                    &auth.path,
                    format!(
                        "OpenClaw's auth mode `{mode}`; Hearth sends the provider's `apiKey`, if \
                         any, as a bearer token"
                    ),
                ),
                (Some(_), None) => field = Some(auth),
                (_, Some(used)) => self.unmapped(
                    &auth.path,
                    format!("a second credential; the import used `{}`", used.key),
                ),
                (None, None) => self.unmapped(
                    &auth.path,
                    "a structured credential Hearth cannot read; store the key with `hearth \
                     secret set` and write `keychain:NAME` in `apiKey`",
                ),
            }
        }
        let field = field?;
        let text = match field.value {
            Value::String(text) => text.trim(),
            Value::Object(map) => {
                // OpenClaw's secret-reference object: `{ source: "env", id: "NAME" }`.
                let env = map.get("source").and_then(Value::as_str) == Some("env");
                let reference = map
                    .get("id")
                    .and_then(Value::as_str)
                    .and_then(|name| format!("env:{name}").parse::<SecretRef>().ok());
                return match reference {
                    Some(reference) if env => {
                        self.mapped(format!("provider `{id}`: API key read from `{reference}`"));
                        Some(reference.to_string())
                    }
                    _ => {
                        self.unmapped(
                            &field.path,
                            "a secret reference Hearth cannot read; store the key with `hearth \
                             secret set` and write `keychain:NAME` in `apiKey`",
                        );
                        None
                    }
                };
            }
            other => {
                self.unmapped(
                    &field.path,
                    format!("expected a string, found {}", json_kind(other)),
                );
                return None;
            }
        };
        if text.is_empty() {
            self.unmapped(&field.path, "empty; the provider gets no key");
            return None;
        }
        if text.starts_with("keychain:") || text.starts_with("env:") {
            return match text.parse::<SecretRef>() {
                Ok(reference) => {
                    self.mapped(format!("provider `{id}`: API key stays `{reference}`"));
                    Some(reference.to_string())
                }
                Err(_) => {
                    self.unmapped(
                        &field.path,
                        "looks like a secret reference but is not a valid one; write \
                         `keychain:NAME` or `env:NAME` by hand",
                    );
                    None
                }
            };
        }
        if let Some(name) = text.strip_prefix("${").and_then(|t| t.strip_suffix('}'))
            && let Ok(reference) = format!("env:{name}").parse::<SecretRef>()
        {
            self.mapped(format!(
                "provider `{id}`: API key `${{{name}}}` is read from `{reference}`"
            ));
            return Some(reference.to_string());
        }
        if text.contains("${") {
            self.unmapped(
                &field.path,
                "mixes text with environment variables; store the whole key with `hearth secret \
                 set` and write `keychain:NAME` in `apiKey`",
            );
            return None;
        }
        let name = format!("provider.{id}.apiKey");
        self.secrets
            .push((name.clone(), Secret::new(text.to_owned())));
        self.mapped(format!(
            "provider `{id}`: inline API key goes to the secret store as `keychain:{name}`"
        ));
        Some(format!("keychain:{name}"))
    }

    fn model(&mut self, mut obj: Obj<'_>, provider_api: Api) -> Option<ModelFile> {
        let Some(id_field) = obj.take(&["id", "identifier", "model"]) else {
            self.unmapped(&obj.path, "model left out: it has no `id`");
            return None;
        };
        let id = self.string(&id_field)?.to_owned();
        let mut model = ModelFile {
            id,
            name: None,
            context_window: None,
            max_tokens: None,
            input: None,
            reasoning: None,
            size_bytes: None,
        };
        if let Some(field) = obj.take(&["name", "label", "display_name", "displayName"]) {
            model.name = self.string(&field).map(str::to_owned);
        }
        if let Some(field) = obj.take(&[
            "contextWindow",
            "context_window",
            "context_limit",
            "contextLimit",
            "context_length",
        ]) {
            model.context_window = self.whole_number(&field);
        }
        let max_tokens = obj.take(&[
            "maxTokens",
            "max_tokens",
            "max_output_tokens",
            "maxOutputTokens",
            "max_output",
        ]);
        if let Some(field) = &max_tokens {
            model.max_tokens = self.whole_number(field);
        }
        if let Some(field) = obj.take(&["input", "modalities", "capabilities"]) {
            let input = self.modalities(&field);
            model.input = (!input.is_empty()).then_some(input);
        }
        if let Some(field) = obj.take(&["reasoning", "reasoning_capable", "reasoningCapable"]) {
            model.reasoning = self.boolean(&field);
        }
        if let Some(field) = obj.take(&["api", "protocol", "type"])
            && let Some(text) = self.string(&field)
            && api_from(text) != Some(provider_api)
        {
            self.unmapped(
                &field.path,
                format!(
                    "the model's own protocol `{text}` differs from its provider's \
                     `{}`; Hearth sets the protocol per provider",
                    provider_api.as_str()
                ),
            );
        }
        if let (Some(window), Some(max), Some(field)) =
            (model.context_window, model.max_tokens, &max_tokens)
            && max > window
        {
            model.max_tokens = None;
            self.unmapped(
                &field.path,
                format!("the output budget ({max}) is larger than the context window ({window})"),
            );
        }
        self.leftovers(&obj, Context::Model);
        Some(model)
    }

    fn modalities(&mut self, field: &Field<'_>) -> Vec<Modality> {
        let mut out = Vec::new();
        let Value::Array(items) = field.value else {
            self.unmapped(&field.path, "expected a list such as [\"text\", \"image\"]");
            return out;
        };
        for (index, item) in items.iter().enumerate() {
            let modality = match item.as_str().map(str::to_ascii_lowercase).as_deref() {
                Some("text") => Some(Modality::Text),
                Some("image" | "vision") => Some(Modality::Image),
                Some("audio") => Some(Modality::Audio),
                _ => None,
            };
            match modality {
                Some(modality) if !out.contains(&modality) => out.push(modality),
                Some(_) => {}
                None => self.unmapped(
                    field.path.index(index),
                    "not an input modality Hearth knows (text, image, audio)",
                ),
            }
        }
        out
    }

    // Model selection.

    /// A `provider/model-id` reference with Hearth's provider id, or an alias.
    fn model_ref(&self, text: &str, allow_alias: bool) -> Result<String, String> {
        let text = text.trim();
        if let Some((provider, model)) = text.split_once('/') {
            if model.is_empty() {
                return Err(format!("`{text}` names no model after the provider"));
            }
            return match self.provider_ids.get(provider) {
                Some(id) => {
                    let models = self.config.providers.get(id).map(|p| &p.models[..]);
                    match models {
                        Some(models)
                            if !models.is_empty() && !models.iter().any(|m| m.id == model) =>
                        {
                            Err(format!(
                                "`{text}` names a model that provider `{provider}` does not list"
                            ))
                        }
                        _ => Ok(format!("{id}/{model}")),
                    }
                }
                None => Err(format!(
                    "`{text}` names provider `{provider}`, which this file does not define or \
                     which was not imported"
                )),
            };
        }
        if allow_alias
            && let Some(alias) =
                (self.config.models.aliases.keys()).find(|alias| alias.eq_ignore_ascii_case(text))
        {
            return Ok(alias.clone());
        }
        Err(format!(
            "`{text}` is neither `provider/model-id` nor a known alias"
        ))
    }

    fn registry(&mut self, field: &Field<'_>) {
        let Some(registry) = self.object(field) else {
            return;
        };
        for (key, value) in registry.map {
            let path = registry.path.key(key);
            let target = match self.model_ref(key, false) {
                Ok(target) => target,
                Err(why) => {
                    self.unmapped(&path, why);
                    continue;
                }
            };
            let Value::Object(map) = value else {
                self.unmapped(
                    &path,
                    format!("expected an object, found {}", json_kind(value)),
                );
                continue;
            };
            let mut entry = Obj::new(map, path.clone());
            let alias = entry.take(&["alias", "short_name", "shortName", "tag"]);
            let params = entry.take(&["params", "execution_params", "parameters"]);
            if alias.is_none() && params.is_none() && map.is_empty() {
                self.unmapped(
                    &path,
                    "lists the model with no alias or parameters; Hearth offers every model its \
                     providers list",
                );
            }
            if let Some(field) = alias
                && let Some(alias) = self.string(&field)
            {
                self.alias(&field.path, alias, &target);
            }
            if let Some(field) = params
                && let Some(mut obj) = self.object(&field)
            {
                let params = self.params(&mut obj);
                self.leftovers(&obj, Context::Params);
                if params != ModelParams::default() {
                    if self.config.models.params.contains_key(&target) {
                        self.unmapped(
                            &field.path,
                            format!("parameters for `{target}` are already set"),
                        );
                    } else {
                        let shown = serde_json::to_string(&params).unwrap_or_default();
                        self.mapped(format!("params for `{target}`: {shown}"));
                        self.config.models.params.insert(target.clone(), params);
                    }
                }
            }
            self.leftovers(&entry, Context::RegistryEntry);
        }
    }

    fn alias(&mut self, path: &JsonPath, alias: &str, target: &str) {
        let alias = alias.trim();
        if alias.is_empty() || alias.contains('/') {
            self.unmapped(path, "an alias is a short name without `/`");
            return;
        }
        let existing = (self.config.models.aliases.iter())
            .find(|(name, _)| name.eq_ignore_ascii_case(alias))
            .map(|(_, existing)| existing.clone());
        // An alias spelled like the id of another model would be ambiguous.
        let other_model = self.config.providers.iter().find_map(|(id, provider)| {
            (provider.models.iter())
                .map(|model| (model, format!("{id}/{}", model.id)))
                .find(|(model, reference)| {
                    model.id.eq_ignore_ascii_case(alias) && reference != target
                })
                .map(|(_, reference)| reference)
        });
        match (existing, other_model) {
            (Some(existing), _) if existing != target => {
                self.unmapped(path, format!("alias `{alias}` already names `{existing}`"))
            }
            (Some(_), _) => {}
            (None, Some(other)) => self.unmapped(
                path,
                format!("alias `{alias}` would be ambiguous: it is also the id of `{other}`"),
            ),
            (None, None) => {
                self.mapped(format!("alias `{alias}` → `{target}`"));
                self.config
                    .models
                    .aliases
                    .insert(alias.to_owned(), target.to_owned());
            }
        }
    }

    fn params(&mut self, obj: &mut Obj<'_>) -> ModelParams {
        let mut params = ModelParams::default();
        if let Some(field) = obj.take(&[
            "think",
            "thinking",
            "enable_thinking",
            "enableThinking",
            "chain_of_thought",
            "chainOfThought",
            "cot",
        ]) {
            params.think = self.boolean(&field);
        }
        if let Some(field) = obj.take(&["temperature"]) {
            params.temperature = self.float(&field);
        }
        if let Some(field) = obj.take(&["top_p", "topP"]) {
            params.top_p = self.float(&field);
        }
        if let Some(field) = obj.take(&["top_k", "topK"]) {
            params.top_k = field.value.as_u64().and_then(|k| u32::try_from(k).ok());
            if params.top_k.is_none() {
                self.unmapped(&field.path, "expected a whole number");
            }
        }
        if let Some(field) = obj.take(&["seed"]) {
            params.seed = field.value.as_i64();
            if params.seed.is_none() {
                self.unmapped(&field.path, "expected a whole number");
            }
        }
        if let Some(field) = obj.take(&["keep_alive", "keepAlive"]) {
            params.keep_alive = match field.value {
                Value::String(text) => text.parse::<DurationSpec>().ok(),
                Value::Number(number) => number
                    .as_u64()
                    .filter(|secs| *secs > 0)
                    .map(DurationSpec::from_secs),
                _ => None,
            };
            if params.keep_alive.is_none() {
                self.unmapped(
                    &field.path,
                    "Hearth's keepAlive is a positive duration such as `24h`",
                );
            }
        }
        params
    }

    fn float(&mut self, field: &Field<'_>) -> Option<f64> {
        let number = field.value.as_f64();
        if number.is_none() {
            self.unmapped(&field.path, "expected a number");
        }
        number
    }

    /// `model: "ref"`, `model: { primary, fallbacks }`, `active_model` or `primary_model`.
    fn primary(&mut self, field: &Field<'_>) {
        match field.value {
            Value::Object(map) => {
                let mut obj = Obj::new(map, field.path.clone());
                if let Some(primary) = obj.take(&["primary"]) {
                    self.primary(&primary);
                }
                if let Some(fallbacks) = obj.take(&["fallbacks"]) {
                    self.config.models.fallbacks = self.fallbacks(&fallbacks);
                }
                self.leftovers(&obj, Context::Defaults);
            }
            _ => {
                let Some(text) = self.string(field) else {
                    return;
                };
                match self.model_ref(text, true) {
                    Ok(reference) => {
                        self.mapped(format!("primary model `{reference}`"));
                        self.config.models.primary = Some(reference);
                    }
                    Err(why) => self.unmapped(&field.path, why),
                }
            }
        }
    }

    fn fallbacks(&mut self, field: &Field<'_>) -> Vec<String> {
        let mut out = Vec::new();
        let Value::Array(items) = field.value else {
            self.unmapped(&field.path, "expected a list of model references");
            return out;
        };
        for (index, item) in items.iter().enumerate() {
            let path = field.path.index(index);
            let Some(text) = item.as_str() else {
                self.unmapped(path, "expected a model reference");
                continue;
            };
            match self.model_ref(text, true) {
                Ok(reference) => {
                    self.mapped(format!("fallback model `{reference}`"));
                    out.push(reference);
                }
                Err(why) => self.unmapped(path, why),
            }
        }
        out
    }

    // Agents.

    /// `agents.list` or `instances`: an array of agents or a map keyed by agent id.
    fn agent_list(&mut self, field: &Field<'_>) {
        match field.value {
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    let path = field.path.index(index);
                    match item {
                        Value::Object(map) => self.agent(Obj::new(map, path), None),
                        other => self.unmapped(
                            path,
                            format!("expected an object, found {}", json_kind(other)),
                        ),
                    }
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    let path = field.path.key(key);
                    match item {
                        Value::Object(inner) => self.agent(Obj::new(inner, path), Some(key)),
                        other => self.unmapped(
                            path,
                            format!("expected an object, found {}", json_kind(other)),
                        ),
                    }
                }
            }
            other => self.unmapped(
                &field.path,
                format!("expected a list of agents, found {}", json_kind(other)),
            ),
        }
    }

    fn agent(&mut self, mut obj: Obj<'_>, key: Option<&str>) {
        let path = obj.path.clone();
        let id_field = obj.take(&["id", "instance_id", "instanceId", "agentId", "agent_id"]);
        let original = match (key, &id_field) {
            (Some(key), Some(field)) => {
                if field.value.as_str() != Some(key) {
                    self.unmapped(
                        &field.path,
                        format!("differs from the agent's key `{key}`; the import used the key"),
                    );
                }
                key
            }
            (Some(key), None) => key,
            (None, Some(field)) => match self.string(field) {
                Some(id) => id,
                None => return,
            },
            (None, None) => {
                self.unmapped(&path, "agent left out: it has no `id`");
                return;
            }
        };
        let Some(id) = hearth_id(original) else {
            self.unmapped(&path, "agent left out: its id has no letters or digits");
            return;
        };
        if self.config.agents.iter().any(|agent| agent.id == id) {
            self.unmapped(
                &path,
                format!("agent left out: another agent is already imported as `{id}`"),
            );
            return;
        }
        let mut agent = AgentFile {
            id: id.clone(),
            name: None,
            workspace: None,
            model: None,
            fallbacks: None,
            models: None,
            tools: ToolsFile::default(),
        };
        if let Some(field) = obj.take(&["name", "label", "display_name", "displayName"]) {
            agent.name = self.string(&field).map(str::to_owned);
        }
        if let Some(field) = obj.take(&["workspace"])
            && let Some(workspace) = self.workspace(&field)
        {
            agent.workspace = Some(workspace);
        }
        if let Some(field) = obj.take(&["model", "active_model", "primary_model"]) {
            self.agent_model(&mut agent, &field);
        }
        if let Some(field) = obj.take(&["tools", "tool_policy", "permissions"])
            && let Some(tools) = self.tool_policy(&field)
        {
            agent.tools = tools;
            self.agents_with_tools.insert(id.clone());
        }
        if let Some(field) = obj.take(&["default"])
            && self.boolean(&field) == Some(true)
        {
            if self.flagged_default.is_none() {
                self.flagged_default = Some(id.clone());
            } else {
                self.unmapped(
                    &field.path,
                    "another agent is already marked as the default",
                );
            }
        }
        self.leftovers(&obj, Context::Agent);

        if id != original {
            self.mapped(format!(
                "agent `{original}` is `{id}` in Hearth (ids are lower-case letters, digits, `-` \
                 and `_`)"
            ));
        }
        let mut line = format!("agent `{id}`");
        if let Some(name) = &agent.name {
            line.push_str(&format!(" ({name})"));
        }
        if let Some(workspace) = &agent.workspace {
            line.push_str(&format!(", workspace {workspace}"));
        }
        if let Some(model) = &agent.model {
            line.push_str(&format!(", model `{model}`"));
        }
        if self.agents_with_tools.contains(&id) {
            line.push_str(&format!(", tools: {}", describe_tools(&agent.tools)));
        }
        self.mapped(line);
        self.agent_ids.insert(original.to_owned(), id);
        self.config.agents.push(agent);
    }

    fn agent_model(&mut self, agent: &mut AgentFile, field: &Field<'_>) {
        let (primary, fallbacks) = match field.value {
            Value::Object(map) => {
                let mut obj = Obj::new(map, field.path.clone());
                let primary = obj.take(&["primary"]);
                let fallbacks = obj.take(&["fallbacks"]);
                self.leftovers(&obj, Context::Agent);
                (primary, fallbacks)
            }
            _ => (Some(field.clone()), None),
        };
        if let Some(primary) = primary
            && let Some(text) = self.string(&primary)
        {
            match self.model_ref(text, true) {
                Ok(reference) => agent.model = Some(reference),
                Err(why) => self.unmapped(
                    &primary.path,
                    format!("{why}; the agent uses the global primary"),
                ),
            }
        }
        if let Some(fallbacks) = fallbacks {
            agent.fallbacks = Some(self.fallbacks(&fallbacks));
        }
    }

    /// `tools`, `tool_policy` or `permissions`: a profile word, or an object with profile,
    /// allow and deny under any of their spellings. A policy that cannot be read fails closed:
    /// the agent gets the `minimal` profile rather than every tool. `None` when it says nothing
    /// about which tools (only runtime settings, say).
    fn tool_policy(&mut self, field: &Field<'_>) -> Option<ToolsFile> {
        let closed = ToolsFile {
            profile: Some(Profile::Minimal),
            ..ToolsFile::default()
        };
        match field.value {
            Value::String(text) => Some(ToolsFile {
                profile: Some(self.profile(&field.path, text)),
                ..ToolsFile::default()
            }),
            Value::Object(map) => {
                let mut obj = Obj::new(map, field.path.clone());
                let tools = self.tools_object(&mut obj);
                self.leftovers(&obj, Context::Tools);
                tools
            }
            other => {
                self.unmapped(
                    &field.path,
                    format!(
                        "expected a profile or an object, found {}; the agent gets the `minimal` \
                         profile so that it gains no tools",
                        json_kind(other)
                    ),
                );
                Some(closed)
            }
        }
    }

    /// A profile word; an unknown one fails closed to `minimal`.
    fn profile(&mut self, path: &JsonPath, text: &str) -> Profile {
        profile_from(text).unwrap_or_else(|| {
            self.unmapped(
                path,
                format!(
                    "unknown tool profile `{text}` (Hearth has minimal, messaging, coding and \
                     full); the agent gets `minimal` so that it gains no tools"
                ),
            );
            Profile::Minimal
        })
    }

    /// Profile, allow and deny from a tools object; `None` when it has none of them.
    fn tools_object(&mut self, obj: &mut Obj<'_>) -> Option<ToolsFile> {
        let profile = obj.take(&["profile", "access", "level"]);
        let allow = obj.take(&["allow", "allowed", "allowed_tools", "allowedTools"]);
        let deny = obj.take(&["deny", "blocked", "blocked_tools", "blockedTools", "denied"]);
        if profile.is_none() && allow.is_none() && deny.is_none() {
            return None;
        }
        let mut tools = ToolsFile::default();
        if let Some(field) = profile {
            tools.profile = Some(match field.value {
                Value::String(text) => self.profile(&field.path, text),
                other => {
                    self.unmapped(
                        &field.path,
                        format!(
                            "expected a profile, found {}; the agent gets `minimal` so that it \
                             gains no tools",
                            json_kind(other)
                        ),
                    );
                    Profile::Minimal
                }
            });
        }
        if let Some(field) = allow {
            let names = self.strings(&field);
            tools.allow = names
                .into_iter()
                .filter(|name| {
                    let everything = is_all_openclaw_tools(name);
                    if everything {
                        self.unmapped(
                            &field.path,
                            format!(
                                "`{name}` (every OpenClaw tool) has no Hearth group; left out of \
                                 the allow-list, which is narrower, never wider"
                            ),
                        );
                    }
                    !everything
                })
                .collect();
        }
        if let Some(field) = deny {
            let names = self.strings(&field);
            let mut deny = Vec::new();
            for name in names {
                if is_all_openclaw_tools(&name) {
                    // Denying every known group is at least as strict as OpenClaw's meaning.
                    deny.extend(
                        crate::policy::known_groups()
                            .iter()
                            .map(|g| g.name.to_owned()),
                    );
                    self.mapped(format!(
                        "`{name}` in deny: every OpenClaw tool, so every Hearth tool group"
                    ));
                } else {
                    deny.push(name);
                }
            }
            tools.deny = deny;
        }
        Some(tools)
    }

    /// The top-level `tools` policy applies to the agents that have none of their own.
    fn global_tools(&mut self, obj: &mut Obj<'_>) {
        let path = obj.path.clone();
        let Some(tools) = self.tools_object(obj) else {
            return;
        };
        let without: Vec<String> = self
            .config
            .agents
            .iter()
            .filter(|agent| !self.agents_with_tools.contains(&agent.id))
            .map(|agent| agent.id.clone())
            .collect();
        if without.is_empty() {
            self.unmapped(
                &path,
                "the global tool policy has no agent to apply to: every agent has its own (Hearth \
                 has no global tool policy)",
            );
            return;
        }
        for agent in &mut self.config.agents {
            if without.contains(&agent.id) {
                agent.tools = tools.clone();
            }
        }
        self.mapped(format!(
            "global tool policy ({}) applied to the agents without their own: {}",
            describe_tools(&tools),
            without.join(", ")
        ));
    }

    fn apply_default_workspace(&mut self, default: Option<DefaultWorkspace>) {
        let Some(mut default) = default else {
            return;
        };
        for agent in &mut self.config.agents {
            if agent.workspace.is_none() {
                agent.workspace = Some(default.value.clone());
                default.used = true;
                self.mapped.push(format!(
                    "agent `{}`: workspace {} from `{}`",
                    agent.id, default.value, default.path
                ));
            }
        }
        if !default.used {
            self.unmapped(
                &default.path,
                "every agent names its own workspace, so this default applies to none; Hearth \
                 has no global workspace (an agent without one uses `<data dir>/agents/<id>`)",
            );
        }
    }

    fn default_agent(&mut self) {
        if let Some(id) = self.flagged_default.clone() {
            self.mapped(format!("default agent `{id}` (marked `default`)"));
            self.config.default_agent = Some(id);
        } else if let [only] = self.config.agents.as_slice() {
            let id = only.id.clone();
            self.mapped(format!("default agent `{id}` (the only agent)"));
            self.config.default_agent = Some(id);
        }
    }

    // Bindings.

    fn bindings(&mut self, field: &Field<'_>) {
        let Value::Array(items) = field.value else {
            self.unmapped(
                &field.path,
                format!(
                    "expected a list of bindings, found {}",
                    json_kind(field.value)
                ),
            );
            return;
        };
        for (index, item) in items.iter().enumerate() {
            let path = field.path.index(index);
            match item {
                Value::Object(map) => self.binding(Obj::new(map, path)),
                other => self.unmapped(
                    path,
                    format!("expected an object, found {}", json_kind(other)),
                ),
            }
        }
    }

    /// OpenClaw knows each message's channel and peer itself; Hearth believes them only from a
    /// trusted client. The OpenClaw gateway becomes that client: `openclaw`, trusted, with a
    /// token of its own in the secret store (created by the CLI when it writes the config).
    fn trust_note(&mut self, _path: &JsonPath) {
        let asserts = self.config.bindings.iter().any(|binding| {
            let m = &binding.matcher;
            m.channel.is_some() || m.account_id.is_some() || m.peer.is_some()
        });
        if asserts && !self.config.clients.iter().any(|client| client.trusted) {
            self.config.clients.push(ClientFile {
                name: OPENCLAW_CLIENT.to_owned(),
                token: format!("keychain:hearth.client.{OPENCLAW_CLIENT}"),
                trusted: true,
            });
            self.mapped(format!(
                "client `{OPENCLAW_CLIENT}` (trusted): the OpenClaw gateway calls Hearth with its token \
                 (`hearth token show --client {OPENCLAW_CLIENT}`) and reports each message's channel \
                 and peer in `x-hearth-channel`, `x-hearth-peer-kind` and `x-hearth-peer-id`, which the \
                 bindings match on"
            ));
        }
    }

    /// One binding. A binding whose match cannot be expressed in full is left out: importing
    /// it without a criterion would send more traffic to its agent than the source meant.
    fn binding(&mut self, mut obj: Obj<'_>) {
        let path = obj.path.clone();
        let agent_field = obj.take(&[
            "agentId",
            "agent",
            "agent_id",
            "target_instance",
            "instance",
            "target",
        ]);
        let Some(agent_field) = agent_field else {
            self.unmapped(&path, "binding left out: it names no agent");
            return;
        };
        let Some(original) = agent_field.value.as_str() else {
            self.unmapped(&agent_field.path, "expected an agent id");
            return;
        };
        if let Some(field) = obj.take(&["type"])
            && field.value.as_str() != Some("route")
        {
            self.unmapped(
                &path,
                "binding left out: only routing bindings (`type: \"route\"`) have a Hearth equivalent",
            );
            return;
        }
        let matcher = match obj.take(&["match", "match_criteria", "when"]) {
            None => Ok(MatchFile::default()),
            Some(field) => match field.value {
                Value::Object(map) => parse_match(Obj::new(map, field.path.clone())),
                other => Err(format!("its match is {}, not an object", json_kind(other))),
            },
        };
        let matcher = match matcher {
            Ok(matcher) => matcher,
            Err(why) => {
                self.unmapped(&path, format!("binding left out: {why}"));
                return;
            }
        };
        let agent =
            self.agent_ids.get(original).cloned().or_else(|| {
                hearth_id(original).filter(|id| self.agent_ids.values().any(|a| a == id))
            });
        let Some(agent) = agent else {
            self.unmapped(
                &path,
                format!("binding left out: it sends to agent `{original}`, which was not imported"),
            );
            return;
        };
        self.leftovers(&obj, Context::Binding);
        self.mapped(format!(
            "binding {path}: {} → agent `{agent}`",
            describe_match(&matcher)
        ));
        self.config.bindings.push(BindingFile { agent, matcher });
    }
}

/// A binding's match, or why it cannot be expressed in full.
fn parse_match(mut obj: Obj<'_>) -> Result<MatchFile, String> {
    fn text<'a>(field: &Field<'a>) -> Result<&'a str, String> {
        field
            .value
            .as_str()
            .ok_or_else(|| format!("`{}` is not a string", field.key))
    }
    let mut out = MatchFile::default();
    if let Some(field) = obj.take(&["channel"]) {
        out.channel = Some(text(&field)?.to_owned());
    }
    if let Some(field) = obj.take(&["accountId", "account_id", "account"]) {
        out.account_id = Some(text(&field)?.to_owned());
    }
    if let Some(field) = obj.take(&["client"]) {
        out.client = Some(text(&field)?.to_owned());
    }
    let mut kind = None;
    let mut id = None;
    if let Some(field) = obj.take(&["peer"]) {
        match field.value {
            Value::String(peer) => id = Some(peer.clone()),
            Value::Object(map) => {
                let mut peer = Obj::new(map, field.path.clone());
                if let Some(field) = peer.take(&["kind", "type"]) {
                    kind = Some(text(&field)?.to_owned());
                }
                if let Some(field) = peer.take(&["id", "identifier"]) {
                    id = Some(text(&field)?.to_owned());
                }
                if let Some(extra) = peer.shadowed.first().map(|(f, _)| f.key) {
                    return Err(format!("its peer gives `{extra}` twice under two names"));
                }
                if let Some(extra) = peer.rest().next() {
                    return Err(format!(
                        "it matches on peer `{}`, which Hearth cannot express",
                        extra.key
                    ));
                }
            }
            other => return Err(format!("its peer is {}", json_kind(other))),
        }
    }
    if let Some(field) = obj.take(&["peer_type", "peerType", "peer_kind", "peerKind"]) {
        let value = text(&field)?;
        if kind.as_deref().is_some_and(|k| k != value) {
            return Err("it gives two different peer kinds".to_owned());
        }
        kind = Some(value.to_owned());
    }
    if let Some(field) = obj.take(&["peer_identifier", "peerIdentifier", "peer_id", "peerId"]) {
        let value = text(&field)?;
        if id.as_deref().is_some_and(|i| i != value) {
            return Err("it gives two different peer ids".to_owned());
        }
        id = Some(value.to_owned());
    }
    if let Some((field, used)) = obj.shadowed.first() {
        return Err(format!("it gives `{used}` twice (also as `{}`)", field.key));
    }
    let unknown: Vec<&str> = obj.rest().map(|field| field.key).collect();
    if !unknown.is_empty() {
        return Err(format!(
            "it matches on `{}`, which Hearth cannot express; importing the rest would widen the \
             rule",
            unknown.join("`, `")
        ));
    }
    let kind = match kind {
        Some(kind) => Some(
            peer_kind_from(&kind)
                .ok_or_else(|| {
                    format!("peer kind `{kind}` has no Hearth equivalent (Hearth has dm and group)")
                })?
                .to_owned(),
        ),
        None => None,
    };
    if id.as_deref().is_some_and(is_placeholder) {
        return Err(
            "its peer id is a placeholder; fill in the real id and import again".to_owned(),
        );
    }
    if kind.is_some() || id.is_some() {
        out.peer = Some(PeerFile { kind, id });
    }
    Ok(out)
}

fn describe_match(matcher: &MatchFile) -> String {
    let mut parts = Vec::new();
    if let Some(client) = &matcher.client {
        parts.push(format!("client {client}"));
    }
    if let Some(channel) = &matcher.channel {
        parts.push(format!("channel {channel}"));
    }
    if let Some(account) = &matcher.account_id {
        parts.push(format!("account {account}"));
    }
    if let Some(peer) = &matcher.peer {
        let mut text = "peer".to_owned();
        if let Some(kind) = &peer.kind {
            text.push_str(&format!(" {kind}"));
        }
        if let Some(id) = &peer.id {
            text.push_str(&format!(" {id}"));
        }
        parts.push(text);
    }
    if parts.is_empty() {
        "everything".to_owned()
    } else {
        parts.join(", ")
    }
}

fn describe_tools(tools: &ToolsFile) -> String {
    let mut parts = Vec::new();
    if let Some(profile) = tools.profile {
        parts.push(format!("profile {}", profile.as_str()));
    }
    if !tools.allow.is_empty() {
        let only = if tools.profile.is_none() { " only" } else { "" };
        parts.push(format!("allow{only} {}", tools.allow.join(", ")));
    }
    if !tools.deny.is_empty() {
        parts.push(format!("deny {}", tools.deny.join(", ")));
    }
    if parts.is_empty() {
        "every tool".to_owned()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use expect_test::{Expect, expect};

    use super::*;

    /// The parts of the config an import fills in (compact JSON), the secrets' names, then
    /// `+` mapped and `-` unmapped lines.
    fn check(input: &str, expected: Expect) {
        let mut out = String::new();
        match import_openclaw(input) {
            Ok(imported) => {
                let config = &imported.config;
                for (id, provider) in &config.providers {
                    let json = serde_json::to_string(provider).unwrap();
                    writeln!(out, "providers.{id} {json}").unwrap();
                }
                if config.models != ModelsFileDefault::default() {
                    let json = serde_json::to_string(&config.models).unwrap();
                    writeln!(out, "models {json}").unwrap();
                }
                for agent in &config.agents {
                    writeln!(out, "agent {}", serde_json::to_string(agent).unwrap()).unwrap();
                }
                if let Some(id) = &config.default_agent {
                    writeln!(out, "defaultAgent {id}").unwrap();
                }
                for binding in &config.bindings {
                    writeln!(out, "binding {}", serde_json::to_string(binding).unwrap()).unwrap();
                }
                for (name, secret) in &imported.secrets {
                    writeln!(out, "secret {name} = {secret}").unwrap();
                }
                for line in &imported.mapped {
                    writeln!(out, "+ {line}").unwrap();
                }
                for unmapped in &imported.unmapped {
                    writeln!(out, "- {unmapped}").unwrap();
                }
            }
            Err(error) => {
                writeln!(out, "error: {error}").unwrap();
                if let ImportError::NothingToImport { unmapped } = error {
                    for unmapped in &unmapped {
                        writeln!(out, "- {unmapped}").unwrap();
                    }
                }
            }
        }
        expected.assert_eq(&out);
    }

    type ModelsFileDefault = crate::config::file::ModelsFile;

    #[test]
    fn a_document_that_is_not_an_object_is_refused() {
        check(
            "[1, 2]",
            expect![[r#"
            error: an OpenClaw configuration is a JSON object, but this file holds an array
        "#]],
        );
        check(
            "'just a string'",
            expect![[r#"
            error: an OpenClaw configuration is a JSON object, but this file holds a string
        "#]],
        );
        check(
            "null",
            expect![[r#"
            error: an OpenClaw configuration is a JSON object, but this file holds null
        "#]],
        );
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        check(
            "{\n  models: {\n    providers: {,}\n  }\n}",
            expect![[r#"
            error: the file is not valid JSON5 at line 3, column 17: expected identifier
        "#]],
        );
        check(
            "{ a: 1",
            expect![[r#"
            error: the file is not valid JSON5 at line 1, column 1: EOF parsing object
        "#]],
        );
    }

    #[test]
    fn a_file_with_nothing_importable_says_what_it_had() {
        check(
            "{}",
            expect![[r#"
            error: nothing in this file could be imported: it has no providers, models, agents or bindings that Hearth understands
        "#]],
        );
        check(
            "{ channels: { telegram: { botToken: 'tg-secret-1' } }, gateway: { port: 1 } }",
            expect![[r#"
                error: nothing in this file could be imported: it has no providers, models, agents or bindings that Hearth understands
                - gateway.port: OpenClaw's own listener; Hearth's gateway has its own address (`gateway.bind`, `gateway.port`, 127.0.0.1:11500 by default)
                - channels: channel connections (accounts, allow-lists, DM policy) stay with OpenClaw; Hearth routes on the channel and peer that a trusted client reports
            "#]],
        );
    }

    #[test]
    fn agents_may_be_a_map_keyed_by_id() {
        check(
            r#"{
              agents: {
                list: {
                  Owner: { name: "Owner", workspace: "/w/owner", tools: { profile: "coding" } },
                  "help desk": { id: "helpdesk", tools: { deny: ["exec"] }, heartbeat: { every: "1h" } },
                },
              },
              bindings: [
                { agentId: "help desk", match: { channel: "telegram" } },
                { agentId: "Owner", match: { channel: "telegram", peer: { kind: "direct", id: "42" } } },
              ],
            }"#,
            expect![[r#"
                agent {"id":"owner","name":"Owner","workspace":"/w/owner","tools":{"profile":"coding"}}
                agent {"id":"help-desk","tools":{"deny":["exec"]}}
                binding {"agent":"help-desk","match":{"channel":"telegram"}}
                binding {"agent":"owner","match":{"channel":"telegram","peer":{"kind":"dm","id":"42"}}}
                + agent `Owner` is `owner` in Hearth (ids are lower-case letters, digits, `-` and `_`)
                + agent `owner` (Owner), workspace /w/owner, tools: profile coding
                + agent `help desk` is `help-desk` in Hearth (ids are lower-case letters, digits, `-` and `_`)
                + agent `help-desk`, tools: deny exec
                + binding bindings[0]: channel telegram → agent `help-desk`
                + binding bindings[1]: channel telegram, peer dm 42 → agent `owner`
                + client `openclaw` (trusted): the OpenClaw gateway calls Hearth with its token (`hearth token show --client openclaw`) and reports each message's channel and peer in `x-hearth-channel`, `x-hearth-peer-kind` and `x-hearth-peer-id`, which the bindings match on
                - agents.list["help desk"].id: differs from the agent's key `help desk`; the import used the key
                - agents.list["help desk"].heartbeat: agent setting with no Hearth equivalent
            "#]],
        );
    }

    #[test]
    fn api_keys_become_secret_references() {
        check(
            r#"{ models: { providers: {
              a: { api: "openai-responses", baseUrl: "http://a/v1", apiKey: "${OPENAI_API_KEY}" },
              b: { api: "anthropic", baseUrl: "http://b", apiKey: "env:ANTHROPIC_KEY" },
              c: { api: "openai", baseUrl: "http://c/v1", apiKey: "keychain:my.key" },
              d: { api: "openai", baseUrl: "http://d/v1", apiKey: { source: "env", provider: "default", id: "D_KEY" } },
              e: { api: "openai", baseUrl: "http://e/v1", apiKey: "sk-${PART}-tail" },
              f: { api: "openai", baseUrl: "http://f/v1", auth: "api-key", apiKey: "sk-inline-f" },
              "G Box": { api: "openai", baseUrl: "http://g/v1", auth: "sk-inline-g" },
            } } }"#,
            expect![[r#"
                providers.a {"api":"openai-responses","baseUrl":"http://a/v1","apiKey":"env:OPENAI_API_KEY","models":[]}
                providers.b {"api":"anthropic-messages","baseUrl":"http://b","apiKey":"env:ANTHROPIC_KEY","models":[]}
                providers.c {"api":"openai-completions","baseUrl":"http://c/v1","apiKey":"keychain:my.key","models":[]}
                providers.d {"api":"openai-completions","baseUrl":"http://d/v1","apiKey":"env:D_KEY","models":[]}
                providers.e {"api":"openai-completions","baseUrl":"http://e/v1","models":[]}
                providers.f {"api":"openai-completions","baseUrl":"http://f/v1","apiKey":"keychain:provider.f.apiKey","models":[]}
                providers.g-box {"api":"openai-completions","baseUrl":"http://g/v1","apiKey":"keychain:provider.g-box.apiKey","models":[]}
                secret provider.f.apiKey = *****
                secret provider.g-box.apiKey = *****
                + provider `a`: openai-responses at http://a/v1, no models listed (Hearth asks the backend)
                + provider `a`: API key `${OPENAI_API_KEY}` is read from `env:OPENAI_API_KEY`
                + provider `b`: anthropic-messages at http://b, no models listed (Hearth asks the backend)
                + provider `b`: API key stays `env:ANTHROPIC_KEY`
                + provider `c`: openai-completions at http://c/v1, no models listed (Hearth asks the backend)
                + provider `c`: API key stays `keychain:my.key`
                + provider `d`: openai-completions at http://d/v1, no models listed (Hearth asks the backend)
                + provider `d`: API key read from `env:D_KEY`
                + provider `e`: openai-completions at http://e/v1, no models listed (Hearth asks the backend)
                + provider `f`: openai-completions at http://f/v1, no models listed (Hearth asks the backend)
                + provider `f`: inline API key goes to the secret store as `keychain:provider.f.apiKey`
                + provider `G Box` is `g-box` in Hearth (ids are lower-case letters, digits, `-` and `_`)
                + provider `g-box`: openai-completions at http://g/v1, no models listed (Hearth asks the backend)
                + provider `g-box`: inline API key goes to the secret store as `keychain:provider.g-box.apiKey`
                - models.providers.e.apiKey: mixes text with environment variables; store the whole key with `hearth secret set` and write `keychain:NAME` in `apiKey`
                - models.providers.f.auth: OpenClaw's auth mode `api-key`; Hearth sends the provider's `apiKey`, if any, as a bearer token
            "#]],
        );
    }

    #[test]
    fn unknown_protocols_are_left_out_with_what_refers_to_them() {
        check(
            r#"{
              models: { providers: {
                gem: { api: "google-generative-ai", baseUrl: "https://g", apiKey: "sk-never-moved" },
                local: { api: "ollama", baseUrl: "http://127.0.0.1:11434", models: [
                  { id: "llama3.2:3b", input: ["text", "video"], api: "openai-completions" },
                ] },
              } },
              agents: { defaults: {
                model: { primary: "gem/gemini-pro", fallbacks: ["local/llama3.2:3b", "tiny"] },
                models: {
                  "gem/gemini-pro": { alias: "gp" },
                  "local/llama3.2:3b": { alias: "tiny", params: { think: false, temperature: 0.2, maxTokens: 99, keepAlive: "30m" } },
                  "local/other": {},
                },
              } },
            }"#,
            expect![[r#"
                providers.local {"api":"ollama","baseUrl":"http://127.0.0.1:11434","models":[{"id":"llama3.2:3b","input":["text"]}]}
                models {"fallbacks":["local/llama3.2:3b","tiny"],"aliases":{"tiny":"local/llama3.2:3b"},"params":{"local/llama3.2:3b":{"think":false,"temperature":0.2,"keepAlive":"30m"}}}
                + provider `local`: ollama at http://127.0.0.1:11434, models llama3.2:3b
                + alias `tiny` → `local/llama3.2:3b`
                + params for `local/llama3.2:3b`: {"think":false,"temperature":0.2,"keepAlive":"30m"}
                + fallback model `local/llama3.2:3b`
                + fallback model `tiny`
                - models.providers.gem: provider left out: it speaks `google-generative-ai`, which Hearth has no adapter for (Hearth speaks ollama, openai-completions, openai-responses or anthropic-messages)
                - models.providers.local.models[0].input[1]: not an input modality Hearth knows (text, image, audio)
                - models.providers.local.models[0].api: the model's own protocol `openai-completions` differs from its provider's `ollama`; Hearth sets the protocol per provider
                - agents.defaults.models["gem/gemini-pro"]: `gem/gemini-pro` names provider `gem`, which this file does not define or which was not imported
                - agents.defaults.models["local/llama3.2:3b"].params.maxTokens: no Hearth model parameter by this name (Hearth has think, temperature, topP, topK, seed and keepAlive)
                - agents.defaults.models["local/other"]: `local/other` names a model that provider `local` does not list
                - agents.defaults.model.primary: `gem/gemini-pro` names provider `gem`, which this file does not define or which was not imported
            "#]],
        );
    }

    #[test]
    fn peer_kinds_are_normalised_and_what_cannot_be_expressed_is_left_out() {
        check(
            r#"{
              agents: { list: [{ id: "main" }, { id: "family" }] },
              bindings: [
                { agentId: "main", match: { channel: "whatsapp", peer: { kind: "direct_message", id: "+1" } } },
                { agentId: "main", match: { channel: "signal", peer_type: "DM", peer_identifier: "+2" } },
                { agentId: "family", match: { channel: "whatsapp", accountId: "home", peer: { kind: "group", id: "g@g.us" } } },
                { agentId: "family", match: { channel: "discord", peer: { kind: "channel", id: "123" } } },
                { agentId: "main", match: { channel: "whatsapp", peer: { kind: "dm", id: "<YOUR_NUMBER>" } } },
                { agentId: "main", match: { channel: "discord", guildId: "9" } },
                { agentId: "ghost", match: { channel: "whatsapp" } },
                { agentId: "family", type: "acp", match: { channel: "slack" } },
                { agentId: "family" },
              ],
            }"#,
            expect![[r#"
                agent {"id":"main","tools":{}}
                agent {"id":"family","tools":{}}
                binding {"agent":"main","match":{"channel":"whatsapp","peer":{"kind":"dm","id":"+1"}}}
                binding {"agent":"main","match":{"channel":"signal","peer":{"kind":"dm","id":"+2"}}}
                binding {"agent":"family","match":{"channel":"whatsapp","accountId":"home","peer":{"kind":"group","id":"g@g.us"}}}
                binding {"agent":"family","match":{}}
                + agent `main`
                + agent `family`
                + binding bindings[0]: channel whatsapp, peer dm +1 → agent `main`
                + binding bindings[1]: channel signal, peer dm +2 → agent `main`
                + binding bindings[2]: channel whatsapp, account home, peer group g@g.us → agent `family`
                + binding bindings[8]: everything → agent `family`
                + client `openclaw` (trusted): the OpenClaw gateway calls Hearth with its token (`hearth token show --client openclaw`) and reports each message's channel and peer in `x-hearth-channel`, `x-hearth-peer-kind` and `x-hearth-peer-id`, which the bindings match on
                - bindings[3]: binding left out: peer kind `channel` has no Hearth equivalent (Hearth has dm and group)
                - bindings[4]: binding left out: its peer id is a placeholder; fill in the real id and import again
                - bindings[5]: binding left out: it matches on `guildId`, which Hearth cannot express; importing the rest would widen the rule
                - bindings[6]: binding left out: it sends to agent `ghost`, which was not imported
                - bindings[7]: binding left out: only routing bindings (`type: "route"`) have a Hearth equivalent
            "#]],
        );
    }

    #[test]
    fn the_instances_variant_with_permissions_and_routing_rules() {
        check(
            r#"{
              inference: { providers: { metal: {
                protocol: "openai-compat", endpoint: "http://127.0.0.1:8080/v1", credentials: "mlx-inline",
                models: [{ identifier: "m/q4", label: "Q4", context_limit: 8192, max_output: 1024, reasoning: true }],
              } } },
              agents: {
                defaults: {
                  workspace: "/w",
                  primary_model: "metal/m/q4",
                  registry: { "metal/m/q4": { tag: "q4", params: { chain_of_thought: true } } },
                },
                instances: [
                  { id: "admin", label: "Admin", permissions: "full" },
                  { id: "guest", label: "Guest", permissions: { blocked_tools: ["shell_exec"], allowed_tools: ["file_read"] } },
                ],
                routing_rules: [
                  { instance: "admin", match: { channel: "messaging", source: "trusted_dm" } },
                  { instance: "guest", match: { channel: "messaging" } },
                ],
              },
            }"#,
            expect![[r#"
                providers.metal {"api":"openai-completions","baseUrl":"http://127.0.0.1:8080/v1","apiKey":"keychain:provider.metal.apiKey","models":[{"id":"m/q4","name":"Q4","contextWindow":8192,"maxTokens":1024,"reasoning":true}]}
                models {"primary":"metal/m/q4","aliases":{"q4":"metal/m/q4"},"params":{"metal/m/q4":{"think":true}}}
                agent {"id":"admin","name":"Admin","workspace":"/w","tools":{"profile":"full"}}
                agent {"id":"guest","name":"Guest","workspace":"/w","tools":{"allow":["file_read"],"deny":["shell_exec"]}}
                binding {"agent":"guest","match":{"channel":"messaging"}}
                secret provider.metal.apiKey = *****
                + provider `metal`: openai-completions at http://127.0.0.1:8080/v1, models m/q4
                + provider `metal`: inline API key goes to the secret store as `keychain:provider.metal.apiKey`
                + alias `q4` → `metal/m/q4`
                + params for `metal/m/q4`: {"think":true}
                + primary model `metal/m/q4`
                + agent `admin` (Admin), tools: profile full
                + agent `guest` (Guest), tools: allow only file_read; deny shell_exec
                + agent `admin`: workspace /w from `agents.defaults.workspace`
                + agent `guest`: workspace /w from `agents.defaults.workspace`
                + binding agents.routing_rules[1]: channel messaging → agent `guest`
                + client `openclaw` (trusted): the OpenClaw gateway calls Hearth with its token (`hearth token show --client openclaw`) and reports each message's channel and peer in `x-hearth-channel`, `x-hearth-peer-kind` and `x-hearth-peer-id`, which the bindings match on
                - agents.routing_rules[0]: binding left out: it matches on `source`, which Hearth cannot express; importing the rest would widen the rule
            "#]],
        );
    }

    #[test]
    fn global_tools_apply_to_agents_without_their_own_and_unknown_profiles_fail_closed() {
        check(
            r#"{
              agents: { list: [
                { id: "a" },
                { id: "b", tools: { profile: "paranoid" } },
                { id: "c", tools: { exec: { host: "sandbox" } } },
                { id: "d", tool_policy: 7 },
              ] },
              tools: { deny: ["group:web"], profile: "coding", web: { search: { apiKey: "brave-secret" } } },
            }"#,
            expect![[r#"
                agent {"id":"a","tools":{"profile":"coding","deny":["group:web"]}}
                agent {"id":"b","tools":{"profile":"minimal"}}
                agent {"id":"c","tools":{"profile":"coding","deny":["group:web"]}}
                agent {"id":"d","tools":{"profile":"minimal"}}
                + agent `a`
                + agent `b`, tools: profile minimal
                + agent `c`
                + agent `d`, tools: profile minimal
                + global tool policy (profile coding; deny group:web) applied to the agents without their own: a, c
                - agents.list[1].tools.profile: unknown tool profile `paranoid` (Hearth has minimal, messaging, coding and full); the agent gets `minimal` so that it gains no tools
                - agents.list[2].tools.exec: settings of OpenClaw's tool runtime; Hearth only decides which tools a model may see and call
                - agents.list[3].tool_policy: expected a profile or an object, found a number; the agent gets the `minimal` profile so that it gains no tools
                - tools.web: settings of OpenClaw's tool runtime; Hearth only decides which tools a model may see and call
            "#]],
        );
    }

    #[test]
    fn what_hearth_would_refuse_is_left_out_rather_than_imported() {
        check(
            r#"{
              models: { providers: {
                leaky: { api: "ollama", baseUrl: "http://me:hunter2@10.0.0.2:11434" },
                _Local: { api: "ollama", baseUrl: "http://127.0.0.1:11434", models: [
                  { id: "a:1b", contextWindow: 4096, maxTokens: 8192 },
                  { id: "a:1b", contextWindow: 0 },
                  { id: "b:2b" },
                ] },
              } },
              agents: {
                defaults: {
                  model: "_Local/c:3b",
                  models: {
                    "_Local/a:1b": { alias: "b:2b" },
                    "_Local/b:2b": { alias: "B" },
                    "_Local/a:1b ": { alias: "b" },
                  },
                },
                list: [{ id: "x", workspace: "relative/dir", model: "b" }],
              },
            }"#,
            expect![[r#"
                providers.local {"api":"ollama","baseUrl":"http://127.0.0.1:11434","models":[{"id":"a:1b","contextWindow":4096},{"id":"b:2b"}]}
                models {"aliases":{"B":"local/b:2b"}}
                agent {"id":"x","model":"B","tools":{}}
                defaultAgent x
                + provider `_Local` is `local` in Hearth (ids are lower-case letters, digits, `-` and `_`)
                + provider `local`: ollama at http://127.0.0.1:11434, models a:1b, b:2b
                + alias `B` → `local/b:2b`
                + agent `x`, model `B`
                + default agent `x` (the only agent)
                - models.providers.leaky.baseUrl: provider left out: its base URL is not an http(s) URL without credentials (put a key in `apiKey` instead)
                - models.providers._Local.models[0].maxTokens: the output budget (8192) is larger than the context window (4096)
                - models.providers._Local.models[1].contextWindow: expected a positive whole number of tokens
                - models.providers._Local.models[1]: model `a:1b` is already listed
                - agents.defaults.models["_Local/a:1b"].alias: alias `b:2b` would be ambiguous: it is also the id of `local/b:2b`
                - agents.defaults.models["_Local/a:1b "].alias: alias `b` already names `local/b:2b`
                - agents.defaults.model: `_Local/c:3b` names a model that provider `_Local` does not list
                - agents.list[0].workspace: a workspace is an absolute path or starts with `~/`; the agent gets Hearth's default (`<data dir>/agents/<id>`)
            "#]],
        );
    }

    #[test]
    fn the_only_agent_or_the_one_marked_default_is_the_default() {
        check(
            r#"{ agents: { list: [{ id: "solo" }] } }"#,
            expect![[r#"
            agent {"id":"solo","tools":{}}
            defaultAgent solo
            + agent `solo`
            + default agent `solo` (the only agent)
        "#]],
        );
        check(
            r#"{ agents: { list: [{ id: "one" }, { id: "two", default: true }, { id: "three", default: true }] } }"#,
            expect![[r#"
                agent {"id":"one","tools":{}}
                agent {"id":"two","tools":{}}
                agent {"id":"three","tools":{}}
                defaultAgent two
                + agent `one`
                + agent `two`
                + agent `three`
                + default agent `two` (marked `default`)
                - agents.list[2].default: another agent is already marked as the default
            "#]],
        );
    }

    #[test]
    fn group_openclaw_never_widens_a_policy() {
        let imported = import_openclaw(
            r#"{ agents: { list: [
                { id: "a", tools: { deny: ["group:openclaw"] } },
                { id: "b", tools: { allow: ["group:openclaw", "read"] } },
            ] } }"#,
        )
        .unwrap();
        let agents = &imported.config.agents;
        assert!(agents[0].tools.deny.contains(&"group:runtime".to_owned()));
        assert!(agents[0].tools.deny.contains(&"group:web".to_owned()));
        assert_eq!(agents[1].tools.allow, ["read"]);
        assert!(
            imported
                .unmapped
                .iter()
                .any(|u| u.reason.contains("group:openclaw"))
        );
    }
}
