//! A first run on a machine that already runs an inference server: the configuration a starting
//! gateway writes (`setup::load_for_start`, what `hearth serve` and the app call) has the
//! server and its model in it, and a request for `default` is answered by it — no file edited.
//! The server is a real llama-server (SmolLM2) on the port discovery is told to probe.

use hearth_core::config::store::Paths;
use hearth_e2e::{APP_TOKEN, Hearth, LlamaServer, free_port};
use hearth_gateway::setup::load_for_start;
use hearth_services::discovery::{Options, Ports};
use serde_json::{Value, json};

#[tokio::test]
async fn a_first_run_uses_the_server_that_already_runs_here() {
    let llama = LlamaServer::smollm2();
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths {
        config_file: dir.path().join("config/hearth.json"),
        data_dir: dir.path().join("data"),
    };
    let mut options = Options::for_home(dir.path().join("home"));
    options.program_dirs.clear();
    options.ports = Ports {
        ollama: free_port(),
        lmstudio: free_port(),
        openai: vec![llama.port],
    };

    let startup = load_for_start(&paths, &options).await.unwrap();
    let applied = startup.first_run.expect("a first run");
    assert!(
        applied
            .added
            .iter()
            .any(|line| line.contains("llama-server")),
        "{applied:?}"
    );
    assert!(startup.proposal.is_none(), "a model is configured now");
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&paths.config_file).unwrap()).unwrap();
    assert_eq!(
        written["models"]["primary"], "llama-server/smollm2",
        "{written:#}"
    );
    assert_eq!(
        written["providers"]["llama-server"]["baseUrl"],
        json!(llama.base_url()),
        "{written:#}"
    );
    // No service: a first run never starts a program by itself.
    assert!(
        written
            .get("services")
            .is_none_or(|services| services == &json!({}))
    );

    // A second start finds a model configured and changes nothing.
    let again = load_for_start(&paths, &options).await.unwrap();
    assert!(again.first_run.is_none() && again.proposal.is_none());
    let unchanged: Value =
        serde_json::from_str(&std::fs::read_to_string(&paths.config_file).unwrap()).unwrap();
    assert_eq!(unchanged, written);

    // What it wrote answers `default` (with the e2e client token added, as a user's client).
    let hearth = Hearth::start(|_| {
        let mut document = written.clone();
        document["clients"] = json!([{ "name": "app", "token": "keychain:hearth.client.app" }]);
        document
    })
    .await;
    let response = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", hearth.base))
        .bearer_auth(APP_TOKEN)
        .json(&json!({ "model": "default", "max_tokens": 8,
                       "messages": [{ "role": "user", "content": "Say hello." }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(
        !body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{body}"
    );
}

#[tokio::test]
async fn a_first_run_with_nothing_here_writes_the_defaults_and_returns_the_next_step() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths {
        config_file: dir.path().join("hearth.json"),
        data_dir: dir.path().join("data"),
    };
    let mut options = Options::for_home(dir.path().join("home"));
    options.program_dirs.clear();
    options.ports = Ports {
        ollama: free_port(),
        lmstudio: free_port(),
        openai: vec![free_port()],
    };
    let startup = load_for_start(&paths, &options).await.unwrap();
    assert_eq!(startup.first_run.map(|applied| applied.added), Some(vec![]));
    assert!(startup.proposal.is_some_and(|proposal| proposal.is_empty()));
    assert!(paths.config_file.exists(), "the defaults are written");
}
