//! The inference servers already answering on this machine, found through their published
//! APIs only: Ollama's `/api/version`, `/api/tags` and `/api/ps`; OpenAI's `/v1/models` (LM
//! Studio, mlx_lm.server, vLLM, llama-server); llama-server's `/props` for the context size.
//!
//! Every port is probed at once and each request is bounded by the probe timeout, so a machine
//! where nothing listens is done in one refused connection per port. A port where nothing
//! listens is no news; one that answers something unexpected is a note.

use std::time::Duration;

use hearth_core::config::file::Api;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Options;

/// Largest answer read from a probe: a model list is a few KiB.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// What answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerKind {
    Ollama,
    LmStudio,
    LlamaServer,
    MlxLm,
    Vllm,
    /// An OpenAI-compatible server that did not say which it is.
    #[serde(rename = "openai")]
    OpenAi,
}

impl ServerKind {
    /// For a person: "Ollama", "an OpenAI-compatible server".
    pub fn describe(self) -> &'static str {
        match self {
            ServerKind::Ollama => "Ollama",
            ServerKind::LmStudio => "LM Studio",
            ServerKind::LlamaServer => "llama-server",
            ServerKind::MlxLm => "mlx_lm.server",
            ServerKind::Vllm => "vLLM",
            ServerKind::OpenAi => "an OpenAI-compatible server",
        }
    }

    /// The provider id discovery proposes for it.
    pub fn provider_id(self) -> &'static str {
        match self {
            ServerKind::Ollama => "ollama",
            ServerKind::LmStudio => "lmstudio",
            ServerKind::LlamaServer => "llama-server",
            ServerKind::MlxLm => "mlx",
            ServerKind::Vllm => "vllm",
            ServerKind::OpenAi => "openai",
        }
    }

    /// The API Hearth speaks to it: Ollama's native one, else OpenAI Chat Completions.
    pub fn api(self) -> Api {
        match self {
            ServerKind::Ollama => Api::Ollama,
            _ => Api::OpenaiCompletions,
        }
    }
}

/// A server that answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunningServer {
    pub kind: ServerKind,
    pub port: u16,
    /// Where it answered: `http://127.0.0.1:11434`.
    pub url: String,
    /// The version it reported (Ollama's `/api/version`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The models it lists, in its order.
    pub models: Vec<ServedModel>,
    /// The models it has in memory now (Ollama's `/api/ps`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub loaded: Vec<String>,
}

impl RunningServer {
    /// The provider's `baseUrl`: the root for Ollama, `/v1` for OpenAI-compatible servers.
    pub fn base_url(&self) -> String {
        match self.kind.api() {
            Api::Ollama => self.url.clone(),
            _ => format!("{}/v1", self.url),
        }
    }
}

/// A model a running server lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServedModel {
    pub id: String,
    /// Size of its weights (Ollama's `/api/tags`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// The context the server gives it (llama-server's `/props` `n_ctx`, vLLM's
    /// `max_model_len`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// Whether it has a chat template, when the server says (llama-server's `/props`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_template: Option<bool>,
}

impl ServedModel {
    fn named(id: String) -> ServedModel {
        ServedModel {
            id,
            size_bytes: None,
            context_window: None,
            chat_template: None,
        }
    }
}

/// Probes every configured port at once. Servers come back in port order.
pub(super) async fn probe(
    http: &reqwest::Client,
    options: &Options,
) -> (Vec<RunningServer>, Vec<String>) {
    let host = url_host(&options.host);
    let timeout = options.probe_timeout;
    let mut probes = tokio::task::JoinSet::new();
    let mut ports = vec![options.ports.ollama];
    probes.spawn(ollama(
        http.clone(),
        format!("http://{host}:{}", options.ports.ollama),
        options.ports.ollama,
        timeout,
    ));
    for (port, default) in std::iter::once((options.ports.lmstudio, ServerKind::LmStudio)).chain(
        options
            .ports
            .openai
            .iter()
            .map(|port| (*port, ServerKind::OpenAi)),
    ) {
        if ports.contains(&port) {
            continue;
        }
        ports.push(port);
        probes.spawn(openai(
            http.clone(),
            format!("http://{host}:{port}"),
            port,
            default,
            timeout,
        ));
    }
    let mut servers = Vec::new();
    let mut notes = Vec::new();
    while let Some(done) = probes.join_next().await {
        match done {
            Ok((server, mut said)) => {
                servers.extend(server);
                notes.append(&mut said);
            }
            Err(error) => notes.push(format!("a server probe failed: {error}")),
        }
    }
    servers.sort_by_key(|server| server.port);
    notes.sort();
    (servers, notes)
}

/// An IPv6 address goes in brackets in a URL.
fn url_host(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

async fn ollama(
    http: reqwest::Client,
    url: String,
    port: u16,
    timeout: Duration,
) -> (Option<RunningServer>, Vec<String>) {
    let mut notes = Vec::new();
    let version = match get_json(&http, &url, "/api/version", timeout).await {
        Ok(reply) => match reply.json.get("version").and_then(Value::as_str) {
            Some(version) => version.to_owned(),
            None => {
                notes.push(format!(
                    "something answers at {url} but not as Ollama (`/api/version` has no version)"
                ));
                return (None, notes);
            }
        },
        Err(Failure::Unreachable) => return (None, notes),
        Err(Failure::Bad(why)) => {
            notes.push(format!(
                "something answers at {url} but not as Ollama: {why}"
            ));
            return (None, notes);
        }
    };
    let (tags, ps) = tokio::join!(
        get_json(&http, &url, "/api/tags", timeout),
        get_json(&http, &url, "/api/ps", timeout),
    );
    let mut models = Vec::new();
    match tags.map(|reply| serde_json::from_value::<OllamaList>(reply.json)) {
        Ok(Ok(list)) => models.extend(list.models.into_iter().map(|model| ServedModel {
            size_bytes: model.size,
            ..ServedModel::named(model.name)
        })),
        Ok(Err(error)) => notes.push(format!(
            "Ollama at {url}: `/api/tags` is not the documented model list ({error})"
        )),
        Err(failure) => notes.push(format!(
            "Ollama at {url}: `/api/tags` failed: {}",
            failure.describe()
        )),
    }
    let mut loaded = Vec::new();
    match ps.map(|reply| serde_json::from_value::<OllamaList>(reply.json)) {
        Ok(Ok(list)) => loaded.extend(list.models.into_iter().map(|model| model.name)),
        Ok(Err(error)) => notes.push(format!(
            "Ollama at {url}: `/api/ps` is not the documented model list ({error})"
        )),
        Err(failure) => notes.push(format!(
            "Ollama at {url}: `/api/ps` failed: {}",
            failure.describe()
        )),
    }
    let server = RunningServer {
        kind: ServerKind::Ollama,
        port,
        url,
        version: Some(version),
        models,
        loaded,
    };
    (Some(server), notes)
}

/// `/api/tags` and `/api/ps`: `{"models":[{"name", "size", ...}]}`.
#[derive(Deserialize)]
struct OllamaList {
    #[serde(default)]
    models: Vec<OllamaModel>,
}

#[derive(Deserialize)]
struct OllamaModel {
    name: String,
    #[serde(default)]
    size: Option<u64>,
}

/// OpenAI's `/v1/models`: `{"object":"list","data":[{"id","object":"model","owned_by"}]}`.
#[derive(Deserialize)]
struct ModelList {
    data: Vec<ListedModel>,
}

#[derive(Deserialize)]
struct ListedModel {
    id: String,
    #[serde(default)]
    owned_by: Option<String>,
    /// vLLM's context length.
    #[serde(default)]
    max_model_len: Option<u64>,
}

async fn openai(
    http: reqwest::Client,
    url: String,
    port: u16,
    default: ServerKind,
    timeout: Duration,
) -> (Option<RunningServer>, Vec<String>) {
    let mut notes = Vec::new();
    let (models, props) = tokio::join!(
        get_json(&http, &url, "/v1/models", timeout),
        get_json(&http, &url, "/props", timeout),
    );
    let reply = match models {
        Ok(reply) => reply,
        Err(Failure::Unreachable) => return (None, notes),
        Err(Failure::Bad(why)) => {
            notes.push(format!(
                "something answers at {url} but not as {}: {why}",
                default.describe()
            ));
            return (None, notes);
        }
    };
    let list = match serde_json::from_value::<ModelList>(reply.json) {
        Ok(list) => list,
        Err(error) => {
            notes.push(format!(
                "something answers at {url} but not as {}: `/v1/models` is not an OpenAI model list ({error})",
                default.describe()
            ));
            return (None, notes);
        }
    };
    let llama = props.ok().and_then(|reply| LlamaProps::read(&reply.json));
    let owned = |owner: &str| {
        list.data
            .iter()
            .any(|model| model.owned_by.as_deref() == Some(owner))
    };
    // mlx_lm.server lists its models without `owned_by` and, being Python's http.server,
    // names itself `BaseHTTP/…`.
    let python = reply
        .server
        .as_deref()
        .is_some_and(|server| server.starts_with("BaseHTTP/"));
    let kind = if llama.is_some() || owned("llamacpp") {
        ServerKind::LlamaServer
    } else if owned("vllm") {
        ServerKind::Vllm
    } else if python && list.data.iter().all(|model| model.owned_by.is_none()) {
        ServerKind::MlxLm
    } else {
        default
    };
    let models = list
        .data
        .into_iter()
        .map(|model| ServedModel {
            context_window: llama
                .as_ref()
                .and_then(|props| props.n_ctx)
                .or(model.max_model_len),
            chat_template: llama.as_ref().and_then(|props| props.chat_template),
            ..ServedModel::named(model.id)
        })
        .collect();
    let server = RunningServer {
        kind,
        port,
        url,
        version: None,
        models,
        loaded: Vec::new(),
    };
    (Some(server), notes)
}

/// What llama-server's `/props` says: a JSON object with `default_generation_settings`
/// (whose `n_ctx` is the context each request gets) or a top-level `n_ctx`.
struct LlamaProps {
    n_ctx: Option<u64>,
    chat_template: Option<bool>,
}

impl LlamaProps {
    fn read(json: &Value) -> Option<LlamaProps> {
        let settings = json.get("default_generation_settings");
        if settings.is_none() && json.get("n_ctx").is_none() {
            return None;
        }
        Some(LlamaProps {
            n_ctx: settings
                .and_then(|settings| settings.get("n_ctx"))
                .or_else(|| json.get("n_ctx"))
                .and_then(Value::as_u64)
                .filter(|n_ctx| *n_ctx > 0),
            chat_template: json
                .get("chat_template")
                .and_then(Value::as_str)
                .map(|template| !template.is_empty()),
        })
    }
}

struct Reply {
    json: Value,
    /// The `Server` header.
    server: Option<String>,
}

enum Failure {
    /// Nothing listens: no news.
    Unreachable,
    /// Something answered, but not with what was asked for.
    Bad(String),
}

impl Failure {
    fn describe(&self) -> String {
        match self {
            Failure::Unreachable => "the connection was refused".to_owned(),
            Failure::Bad(why) => why.clone(),
        }
    }
}

async fn get_json(
    http: &reqwest::Client,
    root: &str,
    path: &str,
    timeout: Duration,
) -> Result<Reply, Failure> {
    let failed = |error: reqwest::Error| {
        if error.is_connect() {
            Failure::Unreachable
        } else if error.is_timeout() {
            Failure::Bad(format!("`{path}` did not answer within {timeout:?}"))
        } else {
            Failure::Bad(format!("`{path}` failed: {error}"))
        }
    };
    let mut response = http
        .get(format!("{root}{path}"))
        .timeout(timeout)
        .send()
        .await
        .map_err(failed)?;
    let status = response.status();
    if !status.is_success() {
        return Err(Failure::Bad(format!("`{path}` answered {status}")));
    }
    let server = response
        .headers()
        .get(reqwest::header::SERVER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(Failure::Bad(format!(
                "`{path}` answered more than {MAX_BODY} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body)
        .map(|json| Reply { json, server })
        .map_err(|error| Failure::Bad(format!("`{path}` did not answer JSON ({error})")))
}
