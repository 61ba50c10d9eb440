//! The gateways under test, as processes: `hearth serve` (the real binary) and the LiteLLM proxy,
//! each in a temporary directory that is its HOME and XDG dirs, so neither touches the user's
//! configuration, data or secrets. Both are stopped by PID (SIGTERM, then SIGKILL) when dropped,
//! whatever ends the benchmark.

use std::{
    io::{Read as _, Write as _},
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::json;

use crate::BenchError;

/// A started server process.
#[derive(Debug)]
pub struct Server {
    pub name: &'static str,
    pub addr: SocketAddr,
    pub bearer: Option<String>,
    /// Hearth's admin token (an `env:` reference in its configuration), for the admin API.
    pub admin_token: Option<String>,
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How it ended, when it has: the soak test watches that the gateway lives.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(error) => Some(format!("cannot wait for it: {error}")),
        }
    }

    /// The last lines of its log, for an error message.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().rev().take(30).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    fn spawn(
        name: &'static str,
        mut command: Command,
        dir: tempfile::TempDir,
        port: u16,
        bearer: Option<String>,
    ) -> Result<Server, BenchError> {
        let log = dir.path().join(format!("{name}.log"));
        let file = std::fs::File::create(&log)?;
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home)?;
        command
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file);
        let child = command
            .spawn()
            .map_err(|error| BenchError::Setup(format!("cannot start {name}: {error}")))?;
        Ok(Server {
            name,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            bearer,
            admin_token: None,
            child,
            log,
            _dir: dir,
        })
    }

    /// Waits until `GET path` answers 200, the process having not exited.
    fn wait_ready(&mut self, path: &str, within: Duration) -> Result<(), BenchError> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(BenchError::Setup(format!(
                    "{} exited ({status}) before it was ready:\n{}",
                    self.name,
                    self.log_tail()
                )));
            }
            if http_status(self.addr, path, self.bearer.as_deref()) == Some(200) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(BenchError::Setup(format!(
            "{} was not ready within {within:?}:\n{}",
            self.name,
            self.log_tail()
        )))
    }

    fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    hearth_e2e::free_port()
}

/// `hearth serve` with a configuration of two providers: `fast` (the benchmark's upstream,
/// model `bench`) and `llama` (the real llama-server, model `smollm2`).
pub fn hearth(binary: &Path, upstream: &str, llama: &str) -> Result<Server, BenchError> {
    let providers = json!({
        "fast": { "api": "openai-completions", "baseUrl": upstream,
                  "models": [{ "id": "bench" }] },
        "llama": { "api": "openai-completions", "baseUrl": llama,
                   "models": [{ "id": "smollm2", "contextWindow": 4096 }] }
    });
    hearth_serve(binary, providers, "fast/bench")
}

/// `hearth serve` with these `providers` and `primary` model. Anonymous loopback callers are let
/// in, as a local user's agents are; the admin token is an `env:` reference, so no secret store
/// is touched.
pub fn hearth_serve(
    binary: &Path,
    providers: serde_json::Value,
    primary: &str,
) -> Result<Server, BenchError> {
    let dir = tempfile::Builder::new().prefix("hearth-bench.").tempdir()?;
    let port = free_port();
    let config = dir.path().join("hearth/hearth.json");
    let document = json!({
        "providers": providers,
        "models": { "primary": primary },
        "agents": [{ "id": "bench", "workspace": dir.path().join("agents/bench") }],
        "gateway": { "port": port, "adminToken": "env:HEARTH_BENCH_ADMIN_TOKEN" }
    });
    std::fs::create_dir_all(dir.path().join("hearth"))?;
    std::fs::write(&config, serde_json::to_string_pretty(&document)?)?;
    let admin_token = random_token();
    let mut command = Command::new(binary);
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HEARTH_CONFIG", &config)
        .env("HEARTH_DATA_DIR", dir.path().join("data"))
        .env(
            "HEARTH_KEYRING_SERVICE",
            format!("hearth-bench-{}", std::process::id()),
        )
        .env("HEARTH_BENCH_ADMIN_TOKEN", &admin_token);
    // Hearth logs as a user's does (`info`) and sizes its runtime as tokio does, unless the
    // caller says otherwise (to measure a setting).
    for name in ["HEARTH_LOG", "TOKIO_WORKER_THREADS"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    let mut server = Server::spawn("hearth", command, dir, port, None)?;
    server.admin_token = Some(admin_token);
    server.wait_ready("/health", Duration::from_secs(30))?;
    Ok(server)
}

/// The LiteLLM proxy (`litellm` of its venv) on one model, `bench`, at the upstream, with its
/// own cost map (no network) and a master key.
pub fn litellm(program: &Path, upstream: &str) -> Result<Server, BenchError> {
    let dir = tempfile::Builder::new()
        .prefix("litellm-bench.")
        .tempdir()?;
    let port = free_port();
    let config = dir.path().join("litellm.yaml");
    std::fs::write(
        &config,
        format!(
            "model_list:\n  - model_name: bench\n    litellm_params:\n      model: openai/bench\n      api_base: {upstream}\n      api_key: bench-upstream-key\n"
        ),
    )?;
    let key = format!("sk-{}", random_token());
    let mut command = Command::new(program);
    command
        .args(["--config"])
        .arg(&config)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .env("LITELLM_MASTER_KEY", &key)
        .env("LITELLM_LOG", "ERROR")
        .env("LITELLM_TELEMETRY", "False")
        .env("NO_DOCS", "True");
    let mut server = Server::spawn("litellm", command, dir, port, Some(key))?;
    server.wait_ready("/health/liveliness", Duration::from_secs(180))?;
    Ok(server)
}

/// 32 hex characters from the OS RNG.
fn random_token() -> String {
    let mut bytes = [0u8; 16];
    if let Ok(mut random) = std::fs::File::open("/dev/urandom") {
        let _ = random.read_exact(&mut bytes);
    }
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The status of one `GET` over a plain socket, or `None` when nothing answered.
pub fn http_status(addr: SocketAddr, path: &str, bearer: Option<&str>) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let auth = bearer
        .map(|token| format!("Authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}
