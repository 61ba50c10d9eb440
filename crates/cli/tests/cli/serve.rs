//! `hearth serve` as a user runs it: it writes its address, answers over HTTP, logs to a rotating
//! file, stops cleanly on SIGTERM, and no secret ever reaches its logs or its terminal output.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::Command,
    sync::mpsc,
    time::Duration,
};

use crate::support::Hearth;

/// One HTTP/1.1 request over a plain socket; returns the status line and body.
fn http(address: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

fn get(address: &str, path: &str, token: &str) -> String {
    http(
        address,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        ),
    )
}

fn post(address: &str, path: &str, token: &str, body: &str) -> String {
    http(
        address,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

#[test]
fn serve_answers_logs_to_a_file_and_never_logs_a_secret() {
    let hearth = Hearth::new("serve");
    let openclaw = hearth.openclaw_file("dialect-002");
    hearth
        .run(&["config", "import-openclaw", &openclaw])
        .assert_code(0);
    hearth.forget_on_drop("provider.ollama.apiKey");
    hearth.forget_on_drop("provider.mlx.apiKey");
    hearth.forget_on_drop("hearth.client.openclaw");
    // A fixed free port (not 0): `hearth status` finds the gateway through the config.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    hearth
        .run(&["config", "set", "gateway.port", &port])
        .assert_code(0);
    // Raw output: the harness's own `stdout` replaces tokens with `$TOKEN` for snapshots.
    let token = |args: &[&str]| {
        let output = hearth.command(args).output().unwrap();
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let admin = token(&["token", "show"]);
    let relay = token(&["token", "show", "--client", "openclaw"]);
    let wrong = "hth_0000000000000000000000000000000000000000000000000000000000000bad";

    let mut child = hearth.command(&["serve"]).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut seen = Vec::new();
    let address = loop {
        let line = receive
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("hearth serve never said where it listens: {seen:?}"));
        if let Some(address) = line.strip_prefix("Hearth is listening on http://") {
            break address.to_owned();
        }
        seen.push(line);
    };

    let health = get(&address, "/health", &relay);
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(get(&address, "/health", wrong).starts_with("HTTP/1.1 401"));
    assert!(get(&address, "/admin/status", &admin).starts_with("HTTP/1.1 200"));
    // The MLX backend of the imported config is not running: a clear 503, logged.
    let down = post(
        &address,
        "/v1/chat/completions",
        &relay,
        r#"{"model":"default","messages":[{"role":"user","content":"hi"}]}"#,
    );
    assert!(down.starts_with("HTTP/1.1 503"), "{down}");
    assert!(down.contains("is the server running"), "{down}");

    // Rotated while it serves: the running Hearth does it, so the old token is refused at once.
    let rotated = token(&["token", "rotate", "--client", "openclaw"]);
    assert!(rotated.starts_with("hth_") && rotated != relay, "{rotated}");
    assert!(get(&address, "/health", &relay).starts_with("HTTP/1.1 401"));
    assert!(get(&address, "/health", &rotated).starts_with("HTTP/1.1 200"));
    assert_eq!(token(&["token", "show", "--client", "openclaw"]), rotated);

    let status = hearth.run(&["status"]);
    status.assert_code(0);
    let expected = format!("Hearth {} on 127.0.0.1:{port}", env!("CARGO_PKG_VERSION"));
    assert!(status.stdout.starts_with(&expected), "{status}");
    assert!(status.stdout.contains("agent:    public"), "{status}");

    let stopped = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "hearth serve did not stop cleanly: {status}"
    );
    let terminal: Vec<String> = seen.into_iter().chain(receive.try_iter()).collect();
    let gone = hearth.run(&["status"]);
    gone.assert_code(3);
    assert!(gone.stderr.contains("no Hearth is running"), "{gone}");

    let logs_dir = hearth.root().join("data/logs");
    let mut logs = String::new();
    for entry in std::fs::read_dir(&logs_dir).unwrap() {
        let path = entry.unwrap().path();
        logs.push_str(&std::fs::read_to_string(&path).unwrap());
    }
    assert!(
        logs.contains("\"listening\""),
        "the log file has the start: {logs}"
    );
    assert!(
        logs.contains("chat completion refused"),
        "the log file has the failure: {logs}"
    );
    let every_line_is_json = logs
        .lines()
        .all(|line| serde_json::from_str::<serde_json::Value>(line).is_ok());
    assert!(every_line_is_json, "structured logs are JSON lines: {logs}");
    // The failed request's log line carries the id the client saw in `x-hearth-request-id`.
    let id = down
        .lines()
        .find_map(|line| line.strip_prefix("x-hearth-request-id: "))
        .unwrap_or_else(|| panic!("no request id header: {down}"))
        .trim();
    let refusal: serde_json::Value = logs
        .lines()
        .find(|line| line.contains("chat completion refused"))
        .map(|line| serde_json::from_str(line).unwrap())
        .unwrap();
    assert_eq!(refusal["span"]["id"], id, "{refusal}");

    let secrets = [
        admin.as_str(),
        relay.as_str(),
        wrong,
        // The inline keys of the imported OpenClaw file (tests/fixtures/openclaw/dialect-002.json5).
        "d002-ollama-inline-93aa07",
        "d002-mlx-inline-1d6f58",
    ];
    let terminal = terminal.join("\n");
    for secret in secrets {
        assert!(!secret.is_empty());
        assert!(!logs.contains(secret), "a secret in the log file: {secret}");
        assert!(
            !terminal.contains(secret),
            "a secret on the terminal: {secret}"
        );
    }
}
