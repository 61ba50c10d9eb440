//! The gateway over a real socket: who may call which route, and how a configuration change
//! is taken or refused while it serves.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail the test the same way"
)]

use std::{sync::Arc, time::Duration};

use hearth_core::{
    Secret,
    config::store::{self, Paths},
};
use hearth_gateway::{Gateway, Runtime};
use hearth_secrets::{MemoryStore, SecretStore};
use serde_json::{Value, json};

const ADMIN: &str = "hth_admin_test_token";
const CLIENT: &str = "hth_client_test_token";

struct Running {
    base: String,
    paths: Paths,
    _dir: tempfile::TempDir,
    _server: tokio::task::JoinHandle<std::io::Result<()>>,
    _watcher: tokio::task::JoinHandle<()>,
}

/// Writes `document` as the config, starts a gateway on a free port with an in-memory secret
/// store holding the tokens, and watches the file every 50 ms.
async fn start(document: Value) -> Running {
    start_on(document, "127.0.0.1:0").await
}

/// [`start`], listening on `address`.
async fn start_on(document: Value, address: &str) -> Running {
    // Reload outcomes are logged; show them when a test fails.
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths {
        config_file: dir.path().join("hearth.json"),
        data_dir: dir.path().join("data"),
    };
    let validated = store::save(&paths, &document).unwrap();
    let secrets = MemoryStore::new();
    secrets
        .set("hearth.admin", &Secret::new(ADMIN.to_owned()))
        .unwrap();
    secrets
        .set("hearth.client.app", &Secret::new(CLIENT.to_owned()))
        .unwrap();
    let secrets: Arc<dyn SecretStore> = Arc::new(secrets);
    let runtime = Runtime::load(validated.config, validated.warnings, secrets.as_ref()).unwrap();
    let gateway = Gateway::new(runtime, secrets, Some(paths.clone()));
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let watcher = tokio::spawn(hearth_gateway::watch_config(
        gateway.clone(),
        paths.clone(),
        Duration::from_millis(50),
    ));
    let server = tokio::spawn(hearth_gateway::serve(
        gateway,
        listener,
        std::future::pending(),
    ));
    Running {
        base,
        paths,
        _dir: dir,
        _server: server,
        _watcher: watcher,
    }
}

fn config() -> Value {
    json!({
        "agents": [{ "id": "main" }],
        "clients": [{ "name": "app", "token": "keychain:hearth.client.app" }]
    })
}

/// (status, body) of a GET with optional bearer token and Host header.
async fn get(base: &str, path: &str, token: Option<&str>, host: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(format!("{base}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(host) = host {
        request = request.header("host", host);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn tokens_name_the_caller_and_a_wrong_token_is_refused_not_downgraded() {
    let running = start(config()).await;
    let base = &running.base;
    assert_eq!(
        get(base, "/health", None, None).await.0,
        200,
        "anonymous on loopback"
    );
    assert_eq!(get(base, "/health", Some(CLIENT), None).await.0, 200);
    let (status, body) = get(base, "/health", Some("hth_wrong"), None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "invalid_api_key");
    let x_api_key = reqwest::Client::new()
        .get(format!("{base}/api/version"))
        .header("x-api-key", CLIENT)
        .send()
        .await
        .unwrap();
    assert_eq!(
        x_api_key.status().as_u16(),
        200,
        "Anthropic-style x-api-key is accepted"
    );
}

#[tokio::test]
async fn admin_routes_need_the_admin_token_and_a_loopback_host() {
    let running = start(config()).await;
    let base = &running.base;
    let (status, body) = get(base, "/admin/status", Some(ADMIN), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["agents"][0]["id"], "main");
    assert_eq!(get(base, "/admin/status", Some(CLIENT), None).await.0, 403);
    assert_eq!(get(base, "/admin/status", None, None).await.0, 403);
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own Host.
    let (status, body) = get(base, "/admin/status", Some(ADMIN), Some("evil.example")).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "foreign_host");
    assert_eq!(
        get(base, "/admin/status", Some(ADMIN), Some("localhost:1"))
            .await
            .0,
        200
    );
    // Nothing the admin API says contains a token.
    let text = get(base, "/admin/status", Some(ADMIN), None)
        .await
        .1
        .to_string();
    assert!(!text.contains(ADMIN) && !text.contains(CLIENT), "{text}");
}

async fn wait_for(base: &str, check: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let (_, body) = get(base, "/admin/status", Some(ADMIN), None).await;
        if check(&body) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, body) = get(base, "/admin/status", Some(ADMIN), None).await;
    panic!("the gateway never reached the expected state: {body}");
}

#[tokio::test]
async fn a_valid_change_is_taken_and_an_invalid_one_refused_while_serving() {
    let running = start(config()).await;
    let base = &running.base;
    let mut changed = config();
    changed["agents"] =
        json!([{ "id": "main" }, { "id": "public", "tools": { "profile": "minimal" } }]);
    std::fs::write(&running.paths.config_file, changed.to_string()).unwrap();
    let body = wait_for(base, |body| {
        body["agents"].as_array().is_some_and(|a| a.len() == 2)
    })
    .await;
    assert_eq!(body["agents"][1]["id"], "public");

    std::fs::write(
        &running.paths.config_file,
        "{ \"agents\": [{ \"id\": \"Bad Id\" }] }",
    )
    .unwrap();
    let body = wait_for(base, |body| body["refusedChange"].is_array()).await;
    assert_eq!(
        body["agents"].as_array().unwrap().len(),
        2,
        "still the previous config"
    );
    assert_eq!(body["refusedChange"][0]["path"], "agents[0].id");
    assert_eq!(
        get(base, "/health", Some(CLIENT), None).await.0,
        200,
        "still serving"
    );
}

#[tokio::test]
async fn beyond_loopback_every_route_needs_a_token() {
    let mut document = config();
    document["gateway"] = json!({ "bind": "127.0.0.1", "allowRemote": true });
    let running = start(document).await;
    assert_eq!(get(&running.base, "/health", None, None).await.0, 401);
    assert_eq!(
        get(&running.base, "/health", Some(CLIENT), None).await.0,
        200
    );
}

/// This machine's address on its network, as a caller elsewhere would reach it.
fn network_address() -> std::net::IpAddr {
    // No packet is sent: connecting a UDP socket only picks the route's source address.
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    if let Err(error) = socket.connect("203.0.113.1:9") {
        panic!(
            "this test needs a network interface besides loopback, with a route off it: {error}"
        );
    }
    let address = socket.local_addr().unwrap().ip();
    assert!(!address.is_loopback(), "{address}");
    address
}

#[tokio::test]
async fn with_allow_remote_the_admin_api_answers_only_this_machine_whatever_the_host_header() {
    let mut document = config();
    document["gateway"] = json!({ "bind": "0.0.0.0", "allowRemote": true });
    let running = start_on(document, "0.0.0.0:0").await;
    let port = running.base.rsplit(':').next().unwrap().to_owned();
    let remote = format!("http://{}:{port}", network_address());
    // From the network, claiming to be localhost: refused, token or not.
    assert_eq!(
        get(&remote, "/admin/status", Some(ADMIN), Some("localhost"))
            .await
            .0,
        403
    );
    assert_eq!(
        get(&remote, "/ui/login?code=x", None, Some("localhost"))
            .await
            .0,
        403
    );
    // The model routes are for the network, with a token.
    assert_eq!(get(&remote, "/v1/models", Some(CLIENT), None).await.0, 200);
    // From this machine, as before.
    let local = format!("http://127.0.0.1:{port}");
    assert_eq!(get(&local, "/admin/status", Some(ADMIN), None).await.0, 200);
}

#[tokio::test]
async fn a_change_of_where_hearth_listens_waits_for_a_restart() {
    let running = start(config()).await;
    let base = &running.base;
    let mut changed = config();
    changed["gateway"] = json!({ "bind": "0.0.0.0", "allowRemote": true });
    std::fs::write(&running.paths.config_file, changed.to_string()).unwrap();
    let body = wait_for(base, |body| body["refusedChange"].is_array()).await;
    let message = body["refusedChange"][0]["message"].as_str().unwrap();
    assert!(message.contains("restart"), "{message}");
    // Still the loopback rules: anonymous callers are allowed, as before.
    assert_eq!(get(base, "/health", None, None).await.0, 200);
}

#[tokio::test]
async fn a_web_page_cannot_ride_on_loopback_trust_and_a_malformed_authorization_is_refused() {
    let running = start(config()).await;
    let url = format!("{}/health", running.base);
    let client = reqwest::Client::new();
    let status = |request: reqwest::RequestBuilder| async move {
        request.send().await.unwrap().status().as_u16()
    };
    // A page on another origin (or a rebinding one) has no token: refused.
    assert_eq!(
        status(client.get(&url).header("origin", "https://evil.example")).await,
        403
    );
    assert_eq!(status(client.get(&url).header("origin", "null")).await, 403);
    assert_eq!(
        status(client.get(&url).header("host", "evil.example")).await,
        403
    );
    // Hearth's own pages and local tools are fine, and a page with a token may call.
    assert_eq!(
        status(client.get(&url).header("origin", "http://localhost:11500")).await,
        200
    );
    assert_eq!(
        status(client.get(&url).header("origin", "http://[::1]:3000")).await,
        200
    );
    assert_eq!(
        status(
            client
                .get(&url)
                .header("origin", "https://evil.example")
                .bearer_auth(CLIENT)
        )
        .await,
        200
    );
    // An Authorization that is not `Bearer <token>` is an error, not an anonymous call.
    for value in [CLIENT, "Token abc", "Bearer ", "Basic dXNlcjpwYXNz"] {
        assert_eq!(
            status(client.get(&url).header("authorization", value)).await,
            401,
            "{value}"
        );
    }
    // Nor is an x-api-key that is there but empty or not text (`curl -H 'x-api-key;'`).
    let models = format!("{}/v1/models", running.base);
    for value in [&b""[..], b"  ", b"\xffkey"] {
        let value = reqwest::header::HeaderValue::from_bytes(value).unwrap();
        assert_eq!(
            status(client.get(&models).header("x-api-key", value.clone())).await,
            401,
            "{value:?}"
        );
    }
    // `*.localhost` may reach a DNS server (an OS resolver's choice), so it is no loopback name;
    // with a matching Origin, as a rebinding page would send.
    assert_eq!(
        status(
            client
                .get(&models)
                .header("host", "anything.localhost")
                .header("origin", "http://anything.localhost")
        )
        .await,
        403
    );
    assert_eq!(
        status(client.get(&models).header("host", "localhost")).await,
        200
    );
}

#[tokio::test]
async fn a_backend_that_never_answers_does_not_hang_the_model_lists() {
    // The kernel completes the connection into the backlog; nobody ever reads or answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let mut document = config();
    document["providers"] = json!({
        "stuck": { "api": "ollama", "baseUrl": format!("http://127.0.0.1:{port}"),
                   "models": [{ "id": "m1" }] }
    });
    let running = start(document).await;
    for path in ["/api/tags", "/api/ps"] {
        let started = std::time::Instant::now();
        let (status, body) = get(&running.base, path, Some(CLIENT), None).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{path} took {:?}",
            started.elapsed()
        );
        assert!(body["models"].is_array(), "{path}: {body}");
    }
    drop(silent);
}
