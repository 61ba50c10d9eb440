//! The configuration file as written on disk: serde types with `deny_unknown_fields` and defaults.
//!
//! These types are the file's shape and nothing more. `validate` turns them into the runtime
//! types of `config::model`, which the rest of Hearth uses. The JSON Schema published by
//! `hearth config schema` is generated from these types, and the shape check walks that same
//! schema, so the schema cannot drift from what Hearth accepts.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::duration::DurationSpec;

/// The whole `hearth.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "Hearth configuration")]
pub struct ConfigFile {
    /// Optional pointer to the JSON Schema, for editors.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Inference backends by id. Model references are `<provider id>/<model id>`.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderFile>,
    /// The primary model, fallbacks, aliases and per-model parameters.
    #[serde(default)]
    pub models: ModelsFile,
    /// Agents: a workspace, a model and a tool policy each.
    #[serde(default)]
    pub agents: Vec<AgentFile>,
    /// The agent that serves requests no binding matches. Defaults to the first agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_agent: Option<String>,
    /// The agent for anonymous requests (no token). Defaults to the least-privileged agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_agent: Option<String>,
    /// Callers that present a bearer token.
    #[serde(default)]
    pub clients: Vec<ClientFile>,
    /// Ordered routing rules; the most specific match wins, ties by order.
    #[serde(default)]
    pub bindings: Vec<BindingFile>,
    /// Where and how the gateway listens.
    #[serde(default)]
    pub gateway: GatewayFile,
    /// Inference servers Hearth supervises, by name.
    #[serde(default)]
    pub services: BTreeMap<String, ServiceFile>,
    /// Speech sidecars.
    #[serde(default)]
    pub voice: VoiceFile,
    /// Menu-bar app preferences.
    #[serde(default)]
    pub app: AppFile,
}

/// The wire protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Api {
    /// Ollama's native API (`/api/chat`), never its `/v1`, which ignores keep_alive.
    Ollama,
    /// OpenAI Chat Completions: mlx_lm.server, llama-server, LM Studio, vLLM, exo.
    OpenaiCompletions,
    /// OpenAI Responses.
    OpenaiResponses,
    /// Anthropic Messages (cloud).
    AnthropicMessages,
}

impl Api {
    pub const ALL: [Api; 4] = [
        Api::Ollama,
        Api::OpenaiCompletions,
        Api::OpenaiResponses,
        Api::AnthropicMessages,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Api::Ollama => "ollama",
            Api::OpenaiCompletions => "openai-completions",
            Api::OpenaiResponses => "openai-responses",
            Api::AnthropicMessages => "anthropic-messages",
        }
    }
}

/// One inference backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProviderFile {
    pub api: Api,
    /// Base URL, e.g. `http://127.0.0.1:11434` (Ollama) or `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    /// A secret reference (`keychain:NAME` or `env:NAME`), never the key itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// The models this provider serves. A request can name only these (and the models the
    /// configuration names: aliases, the primary, agents' models), unless `anyModel` is set.
    #[serde(default)]
    pub models: Vec<ModelFile>,
    /// Let requests name any model id of this provider, listed or not (an Ollama with many
    /// models pulled): off by default, since a named model is loaded and kept resident.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub any_model: bool,
}

/// Input modalities a model accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    Text,
    Image,
    Audio,
}

/// One model of a provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ModelFile {
    /// The id the backend knows the model by (for mlx_lm.server, the exact model path).
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Context window in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// Largest output budget in tokens; requests asking for more are clamped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// Input modalities; text only when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Vec<Modality>>,
    /// Whether the model thinks before it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<bool>,
    /// Size of the weights on disk, in bytes; used to estimate peak memory before a load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
}

/// Model selection shared by all agents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ModelsFile {
    /// The global primary model (`provider/model-id` or an alias).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    /// Tried in order when the primary fails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<String>,
    /// Short names for model references: `{"q8": "ollama/gemma4:26b-a4b-it-q8_0"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub aliases: BTreeMap<String, String>,
    /// Per-model request parameters, keyed by model reference.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, ModelParams>,
    /// `exclusive` (default): activating a model unloads the others; `shared`: they coexist.
    #[serde(default, skip_serializing_if = "Residency::is_exclusive")]
    pub residency: Residency,
}

/// Request parameters applied to every request for one model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ModelParams {
    /// Ask a reasoning model to think (Ollama `think`, chat-template `enable_thinking`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub think: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Ollama keep_alive for this model; Hearth sends `24h` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<DurationSpec>,
}

/// One agent persona.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AgentFile {
    /// Lower-case letters, digits, `-` and `_`.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where the agent's audit log and stored conversations live. Defaults to
    /// `<data dir>/agents/<id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// The agent's model (`provider/model-id` or alias); the global primary when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The agent's own fallback chain; the global one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallbacks: Option<Vec<String>>,
    /// The models the agent's callers may name: aliases, `provider/model-id` references and
    /// `provider/*` (every model of a provider); its own model and fallbacks always count.
    /// Absent: every model of a local provider, and the cloud models the configuration names
    /// as defaults (the primary, the fallbacks, the agent's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
    /// Which tools the agent's models may see and call.
    #[serde(default)]
    pub tools: ToolsFile,
}

/// A tool-policy base: which tools an agent starts with before allow and deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Status tools only.
    Minimal,
    /// Messaging and session tools.
    Messaging,
    /// Files, runtime (shell), sessions and memory.
    Coding,
    /// Every tool.
    Full,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Minimal => "minimal",
            Profile::Messaging => "messaging",
            Profile::Coding => "coding",
            Profile::Full => "full",
        }
    }
}

/// An agent's tool policy: profile, then allow, then deny; deny wins.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ToolsFile {
    /// The base set. Without a profile, a non-empty `allow` is the whole allow-list, and
    /// without either every tool is allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// Tool names, `group:NAME` or `*` wildcards, added to the profile.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Tool names, `group:NAME` or `*` wildcards that are never allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
}

/// A caller identified by its bearer token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientFile {
    pub name: String,
    /// A secret reference (`keychain:NAME` or `env:NAME`) to the client's token.
    pub token: String,
    /// Trusted clients may assert channel and peer through `x-hearth-*` headers.
    #[serde(default)]
    pub trusted: bool,
}

/// A routing rule: requests whose identity matches go to `agent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BindingFile {
    pub agent: String,
    /// What must match; an empty match is a catch-all.
    #[serde(default, rename = "match")]
    pub matcher: MatchFile,
}

/// The fields a binding matches on; every present field must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MatchFile {
    /// The client name (from its token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The channel, such as `whatsapp` or `telegram`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The account within the channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The peer: a kind (`dm`, `group`) and an id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<PeerFile>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PeerFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// Where and how the gateway listens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewayFile {
    /// The address to listen on. A non-loopback address needs `allowRemote`.
    #[serde(default = "default_bind")]
    pub bind: String,
    #[serde(default = "default_port")]
    pub port: u16,
    /// Permit a non-loopback `bind`; every route then requires a token.
    #[serde(default)]
    pub allow_remote: bool,
    /// A secret reference to the admin token.
    #[serde(default = "default_admin_token")]
    pub admin_token: String,
    #[serde(default)]
    pub timeouts: TimeoutsFile,
    /// Largest request body accepted, in MiB.
    #[serde(default = "default_body_limit", rename = "bodyLimitMiB")]
    pub body_limit_mib: u32,
    /// What `/v1/responses` keeps for `previous_response_id`.
    #[serde(default)]
    pub responses: ResponsesFile,
}

impl Default for GatewayFile {
    fn default() -> Self {
        GatewayFile {
            bind: default_bind(),
            port: default_port(),
            allow_remote: false,
            admin_token: default_admin_token(),
            timeouts: TimeoutsFile::default(),
            body_limit_mib: default_body_limit(),
            responses: ResponsesFile::default(),
        }
    }
}

/// The responses `/v1/responses` stores, per agent, in the agent's workspace, so a later
/// request can go on from one with `previous_response_id`. The oldest go first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResponsesFile {
    /// How many responses each agent keeps.
    #[serde(default = "default_max_stored")]
    #[schemars(range(min = 1))]
    pub max_stored: u32,
    /// How long a response is kept.
    #[serde(default = "default_max_age")]
    pub max_age: DurationSpec,
    /// How many MiB of responses each agent keeps (a long conversation stores its early turns
    /// again in each response's file).
    #[serde(default = "default_max_mib", rename = "maxMiB")]
    #[schemars(range(min = 1))]
    pub max_mib: u32,
}

impl Default for ResponsesFile {
    fn default() -> Self {
        ResponsesFile {
            max_stored: default_max_stored(),
            max_age: default_max_age(),
            max_mib: default_max_mib(),
        }
    }
}

fn default_max_stored() -> u32 {
    1000
}
fn default_max_mib() -> u32 {
    512
}
fn default_max_age() -> DurationSpec {
    DurationSpec::from_secs(30 * 24 * 3600)
}

pub const DEFAULT_PORT: u16 = 11500;
pub const ADMIN_TOKEN_REF: &str = "keychain:hearth.admin";
pub const DEFAULT_CLIENT_TOKEN_REF: &str = "keychain:hearth.client.default";

fn default_bind() -> String {
    "127.0.0.1".to_owned()
}
fn default_port() -> u16 {
    DEFAULT_PORT
}
fn default_admin_token() -> String {
    ADMIN_TOKEN_REF.to_owned()
}
fn default_body_limit() -> u32 {
    32
}

/// Separate limits for each phase of a backend request. The defaults allow a cold load of a
/// large model: no hidden two- or five-minute caps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TimeoutsFile {
    /// Establishing the TCP connection.
    #[serde(default = "default_connect")]
    pub connect: DurationSpec,
    /// From sending the request to the first token (includes a cold model load).
    #[serde(default = "default_first_token")]
    pub first_token: DurationSpec,
    /// Longest silence between two streamed chunks.
    #[serde(default = "default_idle")]
    pub idle: DurationSpec,
    /// The whole request.
    #[serde(default = "default_total")]
    pub total: DurationSpec,
}

impl Default for TimeoutsFile {
    fn default() -> Self {
        TimeoutsFile {
            connect: default_connect(),
            first_token: default_first_token(),
            idle: default_idle(),
            total: default_total(),
        }
    }
}

fn default_connect() -> DurationSpec {
    DurationSpec::from_secs(5)
}
fn default_first_token() -> DurationSpec {
    DurationSpec::from_secs(600)
}
fn default_idle() -> DurationSpec {
    DurationSpec::from_secs(300)
}
fn default_total() -> DurationSpec {
    DurationSpec::from_secs(3600)
}

/// An inference server Hearth runs: its command, where it listens, how to tell it is ready and
/// what to do when it exits. `hearth services install --template` writes these for the common
/// servers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceFile {
    /// The template it was made from; informational, and what `hearth doctor` checks against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<ServiceTemplate>,
    /// Absolute path of the program: services start with a minimal environment.
    pub program: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Environment variables. `PATH` is always set explicitly: this one, else a default.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Absolute working directory; the service's own directory under the data dir by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// The TCP port it listens on (checked free before it starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// URL that answers 200 once the server is ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_url: Option<String>,
    /// Where its output goes; `<data dir>/logs/services/<name>.log` (macOS:
    /// `~/Library/Logs/Hearth/<name>.log`) by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_file: Option<String>,
    /// When to start it again after it exits.
    #[serde(default)]
    pub restart: RestartPolicy,
    /// How long a start may take to pass its health check.
    #[serde(default = "default_start_timeout")]
    pub start_timeout: DurationSpec,
    /// The provider this service serves: activating one of its models starts this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Who runs it: launchd on macOS, Hearth's own supervisor elsewhere, by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<ServiceDriver>,
}

fn default_start_timeout() -> DurationSpec {
    DurationSpec::from_secs(180)
}

/// The servers Hearth has templates for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceTemplate {
    /// `ollama serve`, with keep-alive 24h, flash attention and a q8_0 KV cache.
    Ollama,
    /// `mlx_lm.server --model M --host 127.0.0.1 --port P`.
    MlxLm,
    /// llama.cpp's `llama-server -m M --host 127.0.0.1 --port P`.
    LlamaServer,
    /// A speech-to-text server (OpenAI-compatible `/v1/audio/transcriptions`).
    Whisper,
    /// A text-to-speech server (OpenAI-compatible `/v1/audio/speech`).
    Tts,
    /// Any other command.
    Custom,
}

impl ServiceTemplate {
    pub const ALL: [ServiceTemplate; 6] = [
        ServiceTemplate::Ollama,
        ServiceTemplate::MlxLm,
        ServiceTemplate::LlamaServer,
        ServiceTemplate::Whisper,
        ServiceTemplate::Tts,
        ServiceTemplate::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceTemplate::Ollama => "ollama",
            ServiceTemplate::MlxLm => "mlx-lm",
            ServiceTemplate::LlamaServer => "llama-server",
            ServiceTemplate::Whisper => "whisper",
            ServiceTemplate::Tts => "tts",
            ServiceTemplate::Custom => "custom",
        }
    }
}

/// When a service that exited is started again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    /// After every exit Hearth did not ask for.
    Always,
    /// After a crash (non-zero exit or a signal).
    #[default]
    OnFailure,
    /// Never.
    Never,
}

impl RestartPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::Always => "always",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Never => "never",
        }
    }
}

/// Who runs a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceDriver {
    /// A LaunchAgent (macOS only); it keeps running when Hearth quits.
    Launchd,
    /// Hearth spawns and watches the process; it stops when Hearth does.
    Supervisor,
}

impl ServiceDriver {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceDriver::Launchd => "launchd",
            ServiceDriver::Supervisor => "supervisor",
        }
    }
}

/// Whether one model is resident at a time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Residency {
    /// Activating a model unloads every other one first (two big models halve decode speed).
    #[default]
    Exclusive,
    /// Models stay resident side by side; contention is still reported.
    Shared,
}

impl Residency {
    pub fn is_exclusive(&self) -> bool {
        *self == Residency::Exclusive
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Residency::Exclusive => "exclusive",
            Residency::Shared => "shared",
        }
    }
}

/// Speech sidecars (OpenAI-compatible audio endpoints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VoiceFile {
    /// Speech to text: `POST /v1/audio/transcriptions` is proxied here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stt: Option<VoiceEndpointFile>,
    /// Text to speech: `POST /v1/audio/speech` is proxied here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tts: Option<VoiceEndpointFile>,
    /// Audio requests processed at once; the rest wait in a visible queue.
    #[serde(default = "default_voice_concurrency")]
    pub max_concurrent: u32,
}

impl Default for VoiceFile {
    fn default() -> Self {
        VoiceFile {
            stt: None,
            tts: None,
            max_concurrent: default_voice_concurrency(),
        }
    }
}

fn default_voice_concurrency() -> u32 {
    2
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VoiceEndpointFile {
    pub base_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
    /// A secret reference, when the sidecar wants a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

/// Menu-bar app preferences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppFile {
    #[serde(default)]
    pub launch_at_login: bool,
    /// Notify when a backend crashes, a fallback engages or memory turns critical.
    #[serde(default = "yes")]
    pub notifications: bool,
}

impl Default for AppFile {
    fn default() -> Self {
        AppFile {
            launch_at_login: false,
            notifications: true,
        }
    }
}

fn yes() -> bool {
    true
}
