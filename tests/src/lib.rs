//! Support for the end-to-end tests: a real llama-server with a real model, started per test on
//! a free port and stopped by PID on every exit path, and a Hearth gateway in front of it on
//! another free port; and (`upstream`) the fast OpenAI-compatible server the performance
//! benchmark puts behind the gateways it compares.
//!
//! The servers and models come from `scripts/provision.sh`, which records their paths in
//! `<cache>/env.sh`. A test never passes because they are missing: it fails and says to run
//! the provisioning script.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test support: a failure here must fail the test, loudly"
)]

use std::{
    collections::BTreeMap,
    io::Read as _,
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use hearth_core::{Secret, config::store};
use hearth_gateway::{Gateway, Runtime};
use hearth_secrets::{MemoryStore, SecretStore};
use serde_json::Value;

pub mod upstream;

/// What `scripts/provision.sh` installed: the environment variables it exports, taken from the
/// process environment or, failing that, from `<cache>/env.sh`.
pub fn provisioned(name: &str) -> String {
    try_provisioned(name).unwrap_or_else(|| {
        panic!(
            "{name} is not provisioned ({} has no such line): run `scripts/provision.sh`, which \
             builds llama-server and installs the test models and SDKs",
            env_file().display()
        )
    })
}

/// [`provisioned`], or `None` when it is not (for what is optional, like the benchmark's peer).
pub fn try_provisioned(name: &str) -> Option<String> {
    if let Ok(value) = std::env::var(name)
        && !value.is_empty()
    {
        return Some(value);
    }
    let text = std::fs::read_to_string(env_file()).unwrap_or_default();
    let values: BTreeMap<&str, String> = text
        .lines()
        .filter_map(|line| line.trim().strip_prefix("export "))
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key, value.trim_matches(['\'', '"']).to_owned()))
        .collect();
    values.get(name).filter(|value| !value.is_empty()).cloned()
}

/// `<cache>/env.sh`, which `scripts/provision.sh` writes.
pub fn env_file() -> PathBuf {
    let cache = std::env::var("HEARTH_TEST_CACHE").map_or_else(
        |_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/hearth-test"),
        PathBuf::from,
    );
    cache.join("env.sh")
}

/// A loopback port nothing listens on, never the same twice in one test process: tests run in
/// parallel threads, and the kernel may hand a port just released to the next `bind(0)`, so two
/// tests could otherwise start servers on one port (and one's health check answer the other).
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// Waits (up to 5 s) until something accepts connections on the loopback `port`: a server
/// the test just started.
pub fn wait_listening(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on 127.0.0.1:{port} after 5 s");
}

/// The last server-sent event of a stream's `text`: its `event:` name (empty when it has
/// none) and its `data:` as JSON (`null` when it is not).
pub fn last_sse_event(text: &str) -> (String, Value) {
    let block = text.trim_end().rsplit("\n\n").next().unwrap_or_default();
    let name = block
        .lines()
        .find_map(|line| line.strip_prefix("event: "))
        .unwrap_or_default()
        .to_owned();
    let data = block
        .lines()
        .find_map(|line| line.strip_prefix("data: "))
        .and_then(|data| serde_json::from_str(data).ok())
        .unwrap_or(Value::Null);
    (name, data)
}

/// A running llama-server; killed when dropped.
#[derive(Debug)]
pub struct LlamaServer {
    child: Child,
    pub port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl LlamaServer {
    /// SmolLM2-135M-Instruct with the tool-capable chat template, served as `smollm2`.
    pub fn smollm2() -> LlamaServer {
        LlamaServer::smollm2_on(free_port())
    }

    /// [`LlamaServer::smollm2`] on `port` (a server started again where the last one was).
    pub fn smollm2_on(port: u16) -> LlamaServer {
        let template = provisioned("HEARTH_TOOL_TEMPLATE");
        LlamaServer::start_on(
            port,
            &provisioned("HEARTH_MODEL_SMOLLM2"),
            "smollm2",
            &["--jinja", "--chat-template-file", &template],
        )
    }

    pub fn start(model: &str, alias: &str, extra: &[&str]) -> LlamaServer {
        LlamaServer::start_on(free_port(), model, alias, extra)
    }

    pub fn start_on(port: u16, model: &str, alias: &str, extra: &[&str]) -> LlamaServer {
        let binary = provisioned("HEARTH_LLAMA_SERVER");
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("llama-server.log");
        let port_text = port.to_string();
        let mut args = vec![
            "-m",
            model,
            "--host",
            "127.0.0.1",
            "--port",
            &port_text,
            "-c",
            "4096",
            "-np",
            "2",
            "-t",
            "1",
            "--alias",
            alias,
        ];
        args.extend_from_slice(extra);
        let child = Command::new(&binary)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(dir.path().join("llama-server.err")).unwrap())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start {binary}: {error}; run scripts/provision.sh")
            });
        let mut server = LlamaServer {
            child,
            port,
            log,
            _dir: dir,
        };
        server.wait_healthy(Duration::from_secs(120));
        server
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    fn wait_healthy(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        let url = format!("http://127.0.0.1:{}/health", self.port);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "llama-server exited ({status}) before it was ready:\n{}",
                    self.logs()
                );
            }
            let ok = std::process::Command::new("curl")
                .args(["-sf", "-o", "/dev/null", &url])
                .status()
                .is_ok_and(|status| status.success());
            if ok {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "llama-server was not healthy within {within:?}:\n{}",
            self.logs()
        );
    }

    pub fn logs(&self) -> String {
        let mut text = String::new();
        for name in ["llama-server.log", "llama-server.err"] {
            let path = self.log.with_file_name(name);
            if let Ok(mut file) = std::fs::File::open(&path) {
                let _ = file.read_to_string(&mut text);
            }
        }
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// Stops the server now (to test a backend that is down).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        self.stop();
    }
}

pub const ADMIN_TOKEN: &str = "hth_e2e_admin";
pub const RELAY_TOKEN: &str = "hth_e2e_openclaw";
pub const APP_TOKEN: &str = "hth_e2e_app";

/// Hearth's gateway in process, on a free port, over the configuration `document`.
#[derive(Debug)]
pub struct Hearth {
    pub base: String,
    pub dir: tempfile::TempDir,
    _server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Hearth {
    /// `document` gets the test's own directory, for the agents' workspaces.
    pub async fn start(document: impl FnOnce(&std::path::Path) -> Value) -> Hearth {
        let dir = tempfile::tempdir().unwrap();
        let document = document(dir.path());
        store::save(&paths(dir.path()), &document)
            .unwrap_or_else(|error| panic!("test config invalid: {error:?}"));
        Hearth::serve(dir).await
    }

    /// Stops this gateway and starts a new one over the same directory (configuration, agents'
    /// workspaces), as a restart of Hearth would; it listens on a new port.
    pub async fn restart(self) -> Hearth {
        self._server.abort();
        let _ = self._server.await;
        Hearth::serve(self.dir).await
    }

    async fn serve(dir: tempfile::TempDir) -> Hearth {
        let paths = paths(dir.path());
        let validated = store::load(&paths)
            .unwrap_or_else(|error| panic!("test config invalid: {error:?}"))
            .validated;
        let secrets = MemoryStore::new();
        for (name, token) in [
            ("hearth.admin", ADMIN_TOKEN),
            ("hearth.client.openclaw", RELAY_TOKEN),
            ("hearth.client.app", APP_TOKEN),
        ] {
            secrets.set(name, &Secret::new(token.to_owned())).unwrap();
        }
        let secrets: Arc<dyn SecretStore> = Arc::new(secrets);
        let runtime =
            Runtime::load(validated.config, validated.warnings, secrets.as_ref()).unwrap();
        let gateway = Gateway::new(runtime, secrets, Some(paths));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(hearth_gateway::serve(
            gateway,
            listener,
            std::future::pending(),
        ));
        Hearth {
            base,
            dir,
            _server: server,
        }
    }

    /// The agents' workspaces live here (the config names them below the temp dir).
    pub fn workspace(&self, agent: &str) -> PathBuf {
        self.dir.path().join("agents").join(agent)
    }
}

fn paths(dir: &std::path::Path) -> store::Paths {
    store::Paths {
        config_file: dir.join("hearth.json"),
        data_dir: dir.join("data"),
    }
}

/// The configuration most tests use: one llama-server provider, a private agent with every tool
/// and a public one without shell, process or web tools, bound as the seeds bind them.
pub fn two_agents(llama_base_url: &str, workspace_root: &std::path::Path) -> Value {
    serde_json::json!({
        "providers": {
            "llama": {
                "api": "openai-completions",
                "baseUrl": llama_base_url,
                "models": [{ "id": "smollm2", "contextWindow": 4096, "maxTokens": 512 }]
            }
        },
        "models": { "primary": "llama/smollm2", "aliases": { "small": "llama/smollm2" } },
        "agents": [
            { "id": "public", "workspace": workspace_root.join("agents/public"),
              "tools": { "deny": ["group:runtime", "group:web", "browser"] } },
            { "id": "private", "workspace": workspace_root.join("agents/private") }
        ],
        "defaultAgent": "public",
        "clients": [
            { "name": "openclaw", "token": "keychain:hearth.client.openclaw", "trusted": true },
            { "name": "app", "token": "keychain:hearth.client.app" }
        ],
        "bindings": [
            { "agent": "private", "match": { "channel": "whatsapp", "peer": { "kind": "dm", "id": "+15550100777" } } },
            { "agent": "public", "match": { "channel": "whatsapp" } }
        ]
    })
}
