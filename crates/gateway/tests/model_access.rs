//! Who may use which model, over a real socket. Anonymous callers reach local models only (a
//! paid key is never spent by whoever can reach loopback); an agent with `models` may use only
//! those, one without the local models and the cloud models the configuration names as
//! defaults; a model id the configuration does not name is refused unless its provider has
//! `anyModel` (naming it would load it). A request that passes these checks goes on to its
//! backend — none of them is a model server, so it ends in a `backend_*` error — and one that
//! does not is a 403 or 404 that says which rule.

#![expect(clippy::unwrap_used, reason = "a test: a failure must fail it loudly")]

use std::sync::Arc;

use hearth_core::{Secret, config::store};
use hearth_gateway::{Gateway, Runtime};
use hearth_secrets::{MemoryStore, SecretStore};
use serde_json::{Value, json};

const CLIENT: &str = "hth_client_model_access";

async fn start(document: impl FnOnce(&std::path::Path) -> Value) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let paths = store::Paths {
        config_file: dir.path().join("hearth.json"),
        data_dir: dir.path().join("data"),
    };
    let validated = store::save(&paths, &document(dir.path())).unwrap();
    let secrets = MemoryStore::new();
    secrets
        .set("hearth.admin", &Secret::new("hth_admin_x".to_owned()))
        .unwrap();
    secrets
        .set("hearth.client.app", &Secret::new(CLIENT.to_owned()))
        .unwrap();
    secrets
        .set("hearth.cloud", &Secret::new("sk-paid".to_owned()))
        .unwrap();
    let secrets: Arc<dyn SecretStore> = Arc::new(secrets);
    let runtime = Runtime::load(validated.config, validated.warnings, secrets.as_ref()).unwrap();
    let gateway = Gateway::new(runtime, secrets, Some(paths));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(hearth_gateway::serve(
        gateway,
        listener,
        std::future::pending(),
    ));
    (base, dir)
}

/// None of these is a model server: a request let through fails at the backend.
fn document(dir: &std::path::Path) -> Value {
    json!({
        "providers": {
            "local": { "api": "openai-completions", "baseUrl": "http://127.0.0.1:9/v1",
                       "models": [{ "id": "small" }, { "id": "large" }] },
            "lan": { "api": "ollama", "baseUrl": "http://192.168.1.20:11434" },
            "open": { "api": "ollama", "baseUrl": "http://localhost:9", "anyModel": true },
            "cloud": { "api": "openai-completions", "baseUrl": "https://203.0.113.7/v1",
                       "apiKey": "keychain:hearth.cloud", "models": [{ "id": "gpt" }, { "id": "gpt-mini" }] }
        },
        "models": { "primary": "local/small", "aliases": { "smart": "cloud/gpt", "home": "lan/qwen3" } },
        "agents": [
            { "id": "public", "workspace": dir.join("public") },
            { "id": "writer", "workspace": dir.join("writer"), "models": ["cloud/*", "local/small"] },
            { "id": "editor", "workspace": dir.join("editor"), "model": "cloud/gpt-mini" }
        ],
        "defaultAgent": "public",
        "clients": [{ "name": "app", "token": "keychain:hearth.client.app" }],
        "bindings": []
    })
}

const SENT: &str = "sent to the backend";
const REFUSED: &str = "403 model_not_allowed";
const UNKNOWN: &str = "404 model_not_found";

/// Asks for `model` as `token` (anonymous when `None`): whether Hearth refused it, did not know
/// it, or sent it on.
async fn ask(base: &str, token: Option<&str>, model: &str) -> String {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .json(&json!({ "model": model, "messages": [{ "role": "user", "content": "hi" }] }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    let body: Value = answer.json().await.unwrap();
    let code = body["error"]["code"].as_str().unwrap_or("");
    if code.starts_with("backend_") {
        SENT.to_owned()
    } else {
        format!("{status} {code}")
    }
}

#[tokio::test]
async fn anonymous_callers_reach_local_models_only() {
    let (base, _dir) = start(document).await;
    assert_eq!(ask(&base, None, "cloud/gpt").await, REFUSED);
    assert_eq!(ask(&base, None, "smart").await, REFUSED, "an alias too");
    assert_eq!(ask(&base, None, "gpt").await, REFUSED, "a bare id too");
    assert_eq!(ask(&base, None, "local/large").await, SENT);
    assert_eq!(
        ask(&base, None, "home").await,
        SENT,
        "the local network is local"
    );
    assert_eq!(ask(&base, None, "default").await, SENT);
}

#[tokio::test]
async fn an_agent_uses_its_models_and_no_cloud_model_it_was_not_given() {
    let (base, dir) = start(document).await;
    // The client routes to `public`, which names no cloud model.
    assert_eq!(ask(&base, Some(CLIENT), "cloud/gpt").await, REFUSED);
    assert_eq!(ask(&base, Some(CLIENT), "local/large").await, SENT);

    // Bound to `writer`: `cloud/*` and one local model, nothing else.
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("hearth.json")).unwrap())
            .unwrap();
    config["bindings"] = json!([{ "agent": "writer", "match": { "client": "app" } }]);
    let (writer, _writer_dir) = start(|_| config.clone()).await;
    assert_eq!(ask(&writer, Some(CLIENT), "cloud/gpt").await, SENT);
    assert_eq!(ask(&writer, Some(CLIENT), "cloud/gpt-mini").await, SENT);
    assert_eq!(ask(&writer, Some(CLIENT), "local/small").await, SENT);
    assert_eq!(ask(&writer, Some(CLIENT), "local/large").await, REFUSED);
    // Still not for a caller without a token, whatever the agent may.
    config["anonymousAgent"] = json!("writer");
    let (anonymous_writer, _dir3) = start(|_| config.clone()).await;
    assert_eq!(ask(&anonymous_writer, None, "cloud/gpt").await, REFUSED);

    // `editor` names a cloud model as its own: that one, not the other.
    config["bindings"] = json!([{ "agent": "editor", "match": { "client": "app" } }]);
    let (editor, _dir4) = start(|_| config.clone()).await;
    assert_eq!(ask(&editor, Some(CLIENT), "default").await, SENT);
    assert_eq!(ask(&editor, Some(CLIENT), "cloud/gpt").await, REFUSED);
}

#[tokio::test]
async fn a_model_the_configuration_does_not_name_is_refused_unless_its_provider_opts_in() {
    let (base, _dir) = start(document).await;
    // `lan` lists no models: only what the configuration names (`home`) may be asked for.
    assert_eq!(ask(&base, Some(CLIENT), "lan/qwen3").await, SENT);
    assert_eq!(ask(&base, Some(CLIENT), "lan/llama3.3:70b").await, UNKNOWN);
    assert_eq!(ask(&base, Some(CLIENT), "local/tiny").await, UNKNOWN);
    // `open` has `anyModel`.
    assert_eq!(ask(&base, Some(CLIENT), "open/llama3.3:70b").await, SENT);
}

#[test]
fn where_a_provider_is_decides_whether_it_is_local() {
    let local = |url: &str| {
        hearth_core::config::model::Provider {
            id: "p".to_owned(),
            api: hearth_core::config::file::Api::OpenaiCompletions,
            base_url: url.to_owned(),
            api_key: None,
            models: Vec::new(),
            any_model: false,
        }
        .is_local()
    };
    for url in [
        "http://127.0.0.1:8080/v1",
        "http://localhost:11434",
        "http://LOCALHOST.:11434",
        "http://[::1]:8080",
        "http://10.0.0.5:8080",
        "http://192.168.1.20:11434",
        "http://172.16.0.1",
        "http://studio.local:11434",
        "http://169.254.1.1",
    ] {
        assert!(local(url), "{url}");
    }
    for url in [
        "https://api.openai.com/v1",
        "https://203.0.113.7/v1",
        "http://8.8.8.8",
        "https://localhost.example.com",
        "http://127.0.0.1.nip.io",
        "not a url",
    ] {
        assert!(!local(url), "{url}");
    }
}
