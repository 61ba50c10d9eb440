//! What Hearth sends a provider, seen by a real HTTP server (Python's `http.server`) that
//! writes down every request it gets and answers with OpenAI's published chat completion
//! example: fields a client adds beyond OpenAI's are not passed on unless they are sampling
//! knobs (`n_predict`, `ignore_eos` would get around the output clamp; the chat template's
//! variables are Hearth's), and a provider's key never follows a redirect to another server.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions fail the test the same way"
)]

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use hearth_e2e::{APP_TOKEN, Hearth, free_port, provisioned, two_agents, wait_listening};
use serde_json::{Value, json};

const RECORDING_SERVER: &str = r#"
import http.server, json, sys
port, record, redirect = int(sys.argv[1]), sys.argv[2], sys.argv[3]
EXAMPLE = {"id": "chatcmpl-123", "object": "chat.completion", "created": 1677652288,
           "model": "gpt-4o-mini", "system_fingerprint": "fp_44709d6fcb",
           "choices": [{"index": 0, "message": {"role": "assistant",
                        "content": "\n\nHello there, how may I assist you today?"},
                        "logprobs": None, "finish_reason": "stop"}],
           "usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21}}
class Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        with open(record, "a") as out:
            out.write(json.dumps({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                  "body": json.loads(body or b"null")}) + "\n")
        if redirect != "-":
            self.send_response(307)
            self.send_header("location", redirect + self.path)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        answer = json.dumps(EXAMPLE).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Recorder).serve_forever()
"#;

/// A recording server on a free port; `redirect` sends every request on to that base URL.
struct Recorder {
    child: Child,
    port: u16,
    record: PathBuf,
    _dir: tempfile::TempDir,
}

impl Recorder {
    fn start(redirect: Option<&str>) -> Recorder {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("requests.jsonl");
        let port = free_port();
        let child = Command::new(provisioned("HEARTH_TEST_PYTHON"))
            .args(["-c", RECORDING_SERVER, &port.to_string()])
            .arg(&record)
            .arg(redirect.unwrap_or("-"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_listening(port);
        Recorder {
            child,
            port,
            record,
            _dir: dir,
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request it got, in order.
    fn requests(&self) -> Vec<Value> {
        read_lines(&self.record)
    }
}

fn read_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn chat(hearth: &Hearth, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", hearth.base))
        .bearer_auth(APP_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_beyond_openais_reach_the_server_only_when_they_are_sampling_knobs() {
    let server = Recorder::start(None);
    let base = format!("{}/v1", server.base());
    let hearth = Hearth::start(|dir| two_agents(&base, dir)).await;
    let (status, body) = chat(
        &hearth,
        json!({
            "model": "small",
            "messages": [{ "role": "user", "content": "hi" }],
            "max_tokens": 100000,
            "n_predict": 100000,
            "max_new_tokens": 100000,
            "min_tokens": 100000,
            "ignore_eos": true,
            "chat_template_kwargs": { "enable_thinking": false, "add_generation_prompt": false },
            "top_k": 5,
            "min_p": 0.05,
            "functions": [{ "name": "get_weather", "parameters": { "type": "object" } }]
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let sent = &requests[0]["body"];
    for dropped in ["n_predict", "max_new_tokens", "min_tokens", "ignore_eos"] {
        assert!(sent.get(dropped).is_none(), "{dropped} was sent: {sent}");
    }
    assert_eq!(
        sent["max_tokens"], 512,
        "clamped to the model's maxTokens: {sent}"
    );
    assert_eq!(
        sent["chat_template_kwargs"],
        json!({ "enable_thinking": false }),
        "{sent}"
    );
    assert_eq!(sent["top_k"], 5);
    assert_eq!(
        sent["functions"][0]["name"], "get_weather",
        "the legacy tools pass: {sent}"
    );
    assert_eq!(sent["min_p"], 0.05);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_providers_key_does_not_follow_a_redirect() {
    let elsewhere = Recorder::start(None);
    let redirecting = Recorder::start(Some(&elsewhere.base()));
    let base = redirecting.base();
    let hearth = Hearth::start(|dir| {
        let mut document = two_agents("http://127.0.0.1:9/v1", dir);
        // A cloud-style provider (its key in `x-api-key`) on loopback, so any caller may use it.
        document["providers"]["cloud"] = json!({
            "api": "anthropic-messages", "baseUrl": base, "apiKey": "keychain:hearth.client.openclaw",
            "models": [{ "id": "claude" }]
        });
        document
    })
    .await;
    let (status, body) = chat(
        &hearth,
        json!({ "model": "cloud/claude", "messages": [{ "role": "user", "content": "hi" }] }),
    )
    .await;
    assert_eq!(status, 502, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("HTTP 307"), "{message}");
    let first = redirecting.requests();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["headers"]["x-api-key"], hearth_e2e::RELAY_TOKEN);
    assert_eq!(
        elsewhere.requests(),
        Vec::<Value>::new(),
        "the request (and its key) went on to the other server"
    );
}
