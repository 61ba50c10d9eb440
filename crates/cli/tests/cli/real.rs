//! Helpers for the tests with real servers: llama-server services, a running `hearth serve`,
//! requests to it with curl.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use hearth_e2e::provisioned;
use serde_json::{Value, json};

use crate::support::Hearth;

pub fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.split_whitespace()
            .nth(2)
            .is_none_or(|state| state != "Z")
    })
}

pub fn llama_service(model: &str, alias: &str, port: u16, provider: &str) -> Value {
    json!({
        "template": "llama-server",
        "program": provisioned("HEARTH_LLAMA_SERVER"),
        "args": ["-m", model, "--host", "127.0.0.1", "--port", port.to_string(),
                 "-c", "2048", "-np", "1", "-t", "1", "--alias", alias],
        "port": port,
        "healthUrl": format!("http://127.0.0.1:{port}/health"),
        "provider": provider,
        "startTimeout": "120s"
    })
}

/// POSTs a chat completion to the gateway with curl; returns (status, headers, body).
pub fn chat(gateway: u16, token: &str, model: Option<&str>) -> (u16, String, Value) {
    let mut body = json!({
        "model": "default",
        "messages": [{ "role": "user", "content": "Say hello." }],
        "max_tokens": 8,
        "temperature": 0
    });
    if let Some(model) = model {
        body["model"] = json!(model);
    }
    let output = Command::new("curl")
        .args(["-s", "-D", "-", "-o", "-", "--max-time", "300", "-H"])
        .arg(format!("Authorization: Bearer {token}"))
        .args(["-H", "Content-Type: application/json", "-d"])
        .arg(body.to_string())
        .arg(format!("http://127.0.0.1:{gateway}/v1/chat/completions"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (
        status,
        head.to_lowercase(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

pub fn services(hearth: &Hearth) -> Vec<Value> {
    let output = hearth.run(&["services", "list", "--json"]);
    output.assert_code(0);
    output.json()["services"].as_array().cloned().unwrap()
}

pub fn service<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter().find(|service| service["name"] == name).unwrap()
}

/// Polls `hearth services list` until `name` is running (with a PID other than `not`).
pub fn wait_running(hearth: &Hearth, name: &str, not: Option<u64>) -> Value {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if let Some(found) = services(hearth).into_iter().find(|service| {
            service["name"] == name
                && service["state"] == "running"
                && service["pid"].as_u64().is_some_and(|pid| Some(pid) != not)
        }) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{name} never ran: {:?}",
            services(hearth)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

pub struct Serve(pub Child);

impl Drop for Serve {
    /// SIGTERM first, so a failing test does not orphan the servers Hearth runs.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.0.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
